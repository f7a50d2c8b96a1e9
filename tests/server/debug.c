/* Reference WTSP server: test requests (--debug-requests)
 *
 * They let the project's tests make the server misbehave in the ways a
 * real one may: late, missing or wrong answers, malformed, odd or huge
 * messages, closes with any code, a server that stops echoing keepalives.
 * The list is at the top of signaling-server.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "server.h"

#include <string.h>

#define BLOB_HEAD "{\"event\":\"debug_blob\",\"blob\":\""
#define BLOB_TAIL "\"}"

/* Bigger than any client accepts; a test needs no more */
#define MAX_BLOB_SIZE (64 * 1024 * 1024)

/* A response held back by debug_delay_ack */
typedef struct
{
  Client *client;
  guint id;
  JsonObject *response;
} DebugTimer;

static void
debug_timer_free (DebugTimer * timer)
{
  json_object_unref (timer->response);
  g_free (timer);
}

void
debug_cancel_timers (Client * client)
{
  GList *l;

  for (l = client->timers; l; l = l->next) {
    DebugTimer *timer = l->data;

    g_source_remove (timer->id);
    debug_timer_free (timer);
  }
  g_clear_pointer (&client->timers, g_list_free);
}

static gboolean
debug_timer_fire (gpointer data)
{
  DebugTimer *timer = data;
  Client *client = timer->client;

  client->timers = g_list_remove (client->timers, timer);
  client_send_object (client, timer->response);
  debug_timer_free (timer);
  return G_SOURCE_REMOVE;
}

/* Members the validator knows nothing about: checked here */
static gboolean
get_int (Client * client, WtspMessage * req, const gchar * name,
    gint64 min, gint64 max, gint64 * value)
{
  JsonNode *node = json_object_get_member (req->object, name);
  gchar *reason;

  if (node && JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_INT64
      && json_node_get_int (node) >= min && json_node_get_int (node) <= max) {
    *value = json_node_get_int (node);
    return TRUE;
  }
  reason = g_strdup_printf ("request \"%s\" needs \"%s\": an integer from %"
      G_GINT64_FORMAT " to %" G_GINT64_FORMAT, req->type, name, min, max);
  client_respond_error (client, req, NULL, 456, reason);
  g_free (reason);
  return FALSE;
}

static void
debug_send_raw (Client * client, WtspMessage * req)
{
  const gchar *text = wtsp_message_get_string (req, "text");

  if (text == NULL) {
    client_respond_error (client, req, NULL, 456,
        "request \"debug_send_raw\" needs \"text\": a string");
    return;
  }
  client_respond_ack (client, req, NULL);
  client_send_text (client, text);
}

static void
debug_send_size (Client * client, WtspMessage * req)
{
  gsize overhead = strlen (BLOB_HEAD) + strlen (BLOB_TAIL);
  gint64 size;
  gchar *blob;

  if (!get_int (client, req, "size", overhead, MAX_BLOB_SIZE, &size))
    return;
  client_respond_ack (client, req, NULL);

  blob = g_malloc (size + 1);
  memcpy (blob, BLOB_HEAD, strlen (BLOB_HEAD));
  memset (blob + strlen (BLOB_HEAD), 'x', size - overhead);
  memcpy (blob + size - strlen (BLOB_TAIL), BLOB_TAIL, strlen (BLOB_TAIL));
  blob[size] = '\0';
  client_send_text (client, blob);
  g_free (blob);
}

static void
debug_delay_ack (Client * client, WtspMessage * req)
{
  DebugTimer *timer;
  gint64 delay;

  if (!get_int (client, req, "delay_ms", 0, G_MAXUINT, &delay))
    return;
  timer = g_new0 (DebugTimer, 1);
  timer->client = client;
  timer->response = wtsp_response_new_ack (req->transaction, req->line,
      req->call_id);
  timer->id = g_timeout_add (delay, debug_timer_fire, timer);
  client->timers = g_list_prepend (client->timers, timer);
}

static void
debug_no_ack (Client * client, WtspMessage * req)
{
  server_log (client->server, "[%s] %s left unanswered, as asked",
      client->label, req->transaction);
}

static void
debug_error (Client * client, WtspMessage * req)
{
  gint64 code;

  if (!get_int (client, req, "code", G_MININT, G_MAXINT, &code))
    return;
  client_respond_error (client, req, NULL, code,
      wtsp_message_get_string (req, "reason"));
}

static void
debug_close (Client * client, WtspMessage * req)
{
  gint64 code;

  /* what RFC 6455 lets an endpoint put in a close frame */
  if (!get_int (client, req, "code", 1000, 4999, &code))
    return;
  if (code != 1000 && code != 1001 && code != 1003 && code != 1007
      && code != 1008 && code != 1009 && code != 1011 && code < 3000) {
    client_respond_error (client, req, NULL, 456,
        "that code cannot be sent in a close frame");
    return;
  }
  client_respond_ack (client, req, NULL);
  client_close (client, code, wtsp_message_get_string (req, "reason"));
}

static void
debug_ignore_keepalives (Client * client, WtspMessage * req)
{
  client->session->ignore_keepalives =
      json_object_get_boolean_member_with_default (req->object, "enabled",
      TRUE);
  client_respond_ack (client, req, NULL);
}

static void
debug_event (Client * client, WtspMessage * req)
{
  JsonObject *event = wtsp_message_get_object (req, "event");
  const gchar *to;
  Client *target = client;

  if (event == NULL) {
    client_respond_error (client, req, NULL, 456,
        "request \"debug_event\" needs \"event\": an object");
    return;
  }
  to = wtsp_message_get_string (req, "to");
  if (to) {
    /* to another session, by its number */
    GHashTableIter iter;
    gpointer value;

    target = NULL;
    g_hash_table_iter_init (&iter, client->server->sessions);
    while (target == NULL && g_hash_table_iter_next (&iter, NULL, &value))
      if (g_strcmp0 (((Session *) value)->number, to) == 0
          && ((Session *) value)->client)
        target = ((Session *) value)->client;
    if (target == NULL) {
      client_respond_error (client, req, NULL, 404,
          "debug_event: no attached session has that number");
      return;
    }
  }
  client_respond_ack (client, req, NULL);
  client_send_object (target, event);
}

/* What the tests cannot see from the client side: how many WebSockets
 * the server took (sessions shared by several elements use one) */
static void
debug_connections (Client * client, WtspMessage * req)
{
  Server *server = client->server;
  JsonObject *ack = wtsp_response_new_ack (req->transaction, req->line,
      req->call_id);
  guint open = 0;
  GList *l;

  for (l = server->clients; l; l = l->next) {
    Client *c = l->data;

    if (!c->closed && soup_websocket_connection_get_state (c->conn) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      open++;
  }
  json_object_set_int_member (ack, "accepted", server->accepted);
  json_object_set_int_member (ack, "open", open);
  client_send_object (client, ack);
  json_object_unref (ack);
}

static const struct
{
  const gchar *type;
  void (*func) (Client * client, WtspMessage * req);
} debug_requests[] = {
  {"debug_send_raw", debug_send_raw},
  {"debug_send_size", debug_send_size},
  {"debug_delay_ack", debug_delay_ack},
  {"debug_no_ack", debug_no_ack},
  {"debug_error", debug_error},
  {"debug_close", debug_close},
  {"debug_ignore_keepalives", debug_ignore_keepalives},
  {"debug_event", debug_event},
  {"debug_connections", debug_connections},
};

/* Returns: FALSE if @req is no debug request */
gboolean
debug_handle_request (Client * client, WtspMessage * req)
{
  guint i;

  if (!g_str_has_prefix (req->type, "debug_"))
    return FALSE;
  if (!client->server->debug_requests) {
    client_respond_error (client, req, NULL, 453,
        "unknown request (debug requests need --debug-requests)");
    return TRUE;
  }
  for (i = 0; i < G_N_ELEMENTS (debug_requests); i++) {
    if (g_str_equal (req->type, debug_requests[i].type)) {
      debug_requests[i].func (client, req);
      return TRUE;
    }
  }
  client_respond_error (client, req, NULL, 453, "unknown request");
  return TRUE;
}
