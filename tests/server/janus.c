/* Reference WTSP server: a WTSP front for Janus' SIP plugin (--janus)
 *
 * What WebTrit Core is: the WTSP sessions, lines, call logs and
 * transactions are the server's own (session.c, signaling-server.c), and
 * the calls go to real SIP through Janus' SIP plugin (sofia-sip) instead
 * of being routed between the server's sessions (call.c).
 *
 *   WTSP client  --WebSocket-->  this server  --WebSocket-->  Janus
 *                                                  SIP plugin --SIP/RTP--> phone
 *
 * - One WebSocket to Janus (subprotocol janus-protocol) for the server.
 * - A WTSP session is a Janus session (kept alive every
 *   JANUS_KEEPALIVE_MS, inside Janus' 60 s session timeout) with one SIP
 *   plugin handle per line: line 0's is registered with the account's SIP
 *   identity (--accounts: a guest registration without a secret, else a
 *   REGISTER to its registrar), the others are its "helpers" (the
 *   plugin's way to hold several calls of one account: an INVITE that
 *   finds line 0 busy rings on a free helper). The WTSP session and its calls outlive a
 *   dropped WTSP socket as today: Janus keeps them meanwhile.
 * - A call request is sent to the line's handle; its WTSP response waits
 *   for the plugin's first event for it (or its error: same code and
 *   reason), or JANUS_SILENT_ACK_MS after Janus' ack for requests the
 *   plugin takes without an event. Plugin events become WTSP events on
 *   the line, logged in the line's call_logs. docs/protocol-mapping.md has
 *   the table.
 * - A handle holds one PeerConnection at a time, and the plugin closes a
 *   call's asynchronously, a little after the call's end (its core
 *   "hangup"), or, seen after a transfer its target refused, not at all:
 *   an outgoing_call on the line meanwhile asks the core to hang it up
 *   and waits for that, JANUS_MEDIA_CLOSE_MS at most, as the plugin
 *   would take its offer for a renegotiation of the old PeerConnection
 *   (an ICE restart) and fail the new call. Once it is closed, a call on
 *   the line waits until JANUS_MEDIA_SETTLE_MS have passed: Janus 1.1.2
 *   frees the old ICE agent on its loop thread after its "hangup", and an
 *   offer that comes within a few ms may find the new agent gone
 *   ("nice_agent_set_remote_candidates: assertion 'NICE_IS_AGENT (agent)'
 *   failed", no remote candidates, the call's ICE fails).
 * - Janus lost: every call ends (503), every session says "registering"
 *   and registers again once Janus is back; a Janus that cannot be
 *   reached at start is an error.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "server.h"

#include <string.h>

#define JANUS_PROTOCOL "janus-protocol"
#define JANUS_SIP_PLUGIN "janus.plugin.sip"
#define JANUS_KEEPALIVE_MS 25000
#define JANUS_SILENT_ACK_MS 2000
#define JANUS_MEDIA_CLOSE_MS 2000
#define JANUS_MEDIA_SETTLE_MS 300
#define JANUS_RECONNECT_MS 1000
#define JANUS_CONNECT_TIMEOUT_S 5

typedef struct _JanusSession JanusSession;
typedef struct _JanusLine JanusLine;

/* What a Janus reply is for */
typedef void (*JanusReplyFunc) (Janus * janus, JsonObject * reply,
    gpointer data);

typedef struct
{
  JanusReplyFunc func;
  gpointer data;
  GDestroyNotify destroy;
} Pending;

struct _Janus
{
  Server *server;
  gchar *url;
  SoupSession *soup;
  SoupWebsocketConnection *conn;
  GHashTable *pending;          /* transaction -> Pending */
  GHashTable *handles;          /* gint64 handle id -> JanusLine */
  GHashTable *sessions;         /* gint64 Janus session id -> JanusSession */
  GList *all_sessions;          /* JanusSession, with or without an id */
  guint64 counter;
  guint reconnect_id;
  gboolean connecting;
  GError *connect_error;        /* the first connection's, for main() */
};

struct _JanusSession
{
  Janus *janus;
  Session *session;
  gint64 id;                    /* 0 until Janus created it */
  guint keepalive_id;
  JanusLine *lines;             /* Server.n_lines */
  gint64 master_id;             /* line 0's registration, for helpers */
  gchar *status;                /* WTSP registration.status */
  gint fail_code;
  gchar *fail_reason;
};

struct _JanusLine
{
  JanusSession *js;
  guint index;
  gint64 handle;                /* 0 until attached */
  gboolean registered;
  /* Janus holds a PeerConnection on the handle: from the first SDP of a
   * call until its core "hangup", which comes a little after the call's
   * end (the plugin closes it asynchronously) */
  gboolean media;
  gint64 closed_at;             /* monotonic µs of that "hangup", or 0 */
  WtspMessage *deferred;        /* an outgoing_call waiting for that */
  guint deferred_id;            /* its bound, or the settling's end */
};

/* A WTSP request waiting for the plugin's answer to it */
typedef struct
{
  Janus *janus;
  gchar *token;                 /* its session, looked up again */
  guint line;
  WtspMessage *req;
  gchar *transaction;           /* Janus', once it acked */
  gboolean acked;               /* Janus took it */
  guint silent_id;
} WaitingRequest;

static void janus_send (Janus * janus, JsonObject * msg, JanusReplyFunc func,
    gpointer data, GDestroyNotify destroy);
static void line_drop_deferred (JanusLine * line);
static void session_open (JanusSession * js);
static void janus_connect (Janus * janus);

/* Accounts (--accounts FILE) */

void
account_free (Account * account)
{
  g_free (account->number);
  g_free (account->identity);
  g_free (account->display_name);
  g_free (account->domain);
  g_free (account->authuser);
  g_free (account->secret);
  g_free (account->proxy);
  g_free (account);
}

/* A GLib key file, one group per WTSP token:
 *
 *   [alice]
 *   number=alice                      (default: the token)
 *   identity=sip:alice@example.org    (required)
 *   display-name=Alice
 *   domain=example.org                (where numbers go: sip:NUMBER@domain;
 *                                      default: identity's host)
 *   authuser=alice  secret=...        (no secret: a guest registration)
 *   proxy=sip:registrar.example.org   (the registrar; default: domain)
 */
gboolean
server_load_accounts (Server * server, const gchar * path, GError ** error)
{
  GKeyFile *file = g_key_file_new ();
  gboolean ok = TRUE;
  gchar **groups;
  guint i;

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, error)) {
    g_prefix_error (error, "--accounts %s: ", path);
    g_key_file_free (file);
    return FALSE;
  }
  server->accounts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) account_free);
  if (server->users == NULL)
    server->users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
        g_free);

  groups = g_key_file_get_groups (file, NULL);
  for (i = 0; groups[i]; i++) {
    Account *account = g_new0 (Account, 1);

#define GET(key) g_key_file_get_string (file, groups[i], key, NULL)
    account->number = GET ("number");
    account->identity = GET ("identity");
    account->display_name = GET ("display-name");
    account->domain = GET ("domain");
    account->authuser = GET ("authuser");
    account->secret = GET ("secret");
    account->proxy = GET ("proxy");
#undef GET
    if (account->number == NULL)
      account->number = g_strdup (groups[i]);
    if (account->identity == NULL || !g_str_has_prefix (account->identity,
            "sip:")) {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
          "--accounts %s: [%s] needs identity=sip:USER@DOMAIN", path,
          groups[i]);
      account_free (account);
      ok = FALSE;
      break;
    }
    if (account->domain == NULL) {
      const gchar *at = strchr (account->identity, '@');

      account->domain = g_strdup (at ? at + 1 : account->identity + 4);
    }
    g_hash_table_insert (server->users, g_strdup (groups[i]),
        g_strdup (account->number));
    g_hash_table_insert (server->accounts, g_strdup (groups[i]), account);
  }
  g_strfreev (groups);
  g_key_file_free (file);
  return ok;
}

/* Sending to Janus */

static void
pending_free (Pending * p)
{
  if (p->destroy)
    p->destroy (p->data);
  g_free (p);
}

static void
janus_send (Janus * janus, JsonObject * msg, JanusReplyFunc func,
    gpointer data, GDestroyNotify destroy)
{
  gchar *transaction = g_strdup_printf ("wtsp-%" G_GUINT64_FORMAT,
      ++janus->counter);
  gchar *text;

  json_object_set_string_member (msg, "transaction", transaction);
  if (func) {
    Pending *p = g_new0 (Pending, 1);

    p->func = func;
    p->data = data;
    p->destroy = destroy;
    g_hash_table_insert (janus->pending, g_strdup (transaction), p);
  }
  text = wtsp_object_to_string (msg);
  if (janus->server->verbose)
    server_log (janus->server, "janus > %s", text);
  if (janus->conn && soup_websocket_connection_get_state (janus->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (janus->conn, text);
  else if (func) {
    /* answered at once, as a lost link would be */
    gchar *key;
    Pending *p;

    g_hash_table_steal_extended (janus->pending, transaction,
        (gpointer *) & key, (gpointer *) & p);
    p->func (janus, NULL, p->data);
    pending_free (p);
    g_free (key);
  }
  g_free (text);
  g_free (transaction);
  json_object_unref (msg);
}

static JsonObject *
janus_msg_new (const gchar * type, gint64 session_id, gint64 handle_id)
{
  JsonObject *msg = json_object_new ();

  json_object_set_string_member (msg, "janus", type);
  if (session_id)
    json_object_set_int_member (msg, "session_id", session_id);
  if (handle_id)
    json_object_set_int_member (msg, "handle_id", handle_id);
  return msg;
}

/* A SIP plugin request on @line's handle; @body is taken */
static void
line_send (JanusLine * line, JsonObject * body, JsonObject * jsep,
    JanusReplyFunc func, gpointer data, GDestroyNotify destroy)
{
  JsonObject *msg = janus_msg_new ("message", line->js->id, line->handle);

  if (jsep)
    line->media = TRUE;

  json_object_set_object_member (msg, "body", body);
  if (jsep)
    json_object_set_object_member (msg, "jsep", json_object_ref (jsep));
  janus_send (line->js->janus, msg, func, data, destroy);
}

static JsonObject *
body_new (const gchar * request)
{
  JsonObject *body = json_object_new ();

  json_object_set_string_member (body, "request", request);
  return body;
}

/* Janus replies: "error" / plugin errors, as code and reason */
static gboolean
reply_error (JsonObject * reply, gint * code, const gchar ** reason)
{
  JsonObject *data;

  if (g_strcmp0 (json_object_get_string_member_with_default (reply, "janus",
              NULL), "error") == 0) {
    JsonObject *error = json_object_get_object_member (reply, "error");

    *code = error ? json_object_get_int_member_with_default (error, "code",
        490) : 490;
    *reason = error ? json_object_get_string_member_with_default (error,
        "reason", "Janus error") : "Janus error";
    return TRUE;
  }
  data = json_object_has_member (reply, "plugindata") ?
      json_object_get_object_member (json_object_get_object_member (reply,
          "plugindata"), "data") : NULL;
  if (data && json_object_has_member (data, "error_code")) {
    *code = json_object_get_int_member (data, "error_code");
    *reason = json_object_get_string_member_with_default (data, "error",
        "SIP plugin error");
    /* 1.1.2 says 0 for some requests made out of a call */
    if (*code == 0)
      *code = 499;
    return TRUE;
  }
  return FALSE;
}

static JsonObject *
plugin_result (JsonObject * reply)
{
  JsonObject *pd, *data;

  if (!json_object_has_member (reply, "plugindata"))
    return NULL;
  pd = json_object_get_object_member (reply, "plugindata");
  data = pd ? json_object_get_object_member (pd, "data") : NULL;
  if (data == NULL || !json_object_has_member (data, "result"))
    return NULL;
  return json_object_get_object_member (data, "result");
}

/* Sessions and lines */

static JanusSession *
janus_session_for (Janus * janus, const gchar * token)
{
  Session *session = g_hash_table_lookup (janus->server->sessions, token);

  return session ? session->janus : NULL;
}

/* Sends a session event (registering, registered...) and keeps it as the
 * state's registration.status */
static void
set_registration (JanusSession * js, const gchar * status, gint code,
    const gchar * reason)
{
  JsonObject *event;

  if (g_strcmp0 (js->status, status) == 0 && code == js->fail_code)
    return;
  g_free (js->status);
  js->status = g_strdup (status);
  js->fail_code = code;
  g_free (js->fail_reason);
  js->fail_reason = g_strdup (reason);
  server_log (js->janus->server, "[%s] %s%s%s", js->session->number, status,
      reason ? ": " : "", reason ? reason : "");

  event = wtsp_event_new (status, WTSP_LINE_NONE, NULL);
  if (g_str_equal (status, "registered"))
    json_object_set_string_member (event, "phrase", "ok");
  if (code) {
    json_object_set_int_member (event, "code", code);
    json_object_set_string_member (event, "reason", reason);
  }
  session_send_object (js->session, event);
  json_object_unref (event);
}

void
janus_session_registration (Session * session, JsonObject * registration)
{
  JanusSession *js = session->janus;

  json_object_set_string_member (registration, "status", js->status);
  if (js->fail_code) {
    json_object_set_int_member (registration, "code", js->fail_code);
    json_object_set_string_member (registration, "reason", js->fail_reason);
  }
}

static gboolean
on_keepalive (gpointer data)
{
  JanusSession *js = data;

  if (js->id)
    janus_send (js->janus, janus_msg_new ("keepalive", js->id, 0), NULL, NULL,
        NULL);
  return G_SOURCE_CONTINUE;
}

typedef struct
{
  gchar *token;
  guint line;
} LineRef;

static void
line_ref_free (LineRef * ref)
{
  g_free (ref->token);
  g_free (ref);
}

static LineRef *
line_ref_new (JanusLine * line)
{
  LineRef *ref = g_new0 (LineRef, 1);

  ref->token = g_strdup (line->js->session->token);
  ref->line = line->index;
  return ref;
}

static JanusLine *
line_ref_get (Janus * janus, LineRef * ref)
{
  JanusSession *js = janus_session_for (janus, ref->token);

  return js ? &js->lines[ref->line] : NULL;
}

static void
on_registered (Janus * janus, JsonObject * reply, gpointer data)
{
  JanusLine *line = line_ref_get (janus, data);
  const gchar *reason;
  gint code;

  if (line == NULL)
    return;
  if (reply == NULL)
    return;                     /* Janus went away: it registers again */
  if (reply_error (reply, &code, &reason)) {
    set_registration (line->js, "registration_failed", code, reason);
    return;
  }
  /* the rest (registering, registered, registration_failed) comes as
   * events of the handle: handle_plugin_event */
}

static void
line_register (JanusLine * line)
{
  Account *account = g_hash_table_lookup (line->js->janus->server->accounts,
      line->js->session->token);
  JsonObject *body = body_new ("register");

  json_object_set_string_member (body, "username", account->identity);
  if (account->display_name)
    json_object_set_string_member (body, "display_name",
        account->display_name);
  if (line->index > 0) {
    json_object_set_string_member (body, "type", "helper");
    json_object_set_int_member (body, "master_id", line->js->master_id);
  } else if (account->secret) {
    json_object_set_string_member (body, "secret", account->secret);
    if (account->authuser)
      json_object_set_string_member (body, "authuser", account->authuser);
    json_object_set_string_member (body, "proxy", account->proxy ?
        account->proxy : account->domain);
  } else {
    json_object_set_string_member (body, "type", "guest");
  }
  line_send (line, body, NULL, on_registered, line_ref_new (line),
      (GDestroyNotify) line_ref_free);
}

static void
on_attached (Janus * janus, JsonObject * reply, gpointer data)
{
  JanusLine *line = line_ref_get (janus, data);
  const gchar *reason;
  gint code;

  if (line == NULL || reply == NULL)
    return;
  if (reply_error (reply, &code, &reason)) {
    set_registration (line->js, "registration_failed", code, reason);
    return;
  }
  line->handle = json_object_get_int_member (json_object_get_object_member
      (reply, "data"), "id");
  g_hash_table_insert (janus->handles, g_memdup2 (&line->handle,
          sizeof (gint64)), line);
  /* helpers wait for line 0's registration */
  if (line->index == 0 || line->js->master_id)
    line_register (line);
}

static void
on_created (Janus * janus, JsonObject * reply, gpointer data)
{
  JanusSession *js = janus_session_for (janus, data);
  const gchar *reason;
  gint64 id;
  guint i;
  gint code;

  if (reply == NULL)
    return;
  if (reply_error (reply, &code, &reason)) {
    if (js)
      set_registration (js, "registration_failed", code, reason);
    return;
  }
  id = json_object_get_int_member (json_object_get_object_member (reply,
          "data"), "id");
  if (js == NULL || js->id) {
    /* the session went away meanwhile */
    janus_send (janus, janus_msg_new ("destroy", id, 0), NULL, NULL, NULL);
    return;
  }
  js->id = id;
  g_hash_table_insert (janus->sessions, g_memdup2 (&js->id, sizeof (gint64)),
      js);
  js->keepalive_id = g_timeout_add (JANUS_KEEPALIVE_MS, on_keepalive, js);
  for (i = 0; i < janus->server->n_lines; i++) {
    JsonObject *attach = janus_msg_new ("attach", js->id, 0);

    json_object_set_string_member (attach, "plugin", JANUS_SIP_PLUGIN);
    janus_send (janus, attach, on_attached, line_ref_new (&js->lines[i]),
        (GDestroyNotify) line_ref_free);
  }
}

static void
session_open (JanusSession * js)
{
  Janus *janus = js->janus;

  set_registration (js, "registering", 0, NULL);
  janus_send (janus, janus_msg_new ("create", 0, 0), on_created,
      g_strdup (js->session->token), g_free);
}

/* Forgets what Janus had of @js: its id and handles (Janus is gone, or
 * the session is) */
static void
session_forget (JanusSession * js)
{
  Janus *janus = js->janus;
  guint i;

  for (i = 0; i < janus->server->n_lines; i++) {
    if (js->lines[i].handle)
      g_hash_table_remove (janus->handles, &js->lines[i].handle);
    js->lines[i].handle = 0;
    js->lines[i].registered = FALSE;
    js->lines[i].media = FALSE;
    js->lines[i].closed_at = 0;
    if (js->lines[i].deferred && js->session->client)
      client_respond_error (js->session->client, js->lines[i].deferred, NULL,
          450, "the SIP gateway (Janus) went away");
    line_drop_deferred (&js->lines[i]);
  }
  if (js->id)
    g_hash_table_remove (janus->sessions, &js->id);
  js->id = 0;
  js->master_id = 0;
  if (js->keepalive_id)
    g_source_remove (js->keepalive_id);
  js->keepalive_id = 0;
}

void
janus_session_new (Session * session)
{
  Janus *janus = session->server->janus;
  JanusSession *js = g_new0 (JanusSession, 1);
  guint i;

  js->janus = janus;
  js->session = session;
  js->lines = g_new0 (JanusLine, session->server->n_lines);
  for (i = 0; i < session->server->n_lines; i++) {
    js->lines[i].js = js;
    js->lines[i].index = i;
  }
  js->status = g_strdup ("registering");
  session->janus = js;
  janus->all_sessions = g_list_prepend (janus->all_sessions, js);
  if (janus->conn)
    session_open (js);
}

/* After the session's calls ended (session_free) */
void
janus_session_free (Session * session)
{
  JanusSession *js = session->janus;
  Janus *janus;

  if (js == NULL)
    return;
  janus = js->janus;
  if (js->id)
    janus_send (janus, janus_msg_new ("destroy", js->id, 0), NULL, NULL, NULL);
  session_forget (js);
  janus->all_sessions = g_list_remove (janus->all_sessions, js);
  session->janus = NULL;
  g_free (js->lines);
  g_free (js->status);
  g_free (js->fail_reason);
  g_free (js);
}

/* Calls */

static JanusLine *
leg_line (Leg * leg)
{
  return leg->session->janus ? &leg->session->janus->lines[leg->line] : NULL;
}

/* A call's end that Janus will not tell: Janus went away, or the session
 * is dropped (the plugin is told to hang up) */
void
janus_leg_end (Leg * leg, gint code, const gchar * reason)
{
  JanusLine *line = leg_line (leg);

  if (line && line->handle && leg->session->server->janus->conn)
    line_send (line, body_new ("hangup"), NULL, NULL, NULL, NULL);
  leg_hangup (leg, code, reason);
  call_leg_free (leg);
}

static gchar *
number_to_uri (Account * account, const gchar * number)
{
  if (g_str_has_prefix (number, "sip:") || g_str_has_prefix (number, "sips:"))
    return g_strdup (number);
  if (strchr (number, '@'))
    return g_strdup_printf ("sip:%s", number);
  return g_strdup_printf ("sip:%s@%s", number, account->domain);
}

/* "sip:bob@example.org" -> "bob" */
static gchar *
uri_user (const gchar * uri)
{
  const gchar *start = uri, *at;

  if (uri == NULL)
    return g_strdup ("");
  if (g_str_has_prefix (start, "sips:"))
    start += 5;
  else if (g_str_has_prefix (start, "sip:"))
    start += 4;
  at = strchr (start, '@');
  return at ? g_strndup (start, at - start) : g_strdup (start);
}

static void
waiting_free (WaitingRequest * w)
{
  if (w->silent_id)
    g_source_remove (w->silent_id);
  g_free (w->transaction);
  g_free (w->token);
  wtsp_message_unref (w->req);
  g_free (w);
}

static Client *
waiting_client (WaitingRequest * w, Leg ** leg)
{
  Session *session = g_hash_table_lookup (w->janus->server->sessions,
      w->token);

  if (leg)
    *leg = session ? session->lines[w->line] : NULL;
  if (leg && *leg && w->req->call_id && g_strcmp0 ((*leg)->call_id,
          w->req->call_id))
    *leg = NULL;
  return session ? session->client : NULL;
}

static gboolean
on_silent_ack (gpointer data)
{
  WaitingRequest *w = data;
  Client *client;
  Leg *leg;

  w->silent_id = 0;
  client = waiting_client (w, &leg);
  if (client)
    client_respond_ack (client, w->req, leg);
  /* answered: what the plugin says next is an event like any other
   * (this frees w) */
  g_hash_table_remove (w->janus->pending, w->transaction);
  return G_SOURCE_REMOVE;
}

/* The WTSP response: on the plugin's first event (or error) for the
 * request */
static void
on_request_reply (Janus * janus, JsonObject * reply, gpointer data)
{
  WaitingRequest *w = data;
  Client *client = waiting_client (w, NULL);
  Leg *leg;
  const gchar *reason;
  gint code;

  waiting_client (w, &leg);
  if (reply == NULL) {
    if (client)
      client_respond_error (client, w->req, leg, 450,
          "the SIP gateway (Janus) went away");
    return;
  }
  if (reply_error (reply, &code, &reason)) {
    server_log (janus->server, "[%s] %s refused: %d %s", w->token,
        w->req->type, code, reason);
    if (client)
      client_respond_error (client, w->req, leg, code, reason);
    /* a call the plugin would not start is over */
    if (leg && g_str_equal (w->req->type, "outgoing_call"))
      call_leg_free (leg);
    return;
  }
  if (g_strcmp0 (json_object_get_string_member_with_default (reply, "janus",
              NULL), "ack") == 0) {
    /* Janus took it; the plugin's event follows: w waits on, under the
     * same transaction (janus_dispatch does not free it) */
    Pending *p = g_new0 (Pending, 1);

    p->func = on_request_reply;
    p->data = w;
    p->destroy = (GDestroyNotify) waiting_free;
    w->acked = TRUE;
    w->transaction = g_strdup (json_object_get_string_member (reply,
            "transaction"));
    w->silent_id = g_timeout_add (JANUS_SILENT_ACK_MS, on_silent_ack, w);
    g_hash_table_insert (janus->pending, g_strdup (w->transaction), p);
    return;
  }
  if (client)
    client_respond_ack (client, w->req, leg);
}

/* Sends @body (and @jsep) for WTSP request @req of @client on @line;
 * the response waits for the plugin */
static void
line_request (Client * client, WtspMessage * req, JanusLine * line,
    JsonObject * body, JsonObject * jsep)
{
  WaitingRequest *w = g_new0 (WaitingRequest, 1);

  w->janus = line->js->janus;
  w->token = g_strdup (client->session->token);
  w->line = line->index;
  w->req = wtsp_message_ref (req);
  line_send (line, body, jsep, on_request_reply, w,
      (GDestroyNotify) waiting_free);
}

static JanusLine *
request_line (Client * client, WtspMessage * req)
{
  JanusLine *line;

  if (!call_check_line (client, req))
    return NULL;
  line = &client->session->janus->lines[req->line];
  if (line->handle == 0 || !line->registered) {
    client_respond_error (client, req, NULL, 471,
        "the line is not registered with the SIP gateway yet");
    return NULL;
  }
  return line;
}

static void handle_outgoing_call (Client * client, WtspMessage * req,
    JanusLine * line);

static void
line_drop_deferred (JanusLine * line)
{
  if (line->deferred_id)
    g_source_remove (line->deferred_id);
  line->deferred_id = 0;
  g_clear_pointer (&line->deferred, wtsp_message_unref);
}

/* The call waiting on @line goes on, if its client is still there */
static gboolean
on_line_settled (gpointer data)
{
  JanusLine *line = data;
  Session *session = line->js->session;
  WtspMessage *req = line->deferred ? wtsp_message_ref (line->deferred) : NULL;

  line->deferred_id = 0;
  line_drop_deferred (line);
  if (req && session->client)
    handle_outgoing_call (session->client, req, line);
  else if (req)
    server_log (session->server, "[%s] call %s dropped: its client went "
        "away while it waited", session->number, req->call_id);
  if (req)
    wtsp_message_unref (req);
  return G_SOURCE_REMOVE;
}

/* The PeerConnection of @line's last call is gone: the call waiting for
 * it goes on JANUS_MEDIA_SETTLE_MS later */
static void
line_media_closed (JanusLine * line)
{
  line->media = FALSE;
  line->closed_at = g_get_monotonic_time ();
  if (line->deferred == NULL)
    return;
  if (line->deferred_id)
    g_source_remove (line->deferred_id);
  line->deferred_id = g_timeout_add (JANUS_MEDIA_SETTLE_MS, on_line_settled,
      line);
}

static gboolean
on_media_close_timeout (gpointer data)
{
  JanusLine *line = data;

  server_log (line->js->session->server, "[%s] line %d: Janus did not close "
      "the last call's PeerConnection within %d ms: calling anyway",
      line->js->session->number, line->index, JANUS_MEDIA_CLOSE_MS);
  line->media = FALSE;
  return on_line_settled (line);
}

/* How long a call on @line still waits for Janus to settle after the last
 * PeerConnection closed, in ms, or 0 */
static guint
line_settling_ms (JanusLine * line)
{
  gint64 since = g_get_monotonic_time () - line->closed_at;

  if (line->closed_at == 0 || since >= JANUS_MEDIA_SETTLE_MS * 1000)
    return 0;
  return (guint) (JANUS_MEDIA_SETTLE_MS - since / 1000);
}

static void
handle_outgoing_call (Client * client, WtspMessage * req, JanusLine * line)
{
  Session *session = client->session;
  Account *account = g_hash_table_lookup (session->server->accounts,
      session->token);
  const gchar *number = wtsp_message_get_string (req, "number");
  JsonObject *jsep = wtsp_message_get_object (req, "jsep");
  JsonObject *body;
  const gchar *type, *refer_id;
  gchar *uri;
  Leg *leg;

  if (session->lines[req->line] || (line->deferred && line->deferred != req)) {
    client_respond_error (client, req, NULL, 405, "line busy");
    return;
  }
  if (line->media && line->deferred == NULL) {
    /* the plugin would take the offer for a renegotiation of the last
     * call's PeerConnection (an ICE restart), and fail the call */
    server_log (session->server, "[%s] call %s on line %d waits for Janus "
        "to close the last call's PeerConnection", session->number,
        req->call_id, req->line);
    line->deferred = wtsp_message_ref (req);
    line->deferred_id = g_timeout_add (JANUS_MEDIA_CLOSE_MS,
        on_media_close_timeout, line);
    /* the plugin closes it by itself a moment after the call's end, or
     * not at all (seen after a transfer its target refused): the core's
     * hangup closes it, and says so with the same "hangup" event */
    janus_send (line->js->janus, janus_msg_new ("hangup", line->js->id,
            line->handle), NULL, NULL, NULL);
    return;
  }
  if (!line->media && line->deferred == NULL && line_settling_ms (line)) {
    guint ms = line_settling_ms (line);

    server_log (session->server, "[%s] call %s on line %d waits %u ms for "
        "Janus to free the last call's ICE agent", session->number,
        req->call_id, req->line, ms);
    line->deferred = wtsp_message_ref (req);
    line->deferred_id = g_timeout_add (ms, on_line_settled, line);
    return;
  }
  if (!wtsp_message_get_jsep (req, &type, NULL) || g_strcmp0 (type, "offer")) {
    client_respond_error (client, req, NULL, 464,
        "outgoing_call needs an offer in jsep");
    return;
  }
  if (number == NULL || *number == '\0') {
    client_respond_error (client, req, NULL, 456, "empty number");
    return;
  }
  uri = number_to_uri (account, number);
  leg = call_leg_new (session, req->line, req->call_id);
  leg_log (leg, req->object);
  server_log (session->server, "[%s] call %s to %s on line %d via Janus",
      session->number, req->call_id, uri, req->line);

  body = body_new ("call");
  json_object_set_string_member (body, "uri", uri);
  json_object_set_string_member (body, "call_id", req->call_id);
  /* re-INVITEs (hold, resume...) go to the client as updating_call */
  json_object_set_boolean_member (body, "autoaccept_reinvites", FALSE);
  /* the call a REFER asked for: Janus then tells the transferor how it
   * goes (NOTIFY); a string in WTSP, the integer Janus gave */
  refer_id = wtsp_message_get_string (req, "refer_id");
  if (refer_id) {
    guint64 id = 0;

    if (g_ascii_string_to_unsigned (refer_id, 10, 1, G_MAXUINT32, &id, NULL))
      json_object_set_int_member (body, "refer_id", (gint64) id);
    else
      server_log (session->server, "[%s] call %s: refer_id \"%s\" is not "
          "one Janus gave: the transferor is not told", session->number,
          req->call_id, refer_id);
  }
  line_request (client, req, line, body, jsep);
  g_free (uri);
}

/* The call requests other than outgoing_call: the WTSP request's name is
 * the plugin's, but for what the table says */
static void
handle_call_request (Client * client, WtspMessage * req, JanusLine * line)
{
  Leg *leg = call_find_leg (client, req);
  JsonObject *jsep = wtsp_message_get_object (req, "jsep");
  JsonObject *body;

  if (leg == NULL)
    return;
  leg_log (leg, req->object);
  if (g_str_equal (req->type, "accept")) {
    body = body_new ("accept");
    json_object_set_boolean_member (body, "autoaccept_reinvites", FALSE);
  } else if (g_str_equal (req->type, "decline")) {
    body = body_new ("decline");
    json_object_set_int_member (body, "code", wtsp_message_get_int (req,
            "code", 603));
  } else if (g_str_equal (req->type, "hold")) {
    const gchar *direction = wtsp_message_get_string (req, "direction");

    body = body_new ("hold");
    if (direction)
      json_object_set_string_member (body, "direction", direction);
  } else if (g_str_equal (req->type, "transfer")) {
    Account *account = g_hash_table_lookup (client->server->accounts,
        client->session->token);
    const gchar *number = wtsp_message_get_string (req, "number");
    const gchar *replace = wtsp_message_get_string (req, "replace_call_id");
    gchar *uri = number_to_uri (account, number ? number : "");

    body = body_new ("transfer");
    json_object_set_string_member (body, "uri", uri);
    if (replace)
      json_object_set_string_member (body, "replace", replace);
    g_free (uri);
  } else {
    /* hangup, unhold, update */
    body = body_new (req->type);
  }
  line_request (client, req, line, body, jsep);
}

static void
handle_ice_trickle (Client * client, WtspMessage * req, JanusLine * line)
{
  JsonNode *node = json_object_get_member (req->object, "candidate");
  JsonObject *msg = janus_msg_new ("trickle", line->js->id, line->handle);
  Leg *leg = client->session->lines[req->line];

  if (node == NULL || JSON_NODE_HOLDS_NULL (node)
      || (JSON_NODE_HOLDS_OBJECT (node)
          && json_object_get_boolean_member_with_default
          (json_node_get_object (node), "completed", FALSE))) {
    JsonObject *done = json_object_new ();

    json_object_set_boolean_member (done, "completed", TRUE);
    json_object_set_object_member (msg, "candidate", done);
  } else {
    json_object_set_member (msg, "candidate", json_node_copy (node));
  }
  if (leg)
    leg_log (leg, req->object);
  client_respond_ack (client, req, leg);
  janus_send (line->js->janus, msg, NULL, NULL, NULL);
}

/* Returns: FALSE if @req is no call request */
gboolean
janus_handle_request (Client * client, WtspMessage * req)
{
  static const gchar *const call_requests[] = {
    "accept", "decline", "hangup", "hold", "unhold", "update", "transfer",
  };
  gboolean outgoing = g_str_equal (req->type, "outgoing_call");
  gboolean trickle = g_str_equal (req->type, "ice_trickle");
  JanusLine *line;
  guint i;

  for (i = 0; !outgoing && !trickle && i < G_N_ELEMENTS (call_requests); i++)
    if (g_str_equal (req->type, call_requests[i]))
      break;
  if (!outgoing && !trickle && i == G_N_ELEMENTS (call_requests))
    return FALSE;

  line = request_line (client, req);
  if (line == NULL)
    return TRUE;
  if (line->deferred && g_str_equal (req->type, "hangup")
      && g_strcmp0 (req->call_id, line->deferred->call_id) == 0) {
    /* a call still waiting for the last one's PeerConnection: it never
     * reached Janus */
    server_log (client->server, "[%s] call %s hung up while it waited",
        client->session->number, req->call_id);
    client_respond_error (client, line->deferred, NULL, 487,
        "Request Terminated");
    line_drop_deferred (line);
    client_respond_ack (client, req, NULL);
    return TRUE;
  }
  if (outgoing)
    handle_outgoing_call (client, req, line);
  else if (trickle)
    handle_ice_trickle (client, req, line);
  else
    handle_call_request (client, req, line);
  return TRUE;
}

/* Events from Janus */

static JsonObject *
line_event_new (JanusLine * line, Leg * leg, const gchar * type)
{
  return wtsp_event_new (type, line->index, leg ? leg->call_id : NULL);
}

static void
set_jsep (JsonObject * event, JsonObject * reply)
{
  if (json_object_has_member (reply, "jsep"))
    json_object_set_object_member (event, "jsep",
        json_object_ref (json_object_get_object_member (reply, "jsep")));
}

/* The plugin's events on @line's handle */
static void
handle_plugin_event (JanusLine * line, JsonObject * reply,
    JsonObject * result)
{
  JanusSession *js = line->js;
  Session *session = js->session;
  Server *server = session->server;
  const gchar *event = json_object_get_string_member_with_default (result,
      "event", "");
  Leg *leg = session->lines[line->index];
  JsonObject *out;
  guint i;

  if (json_object_has_member (reply, "jsep"))
    line->media = TRUE;         /* the plugin's offer or answer */
  if (g_str_equal (event, "registering")) {
    return;
  } else if (g_str_equal (event, "registered")) {
    gboolean all = TRUE;

    line->registered = TRUE;
    if (line->index == 0) {
      js->master_id = json_object_get_int_member_with_default (result,
          "master_id", 0);
      for (i = 1; i < server->n_lines; i++)
        if (js->lines[i].handle && !js->lines[i].registered)
          line_register (&js->lines[i]);
    }
    for (i = 0; i < server->n_lines; i++)
      all &= js->lines[i].registered;
    if (all)
      set_registration (js, "registered", 0, NULL);
    return;
  } else if (g_str_equal (event, "registration_failed")) {
    set_registration (js, "registration_failed",
        json_object_get_int_member_with_default (result, "code", 500),
        json_object_get_string_member_with_default (result, "reason",
            "registration failed"));
    return;
  } else if (g_str_equal (event, "unregistering")
      || g_str_equal (event, "unregistered")) {
    line->registered = FALSE;
    if (line->index == 0)
      js->master_id = 0;
    set_registration (js, event, 0, NULL);
    return;
  }

  if (g_str_equal (event, "incomingcall")) {
    const gchar *call_id = json_object_get_string_member_with_default (result,
        "call_id", NULL);
    gchar *caller = uri_user (json_object_get_string_member_with_default
        (result, "username", NULL));
    const gchar *display = json_object_get_string_member_with_default (result,
        "displayname", "");
    /* Janus leaves the SIP quotes on: "\"Carol\"" */
    gchar *name = g_str_has_prefix (display, "\"")
        && g_str_has_suffix (display, "\"") && strlen (display) >= 2 ?
        g_strndup (display + 1, strlen (display) - 2) : g_strdup (display);

    if (leg || call_id == NULL) {
      /* Janus answers 486 to a second INVITE on a busy handle itself */
      g_free (name);
      g_free (caller);
      return;
    }
    leg = call_leg_new (session, line->index, call_id);
    out = line_event_new (line, leg, "incoming_call");
    json_object_set_string_member (out, "caller", caller);
    json_object_set_string_member (out, "callee", session->number);
    json_object_set_string_member (out, "caller_display_name",
        *name ? name : caller);
    g_free (name);
    set_jsep (out, reply);
    server_log (server, "[%s] incoming call %s from %s on line %u",
        session->number, call_id, caller, line->index);
    leg_send_event (leg, out);
    g_free (caller);
    return;
  }

  if (g_str_equal (event, "missed_call")) {
    gchar *caller = uri_user (json_object_get_string_member_with_default
        (result, "caller", NULL));

    out = wtsp_event_new ("missed_call", line->index, NULL);
    json_object_set_string_member (out, "caller", caller);
    json_object_set_string_member (out, "callee", session->number);
    session_send_object (session, out);
    json_object_unref (out);
    g_free (caller);
    return;
  }

  if (g_str_equal (event, "transfer")) {
    out = line_event_new (line, leg, "transfer");
    /* an integer in Janus, a string in WTSP (outgoing_call's refer_id) */
    if (json_object_has_member (result, "refer_id")) {
      gchar *id = g_strdup_printf ("%" G_GINT64_FORMAT,
          json_object_get_int_member (result, "refer_id"));

      json_object_set_string_member (out, "refer_id", id);
      g_free (id);
    }
    for (i = 0; i < 2; i++) {
      static const gchar *const fields[] = { "refer_to", "referred_by" };
      JsonNode *node = json_object_get_member (result, fields[i]);

      if (node)
        json_object_set_member (out, fields[i], json_node_copy (node));
    }
    if (json_object_has_member (result, "replaces"))
      json_object_set_member (out, "replace_call_id",
          json_node_copy (json_object_get_member (result, "replaces")));
    if (leg)
      leg_send_event (leg, out);
    else {
      session_send_object (session, out);
      json_object_unref (out);
    }
    return;
  }

  if (leg == NULL) {
    server_log (server, "[%s] line %u: %s for no call, dropped",
        session->number, line->index, event);
    return;
  }

  if (g_str_equal (event, "hangup")) {
    gint code = json_object_get_int_member_with_default (result, "code", 200);
    const gchar *reason = json_object_get_string_member_with_default (result,
        "reason", "Session Terminated");

    server_log (server, "[%s] call %s ended: %d %s", session->number,
        leg->call_id, code, reason);
    leg_hangup (leg, code, reason);
    call_leg_free (leg);
    return;
  }

  /* the rest by name: calling, ringing, proceeding (code), progress and
   * accepted (jsep), accepting, declining, hangingup, holding, resuming,
   * updating, updatingcall, transferring, notify */
  if (g_str_equal (event, "updatingcall"))
    event = "updating_call";
  else if (g_str_equal (event, "declined"))
    return;                     /* a transfer's, told by notify */
  out = line_event_new (line, leg, event);
  if (json_object_has_member (result, "code"))
    json_object_set_int_member (out, "code", json_object_get_int_member
        (result, "code"));
  if (g_str_equal (event, "progress"))
    json_object_set_string_member (out, "callee",
        json_object_get_string_member_with_default (result, "username", ""));
  if (g_str_equal (event, "notify")) {
    static const gchar *const fields[] = { "notify", "substate",
      "content-type", "content"
    };
    static const gchar *const names[] = { "notify", "subscription_state",
      "content_type", "content"
    };

    for (i = 0; i < G_N_ELEMENTS (fields); i++)
      if (json_object_has_member (result, fields[i]))
        json_object_set_member (out, names[i],
            json_node_copy (json_object_get_member (result, fields[i])));
  }
  set_jsep (out, reply);
  leg_send_event (leg, out);
}

/* Janus' own events about a handle's PeerConnection */
static void
handle_core_event (JanusLine * line, const gchar * type, JsonObject * msg)
{
  Session *session = line->js->session;
  Leg *leg = session->lines[line->index];
  JsonObject *out;

  if (g_str_equal (type, "webrtcup")) {
    out = line_event_new (line, leg, "ice_webrtcup");
  } else if (g_str_equal (type, "media")) {
    out = line_event_new (line, leg, "ice_media");
    json_object_set_string_member (out, "type",
        json_object_get_string_member_with_default (msg, "type", ""));
    json_object_set_boolean_member (out, "receiving",
        json_object_get_boolean_member_with_default (msg, "receiving",
            FALSE));
  } else if (g_str_equal (type, "slowlink")) {
    out = line_event_new (line, leg, "ice_slowlink");
    json_object_set_string_member (out, "type",
        json_object_get_string_member_with_default (msg, "media", ""));
    json_object_set_boolean_member (out, "uplink",
        json_object_get_boolean_member_with_default (msg, "uplink", FALSE));
    json_object_set_int_member (out, "lost",
        json_object_get_int_member_with_default (msg, "lost", 0));
  } else if (g_str_equal (type, "hangup")) {
    out = line_event_new (line, leg, "ice_hangup");
    json_object_set_string_member (out, "reason",
        json_object_get_string_member_with_default (msg, "reason", ""));
  } else {
    return;
  }
  if (leg)
    leg_send_event (leg, out);
  else {
    session_send_object (session, out);
    json_object_unref (out);
  }
  if (g_str_equal (type, "hangup"))
    line_media_closed (line);
}

static void
janus_dispatch (Janus * janus, JsonObject * msg)
{
  const gchar *type = json_object_get_string_member_with_default (msg,
      "janus", "");
  const gchar *transaction = json_object_get_string_member_with_default (msg,
      "transaction", NULL);
  gint64 sender = json_object_get_int_member_with_default (msg, "sender", 0);
  JanusLine *line = sender ? g_hash_table_lookup (janus->handles, &sender) :
      NULL;
  Pending *p = NULL;
  JsonObject *result;

  if (transaction && !g_str_equal (type, "keepalive")) {
    gchar *key = NULL;

    if (g_hash_table_steal_extended (janus->pending, transaction,
            (gpointer *) & key, (gpointer *) & p)) {
      gboolean ack = g_str_equal (type, "ack");
      WaitingRequest *w = p->func == on_request_reply ? p->data : NULL;

      p->func (janus, msg, p->data);
      /* a waiting request acked by Janus moved to a new Pending */
      if (ack && w && w->acked)
        p->destroy = NULL;
      pending_free (p);
      g_free (key);
      /* plugin events are events too, below */
      if (ack || g_str_equal (type, "success") || g_str_equal (type, "error"))
        return;
    }
  }
  if (g_str_equal (type, "ack") || g_str_equal (type, "success")
      || g_str_equal (type, "keepalive") || g_str_equal (type, "error"))
    return;
  if (line == NULL) {
    if (g_str_equal (type, "timeout"))
      server_log (janus->server, "janus: a session timed out");
    return;
  }
  if (g_str_equal (type, "event")) {
    result = plugin_result (msg);
    if (result)
      handle_plugin_event (line, msg, result);
    return;
  }
  handle_core_event (line, type, msg);
}

/* The link to Janus */

static void
fail_all_pending (Janus * janus)
{
  GHashTable *pending = janus->pending;
  GHashTableIter iter;
  gpointer value;

  janus->pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) pending_free);
  g_hash_table_iter_init (&iter, pending);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    Pending *p = value;

    p->func (janus, NULL, p->data);
  }
  g_hash_table_unref (pending);
}

static void
on_janus_message (SoupWebsocketConnection * conn, gint type, GBytes * message,
    gpointer data)
{
  Janus *janus = data;
  gsize size;
  const gchar *text = g_bytes_get_data (message, &size);
  JsonParser *parser = json_parser_new ();
  GError *error = NULL;
  JsonNode *root;

  if (janus->server->verbose)
    server_log (janus->server, "janus < %.*s", (gint) size, text);
  if (!json_parser_load_from_data (parser, text, size, &error)) {
    server_log (janus->server, "janus: unparsable message: %s",
        error->message);
    g_error_free (error);
  } else if ((root = json_parser_get_root (parser))
      && JSON_NODE_HOLDS_OBJECT (root)) {
    janus_dispatch (janus, json_node_get_object (root));
  }
  g_object_unref (parser);
}

static gboolean
on_reconnect (gpointer data)
{
  Janus *janus = data;

  janus->reconnect_id = 0;
  janus_connect (janus);
  return G_SOURCE_REMOVE;
}

static void
on_janus_closed (SoupWebsocketConnection * conn, gpointer data)
{
  Janus *janus = data;
  GList *l;

  server_log (janus->server, "janus: the link to %s closed (code %u): every "
      "call ends, sessions reconnect when it is back", janus->url,
      soup_websocket_connection_get_close_code (conn));
  g_clear_object (&janus->conn);
  fail_all_pending (janus);
  for (l = janus->all_sessions; l; l = l->next) {
    JanusSession *js = l->data;
    guint i;

    for (i = 0; i < janus->server->n_lines; i++)
      if (js->session->lines[i])
        janus_leg_end (js->session->lines[i], 503,
            "Service Unavailable: the SIP gateway went away");
    session_forget (js);
    /* not a failure of the account: it registers again with Janus */
    set_registration (js, "registering", 0, NULL);
  }
  if (!janus->server->stopping && janus->reconnect_id == 0)
    janus->reconnect_id = g_timeout_add (JANUS_RECONNECT_MS, on_reconnect,
        janus);
}

static void
on_connected (GObject * source, GAsyncResult * res, gpointer data)
{
  Janus *janus = data;
  GError *error = NULL;
  SoupWebsocketConnection *conn =
      soup_session_websocket_connect_finish (SOUP_SESSION (source), res,
      &error);
  GList *l;

  janus->connecting = FALSE;
  if (conn == NULL) {
    if (janus->connect_error == NULL && janus->counter == 0)
      janus->connect_error = g_error_copy (error);
    server_log (janus->server, "janus: could not connect to %s: %s",
        janus->url, error->message);
    g_error_free (error);
    if (!janus->server->stopping && janus->reconnect_id == 0)
      janus->reconnect_id = g_timeout_add (JANUS_RECONNECT_MS, on_reconnect,
          janus);
    return;
  }
  janus->conn = conn;
  /* Janus sends nothing unasked; its keepalives are ours */
  soup_websocket_connection_set_keepalive_interval (conn, 0);
  soup_websocket_connection_set_max_incoming_payload_size (conn, 0);
  g_signal_connect (conn, "message", G_CALLBACK (on_janus_message), janus);
  g_signal_connect (conn, "closed", G_CALLBACK (on_janus_closed), janus);
  server_log (janus->server, "janus: connected to %s", janus->url);
  for (l = janus->all_sessions; l; l = l->next)
    session_open (l->data);
}

static void
janus_connect (Janus * janus)
{
  SoupMessage *msg = soup_message_new ("GET", janus->url);
  const gchar *protocols[] = { JANUS_PROTOCOL, NULL };

  janus->connecting = TRUE;
  soup_session_websocket_connect_async (janus->soup, msg, NULL,
      (gchar **) protocols, G_PRIORITY_DEFAULT, NULL, on_connected, janus);
  g_object_unref (msg);
}

static gboolean
on_connect_timeout (gpointer data)
{
  gboolean *timed_out = data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Connects to Janus at @url before the server listens: a Janus that
 * cannot be reached is a setup error */
gboolean
server_start_janus (Server * server, const gchar * url, GError ** error)
{
  Janus *janus = g_new0 (Janus, 1);
  gboolean timed_out = FALSE;
  guint timeout_id;
  GUri *uri = g_uri_parse (url, G_URI_FLAGS_NONE, error);

  if (uri == NULL) {
    g_prefix_error (error, "--janus %s: ", url);
    g_free (janus);
    return FALSE;
  }
  if (g_strcmp0 (g_uri_get_scheme (uri), "ws")
      && g_strcmp0 (g_uri_get_scheme (uri), "wss")) {
    g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_SCHEME,
        "--janus %s: not a ws:// or wss:// URL", url);
    g_uri_unref (uri);
    g_free (janus);
    return FALSE;
  }
  g_uri_unref (uri);
  if (server->accounts == NULL) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--janus needs --accounts FILE: the SIP identity of each token");
    g_free (janus);
    return FALSE;
  }

  janus->server = server;
  janus->url = g_strdup (url);
  janus->soup = soup_session_new ();
  janus->pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) pending_free);
  janus->handles = g_hash_table_new_full (g_int64_hash, g_int64_equal,
      g_free, NULL);
  janus->sessions = g_hash_table_new_full (g_int64_hash, g_int64_equal,
      g_free, NULL);
  server->janus = janus;

  janus_connect (janus);
  timeout_id = g_timeout_add_seconds (JANUS_CONNECT_TIMEOUT_S,
      on_connect_timeout, &timed_out);
  while (janus->connecting && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);
  if (janus->conn)
    return TRUE;

  if (janus->connect_error)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "could not reach Janus at %s: %s", url, janus->connect_error->message);
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
        "could not reach Janus at %s: no WebSocket within %d s", url,
        JANUS_CONNECT_TIMEOUT_S);
  return FALSE;
}

void
server_stop_janus (Server * server)
{
  Janus *janus = server->janus;

  if (janus == NULL)
    return;
  if (janus->reconnect_id)
    g_source_remove (janus->reconnect_id);
  if (janus->conn) {
    g_signal_handlers_disconnect_by_data (janus->conn, janus);
    if (soup_websocket_connection_get_state (janus->conn) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (janus->conn,
          SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
    g_clear_object (&janus->conn);
  }
  g_hash_table_unref (janus->pending);
  g_hash_table_unref (janus->handles);
  g_hash_table_unref (janus->sessions);
  g_list_free (janus->all_sessions);
  g_clear_error (&janus->connect_error);
  g_object_unref (janus->soup);
  g_free (janus->url);
  g_free (janus);
  server->janus = NULL;
}
