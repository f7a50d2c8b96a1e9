/* WebTrit Signaling Protocol (WTSP): the session
 *
 * A WtspSession holds one WebSocket to a WTSP server: it waits for the
 * "state" handshake before sending anything, runs request transactions,
 * sends keepalives at the server's interval, and reconnects with backoff
 * when the link (not the session) fails.
 *
 * libsoup is not thread-safe: the SoupSession and its WebSocket are
 * created, used and closed on the session's own thread, whose
 * thread-default GMainContext is self->context. Public functions may be
 * called from any thread and hop there with g_main_context_invoke. All
 * signals are emitted from that thread, with no lock held.
 *
 * Besides the link, a session keeps what every user of it must agree on:
 * the table of the account's lines (the server's view, from each state
 * handshake, kept current by call events before they are dispatched, and
 * which user claimed which line), and the number of its users when
 * elements share it through a GstContext (wtsp_session_acquire).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "wtspsession.h"
#include "wtspsettings.h"

#include <libsoup/soup.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (wtsp_session_debug);
#define GST_CAT_DEFAULT wtsp_session_debug

/* Requests waiting for the handshake; more are refused, not queued */
#define MAX_QUEUED_REQUESTS 256

/* How long stop() waits for the server to answer our close frame */
#define CLOSE_GRACE_MS 1000

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_TOKEN,
  PROP_TOKEN_FILE,
  PROP_FORCE,
  PROP_RECONNECT_FORCE,
  PROP_TLS_VALIDATION,
  PROP_CA_FILE,
  PROP_TRANSACTION_TIMEOUT,
  PROP_HANDSHAKE_TIMEOUT,
  PROP_RECONNECT_DELAY_MIN,
  PROP_RECONNECT_DELAY_MAX,
  PROP_MAX_RECONNECT_ATTEMPTS,
  PROP_MAX_MESSAGE_SIZE,
  PROP_STATE,
  PROP_REGISTRATION,
  PROP_KEEPALIVE_INTERVAL,
};

/* The ids wtsp_settings_install() gives, in its order */
G_STATIC_ASSERT (PROP_MAX_MESSAGE_SIZE - PROP_LOCATION + 1 ==
    WTSP_SESSION_N_SETTINGS);
G_STATIC_ASSERT (PROP_KEEPALIVE_INTERVAL - PROP_STATE + 1 ==
    WTSP_SESSION_N_STATE);

enum
{
  SIGNAL_MESSAGE,
  SIGNAL_STATE_CHANGED,
  SIGNAL_WARNING,
  SIGNAL_ERROR,
  SIGNAL_LINES_CHANGED,
  LAST_SIGNAL
};

static guint signals[LAST_SIGNAL];

typedef struct
{
  gchar *transaction;
  JsonObject *request;
} QueuedRequest;

/* One line of the account */
typedef struct
{
  JsonNode *node;               /* the server's view: null (idle) or an
                                 * object; our own deep copy */
  gpointer owner;               /* who claimed it, or NULL */
  guint claims;                 /* successful claims so far */
} Line;

struct _WtspSession
{
  GstObject parent;

  /* Settings: GST_OBJECT_LOCK */
  gchar *location;
  gchar *token;
  gchar *token_file;
  gboolean force;
  gboolean reconnect_force;
  gboolean tls_validation;
  gchar *ca_file;
  guint transaction_timeout;
  guint handshake_timeout;
  guint reconnect_delay_min;
  guint reconnect_delay_max;
  gint max_reconnect_attempts;
  guint max_message_size;
  /* The token we log in with: token, else token-file's, else the
   * location's (resolved at start) */
  gchar *login_token;

  /* Published state: GST_OBJECT_LOCK */
  WtspSessionState state;
  WtspMessage *state_message;
  gchar *registration;
  guint keepalive_interval;

  /* lines_lock: taken for short reads and writes only, never while
   * emitting or posting */
  GMutex lines_lock;
  GArray *lines;                /* of Line; NULL before any handshake */
  gboolean decline_unclaimed;
  guint claim_timeout;
  GHashTable *waiting;          /* call_id -> Waiting: unclaimed calls */

  /* use_lock: the users (wtsp_session_use). The first one starts the
   * session, the last one stops it, with the lock released (stop emits
   * state-changed) but use_busy set, so that a user joining meanwhile
   * waits on use_cond for the outcome */
  GMutex use_lock;
  GCond use_cond;
  guint users;
  gboolean use_busy;

  /* Thread control: the caller of start() and stop() */
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  GTlsDatabase *tls_database;
  GUri *base_uri;
  gchar *redacted_uri;

  /* Session thread only */
  SoupSession *soup;
  SoupMessage *connect_msg;
  SoupWebsocketConnection *conn;
  GCancellable *cancellable;
  WtspTransactions *transactions;
  GQueue queued;
  GSource *handshake_timer;
  GSource *keepalive_timer;
  GSource *reconnect_timer;
  GSource *stop_timer;
  guint attempt;
  gboolean established;         /* a handshake succeeded at least once */
  gboolean stopping;
  gchar *last_socket_error;
};

G_DEFINE_QUARK (wtsp-session-error-quark, wtsp_session_error);

G_DEFINE_TYPE_WITH_CODE (WtspSession, wtsp_session, GST_TYPE_OBJECT,
    GST_DEBUG_CATEGORY_INIT (wtsp_session_debug, "wtspsession", 0,
        "WTSP session"));

GType
wtsp_session_state_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {WTSP_SESSION_STATE_STOPPED, "Not started", "stopped"},
    {WTSP_SESSION_STATE_CONNECTING, "Opening the WebSocket", "connecting"},
    {WTSP_SESSION_STATE_HANDSHAKE, "Waiting for the state handshake",
        "handshake"},
    {WTSP_SESSION_STATE_READY, "Handshake done, requests flow", "ready"},
    {WTSP_SESSION_STATE_RECONNECTING, "Link lost, reconnecting",
        "reconnecting"},
    {WTSP_SESSION_STATE_FAILED, "Gave up (see the error)", "failed"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("WtspSessionState", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static const gchar *
state_nick (WtspSessionState state)
{
  GEnumValue *v = g_enum_get_value (g_type_class_peek
      (WTSP_TYPE_SESSION_STATE), state);
  return v ? v->value_nick : "unknown";
}

static void connect_attempt (WtspSession * self);
static void on_connected (GObject * source, GAsyncResult * res,
    gpointer user_data);

/**
 * wtsp_redact_uri:
 * @uri: a URI that may carry a token
 *
 * Returns: (transfer full): @uri with the value of its "token" query
 *     parameter replaced by "***", fit for logs and error messages
 */
gchar *
wtsp_redact_uri (const gchar * uri)
{
  GUri *parsed = g_uri_parse (uri, G_URI_FLAGS_ENCODED, NULL);
  GUriParamsIter iter;
  GString *query;
  gchar *name, *value, *result;
  GUri *redacted;

  if (parsed == NULL)
    return g_strdup ("(invalid URI)");
  if (g_uri_get_query (parsed) == NULL) {
    result = g_uri_to_string_partial (parsed, G_URI_HIDE_PASSWORD);
    g_uri_unref (parsed);
    return result;
  }

  query = g_string_new (NULL);
  g_uri_params_iter_init (&iter, g_uri_get_query (parsed), -1, "&",
      G_URI_PARAMS_NONE);
  while (g_uri_params_iter_next (&iter, &name, &value, NULL)) {
    if (query->len)
      g_string_append_c (query, '&');
    g_string_append_uri_escaped (query, name, NULL, FALSE);
    g_string_append_c (query, '=');
    if (g_str_equal (name, "token"))
      g_string_append (query, "***");
    else
      g_string_append_uri_escaped (query, value, NULL, FALSE);
    g_free (name);
    g_free (value);
  }

  redacted = g_uri_build (G_URI_FLAGS_ENCODED, g_uri_get_scheme (parsed),
      NULL, g_uri_get_host (parsed), g_uri_get_port (parsed),
      g_uri_get_path (parsed), query->str, g_uri_get_fragment (parsed));
  result = g_uri_to_string (redacted);
  g_uri_unref (redacted);
  g_uri_unref (parsed);
  g_string_free (query, TRUE);
  return result;
}

/* The location with token and force put in the query, keeping whatever
 * else it had (a tenant path, other parameters). */
static GUri *
build_connect_uri (GUri * base, const gchar * token, gboolean force)
{
  GUriParamsIter iter;
  GString *query = g_string_new (NULL);
  gchar *name, *value;
  GUri *uri;

  if (g_uri_get_query (base)) {
    g_uri_params_iter_init (&iter, g_uri_get_query (base), -1, "&",
        G_URI_PARAMS_NONE);
    while (g_uri_params_iter_next (&iter, &name, &value, NULL)) {
      if (!g_str_equal (name, "token") && !g_str_equal (name, "force")) {
        g_string_append_uri_escaped (query, name, NULL, FALSE);
        g_string_append_c (query, '=');
        g_string_append_uri_escaped (query, value, NULL, FALSE);
        g_string_append_c (query, '&');
      }
      g_free (name);
      g_free (value);
    }
  }
  g_string_append (query, "token=");
  g_string_append_uri_escaped (query, token, NULL, FALSE);
  g_string_append_printf (query, "&force=%s", force ? "true" : "false");

  uri = g_uri_build (G_URI_FLAGS_ENCODED, g_uri_get_scheme (base), NULL,
      g_uri_get_host (base), g_uri_get_port (base), g_uri_get_path (base),
      query->str, NULL);
  g_string_free (query, TRUE);
  return uri;
}

/* The URL we connect to, as logs and errors may show it: token=*** */
static gchar *
redacted_connect_uri (WtspSession * self)
{
  GUri *uri = build_connect_uri (self->base_uri, "-", self->force);
  gchar *plain = g_uri_to_string (uri);
  gchar *redacted = wtsp_redact_uri (plain);

  g_free (plain);
  g_uri_unref (uri);
  return redacted;
}

/* Frees a copy of the token without leaving the secret in freed memory */
static void
clear_secret (gchar ** secret)
{
  if (*secret)
    memset (*secret, 0, strlen (*secret));
  g_clear_pointer (secret, g_free);
}

/* A token given in the location's query, if any */
static gchar *
token_from_uri (GUri * uri)
{
  GHashTable *params;
  gchar *token = NULL;

  if (g_uri_get_query (uri) == NULL)
    return NULL;
  params = g_uri_parse_params (g_uri_get_query (uri), -1, "&",
      G_URI_PARAMS_NONE, NULL);
  if (params) {
    token = g_strdup (g_hash_table_lookup (params, "token"));
    g_hash_table_unref (params);
  }
  return token;
}

/* Emission helpers: never with a lock held */

static void
set_state (WtspSession * self, WtspSessionState state, const gchar * why)
{
  WtspSessionState old;

  GST_OBJECT_LOCK (self);
  old = self->state;
  self->state = state;
  GST_OBJECT_UNLOCK (self);

  if (old == state)
    return;
  GST_INFO_OBJECT (self, "%s -> %s%s%s", state_nick (old), state_nick (state),
      why ? ": " : "", why ? why : "");
  g_object_notify (G_OBJECT (self), "state");
  g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0, old, state, why);
}

static void
emit_warning (WtspSession * self, gint code, const gchar * debug,
    const gchar * format, ...) G_GNUC_PRINTF (4, 5);

static void
emit_warning (WtspSession * self, gint code, const gchar * debug,
    const gchar * format, ...)
{
  GError *error;
  va_list args;

  va_start (args, format);
  error = g_error_new_valist (WTSP_SESSION_ERROR, code, format, args);
  va_end (args);

  GST_WARNING_OBJECT (self, "%s%s%s", error->message, debug ? ": " : "",
      debug ? debug : "");
  g_signal_emit (self, signals[SIGNAL_WARNING], 0, error, debug);
  g_error_free (error);
}

/* Timers */

static void
clear_timer (GSource ** timer)
{
  if (*timer) {
    g_source_destroy (*timer);
    g_source_unref (*timer);
    *timer = NULL;
  }
}

static GSource *
add_timer (WtspSession * self, guint ms, GSourceFunc func)
{
  GSource *source = g_timeout_source_new (ms);

  g_source_set_callback (source, func, self, NULL);
  g_source_attach (source, self->context);
  return source;
}

/* Connection teardown */

static void
release_connection (WtspSession * self)
{
  if (self->conn == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->conn, self);
  if (soup_websocket_connection_get_state (self->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (self->conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
        NULL);
  g_clear_object (&self->conn);
}

static void
fail_queued (WtspSession * self, const gchar * result, const gchar * reason)
{
  QueuedRequest *q;

  /* Their transactions are pending too: failing those replies the promise */
  while ((q = g_queue_pop_head (&self->queued))) {
    g_free (q->transaction);
    json_object_unref (q->request);
    g_free (q);
  }
  wtsp_transactions_fail_all (self->transactions, result, reason);
}

/* Gives up for good: the error names the cause */
static void
fail (WtspSession * self, gint code, GstStructure * details,
    const gchar * format, ...) G_GNUC_PRINTF (4, 5);

static gboolean
copy_field (GQuark field, const GValue * value, gpointer user_data)
{
  gst_structure_id_set_value (user_data, field, value);
  return TRUE;
}

static void
fail (WtspSession * self, gint code, GstStructure * details,
    const gchar * format, ...)
{
  GstStructure *full;
  GError *error;
  va_list args;

  va_start (args, format);
  error = g_error_new_valist (WTSP_SESSION_ERROR, code, format, args);
  va_end (args);

  /* Flat, in the order docs/signalingsrc.md shows: error, uri, then what
   * the caller knows (close-code and close-reason, or http-status) */
  full = gst_structure_new ("wtsp-error",
      "error", G_TYPE_STRING, wtsp_session_error_to_string (code),
      "uri", G_TYPE_STRING, self->redacted_uri, NULL);
  if (details) {
    gst_structure_foreach (details, copy_field, full);
    gst_structure_free (details);
  }
  details = full;

  clear_timer (&self->handshake_timer);
  clear_timer (&self->keepalive_timer);
  clear_timer (&self->reconnect_timer);
  release_connection (self);
  fail_queued (self, WTSP_RESULT_DISCONNECTED, error->message);

  GST_ERROR_OBJECT (self, "%s", error->message);
  set_state (self, WTSP_SESSION_STATE_FAILED, error->message);
  g_signal_emit (self, signals[SIGNAL_ERROR], 0, error, details);
  g_error_free (error);
  gst_structure_free (details);
}

static gboolean
on_reconnect_timer (gpointer user_data)
{
  WtspSession *self = user_data;

  g_source_unref (self->reconnect_timer);
  self->reconnect_timer = NULL;
  connect_attempt (self);
  return G_SOURCE_REMOVE;
}

/* Exponential backoff with jitter: attempt n waits a random time between
 * half and all of min * 2^(n-1), capped at max */
static guint
backoff_delay (WtspSession * self, guint attempt)
{
  guint64 delay;
  guint min, max;

  GST_OBJECT_LOCK (self);
  min = self->reconnect_delay_min;
  max = self->reconnect_delay_max;
  GST_OBJECT_UNLOCK (self);

  delay = (guint64) min << MIN (attempt - 1, 20);
  delay = MIN (delay, max);
  return (guint) (delay / 2 + g_random_int_range (0, delay / 2 + 1));
}

/* The link failed for @cause: reconnect, or give up if it never worked */
static void
link_lost (WtspSession * self, const gchar * cause, GstStructure * details)
{
  gint max_attempts;
  guint delay;

  clear_timer (&self->handshake_timer);
  clear_timer (&self->keepalive_timer);
  release_connection (self);
  /* What was sent on the link is lost with it; requests still waiting
   * for a link wait on, for the next one (or until they time out) */
  wtsp_transactions_fail_sent (self->transactions, WTSP_RESULT_DISCONNECTED,
      cause);

  if (!self->established) {
    /* A first connection that fails is a setup problem: say so now
     * rather than retry a wrong address forever */
    fail (self, WTSP_SESSION_ERROR_CONNECT, details,
        "Could not connect to the signaling server at %s: %s",
        self->redacted_uri, cause);
    return;
  }
  if (details)
    gst_structure_free (details);

  GST_OBJECT_LOCK (self);
  max_attempts = self->max_reconnect_attempts;
  GST_OBJECT_UNLOCK (self);

  self->attempt++;
  if (max_attempts >= 0 && self->attempt > (guint) max_attempts) {
    fail (self, WTSP_SESSION_ERROR_RECONNECT, NULL,
        "Gave up reconnecting to the signaling server at %s after %d "
        "attempts; last failure: %s", self->redacted_uri, max_attempts, cause);
    return;
  }

  delay = backoff_delay (self, self->attempt);
  set_state (self, WTSP_SESSION_STATE_RECONNECTING, cause);
  emit_warning (self, WTSP_SESSION_ERROR_LINK, NULL,
      "Lost the connection to the signaling server (%s); reconnecting in "
      "%u ms (attempt %u)", cause, delay, self->attempt);
  self->reconnect_timer = add_timer (self, delay, on_reconnect_timer);
}

/* Sending */

static void
send_object (WtspSession * self, JsonObject * object)
{
  gchar *text = wtsp_object_to_string (object);

  GST_LOG_OBJECT (self, "> %s", text);
  soup_websocket_connection_send_text (self->conn, text);
  g_free (text);
}

/* Sends the request of transaction @id: from now on it is lost if the
 * link drops */
static void
send_transaction (WtspSession * self, const gchar * id, JsonObject * object)
{
  send_object (self, object);
  wtsp_transactions_sent (self->transactions, id);
}

static gboolean on_keepalive_timer (gpointer user_data);

/* The reference clients restart the keepalive timer whenever they send
 * a request: the request itself shows the link is used */
static void
restart_keepalive_timer (WtspSession * self)
{
  guint interval;

  clear_timer (&self->keepalive_timer);
  GST_OBJECT_LOCK (self);
  interval = self->keepalive_interval;
  GST_OBJECT_UNLOCK (self);
  if (interval > 0)
    self->keepalive_timer = add_timer (self, interval, on_keepalive_timer);
}

static void
on_keepalive_answered (GstPromise * promise, gpointer user_data)
{
  WtspSession *self = user_data;
  const GstStructure *reply = gst_promise_get_reply (promise);
  const gchar *result = wtsp_reply_get_result (reply);
  gchar *cause;

  /* A keepalive that failed because the link already dropped says nothing
   * new; only silence on an open link means it is dead */
  if (!g_str_equal (result, WTSP_RESULT_TIMEOUT) || self->stopping
      || self->conn == NULL)
    return;

  cause = g_strdup_printf ("no keepalive echo from the server within %u ms",
      self->transaction_timeout);
  link_lost (self, cause, NULL);
  g_free (cause);
}

static gboolean
on_keepalive_timer (gpointer user_data)
{
  WtspSession *self = user_data;
  JsonObject *keepalive = json_object_new ();
  GstPromise *promise;
  gchar *id;
  guint timeout;

  g_source_unref (self->keepalive_timer);
  self->keepalive_timer = NULL;

  GST_OBJECT_LOCK (self);
  timeout = self->transaction_timeout;
  GST_OBJECT_UNLOCK (self);

  json_object_set_string_member (keepalive, "handshake", "keepalive");
  promise = gst_promise_new_with_change_func (on_keepalive_answered,
      gst_object_ref (self), gst_object_unref);
  id = wtsp_transactions_begin (self->transactions, keepalive, promise,
      timeout);
  GST_DEBUG_OBJECT (self, "keepalive %s", id);
  send_transaction (self, id, keepalive);
  restart_keepalive_timer (self);

  g_free (id);
  gst_promise_unref (promise);
  json_object_unref (keepalive);
  return G_SOURCE_REMOVE;
}

static void
flush_queued (WtspSession * self)
{
  QueuedRequest *q;

  while ((q = g_queue_pop_head (&self->queued))) {
    /* It may have timed out while we waited for the handshake */
    if (wtsp_transactions_has (self->transactions, q->transaction)) {
      GST_DEBUG_OBJECT (self, "sending %s, which waited for the link",
          q->transaction);
      send_transaction (self, q->transaction, q->request);
    }
    g_free (q->transaction);
    json_object_unref (q->request);
    g_free (q);
  }
  restart_keepalive_timer (self);
}

/* Lines
 *
 * The table is the server's view of the account's lines, as last known:
 * each state handshake replaces it; call events then keep it current,
 * on the session thread, before the message is dispatched (so that a
 * "message" handler already sees the line its event is about):
 *
 * - incoming_call and calling start a call: the line shows
 *   {"call_id", "state"} whatever it showed before (the server put a new
 *   call there: an incoming call, or the first event of our own
 *   outgoing_call);
 * - hangup ends the call the line shows: the line is idle (null) again;
 * - any other event for the call the line shows updates "state";
 * - an event for a call the line does not show (another call_id, or an
 *   idle line) changes nothing: no phantom entries. missed_call never
 *   does either: that call got no line (and the reference server sends
 *   it on the guest line);
 * - events on the guest line, without call_id or beyond the table change
 *   nothing.
 *
 * Claims are separate from the server's view: a user claims a line for
 * a call it places or takes, and releases it when the call is over. */

static void
line_clear (Line * line)
{
  g_clear_pointer (&line->node, json_node_unref);
}

/* json_node_copy() shares objects and arrays: users get their own */
static JsonNode *
deep_copy (JsonNode * node)
{
  JsonNode *copy;

  if (JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObject *object = json_node_get_object (node);
    JsonObject *dup = json_object_new ();
    JsonObjectIter iter;
    const gchar *name;
    JsonNode *member;

    json_object_iter_init_ordered (&iter, object);
    while (json_object_iter_next_ordered (&iter, &name, &member))
      json_object_set_member (dup, name, deep_copy (member));
    copy = json_node_init_object (json_node_alloc (), dup);
    json_object_unref (dup);
  } else if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *array = json_node_get_array (node);
    JsonArray *dup = json_array_sized_new (json_array_get_length (array));
    guint i;

    for (i = 0; i < json_array_get_length (array); i++)
      json_array_add_element (dup, deep_copy (json_array_get_element (array,
                  i)));
    copy = json_node_init_array (json_node_alloc (), dup);
    json_array_unref (dup);
  } else {
    copy = json_node_copy (node);
  }
  return copy;
}

/* The call a line shows; NULL if idle or if it has none (a failed call
 * shows "call_id": null) */
static const gchar *
line_call_id (const Line * line)
{
  JsonNode *node;

  if (line->node == NULL || !JSON_NODE_HOLDS_OBJECT (line->node))
    return NULL;
  node = json_object_get_member (json_node_get_object (line->node),
      "call_id");
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* Whether the server shows @line idle: null, or a call whose log ends
 * with its hangup (a state handshake shows a call that ended once more,
 * so that a client that was away learns how; the line is free) */
static gboolean
line_is_idle (const Line * line)
{
  JsonArray *logs;
  JsonNode *last;
  JsonObject *o;

  if (line->node == NULL || JSON_NODE_HOLDS_NULL (line->node))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (line->node))
    return FALSE;
  o = json_node_get_object (line->node);
  if (json_object_has_member (o, "state")
      || !json_object_has_member (o, "call_logs")
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "call_logs")))
    return FALSE;
  logs = json_object_get_array_member (o, "call_logs");
  if (json_array_get_length (logs) == 0)
    return FALSE;
  /* [timestamp_ms, message] */
  last = json_array_get_element (logs, json_array_get_length (logs) - 1);
  if (!JSON_NODE_HOLDS_ARRAY (last)
      || json_array_get_length (json_node_get_array (last)) < 2)
    return FALSE;
  last = json_array_get_element (json_node_get_array (last), 1);
  return JSON_NODE_HOLDS_OBJECT (last)
      && g_strcmp0 (json_object_get_string_member_with_default
      (json_node_get_object (last), "event", NULL), "hangup") == 0;
}

static void
line_set_call (Line * line, const gchar * call_id, const gchar * state)
{
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "call_id", call_id);
  json_object_set_string_member (object, "state", state);
  g_clear_pointer (&line->node, json_node_unref);
  line->node = json_node_init_object (json_node_alloc (), object);
  json_object_unref (object);
}

/* Session thread, before @msg is dispatched.
 * Returns: whether the server's view of the lines changed */
static gboolean
update_lines (WtspSession * self, WtspMessage * msg)
{
  gboolean changed = FALSE, stale = FALSE;
  guint dropped_claims = 0;
  Line *line;

  if (msg->kind == WTSP_MESSAGE_KIND_STATE) {
    JsonArray *array = json_object_get_array_member (msg->object, "lines");
    guint i, n = json_array_get_length (array);

    g_mutex_lock (&self->lines_lock);
    if (self->lines == NULL) {
      self->lines = g_array_new (FALSE, TRUE, sizeof (Line));
      g_array_set_clear_func (self->lines, (GDestroyNotify) line_clear);
    }
    for (i = n; i < self->lines->len; i++)
      if (g_array_index (self->lines, Line, i).owner)
        dropped_claims++;
    g_array_set_size (self->lines, n);
    for (i = 0; i < n; i++) {
      line = &g_array_index (self->lines, Line, i);
      g_clear_pointer (&line->node, json_node_unref);
      line->node = deep_copy (json_array_get_element (array, i));
    }
    g_mutex_unlock (&self->lines_lock);

    if (dropped_claims)
      GST_WARNING_OBJECT (self, "the account has %u lines now: %u claimed "
          "lines are gone", n, dropped_claims);
    return TRUE;
  }

  if (msg->kind != WTSP_MESSAGE_KIND_EVENT || msg->line < 0
      || msg->call_id == NULL || g_str_equal (msg->type, "missed_call"))
    return FALSE;

  g_mutex_lock (&self->lines_lock);
  if (self->lines && (guint) msg->line < self->lines->len) {
    line = &g_array_index (self->lines, Line, msg->line);
    if (g_str_equal (msg->type, "incoming_call")
        || g_str_equal (msg->type, "calling")) {
      line_set_call (line, msg->call_id, msg->type);
      changed = TRUE;
    } else if (g_strcmp0 (line_call_id (line), msg->call_id) != 0) {
      stale = TRUE;
    } else if (g_str_equal (msg->type, "hangup")) {
      g_clear_pointer (&line->node, json_node_unref);
      line->node = json_node_init_null (json_node_alloc ());
      changed = TRUE;
    } else {
      line_set_call (line, msg->call_id, msg->type);
      changed = TRUE;
    }
  }
  g_mutex_unlock (&self->lines_lock);

  if (stale)
    GST_DEBUG_OBJECT (self, "%s for call %s, which line %d does not show: "
        "the line is left as it is", msg->type, msg->call_id, msg->line);
  return changed;
}

static guint
line_claims (WtspSession * self, gint index)
{
  guint claims = 0;

  g_mutex_lock (&self->lines_lock);
  if (self->lines && index >= 0 && (guint) index < self->lines->len)
    claims = g_array_index (self->lines, Line, index).claims;
  g_mutex_unlock (&self->lines_lock);
  return claims;
}

/* An incoming call nobody claimed, waiting claim-timeout ms for a user
 * to take it (wtsp_session_take_waiting_call()) */
typedef struct
{
  WtspMessage *msg;
  guint claims;                 /* its line's claims when it came */
  GSource *timer;
} Waiting;

static void
waiting_free (Waiting * w)
{
  if (w->timer) {
    g_source_destroy (w->timer);
    g_source_unref (w->timer);
  }
  wtsp_message_unref (w->msg);
  g_free (w);
}

static void
decline_busy (WtspSession * self, WtspMessage * msg)
{
  JsonObject *request = wtsp_request_new ("decline", msg->line, msg->call_id);

  json_object_set_int_member (request, "code", 486);
  wtsp_session_send_request (self, request, NULL);
}

typedef struct
{
  WtspSession *self;            /* not a ref: stopping clears the waiting */
  gchar *call_id;
} WaitingKey;

static void
waiting_key_free (WaitingKey * k)
{
  g_free (k->call_id);
  g_free (k);
}

/* Removes the waiting call @call_id from the table. Returns: (transfer
 * full) (nullable): it, if it was there. Call with lines_lock held. */
static Waiting *
steal_waiting (WtspSession * self, const gchar * call_id)
{
  gpointer key = NULL, value = NULL;

  if (self->waiting == NULL || !g_hash_table_steal_extended (self->waiting,
          call_id, &key, &value))
    return NULL;
  g_free (key);
  return value;
}

/* Session thread: its claim-timeout is over; a call already taken is no
 * longer in the table */
static gboolean
on_waiting_over (gpointer user_data)
{
  WaitingKey *k = user_data;
  WtspSession *self = k->self;
  Waiting *w;

  g_mutex_lock (&self->lines_lock);
  w = steal_waiting (self, k->call_id);
  g_mutex_unlock (&self->lines_lock);
  if (w == NULL)
    return G_SOURCE_REMOVE;

  /* the source is running: let waiting_free() leave it be */
  g_clear_pointer (&w->timer, g_source_unref);
  if (line_claims (self, w->msg->line) == w->claims) {
    GST_INFO_OBJECT (self, "nobody took incoming call %s on line %d within "
        "%u ms: declining it with 486", k->call_id, w->msg->line,
        self->claim_timeout);
    decline_busy (self, w->msg);
  }
  waiting_free (w);
  return G_SOURCE_REMOVE;
}

/* After every "message" handler ran: an incoming call no user claimed a
 * line for is declined, as a phone with no free line would; with a
 * claim-timeout, once that is over and nobody took it meanwhile */
static void
decline_unclaimed (WtspSession * self, WtspMessage * msg, guint claims_before)
{
  gboolean decline;
  guint timeout;

  g_mutex_lock (&self->lines_lock);
  decline = self->decline_unclaimed;
  timeout = self->claim_timeout;
  g_mutex_unlock (&self->lines_lock);

  if (!decline || line_claims (self, msg->line) != claims_before)
    return;

  if (timeout > 0 && msg->call_id) {
    Waiting *w = g_new0 (Waiting, 1);
    WaitingKey *k = g_new0 (WaitingKey, 1);

    GST_INFO_OBJECT (self, "nobody took incoming call %s on line %d yet: "
        "it waits %u ms for a taker", msg->call_id, msg->line, timeout);
    k->self = self;
    k->call_id = g_strdup (msg->call_id);
    w->msg = wtsp_message_ref (msg);
    w->claims = claims_before;
    w->timer = g_timeout_source_new (timeout);
    g_source_set_callback (w->timer, on_waiting_over, k,
        (GDestroyNotify) waiting_key_free);
    g_mutex_lock (&self->lines_lock);
    if (self->waiting == NULL)
      self->waiting = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
          (GDestroyNotify) waiting_free);
    g_hash_table_replace (self->waiting, g_strdup (msg->call_id), w);
    g_mutex_unlock (&self->lines_lock);
    g_source_attach (w->timer, self->context);
    return;
  }

  GST_INFO_OBJECT (self, "nobody took incoming call %s on line %d: "
      "declining it with 486", msg->call_id, msg->line);
  decline_busy (self, msg);
}

/**
 * wtsp_session_dup_lines:
 *
 * The account's lines as the server last showed them: the `lines` array
 * of the last state handshake (`null` = idle; a busy line has `call_id`
 * and `call_logs`), kept current by call events (a line they changed
 * shows `call_id` and `state`, the last event; see the comment above
 * update_lines in wtspsession.c for which events count).
 *
 * Returns: (transfer full) (nullable): a deep copy, %NULL before the
 *     first handshake
 */
JsonArray *
wtsp_session_dup_lines (WtspSession * self)
{
  JsonArray *lines = NULL;
  guint i;

  g_return_val_if_fail (WTSP_IS_SESSION (self), NULL);

  g_mutex_lock (&self->lines_lock);
  if (self->lines) {
    lines = json_array_sized_new (self->lines->len);
    for (i = 0; i < self->lines->len; i++)
      json_array_add_element (lines,
          deep_copy (g_array_index (self->lines, Line, i).node));
  }
  g_mutex_unlock (&self->lines_lock);
  return lines;
}

/**
 * wtsp_session_get_n_lines:
 *
 * Returns: the number of lines of the account (the length of `lines` in
 *     the last handshake), 0 before the first
 */
guint
wtsp_session_get_n_lines (WtspSession * self)
{
  guint n;

  g_return_val_if_fail (WTSP_IS_SESSION (self), 0);

  g_mutex_lock (&self->lines_lock);
  n = self->lines ? self->lines->len : 0;
  g_mutex_unlock (&self->lines_lock);
  return n;
}

/**
 * wtsp_session_claim_line:
 * @line: a line number, or -1 for the first line the server shows idle
 *     and nobody claimed
 * @owner: who claims it (a call bin, say); not %NULL
 *
 * Claims a line for a call, so that users of one session never put two
 * calls on one line. A given @line is granted if nobody claimed it or
 * @owner already did, whatever the server shows on it (an incoming call
 * is on a line the server chose). May be called from any thread; to take
 * an incoming call, claim msg->line in the "message" handler itself: the
 * first claimer wins.
 *
 * Returns: the line claimed, -1 if none could be
 */
gint
wtsp_session_claim_line (WtspSession * self, gint line, gpointer owner)
{
  gint claimed = -1;
  guint i;

  g_return_val_if_fail (WTSP_IS_SESSION (self), -1);
  g_return_val_if_fail (owner != NULL, -1);
  g_return_val_if_fail (line >= -1, -1);

  g_mutex_lock (&self->lines_lock);
  if (self->lines == NULL) {
    /* no handshake yet: no line is known */
  } else if (line >= 0) {
    if ((guint) line < self->lines->len) {
      Line *l = &g_array_index (self->lines, Line, line);

      if (l->owner == NULL || l->owner == owner)
        claimed = line;
    }
  } else {
    for (i = 0; i < self->lines->len && claimed < 0; i++) {
      Line *l = &g_array_index (self->lines, Line, i);

      if (l->owner == NULL && line_is_idle (l))
        claimed = i;
    }
  }
  if (claimed >= 0) {
    Line *l = &g_array_index (self->lines, Line, claimed);

    l->owner = owner;
    l->claims++;
  }
  g_mutex_unlock (&self->lines_lock);

  GST_DEBUG_OBJECT (self, "line %d for %p: %s%d", line, owner,
      claimed >= 0 ? "claimed line " : "refused ", claimed);
  return claimed;
}

/**
 * wtsp_session_release_line:
 * @line: a line @owner claimed
 * @owner: who claimed it
 *
 * Lets go of a line; a line someone else claimed is left alone.
 */
void
wtsp_session_release_line (WtspSession * self, gint line, gpointer owner)
{
  gboolean released = FALSE;

  g_return_if_fail (WTSP_IS_SESSION (self));

  g_mutex_lock (&self->lines_lock);
  if (self->lines && line >= 0 && (guint) line < self->lines->len) {
    Line *l = &g_array_index (self->lines, Line, line);

    if (owner != NULL && l->owner == owner) {
      l->owner = NULL;
      released = TRUE;
    }
  }
  g_mutex_unlock (&self->lines_lock);

  if (released)
    GST_DEBUG_OBJECT (self, "line %d released by %p", line, owner);
}

/**
 * wtsp_session_get_line_owner:
 *
 * Returns: (transfer none) (nullable): who claimed @line, %NULL if nobody
 */
gpointer
wtsp_session_get_line_owner (WtspSession * self, gint line)
{
  gpointer owner = NULL;

  g_return_val_if_fail (WTSP_IS_SESSION (self), NULL);

  g_mutex_lock (&self->lines_lock);
  if (self->lines && line >= 0 && (guint) line < self->lines->len)
    owner = g_array_index (self->lines, Line, line).owner;
  g_mutex_unlock (&self->lines_lock);
  return owner;
}

/**
 * wtsp_session_set_decline_unclaimed:
 * @decline: whether to decline unclaimed incoming calls
 *
 * With @decline, an incoming_call on a line nobody claimed while its
 * "message" signal was emitted (all handlers, those connected after
 * included) is declined by the session with code 486, the way a phone
 * with no free line answers. Users that take calls (webrtccall) turn it
 * on; a plain observer (signalingsrc) leaves it off (the default), so
 * that the application decides. Calls on the guest line are left alone.
 */
void
wtsp_session_set_decline_unclaimed (WtspSession * self, gboolean decline)
{
  g_return_if_fail (WTSP_IS_SESSION (self));

  g_mutex_lock (&self->lines_lock);
  self->decline_unclaimed = decline;
  g_mutex_unlock (&self->lines_lock);
}

/**
 * wtsp_session_set_claim_timeout:
 * @ms: how long an unclaimed incoming call may wait for a taker
 *
 * With the session declining unclaimed calls, one that nobody claimed in
 * its "message" emission waits @ms for wtsp_session_take_waiting_call()
 * before it is declined (486); 0 declines it at once. Users set their
 * own: the longest counts. A waiting call whose caller hangs up is
 * dropped.
 */
void
wtsp_session_set_claim_timeout (WtspSession * self, guint ms)
{
  g_return_if_fail (WTSP_IS_SESSION (self));

  g_mutex_lock (&self->lines_lock);
  self->claim_timeout = MAX (self->claim_timeout, ms);
  g_mutex_unlock (&self->lines_lock);
}

/**
 * wtsp_session_get_claim_timeout:
 *
 * Returns: the claim timeout in ms (see wtsp_session_set_claim_timeout())
 */
guint
wtsp_session_get_claim_timeout (WtspSession * self)
{
  guint ms;

  g_return_val_if_fail (WTSP_IS_SESSION (self), 0);

  g_mutex_lock (&self->lines_lock);
  ms = self->claim_timeout;
  g_mutex_unlock (&self->lines_lock);
  return ms;
}

/**
 * wtsp_session_take_waiting_call:
 * @call_id: an incoming call that nobody claimed and that still waits
 * @owner: who takes it; not %NULL
 *
 * Takes a waiting incoming call (see wtsp_session_set_claim_timeout()):
 * its line is claimed for @owner, and it is no longer declined. Any
 * thread.
 *
 * Returns: (transfer full) (nullable): its incoming_call event; %NULL if
 *     no such call waits (declined, hung up, taken, or never came), or
 *     its line is claimed by someone else
 */
WtspMessage *
wtsp_session_take_waiting_call (WtspSession * self, const gchar * call_id,
    gpointer owner)
{
  WtspMessage *msg = NULL;
  Waiting *w;

  g_return_val_if_fail (WTSP_IS_SESSION (self), NULL);
  g_return_val_if_fail (call_id != NULL, NULL);
  g_return_val_if_fail (owner != NULL, NULL);

  g_mutex_lock (&self->lines_lock);
  w = self->waiting ? g_hash_table_lookup (self->waiting, call_id) : NULL;
  if (w && self->lines && (guint) w->msg->line < self->lines->len) {
    Line *l = &g_array_index (self->lines, Line, w->msg->line);

    if (l->owner == NULL || l->owner == owner) {
      l->owner = owner;
      l->claims++;
      w = steal_waiting (self, call_id);
      msg = wtsp_message_ref (w->msg);
    } else {
      w = NULL;
    }
  } else {
    w = NULL;
  }
  g_mutex_unlock (&self->lines_lock);

  if (w) {
    GST_INFO_OBJECT (self, "waiting incoming call %s taken on line %d",
        call_id, msg->line);
    waiting_free (w);
  } else {
    GST_INFO_OBJECT (self, "no incoming call %s waits to be taken", call_id);
  }
  return msg;
}

/* Session thread: the caller of a waiting call hung up; or stopping */
static void
drop_waiting (WtspSession * self, const gchar * call_id)
{
  Waiting *w;

  g_mutex_lock (&self->lines_lock);
  if (call_id) {
    w = steal_waiting (self, call_id);
  } else {
    w = NULL;
    g_clear_pointer (&self->waiting, g_hash_table_unref);
  }
  g_mutex_unlock (&self->lines_lock);
  if (w) {
    GST_INFO_OBJECT (self, "waiting incoming call %s ended before anyone "
        "took it", call_id);
    waiting_free (w);
  }
}

/* Receiving */

static void
update_registration (WtspSession * self, const gchar * status)
{
  gboolean changed;

  GST_OBJECT_LOCK (self);
  changed = g_strcmp0 (self->registration, status) != 0;
  if (changed) {
    g_free (self->registration);
    self->registration = g_strdup (status);
  }
  GST_OBJECT_UNLOCK (self);

  if (changed) {
    GST_INFO_OBJECT (self, "registration: %s", status);
    g_object_notify (G_OBJECT (self), "registration");
  }
}

static void
handle_state (WtspSession * self, WtspMessage * msg)
{
  JsonObject *reg = wtsp_message_get_object (msg, "registration");
  gint64 interval = wtsp_message_get_int (msg, "keepalive_interval", 0);
  gint64 used = CLAMP (interval, WTSP_KEEPALIVE_MIN_MS, WTSP_KEEPALIVE_MAX_MS);

  clear_timer (&self->handshake_timer);

  GST_OBJECT_LOCK (self);
  if (self->state_message)
    wtsp_message_unref (self->state_message);
  self->state_message = wtsp_message_ref (msg);
  self->keepalive_interval = (guint) used;
  GST_OBJECT_UNLOCK (self);

  /* A server's figure we cannot follow: 0 or 10^12 would turn keepalives
   * off, 1 ms would flood it */
  if (used != interval)
    emit_warning (self, WTSP_SESSION_ERROR_MALFORMED, NULL,
        "The server's keepalive_interval %" G_GINT64_FORMAT " ms is out of "
        "range (%d ms to %d ms): using %" G_GINT64_FORMAT " ms", interval,
        WTSP_KEEPALIVE_MIN_MS, WTSP_KEEPALIVE_MAX_MS, used);

  GST_INFO_OBJECT (self, "handshake state: keepalive every %" G_GINT64_FORMAT
      " ms, %u lines", used,
      json_array_get_length (json_object_get_array_member (msg->object,
              "lines")));

  g_object_notify (G_OBJECT (self), "keepalive-interval");
  if (reg)
    update_registration (self, json_object_get_string_member (reg, "status"));

  self->attempt = 0;
  self->established = TRUE;
}

static void
handle_event (WtspSession * self, WtspMessage * msg)
{
  static const gchar *registration_events[] = {
    "registering", "registered", "registration_failed", "unregistering",
    "unregistered"
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (registration_events); i++)
    if (g_str_equal (msg->type, registration_events[i]))
      update_registration (self, msg->type);
}

static void
on_message (SoupWebsocketConnection * conn, gint type, GBytes * bytes,
    gpointer user_data)
{
  WtspSession *self = user_data;
  gsize size;
  const gchar *data = g_bytes_get_data (bytes, &size);
  GError *error = NULL;
  WtspMessage *msg;
  gboolean lines_changed, incoming;
  guint claims = 0;

  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    emit_warning (self, WTSP_SESSION_ERROR_MALFORMED, NULL,
        "Dropped a binary message of %" G_GSIZE_FORMAT " bytes from the "
        "signaling server (WTSP uses text messages only)", size);
    return;
  }

  msg = wtsp_message_parse (data, size, &error);
  if (msg == NULL) {
    gchar *excerpt = g_strndup (data, MIN (size, 256));

    emit_warning (self, WTSP_SESSION_ERROR_MALFORMED, excerpt,
        "Dropped a malformed message from the signaling server: %s",
        error->message);
    g_free (excerpt);
    g_clear_error (&error);
    return;
  }

  GST_LOG_OBJECT (self, "< %.*s", (gint) MIN (size, 4096), data);

  if (self->handshake_timer && msg->kind != WTSP_MESSAGE_KIND_STATE)
    GST_WARNING_OBJECT (self, "%s \"%s\" before the state handshake",
        wtsp_message_kind_to_string (msg->kind), msg->type);

  switch (msg->kind) {
    case WTSP_MESSAGE_KIND_STATE:
      handle_state (self, msg);
      break;
    case WTSP_MESSAGE_KIND_KEEPALIVE:
      if (!wtsp_transactions_complete (self->transactions, msg))
        GST_DEBUG_OBJECT (self, "keepalive %s from the server ignored: only "
            "the client starts keepalives", GST_STR_NULL (msg->transaction));
      wtsp_message_unref (msg);
      return;                   /* link plumbing: not passed on */
    case WTSP_MESSAGE_KIND_RESPONSE:
      wtsp_transactions_complete (self->transactions, msg);
      break;
    case WTSP_MESSAGE_KIND_EVENT:
      handle_event (self, msg);
      break;
    case WTSP_MESSAGE_KIND_REQUEST:
      GST_WARNING_OBJECT (self, "the server sent a request (\"%s\"); "
          "passed on", msg->type);
      break;
  }

  lines_changed = update_lines (self, msg);
  if (msg->call_id && wtsp_message_is_event (msg, "hangup"))
    drop_waiting (self, msg->call_id);
  incoming = wtsp_message_is_event (msg, "incoming_call") && msg->line >= 0;
  if (incoming)
    claims = line_claims (self, msg->line);

  g_signal_emit (self, signals[SIGNAL_MESSAGE], 0, msg);

  if (lines_changed)
    g_signal_emit (self, signals[SIGNAL_LINES_CHANGED], 0);
  if (incoming)
    decline_unclaimed (self, msg, claims);

  /* Only now: whoever listens has seen the lines before requests flow */
  if (msg->kind == WTSP_MESSAGE_KIND_STATE && !self->stopping
      && self->conn != NULL) {
    set_state (self, WTSP_SESSION_STATE_READY, NULL);
    flush_queued (self);
  }
  wtsp_message_unref (msg);
}

static void
on_socket_error (SoupWebsocketConnection * conn, GError * error,
    gpointer user_data)
{
  WtspSession *self = user_data;

  GST_WARNING_OBJECT (self, "WebSocket error: %s", error->message);
  g_free (self->last_socket_error);
  self->last_socket_error = g_strdup (error->message);
}

static gboolean
maybe_quit (WtspSession * self)
{
  if (!self->stopping || self->conn || self->connect_msg)
    return FALSE;
  g_main_loop_quit (self->loop);
  return TRUE;
}

static void
on_closed (SoupWebsocketConnection * conn, gpointer user_data)
{
  WtspSession *self = user_data;
  gushort code = soup_websocket_connection_get_close_code (conn);
  const gchar *reason = soup_websocket_connection_get_close_data (conn);
  GstStructure *details;
  gchar *cause;

  g_signal_handlers_disconnect_by_data (conn, self);
  g_clear_object (&self->conn);

  if (self->stopping) {
    maybe_quit (self);
    return;
  }

  if (code == 0)
    code = SOUP_WEBSOCKET_CLOSE_ABNORMAL;

  details = gst_structure_new ("wtsp-error",
      "close-code", G_TYPE_UINT, (guint) code,
      "close-reason", G_TYPE_STRING, reason ? reason : "", NULL);

  if (code == SOUP_WEBSOCKET_CLOSE_ABNORMAL)
    cause = g_strdup_printf ("connection lost%s%s",
        self->last_socket_error ? ": " : "",
        self->last_socket_error ? self->last_socket_error : "");
  else
    cause = g_strdup_printf ("closed with code %u, %s%s%s%s%s", code,
        wtsp_close_code_describe (code),
        reason && *reason ? ", reason \"" : "", reason ? reason : "",
        reason && *reason ? "\"" : "",
        self->last_socket_error ? " (" : "");
  if (code != SOUP_WEBSOCKET_CLOSE_ABNORMAL && self->last_socket_error) {
    gchar *full = g_strdup_printf ("%s%s)", cause, self->last_socket_error);
    g_free (cause);
    cause = full;
  }
  g_clear_pointer (&self->last_socket_error, g_free);

  if (!wtsp_close_code_is_transient (code)) {
    fail (self, WTSP_SESSION_ERROR_CLOSED, details,
        "The signaling server closed the session for good: %s", cause);
  } else if (code == 4431 && !self->established) {
    fail (self, WTSP_SESSION_ERROR_CLOSED, details,
        "The signaling server refused the connection: another connection "
        "holds this session (close code 4431). Set force=true to take "
        "it over.");
  } else {
    link_lost (self, cause, details);
  }
  g_free (cause);
}

static gboolean
on_handshake_timeout (gpointer user_data)
{
  WtspSession *self = user_data;
  gchar *cause;

  g_source_unref (self->handshake_timer);
  self->handshake_timer = NULL;

  cause = g_strdup_printf ("no handshake \"state\" from the server within "
      "%u ms", self->handshake_timeout);
  /* A connect still under way is cancelled; on_connected then sees it */
  if (self->connect_msg) {
    g_cancellable_cancel (self->cancellable);
    g_clear_object (&self->cancellable);
    self->cancellable = g_cancellable_new ();
    g_clear_object (&self->connect_msg);
  }
  if (!self->established)
    fail (self, WTSP_SESSION_ERROR_HANDSHAKE, NULL,
        "The signaling server at %s did not complete the handshake: %s",
        self->redacted_uri, cause);
  else
    link_lost (self, cause, NULL);
  g_free (cause);
  return G_SOURCE_REMOVE;
}

static gboolean
accept_any_certificate (SoupMessage * msg, GTlsCertificate * cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  GST_WARNING_OBJECT (user_data, "accepting a TLS certificate with errors "
      "0x%x because tls-validation is disabled", errors);
  return TRUE;
}

static void
connect_attempt (WtspSession * self)
{
  const gchar *protocols[] = { WTSP_SUBPROTOCOL, NULL };
  gboolean force, tls_validation;
  gchar *token;
  GUri *uri;

  GST_OBJECT_LOCK (self);
  token = g_strdup (self->login_token);
  /* Re-attaching our own session after a drop: the server may still hold
   * the dead socket and refuse a force=false attach (protocol.md §9) */
  force = self->force || (self->established && self->reconnect_force);
  tls_validation = self->tls_validation;
  GST_OBJECT_UNLOCK (self);

  uri = build_connect_uri (self->base_uri, token, force);
  clear_secret (&token);

  GST_INFO_OBJECT (self, "connecting to %s (force=%s, attempt %u)",
      self->redacted_uri, force ? "true" : "false", self->attempt);
  set_state (self, WTSP_SESSION_STATE_CONNECTING, NULL);

  self->connect_msg = soup_message_new_from_uri (SOUP_METHOD_GET, uri);
  g_uri_unref (uri);
  if (!tls_validation)
    g_signal_connect (self->connect_msg, "accept-certificate",
        G_CALLBACK (accept_any_certificate), self);

  self->handshake_timer = add_timer (self, self->handshake_timeout,
      on_handshake_timeout);
  soup_session_websocket_connect_async (self->soup, self->connect_msg, NULL,
      (gchar **) protocols, G_PRIORITY_DEFAULT, self->cancellable,
      on_connected, gst_object_ref (self));
}

static void
on_connected (GObject * source, GAsyncResult * res, gpointer user_data)
{
  WtspSession *self = user_data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION
      (source), res);
  SoupWebsocketConnection *conn;
  GError *error = NULL;
  guint status;
  gchar *cause;

  conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), res,
      &error);
  status = msg ? soup_message_get_status (msg) : 0;

  /* Superseded: stopped, or timed out and already handled */
  if (msg != self->connect_msg || self->stopping) {
    g_clear_object (&conn);
    g_clear_error (&error);
    if (msg == self->connect_msg)
      g_clear_object (&self->connect_msg);
    maybe_quit (self);
    gst_object_unref (self);
    return;
  }
  g_clear_object (&self->connect_msg);

  if (conn == NULL) {
    /* http-status only if the server answered at all: a refused or
     * dropped TCP connection, or a failed TLS handshake, has none */
    GstStructure *details = gst_structure_new_empty ("wtsp-error");

    if (status != SOUP_STATUS_NONE)
      gst_structure_set (details, "http-status", G_TYPE_UINT, status, NULL);

    if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN) {
      fail (self, WTSP_SESSION_ERROR_AUTH, details,
          "The signaling server refused the token (HTTP %u %s)", status,
          soup_status_get_phrase (status));
    } else if (error->domain == G_TLS_ERROR) {
      fail (self, WTSP_SESSION_ERROR_TLS, details,
          "TLS with the signaling server at %s failed: %s (set ca-file to "
          "trust its certificate authority, or tls-validation=false for "
          "tests)", self->redacted_uri, error->message);
    } else if (status >= 300 && status < 500 && !self->established) {
      fail (self, WTSP_SESSION_ERROR_CONNECT, details,
          "The signaling server at %s answered HTTP %u %s instead of "
          "opening a WebSocket: %s", self->redacted_uri, status,
          soup_status_get_phrase (status), error->message);
    } else {
      cause = g_strdup (error->message);
      link_lost (self, cause, details);
      g_free (cause);
    }
    g_clear_error (&error);
    gst_object_unref (self);
    return;
  }

  GST_INFO_OBJECT (self, "WebSocket open, sub-protocol %s; waiting for the "
      "state handshake", soup_websocket_connection_get_protocol (conn));
  self->conn = conn;
  soup_websocket_connection_set_max_incoming_payload_size (conn,
      self->max_message_size);
  g_signal_connect (conn, "message", G_CALLBACK (on_message), self);
  g_signal_connect (conn, "closed", G_CALLBACK (on_closed), self);
  g_signal_connect (conn, "error", G_CALLBACK (on_socket_error), self);
  set_state (self, WTSP_SESSION_STATE_HANDSHAKE, NULL);
  gst_object_unref (self);
}

/* Requests */

typedef struct
{
  WtspSession *self;
  JsonObject *request;
  GstPromise *promise;
  gboolean handled;
} RequestData;

static void
request_data_free (RequestData * d)
{
  /* Its source never ran: the session stopped first */
  if (!d->handled)
    wtsp_promise_reply_failure (d->promise,
        json_object_get_string_member_with_default (d->request, "request",
            NULL), WTSP_RESULT_DISCONNECTED, "the signaling session stopped");
  gst_object_unref (d->self);
  json_object_unref (d->request);
  if (d->promise)
    gst_promise_unref (d->promise);
  g_free (d);
}

static gboolean
do_send_request (gpointer user_data)
{
  RequestData *d = user_data;
  WtspSession *self = d->self;
  WtspMessage *check;
  GError *error = NULL;
  WtspSessionState state;
  const gchar *type;
  gchar *id;
  guint timeout;

  d->handled = TRUE;
  type = json_object_get_string_member_with_default (d->request, "request",
      "(not a request)");

  /* Check what the caller built before it goes out: a placeholder
   * transaction, since begin() assigns the real one */
  json_object_set_string_member (d->request, "transaction", "transaction-0");
  check = wtsp_message_new_from_object (d->request, &error);
  if (check && check->kind != WTSP_MESSAGE_KIND_REQUEST) {
    g_set_error (&error, WTSP_MESSAGE_ERROR,
        WTSP_MESSAGE_ERROR_UNKNOWN_KIND,
        "only requests can be sent, not a %s",
        wtsp_message_kind_to_string (check->kind));
  }
  g_clear_pointer (&check, wtsp_message_unref);
  if (error) {
    emit_warning (self, WTSP_SESSION_ERROR_MALFORMED, NULL,
        "Refused to send an invalid request: %s", error->message);
    wtsp_promise_reply_failure (d->promise, type, WTSP_RESULT_INVALID,
        error->message);
    g_error_free (error);
    return G_SOURCE_REMOVE;
  }

  GST_OBJECT_LOCK (self);
  state = self->state;
  timeout = self->transaction_timeout;
  GST_OBJECT_UNLOCK (self);

  if (self->stopping || self->transactions == NULL
      || state == WTSP_SESSION_STATE_FAILED
      || state == WTSP_SESSION_STATE_STOPPED) {
    wtsp_promise_reply_failure (d->promise, type, WTSP_RESULT_DISCONNECTED,
        "the signaling session is not running");
    return G_SOURCE_REMOVE;
  }

  if (state != WTSP_SESSION_STATE_READY
      && self->queued.length >= MAX_QUEUED_REQUESTS) {
    emit_warning (self, WTSP_SESSION_ERROR_LINK, NULL,
        "Refused a %s request: %u requests already wait for the "
        "connection", type, MAX_QUEUED_REQUESTS);
    wtsp_promise_reply_failure (d->promise, type, WTSP_RESULT_DISCONNECTED,
        "too many requests wait for the connection");
    return G_SOURCE_REMOVE;
  }

  id = wtsp_transactions_begin (self->transactions, d->request, d->promise,
      timeout);
  if (state == WTSP_SESSION_STATE_READY) {
    GST_DEBUG_OBJECT (self, "%s %s", type, id);
    send_transaction (self, id, d->request);
    restart_keepalive_timer (self);
    g_free (id);
  } else {
    QueuedRequest *q = g_new0 (QueuedRequest, 1);

    GST_DEBUG_OBJECT (self, "%s %s waits for the handshake", type, id);
    q->transaction = id;
    q->request = json_object_ref (d->request);
    g_queue_push_tail (&self->queued, q);
  }
  return G_SOURCE_REMOVE;
}

/**
 * wtsp_session_send_request:
 * @request: (transfer full): a request without "transaction"
 * @promise: (nullable) (transfer none): replied to with a "wtsp-reply"
 *     structure (see wtsptransactions.h), always, exactly once
 *
 * Sends @request once the handshake is done (requests made before wait,
 * their timeout running). May be called from any thread.
 */
void
wtsp_session_send_request (WtspSession * session, JsonObject * request,
    GstPromise * promise)
{
  RequestData *d;

  g_return_if_fail (WTSP_IS_SESSION (session));
  g_return_if_fail (request != NULL);

  d = g_new0 (RequestData, 1);
  d->self = gst_object_ref (session);
  d->request = request;
  d->promise = promise ? gst_promise_ref (promise) : NULL;
  /* If the session is not running, request_data_free replies */
  wtsp_session_invoke (session, do_send_request, d,
      (GDestroyNotify) request_data_free);
}

/* Thread */

static gpointer
session_thread (gpointer user_data)
{
  WtspSession *self = user_data;

  g_main_context_push_thread_default (self->context);

  self->soup = soup_session_new_with_options ("user-agent",
      "gst-wtsp/" VERSION, "timeout", (self->handshake_timeout + 999) / 1000,
      NULL);
  if (self->tls_database)
    soup_session_set_tls_database (self->soup, self->tls_database);
  self->cancellable = g_cancellable_new ();
  self->transactions = wtsp_transactions_new (self->context,
      GST_OBJECT (self));

  connect_attempt (self);
  g_main_loop_run (self->loop);

  /* Everything libsoup made is released on the thread that made it */
  clear_timer (&self->handshake_timer);
  clear_timer (&self->keepalive_timer);
  clear_timer (&self->reconnect_timer);
  clear_timer (&self->stop_timer);
  release_connection (self);
  fail_queued (self, WTSP_RESULT_DISCONNECTED,
      "the signaling session was stopped");
  g_clear_pointer (&self->transactions, wtsp_transactions_free);
  g_clear_object (&self->connect_msg);
  g_clear_object (&self->cancellable);
  soup_session_abort (self->soup);
  g_clear_object (&self->soup);

  /* Let cancelled operations run their callbacks and drop their refs */
  while (g_main_context_iteration (self->context, FALSE));

  g_main_context_pop_thread_default (self->context);
  return NULL;
}

/* The location, checked: a GUri we can connect to, or an error that
 * names the problem and shows the location (token redacted) */
static GUri *
parse_location (const gchar * location, GError ** error)
{
  GError *err = NULL;
  const gchar *scheme, *host;
  gchar *shown;
  GUri *uri;

  if (location == NULL || *location == '\0') {
    g_set_error_literal (error, WTSP_SESSION_ERROR,
        WTSP_SESSION_ERROR_SETTINGS, "No location set (the signaling "
        "server's URL, e.g. wss://host/signaling/v1)");
    return NULL;
  }
  uri = g_uri_parse (location, G_URI_FLAGS_ENCODED, &err);
  if (uri == NULL) {
    /* GLib's message quotes the location, and so a token in it */
    g_set_error (error, WTSP_SESSION_ERROR, WTSP_SESSION_ERROR_SETTINGS,
        "The location is not a valid URL (%s)",
        err->domain == G_URI_ERROR ? "see the URI syntax" : "unknown error");
    g_clear_error (&err);
    return NULL;
  }
  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "ws") && g_ascii_strcasecmp (scheme, "wss")) {
    g_set_error (error, WTSP_SESSION_ERROR, WTSP_SESSION_ERROR_SETTINGS,
        "The location must be a ws:// or wss:// URL, not %s://", scheme);
    g_uri_unref (uri);
    return NULL;
  }
  /* libsoup would only complain with a critical, and we would report
   * a missing handshake seconds later */
  host = g_uri_get_host (uri);
  if (host == NULL || *host == '\0') {
    shown = wtsp_redact_uri (location);
    g_set_error (error, WTSP_SESSION_ERROR, WTSP_SESSION_ERROR_SETTINGS,
        "The location %s has no host (expected ws[s]://HOST[:PORT]"
        "/signaling/v1)", shown);
    g_free (shown);
    g_uri_unref (uri);
    return NULL;
  }
  return uri;
}

/**
 * wtsp_session_start:
 *
 * Checks the settings and starts connecting, on the session's thread.
 * Settings that cannot work fail here, at once, with an error naming the
 * problem: no or no usable location (not ws:// or wss://, no host), no
 * token, an unreadable token or CA file, reconnect-delay-min above
 * reconnect-delay-max.
 *
 * Returns: %FALSE with @error set if the settings cannot work
 */
gboolean
wtsp_session_start (WtspSession * self, GError ** error)
{
  GError *err = NULL;
  GUri *uri;
  gchar *location, *ca_file, *token, *token_file;
  guint delay_min, delay_max;

  g_return_val_if_fail (WTSP_IS_SESSION (self), FALSE);
  g_return_val_if_fail (self->thread == NULL, FALSE);

  GST_OBJECT_LOCK (self);
  location = g_strdup (self->location);
  token = g_strdup (self->token);
  token_file = g_strdup (self->token_file);
  ca_file = g_strdup (self->ca_file);
  delay_min = self->reconnect_delay_min;
  delay_max = self->reconnect_delay_max;
  GST_OBJECT_UNLOCK (self);

  uri = parse_location (location, error);
  g_free (location);
  if (uri == NULL)
    goto failed;

  if (delay_min > delay_max) {
    g_set_error (error, WTSP_SESSION_ERROR, WTSP_SESSION_ERROR_SETTINGS,
        "reconnect-delay-min (%u ms) is larger than reconnect-delay-max "
        "(%u ms)", delay_min, delay_max);
    goto failed;
  }

  /* token, else token-file, else a token in the location's query; a
   * token file that cannot be read is an error even beside a token */
  if (token_file) {
    gchar *from_file = NULL;

    if (!g_file_get_contents (token_file, &from_file, NULL, &err)) {
      g_set_error (error, WTSP_SESSION_ERROR, WTSP_SESSION_ERROR_SETTINGS,
          "Could not read the token file: %s", err->message);
      g_clear_error (&err);
      goto failed;
    }
    g_strstrip (from_file);
    if (token == NULL || *token == '\0') {
      clear_secret (&token);
      token = from_file;
    } else {
      clear_secret (&from_file);
    }
  }
  if (token == NULL || *token == '\0') {
    clear_secret (&token);
    token = token_from_uri (uri);
  }
  if (token == NULL || *token == '\0') {
    g_set_error_literal (error, WTSP_SESSION_ERROR,
        WTSP_SESSION_ERROR_SETTINGS, "No token set (the session token "
        "the signaling server gave this account)");
    goto failed;
  }

  g_clear_object (&self->tls_database);
  if (ca_file) {
    self->tls_database = g_tls_file_database_new (ca_file, &err);
    if (self->tls_database == NULL) {
      g_set_error (error, WTSP_SESSION_ERROR, WTSP_SESSION_ERROR_SETTINGS,
          "Could not load the CA file %s: %s", ca_file, err->message);
      g_clear_error (&err);
      goto failed;
    }
  }
  g_free (ca_file);
  g_free (token_file);

  g_clear_pointer (&self->base_uri, g_uri_unref);
  self->base_uri = uri;
  g_free (self->redacted_uri);
  self->redacted_uri = redacted_connect_uri (self);

  self->stopping = FALSE;
  self->established = FALSE;
  self->attempt = 0;

  GST_OBJECT_LOCK (self);
  clear_secret (&self->login_token);
  self->login_token = token;
  g_clear_pointer (&self->state_message, wtsp_message_unref);
  self->keepalive_interval = 0;
  self->context = g_main_context_new ();
  GST_OBJECT_UNLOCK (self);
  self->loop = g_main_loop_new (self->context, FALSE);

  GST_INFO_OBJECT (self, "starting session with %s", self->redacted_uri);
  self->thread = g_thread_new ("wtspsession", session_thread, self);
  return TRUE;

failed:
  if (uri)
    g_uri_unref (uri);
  clear_secret (&token);
  g_free (token_file);
  g_free (ca_file);
  return FALSE;
}

static gboolean
on_stop_grace_over (gpointer user_data)
{
  WtspSession *self = user_data;

  GST_WARNING_OBJECT (self, "the server did not answer our close in %d ms",
      CLOSE_GRACE_MS);
  g_source_unref (self->stop_timer);
  self->stop_timer = NULL;
  g_main_loop_quit (self->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
do_stop (gpointer user_data)
{
  WtspSession *self = user_data;

  self->stopping = TRUE;
  g_cancellable_cancel (self->cancellable);
  clear_timer (&self->handshake_timer);
  clear_timer (&self->keepalive_timer);
  clear_timer (&self->reconnect_timer);
  drop_waiting (self, NULL);
  fail_queued (self, WTSP_RESULT_DISCONNECTED,
      "the signaling session was stopped");

  if (self->conn && soup_websocket_connection_get_state (self->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN) {
    soup_websocket_connection_close (self->conn, SOUP_WEBSOCKET_CLOSE_NORMAL,
        NULL);
  } else if (self->conn) {
    g_signal_handlers_disconnect_by_data (self->conn, self);
    g_clear_object (&self->conn);
  }
  if (!maybe_quit (self))
    self->stop_timer = add_timer (self, CLOSE_GRACE_MS, on_stop_grace_over);
  return G_SOURCE_REMOVE;
}

/**
 * wtsp_session_stop:
 *
 * Closes the WebSocket (code 1000), fails every pending transaction and
 * joins the session thread. Must not be called from a signal handler of
 * this session (they run on that thread).
 */
void
wtsp_session_stop (WtspSession * self)
{
  GMainContext *context;

  g_return_if_fail (WTSP_IS_SESSION (self));

  if (self->thread == NULL)
    return;
  g_return_if_fail (!wtsp_session_is_current_thread (self));

  g_main_context_invoke (self->context, do_stop, self);
  g_thread_join (self->thread);
  self->thread = NULL;

  GST_OBJECT_LOCK (self);
  context = self->context;
  self->context = NULL;
  GST_OBJECT_UNLOCK (self);

  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_main_context_unref (context);
  set_state (self, WTSP_SESSION_STATE_STOPPED, NULL);
}

/**
 * wtsp_session_invoke:
 * @func: run once on the session's thread
 * @notify: (nullable): frees @data, whether or not @func ran
 *
 * Lets users of a session (webrtccall) run their own work on the thread
 * that owns the WebSocket, so that all of a call's signaling happens in
 * one place, in order.
 *
 * Returns: %FALSE if the session is not running (@func will not run)
 */
gboolean
wtsp_session_invoke (WtspSession * self, GSourceFunc func, gpointer data,
    GDestroyNotify notify)
{
  GMainContext *context = NULL;
  GSource *source;

  GST_OBJECT_LOCK (self);
  if (self->context)
    context = g_main_context_ref (self->context);
  GST_OBJECT_UNLOCK (self);

  if (context == NULL) {
    if (notify)
      notify (data);
    return FALSE;
  }

  /* Always queued, even from the session thread itself: callers may hold
   * locks, and work runs in the order it was asked for */
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, notify);
  g_source_attach (source, context);
  g_source_unref (source);
  g_main_context_unref (context);
  return TRUE;
}

/**
 * wtsp_session_error_to_string:
 * @code: a #WtspSessionError
 *
 * Returns: the name of @code as the "error" field of the error details
 *     gives it: settings, connect, auth, tls, handshake, closed,
 *     reconnect, malformed, link
 */
const gchar *
wtsp_session_error_to_string (gint code)
{
  switch (code) {
    case WTSP_SESSION_ERROR_SETTINGS:
      return "settings";
    case WTSP_SESSION_ERROR_CONNECT:
      return "connect";
    case WTSP_SESSION_ERROR_AUTH:
      return "auth";
    case WTSP_SESSION_ERROR_TLS:
      return "tls";
    case WTSP_SESSION_ERROR_HANDSHAKE:
      return "handshake";
    case WTSP_SESSION_ERROR_CLOSED:
      return "closed";
    case WTSP_SESSION_ERROR_RECONNECT:
      return "reconnect";
    case WTSP_SESSION_ERROR_MALFORMED:
      return "malformed";
    case WTSP_SESSION_ERROR_LINK:
      return "link";
    default:
      return "unknown";
  }
}

/**
 * wtsp_session_post_error:
 * @element: the element the session works for
 * @error: from the session's "error" signal
 * @details: from the same signal
 *
 * Posts the session's failure as @element's error: RESOURCE NOT_AUTHORIZED
 * for a refused token, else RESOURCE OPEN_READ; the message is the
 * session's, the debug text the details as a string, and @details itself
 * is the message's details structure (gst_message_parse_error_details()),
 * as it is: the elements report session failures alike.
 */
void
wtsp_session_post_error (GstElement * element, const GError * error,
    const GstStructure * details)
{
  gint code = error->code == WTSP_SESSION_ERROR_AUTH ?
      GST_RESOURCE_ERROR_NOT_AUTHORIZED : GST_RESOURCE_ERROR_OPEN_READ;

  g_return_if_fail (GST_IS_ELEMENT (element));
  g_return_if_fail (error != NULL);

  /* What GST_ELEMENT_ERROR_WITH_DETAILS does, without wrapping @details
   * in a structure of its own */
  gst_element_message_full_with_details (element, GST_MESSAGE_ERROR,
      GST_RESOURCE_ERROR, code, g_strdup (error->message),
      details ? gst_structure_to_string (details) : NULL, __FILE__,
      GST_FUNCTION, __LINE__, details ? gst_structure_copy (details) : NULL);
}

/**
 * wtsp_session_get_identity:
 *
 * Returns: (transfer full): a digest of location, token and token-file:
 *     equal for sessions that would log in as the same account to the same
 *     server, and safe to keep or log (it does not reveal the token)
 */
gchar *
wtsp_session_get_identity (WtspSession * self)
{
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA256);
  gchar *id;

  GST_OBJECT_LOCK (self);
  g_checksum_update (sum, (const guchar *) (self->location ?
          self->location : ""), -1);
  g_checksum_update (sum, (const guchar *) "\n", 1);
  g_checksum_update (sum, (const guchar *) (self->token ? self->token : ""),
      -1);
  g_checksum_update (sum, (const guchar *) "\n", 1);
  g_checksum_update (sum, (const guchar *) (self->token_file ?
          self->token_file : ""), -1);
  GST_OBJECT_UNLOCK (self);

  id = g_strdup (g_checksum_get_string (sum));
  g_checksum_free (sum);
  return id;
}

gboolean
wtsp_session_is_current_thread (WtspSession * self)
{
  return self->thread != NULL && g_thread_self () == self->thread;
}

WtspSessionState
wtsp_session_get_state (WtspSession * self)
{
  WtspSessionState state;

  GST_OBJECT_LOCK (self);
  state = self->state;
  GST_OBJECT_UNLOCK (self);
  return state;
}

/**
 * wtsp_session_post_connection:
 * @element: who posts it
 * @state: the session's new state
 * @why: (nullable): what changed it, e.g. "the connection was lost"
 *
 * Posts the element message both elements post for a change of the
 * session's connection: `wtsp-connection` with `state` (string: the
 * #WtspSessionState nick: connecting, handshake, ready, reconnecting,
 * failed, stopped) and, if @why, `reason` (string).
 */
void
wtsp_session_post_connection (GstElement * element, WtspSessionState state,
    const gchar * why)
{
  GEnumClass *klass = g_type_class_ref (WTSP_TYPE_SESSION_STATE);
  GEnumValue *v = g_enum_get_value (klass, state);
  GstStructure *s = gst_structure_new ("wtsp-connection",
      "state", G_TYPE_STRING, v ? v->value_nick : "unknown", NULL);

  g_type_class_unref (klass);
  if (why)
    gst_structure_set (s, "reason", G_TYPE_STRING, why, NULL);
  gst_element_post_message (element,
      gst_message_new_element (GST_OBJECT (element), s));
}

/**
 * wtsp_session_get_state_message:
 *
 * Returns: (transfer full) (nullable): the last "state" handshake
 */
WtspMessage *
wtsp_session_get_state_message (WtspSession * self)
{
  WtspMessage *msg = NULL;

  GST_OBJECT_LOCK (self);
  if (self->state_message)
    msg = wtsp_message_ref (self->state_message);
  GST_OBJECT_UNLOCK (self);
  return msg;
}

WtspSession *
wtsp_session_new (void)
{
  return g_object_new (WTSP_TYPE_SESSION, NULL);
}

/* Settings */

static gchar *
dup_token (WtspSession * self)
{
  gchar *token;

  GST_OBJECT_LOCK (self);
  token = g_strdup (self->token);
  GST_OBJECT_UNLOCK (self);
  return token;
}

/**
 * wtsp_session_settings_equal:
 * @a: a session
 * @b: another one
 * @why: (out) (optional) (transfer full): set when they differ: "NAME
 *     differs", NAME the first setting that does (in the order
 *     wtsp_settings_install() installs them). It never shows a value, so
 *     never a token nor what a token file holds.
 *
 * Compares every setting (wtsp_settings_list()): sessions that are equal
 * here log in to the same server as the same account and behave alike,
 * so elements may share one. token-file is compared as a path.
 *
 * Returns: whether all settings are equal
 */
gboolean
wtsp_session_settings_equal (WtspSession * a, WtspSession * b, gchar ** why)
{
  const gchar *const *names = wtsp_settings_list ();
  GObjectClass *klass;
  guint i;

  g_return_val_if_fail (WTSP_IS_SESSION (a), FALSE);
  g_return_val_if_fail (WTSP_IS_SESSION (b), FALSE);

  if (why)
    *why = NULL;
  if (a == b)
    return TRUE;

  klass = G_OBJECT_GET_CLASS (a);
  for (i = 0; names[i]; i++) {
    GParamSpec *pspec = g_object_class_find_property (klass, names[i]);
    gboolean equal;

    if (!(pspec->flags & G_PARAM_READABLE)) {
      /* The token: write-only, compared here and never shown */
      gchar *ta = dup_token (a), *tb = dup_token (b);

      equal = g_strcmp0 (ta, tb) == 0;
      clear_secret (&ta);
      clear_secret (&tb);
    } else {
      GValue va = G_VALUE_INIT, vb = G_VALUE_INIT;

      g_value_init (&va, pspec->value_type);
      g_value_init (&vb, pspec->value_type);
      g_object_get_property (G_OBJECT (a), names[i], &va);
      g_object_get_property (G_OBJECT (b), names[i], &vb);
      equal = g_param_values_cmp (pspec, &va, &vb) == 0;
      g_value_unset (&va);
      g_value_unset (&vb);
    }
    if (!equal) {
      if (why)
        *why = g_strdup_printf ("%s differs", names[i]);
      return FALSE;
    }
  }
  return TRUE;
}

/**
 * wtsp_session_new_with_settings:
 * @settings: a session whose settings to copy
 *
 * Returns: (transfer full): a new, stopped session with every setting of
 *     @settings (token included), and nothing else of it
 */
WtspSession *
wtsp_session_new_with_settings (WtspSession * settings)
{
  const gchar *const *names = wtsp_settings_list ();
  WtspSession *self;
  guint i;

  g_return_val_if_fail (WTSP_IS_SESSION (settings), NULL);

  self = wtsp_session_new ();
  for (i = 0; names[i]; i++) {
    GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS
        (self), names[i]);
    GValue value = G_VALUE_INIT;

    if (!(pspec->flags & G_PARAM_READABLE)) {
      gchar *token = dup_token (settings);

      GST_OBJECT_LOCK (self);
      clear_secret (&self->token);
      self->token = token;
      GST_OBJECT_UNLOCK (self);
      continue;
    }
    g_value_init (&value, pspec->value_type);
    g_object_get_property (G_OBJECT (settings), names[i], &value);
    g_object_set_property (G_OBJECT (self), names[i], &value);
    g_value_unset (&value);
  }
  return self;
}

/* Sharing
 *
 * Elements of one pipeline (or of pipelines an application hands the
 * context to) that log in to the same server as the same account use one
 * session, one WebSocket: the server holds one connection per session.
 * The model is souphttpsrc's "gst.soup.session" context. The context
 * "wtsp.session" holds a "wtsp-sessions" structure:
 *
 *   sessions     GstValueArray of WtspSession: every session published
 *                so far, so that bins of several accounts can share too
 *   identities   GstValueArray of strings, in the same order:
 *                wtsp_session_get_identity() of each (a digest that does
 *                not reveal the token), for logs and applications
 *
 * It is not persistent: a pipeline that goes to NULL forgets it (all of
 * its users have stopped their sessions by then). */

static GstContext *
context_new (const GValue * sessions, const GValue * identities)
{
  GstContext *context = gst_context_new (WTSP_SESSION_CONTEXT_TYPE, FALSE);
  GstStructure *s = gst_context_writable_structure (context);

  gst_structure_set_name (s, "wtsp-sessions");
  gst_structure_set_value (s, "sessions", sessions);
  gst_structure_set_value (s, "identities", identities);
  return context;
}

/* A copy of @context (nullable) with @session added */
static GstContext *
context_add (GstContext * context, WtspSession * session)
{
  GValue sessions = G_VALUE_INIT, identities = G_VALUE_INIT;
  GValue item = G_VALUE_INIT;
  const GValue *old;
  GstContext *result;

  g_value_init (&sessions, GST_TYPE_ARRAY);
  g_value_init (&identities, GST_TYPE_ARRAY);
  if (context) {
    const GstStructure *s = gst_context_get_structure (context);

    old = gst_structure_get_value (s, "sessions");
    if (old && GST_VALUE_HOLDS_ARRAY (old))
      g_value_copy (old, &sessions);
    old = gst_structure_get_value (s, "identities");
    if (old && GST_VALUE_HOLDS_ARRAY (old))
      g_value_copy (old, &identities);
  }

  g_value_init (&item, WTSP_TYPE_SESSION);
  g_value_set_object (&item, session);
  gst_value_array_append_and_take_value (&sessions, &item);
  g_value_init (&item, G_TYPE_STRING);
  g_value_take_string (&item, wtsp_session_get_identity (session));
  gst_value_array_append_and_take_value (&identities, &item);

  result = context_new (&sessions, &identities);
  g_value_unset (&sessions);
  g_value_unset (&identities);
  return result;
}

/**
 * wtsp_session_context_find:
 * @context: (nullable): a "wtsp.session" context
 * @settings: the settings a user wants
 * @why: (out) (optional) (transfer full): when the context holds sessions
 *     but none with equal settings, why the closest one (same identity if
 *     any, else the first) does not fit
 *
 * Returns: (transfer full) (nullable): a session of @context whose
 *     settings equal @settings'
 */
WtspSession *
wtsp_session_context_find (GstContext * context, WtspSession * settings,
    gchar ** why)
{
  const GValue *sessions;
  gchar *identity, *first_why = NULL, *close_why = NULL;
  WtspSession *found = NULL;
  guint i;

  if (why)
    *why = NULL;
  if (context == NULL || g_strcmp0 (gst_context_get_context_type (context),
          WTSP_SESSION_CONTEXT_TYPE) != 0)
    return NULL;
  sessions = gst_structure_get_value (gst_context_get_structure (context),
      "sessions");
  if (sessions == NULL || !GST_VALUE_HOLDS_ARRAY (sessions))
    return NULL;

  identity = wtsp_session_get_identity (settings);
  for (i = 0; i < gst_value_array_get_size (sessions) && !found; i++) {
    const GValue *v = gst_value_array_get_value (sessions, i);
    WtspSession *candidate;
    gchar *differs = NULL, *other;

    if (!G_VALUE_HOLDS (v, WTSP_TYPE_SESSION))
      continue;
    candidate = g_value_get_object (v);
    if (wtsp_session_settings_equal (candidate, settings, &differs)) {
      found = gst_object_ref (candidate);
      break;
    }
    other = wtsp_session_get_identity (candidate);
    if (close_why == NULL && g_str_equal (other, identity))
      close_why = g_strdup (differs);
    if (first_why == NULL)
      first_why = g_strdup (differs);
    g_free (other);
    g_free (differs);
  }
  g_free (identity);

  if (!found && why)
    *why = close_why ? g_strdup (close_why) : g_strdup (first_why);
  g_free (close_why);
  g_free (first_why);
  return found;
}

static gboolean
pad_peer_query (const GValue * item, GValue * value, gpointer user_data)
{
  GstPad *pad = g_value_get_object (item);

  if (gst_pad_peer_query (pad, user_data)) {
    g_value_set_boolean (value, TRUE);
    return FALSE;
  }
  return TRUE;
}

static gboolean
run_query (GstElement * element, GstQuery * query, GstPadDirection direction)
{
  GstIterator *it = direction == GST_PAD_SRC ?
      gst_element_iterate_src_pads (element) :
      gst_element_iterate_sink_pads (element);
  GValue res = G_VALUE_INIT;
  gboolean found;

  g_value_init (&res, G_TYPE_BOOLEAN);
  while (gst_iterator_fold (it, pad_peer_query, &res, query) ==
      GST_ITERATOR_RESYNC)
    gst_iterator_resync (it);
  found = g_value_get_boolean (&res);
  g_value_unset (&res);
  gst_iterator_free (it);
  return found;
}

/* The usual order (GstContext docs): a context already set on @element,
 * else ask downstream, then upstream, then the bins above (NEED_CONTEXT:
 * a bin that has one sets it on @element before post returns) */
static GstContext *
find_context (GstElement * element)
{
  GstContext *context = gst_element_get_context (element,
      WTSP_SESSION_CONTEXT_TYPE);
  GstQuery *query;

  if (context)
    return context;

  query = gst_query_new_context (WTSP_SESSION_CONTEXT_TYPE);
  if (run_query (element, query, GST_PAD_SRC)
      || run_query (element, query, GST_PAD_SINK)) {
    gst_query_parse_context (query, &context);
    if (context) {
      GST_DEBUG_OBJECT (element, "a peer has the WTSP sessions");
      gst_element_set_context (element, context);
    }
  }
  gst_query_unref (query);

  if (context == NULL)
    gst_element_post_message (element,
        gst_message_new_need_context (GST_OBJECT (element),
            WTSP_SESSION_CONTEXT_TYPE));
  return gst_element_get_context (element, WTSP_SESSION_CONTEXT_TYPE);
}

/**
 * wtsp_session_acquire:
 * @element: the element that needs a session (a call bin, say), from its
 *     state change to PAUSED (it must chain up set_context)
 * @settings: a session holding the element's settings (its properties);
 *     it is never started here, nor published
 * @why: (out) (optional) (transfer full): set when sessions were there to
 *     share but none had equal settings: the first setting that differs
 *     (see wtsp_session_settings_equal()), for the element to log
 *
 * Finds the session to use through the "wtsp.session" context: the one
 * set on @element, else one a peer or a bin above has (query downstream,
 * upstream, then a NEED_CONTEXT message). A session in it whose settings
 * equal @settings' is shared. Otherwise a new session with @settings'
 * settings is made and published: set on @element and posted in a
 * HAVE_CONTEXT message, which the bins above keep and hand to the next
 * element that asks. The new session lists the sessions of the context
 * found before it, so that elements of several accounts share too.
 *
 * Then: connect to its signals, wtsp_session_use() it (the first user
 * starts it), and when done wtsp_session_unuse() it (the last one stops
 * it), disconnect and unref. Two elements acquiring at the same moment
 * may each publish a session; both work, one is not shared.
 *
 * Returns: (transfer full): the session to use
 */
WtspSession *
wtsp_session_acquire (GstElement * element, WtspSession * settings,
    gchar ** why)
{
  GstContext *context, *published;
  WtspSession *session;
  gchar *differs = NULL, *identity;

  g_return_val_if_fail (GST_IS_ELEMENT (element), NULL);
  g_return_val_if_fail (WTSP_IS_SESSION (settings), NULL);

  if (why)
    *why = NULL;

  context = find_context (element);
  session = wtsp_session_context_find (context, settings, &differs);
  if (session) {
    GST_DEBUG_OBJECT (element, "sharing the signaling session %"
        GST_PTR_FORMAT " (%u users so far)", session,
        wtsp_session_get_n_users (session));
    if (context)
      gst_context_unref (context);
    return session;
  }

  session = wtsp_session_new_with_settings (settings);
  identity = wtsp_session_get_identity (session);
  GST_DEBUG_OBJECT (element, "new signaling session %" GST_PTR_FORMAT
      " (identity %.12s)%s%s", session, identity,
      differs ? ", not shared: " : "", differs ? differs : "");
  g_free (identity);

  published = context_add (context, session);
  gst_element_set_context (element, published);
  gst_element_post_message (element,
      gst_message_new_have_context (GST_OBJECT (element), published));

  if (context)
    gst_context_unref (context);
  if (why)
    *why = differs;
  else
    g_free (differs);
  return session;
}

/**
 * wtsp_session_context_query:
 * @element: an element that acquired a session
 * @query: a query its pads got
 *
 * For an element's query handler: answers a "wtsp.session" context query
 * with the context @element has, so that peers find it.
 *
 * Returns: %TRUE if @query was answered
 */
gboolean
wtsp_session_context_query (GstElement * element, GstQuery * query)
{
  const gchar *type;
  GstContext *context;

  if (GST_QUERY_TYPE (query) != GST_QUERY_CONTEXT
      || !gst_query_parse_context_type (query, &type)
      || g_strcmp0 (type, WTSP_SESSION_CONTEXT_TYPE) != 0)
    return FALSE;
  context = gst_element_get_context (element, WTSP_SESSION_CONTEXT_TYPE);
  if (context == NULL)
    return FALSE;
  gst_query_set_context (query, context);
  gst_context_unref (context);
  return TRUE;
}

/**
 * wtsp_session_use:
 *
 * Counts a user of @session; the first one starts it.
 *
 * Returns: %FALSE with @error set if it had to start and could not (the
 *     user is not counted then)
 */
gboolean
wtsp_session_use (WtspSession * self, GError ** error)
{
  gboolean ok = TRUE;
  guint users;

  g_return_val_if_fail (WTSP_IS_SESSION (self), FALSE);

  g_mutex_lock (&self->use_lock);
  while (self->use_busy)
    g_cond_wait (&self->use_cond, &self->use_lock);
  if (self->users == 0) {
    self->use_busy = TRUE;
    g_mutex_unlock (&self->use_lock);
    ok = wtsp_session_start (self, error);
    g_mutex_lock (&self->use_lock);
    self->use_busy = FALSE;
    g_cond_broadcast (&self->use_cond);
  }
  if (ok)
    self->users++;
  users = self->users;
  g_mutex_unlock (&self->use_lock);

  GST_DEBUG_OBJECT (self, "%s (%u users)", ok ? "one more user" :
      "could not start", users);
  return ok;
}

/**
 * wtsp_session_unuse:
 *
 * One user less; the last one stops @session (wtsp_session_stop(), so
 * not from the session's own thread). Not from a handler of this
 * session's signals either.
 */
void
wtsp_session_unuse (WtspSession * self)
{
  guint users;

  g_return_if_fail (WTSP_IS_SESSION (self));

  g_mutex_lock (&self->use_lock);
  while (self->use_busy)
    g_cond_wait (&self->use_cond, &self->use_lock);
  g_warn_if_fail (self->users > 0);
  if (self->users > 0 && --self->users == 0) {
    self->use_busy = TRUE;
    g_mutex_unlock (&self->use_lock);
    wtsp_session_stop (self);
    g_mutex_lock (&self->use_lock);
    self->use_busy = FALSE;
    g_cond_broadcast (&self->use_cond);
  }
  users = self->users;
  g_mutex_unlock (&self->use_lock);

  GST_DEBUG_OBJECT (self, "one user less (%u left)", users);
}

/**
 * wtsp_session_get_n_users:
 *
 * Returns: how many users wtsp_session_use() counts now
 */
guint
wtsp_session_get_n_users (WtspSession * self)
{
  guint users;

  g_return_val_if_fail (WTSP_IS_SESSION (self), 0);

  g_mutex_lock (&self->use_lock);
  users = self->users;
  g_mutex_unlock (&self->use_lock);
  return users;
}

/* GObject */

static void
wtsp_session_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  WtspSession *self = WTSP_SESSION (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_free (self->location);
      self->location = g_value_dup_string (value);
      break;
    case PROP_TOKEN:
      clear_secret (&self->token);
      self->token = g_value_dup_string (value);
      break;
    case PROP_TOKEN_FILE:
      g_free (self->token_file);
      self->token_file = g_value_dup_string (value);
      break;
    case PROP_FORCE:
      self->force = g_value_get_boolean (value);
      break;
    case PROP_RECONNECT_FORCE:
      self->reconnect_force = g_value_get_boolean (value);
      break;
    case PROP_TLS_VALIDATION:
      self->tls_validation = g_value_get_boolean (value);
      break;
    case PROP_CA_FILE:
      g_free (self->ca_file);
      self->ca_file = g_value_dup_string (value);
      break;
    case PROP_TRANSACTION_TIMEOUT:
      self->transaction_timeout = g_value_get_uint (value);
      break;
    case PROP_HANDSHAKE_TIMEOUT:
      self->handshake_timeout = g_value_get_uint (value);
      break;
    case PROP_RECONNECT_DELAY_MIN:
      self->reconnect_delay_min = g_value_get_uint (value);
      break;
    case PROP_RECONNECT_DELAY_MAX:
      self->reconnect_delay_max = g_value_get_uint (value);
      break;
    case PROP_MAX_RECONNECT_ATTEMPTS:
      self->max_reconnect_attempts = g_value_get_int (value);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      self->max_message_size = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
wtsp_session_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  WtspSession *self = WTSP_SESSION (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string (value, self->location);
      break;
    case PROP_TOKEN_FILE:
      g_value_set_string (value, self->token_file);
      break;
    case PROP_FORCE:
      g_value_set_boolean (value, self->force);
      break;
    case PROP_RECONNECT_FORCE:
      g_value_set_boolean (value, self->reconnect_force);
      break;
    case PROP_TLS_VALIDATION:
      g_value_set_boolean (value, self->tls_validation);
      break;
    case PROP_CA_FILE:
      g_value_set_string (value, self->ca_file);
      break;
    case PROP_TRANSACTION_TIMEOUT:
      g_value_set_uint (value, self->transaction_timeout);
      break;
    case PROP_HANDSHAKE_TIMEOUT:
      g_value_set_uint (value, self->handshake_timeout);
      break;
    case PROP_RECONNECT_DELAY_MIN:
      g_value_set_uint (value, self->reconnect_delay_min);
      break;
    case PROP_RECONNECT_DELAY_MAX:
      g_value_set_uint (value, self->reconnect_delay_max);
      break;
    case PROP_MAX_RECONNECT_ATTEMPTS:
      g_value_set_int (value, self->max_reconnect_attempts);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      g_value_set_uint (value, self->max_message_size);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_REGISTRATION:
      g_value_set_string (value, self->registration);
      break;
    case PROP_KEEPALIVE_INTERVAL:
      g_value_set_uint (value, self->keepalive_interval);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
wtsp_session_dispose (GObject * object)
{
  WtspSession *self = WTSP_SESSION (object);

  if (self->users)
    GST_WARNING_OBJECT (self, "disposed with %u users: a user did not call "
        "wtsp_session_unuse()", self->users);
  wtsp_session_stop (self);
  G_OBJECT_CLASS (wtsp_session_parent_class)->dispose (object);
}

static void
wtsp_session_finalize (GObject * object)
{
  WtspSession *self = WTSP_SESSION (object);

  g_free (self->location);
  clear_secret (&self->token);
  clear_secret (&self->login_token);
  g_free (self->token_file);
  g_free (self->ca_file);
  g_free (self->registration);
  g_free (self->redacted_uri);
  g_free (self->last_socket_error);
  g_clear_pointer (&self->state_message, wtsp_message_unref);
  g_clear_pointer (&self->base_uri, g_uri_unref);
  g_clear_object (&self->tls_database);
  g_clear_pointer (&self->lines, g_array_unref);
  g_clear_pointer (&self->waiting, g_hash_table_unref);
  g_mutex_clear (&self->lines_lock);
  g_mutex_clear (&self->use_lock);
  g_cond_clear (&self->use_cond);

  G_OBJECT_CLASS (wtsp_session_parent_class)->finalize (object);
}

static void
wtsp_session_init (WtspSession * self)
{
  self->force = WTSP_DEFAULT_FORCE;
  self->reconnect_force = WTSP_DEFAULT_RECONNECT_FORCE;
  self->tls_validation = WTSP_DEFAULT_TLS_VALIDATION;
  self->transaction_timeout = WTSP_DEFAULT_TRANSACTION_TIMEOUT;
  self->handshake_timeout = WTSP_DEFAULT_HANDSHAKE_TIMEOUT;
  self->reconnect_delay_min = WTSP_DEFAULT_RECONNECT_DELAY_MIN;
  self->reconnect_delay_max = WTSP_DEFAULT_RECONNECT_DELAY_MAX;
  self->max_reconnect_attempts = WTSP_DEFAULT_MAX_RECONNECT_ATTEMPTS;
  self->max_message_size = WTSP_DEFAULT_MAX_MESSAGE_SIZE;
  self->state = WTSP_SESSION_STATE_STOPPED;
  g_queue_init (&self->queued);
  g_mutex_init (&self->lines_lock);
  g_mutex_init (&self->use_lock);
  g_cond_init (&self->use_cond);
}

/**
 * wtsp_session_install_properties:
 *
 * Deprecated: use wtsp_settings_install(), which returns the next free id
 * and marks the pspecs so that wtsp_settings_set_property() forwards them
 * without an id range. Kept for gstwebrtccall.c, which forwards the
 * WTSP_SESSION_N_SETTINGS ids from @first_id by name.
 */
void
wtsp_session_install_properties (GObjectClass * klass, guint first_id,
    gboolean with_state)
{
  wtsp_settings_install (klass, first_id, with_state);
}

static void
wtsp_session_class_init (WtspSessionClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->set_property = wtsp_session_set_property;
  gobject_class->get_property = wtsp_session_get_property;
  gobject_class->dispose = wtsp_session_dispose;
  gobject_class->finalize = wtsp_session_finalize;

  if (wtsp_settings_install (gobject_class, PROP_LOCATION, TRUE) !=
      PROP_KEEPALIVE_INTERVAL + 1)
    g_error ("wtspsettings.c and the PROP_ ids of wtspsession.c disagree");

  /**
   * WtspSession::message:
   * @msg: a valid message from the server (keepalive echoes excepted)
   */
  signals[SIGNAL_MESSAGE] = g_signal_new ("message", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
      WTSP_TYPE_MESSAGE | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * WtspSession::state-changed:
   * @old: the previous #WtspSessionState
   * @new: the new one
   * @why: (nullable): what caused it
   */
  signals[SIGNAL_STATE_CHANGED] = g_signal_new ("state-changed",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 3, WTSP_TYPE_SESSION_STATE, WTSP_TYPE_SESSION_STATE,
      G_TYPE_STRING);

  /**
   * WtspSession::warning:
   * @error: what went wrong (a dropped message, a lost link)
   * @debug: (nullable): detail for logs, e.g. an excerpt of the message
   *
   * The session goes on.
   */
  signals[SIGNAL_WARNING] = g_signal_new ("warning", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_ERROR,
      G_TYPE_STRING);

  /**
   * WtspSession::error:
   * @error: why the session gave up
   * @details: "wtsp-error" structure: error (string, which failure:
   *     see wtsp_session_error_to_string()), uri (string, token
   *     redacted), and where known close-code (uint), close-reason
   *     (string), http-status (uint, only if the server answered HTTP)
   */
  signals[SIGNAL_ERROR] = g_signal_new ("error", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_ERROR,
      GST_TYPE_STRUCTURE);

  /**
   * WtspSession::lines-changed:
   *
   * The server's view of the lines changed (wtsp_session_dup_lines()):
   * after a state handshake, or a call event, once the "message" signal
   * for it was emitted. Claims do not emit it.
   */
  signals[SIGNAL_LINES_CHANGED] = g_signal_new ("lines-changed",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 0);
}
