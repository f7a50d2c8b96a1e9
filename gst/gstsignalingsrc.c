/* GStreamer WTSP signaling source
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-signalingsrc
 * @title: signalingsrc
 *
 * signalingsrc holds a session with a call server that speaks the WebTrit
 * Signaling Protocol (WTSP): a WebSocket (sub-protocol `webtrit-protocol`)
 * to `location`, authenticated by `token`. It waits for the server's
 * `state` handshake, sends keepalives at the interval the server asks for,
 * and reconnects with exponential backoff when the link drops.
 *
 * Every message from the server (keepalive echoes excepted) is pushed
 * downstream as one buffer: the JSON text followed by a newline, caps
 * `application/x-wtsp`. So `signalingsrc ! filesink` writes a JSON-lines
 * log of the session.
 *
 * The same messages are posted on the bus as element messages named
 * `wtsp-message` with the fields `kind` (state, event, response,
 * request), `type` (the event or request type, ack/error, state), `line`
 * (int; -1 = the guest line), `call-id`, `transaction`, `code`,
 * `reason`, `caller`, `callee` (where the message has them) and `json`
 * (the whole message). Connection changes are posted as `wtsp-connection`
 * messages with `state` (connecting, handshake, ready, reconnecting,
 * failed, stopped) and `reason`.
 *
 * Requests are sent with the #GstSignalingSrc::request and
 * #GstSignalingSrc::request-structure action signals; the transaction id
 * is added for you, and the #GstPromise is always replied to with a
 * `wtsp-reply` structure: `result` (ack, error, timeout, disconnected,
 * invalid), `request`, `transaction`, `code` and `reason` (on error),
 * `response` (the server's answer as JSON).
 *
 * A token the server refuses (HTTP 401/403), a close the protocol calls
 * permanent (4441 replaced by a forced connection, 4302 unregistered, ...)
 * and a failed SIP registration are errors whose message names the cause.
 * A dropped link is a warning followed by a reconnect. The token is never
 * logged: URLs in messages and logs show `token=***`.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -m signalingsrc location=ws://127.0.0.1:8080/signaling/v1 token=alice ! fakesink
 * ]| Keeps a session registered and shows every server message on the bus.
 * |[
 * gst-launch-1.0 signalingsrc location=wss://core.example.com/tenant/acme/signaling/v1 token=$TOKEN ! filesink location=session.jsonl
 * ]| Logs a session to a JSON-lines file.
 *
 * Since: 0.1
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstsignalingsrc.h"
#include "wtspsession.h"
#include "wtspsettings.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_signaling_src_debug);
#define GST_CAT_DEFAULT gst_signaling_src_debug

#define DEFAULT_MAX_QUEUED 1000

enum
{
  PROP_0,
  PROP_MAX_QUEUED,
  PROP_LINES,
  /* then the session's settings and state: wtsp_settings_install() */
  PROP_SESSION_FIRST,
};

enum
{
  SIGNAL_REQUEST,
  SIGNAL_REQUEST_STRUCTURE,
  LAST_SIGNAL
};

static guint signals[LAST_SIGNAL];

struct _GstSignalingSrc
{
  GstBaseSrc parent;

  WtspSession *session;

  /* GST_OBJECT_LOCK */
  GQueue queue;                 /* GstBuffer waiting for create() */
  GCond queue_cond;
  gboolean flushing;
  gboolean failed;
  gboolean overflowing;
  guint max_queued;
};

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("application/x-wtsp"));

#define gst_signaling_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstSignalingSrc, gst_signaling_src, GST_TYPE_BASE_SRC,
    GST_DEBUG_CATEGORY_INIT (gst_signaling_src_debug, "signalingsrc", 0,
        "WTSP signaling source"));
GST_ELEMENT_REGISTER_DEFINE (signalingsrc, "signalingsrc", GST_RANK_NONE,
    GST_TYPE_SIGNALING_SRC);

/* Session callbacks: on the session's thread, no lock of ours held */

static void
enqueue (GstSignalingSrc * self, WtspMessage * msg)
{
  const gchar *text = wtsp_message_to_string (msg);
  gsize len = strlen (text);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, len + 1, NULL);
  gboolean dropped = FALSE, warn = FALSE;

  gst_buffer_fill (buf, 0, text, len);
  gst_buffer_memset (buf, len, '\n', 1);

  GST_OBJECT_LOCK (self);
  /* Downstream that does not keep up loses the oldest messages, never
   * the session: the bus still has them all */
  if (self->queue.length >= self->max_queued) {
    gst_buffer_unref (g_queue_pop_head (&self->queue));
    dropped = TRUE;
    warn = !self->overflowing;
    self->overflowing = TRUE;
  } else if (self->queue.length < self->max_queued / 2) {
    self->overflowing = FALSE;
  }
  g_queue_push_tail (&self->queue, buf);
  g_cond_signal (&self->queue_cond);
  GST_OBJECT_UNLOCK (self);

  if (warn)
    GST_ELEMENT_WARNING (self, STREAM, FAILED,
        ("Downstream does not keep up with the signaling messages: dropping "
            "the oldest (max-queued=%u)", self->max_queued), (NULL));
  else if (dropped)
    GST_DEBUG_OBJECT (self, "queue full, dropped the oldest message");
}

static void
check_registration (GstSignalingSrc * self, WtspMessage * msg)
{
  JsonObject *reg = NULL;
  gint64 code = 0;
  const gchar *reason = NULL;

  if (msg->kind == WTSP_MESSAGE_KIND_STATE) {
    reg = wtsp_message_get_object (msg, "registration");
    if (reg == NULL || g_strcmp0 (json_object_get_string_member (reg,
                "status"), "registration_failed"))
      return;
    code = json_object_get_int_member_with_default (reg, "code", 0);
    reason = json_object_get_string_member_with_default (reg, "reason", NULL);
  } else if (wtsp_message_is_event (msg, "registration_failed")) {
    code = msg->code;
    reason = msg->reason;
  } else {
    return;
  }

  GST_ELEMENT_ERROR (self, RESOURCE, NOT_AUTHORIZED,
      ("SIP registration failed: %" G_GINT64_FORMAT " %s", code,
          reason ? reason : "(no reason given)"),
      ("%s", wtsp_message_to_string (msg)));
}

static void
on_message (WtspSession * session, WtspMessage * msg, GstSignalingSrc * self)
{
  GstStructure *s;

  /* The session updated its lines before this: a bus handler reading
   * "lines" sees this message; notify::lines follows (on_lines_changed) */
  enqueue (self, msg);

  s = wtsp_message_to_structure (msg, "wtsp-message");
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));

  check_registration (self, msg);
}

static void
on_state_changed (WtspSession * session, WtspSessionState old,
    WtspSessionState state, const gchar * why, GstSignalingSrc * self)
{
  wtsp_session_post_connection (GST_ELEMENT (self), state, why);
  g_object_notify (G_OBJECT (self), "state");
}

static void
on_warning (WtspSession * session, GError * error, const gchar * debug,
    GstSignalingSrc * self)
{
  GST_ELEMENT_WARNING (self, RESOURCE, READ, ("%s", error->message),
      ("%s", debug ? debug : ""));
}

static void
on_error (WtspSession * session, GError * error, GstStructure * details,
    GstSignalingSrc * self)
{
  /* Ours first: create() returning an error makes basesrc post its own,
   * vaguer "Internal data stream error" */
  wtsp_session_post_error (GST_ELEMENT (self), error, details);

  GST_OBJECT_LOCK (self);
  self->failed = TRUE;
  g_cond_broadcast (&self->queue_cond);
  GST_OBJECT_UNLOCK (self);
}

static void
on_lines_changed (WtspSession * session, GstSignalingSrc * self)
{
  g_object_notify (G_OBJECT (self), "lines");
}

static void
on_registration (GObject * session, GParamSpec * pspec, GstSignalingSrc * self)
{
  g_object_notify (G_OBJECT (self), "registration");
}

/* Action signals */

static void
gst_signaling_src_request_structure (GstSignalingSrc * self,
    const GstStructure * s, GstPromise * promise)
{
  GError *error = NULL;
  JsonObject *request;

  request = wtsp_request_new_from_structure (s, &error);
  if (request == NULL) {
    GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
        ("Cannot send request %s: %s", gst_structure_get_name (s),
            error->message), (NULL));
    wtsp_promise_reply_failure (promise, gst_structure_get_name (s),
        WTSP_RESULT_INVALID, error->message);
    g_error_free (error);
    return;
  }
  wtsp_session_send_request (self->session, request, promise);
}

static void
gst_signaling_src_request (GstSignalingSrc * self, const gchar * json,
    GstPromise * promise)
{
  JsonNode *root;
  GError *error = NULL;

  root = json ? json_from_string (json, &error) : NULL;
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    const gchar *why = error ? error->message : "not a JSON object";

    GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
        ("Cannot send request: %s", why), ("%s", GST_STR_NULL (json)));
    wtsp_promise_reply_failure (promise, NULL, WTSP_RESULT_INVALID, why);
    g_clear_error (&error);
    if (root)
      json_node_unref (root);
    return;
  }
  wtsp_session_send_request (self->session,
      json_object_ref (json_node_get_object (root)), promise);
  json_node_unref (root);
}

/* GstBaseSrc */

static gboolean
gst_signaling_src_start (GstBaseSrc * src)
{
  GstSignalingSrc *self = GST_SIGNALING_SRC (src);
  GError *error = NULL;

  GST_OBJECT_LOCK (self);
  self->failed = FALSE;
  self->overflowing = FALSE;
  GST_OBJECT_UNLOCK (self);

  if (!wtsp_session_start (self->session, &error)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", error->message),
        (NULL));
    g_error_free (error);
    return FALSE;
  }
  return TRUE;
}

static gboolean
gst_signaling_src_stop (GstBaseSrc * src)
{
  GstSignalingSrc *self = GST_SIGNALING_SRC (src);

  wtsp_session_stop (self->session);

  GST_OBJECT_LOCK (self);
  g_queue_clear_full (&self->queue, (GDestroyNotify) gst_buffer_unref);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_signaling_src_unlock (GstBaseSrc * src)
{
  GstSignalingSrc *self = GST_SIGNALING_SRC (src);

  GST_OBJECT_LOCK (self);
  self->flushing = TRUE;
  g_cond_broadcast (&self->queue_cond);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_signaling_src_unlock_stop (GstBaseSrc * src)
{
  GstSignalingSrc *self = GST_SIGNALING_SRC (src);

  GST_OBJECT_LOCK (self);
  self->flushing = FALSE;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static GstFlowReturn
gst_signaling_src_create (GstBaseSrc * src, guint64 offset, guint size,
    GstBuffer ** buf)
{
  GstSignalingSrc *self = GST_SIGNALING_SRC (src);
  GstFlowReturn ret;

  GST_OBJECT_LOCK (self);
  while (self->queue.length == 0 && !self->flushing && !self->failed)
    g_cond_wait (&self->queue_cond, GST_OBJECT_GET_LOCK (self));

  if (self->queue.length > 0) {
    *buf = g_queue_pop_head (&self->queue);
    ret = GST_FLOW_OK;
  } else if (self->flushing) {
    ret = GST_FLOW_FLUSHING;
  } else {
    ret = GST_FLOW_ERROR;       /* the error is already posted */
  }
  GST_OBJECT_UNLOCK (self);
  return ret;
}

static gboolean
gst_signaling_src_is_seekable (GstBaseSrc * src)
{
  return FALSE;
}

/* GObject */

static void
gst_signaling_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstSignalingSrc *self = GST_SIGNALING_SRC (object);

  if (wtsp_settings_set_property (self->session, pspec, value))
    return;

  switch (prop_id) {
    case PROP_MAX_QUEUED:
      GST_OBJECT_LOCK (self);
      self->max_queued = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_signaling_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstSignalingSrc *self = GST_SIGNALING_SRC (object);

  if (wtsp_settings_get_property (self->session, pspec, value))
    return;

  switch (prop_id) {
    case PROP_MAX_QUEUED:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->max_queued);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_LINES:{
      JsonArray *lines = wtsp_session_dup_lines (self->session);
      JsonNode *node;

      if (lines == NULL) {
        g_value_set_string (value, NULL);
        break;
      }
      node = json_node_init_array (json_node_alloc (), lines);
      g_value_take_string (value, json_to_string (node, FALSE));
      json_node_unref (node);
      json_array_unref (lines);
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_signaling_src_dispose (GObject * object)
{
  GstSignalingSrc *self = GST_SIGNALING_SRC (object);

  if (self->session) {
    wtsp_session_stop (self->session);
    g_signal_handlers_disconnect_by_data (self->session, self);
    gst_clear_object (&self->session);
  }
  G_OBJECT_CLASS (parent_class)->dispose (object);
}

static void
gst_signaling_src_finalize (GObject * object)
{
  GstSignalingSrc *self = GST_SIGNALING_SRC (object);

  g_queue_clear_full (&self->queue, (GDestroyNotify) gst_buffer_unref);
  g_cond_clear (&self->queue_cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_signaling_src_init (GstSignalingSrc * self)
{
  g_queue_init (&self->queue);
  g_cond_init (&self->queue_cond);
  self->max_queued = DEFAULT_MAX_QUEUED;

  self->session = wtsp_session_new ();
  g_signal_connect (self->session, "message", G_CALLBACK (on_message), self);
  g_signal_connect (self->session, "state-changed",
      G_CALLBACK (on_state_changed), self);
  g_signal_connect (self->session, "warning", G_CALLBACK (on_warning), self);
  g_signal_connect (self->session, "error", G_CALLBACK (on_error), self);
  g_signal_connect (self->session, "notify::registration",
      G_CALLBACK (on_registration), self);
  g_signal_connect (self->session, "lines-changed",
      G_CALLBACK (on_lines_changed), self);

  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
  gst_base_src_set_do_timestamp (GST_BASE_SRC (self), TRUE);
}

static void
gst_signaling_src_class_init (GstSignalingSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);

  gobject_class->set_property = gst_signaling_src_set_property;
  gobject_class->get_property = gst_signaling_src_get_property;
  gobject_class->dispose = gst_signaling_src_dispose;
  gobject_class->finalize = gst_signaling_src_finalize;

  /**
   * GstSignalingSrc:max-queued:
   *
   * Messages kept for downstream; past it the oldest are dropped (with a
   * warning) so a stalled downstream never stalls the session.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_QUEUED,
      g_param_spec_uint ("max-queued", "Max queued",
          "Messages kept while downstream does not take them; the oldest "
          "are dropped past this", 1, G_MAXINT, DEFAULT_MAX_QUEUED,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstSignalingSrc:lines:
   *
   * The account's lines as a JSON array: from the last state handshake
   * (`null` = idle; a busy line has `call_id` and `call_logs`), kept
   * current by call events (a busy line then shows `call_id` and `state`,
   * the last event). The session keeps them (wtsp_session_dup_lines()):
   * incoming_call and calling put a call on a line, hangup ends it,
   * other events update the call the line shows; events for a call no
   * line shows (and missed_call) change nothing.
   */
  g_object_class_install_property (gobject_class, PROP_LINES,
      g_param_spec_string ("lines", "Lines",
          "The account's lines as a JSON array (null = idle), from the "
          "state handshake, updated by call events", NULL,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  wtsp_settings_install (gobject_class, PROP_SESSION_FIRST, TRUE);

  /**
   * GstSignalingSrc::request:
   * @src: the element
   * @json: a request as JSON text, without "transaction", e.g.
   *     `{"request":"hangup","line":0,"call_id":"abc"}`
   * @promise: (nullable): replied to with a `wtsp-reply` structure
   *
   * Sends a request once the session is ready.
   */
  signals[SIGNAL_REQUEST] = g_signal_new_class_handler ("request",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_signaling_src_request), NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, GST_TYPE_PROMISE);

  /**
   * GstSignalingSrc::request-structure:
   * @src: the element
   * @request: named after the request type, e.g.
   *     `hangup, line=(int)0, call-id=abc`; '-' in field names becomes
   *     '_', nested structures become objects, line=-1 is the guest line
   * @promise: (nullable): replied to with a `wtsp-reply` structure
   */
  signals[SIGNAL_REQUEST_STRUCTURE] =
      g_signal_new_class_handler ("request-structure",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_signaling_src_request_structure), NULL, NULL, NULL,
      G_TYPE_NONE, 2, GST_TYPE_STRUCTURE, GST_TYPE_PROMISE);

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "WTSP signaling source", "Source/Network",
      "Holds a WebTrit Signaling Protocol session and outputs the server's "
      "messages", "gst-wtsp developers");

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_signaling_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_signaling_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_signaling_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_signaling_src_unlock_stop);
  basesrc_class->create = GST_DEBUG_FUNCPTR (gst_signaling_src_create);
  basesrc_class->is_seekable = GST_DEBUG_FUNCPTR (gst_signaling_src_is_seekable);

  gst_type_mark_as_plugin_api (WTSP_TYPE_SESSION_STATE, 0);
}
