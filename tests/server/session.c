/* Reference WTSP server: sessions, lines and call logs
 *
 * A session is what a token names: an account with its lines and calls.
 * Its socket comes and goes; the session stays, so that a client which
 * reconnects finds its calls in the state handshake (protocol.md §3, the
 * "self-recoverable mechanism"), until it has been without a socket for
 * --session-timeout.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "server.h"

gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

Session *
session_new (Server * server, const gchar * token, const gchar * number,
    const gchar * tenant)
{
  Session *session = g_new0 (Session, 1);

  session->server = server;
  session->token = g_strdup (token);
  session->number = g_strdup (number);
  session->tenant = g_strdup (tenant);
  session->lines = g_new0 (Leg *, server->n_lines);
  session->ended = g_new0 (JsonObject *, server->n_lines);
  server_log (server, "[%s] new session", number);
  if (server->janus)
    janus_session_new (session);
  return session;
}

/* The session must be out of Server.sessions already */
void
session_free (Session * session)
{
  guint i;

  if (session->drop_id)
    g_source_remove (session->drop_id);
  if (session->client)
    session->client->session = NULL;
  for (i = 0; i < session->server->n_lines; i++)
    if (session->lines[i])
      call_end_for_leg (session->lines[i], 480, "Temporarily Unavailable");
  janus_session_free (session);
  for (i = 0; i < session->server->n_lines; i++)
    g_clear_pointer (&session->ended[i], json_object_unref);
  g_free (session->ended);
  g_free (session->lines);
  g_free (session->token);
  g_free (session->number);
  g_free (session->tenant);
  g_free (session);
}

static JsonObject *
state_new (Session * session)
{
  Server *server = session->server;
  JsonObject *state = json_object_new ();
  JsonObject *registration = json_object_new ();
  JsonArray *lines = json_array_sized_new (server->n_lines);
  guint i;

  json_object_set_string_member (state, "handshake", "state");
  json_object_set_int_member (state, "keepalive_interval",
      server->keepalive_interval);
  json_object_set_int_member (state, "timestamp", now_ms ());

  if (session->janus)
    janus_session_registration (session, registration);
  else
    json_object_set_string_member (registration, "status",
        server->registration_sequence && !session->registered ?
        "unregistered" : "registered");
  json_object_set_object_member (state, "registration", registration);

  for (i = 0; i < server->n_lines; i++) {
    Leg *leg = session->lines[i];
    JsonObject *line;

    if (leg == NULL && session->ended[i]) {
      /* how a call ended while this client was away: told once */
      json_array_add_object_element (lines, session->ended[i]);
      session->ended[i] = NULL;
      continue;
    }
    if (leg == NULL) {
      json_array_add_null_element (lines);
      continue;
    }
    line = json_object_new ();
    json_object_set_string_member (line, "call_id", leg->call_id);
    json_object_set_array_member (line, "call_logs",
        json_array_ref (leg->logs));
    json_array_add_object_element (lines, line);
  }
  json_object_set_array_member (state, "lines", lines);
  json_object_set_null_member (state, "guest_line");
  return state;
}

static void
send_event (Session * session, JsonObject * event)
{
  session_send_object (session, event);
  json_object_unref (event);
}

void
session_attach (Session * session, Client * client)
{
  Server *server = session->server;
  JsonObject *state;

  g_return_if_fail (session->client == NULL);

  if (session->drop_id) {
    g_source_remove (session->drop_id);
    session->drop_id = 0;
  }
  session->client = client;
  client->session = session;
  server_log (server, "[%s] attached", session->number);

  state = state_new (session);
  session_send_object (session, state);
  json_object_unref (state);

  /* what the seed's usage guide shows for a server still registering to
   * its SIP registrar; once per session, as a registration is */
  if (server->registration_sequence && !session->registered) {
    JsonObject *registered = wtsp_event_new ("registered", WTSP_LINE_NONE,
        NULL);

    session->registered = TRUE;
    send_event (session, wtsp_event_new ("registering", WTSP_LINE_NONE, NULL));
    json_object_set_string_member (registered, "phrase", "ok");
    send_event (session, registered);
  }
}

static gboolean
session_drop_timeout (gpointer data)
{
  Session *session = data;

  session->drop_id = 0;
  session_drop (session);
  return G_SOURCE_REMOVE;
}

/* Lets go of the socket; the session waits for another one */
void
session_detach (Session * session)
{
  Server *server = session->server;

  if (session->client == NULL)
    return;
  session->client->session = NULL;
  session->client = NULL;
  if (server->stopping) {
    server_log (server, "[%s] detached", session->number);
    return;
  }
  server_log (server, "[%s] detached, session kept for %u ms",
      session->number, server->session_timeout);
  if (session->drop_id == 0)
    session->drop_id = g_timeout_add (server->session_timeout,
        session_drop_timeout, session);
}

/* The session is gone for good: its calls end, the far ends with 480 */
void
session_drop (Session * session)
{
  Server *server = session->server;

  server_log (server, "[%s] session dropped", session->number);
  if (session->client)
    client_close (session->client, 4201, "session missed");
  g_hash_table_remove (server->sessions, session->token);
  session_free (session);
}

/* The session a call to @number reaches: the one with a socket, if the
 * number has several (--user may map two tokens to one number) */
Session *
server_find_session_by_number (Server * server, const gchar * number)
{
  GHashTableIter iter;
  gpointer value;
  Session *found = NULL;

  g_hash_table_iter_init (&iter, server->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    Session *session = value;

    if (!g_str_equal (session->number, number))
      continue;
    if (session->client)
      return session;
    found = session;
  }
  return found;
}

gint
session_find_free_line (Session * session)
{
  guint i;

  for (i = 0; i < session->server->n_lines; i++)
    if (session->lines[i] == NULL)
      return i;
  return -1;
}

void
session_send_object (Session * session, JsonObject * object)
{
  if (session->client)
    client_send_object (session->client, object);
}

/* Appends @object to the leg's call_logs, as it is now: do not change
 * it afterwards */
void
leg_log (Leg * leg, JsonObject * object)
{
  JsonArray *pair = json_array_sized_new (2);

  json_array_add_int_element (pair, now_ms ());
  json_array_add_object_element (pair, json_object_ref (object));
  json_array_add_array_element (leg->logs, pair);
}

/* Logs and sends an event of this leg's call (transfer full) */
void
leg_send_event (Leg * leg, JsonObject * event)
{
  leg_log (leg, event);
  session_send_object (leg->session, event);
  json_object_unref (event);
}
