/* signalingsrc against the reference server, over real WebSockets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/app/gstappsink.h>
#include <gio/gio.h>
#include <string.h>
#include <glib/gstdio.h>

#include "wtsp-test-server.h"

#define WAIT_MS 5000

typedef struct
{
  GstElement *pipeline;
  GstElement *src;
  GstElement *sink;
  GstBus *bus;
} Client;

/* @props: extra signalingsrc properties in gst-launch syntax. The token is
 * set with g_object_set, the way applications should (see docs). */
static Client *
client_new (WtspTestServer * server, const gchar * token, const gchar * props)
{
  Client *c = g_new0 (Client, 1);
  GError *error = NULL;
  gchar *desc;

  desc = g_strdup_printf ("signalingsrc name=src location=%s %s ! "
      "appsink name=sink sync=false max-buffers=1000 drop=true",
      server->url, props ? props : "");
  c->pipeline = gst_parse_launch (desc, &error);
  fail_unless (c->pipeline != NULL, "%s", error ? error->message : "?");
  g_free (desc);
  c->src = gst_bin_get_by_name (GST_BIN (c->pipeline), "src");
  c->sink = gst_bin_get_by_name (GST_BIN (c->pipeline), "sink");
  c->bus = gst_element_get_bus (c->pipeline);
  if (token)
    g_object_set (c->src, "token", token, NULL);
  return c;
}

static void
client_play (Client * c)
{
  fail_if (gst_element_set_state (c->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
}

static Client *
client_ready (WtspTestServer * server, const gchar * token,
    const gchar * props)
{
  Client *c = client_new (server, token, props);
  GstMessage *m;

  client_play (c);
  m = wtsp_test_wait_element (c->bus, "wtsp-connection", "state", "ready",
      WAIT_MS);
  fail_unless (m != NULL, "session %s never got ready", token);
  gst_message_unref (m);
  return c;
}

static void
client_free (Client * c)
{
  gst_element_set_state (c->pipeline, GST_STATE_NULL);
  gst_object_unref (c->src);
  gst_object_unref (c->sink);
  gst_object_unref (c->bus);
  gst_object_unref (c->pipeline);
  g_free (c);
}

static GstMessage *
wait_event (Client * c, const gchar * type)
{
  GstMessage *m = wtsp_test_wait_element (c->bus, "wtsp-message", "type",
      type, WAIT_MS);

  fail_unless (m != NULL, "no \"%s\" message on the bus", type);
  return m;
}

/* Next WARNING or ERROR, as text */
static gchar *
wait_problem (Client * c, GstMessageType type)
{
  GstMessage *m = wtsp_test_wait_type (c->bus, type, WAIT_MS);
  gchar *text;

  fail_unless (m != NULL, "no %s on the bus",
      gst_message_type_get_name (type));
  text = wtsp_test_message_text (m);
  gst_message_unref (m);
  return text;
}

/* The details of an ERROR as docs/signalingsrc.md shows them: one flat
 * "wtsp-error" structure with error and uri, then what is known */
static const GstStructure *
check_details (GstMessage * m, const gchar * error)
{
  const GstStructure *details = NULL;
  const gchar *uri;

  fail_unless_equals_int (GST_MESSAGE_TYPE (m), GST_MESSAGE_ERROR);
  gst_message_parse_error_details (m, &details);
  fail_unless (details != NULL, "no details");
  fail_unless (gst_structure_has_name (details, "wtsp-error"), "%"
      GST_PTR_FORMAT, details);
  fail_if (gst_structure_has_field (details, "details"), "nested: %"
      GST_PTR_FORMAT, details);
  fail_unless_equals_string (gst_structure_get_string (details, "error"),
      error);
  uri = gst_structure_get_string (details, "uri");
  fail_unless (uri != NULL && strstr (uri, "token=***") != NULL, "%s", uri);
  return details;
}

static void
assert_result (GstStructure * reply, const gchar * result)
{
  gchar *s = gst_structure_to_string (reply);

  fail_unless_equals_string (gst_structure_get_string (reply, "result"),
      result);
  GST_INFO ("reply: %s", s);
  g_free (s);
}

GST_START_TEST (test_handshake)
{
  WtspTestServer *server = wtsp_test_server_startv (NULL);
  Client *c = client_new (server, "alice", NULL);
  GstMessage *m;
  const GstStructure *s;
  GstSample *sample;
  GstMapInfo map;
  gchar *lines, *registration;
  guint interval;

  client_play (c);

  /* The first thing out is the state handshake, on the bus... */
  m = wait_event (c, "state");
  s = gst_message_get_structure (m);
  fail_unless_equals_string (gst_structure_get_string (s, "kind"), "state");
  fail_unless (strstr (gst_structure_get_string (s, "json"),
          "\"handshake\":\"state\"") != NULL);
  gst_message_unref (m);

  /* ...and downstream, one JSON line per buffer */
  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (c->sink),
      WAIT_MS * GST_MSECOND);
  fail_unless (sample != NULL);
  fail_unless (gst_structure_has_name (gst_caps_get_structure
          (gst_sample_get_caps (sample), 0), "application/x-wtsp"));
  fail_unless (gst_buffer_map (gst_sample_get_buffer (sample), &map,
          GST_MAP_READ));
  fail_unless (map.size > 2 && map.data[0] == '{'
      && map.data[map.size - 1] == '\n');
  fail_unless (g_strstr_len ((gchar *) map.data, map.size,
          "\"handshake\":\"state\"") != NULL);
  fail_unless (GST_BUFFER_PTS_IS_VALID (gst_sample_get_buffer (sample)));
  gst_buffer_unmap (gst_sample_get_buffer (sample), &map);
  gst_sample_unref (sample);

  m = wtsp_test_wait_element (c->bus, "wtsp-connection", "state", "ready",
      WAIT_MS);
  fail_unless (m != NULL);
  gst_message_unref (m);

  g_object_get (c->src, "lines", &lines, "registration", &registration,
      "keepalive-interval", &interval, NULL);
  fail_unless_equals_string (lines, "[null,null]");
  fail_unless_equals_string (registration, "registered");
  fail_unless_equals_int (interval, 30000);
  g_free (lines);
  g_free (registration);

  client_free (c);
  wtsp_test_server_free (server);
}

GST_END_TEST;

GST_START_TEST (test_registration_sequence)
{
  WtspTestServer *server =
      wtsp_test_server_start ("--registration-sequence", NULL);
  Client *c = client_new (server, "alice", NULL);
  GstMessage *m;
  gchar *registration;

  client_play (c);
  m = wait_event (c, "state");
  fail_unless (strstr (gst_structure_get_string (gst_message_get_structure
              (m), "json"), "\"unregistered\"") != NULL);
  gst_message_unref (m);
  gst_message_unref (wait_event (c, "registering"));
  m = wait_event (c, "registered");
  fail_unless_equals_string (gst_structure_get_string
      (gst_message_get_structure (m), "kind"), "event");
  gst_message_unref (m);

  g_object_get (c->src, "registration", &registration, NULL);
  fail_unless_equals_string (registration, "registered");
  g_free (registration);

  client_free (c);
  wtsp_test_server_free (server);
}

GST_END_TEST;

GST_START_TEST (test_transactions)
{
  WtspTestServer *server = wtsp_test_server_start ("--debug-requests", NULL);
  Client *c = client_ready (server, "alice", NULL);
  GstStructure *r;
  gint code;

  r = wtsp_test_request (c->src,
      "{\"request\":\"debug_delay_ack\",\"delay_ms\":0}", WAIT_MS);
  assert_result (r, "ack");
  fail_unless (g_str_has_prefix (gst_structure_get_string (r, "transaction"),
          "transaction-"));
  fail_unless (strspn (gst_structure_get_string (r, "transaction") + 12,
          "0123456789") == strlen (gst_structure_get_string (r,
              "transaction") + 12));
  gst_structure_free (r);

  /* An error response carries its code and reason */
  r = wtsp_test_request (c->src,
      "{\"request\":\"debug_error\",\"code\":471,\"reason\":\"wrong state\"}",
      WAIT_MS);
  assert_result (r, "error");
  fail_unless (gst_structure_get_int (r, "code", &code));
  fail_unless_equals_int (code, 471);
  fail_unless_equals_string (gst_structure_get_string (r, "reason"),
      "wrong state");
  gst_structure_free (r);

  /* The server does not know this request */
  r = wtsp_test_request (c->src, "{\"request\":\"no_such_request\"}",
      WAIT_MS);
  assert_result (r, "error");
  fail_unless (gst_structure_get_int (r, "code", &code));
  fail_unless_equals_int (code, 453);
  gst_structure_free (r);

  /* We refuse to send what is not a valid request, and say why */
  r = wtsp_test_request (c->src, "{\"request\":\"hangup\",\"line\":\"zero\"}",
      WAIT_MS);
  assert_result (r, "invalid");
  fail_unless (strstr (gst_structure_get_string (r, "reason"), "line") !=
      NULL);
  gst_structure_free (r);
  r = wtsp_test_request (c->src, "not json", WAIT_MS);
  assert_result (r, "invalid");
  gst_structure_free (r);

  /* The session went on */
  r = wtsp_test_request (c->src,
      "{\"request\":\"debug_delay_ack\",\"delay_ms\":0}", WAIT_MS);
  assert_result (r, "ack");
  gst_structure_free (r);

  client_free (c);
  wtsp_test_server_free (server);
}

GST_END_TEST;

typedef struct
{
  GMutex lock;
  GPtrArray *order;
} Order;

static void
record_reply (GstPromise * promise, gpointer user_data)
{
  Order *o = user_data;
  const GstStructure *r = gst_promise_get_reply (promise);

  g_mutex_lock (&o->lock);
  g_ptr_array_add (o->order, g_strdup_printf ("%s:%s",
          gst_structure_get_string (r, "result"),
          GST_STR_NULL (gst_structure_get_string (r, "response"))));
  g_mutex_unlock (&o->lock);
}

GST_START_TEST (test_out_of_order)
{
  WtspTestServer *server = wtsp_test_server_start ("--debug-requests", NULL);
  Client *c = client_ready (server, "alice", NULL);
  Order o = { {0}, g_ptr_array_new_with_free_func (g_free) };
  GstPromise *slow, *fast;
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  gchar *slow_tx, *fast_tx;

  g_mutex_init (&o.lock);
  slow = gst_promise_new_with_change_func (record_reply, &o, NULL);
  fast = gst_promise_new_with_change_func (record_reply, &o, NULL);
  g_signal_emit_by_name (c->src, "request",
      "{\"request\":\"debug_delay_ack\",\"delay_ms\":600}", slow);
  g_signal_emit_by_name (c->src, "request",
      "{\"request\":\"debug_delay_ack\",\"delay_ms\":0}", fast);

  for (;;) {
    g_mutex_lock (&o.lock);
    if (o.order->len == 2 || g_get_monotonic_time () > deadline) {
      g_mutex_unlock (&o.lock);
      break;
    }
    g_mutex_unlock (&o.lock);
    g_usleep (10000);
  }
  fail_unless_equals_int (o.order->len, 2);

  /* Each answer settled its own request, the second one first */
  slow_tx = g_strdup (gst_structure_get_string (gst_promise_get_reply (slow),
          "transaction"));
  fast_tx = g_strdup (gst_structure_get_string (gst_promise_get_reply (fast),
          "transaction"));
  fail_unless (g_strcmp0 (slow_tx, fast_tx) != 0);
  fail_unless (strstr (g_ptr_array_index (o.order, 0), fast_tx) != NULL,
      "first answer %s should settle %s", (gchar *) g_ptr_array_index
      (o.order, 0), fast_tx);
  fail_unless (strstr (g_ptr_array_index (o.order, 1), slow_tx) != NULL);

  g_free (slow_tx);
  g_free (fast_tx);
  gst_promise_unref (slow);
  gst_promise_unref (fast);
  client_free (c);
  g_ptr_array_unref (o.order);
  g_mutex_clear (&o.lock);
  wtsp_test_server_free (server);
}

GST_END_TEST;

GST_START_TEST (test_timeout_and_late_answer)
{
  WtspTestServer *server = wtsp_test_server_start ("--debug-requests", NULL);
  Client *c = client_ready (server, "alice", "transaction-timeout=300");
  GstStructure *r;
  GstMessage *m;

  /* No answer at all */
  r = wtsp_test_request (c->src, "{\"request\":\"debug_no_ack\"}", WAIT_MS);
  assert_result (r, "timeout");
  fail_unless (strstr (gst_structure_get_string (r, "reason"),
          "did not answer") != NULL);
  gst_structure_free (r);

  /* An answer after the timeout: the request has already failed, the
   * answer is ignored, the session goes on */
  r = wtsp_test_request (c->src,
      "{\"request\":\"debug_delay_ack\",\"delay_ms\":700}", WAIT_MS);
  assert_result (r, "timeout");
  gst_structure_free (r);
  /* the late ack still reaches the bus as a server message */
  m = wtsp_test_wait_element (c->bus, "wtsp-message", "type", "ack", 2000);
  fail_unless (m != NULL, "the late ack should still be posted");
  gst_message_unref (m);

  r = wtsp_test_request (c->src,
      "{\"request\":\"debug_delay_ack\",\"delay_ms\":0}", WAIT_MS);
  assert_result (r, "ack");
  gst_structure_free (r);

  client_free (c);
  wtsp_test_server_free (server);
}

GST_END_TEST;

GST_START_TEST (test_keepalive)
{
  /* The server closes a client silent for two intervals (4502): a session
   * that stays up for many intervals does send its keepalives */
  WtspTestServer *server = wtsp_test_server_start ("--keepalive-interval",
      "1000", NULL);
  Client *c = client_ready (server, "alice", NULL);
  GstMessage *m;
  guint interval;

  g_object_get (c->src, "keepalive-interval", &interval, NULL);
  fail_unless_equals_int (interval, 1000);

  m = wtsp_test_wait_element (c->bus, "wtsp-connection", "state",
      "reconnecting", 4500);
  fail_unless (m == NULL, "the server dropped a session that should have "
      "kept itself alive");
  fail_unless (wtsp_test_wait_type (c->bus, GST_MESSAGE_WARNING, 0) == NULL);

  client_free (c);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* A keepalive_interval we cannot follow (the range is 1 s to 10 min) is
 * replaced by the nearest bound, with a warning that names both */
GST_START_TEST (test_keepalive_out_of_range)
{
  WtspTestServer *server = wtsp_test_server_start ("--keepalive-interval",
      "200", NULL);
  Client *c = client_new (server, "alice", NULL);
  guint interval;
  gchar *text;

  client_play (c);
  text = wait_problem (c, GST_MESSAGE_WARNING);
  fail_unless (strstr (text, "keepalive_interval 200 ms is out of range")
      && strstr (text, "using 1000 ms"), "%s", text);
  g_free (text);
  g_object_get (c->src, "keepalive-interval", &interval, NULL);
  fail_unless_equals_int (interval, 1000);

  client_free (c);
  wtsp_test_server_free (server);
}

GST_END_TEST;

GST_START_TEST (test_keepalive_death)
{
  /* A server that stops answering keepalives is a dead link */
  WtspTestServer *server = wtsp_test_server_start ("--debug-requests",
      "--keepalive-interval", "1000", NULL);
  Client *c = client_ready (server, "alice",
      "transaction-timeout=300 reconnect-delay-min=50");
  GstStructure *r;
  GstMessage *m;
  gchar *text;

  r = wtsp_test_request (c->src,
      "{\"request\":\"debug_ignore_keepalives\",\"enabled\":true}", WAIT_MS);
  assert_result (r, "ack");
  gst_structure_free (r);

  text = wait_problem (c, GST_MESSAGE_WARNING);
  fail_unless (strstr (text, "keepalive") != NULL, "%s", text);
  g_free (text);
  m = wtsp_test_wait_element (c->bus, "wtsp-connection", "state", "ready",
      WAIT_MS);
  fail_unless (m != NULL, "no reconnect after a dead keepalive");
  gst_message_unref (m);

  client_free (c);
  wtsp_test_server_free (server);
}

GST_END_TEST;

GST_START_TEST (test_server_restart)
{
  WtspTestServer *server = wtsp_test_server_startv (NULL);
  Client *c = client_ready (server, "alice", "reconnect-delay-min=100");
  GstMessage *m;
  gchar *text;

  wtsp_test_server_kill (server);
  text = wait_problem (c, GST_MESSAGE_WARNING);
  fail_unless (strstr (text, "reconnecting") != NULL, "%s", text);
  g_free (text);
  m = wtsp_test_wait_element (c->bus, "wtsp-connection", "state",
      "reconnecting", WAIT_MS);
  fail_unless (m != NULL);
  gst_message_unref (m);

  wtsp_test_server_restart (server);
  /* a new handshake, then ready */
  gst_message_unref (wait_event (c, "state"));
  m = wtsp_test_wait_element (c->bus, "wtsp-connection", "state", "ready",
      WAIT_MS * 2);
  fail_unless (m != NULL, "no reconnect after the server came back");
  gst_message_unref (m);

  client_free (c);
  wtsp_test_server_free (server);
}

GST_END_TEST;

GST_START_TEST (test_refused_token)
{
  WtspTestServer *server = wtsp_test_server_start ("--user", "alice=1001",
      NULL);
  Client *c = client_new (server, "mallory", NULL);
  const GstStructure *details;
  GstMessage *m;
  gchar *text;
  guint status;

  client_play (c);
  m = wtsp_test_wait_type (c->bus, GST_MESSAGE_ERROR, WAIT_MS);
  fail_unless (m != NULL);
  text = wtsp_test_message_text (m);
  fail_unless (strstr (text, "refused the token") != NULL, "%s", text);
  fail_unless (strstr (text, "401") != NULL, "%s", text);
  fail_unless (strstr (text, "mallory") == NULL, "token leaked: %s", text);
  g_free (text);

  details = check_details (m, "auth");
  fail_unless (gst_structure_get_uint (details, "http-status", &status));
  fail_unless_equals_int (status, 401);
  fail_if (gst_structure_has_field (details, "close-code"));
  text = gst_structure_to_string (details);
  fail_unless (strstr (text, "mallory") == NULL, "token leaked: %s", text);
  g_free (text);
  gst_message_unref (m);

  client_free (c);
  wtsp_test_server_free (server);
}

GST_END_TEST;

GST_START_TEST (test_force_replace)
{
  WtspTestServer *server = wtsp_test_server_startv (NULL);
  Client *a = client_ready (server, "alice", NULL);
  Client *b, *d;
  gchar *text;

  /* force=false while the session is held: refused, and told how */
  b = client_new (server, "alice", NULL);
  client_play (b);
  text = wait_problem (b, GST_MESSAGE_ERROR);
  fail_unless (strstr (text, "4431") != NULL, "%s", text);
  fail_unless (strstr (text, "force=true") != NULL, "%s", text);
  g_free (text);
  client_free (b);

  /* force=true takes it over; the old one stops for good, naming 4441 */
  d = client_ready (server, "alice", "force=true");
  text = wait_problem (a, GST_MESSAGE_ERROR);
  fail_unless (strstr (text, "4441") != NULL, "%s", text);
  fail_unless (strstr (text, "replaced by a forced connection") != NULL,
      "%s", text);
  g_free (text);

  client_free (a);
  client_free (d);
  wtsp_test_server_free (server);
}

GST_END_TEST;

GST_START_TEST (test_malformed_messages)
{
  static const struct
  {
    const gchar *text;
    const gchar *named;         /* the warning must name this */
  } bad[] = {
    {"this is not json", "not JSON"},
    {"[1,2,3]", "not a JSON object"},
    {"{\"hello\":1}", "\"handshake\", \"request\", \"response\""},
    {"{\"event\":\"hangup\",\"line\":\"zero\",\"call_id\":\"x\"}", "line"},
    {"{\"event\":\"incoming_call\",\"line\":0}", "call_id"},
  };
  WtspTestServer *server = wtsp_test_server_start ("--debug-requests", NULL);
  Client *c = client_ready (server, "alice", NULL);
  GstStructure *r;
  GstMessage *m;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    gchar *escaped = g_strescape (bad[i].text, NULL);
    gchar *json = g_strdup_printf ("{\"request\":\"debug_send_raw\","
        "\"text\":\"%s\"}", escaped);
    gchar *text;

    r = wtsp_test_request (c->src, json, WAIT_MS);
    assert_result (r, "ack");
    gst_structure_free (r);
    text = wait_problem (c, GST_MESSAGE_WARNING);
    fail_unless (strstr (text, "malformed") != NULL, "%s", text);
    fail_unless (strstr (text, bad[i].named) != NULL, "row %u: %s", i, text);
    g_free (text);
    g_free (json);
    g_free (escaped);
  }

  /* Nothing was lost: an unknown event after all that is passed on */
  r = wtsp_test_request (c->src, "{\"request\":\"debug_event\",\"event\":"
      "{\"event\":\"brand_new_event\",\"x\":1}}", WAIT_MS);
  assert_result (r, "ack");
  gst_structure_free (r);
  m = wait_event (c, "brand_new_event");
  gst_message_unref (m);
  fail_unless (wtsp_test_wait_type (c->bus, GST_MESSAGE_ERROR, 0) == NULL);

  client_free (c);
  wtsp_test_server_free (server);
}

GST_END_TEST;

GST_START_TEST (test_oversized_message)
{
  WtspTestServer *server = wtsp_test_server_start ("--debug-requests", NULL);
  Client *c = client_ready (server, "alice",
      "max-message-size=4096 reconnect-delay-min=50");
  GstMessage *m;
  gchar *text;

  g_signal_emit_by_name (c->src, "request",
      "{\"request\":\"debug_send_size\",\"size\":8192}", NULL);
  text = wait_problem (c, GST_MESSAGE_WARNING);
  fail_unless (strstr (text, "reconnecting") != NULL, "%s", text);
  g_free (text);
  m = wtsp_test_wait_element (c->bus, "wtsp-connection", "state", "ready",
      WAIT_MS);
  fail_unless (m != NULL, "no reconnect after an oversized message");
  gst_message_unref (m);

  client_free (c);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* The token in no log line at any level, nor in any bus message */
static GMutex log_lock;
static GString *log_text;

static void
capture_log (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  /* Formatting may log too (structures, caps at TRACE): not under the lock */
  const gchar *text = gst_debug_message_get (message);

  g_mutex_lock (&log_lock);
  g_string_append (log_text, text);
  g_string_append_c (log_text, '\n');
  g_mutex_unlock (&log_lock);
}

GST_START_TEST (test_token_never_logged)
{
  const gchar *token = "Tok3nS3cr3tXyz";
  WtspTestServer *server = wtsp_test_server_start ("--debug-requests", NULL);
  Client *c;
  GstStructure *r;
  GstMessage *m;
  GString *bus_text = g_string_new (NULL);

  log_text = g_string_new (NULL);
  gst_debug_set_active (TRUE);
  gst_debug_remove_log_function (gst_debug_log_default);
  gst_debug_add_log_function (capture_log, NULL, NULL);
  gst_debug_set_default_threshold (GST_LEVEL_MEMDUMP);

  c = client_ready (server, token, "reconnect-delay-min=50");
  r = wtsp_test_request (c->src,
      "{\"request\":\"debug_delay_ack\",\"delay_ms\":0}", WAIT_MS);
  gst_structure_free (r);

  /* a reconnect logs the URL again */
  wtsp_test_server_kill (server);
  wtsp_test_server_restart (server);
  m = wtsp_test_wait_element (c->bus, "wtsp-connection", "state", "ready",
      WAIT_MS * 2);
  fail_unless (m != NULL);
  gst_message_unref (m);
  client_free (c);

  /* and a refusal: the error names the cause, not the secret */
  wtsp_test_server_free (server);
  server = wtsp_test_server_start ("--user", "other=1", NULL);
  c = client_new (server, token, NULL);
  client_play (c);
  while ((m = gst_bus_timed_pop (c->bus, 2 * GST_SECOND))) {
    gboolean error = GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR;
    gchar *text = wtsp_test_message_text (m);

    g_string_append (bus_text, text);
    if (gst_message_get_structure (m)) {
      gchar *s = gst_structure_to_string (gst_message_get_structure (m));
      g_string_append (bus_text, s);
      g_free (s);
    }
    g_free (text);
    gst_message_unref (m);
    if (error)
      break;
  }
  client_free (c);

  gst_debug_set_default_threshold (GST_LEVEL_NONE);
  gst_debug_remove_log_function (capture_log);
  gst_debug_add_log_function (gst_debug_log_default, NULL, NULL);

  fail_unless (log_text->len > 10000, "the debug log was not captured");
  fail_unless (strstr (log_text->str, "token=***") != NULL,
      "the log should show the redacted URL");
  fail_unless (strstr (log_text->str, token) == NULL, "token in the log");
  fail_unless (strstr (bus_text->str, "refused the token") != NULL);
  fail_unless (strstr (bus_text->str, token) == NULL, "token on the bus");

  g_string_free (log_text, TRUE);
  g_string_free (bus_text, TRUE);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* A server that accepts TCP connections and never answers */
GST_START_TEST (test_handshake_timeout)
{
  GSocketListener *listener = g_socket_listener_new ();
  GSocketAddress *addr;
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *effective = NULL;
  Client *c;
  WtspTestServer fake = { 0 };
  gchar *text;
  GTimer *timer;

  addr = g_inet_socket_address_new (lo, 0);
  fail_unless (g_socket_listener_add_address (listener, addr,
          G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &effective,
          NULL));
  fake.url = g_strdup_printf ("ws://127.0.0.1:%u/signaling/v1",
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective)));

  c = client_new (&fake, "alice", "handshake-timeout=500");
  timer = g_timer_new ();
  client_play (c);
  text = wait_problem (c, GST_MESSAGE_ERROR);
  fail_unless (strstr (text, "handshake") != NULL, "%s", text);
  fail_unless (g_timer_elapsed (timer, NULL) < 4.0);
  g_free (text);

  g_timer_destroy (timer);
  client_free (c);
  g_free (fake.url);
  g_object_unref (effective);
  g_object_unref (addr);
  g_object_unref (lo);
  g_socket_listener_close (listener);
  g_object_unref (listener);
}

GST_END_TEST;

GST_START_TEST (test_bad_settings)
{
  static const struct
  {
    const gchar *location;
    const gchar *token;
    const gchar *named;
    const gchar *prop;          /* and its value, set too */
    const gchar *value;
  } rows[] = {
    {NULL, "alice", "No location"},
    {"", "alice", "No location"},
    {"http://127.0.0.1:1/signaling/v1", "alice", "ws:// or wss://"},
    {"ws://127.0.0.1:1/signaling/v1", NULL, "No token"},
    {"ws://127.0.0.1:1/signaling/v1", "", "No token"},
    /* libsoup would only print a critical, then no handshake in 10 s */
    {"ws://", "alice", "The location ws:// has no host"},
    {"wss:///signaling/v1", "alice", "wss:///signaling/v1 has no host"},
    {"ws://:8080/signaling/v1?token=s3cret", NULL, "?token=*** has no host"},
    {"ws://127.0.0.1:1/signaling/v1", "alice",
        "reconnect-delay-min (100 ms) is larger than reconnect-delay-max "
          "(50 ms)", "reconnect-delay-max", "50"},
    {"ws://127.0.0.1:1/signaling/v1", "alice", "Could not read the token "
          "file", "token-file", "/nonexistent/token"},
    {"ws://127.0.0.1:1/signaling/v1", "alice", "Could not connect"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (rows); i++) {
    GstElement *pipeline = gst_pipeline_new (NULL);
    GstElement *src = gst_element_factory_make ("signalingsrc", NULL);
    GstElement *sink = gst_element_factory_make ("fakesink", NULL);
    GstBus *bus = gst_element_get_bus (pipeline);
    GstMessage *m;
    gchar *text;

    gst_bin_add_many (GST_BIN (pipeline), src, sink, NULL);
    gst_element_link (src, sink);
    g_object_set (src, "location", rows[i].location, "token", rows[i].token,
        "reconnect-delay-min", 100, NULL);
    if (rows[i].prop)
      gst_util_set_object_arg (G_OBJECT (src), rows[i].prop, rows[i].value);
    gst_element_set_state (pipeline, GST_STATE_PLAYING);
    /* at once, not after a timeout */
    m = wtsp_test_wait_type (bus, GST_MESSAGE_ERROR, 2000);
    fail_unless (m != NULL, "row %u: no error", i);
    text = wtsp_test_message_text (m);
    fail_unless (strstr (text, rows[i].named) != NULL, "row %u: %s", i, text);
    fail_unless (strstr (text, "s3cret") == NULL, "row %u: %s", i, text);
    g_free (text);
    if (i == G_N_ELEMENTS (rows) - 1) {
      /* refused: no HTTP response, so no http-status */
      const GstStructure *details = check_details (m, "connect");

      fail_if (gst_structure_has_field (details, "http-status"), "%"
          GST_PTR_FORMAT, details);
      fail_if (gst_structure_has_field (details, "close-code"));
    }
    gst_message_unref (m);
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (bus);
    gst_object_unref (pipeline);
  }
}

GST_END_TEST;


GST_START_TEST (test_tenant_location)
{
  /* A tenant path and a query of its own: token and force are added */
  WtspTestServer *server = wtsp_test_server_startv (NULL);
  gchar *base = g_strndup (server->url, strlen (server->url) -
      strlen ("/signaling/v1"));
  gchar *url = g_strdup_printf ("%s/tenant/acme/signaling/v1?client=gst",
      base);
  WtspTestServer fake = { 0 };
  Client *c;

  fake.url = url;
  c = client_ready (&fake, "alice", NULL);
  client_free (c);
  g_free (base);
  g_free (url);
  wtsp_test_server_free (server);
}

GST_END_TEST;

GST_START_TEST (test_registration_failed)
{
  WtspTestServer *server = wtsp_test_server_start ("--debug-requests", NULL);
  Client *c = client_ready (server, "alice", NULL);
  gchar *text;

  g_signal_emit_by_name (c->src, "request", "{\"request\":\"debug_event\","
      "\"event\":{\"event\":\"registration_failed\",\"code\":403,"
      "\"reason\":\"Forbidden\"}}", NULL);
  text = wait_problem (c, GST_MESSAGE_ERROR);
  fail_unless (strstr (text, "SIP registration failed: 403 Forbidden") !=
      NULL, "%s", text);
  g_free (text);

  client_free (c);
  wtsp_test_server_free (server);
}

GST_END_TEST;

GST_START_TEST (test_close_codes)
{
  /* Transient: reconnect. Permanent: an error naming code and meaning. */
  WtspTestServer *server = wtsp_test_server_start ("--debug-requests", NULL);
  Client *c = client_ready (server, "alice", "reconnect-delay-min=50");
  GstMessage *m;
  gchar *text;

  g_signal_emit_by_name (c->src, "request", "{\"request\":\"debug_close\","
      "\"code\":1001,\"reason\":\"going away\"}", NULL);
  text = wait_problem (c, GST_MESSAGE_WARNING);
  fail_unless (strstr (text, "1001") != NULL, "%s", text);
  g_free (text);
  m = wtsp_test_wait_element (c->bus, "wtsp-connection", "state", "ready",
      WAIT_MS);
  fail_unless (m != NULL, "no reconnect after 1001");
  gst_message_unref (m);

  g_signal_emit_by_name (c->src, "request", "{\"request\":\"debug_close\","
      "\"code\":4302,\"reason\":\"unregistered\"}", NULL);
  m = wtsp_test_wait_type (c->bus, GST_MESSAGE_ERROR, WAIT_MS);
  fail_unless (m != NULL);
  text = wtsp_test_message_text (m);
  fail_unless (strstr (text, "4302") != NULL, "%s", text);
  fail_unless (strstr (text, "unregistered") != NULL, "%s", text);
  g_free (text);
  {
    const GstStructure *details = check_details (m, "closed");
    guint code;

    fail_unless (gst_structure_get_uint (details, "close-code", &code));
    fail_unless_equals_int (code, 4302);
    fail_unless_equals_string (gst_structure_get_string (details,
            "close-reason"), "unregistered");
    fail_if (gst_structure_has_field (details, "http-status"));
  }
  gst_message_unref (m);

  client_free (c);
  wtsp_test_server_free (server);
}

GST_END_TEST;

#define TEST_SDP "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" \
  "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n" \
  "a=rtpmap:111 opus/48000/2\r\na=mid:0\r\na=sendrecv\r\n"

GST_START_TEST (test_reconnect_lists_calls)
{
  /* The self-recoverable mechanism: after a drop, the new state says which
   * calls still exist; the lines property shows it */
  WtspTestServer *server = wtsp_test_server_start ("--debug-requests", NULL);
  Client *alice = client_ready (server, "alice", "reconnect-delay-min=50");
  Client *bob = client_ready (server, "bob", NULL);
  GstStructure *r;
  GstMessage *m;
  gchar *json, *escaped, *lines;

  escaped = g_strescape (TEST_SDP, NULL);
  json = g_strdup_printf ("{\"request\":\"outgoing_call\",\"line\":0,"
      "\"call_id\":\"c4llidc4llidc4llidc4llid\",\"number\":\"bob\","
      "\"jsep\":{\"type\":\"offer\",\"sdp\":\"%s\"}}", escaped);
  r = wtsp_test_request (alice->src, json, WAIT_MS);
  assert_result (r, "ack");
  gst_structure_free (r);
  m = wait_event (bob, "incoming_call");
  gst_message_unref (m);
  gst_message_unref (wait_event (alice, "ringing"));

  g_object_get (alice->src, "lines", &lines, NULL);
  fail_unless (strstr (lines, "c4llidc4llidc4llidc4llid") != NULL, "%s",
      lines);
  g_free (lines);

  g_signal_emit_by_name (alice->src, "request", "{\"request\":\"debug_close\","
      "\"code\":1001,\"reason\":\"x\"}", NULL);
  m = wtsp_test_wait_element (alice->bus, "wtsp-connection", "state",
      "reconnecting", WAIT_MS);
  fail_unless (m != NULL);
  gst_message_unref (m);
  m = wait_event (alice, "state");
  fail_unless (strstr (gst_structure_get_string (gst_message_get_structure
              (m), "json"), "\"call_logs\"") != NULL);
  gst_message_unref (m);

  g_object_get (alice->src, "lines", &lines, NULL);
  fail_unless (g_str_has_prefix (lines, "[{\"call_id\":"
          "\"c4llidc4llidc4llidc4llid\""), "%s", lines);
  fail_unless (strstr (lines, "\"outgoing_call\"") != NULL, "%s", lines);
  g_free (lines);

  g_free (json);
  g_free (escaped);
  client_free (alice);
  client_free (bob);
  wtsp_test_server_free (server);
}

GST_END_TEST;

static void
on_notify_lines (GObject * src, GParamSpec * pspec, gint * count)
{
  g_atomic_int_inc (count);
}

/* notify::lines follows the wtsp-message on the bus: wait for it */
static void
wait_notified (gint * count, gint expected)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  while (g_atomic_int_get (count) < expected
      && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  fail_unless_equals_int (g_atomic_int_get (count), expected);
}

static void
inject_event (Client * c, const gchar * event, const gchar * type)
{
  gchar *json = g_strdup_printf ("{\"request\":\"debug_event\","
      "\"event\":%s}", event);
  GstStructure *r = wtsp_test_request (c->src, json, WAIT_MS);

  assert_result (r, "ack");
  gst_structure_free (r);
  gst_message_unref (wait_event (c, type));
  g_free (json);
}

static void
assert_lines (Client * c, const gchar * expected)
{
  gchar *lines;

  g_object_get (c->src, "lines", &lines, NULL);
  fail_unless_equals_string (lines, expected);
  g_free (lines);
}

/* The lines property, kept by the session: call events update the call
 * a line shows; events for calls no line shows make up nothing */
GST_START_TEST (test_lines_property)
{
  WtspTestServer *server = wtsp_test_server_start ("--debug-requests", NULL);
  Client *c = client_new (server, "alice", NULL);
  GstMessage *m;
  gint notified = 0, before;
  gchar *lines;

  g_object_get (c->src, "lines", &lines, NULL);
  fail_unless (lines == NULL, "%s", lines);
  g_signal_connect (c->src, "notify::lines", G_CALLBACK (on_notify_lines),
      &notified);
  client_play (c);
  m = wtsp_test_wait_element (c->bus, "wtsp-connection", "state", "ready",
      WAIT_MS);
  fail_unless (m != NULL);
  gst_message_unref (m);
  assert_lines (c, "[null,null]");
  wait_notified (&notified, 1);

  inject_event (c, "{\"event\":\"incoming_call\",\"line\":1,"
      "\"call_id\":\"X\",\"caller\":\"bob\",\"callee\":\"alice\"}",
      "incoming_call");
  assert_lines (c, "[null,{\"call_id\":\"X\",\"state\":\"incoming_call\"}]");
  before = 2;
  wait_notified (&notified, before);

  /* Unknown calls, missed calls, the guest line: nothing changes */
  inject_event (c, "{\"event\":\"accepted\",\"line\":0,"
      "\"call_id\":\"Y\"}", "accepted");
  inject_event (c, "{\"event\":\"hangup\",\"line\":1,\"call_id\":\"Y\","
      "\"code\":200}", "hangup");
  inject_event (c, "{\"event\":\"missed_call\",\"line\":1,"
      "\"call_id\":\"X\",\"caller\":\"carol\",\"callee\":\"alice\"}",
      "missed_call");
  inject_event (c, "{\"event\":\"missed_call\",\"line\":null,"
      "\"call_id\":\"W\",\"caller\":\"carol\",\"callee\":\"alice\"}",
      "missed_call");
  assert_lines (c, "[null,{\"call_id\":\"X\",\"state\":\"incoming_call\"}]");
  fail_unless_equals_int (g_atomic_int_get (&notified), before);

  inject_event (c, "{\"event\":\"accepted\",\"line\":1,"
      "\"call_id\":\"X\"}", "accepted");
  assert_lines (c, "[null,{\"call_id\":\"X\",\"state\":\"accepted\"}]");
  inject_event (c, "{\"event\":\"hangup\",\"line\":1,\"call_id\":\"X\","
      "\"code\":200}", "hangup");
  assert_lines (c, "[null,null]");
  wait_notified (&notified, before + 2);

  g_signal_handlers_disconnect_by_data (c->src, &notified);
  client_free (c);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* The reference server's --janus and --accounts set-up errors: each
 * names its cause, before the server listens (no Janus is needed: the
 * unreachable one is a closed port) */
typedef struct
{
  const gchar *name;
  const gchar *accounts;        /* file contents; NULL: no --accounts */
  const gchar *janus;           /* NULL: no --janus */
  const gchar *extra;           /* one more flag, or NULL */
  gint status;                  /* exit status */
  const gchar *says;            /* in its stderr */
} ServerSetupCase;

static const ServerSetupCase server_setup_cases[] = {
  {"no-accounts", NULL, "ws://127.0.0.1:9", NULL, 1,
      "--janus needs --accounts FILE"},
  {"no-identity", "[alice]\nnumber=alice\n", "ws://127.0.0.1:9", NULL, 2,
      "[alice] needs identity=sip:USER@DOMAIN"},
  {"not-a-key-file", "alice = sip:alice@x\n", "ws://127.0.0.1:9", NULL, 2,
      "--accounts "},
  {"not-ws", "[alice]\nidentity=sip:alice@x\n", "http://127.0.0.1:9", NULL,
      1, "not a ws:// or wss:// URL"},
  {"unreachable", "[alice]\nidentity=sip:alice@x\n", "ws://127.0.0.1:9",
      NULL, 1, "could not reach Janus at ws://127.0.0.1:9"},
  {"with-call-mode", "[alice]\nidentity=sip:alice@x\n", "ws://127.0.0.1:9",
      "--offerless", 2, "the call modes are the far phone's"},
};

GST_START_TEST (test_server_setup_errors)
{
  const ServerSetupCase *c = &server_setup_cases[__i__];
  gchar *dir = g_dir_make_tmp ("wtsp-accounts-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "accounts.ini", NULL);
  const gchar *argv[10];
  gchar *err = NULL;
  gint status = -1, n = 0;

  argv[n++] = g_getenv ("WTSP_SIGNALING_SERVER");
  fail_unless (argv[0] != NULL, "WTSP_SIGNALING_SERVER is not set");
  argv[n++] = "--port";
  argv[n++] = "0";
  if (c->janus) {
    argv[n++] = "--janus";
    argv[n++] = c->janus;
  }
  if (c->accounts) {
    fail_unless (g_file_set_contents (path, c->accounts, -1, NULL));
    argv[n++] = "--accounts";
    argv[n++] = path;
  }
  if (c->extra)
    argv[n++] = c->extra;
  argv[n] = NULL;

  fail_unless (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_DEFAULT,
          NULL, NULL, NULL, &err, &status, NULL));
  fail_unless (g_spawn_check_wait_status (status, NULL) == FALSE,
      "%s: the server started", c->name);
  fail_unless (WIFEXITED (status), "%s: killed by a signal", c->name);
  fail_unless_equals_int (WEXITSTATUS (status), c->status);
  fail_unless (strstr (err, c->says) != NULL, "%s: stderr \"%s\" does not "
      "say \"%s\"", c->name, err, c->says);

  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
  g_free (err);
}

GST_END_TEST;

/* wss:// with a certificate made for this run */
GST_START_TEST (test_tls)
{
  gchar *dir = g_dir_make_tmp ("wtsp-tls-XXXXXX", NULL);
  gchar *cert = g_build_filename (dir, "cert.pem", NULL);
  gchar *key = g_build_filename (dir, "key.pem", NULL);
  gchar *cmd, *text, *props;
  gint status = -1;
  WtspTestServer *server;
  Client *c;

  cmd = g_strdup_printf ("openssl req -x509 -newkey rsa:2048 -nodes "
      "-keyout %s -out %s -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1", key, cert);
  fail_unless (g_spawn_command_line_sync (cmd, NULL, NULL, &status, NULL));
  fail_unless (status == 0, "openssl failed");
  g_free (cmd);

  server = wtsp_test_server_start ("--tls-cert", cert, "--tls-key", key,
      NULL);
  fail_unless (g_str_has_prefix (server->url, "wss://"), "%s", server->url);

  /* Not trusted by the system: a clear error */
  c = client_new (server, "alice", NULL);
  client_play (c);
  text = wait_problem (c, GST_MESSAGE_ERROR);
  fail_unless (strstr (text, "TLS") != NULL, "%s", text);
  fail_unless (strstr (text, "ca-file") != NULL, "%s", text);
  g_free (text);
  client_free (c);

  /* Trusted through ca-file */
  props = g_strdup_printf ("ca-file=%s", cert);
  c = client_ready (server, "alice", props);
  client_free (c);
  g_free (props);

  /* Or not validated at all */
  c = client_ready (server, "alice", "tls-validation=false");
  client_free (c);

  wtsp_test_server_free (server);
  g_unlink (cert);
  g_unlink (key);
  g_rmdir (dir);
  g_free (cert);
  g_free (key);
  g_free (dir);
}

GST_END_TEST;

static Suite *
signalingsrc_suite (void)
{
  Suite *s = suite_create ("signalingsrc");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_handshake);
  tcase_add_test (tc, test_registration_sequence);
  tcase_add_test (tc, test_transactions);
  tcase_add_test (tc, test_out_of_order);
  tcase_add_test (tc, test_timeout_and_late_answer);
  tcase_add_test (tc, test_keepalive);
  tcase_add_test (tc, test_keepalive_out_of_range);
  tcase_add_test (tc, test_keepalive_death);
  tcase_add_test (tc, test_server_restart);
  tcase_add_test (tc, test_refused_token);
  tcase_add_test (tc, test_force_replace);
  tcase_add_test (tc, test_malformed_messages);
  tcase_add_test (tc, test_oversized_message);
  tcase_add_test (tc, test_token_never_logged);
  tcase_add_test (tc, test_handshake_timeout);
  tcase_add_test (tc, test_bad_settings);
  tcase_add_test (tc, test_tenant_location);
  tcase_add_test (tc, test_registration_failed);
  tcase_add_test (tc, test_close_codes);
  tcase_add_test (tc, test_reconnect_lists_calls);
  tcase_add_test (tc, test_lines_property);
  tcase_add_test (tc, test_tls);
  tcase_add_loop_test (tc, test_server_setup_errors, 0,
      G_N_ELEMENTS (server_setup_cases));
  return s;
}

GST_CHECK_MAIN (signalingsrc);
