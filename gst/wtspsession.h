/* WebTrit Signaling Protocol (WTSP): the session
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __WTSP_SESSION_H__
#define __WTSP_SESSION_H__

#include "wtspmessage.h"
#include "wtsptransactions.h"

G_BEGIN_DECLS

typedef enum
{
  WTSP_SESSION_STATE_STOPPED,
  WTSP_SESSION_STATE_CONNECTING,        /* opening the WebSocket */
  WTSP_SESSION_STATE_HANDSHAKE,         /* open, waiting for "state" */
  WTSP_SESSION_STATE_READY,             /* "state" received: requests flow */
  WTSP_SESSION_STATE_RECONNECTING,      /* link lost, next attempt pending */
  WTSP_SESSION_STATE_FAILED,            /* gave up: see the "error" signal */
} WtspSessionState;

GType wtsp_session_state_get_type (void);
#define WTSP_TYPE_SESSION_STATE (wtsp_session_state_get_type ())

#define WTSP_SESSION_ERROR (wtsp_session_error_quark ())
GQuark wtsp_session_error_quark (void);

typedef enum
{
  WTSP_SESSION_ERROR_SETTINGS,          /* bad location, no token, ... */
  WTSP_SESSION_ERROR_CONNECT,           /* could not open the WebSocket */
  WTSP_SESSION_ERROR_AUTH,              /* HTTP 401/403: token refused */
  WTSP_SESSION_ERROR_TLS,               /* certificate not accepted */
  WTSP_SESSION_ERROR_HANDSHAKE,         /* no "state" in time */
  WTSP_SESSION_ERROR_CLOSED,            /* server closed for good */
  WTSP_SESSION_ERROR_RECONNECT,         /* gave up reconnecting */
  WTSP_SESSION_ERROR_MALFORMED,         /* a message was dropped (warning) */
  WTSP_SESSION_ERROR_LINK,              /* link lost, reconnecting (warning) */
} WtspSessionError;

/* The keepalive_interval of a state handshake is kept within these */
#define WTSP_KEEPALIVE_MIN_MS 1000
#define WTSP_KEEPALIVE_MAX_MS 600000

#define WTSP_TYPE_SESSION (wtsp_session_get_type ())
G_DECLARE_FINAL_TYPE (WtspSession, wtsp_session, WTSP, SESSION, GstObject);

WtspSession *wtsp_session_new (void);
WtspSession *wtsp_session_new_with_settings (WtspSession * settings);

gboolean wtsp_session_start (WtspSession * session, GError ** error);
void wtsp_session_stop (WtspSession * session);

void wtsp_session_send_request (WtspSession * session, JsonObject * request,
    GstPromise * promise);

WtspSessionState wtsp_session_get_state (WtspSession * session);
WtspMessage *wtsp_session_get_state_message (WtspSession * session);
gboolean wtsp_session_is_current_thread (WtspSession * session);
gboolean wtsp_session_invoke (WtspSession * session, GSourceFunc func,
    gpointer data, GDestroyNotify notify);

/* Settings (the properties themselves: wtspsettings.h) */
gboolean wtsp_session_settings_equal (WtspSession * a, WtspSession * b,
    gchar ** why);

/* Lines: the server's, as last known, and who claimed which */
JsonArray *wtsp_session_dup_lines (WtspSession * session);
guint wtsp_session_get_n_lines (WtspSession * session);
gint wtsp_session_claim_line (WtspSession * session, gint line,
    gpointer owner);
void wtsp_session_release_line (WtspSession * session, gint line,
    gpointer owner);
gpointer wtsp_session_get_line_owner (WtspSession * session, gint line);
void wtsp_session_set_decline_unclaimed (WtspSession * session,
    gboolean decline);
void wtsp_session_set_claim_timeout (WtspSession * session, guint ms);
guint wtsp_session_get_claim_timeout (WtspSession * session);
WtspMessage *wtsp_session_take_waiting_call (WtspSession * session,
    const gchar * call_id, gpointer owner);

/* Sharing between elements through a GstContext */
#define WTSP_SESSION_CONTEXT_TYPE "wtsp.session"

WtspSession *wtsp_session_acquire (GstElement * element,
    WtspSession * settings, gchar ** why);
gboolean wtsp_session_use (WtspSession * session, GError ** error);
void wtsp_session_unuse (WtspSession * session);
guint wtsp_session_get_n_users (WtspSession * session);
gboolean wtsp_session_context_query (GstElement * element, GstQuery * query);
WtspSession *wtsp_session_context_find (GstContext * context,
    WtspSession * settings, gchar ** why);

/* Bus messages */
void wtsp_session_post_connection (GstElement * element,
    WtspSessionState state, const gchar * why);

/* Errors */
void wtsp_session_post_error (GstElement * element, const GError * error,
    const GstStructure * details);
const gchar *wtsp_session_error_to_string (gint code);

gchar *wtsp_redact_uri (const gchar * uri);

/* A digest of location, token and token-file, safe to log: the
 * "identities" of the context, and gstwebrtccall.c's pool key until it
 * moves to wtsp_session_acquire() */
gchar *wtsp_session_get_identity (WtspSession * session);

/* Deprecated: for gstwebrtccall.c until it moves to wtspsettings.h.
 * Installs what wtsp_settings_install() does. */
void wtsp_session_install_properties (GObjectClass * klass, guint first_id,
    gboolean with_state);

/* Number of properties wtsp_settings_install() installs: the settings,
 * and the state with with_state (checked against the table there) */
#define WTSP_SESSION_N_SETTINGS 13
#define WTSP_SESSION_N_STATE 3

G_END_DECLS

#endif /* __WTSP_SESSION_H__ */
