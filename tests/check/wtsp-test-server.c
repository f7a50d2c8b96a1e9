/* Test fixture: the reference signaling server, run for real
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "wtsp-test-server.h"

#include <gst/check/gstcheck.h>
#include <signal.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

static const gchar *
server_path (void)
{
  const gchar *path = g_getenv ("WTSP_SIGNALING_SERVER");

  fail_unless (path != NULL, "WTSP_SIGNALING_SERVER is not set (run the "
      "tests with meson test)");
  return path;
}

/* In the server, before exec: a test that crashes, or exits at once on a
 * failure, must not leave its server behind */
static void
child_setup (gpointer user_data)
{
#ifdef __linux__
  prctl (PR_SET_PDEATHSIG, SIGTERM);
#endif
}

/* Returns FALSE if the server exited before it listened and @must is
 * FALSE (else that fails the test) */
static gboolean
spawn (WtspTestServer * server, gboolean must)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  GError *error = NULL;
  GDataInputStream *out;
  gchar *line, **a;
  const gchar *prefix = "listening ";
  GSubprocessLauncher *launcher;
  GUri *uri;

  g_ptr_array_add (argv, g_strdup (server_path ()));
  g_ptr_array_add (argv, g_strdup ("--port"));
  g_ptr_array_add (argv, g_strdup_printf ("%u", server->port));
  for (a = server->args; a && *a; a++)
    g_ptr_array_add (argv, g_strdup (*a));
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  server->proc = g_subprocess_launcher_spawnv (launcher,
      (const gchar * const *) argv->pdata, &error);
  g_object_unref (launcher);
  fail_unless (server->proc != NULL, "cannot start %s: %s", server_path (),
      error ? error->message : "?");
  g_ptr_array_unref (argv);

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->proc));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_object_unref (out);
  if (line == NULL && error == NULL && !must) {
    /* EOF: it refused its arguments (and said why on stderr) */
    g_subprocess_wait (server->proc, NULL, NULL);
    g_clear_object (&server->proc);
    return FALSE;
  }
  fail_unless (line != NULL && g_str_has_prefix (line, prefix),
      "signaling-server did not say where it listens (got \"%s\")",
      line ? line : (error ? error->message : "EOF"));

  g_free (server->url);
  server->url = g_strdup (line + strlen (prefix));
  uri = g_uri_parse (server->url, G_URI_FLAGS_NONE, NULL);
  fail_unless (uri != NULL, "signaling-server listens on \"%s\"", server->url);
  if (server->port == 0)
    server->port = g_uri_get_port (uri);
  g_free (server->host);
  server->host = g_strdup (g_uri_get_host (uri));
  g_uri_unref (uri);
  g_free (line);
  return TRUE;
}

static WtspTestServer *
start (const gchar * const *args, gboolean must)
{
  WtspTestServer *server = g_new0 (WtspTestServer, 1);

  server->args = g_strdupv ((gchar **) args);
  if (!spawn (server, must)) {
    g_strfreev (server->args);
    g_free (server);
    return NULL;
  }
  return server;
}

WtspTestServer *
wtsp_test_server_startv (const gchar * const *args)
{
  return start (args, TRUE);
}

WtspTestServer *
wtsp_test_server_try_startv (const gchar * const *args)
{
  return start (args, FALSE);
}

WtspTestServer *
wtsp_test_server_start (const gchar * first_arg, ...)
{
  GPtrArray *args = g_ptr_array_new ();
  WtspTestServer *server;
  const gchar *arg;
  va_list ap;

  va_start (ap, first_arg);
  for (arg = first_arg; arg; arg = va_arg (ap, const gchar *))
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  server = wtsp_test_server_startv ((const gchar * const *) args->pdata);
  g_ptr_array_unref (args);
  return server;
}

static void
stop (WtspTestServer * server, gint sig)
{
  if (server->proc == NULL)
    return;
  g_subprocess_send_signal (server->proc, sig);
  g_subprocess_wait (server->proc, NULL, NULL);
  g_clear_object (&server->proc);
}

void
wtsp_test_server_kill (WtspTestServer * server)
{
  stop (server, SIGKILL);
}

void
wtsp_test_server_restart (WtspTestServer * server)
{
  fail_unless (server->proc == NULL, "restart a server that was killed");
  spawn (server, TRUE);
}

void
wtsp_test_server_free (WtspTestServer * server)
{
  stop (server, SIGTERM);
  g_strfreev (server->args);
  g_free (server->url);
  g_free (server->host);
  g_free (server);
}

GstMessage *
wtsp_test_wait_element (GstBus * bus, const gchar * name, const gchar * field,
    const gchar * value, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  for (;;) {
    gint64 left = deadline - g_get_monotonic_time ();
    GstMessage *msg;
    const GstStructure *s;

    if (left <= 0)
      return NULL;
    msg = gst_bus_timed_pop_filtered (bus, left * GST_USECOND,
        GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR);
    if (msg == NULL)
      return NULL;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      gchar *text = wtsp_test_message_text (msg);

      fail ("unexpected error while waiting for %s %s=%s: %s", name,
          GST_STR_NULL (field), GST_STR_NULL (value), text);
      g_free (text);
    }
    s = gst_message_get_structure (msg);
    if (gst_structure_has_name (s, name) && (field == NULL
            || (value == NULL && gst_structure_has_field (s, field))
            || (value && g_strcmp0 (gst_structure_get_string (s, field),
                    value) == 0)))
      return msg;
    gst_message_unref (msg);
  }
}

GstMessage *
wtsp_test_wait_type (GstBus * bus, GstMessageType type, guint timeout_ms)
{
  return gst_bus_timed_pop_filtered (bus, timeout_ms * GST_MSECOND, type);
}

gchar *
wtsp_test_message_text (GstMessage * msg)
{
  GError *error = NULL;
  gchar *debug = NULL, *text;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (msg, &error, &debug);
      break;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (msg, &error, &debug);
      break;
    default:
      return g_strdup (GST_MESSAGE_TYPE_NAME (msg));
  }
  text = g_strdup_printf ("%s | %s", error->message, GST_STR_NULL (debug));
  g_error_free (error);
  g_free (debug);
  return text;
}

typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean done;
} Waiter;

static void
on_reply (GstPromise * promise, gpointer user_data)
{
  Waiter *w = user_data;

  g_mutex_lock (&w->lock);
  w->done = TRUE;
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->lock);
}

GstStructure *
wtsp_test_request (GstElement * element, const gchar * json, guint timeout_ms)
{
  /* On the heap and never freed if the reply is lost: the promise may
   * still be replied to after the test gave up on it */
  Waiter *w = g_new0 (Waiter, 1);
  GstPromise *promise = gst_promise_new_with_change_func (on_reply, w, NULL);
  GstStructure *reply = NULL;
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  gboolean done;

  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  g_signal_emit_by_name (element, "request", json, promise);

  g_mutex_lock (&w->lock);
  while (!w->done && g_cond_wait_until (&w->cond, &w->lock, deadline));
  done = w->done;
  g_mutex_unlock (&w->lock);

  fail_unless (done, "no reply to %s within %u ms", json, timeout_ms);
  reply = gst_structure_copy (gst_promise_get_reply (promise));
  gst_promise_unref (promise);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
  g_free (w);
  return reply;
}

/* The proxy: blocking sockets, one thread accepting and two per
 * connection (one per direction); cut() shuts the sockets down, which
 * wakes them */

struct _WtspTestProxy
{
  WtspTestServer *server;
  GSocket *listener;
  GCancellable *cancel;
  GThread *acceptor;
  gchar *url;

  GMutex lock;
  GPtrArray *conns;             /* Conn */
  gint64 refuse_until_us;       /* monotonic */
  guint accepted;
};

typedef struct
{
  GSocket *a, *b;
  GThread *up, *down;
} Conn;

typedef struct
{
  GSocket *from, *to;
} Pump;

static gpointer
pump_run (gpointer data)
{
  Pump *p = data;
  gchar buf[16384];

  for (;;) {
    gssize n = g_socket_receive (p->from, buf, sizeof buf, NULL, NULL);
    gssize off = 0;

    if (n <= 0)
      break;
    while (off < n) {
      gssize w = g_socket_send (p->to, buf + off, n - off, NULL, NULL);

      if (w <= 0)
        goto done;
      off += w;
    }
  }
done:
  /* either side gone: both go */
  g_socket_shutdown (p->from, TRUE, TRUE, NULL);
  g_socket_shutdown (p->to, TRUE, TRUE, NULL);
  g_free (p);
  return NULL;
}

static GThread *
pump_start (GSocket * from, GSocket * to)
{
  Pump *p = g_new0 (Pump, 1);

  p->from = from;
  p->to = to;
  return g_thread_new ("proxy-pump", pump_run, p);
}

static gpointer
acceptor_run (gpointer data)
{
  WtspTestProxy *proxy = data;

  for (;;) {
    GSocket *client = g_socket_accept (proxy->listener, proxy->cancel, NULL);
    GSocket *upstream;
    GInetAddress *addr;
    GSocketAddress *target;
    gboolean refuse;
    Conn *c;

    if (client == NULL)
      break;
    g_mutex_lock (&proxy->lock);
    proxy->accepted++;
    refuse = g_get_monotonic_time () < proxy->refuse_until_us;
    g_mutex_unlock (&proxy->lock);
    if (refuse) {
      g_socket_close (client, NULL);
      g_object_unref (client);
      continue;
    }
    upstream = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
        G_SOCKET_PROTOCOL_TCP, NULL);
    addr = g_inet_address_new_from_string (proxy->server->host);
    target = g_inet_socket_address_new (addr, proxy->server->port);
    if (!g_socket_connect (upstream, target, NULL, NULL)) {
      g_socket_close (client, NULL);
      g_object_unref (client);
      g_object_unref (upstream);
    } else {
      c = g_new0 (Conn, 1);
      c->a = client;
      c->b = upstream;
      c->up = pump_start (client, upstream);
      c->down = pump_start (upstream, client);
      g_mutex_lock (&proxy->lock);
      g_ptr_array_add (proxy->conns, c);
      g_mutex_unlock (&proxy->lock);
    }
    g_object_unref (target);
    g_object_unref (addr);
  }
  return NULL;
}

static void
conn_free (Conn * c)
{
  g_socket_shutdown (c->a, TRUE, TRUE, NULL);
  g_socket_shutdown (c->b, TRUE, TRUE, NULL);
  g_thread_join (c->up);
  g_thread_join (c->down);
  g_object_unref (c->a);
  g_object_unref (c->b);
  g_free (c);
}

WtspTestProxy *
wtsp_test_proxy_new (WtspTestServer * server)
{
  WtspTestProxy *proxy = g_new0 (WtspTestProxy, 1);
  GInetAddress *addr = g_inet_address_new_from_string (server->host);
  GSocketAddress *local = g_inet_socket_address_new (addr, 0);
  GSocketAddress *bound;
  GError *error = NULL;
  GUri *uri, *proxied;

  proxy->server = server;
  g_mutex_init (&proxy->lock);
  proxy->conns = g_ptr_array_new ();
  proxy->cancel = g_cancellable_new ();
  proxy->listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, &error);
  fail_unless (proxy->listener != NULL, "proxy socket: %s",
      error ? error->message : "?");
  fail_unless (g_socket_bind (proxy->listener, local, TRUE, &error)
      && g_socket_listen (proxy->listener, &error), "proxy listen: %s",
      error ? error->message : "?");
  bound = g_socket_get_local_address (proxy->listener, NULL);
  uri = g_uri_parse (server->url, G_URI_FLAGS_NONE, NULL);
  proxied = g_uri_build (G_URI_FLAGS_NONE, g_uri_get_scheme (uri), NULL,
      g_uri_get_host (uri),
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)),
      g_uri_get_path (uri), g_uri_get_query (uri), NULL);
  proxy->url = g_uri_to_string (proxied);
  g_uri_unref (proxied);
  g_uri_unref (uri);
  g_object_unref (bound);
  g_object_unref (local);
  g_object_unref (addr);
  proxy->acceptor = g_thread_new ("proxy-accept", acceptor_run, proxy);
  return proxy;
}

const gchar *
wtsp_test_proxy_get_url (WtspTestProxy * proxy)
{
  return proxy->url;
}

void
wtsp_test_proxy_cut (WtspTestProxy * proxy, guint down_ms)
{
  GPtrArray *conns;

  g_mutex_lock (&proxy->lock);
  proxy->refuse_until_us = g_get_monotonic_time () +
      down_ms * G_TIME_SPAN_MILLISECOND;
  conns = proxy->conns;
  proxy->conns = g_ptr_array_new ();
  g_mutex_unlock (&proxy->lock);
  g_ptr_array_foreach (conns, (GFunc) conn_free, NULL);
  g_ptr_array_free (conns, TRUE);
}

guint
wtsp_test_proxy_get_accepted (WtspTestProxy * proxy)
{
  guint n;

  g_mutex_lock (&proxy->lock);
  n = proxy->accepted;
  g_mutex_unlock (&proxy->lock);
  return n;
}

void
wtsp_test_proxy_free (WtspTestProxy * proxy)
{
  g_cancellable_cancel (proxy->cancel);
  g_thread_join (proxy->acceptor);
  g_ptr_array_foreach (proxy->conns, (GFunc) conn_free, NULL);
  g_ptr_array_free (proxy->conns, TRUE);
  g_socket_close (proxy->listener, NULL);
  g_object_unref (proxy->listener);
  g_object_unref (proxy->cancel);
  g_mutex_clear (&proxy->lock);
  g_free (proxy->url);
  g_free (proxy);
}
