/* Reference WTSP server
 *
 * A real WebTrit Signaling Protocol server (shared/protocol.md) that two
 * browsers, or two of our pipelines, can use to call each other: it routes
 * calls between the sessions connected to it by number, the way WebTrit
 * Core bridges them through a SIP gateway, and relays their offers,
 * answers and ICE candidates. The project's tests run it as a child
 * process.
 *
 *   signaling-server [--port N] [--host ADDR] [--lines N]
 *       [--keepalive-interval MS] [--session-timeout MS]
 *       [--tls-cert FILE --tls-key FILE] [--user TOKEN=NUMBER ...]
 *       [--registration-sequence] [--no-trickle]
 *       [--early-media [--early-media-delay MS] | --offerless]
 *       [--debug-requests] [--verbose]
 *       [--janus ws://HOST:PORT --accounts FILE]
 *
 * With --janus the calls go to real SIP through Janus' SIP plugin
 * (janus.c) instead of between the server's own sessions; --accounts
 * gives each token its SIP identity.
 *
 * Its first line on stdout is `listening ws://HOST:PORT/signaling/v1`
 * (`wss://` with TLS); everything else goes to stderr. SIGINT and SIGTERM
 * hang up every call (480), close every socket with 1001 and exit 0.
 *
 * Choices protocol.md leaves to the server ("Defined here"):
 *
 * - A session is its token. Its number is the token, or what
 *   `--user TOKEN=NUMBER` maps it to; with any --user only the listed
 *   tokens are let in. A refused or missing token gets HTTP 401.
 * - Response error codes (protocol.md §5): 453 unknown request (also any
 *   debug_* request without --debug-requests), 452 an object with no
 *   request/handshake key, 454 not JSON, 455 not an object, 456 a
 *   missing or mistyped member (the reason is the validator's text), 457 a
 *   line number beyond the session's lines, 459 no such call on that line
 *   ("handle not found": the call is the gateway's handle), 464 a jsep of
 *   the wrong type (outgoing_call and update need an offer, accept an
 *   answer; with --offerless the callee's accept needs an offer), 405 a
 *   request that makes no sense in the call's state, a busy line for
 *   outgoing_call, and every call request on the guest line
 *   (`line: null`: this server has no guest calls), 468 an outgoing_call
 *   whose call_id the session already uses. A malformed message with no
 *   transaction to answer closes the socket with 4501.
 * - A callee leg's call_id is made here (24 random letters and digits).
 * - The callee hanging up a call still ringing declines it (caller gets
 *   603 "Decline").
 * - --no-trickle holds each offer and answer until its sender's
 *   end-of-candidates (candidate null or {"completed": true}, or an SDP
 *   that already has a=end-of-candidates), or at most 5 s, then delivers
 *   it with the candidates written into the SDP. That goes for the
 *   offers and answers of updates too: one with a new a=ice-ufrag (an
 *   ICE restart) waits for the candidates trickled after it, one with
 *   the same ufrag goes at once with the candidates already in.
 * - A hangup, as the far side gets it: 200 "Session Terminated" if it had
 *   its accepted (or accepted itself), else 487 "Request Terminated" to a
 *   ringing callee (a CANCEL) and 603 "Decline" to a caller whose callee
 *   hung up before the caller was told the call is up.
 * - Requests that need the call up (hold, unhold, update, transfer) are
 *   refused with 405 before both sides have had accepted.
 *
 * Call modes, for the end-to-end tests (call.c draws both):
 *
 *   --early-media  A SIP callee that sends 183 Session Progress with its
 *                  SDP before the 200 OK. When the callee accepts with its
 *                  answer, the callee gets accepted as usual; the caller
 *                  gets `progress` (line, call_id, callee, jsep = the
 *                  answer) at once, and `accepted` WITHOUT jsep only
 *                  --early-media-delay MS later (default 500). A hangup in
 *                  between ends the call as before the answer (the caller
 *                  hanging up: the callee gets 200; the callee: the caller
 *                  gets 603), and no accepted follows; hold, update and
 *                  transfer get 405 until then. With --no-trickle,
 *                  progress waits for the callee's end of candidates.
 *
 *   --offerless    An INVITE without SDP: the callee offers, the caller
 *                  answers.
 *                  1. caller: outgoing_call(offer A) -> ack, calling. The
 *                     callee gets incoming_call WITHOUT jsep (offer A is
 *                     kept in the caller's call log only); the caller gets
 *                     ringing.
 *                  2. callee: accept with a jsep of type OFFER (B) -> ack,
 *                     accepting; the caller gets updating_call (its line
 *                     and call_id, caller, callee, jsep = offer B): the far
 *                     end re-offered, drop offer A and answer B. An accept
 *                     with anything but an offer gets 464 "offerless call:
 *                     accept must carry an offer".
 *                  3. caller: accept with the answer -> ack, accepted (no
 *                     jsep); the callee gets accepted with jsep = the
 *                     answer. The call is up; update and the rest as
 *                     usual.
 *                  Trickled candidates are relayed as they come from
 *                  the moment the caller has updating_call; until then
 *                  they are held. The callee's held ones follow the
 *                  updating_call. The caller's held ones belong to offer
 *                  A, which nobody sees: they are dropped, unless the
 *                  caller's answer has offer A's a=ice-ufrag (it kept that
 *                  ICE session), in which case they follow the callee's
 *                  accepted. With --no-trickle, offer B waits for the
 *                  callee's end of candidates and the answer for the
 *                  caller's (counting from the updating_call), each then
 *                  with its candidates in the SDP; the incoming_call does
 *                  not wait (it carries no SDP).
 *
 *   The two cannot be combined: an offerless call has no answer from the
 *   callee to send early.
 *
 * Test requests, accepted only with --debug-requests (else 453). Each is a
 * session request with a "transaction" like any other:
 *
 *   debug_send_raw {text}         ack, then send `text` verbatim as one
 *                                 text frame (malformed messages)
 *   debug_send_size {size}        ack, then send the event
 *                                 {"event":"debug_blob","blob":"xx..."}
 *                                 padded to exactly `size` bytes
 *   debug_delay_ack {delay_ms}    ack after delay_ms (late, out of order)
 *   debug_no_ack                  never answered
 *   debug_error {code, reason}    answered with that error response
 *   debug_close {code, reason}    ack, then close the socket with that code
 *   debug_ignore_keepalives {enabled}
 *                                 stop (or resume) echoing keepalives for
 *                                 this session, and the 4502 timeout with
 *                                 them
 *   debug_event {event, [to]}     ack, then send the object `event` as it
 *                                 is (any event, valid or not), to the
 *                                 session of number `to` if given
 *   debug_connections             ack with "accepted" (WebSockets opened
 *                                 since the server started, refused ones
 *                                 included) and "open" (open now)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "server.h"

#include <glib-unix.h>
#include <stdio.h>
#include <string.h>

#define SIGNALING_PATH "/signaling/v1"
#define TENANT_PREFIX "/tenant/"

/* RFC 6455 §5.5: a close frame's payload is at most 125 bytes, 2 of them
 * the code */
#define MAX_CLOSE_REASON 123

/* How long a stopping server waits for its clients' close frames */
#define SHUTDOWN_GRACE_MS 2000

/* Logs */

void
server_log (Server * server, const gchar * format, ...)
{
  GDateTime *now = g_date_time_new_now_local ();
  gchar *stamp = g_date_time_format (now, "%H:%M:%S");
  gchar *text;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  g_printerr ("%s.%03d signaling-server: %s\n", stamp,
      g_date_time_get_microsecond (now) / 1000, text);

  g_free (text);
  g_free (stamp);
  g_date_time_unref (now);
}

/* A debug_send_size blob can be a megabyte: nobody reads that in a log */
static void
log_message (Client * client, const gchar * direction, const gchar * text,
    gsize length)
{
  if (!client->server->verbose)
    return;
  if (length > 1024)
    server_log (client->server, "[%s] %s %.1024s... (%" G_GSIZE_FORMAT
        " bytes)", client->label, direction, text, length);
  else
    server_log (client->server, "[%s] %s %.*s", client->label, direction,
        (gint) length, text);
}

/* Sending */

void
client_send_text (Client * client, const gchar * text)
{
  /* libsoup only sends on an open socket; a message for a closing one
   * is lost, as it would be on the wire */
  if (client->closed || soup_websocket_connection_get_state (client->conn)
      != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  log_message (client, "->", text, strlen (text));
  soup_websocket_connection_send_text (client->conn, text);
}

void
client_send_object (Client * client, JsonObject * object)
{
  gchar *text = wtsp_object_to_string (object);
  WtspMessage *msg;
  GError *error = NULL;

  /* What we send, our own parser must take: a difference between the two
   * is a bug in one of them (debug_event may send anything, though) */
  msg = wtsp_message_new_from_object (object, &error);
  if (msg)
    wtsp_message_unref (msg);
  else {
    server_log (client->server, "[%s] sending a message the WTSP validator "
        "refuses: %s", client->label, error->message);
    g_error_free (error);
  }

  client_send_text (client, text);
  g_free (text);
}

/* @leg: the call the request was about, whose log keeps the answer too */
void
client_respond_ack (Client * client, WtspMessage * req, Leg * leg)
{
  JsonObject *ack = wtsp_response_new_ack (req->transaction, req->line,
      leg ? leg->call_id : req->call_id);

  if (leg)
    leg_log (leg, ack);
  client_send_object (client, ack);
  json_object_unref (ack);
}

void
client_respond_error (Client * client, WtspMessage * req, Leg * leg,
    gint code, const gchar * reason)
{
  JsonObject *err = wtsp_response_new_error (req->transaction, req->line,
      leg ? leg->call_id : req->call_id, code, reason);

  server_log (client->server, "[%s] request \"%s\" (%s) refused: %d %s",
      client->label, req->type, req->transaction, code,
      reason ? reason : wtsp_response_code_describe (code));
  if (leg)
    leg_log (leg, err);
  client_send_object (client, err);
  json_object_unref (err);
}

/* Connections */

static void
client_stop_keepalive (Client * client)
{
  if (client->keepalive_id) {
    g_source_remove (client->keepalive_id);
    client->keepalive_id = 0;
  }
}

/* Server-side close: the session is let go at once, so that its client
 * can come back without meeting its own closing socket (4431) */
void
client_close (Client * client, gushort code, const gchar * reason)
{
  gchar *text;

  /* even a socket already on its way out lets go of its session here */
  if (client->session)
    session_detach (client->session);
  if (client->closed || soup_websocket_connection_get_state (client->conn)
      != SOUP_WEBSOCKET_STATE_OPEN)
    return;

  text = g_strdup (reason ? reason : "");
  if (strlen (text) > MAX_CLOSE_REASON) {
    const gchar *end;

    /* cut on a character boundary */
    text[MAX_CLOSE_REASON] = '\0';
    if (!g_utf8_validate (text, -1, &end))
      text[end - text] = '\0';
  }

  server_log (client->server, "[%s] closing with %u \"%s\"", client->label,
      code, text);
  client_stop_keepalive (client);
  soup_websocket_connection_close (client->conn, code, text);
  g_free (text);
}

static void
client_free (Client * client)
{
  Server *server = client->server;

  server->clients = g_list_remove (server->clients, client);
  if (client->free_id)
    g_source_remove (client->free_id);
  if (client->session)
    session_detach (client->session);
  client_stop_keepalive (client);
  debug_cancel_timers (client);
  g_signal_handler_disconnect (client->conn, client->message_id);
  g_signal_handler_disconnect (client->conn, client->closed_id);
  g_signal_handler_disconnect (client->conn, client->error_id);
  if (soup_websocket_connection_get_state (client->conn) !=
      SOUP_WEBSOCKET_STATE_CLOSED)
    soup_websocket_connection_close (client->conn,
        SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "going away");
  g_object_unref (client->conn);
  g_free (client->label);
  g_free (client);

  if (server->stopping && server->clients == NULL)
    g_main_loop_quit (server->loop);
}

static gboolean
client_free_idle (gpointer data)
{
  Client *client = data;

  client->free_id = 0;
  client_free (client);
  return G_SOURCE_REMOVE;
}

static void
on_closed (SoupWebsocketConnection * conn, Client * client)
{
  server_log (client->server, "[%s] socket closed (code %u%s%s)",
      client->label, soup_websocket_connection_get_close_code (conn),
      soup_websocket_connection_get_close_data (conn) ? ", " : "",
      soup_websocket_connection_get_close_data (conn) ?
      soup_websocket_connection_get_close_data (conn) : "");
  client->closed = TRUE;
  client_stop_keepalive (client);
  if (client->session)
    session_detach (client->session);
  /* not from inside the connection's own signal emission */
  client->free_id = g_idle_add (client_free_idle, client);
}

static void
on_error (SoupWebsocketConnection * conn, GError * error, Client * client)
{
  server_log (client->server, "[%s] socket error: %s", client->label,
      error->message);
}

/* Checks every keepalive interval whether the client has been silent for
 * two (protocol.md §10) */
static gboolean
keepalive_check (gpointer data)
{
  Client *client = data;
  Server *server = client->server;
  gint64 silent_ms = (g_get_monotonic_time () - client->last_rx) / 1000;

  if (client->session && client->session->ignore_keepalives)
    return G_SOURCE_CONTINUE;
  if (silent_ms < 2 * (gint64) server->keepalive_interval)
    return G_SOURCE_CONTINUE;

  client->keepalive_id = 0;
  client_close (client, 4502, "keepalive timeout");
  return G_SOURCE_REMOVE;
}

/* Finds the transaction of a message that failed to validate, so that
 * it can be answered: from the object if it is one, else by a look at
 * the text (a truncated or broken JSON message still names it).
 * @is_json: the text passed wtsp_message_parse's JSON checks, so that
 * json-glib (which recurses without limit) may be given it */
static gchar *
find_transaction (const gchar * data, gsize length, gboolean is_json)
{
  JsonParser *parser = json_parser_new_immutable ();
  gchar *transaction = NULL;
  GRegex *regex;
  GMatchInfo *match = NULL;

  if (is_json && json_parser_load_from_data (parser, data, length, NULL)) {
    JsonNode *root = json_parser_get_root (parser);

    if (root && JSON_NODE_HOLDS_OBJECT (root)) {
      JsonNode *node = json_object_get_member (json_node_get_object (root),
          "transaction");

      if (node && JSON_NODE_HOLDS_VALUE (node)
          && json_node_get_value_type (node) == G_TYPE_STRING)
        transaction = g_strdup (json_node_get_string (node));
      g_object_unref (parser);
      return transaction;
    }
  }
  g_object_unref (parser);

  regex = g_regex_new ("\"transaction\"\\s*:\\s*\"([^\"\\\\]*)\"",
      G_REGEX_RAW, 0, NULL);
  if (g_regex_match_full (regex, data, length, 0, 0, &match, NULL))
    transaction = g_match_info_fetch (match, 1);
  g_match_info_free (match);
  g_regex_unref (regex);
  return transaction;
}

static void
client_reject_invalid (Client * client, const gchar * data, gsize length,
    const GError * error)
{
  gchar *transaction;
  JsonObject *response;
  gint code;

  server_log (client->server, "[%s] invalid message: %s", client->label,
      error->message);

  if (g_error_matches (error, WTSP_MESSAGE_ERROR, WTSP_MESSAGE_ERROR_TOO_LARGE)) {
    client_close (client, SOUP_WEBSOCKET_CLOSE_TOO_BIG, "message too big");
    return;
  }

  transaction = find_transaction (data, length,
      !g_error_matches (error, WTSP_MESSAGE_ERROR,
          WTSP_MESSAGE_ERROR_INVALID_JSON));
  if (transaction == NULL) {
    gchar *reason = g_strdup_printf ("signaling message error: %s",
        error->message);

    client_close (client, 4501, reason);
    g_free (reason);
    return;
  }

  switch (error->code) {
    case WTSP_MESSAGE_ERROR_INVALID_JSON:
      code = 454;
      break;
    case WTSP_MESSAGE_ERROR_NOT_OBJECT:
      code = 455;
      break;
    case WTSP_MESSAGE_ERROR_UNKNOWN_KIND:
      code = 452;
      break;
    default:
      code = 456;
      break;
  }
  response = wtsp_response_new_error (transaction, WTSP_LINE_NONE, NULL, code,
      error->message);
  client_send_object (client, response);
  json_object_unref (response);
  g_free (transaction);
}

static void
client_handle_request (Client * client, WtspMessage * req)
{
  if (debug_handle_request (client, req))
    return;
  if (call_handle_request (client, req))
    return;
  client_respond_error (client, req, NULL, 453, "unknown request");
}

static void
on_message (SoupWebsocketConnection * conn, gint type, GBytes * bytes,
    Client * client)
{
  gsize length;
  const gchar *data = g_bytes_get_data (bytes, &length);
  WtspMessage *msg;
  GError *error = NULL;

  client->last_rx = g_get_monotonic_time ();

  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    client_close (client, 4501, "WTSP messages are text frames");
    return;
  }
  log_message (client, "<-", data ? data : "", length);

  /* a refused connection is on its way out */
  if (client->session == NULL)
    return;

  msg = wtsp_message_parse (data ? data : "", length, &error);
  if (msg == NULL) {
    client_reject_invalid (client, data ? data : "", length, error);
    g_error_free (error);
    return;
  }

  switch (msg->kind) {
    case WTSP_MESSAGE_KIND_KEEPALIVE:
      if (!client->session->ignore_keepalives) {
        JsonObject *echo = json_object_new ();

        json_object_set_string_member (echo, "handshake", "keepalive");
        json_object_set_string_member (echo, "transaction", msg->transaction);
        client_send_object (client, echo);
        json_object_unref (echo);
      }
      break;
    case WTSP_MESSAGE_KIND_REQUEST:
      client_handle_request (client, msg);
      break;
    default:{
      gchar *reason = g_strdup_printf ("a client does not send %s \"%s\"",
          wtsp_message_kind_to_string (msg->kind), msg->type);

      client_close (client, 4501, reason);
      g_free (reason);
      break;
    }
  }
  wtsp_message_unref (msg);
}

/* The HTTP side: everything a plain client can be told before the
 * upgrade (protocol.md §1, §10) */

/* Returns: whether @path is a signaling path; *tenant is set to the
 * tenant it names, if any */
static gboolean
parse_path (const gchar * path, gchar ** tenant)
{
  *tenant = NULL;
  if (g_str_equal (path, SIGNALING_PATH))
    return TRUE;
  if (g_str_has_prefix (path, TENANT_PREFIX)
      && g_str_has_suffix (path, SIGNALING_PATH)) {
    const gchar *id = path + strlen (TENANT_PREFIX);
    gsize id_len = strlen (id) - strlen (SIGNALING_PATH);

    if (id_len > 0 && memchr (id, '/', id_len) == NULL) {
      *tenant = g_strndup (id, id_len);
      return TRUE;
    }
  }
  return FALSE;
}

static const gchar *
token_number (Server * server, const gchar * token)
{
  if (token == NULL || *token == '\0')
    return NULL;
  if (server->users)
    return g_hash_table_lookup (server->users, token);
  return token;
}

static gboolean
asks_for_subprotocol (SoupServerMessage * msg)
{
  const gchar *header =
      soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Sec-WebSocket-Protocol");
  gchar **protocols;
  gboolean found = FALSE;
  guint i;

  if (header == NULL)
    return FALSE;
  protocols = g_strsplit (header, ",", -1);
  for (i = 0; protocols[i]; i++)
    if (g_str_equal (g_strstrip (protocols[i]), WTSP_SUBPROTOCOL))
      found = TRUE;
  g_strfreev (protocols);
  return found;
}

static void
refuse (SoupServerMessage * msg, guint status, const gchar * text)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY,
      text, strlen (text));
}

/* Runs before libsoup looks at the WebSocket handshake: a status set here
 * is the answer to the upgrade */
static void
http_handler (SoupServer * soup, SoupServerMessage * msg, const gchar * path,
    GHashTable * query, gpointer user_data)
{
  Server *server = user_data;
  const gchar *token = query ? g_hash_table_lookup (query, "token") : NULL;
  gchar *tenant;

  if (!parse_path (path, &tenant)) {
    refuse (msg, SOUP_STATUS_NOT_FOUND, "no such path; try "
        SIGNALING_PATH "\n");
    return;
  }
  g_free (tenant);

  if (token_number (server, token) == NULL) {
    server_log (server, "refused a connection: %s token",
        token && *token ? "unknown" : "no");
    refuse (msg, SOUP_STATUS_UNAUTHORIZED, "missing or unknown token\n");
    return;
  }
  if (server->stopping) {
    refuse (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "shutting down\n");
    return;
  }
  if (!asks_for_subprotocol (msg)) {
    refuse (msg, SOUP_STATUS_BAD_REQUEST, "a WebSocket upgrade with "
        "sub-protocol " WTSP_SUBPROTOCOL " is required\n");
    return;
  }
  /* left alone: libsoup now checks and answers the handshake itself */
}

static void
websocket_handler (SoupServer * soup, SoupServerMessage * msg,
    const gchar * path, SoupWebsocketConnection * conn, gpointer user_data)
{
  Server *server = user_data;
  GUri *uri = soup_server_message_get_uri (msg);
  const gchar *query = g_uri_get_query (uri);
  GHashTable *params = query ? soup_form_decode (query) : NULL;
  const gchar *token = params ? g_hash_table_lookup (params, "token") : NULL;
  const gchar *force_param =
      params ? g_hash_table_lookup (params, "force") : NULL;
  gboolean force = force_param && (g_ascii_strcasecmp (force_param, "true") == 0
      || g_str_equal (force_param, "1"));
  const gchar *number = token_number (server, token);
  Session *session;
  Client *client;
  gchar *tenant;

  /* the HTTP handler already refused anything else */
  g_assert (number != NULL);
  parse_path (path, &tenant);

  client = g_new0 (Client, 1);
  client->server = server;
  client->conn = g_object_ref (conn);
  client->label = g_strdup (number);
  client->last_rx = g_get_monotonic_time ();
  client->message_id = g_signal_connect (conn, "message",
      G_CALLBACK (on_message), client);
  client->closed_id = g_signal_connect (conn, "closed",
      G_CALLBACK (on_closed), client);
  client->error_id = g_signal_connect (conn, "error",
      G_CALLBACK (on_error), client);
  server->clients = g_list_prepend (server->clients, client);
  server->accepted++;

  soup_websocket_connection_set_max_incoming_payload_size (conn,
      WTSP_DEFAULT_MAX_MESSAGE_SIZE);

  server_log (server, "[%s] connected%s%s%s", number,
      tenant ? " (tenant " : "", tenant ? tenant : "", tenant ? ")" : "");

  session = g_hash_table_lookup (server->sessions, token);
  /* a socket we are closing is attached no more */
  if (session && session->client && (session->client->closed
          || soup_websocket_connection_get_state (session->client->conn)
          != SOUP_WEBSOCKET_STATE_OPEN))
    session_detach (session);
  if (session && session->client) {
    if (!force) {
      client_close (client, 4431, "controller attached");
      goto done;
    }
    client_close (session->client, 4441, "replaced by a forced connection");
  }
  if (session == NULL) {
    session = session_new (server, token, number, tenant);
    g_hash_table_insert (server->sessions, session->token, session);
  }
  session_attach (session, client);
  client->keepalive_id = g_timeout_add (server->keepalive_interval,
      keepalive_check, client);

done:
  g_free (tenant);
  if (params)
    g_hash_table_unref (params);
}

/* Stopping */

static gboolean
shutdown_timeout (gpointer data)
{
  Server *server = data;

  server_log (server, "%u client(s) did not answer the close in time",
      g_list_length (server->clients));
  g_main_loop_quit (server->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_signal (gpointer data)
{
  Server *server = data;
  GList *l, *clients;

  if (server->stopping)
    return G_SOURCE_CONTINUE;
  server->stopping = TRUE;
  server_log (server, "stopping");

  server_end_all_calls (server);

  clients = g_list_copy (server->clients);
  for (l = clients; l; l = l->next)
    client_close (l->data, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "going away");
  g_list_free (clients);

  if (server->clients == NULL)
    g_main_loop_quit (server->loop);
  else
    g_timeout_add (SHUTDOWN_GRACE_MS, shutdown_timeout, server);
  return G_SOURCE_CONTINUE;
}

/* Command line */

static gboolean
add_user (Server * server, const gchar * spec, GError ** error)
{
  const gchar *eq = strchr (spec, '=');

  if (eq == NULL || eq == spec || eq[1] == '\0') {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--user takes TOKEN=NUMBER, not \"%s\"", spec);
    return FALSE;
  }
  if (server->users == NULL)
    server->users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
        g_free);
  g_hash_table_insert (server->users, g_strndup (spec, eq - spec),
      g_strdup (eq + 1));
  return TRUE;
}

static gboolean
listen_on (Server * server, const gchar * host, guint port, gboolean tls,
    GError ** error)
{
  GSocketAddress *address;
  GSList *listeners;
  GSocketAddress *local;
  gboolean ok;

  address = g_inet_socket_address_new_from_string (host, port);
  if (address == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "--host needs an IP address, not \"%s\"", host);
    return FALSE;
  }
  ok = soup_server_listen (server->soup, address,
      tls ? SOUP_SERVER_LISTEN_HTTPS : 0, error);
  g_object_unref (address);
  if (!ok)
    return FALSE;

  listeners = soup_server_get_listeners (server->soup);
  local = g_socket_get_local_address (listeners->data, error);
  g_slist_free (listeners);
  if (local == NULL)
    return FALSE;

  printf ("listening %s://%s%s%s:%u" SIGNALING_PATH "\n", tls ? "wss" : "ws",
      strchr (host, ':') ? "[" : "", host, strchr (host, ':') ? "]" : "",
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)));
  fflush (stdout);
  g_object_unref (local);
  return TRUE;
}

int
main (int argc, char **argv)
{
  Server server = { 0, };
  gint port = 0, lines = 2, keepalive = 30000, session_timeout = 60000;
  gchar *host = NULL, *tls_cert = NULL, *tls_key = NULL;
  gchar **users = NULL;
  gchar *janus_url = NULL, *accounts = NULL;
  gint early_media_delay = 500;
  GOptionEntry entries[] = {
    {"port", 0, 0, G_OPTION_ARG_INT, &port,
        "Port to listen on (0: any free port)", "N"},
    {"host", 0, 0, G_OPTION_ARG_STRING, &host,
        "Address to listen on (default 127.0.0.1)", "ADDR"},
    {"lines", 0, 0, G_OPTION_ARG_INT, &lines,
        "Lines of every account (default 2)", "N"},
    {"keepalive-interval", 0, 0, G_OPTION_ARG_INT, &keepalive,
        "keepalive_interval of the state handshake (default 30000)", "MS"},
    {"session-timeout", 0, 0, G_OPTION_ARG_INT, &session_timeout,
        "How long a session and its calls outlive their socket "
          "(default 60000)", "MS"},
    {"tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert,
        "PEM certificate: serve wss://", "FILE"},
    {"tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key,
        "PEM private key of --tls-cert", "FILE"},
    {"user", 0, 0, G_OPTION_ARG_STRING_ARRAY, &users,
        "Let TOKEN in, as number NUMBER (repeatable; without any, every "
          "token is let in as its own number)", "TOKEN=NUMBER"},
    {"registration-sequence", 0, 0, G_OPTION_ARG_NONE,
          &server.registration_sequence,
        "Start unregistered, then send registering and registered", NULL},
    {"no-trickle", 0, 0, G_OPTION_ARG_NONE, &server.no_trickle,
          "Relay no ice_trickle: put every candidate in the SDP instead",
        NULL},
    {"early-media", 0, 0, G_OPTION_ARG_NONE, &server.early_media,
          "Early media (SIP 183 with SDP): the caller gets the answer in "
          "progress, then accepted without jsep after --early-media-delay",
        NULL},
    {"early-media-delay", 0, 0, G_OPTION_ARG_INT, &early_media_delay,
        "ms from progress to accepted with --early-media (default 500)", "MS"},
    {"offerless", 0, 0, G_OPTION_ARG_NONE, &server.offerless,
        "Offerless INVITE: incoming_call without jsep, the callee accepts "
          "with an offer, the caller gets it in updating_call and accepts "
          "with the answer", NULL},
    {"debug-requests", 0, 0, G_OPTION_ARG_NONE, &server.debug_requests,
        "Accept the debug_* test requests", NULL},
    {"verbose", 0, 0, G_OPTION_ARG_NONE, &server.verbose,
        "Log every message in and out on stderr", NULL},
    {"janus", 0, 0, G_OPTION_ARG_STRING, &janus_url,
          "Place and take calls through Janus' SIP plugin at this "
          "WebSocket URL (needs --accounts)", "ws://HOST:PORT"},
    {"accounts", 0, 0, G_OPTION_ARG_FILENAME, &accounts,
          "Key file of accounts: a group per token with identity=sip:..., "
          "number, display-name, domain, authuser, secret, proxy "
          "(only the tokens listed are let in)", "FILE"},
    {NULL}
  };
  GOptionContext *ctx;
  GError *error = NULL;
  GTlsCertificate *cert = NULL;
  gchar *protocols[] = { (gchar *) WTSP_SUBPROTOCOL, NULL };
  gint status = 0;
  guint i;

  ctx = g_option_context_new ("- reference WTSP signaling server");
  g_option_context_set_description (ctx, "Call modes (not together):\n"
      "  --early-media  the callee's accept(answer) reaches the caller as\n"
      "                 progress(answer), then accepted without jsep\n"
      "                 --early-media-delay ms later\n"
      "  --offerless    incoming_call without jsep; the callee accepts with\n"
      "                 an offer (else 464), which the caller gets in\n"
      "                 updating_call and answers with accept(answer): the\n"
      "                 caller gets accepted, the callee accepted(answer)\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    goto usage_error;

  if (port < 0 || port > 65535 || lines < 1 || lines > 1024 || keepalive < 1
      || session_timeout < 0 || early_media_delay < 0) {
    g_set_error_literal (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--port must be 0-65535, --lines 1-1024, --keepalive-interval > 0, "
        "--session-timeout >= 0, --early-media-delay >= 0");
    goto usage_error;
  }
  if (server.early_media && server.offerless) {
    g_set_error_literal (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--early-media and --offerless do not go together: an offerless "
        "call has no answer from the callee to send early");
    goto usage_error;
  }
  if (!tls_cert != !tls_key) {
    g_set_error_literal (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--tls-cert and --tls-key go together");
    goto usage_error;
  }
  for (i = 0; users && users[i]; i++)
    if (!add_user (&server, users[i], &error))
      goto usage_error;
  if (accounts && !server_load_accounts (&server, accounts, &error))
    goto usage_error;
  if (janus_url && (server.early_media || server.offerless
          || server.no_trickle)) {
    g_set_error_literal (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--janus: the call modes are the far phone's, not options");
    goto usage_error;
  }

  server.n_lines = lines;
  server.early_media_delay = early_media_delay;
  server.keepalive_interval = keepalive;
  server.session_timeout = session_timeout;
  server.sessions = g_hash_table_new (g_str_hash, g_str_equal);
  server.refers = g_hash_table_new (g_str_hash, g_str_equal);
  server.loop = g_main_loop_new (NULL, FALSE);
  if (janus_url && !server_start_janus (&server, janus_url, &error))
    goto error;

  if (tls_cert) {
    cert = g_tls_certificate_new_from_files (tls_cert, tls_key, &error);
    if (cert == NULL)
      goto error;
  }
  server.soup = soup_server_new ("tls-certificate", cert, NULL);
  soup_server_add_handler (server.soup, NULL, http_handler, &server, NULL);
  soup_server_add_websocket_handler (server.soup, NULL, NULL, protocols,
      websocket_handler, &server, NULL);

  if (!listen_on (&server, host ? host : "127.0.0.1", port, cert != NULL,
          &error))
    goto error;

  g_unix_signal_add (SIGINT, on_signal, &server);
  g_unix_signal_add (SIGTERM, on_signal, &server);

  g_main_loop_run (server.loop);

  /* Whoever did not answer the close: let go of them now */
  soup_server_disconnect (server.soup);
  while (server.clients)
    client_free (server.clients->data);

out:
  if (server.sessions) {
    GHashTableIter iter;
    gpointer session;

    g_hash_table_iter_init (&iter, server.sessions);
    while (g_hash_table_iter_next (&iter, NULL, &session)) {
      g_hash_table_iter_steal (&iter);
      session_free (session);
    }
    g_hash_table_unref (server.sessions);
  }
  server_stop_janus (&server);
  g_clear_pointer (&server.accounts, g_hash_table_unref);
  if (server.refers) {
    server_free_refers (&server);
    g_hash_table_unref (server.refers);
  }
  g_clear_object (&server.soup);
  g_clear_object (&cert);
  g_clear_pointer (&server.loop, g_main_loop_unref);
  g_clear_pointer (&server.users, g_hash_table_unref);
  g_option_context_free (ctx);
  g_strfreev (users);
  g_free (janus_url);
  g_free (accounts);
  g_free (host);
  g_free (tls_cert);
  g_free (tls_key);
  return status;

usage_error:
  g_printerr ("signaling-server: %s\n", error->message);
  g_error_free (error);
  status = 2;
  goto out;

error:
  g_printerr ("signaling-server: %s\n", error->message);
  g_error_free (error);
  status = 1;
  goto out;
}
