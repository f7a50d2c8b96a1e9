/* WtspSession as its users see it: the settings helper, sharing through
 * a GstContext, the line table and incoming-call arbitration, against
 * the real reference server.
 *
 * The users here are "wtsptestuser" bins defined below: the least an
 * element needs to share a session (the call bin will do the same).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/check/gstcheck.h>
#include "wtspsession.h"
#include "wtspsettings.h"
#include "wtsp-test-server.h"

#define WAIT_MS 5000

/* ------------------------------------------------------------------ */
/* A minimal session user: a bin with the signaling properties that
 * acquires a session from READY to PAUSED and leaves it from PAUSED to
 * READY */

#define TEST_TYPE_USER (test_user_get_type ())
G_DECLARE_FINAL_TYPE (TestUser, test_user, TEST, USER, GstBin);

struct _TestUser
{
  GstBin parent;

  WtspSession *settings;
  WtspSession *session;         /* from READY to PAUSED on */
  gchar *why;                   /* why it did not share, if it did not */
};

enum
{
  PROP_0,
  PROP_OWN,                     /* one of its own, before the settings */
  PROP_SETTINGS_FIRST,
};

static guint test_user_next_id;

G_DEFINE_TYPE (TestUser, test_user, GST_TYPE_BIN);

static void
test_user_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  TestUser *self = TEST_USER (object);

  if (wtsp_settings_set_property (self->settings, pspec, value))
    return;
  fail_unless_equals_int (prop_id, PROP_OWN);
}

static void
test_user_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  TestUser *self = TEST_USER (object);

  if (wtsp_settings_get_property (self->settings, pspec, value))
    return;
  fail_unless_equals_int (prop_id, PROP_OWN);
  g_value_set_int (value, 42);
}

static GstStateChangeReturn
test_user_change_state (GstElement * element, GstStateChange transition)
{
  TestUser *self = TEST_USER (element);
  GstStateChangeReturn ret;
  GError *error = NULL;

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    g_clear_pointer (&self->why, g_free);
    self->session = wtsp_session_acquire (element, self->settings, &self->why);
    fail_unless (self->session != NULL);
    if (self->why)
      GST_DEBUG_OBJECT (self, "not sharing: %s", self->why);
    if (!wtsp_session_use (self->session, &error)) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", error->message),
          (NULL));
      g_error_free (error);
      gst_clear_object (&self->session);
      return GST_STATE_CHANGE_FAILURE;
    }
  }

  ret = GST_ELEMENT_CLASS (test_user_parent_class)->change_state (element,
      transition);

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY && self->session) {
    wtsp_session_unuse (self->session);
    gst_clear_object (&self->session);
  }
  return ret;
}

static void
test_user_finalize (GObject * object)
{
  TestUser *self = TEST_USER (object);

  gst_object_unref (self->settings);
  g_free (self->why);
  G_OBJECT_CLASS (test_user_parent_class)->finalize (object);
}

static void
test_user_init (TestUser * self)
{
  self->settings = wtsp_session_new ();
}

static void
test_user_class_init (TestUserClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->set_property = test_user_set_property;
  gobject_class->get_property = test_user_get_property;
  gobject_class->finalize = test_user_finalize;
  GST_ELEMENT_CLASS (klass)->change_state = test_user_change_state;

  g_object_class_install_property (gobject_class, PROP_OWN,
      g_param_spec_int ("own", "Own", "Not a signaling setting", 0, 100, 42,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  test_user_next_id = wtsp_settings_install (gobject_class,
      PROP_SETTINGS_FIRST, FALSE);
}

static GstElement *
user_new (const gchar * name, const gchar * location, const gchar * token)
{
  GstElement *user = g_object_new (TEST_TYPE_USER, "name", name, NULL);

  g_object_set (user, "location", location, "token", token, NULL);
  return user;
}

/* ------------------------------------------------------------------ */
/* Helpers */

static void
wait_state (WtspSession * session, WtspSessionState state)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  while (wtsp_session_get_state (session) != state) {
    fail_unless (g_get_monotonic_time () < deadline,
        "session state %d, waited for %d", wtsp_session_get_state (session),
        state);
    g_usleep (10000);
  }
}

/* Sends @json as a request and returns the reply */
static GstStructure *
request (WtspSession * session, const gchar * json)
{
  JsonNode *node = json_from_string (json, NULL);
  GstPromise *promise = gst_promise_new ();
  GstStructure *reply;

  fail_unless (node != NULL, "%s", json);
  wtsp_session_send_request (session,
      json_object_ref (json_node_get_object (node)), promise);
  json_node_unref (node);
  fail_unless_equals_int (gst_promise_wait (promise),
      GST_PROMISE_RESULT_REPLIED);
  reply = gst_structure_copy (gst_promise_get_reply (promise));
  gst_promise_unref (promise);
  return reply;
}

static void
request_ack (WtspSession * session, const gchar * json)
{
  GstStructure *reply = request (session, json);

  fail_unless_equals_string (wtsp_reply_get_result (reply), WTSP_RESULT_ACK);
  gst_structure_free (reply);
}

/* debug_connections: how many WebSockets the server took */
static void
server_connections (WtspSession * session, gint64 * accepted, gint64 * open)
{
  GstStructure *reply = request (session,
      "{\"request\":\"debug_connections\"}");
  JsonNode *node;
  JsonObject *ack;

  fail_unless_equals_string (wtsp_reply_get_result (reply), WTSP_RESULT_ACK);
  node = json_from_string (gst_structure_get_string (reply, "response"),
      NULL);
  ack = json_node_get_object (node);
  *accepted = json_object_get_int_member (ack, "accepted");
  *open = json_object_get_int_member (ack, "open");
  json_node_unref (node);
  gst_structure_free (reply);
}

/* The lines, as JSON text */
static gchar *
lines_text (WtspSession * session)
{
  JsonArray *lines = wtsp_session_dup_lines (session);
  JsonNode *node;
  gchar *text;

  if (lines == NULL)
    return NULL;
  node = json_node_init_array (json_node_alloc (), lines);
  text = json_to_string (node, FALSE);
  json_node_unref (node);
  json_array_unref (lines);
  return text;
}

/* Every message a session dispatched, and the lines-changed count */
typedef struct
{
  GAsyncQueue *messages;
  gint lines_changed;
} Recorder;

static void
on_record (WtspSession * session, WtspMessage * msg, Recorder * r)
{
  g_async_queue_push (r->messages, wtsp_message_ref (msg));
}

static void
on_lines_changed (WtspSession * session, Recorder * r)
{
  g_atomic_int_inc (&r->lines_changed);
}

static Recorder *
recorder_new (WtspSession * session)
{
  Recorder *r = g_new0 (Recorder, 1);

  r->messages = g_async_queue_new_full ((GDestroyNotify) wtsp_message_unref);
  g_signal_connect (session, "message", G_CALLBACK (on_record), r);
  g_signal_connect (session, "lines-changed", G_CALLBACK (on_lines_changed),
      r);
  return r;
}

static void
recorder_free (WtspSession * session, Recorder * r)
{
  g_signal_handlers_disconnect_by_data (session, r);
  g_async_queue_unref (r->messages);
  g_free (r);
}

/* The next message of @type (any kind), or NULL after @timeout_ms */
static WtspMessage *
next_message (Recorder * r, const gchar * type, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  WtspMessage *msg;

  for (;;) {
    gint64 left = deadline - g_get_monotonic_time ();

    if (left <= 0)
      return NULL;
    msg = g_async_queue_timeout_pop (r->messages, left);
    if (msg == NULL)
      return NULL;
    if (g_str_equal (msg->type, type))
      return msg;
    wtsp_message_unref (msg);
  }
}

static WtspMessage *
wait_message (Recorder * r, const gchar * type)
{
  WtspMessage *msg = next_message (r, type, WAIT_MS);

  fail_unless (msg != NULL, "no \"%s\" message", type);
  return msg;
}

static WtspSession *
session_ready (WtspTestServer * server, const gchar * token)
{
  WtspSession *session = wtsp_session_new ();
  GError *error = NULL;

  g_object_set (session, "location", server->url, "token", token,
      "reconnect-delay-min", 50, NULL);
  fail_unless (wtsp_session_start (session, &error), "%s",
      error ? error->message : "?");
  wait_state (session, WTSP_SESSION_STATE_READY);
  return session;
}

/* Counts the NEED_CONTEXT and HAVE_CONTEXT messages for @context_type on
 * @bus, dropping every other message */
static void
count_context_messages (GstBus * bus, const gchar * context_type,
    guint * need, guint * have)
{
  GstMessage *m;

  *need = *have = 0;
  while ((m = gst_bus_pop_filtered (bus, GST_MESSAGE_NEED_CONTEXT |
              GST_MESSAGE_HAVE_CONTEXT))) {
    const gchar *type = NULL;
    GstContext *context = NULL;

    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_NEED_CONTEXT) {
      gst_message_parse_context_type (m, &type);
      *need += g_strcmp0 (type, context_type) == 0;
    } else {
      gst_message_parse_have_context (m, &context);
      *have += g_strcmp0 (gst_context_get_context_type (context),
          context_type) == 0;
      gst_context_unref (context);
    }
    gst_message_unref (m);
  }
}

#define TEST_SDP "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" \
  "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n" \
  "a=rtpmap:111 opus/48000/2\r\na=mid:0\r\na=sendrecv\r\n"

static void
call (WtspSession * caller, const gchar * number, const gchar * call_id)
{
  gchar *sdp = g_strescape (TEST_SDP, NULL);
  gchar *json = g_strdup_printf ("{\"request\":\"outgoing_call\",\"line\":0,"
      "\"call_id\":\"%s\",\"number\":\"%s\","
      "\"jsep\":{\"type\":\"offer\",\"sdp\":\"%s\"}}", call_id, number, sdp);

  request_ack (caller, json);
  g_free (json);
  g_free (sdp);
}

/* ------------------------------------------------------------------ */
/* Settings */

GST_START_TEST (test_settings_install)
{
  GObjectClass *user_class = g_type_class_ref (TEST_TYPE_USER);
  GObjectClass *session_class = g_type_class_ref (WTSP_TYPE_SESSION);
  const gchar *const *names = wtsp_settings_list ();
  GstElement *user = user_new ("u", "ws://example.com/signaling/v1",
      "s3cret");
  TestUser *tu = TEST_USER (user);
  gchar *location;
  guint i, timeout;
  gint own;

  /* Ids follow each other, whatever the first is */
  fail_unless_equals_int (test_user_next_id,
      PROP_SETTINGS_FIRST + WTSP_SESSION_N_SETTINGS);
  fail_unless_equals_int (g_strv_length ((gchar **) names),
      WTSP_SESSION_N_SETTINGS);
  fail_unless (g_object_class_find_property (user_class, "state") == NULL);

  /* The same properties as the session's own, to the last flag */
  for (i = 0; names[i]; i++) {
    GParamSpec *u = g_object_class_find_property (user_class, names[i]);
    GParamSpec *s = g_object_class_find_property (session_class, names[i]);

    fail_unless (u != NULL && s != NULL, "%s", names[i]);
    fail_unless_equals_string (wtsp_settings_get_forwarded (u), names[i]);
    fail_unless_equals_string (g_param_spec_get_nick (u),
        g_param_spec_get_nick (s));
    fail_unless_equals_string (g_param_spec_get_blurb (u),
        g_param_spec_get_blurb (s));
    fail_unless (u->value_type == s->value_type, "%s", names[i]);
    fail_unless_equals_int (u->flags, s->flags);
    fail_unless (g_param_values_cmp (u, g_param_spec_get_default_value (u),
            g_param_spec_get_default_value (s)) == 0, "%s", names[i]);
  }
  fail_unless (wtsp_settings_get_forwarded (g_object_class_find_property
          (user_class, "own")) == NULL);
  fail_unless (wtsp_settings_get_forwarded (g_object_class_find_property
          (user_class, "name")) == NULL);

  /* Forwarded to the settings session; the element's own stay its own */
  g_object_set (user, "transaction-timeout", 1234, "own", 7, NULL);
  g_object_get (tu->settings, "transaction-timeout", &timeout, "location",
      &location, NULL);
  fail_unless_equals_int (timeout, 1234);
  fail_unless_equals_string (location, "ws://example.com/signaling/v1");
  g_free (location);
  g_object_get (user, "transaction-timeout", &timeout, "own", &own, NULL);
  fail_unless_equals_int (timeout, 1234);
  fail_unless_equals_int (own, 42);

  /* with_state (the session's own class has it): read-only, forwarded */
  {
    GParamSpec *state = g_object_class_find_property (session_class,
        "state");

    fail_unless_equals_string (wtsp_settings_get_forwarded (state), "state");
    fail_unless_equals_int (state->flags & G_PARAM_WRITABLE, 0);
  }

  gst_object_unref (user);
  g_type_class_unref (user_class);
  g_type_class_unref (session_class);
}

GST_END_TEST;

GST_START_TEST (test_settings_equal)
{
  static const struct
  {
    const gchar *name;
    const gchar *value;         /* gst_util_set_object_arg syntax */
  } rows[] = {
    {"location", "ws://other.example.com/signaling/v1"},
    {"token", "s3cret-other"},
    {"token-file", "/run/secrets/some-token-file"},
    {"force", "true"},
    {"reconnect-force", "false"},
    {"tls-validation", "false"},
    {"ca-file", "/etc/ssl/some-ca.pem"},
    {"transaction-timeout", "1"},
    {"handshake-timeout", "2"},
    {"reconnect-delay-min", "3"},
    {"reconnect-delay-max", "4"},
    {"max-reconnect-attempts", "5"},
    {"max-message-size", "4096"},
  };
  const gchar *const *names = wtsp_settings_list ();
  WtspSession *a, *b, *copy;
  gchar *why;
  guint i;

  /* One row per setting: none is left out of the comparison */
  fail_unless_equals_int (G_N_ELEMENTS (rows), g_strv_length ((gchar **)
          names));

  for (i = 0; i < G_N_ELEMENTS (rows); i++) {
    gchar *expected = g_strdup_printf ("%s differs", rows[i].name);

    fail_unless_equals_string (names[i], rows[i].name);
    a = wtsp_session_new ();
    b = wtsp_session_new ();
    g_object_set (a, "location", "ws://example.com/signaling/v1", "token",
        "s3cret", NULL);
    g_object_set (b, "location", "ws://example.com/signaling/v1", "token",
        "s3cret", NULL);
    why = (gchar *) "untouched";
    fail_unless (wtsp_session_settings_equal (a, b, &why));
    fail_unless (why == NULL);

    gst_util_set_object_arg (G_OBJECT (b), rows[i].name, rows[i].value);
    fail_if (wtsp_session_settings_equal (a, b, &why), "%s", rows[i].name);
    fail_unless_equals_string (why, expected);
    fail_if (strstr (why, rows[i].value) != NULL);
    fail_if (strstr (why, "s3cret") != NULL);
    g_free (why);
    fail_if (wtsp_session_settings_equal (b, a, NULL));

    /* A copy has every setting, the write-only token included */
    copy = wtsp_session_new_with_settings (b);
    fail_unless (wtsp_session_settings_equal (b, copy, NULL), "%s",
        rows[i].name);
    fail_unless (wtsp_session_settings_equal (copy, copy, NULL));

    g_free (expected);
    gst_object_unref (copy);
    gst_object_unref (a);
    gst_object_unref (b);
  }

  /* The first differing setting is named */
  a = wtsp_session_new ();
  b = wtsp_session_new ();
  g_object_set (b, "max-message-size", 2048, "token", "x", "force", TRUE,
      NULL);
  fail_if (wtsp_session_settings_equal (a, b, &why));
  fail_unless_equals_string (why, "token differs");
  g_free (why);
  gst_object_unref (a);
  gst_object_unref (b);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Sharing */

GST_START_TEST (test_share_in_pipeline)
{
  WtspTestServer *server = wtsp_test_server_start ("--debug-requests", NULL);
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *inner = gst_bin_new ("inner");
  GstElement *u1 = user_new ("u1", server->url, "alice");
  GstElement *u2 = user_new ("u2", server->url, "alice");
  GstBus *bus = gst_element_get_bus (pipeline);
  WtspSession *session;
  gint64 accepted, open;
  guint need, have;

  /* u2 one bin deeper: its NEED_CONTEXT goes up to the pipeline */
  gst_bin_add (GST_BIN (inner), u2);
  gst_bin_add_many (GST_BIN (pipeline), u1, inner, NULL);
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PAUSED),
      GST_STATE_CHANGE_SUCCESS);

  session = TEST_USER (u1)->session;
  fail_unless (session != NULL);
  fail_unless (TEST_USER (u2)->session == session);
  fail_unless (TEST_USER (u2)->why == NULL, "%s", TEST_USER (u2)->why);
  fail_unless (session != TEST_USER (u1)->settings);
  fail_unless_equals_int (wtsp_session_get_n_users (session), 2);

  /* The first asked and found nothing, then published; the second found
   * it in the pipeline without asking the application */
  count_context_messages (bus, WTSP_SESSION_CONTEXT_TYPE, &need, &have);
  fail_unless_equals_int (need, 1);
  fail_unless_equals_int (have, 1);

  /* One WebSocket: the server saw one connection */
  wait_state (session, WTSP_SESSION_STATE_READY);
  server_connections (session, &accepted, &open);
  fail_unless_equals_int (accepted, 1);
  fail_unless_equals_int (open, 1);

  /* It outlives the first user to leave, not the last */
  gst_object_ref (session);
  fail_unless_equals_int (gst_element_set_state (u1, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (wtsp_session_get_n_users (session), 1);
  fail_unless_equals_int (wtsp_session_get_state (session),
      WTSP_SESSION_STATE_READY);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  fail_unless_equals_int (wtsp_session_get_n_users (session), 0);
  fail_unless_equals_int (wtsp_session_get_state (session),
      WTSP_SESSION_STATE_STOPPED);
  gst_object_unref (session);

  gst_object_unref (bus);
  gst_object_unref (pipeline);
  wtsp_test_server_free (server);
}

GST_END_TEST;

GST_START_TEST (test_share_differing_settings)
{
  WtspTestServer *server = wtsp_test_server_start ("--debug-requests", NULL);
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *u1 = user_new ("u1", server->url, "alice");
  GstElement *u2 = user_new ("u2", server->url, "bob");
  GstElement *u3 = user_new ("u3", server->url, "alice");
  WtspSession *alice, *bob, *found, *settings;
  GstContext *context;
  gint64 accepted, open;
  gchar *why;

  gst_bin_add_many (GST_BIN (pipeline), u1, u2, u3, NULL);
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PAUSED),
      GST_STATE_CHANGE_SUCCESS);

  /* Another token: a session of its own, and the reason */
  alice = TEST_USER (u1)->session;
  bob = TEST_USER (u2)->session;
  fail_unless (alice != NULL && bob != NULL && alice != bob);
  fail_unless (TEST_USER (u1)->why == NULL);
  fail_unless_equals_string (TEST_USER (u2)->why, "token differs");
  /* Published beside alice's: the third user, alice again, finds hers */
  fail_unless (TEST_USER (u3)->session == alice);
  fail_unless (TEST_USER (u3)->why == NULL);
  fail_unless_equals_int (wtsp_session_get_n_users (alice), 2);
  fail_unless_equals_int (wtsp_session_get_n_users (bob), 1);

  wait_state (alice, WTSP_SESSION_STATE_READY);
  wait_state (bob, WTSP_SESSION_STATE_READY);
  server_connections (bob, &accepted, &open);
  fail_unless_equals_int (accepted, 2);
  fail_unless_equals_int (open, 2);

  /* The pipeline's context lists both; a user that differs from alice's
   * in a timeout is told so, not that the token differs from bob's */
  context = gst_element_get_context (pipeline, WTSP_SESSION_CONTEXT_TYPE);
  fail_unless (context != NULL);
  fail_unless_equals_int (gst_value_array_get_size (gst_structure_get_value
          (gst_context_get_structure (context), "sessions")), 2);
  settings = wtsp_session_new_with_settings (TEST_USER (u1)->settings);
  g_object_set (settings, "transaction-timeout", 999, NULL);
  fail_unless (wtsp_session_context_find (context, settings, &why) == NULL);
  fail_unless_equals_string (why, "transaction-timeout differs");
  g_free (why);
  g_object_set (settings, "transaction-timeout",
      WTSP_DEFAULT_TRANSACTION_TIMEOUT, NULL);
  found = wtsp_session_context_find (context, settings, &why);
  fail_unless (found == alice);
  fail_unless (why == NULL);
  gst_object_unref (found);
  gst_object_unref (settings);
  gst_context_unref (context);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* Two pipelines share only when the application hands the context over */
GST_START_TEST (test_share_across_pipelines)
{
  WtspTestServer *server = wtsp_test_server_start ("--debug-requests", NULL);
  GstElement *p1 = gst_pipeline_new (NULL), *p2 = gst_pipeline_new (NULL);
  GstElement *u1 = user_new ("u1", server->url, "alice");
  GstElement *u2 = user_new ("u2", server->url, "alice");
  GstContext *context;
  gint64 accepted, open;

  gst_bin_add (GST_BIN (p1), u1);
  gst_bin_add (GST_BIN (p2), u2);
  fail_unless_equals_int (gst_element_set_state (p1, GST_STATE_PAUSED),
      GST_STATE_CHANGE_SUCCESS);
  context = gst_element_get_context (p1, WTSP_SESSION_CONTEXT_TYPE);
  fail_unless (context != NULL);
  gst_element_set_context (p2, context);
  gst_context_unref (context);
  fail_unless_equals_int (gst_element_set_state (p2, GST_STATE_PAUSED),
      GST_STATE_CHANGE_SUCCESS);

  fail_unless (TEST_USER (u1)->session == TEST_USER (u2)->session);
  wait_state (TEST_USER (u1)->session, WTSP_SESSION_STATE_READY);
  server_connections (TEST_USER (u1)->session, &accepted, &open);
  fail_unless_equals_int (accepted, 1);

  gst_element_set_state (p1, GST_STATE_NULL);
  gst_element_set_state (p2, GST_STATE_NULL);
  gst_object_unref (p1);
  gst_object_unref (p2);
  wtsp_test_server_free (server);
}

GST_END_TEST;

GST_START_TEST (test_use_bad_settings)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *u1 = user_new ("u1", "ws://", "alice");
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *m;
  gchar *text;

  gst_bin_add (GST_BIN (pipeline), u1);
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (m != NULL);
  text = wtsp_test_message_text (m);
  fail_unless (strstr (text, "ws:// has no host") != NULL, "%s", text);
  g_free (text);
  gst_message_unref (m);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Lines */

static gint owner_a, owner_b, owner_c;

static void
inject (WtspSession * session, Recorder * r, const gchar * event,
    const gchar * type)
{
  gchar *json = g_strdup_printf ("{\"request\":\"debug_event\","
      "\"event\":%s}", event);

  request_ack (session, json);
  wtsp_message_unref (wait_message (r, type));
  g_free (json);
}

/* lines-changed follows the message: wait for it */
static void
wait_changed (Recorder * r, gint expected)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  while (g_atomic_int_get (&r->lines_changed) < expected
      && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  fail_unless_equals_int (g_atomic_int_get (&r->lines_changed), expected);
}

static void
assert_lines (WtspSession * session, const gchar * expected)
{
  gchar *text = lines_text (session);

  fail_unless_equals_string (text, expected);
  g_free (text);
}

GST_START_TEST (test_lines)
{
  WtspTestServer *server = wtsp_test_server_start ("--debug-requests", NULL);
  WtspSession *session = wtsp_session_new ();
  Recorder *r = recorder_new (session);
  GError *error = NULL;
  gint changed;

  /* Nothing known before the handshake: nothing to claim */
  fail_unless (wtsp_session_dup_lines (session) == NULL);
  fail_unless_equals_int (wtsp_session_get_n_lines (session), 0);
  fail_unless_equals_int (wtsp_session_claim_line (session, -1, &owner_a), -1);
  fail_unless_equals_int (wtsp_session_claim_line (session, 0, &owner_a), -1);

  g_object_set (session, "location", server->url, "token", "alice",
      "reconnect-delay-min", 50, NULL);
  fail_unless (wtsp_session_start (session, &error));
  wtsp_message_unref (wait_message (r, "state"));
  wait_state (session, WTSP_SESSION_STATE_READY);
  fail_unless_equals_int (g_atomic_int_get (&r->lines_changed), 1);
  fail_unless_equals_int (wtsp_session_get_n_lines (session), 2);
  assert_lines (session, "[null,null]");

  /* Claims */
  fail_unless_equals_int (wtsp_session_claim_line (session, -1, &owner_a), 0);
  fail_unless_equals_int (wtsp_session_claim_line (session, -1, &owner_b), 1);
  fail_unless_equals_int (wtsp_session_claim_line (session, -1, &owner_c), -1);
  fail_unless_equals_int (wtsp_session_claim_line (session, 0, &owner_b), -1);
  fail_unless_equals_int (wtsp_session_claim_line (session, 0, &owner_a), 0);
  fail_unless_equals_int (wtsp_session_claim_line (session, 2, &owner_a), -1);
  fail_unless (wtsp_session_get_line_owner (session, 0) == &owner_a);
  fail_unless (wtsp_session_get_line_owner (session, 1) == &owner_b);
  fail_unless (wtsp_session_get_line_owner (session, 2) == NULL);
  fail_unless (wtsp_session_get_line_owner (session, -1) == NULL);
  wtsp_session_release_line (session, 0, &owner_b);     /* not b's */
  fail_unless (wtsp_session_get_line_owner (session, 0) == &owner_a);
  wtsp_session_release_line (session, 0, &owner_a);
  wtsp_session_release_line (session, 1, &owner_b);
  fail_unless (wtsp_session_get_line_owner (session, 0) == NULL);
  fail_unless (wtsp_session_get_line_owner (session, 1) == NULL);
  /* claims are not the server's lines */
  fail_unless_equals_int (g_atomic_int_get (&r->lines_changed), 1);

  /* Events keep the table current; those for calls it does not know do
   * not make up entries */
  inject (session, r, "{\"event\":\"incoming_call\",\"line\":0,"
      "\"call_id\":\"X\",\"caller\":\"bob\",\"callee\":\"alice\"}",
      "incoming_call");
  assert_lines (session, "[{\"call_id\":\"X\",\"state\":\"incoming_call\"},"
      "null]");
  changed = 2;
  wait_changed (r, changed);

  inject (session, r, "{\"event\":\"ringing\",\"line\":1,\"call_id\":\"Y\"}",
      "ringing");
  inject (session, r, "{\"event\":\"accepted\",\"line\":0,"
      "\"call_id\":\"Z\"}", "accepted");
  inject (session, r, "{\"event\":\"missed_call\",\"line\":1,"
      "\"call_id\":\"W\",\"caller\":\"carol\",\"callee\":\"alice\"}",
      "missed_call");
  inject (session, r, "{\"event\":\"hangup\",\"line\":0,\"call_id\":\"Y\","
      "\"code\":200}", "hangup");
  inject (session, r, "{\"event\":\"calling\",\"line\":5,\"call_id\":\"V\"}",
      "calling");
  inject (session, r, "{\"event\":\"ringing\",\"line\":null,"
      "\"call_id\":\"U\"}", "ringing");
  assert_lines (session, "[{\"call_id\":\"X\",\"state\":\"incoming_call\"},"
      "null]");

  /* one change since: none of those made one */
  inject (session, r, "{\"event\":\"accepted\",\"line\":0,"
      "\"call_id\":\"X\"}", "accepted");
  assert_lines (session, "[{\"call_id\":\"X\",\"state\":\"accepted\"},null]");
  wait_changed (r, changed + 1);

  /* -1 skips a line the server shows busy */
  fail_unless_equals_int (wtsp_session_claim_line (session, -1, &owner_a), 1);
  fail_unless_equals_int (wtsp_session_claim_line (session, -1, &owner_b), -1);

  inject (session, r, "{\"event\":\"hangup\",\"line\":0,\"call_id\":\"X\","
      "\"code\":200}", "hangup");
  assert_lines (session, "[null,null]");
  fail_unless_equals_int (wtsp_session_claim_line (session, -1, &owner_b), 0);

  /* calling starts a call, and so does an incoming_call on a line that
   * showed another one */
  inject (session, r, "{\"event\":\"calling\",\"line\":0,\"call_id\":\"T\"}",
      "calling");
  inject (session, r, "{\"event\":\"incoming_call\",\"line\":0,"
      "\"call_id\":\"S\",\"caller\":\"bob\",\"callee\":\"alice\"}",
      "incoming_call");
  assert_lines (session, "[{\"call_id\":\"S\",\"state\":\"incoming_call\"},"
      "null]");

  /* A copy is the caller's */
  {
    JsonArray *copy = wtsp_session_dup_lines (session);

    json_object_set_string_member (json_array_get_object_element (copy, 0),
        "call_id", "changed");
    json_array_unref (copy);
    assert_lines (session, "[{\"call_id\":\"S\",\"state\":\"incoming_call\"},"
        "null]");
  }

  /* A new handshake replaces the server's view; claims stay */
  request_ack (session, "{\"request\":\"debug_close\",\"code\":1001}");
  wtsp_message_unref (wait_message (r, "state"));
  assert_lines (session, "[null,null]");
  fail_unless (wtsp_session_get_line_owner (session, 0) == &owner_b);
  fail_unless (wtsp_session_get_line_owner (session, 1) == &owner_a);

  /* A call that ended shows once more in the next handshake, its log
   * ending with the hangup: the line is free (a pipeline started right
   * after a call found line 0 busy and took line 1) */
  wtsp_session_release_line (session, 0, &owner_b);
  wtsp_session_release_line (session, 1, &owner_a);
  call (session, "nobody-here", "ended-call");
  wtsp_message_unref (wait_message (r, "hangup"));
  request_ack (session, "{\"request\":\"debug_close\",\"code\":1001}");
  wtsp_message_unref (wait_message (r, "state"));
  {
    gchar *text = lines_text (session);

    fail_unless (strstr (text, "ended-call") != NULL, "the handshake does "
        "not show the ended call: %s", text);
    g_free (text);
  }
  fail_unless_equals_int (wtsp_session_claim_line (session, -1, &owner_a), 0);
  fail_unless_equals_int (wtsp_session_claim_line (session, -1, &owner_b), 1);

  wtsp_session_stop (session);
  recorder_free (session, r);
  gst_object_unref (session);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Incoming-call arbitration */

static void
claim_incoming (WtspSession * session, WtspMessage * msg, gpointer owner)
{
  if (wtsp_message_is_event (msg, "incoming_call"))
    fail_unless_equals_int (wtsp_session_claim_line (session, msg->line,
            owner), msg->line);
}

/* Claims nothing, but runs last */
static void
watch_incoming (WtspSession * session, WtspMessage * msg, gint * seen)
{
  if (wtsp_message_is_event (msg, "incoming_call"))
    g_atomic_int_inc (seen);
}

GST_START_TEST (test_decline_unclaimed)
{
  WtspTestServer *server = wtsp_test_server_start ("--debug-requests", NULL);
  WtspSession *alice = session_ready (server, "alice");
  WtspSession *bob = session_ready (server, "bob");
  Recorder *ra = recorder_new (alice), *rb = recorder_new (bob);
  WtspMessage *msg;
  gint seen = 0;
  gulong claimer;

  /* Off (the default): an unclaimed call is the application's business */
  call (alice, "bob", "c4ll1c4ll1c4ll1c4ll1c4ll");
  wtsp_message_unref (wait_message (rb, "incoming_call"));
  wtsp_message_unref (wait_message (ra, "ringing"));
  fail_unless (next_message (ra, "hangup", 500) == NULL);
  request_ack (alice, "{\"request\":\"hangup\",\"line\":0,"
      "\"call_id\":\"c4ll1c4ll1c4ll1c4ll1c4ll\"}");
  wtsp_message_unref (wait_message (rb, "hangup"));
  wtsp_message_unref (wait_message (ra, "hangup"));

  /* On: declined with 486 after every handler ran, the last included */
  wtsp_session_set_decline_unclaimed (bob, TRUE);
  g_signal_connect_after (bob, "message", G_CALLBACK (watch_incoming), &seen);
  call (alice, "bob", "c4ll2c4ll2c4ll2c4ll2c4ll");
  wtsp_message_unref (wait_message (rb, "incoming_call"));
  msg = wait_message (ra, "hangup");
  fail_unless_equals_int (msg->code, 486);
  wtsp_message_unref (msg);
  fail_unless_equals_int (g_atomic_int_get (&seen), 1);
  wtsp_message_unref (wait_message (rb, "hangup"));

  /* A handler that claims the line takes the call: it rings on */
  claimer = g_signal_connect (bob, "message", G_CALLBACK (claim_incoming),
      &owner_a);
  call (alice, "bob", "c4ll3c4ll3c4ll3c4ll3c4ll");
  msg = wait_message (rb, "incoming_call");
  wtsp_message_unref (wait_message (ra, "ringing"));
  fail_unless (next_message (ra, "hangup", 500) == NULL);
  /* (the recorder saw the message before the claimer did) */
  fail_unless (wtsp_session_get_line_owner (bob, msg->line) == &owner_a,
      "line %d: %p, not %p", msg->line,
      wtsp_session_get_line_owner (bob, msg->line), &owner_a);
  wtsp_message_unref (msg);

  /* Still the owner's (it has not released it): the next call on that
   * line would be taken only if the owner claims again */
  g_signal_handler_disconnect (bob, claimer);
  recorder_free (alice, ra);
  recorder_free (bob, rb);
  wtsp_session_stop (alice);
  wtsp_session_stop (bob);
  gst_object_unref (alice);
  gst_object_unref (bob);
  wtsp_test_server_free (server);
}

GST_END_TEST;

static Suite *
session_suite (void)
{
  Suite *s = suite_create ("session");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_settings_install);
  tcase_add_test (tc, test_settings_equal);
  tcase_add_test (tc, test_share_in_pipeline);
  tcase_add_test (tc, test_share_differing_settings);
  tcase_add_test (tc, test_share_across_pipelines);
  tcase_add_test (tc, test_use_bad_settings);
  tcase_add_test (tc, test_lines);
  tcase_add_test (tc, test_decline_unclaimed);
  return s;
}

GST_CHECK_MAIN (session);
