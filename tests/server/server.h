/* Reference WTSP server: the parts shared by its files
 *
 * signaling-server.c  command line, HTTP upgrade, connections (Client)
 * session.c           sessions, their lines and call logs, the state
 *                     handshake, sending to a session
 * call.c              call routing and the call requests
 * debug.c             the --debug-requests test requests
 * janus.c             --janus: calls through Janus' SIP plugin instead
 *
 * Everything runs on the one thread of the default GMainContext, so
 * nothing here is locked.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __SIGNALING_SERVER_H__
#define __SIGNALING_SERVER_H__

#include <libsoup/soup.h>
#include "wtspmessage.h"

G_BEGIN_DECLS

typedef struct _Server Server;
typedef struct _Client Client;
typedef struct _Session Session;
typedef struct _Call Call;
typedef struct _Leg Leg;
typedef struct _Gathering Gathering;
typedef struct _Janus Janus;
typedef struct _JanusSession JanusSession;

/* --accounts: what a token is on the SIP side (janus.c) */
typedef struct
{
  gchar *number;
  gchar *identity;              /* sip:user@domain */
  gchar *display_name;
  gchar *domain;                /* a dialled number goes to sip:N@domain */
  gchar *authuser;
  gchar *secret;                /* NULL: a guest registration */
  gchar *proxy;                 /* the registrar */
} Account;

struct _Server
{
  /* options */
  guint n_lines;
  guint keepalive_interval;     /* ms */
  guint session_timeout;        /* ms a session outlives its socket */
  GHashTable *users;            /* token -> number; NULL: any token */
  GHashTable *accounts;         /* token -> Account (--accounts) */
  Janus *janus;                 /* --janus: calls go to Janus */
  gboolean registration_sequence;
  gboolean no_trickle;
  gboolean early_media;         /* progress with the answer, accepted later */
  guint early_media_delay;      /* ms from progress to accepted */
  gboolean offerless;           /* incoming_call without the caller's offer */
  gboolean debug_requests;
  gboolean verbose;

  SoupServer *soup;
  GMainLoop *loop;
  GHashTable *sessions;         /* token -> Session, owned here */
  GList *clients;               /* every Client, open or closing */
  GList *calls;                 /* every Call */
  GHashTable *refers;           /* refer_id -> Refer (call.c) */
  guint accepted;               /* WebSockets opened since the start */
  gboolean stopping;
};

/* One WebSocket connection. It is attached to at most one session, and a
 * session to at most one connection: the session outlives it. */
struct _Client
{
  Server *server;
  SoupWebsocketConnection *conn;
  Session *session;             /* NULL when refused or detached */
  gchar *label;                 /* the number: what logs say, never the token */

  gulong message_id;
  gulong closed_id;
  gulong error_id;
  guint keepalive_id;
  gint64 last_rx;               /* monotonic time of the last message in */
  GList *timers;                /* DebugTimer, see debug.c */
  guint free_id;
  gboolean closed;
};

struct _Session
{
  Server *server;
  gchar *token;                 /* key of Server.sessions; never logged */
  gchar *number;
  gchar *tenant;                /* NULL without /tenant/ID in the path */
  Client *client;               /* NULL while no socket is attached */
  Leg **lines;                  /* Server.n_lines entries, NULL = idle */
  JsonObject **ended;           /* Server.n_lines entries: a call that
                                 * ended, as the next state lists it
                                 * (call_id and call_logs, its hangup
                                 * last), once */
  guint drop_id;                /* drops the session when no socket comes back */
  gboolean registered;          /* --registration-sequence already run */
  gboolean ignore_keepalives;   /* debug_ignore_keepalives */
  JanusSession *janus;          /* --janus: its Janus session */
};

/* One side of a call: the call as one session sees it on one of its
 * lines. Its log is what a reconnecting client gets in `call_logs`. */
struct _Leg
{
  Call *call;
  Session *session;
  guint line;
  gchar *call_id;
  JsonArray *logs;              /* [timestamp_ms, message] pairs */

  /* The candidates this leg trickled, by ICE session (call.c): with
   * --no-trickle they go into its next SDP, else they are relayed as they
   * come, unless the call is in a phase where the far end cannot use
   * them yet */
  Gathering *gathering;         /* the current ICE session's */
  Gathering *previous;          /* the one before, until a jsep picks one */
  gboolean up;                  /* this side has had its "accepted" */
  gchar *sdp;                   /* the last SDP it sent: a hold re-offers it */
};

/* signaling-server.c */
void server_log (Server * server, const gchar * format, ...) G_GNUC_PRINTF (2,
    3);
void client_send_object (Client * client, JsonObject * object);
void client_send_text (Client * client, const gchar * text);
void client_close (Client * client, gushort code, const gchar * reason);
void client_respond_ack (Client * client, WtspMessage * req, Leg * leg);
void client_respond_error (Client * client, WtspMessage * req, Leg * leg,
    gint code, const gchar * reason);

/* session.c */
Session *session_new (Server * server, const gchar * token,
    const gchar * number, const gchar * tenant);
void session_free (Session * session);
void session_attach (Session * session, Client * client);
void session_detach (Session * session);
void session_drop (Session * session);
Session *server_find_session_by_number (Server * server, const gchar * number);
gint session_find_free_line (Session * session);
void session_send_object (Session * session, JsonObject * object);
void leg_log (Leg * leg, JsonObject * object);
void leg_send_event (Leg * leg, JsonObject * event);
gint64 now_ms (void);

/* call.c */
gboolean call_handle_request (Client * client, WtspMessage * req);
Leg *call_leg_new (Session * session, guint line, const gchar * call_id);
gboolean call_check_line (Client * client, WtspMessage * req);
Leg *call_find_leg (Client * client, WtspMessage * req);
void leg_hangup (Leg * leg, gint code, const gchar * reason);
void call_leg_free (Leg * leg);
void call_end_for_leg (Leg * leg, gint code, const gchar * reason);
void server_end_all_calls (Server * server);
void server_free_refers (Server * server);

/* janus.c */
gboolean server_load_accounts (Server * server, const gchar * path,
    GError ** error);
void account_free (Account * account);
gboolean server_start_janus (Server * server, const gchar * url,
    GError ** error);
void server_stop_janus (Server * server);
void janus_session_new (Session * session);
void janus_session_free (Session * session);
void janus_session_registration (Session * session, JsonObject * registration);
gboolean janus_handle_request (Client * client, WtspMessage * req);
void janus_leg_end (Leg * leg, gint code, const gchar * reason);

/* debug.c */
gboolean debug_handle_request (Client * client, WtspMessage * req);
void debug_cancel_timers (Client * client);

G_END_DECLS

#endif /* __SIGNALING_SERVER_H__ */
