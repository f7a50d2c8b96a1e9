/* Reference WTSP server: calls
 *
 * A call joins two legs: the caller's, on the line its outgoing_call
 * named, and the callee's, on the callee session's first free line, with
 * a call_id made here. Requests on one leg become events on the other
 * (protocol.md §6-§8), the way WebTrit Core turns them into SIP and back.
 *
 * Order of a call:
 *
 *   caller                      server                      callee
 *   outgoing_call(offer) ------>  ack, calling
 *                                 incoming_call(offer) -------->
 *                <--------------  ringing
 *                                 <------------------- accept(answer)
 *                                 ack, accepted ---------------->
 *                <--------------  accepted(answer)
 *
 * With --no-trickle, incoming_call waits for the caller's end of
 * candidates, and the caller's accepted for the callee's, each then
 * carrying its sender's candidates in the SDP (OFFERING and ANSWERING
 * below).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "server.h"

#include <string.h>
#include <gst/sdp/sdp.h>

#define CALL_ID_LENGTH 24
#define REFER_ID_LENGTH 16

/* --no-trickle: how long an offer or answer waits for the end of its
 * sender's candidates. A client that never says it is done still gets
 * its call, with what it sent. */
#define GATHER_TIMEOUT_MS 5000

typedef enum
{
  CALL_OFFERING,                /* --no-trickle: offer waits for candidates */
  CALL_RINGING,                 /* the callee has incoming_call */
  CALL_ANSWERING,               /* --no-trickle: answer waits for candidates */
  CALL_ACTIVE,                  /* the caller has accepted */
} CallState;

struct _Call
{
  Server *server;
  CallState state;
  Leg *caller;
  Leg *callee;                  /* NULL until the call reaches the callee */
  gchar *caller_number;
  gchar *callee_number;         /* as dialled */
  JsonObject *offer;            /* the caller's jsep */
  JsonObject *answer;           /* the callee's jsep, from its accept */
  Leg *updater;                 /* its update waits for the other's answer */
  gchar *refer_id;              /* this call carries out that transfer */
  gchar *referred_by;
  guint gather_id;
};

/* A transfer (REFER) in progress: who to tell how it went */
typedef struct
{
  gchar *referrer_token;
  gchar *referrer_call_id;
  gchar *referred_by;
} Refer;

static void refer_free (Refer * refer);

gchar *
random_id (guint length)
{
  static const gchar chars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  gchar *id = g_malloc (length + 1);
  guint i;

  for (i = 0; i < length; i++)
    id[i] = chars[g_random_int_range (0, sizeof (chars) - 1)];
  id[length] = '\0';
  return id;
}

static const gchar *
sip_reason (gint code)
{
  switch (code) {
    case 200:
      return "OK";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 480:
      return "Temporarily Unavailable";
    case 486:
      return "Busy Here";
    case 487:
      return "Request Terminated";
    case 488:
      return "Not Acceptable Here";
    case 500:
      return "Server Internal Error";
    case 503:
      return "Service Unavailable";
    case 600:
      return "Busy Everywhere";
    default:
      return "Decline";
  }
}

/* SDP, for --no-trickle */

static gboolean
media_has_attribute (const GstSDPMedia * media, const gchar * key)
{
  guint i;

  for (i = 0; i < gst_sdp_media_attributes_len (media); i++)
    if (g_strcmp0 (gst_sdp_media_get_attribute (media, i)->key, key) == 0)
      return TRUE;
  return FALSE;
}

/* An SDP that says a=end-of-candidates already carries all of them: a
 * client that gathers before it offers has nothing more to trickle */
static gboolean
sdp_has_end_of_candidates (const gchar * text)
{
  GstSDPMessage *sdp;
  gboolean found = FALSE;
  guint i;

  if (gst_sdp_message_new_from_text (text, &sdp) != GST_SDP_OK)
    return FALSE;
  for (i = 0; i < gst_sdp_message_attributes_len (sdp); i++)
    if (g_strcmp0 (gst_sdp_message_get_attribute (sdp, i)->key,
            "end-of-candidates") == 0)
      found = TRUE;
  for (i = 0; !found && i < gst_sdp_message_medias_len (sdp); i++)
    found = media_has_attribute (gst_sdp_message_get_media (sdp, i),
        "end-of-candidates");
  gst_sdp_message_free (sdp);
  return found;
}

/* The media section a trickled candidate belongs to: by its sdpMid if a
 * section has that a=mid, else by sdpMLineIndex */
static gint
candidate_media (GstSDPMessage * sdp, JsonObject * candidate)
{
  JsonNode *node;
  guint i, n = gst_sdp_message_medias_len (sdp);

  node = json_object_get_member (candidate, "sdpMid");
  if (node && JSON_NODE_HOLDS_VALUE (node)) {
    const gchar *mid = json_node_get_string (node);

    for (i = 0; i < n; i++)
      if (g_strcmp0 (gst_sdp_media_get_attribute_val (gst_sdp_message_get_media
                  (sdp, i), "mid"), mid) == 0)
        return i;
  }
  node = json_object_get_member (candidate, "sdpMLineIndex");
  if (node && JSON_NODE_HOLDS_VALUE (node) && json_node_get_int (node) >= 0
      && json_node_get_int (node) < n)
    return json_node_get_int (node);
  return -1;
}

/* Returns: (transfer full) (nullable): @text with the candidates and
 * a=end-of-candidates in every media section, NULL if it is no SDP */
static gchar *
sdp_add_candidates (Server * server, const gchar * text, GPtrArray * candidates)
{
  GstSDPMessage *sdp;
  gchar *result;
  guint i;

  if (gst_sdp_message_new_from_text (text, &sdp) != GST_SDP_OK)
    return NULL;

  for (i = 0; i < candidates->len; i++) {
    JsonObject *candidate = g_ptr_array_index (candidates, i);
    const gchar *line =
        json_object_get_string_member_with_default (candidate, "candidate",
        NULL);
    gint media;

    if (line == NULL || *line == '\0')
      continue;
    media = candidate_media (sdp, candidate);
    if (media < 0) {
      server_log (server, "candidate \"%s\" matches no media section", line);
      continue;
    }
    if (g_str_has_prefix (line, "a="))
      line += 2;
    if (g_str_has_prefix (line, "candidate:"))
      line += strlen ("candidate:");
    gst_sdp_media_add_attribute ((GstSDPMedia *)
        gst_sdp_message_get_media (sdp, media), "candidate", line);
  }
  for (i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    GstSDPMedia *media = (GstSDPMedia *) gst_sdp_message_get_media (sdp, i);

    if (!media_has_attribute (media, "end-of-candidates"))
      gst_sdp_media_add_attribute (media, "end-of-candidates", "");
  }

  result = gst_sdp_message_as_text (sdp);
  gst_sdp_message_free (sdp);
  return result;
}

/* The jsep @leg sent, as the other leg gets it */
static JsonObject *
jsep_for_delivery (Call * call, Leg * leg, JsonObject * jsep)
{
  gchar *sdp;
  JsonObject *copy;

  if (!call->server->no_trickle)
    return json_object_ref (jsep);

  sdp = sdp_add_candidates (call->server,
      json_object_get_string_member (jsep, "sdp"), leg->candidates);
  if (sdp == NULL)
    return json_object_ref (jsep);
  copy = wtsp_jsep_new (json_object_get_string_member (jsep, "type"), sdp);
  g_free (sdp);
  return copy;
}

/* Legs and calls */

static Leg *
leg_new (Call * call, Session * session, guint line, const gchar * call_id)
{
  Leg *leg = g_new0 (Leg, 1);

  leg->call = call;
  leg->session = session;
  leg->line = line;
  leg->call_id = g_strdup (call_id);
  leg->logs = json_array_new ();
  leg->candidates = g_ptr_array_new_with_free_func ((GDestroyNotify)
      json_object_unref);
  g_assert (session->lines[line] == NULL);
  session->lines[line] = leg;
  return leg;
}

void
call_leg_free (Leg * leg)
{
  if (leg->session->lines[leg->line] == leg)
    leg->session->lines[leg->line] = NULL;
  json_array_unref (leg->logs);
  g_ptr_array_unref (leg->candidates);
  g_free (leg->call_id);
  g_free (leg);
}

static Leg *
leg_peer (Leg * leg)
{
  return leg == leg->call->caller ? leg->call->callee : leg->call->caller;
}

static JsonObject *
call_event_new (const gchar * type, Leg * leg)
{
  return wtsp_event_new (type, leg->line, leg->call_id);
}

static void
leg_send_simple (Leg * leg, const gchar * type)
{
  leg_send_event (leg, call_event_new (type, leg));
}

static void
leg_hangup (Leg * leg, gint code, const gchar * reason)
{
  JsonObject *event = call_event_new ("hangup", leg);

  json_object_set_int_member (event, "code", code);
  json_object_set_string_member (event, "reason", reason);
  leg_send_event (leg, event);
}

/* caller, callee and the like, as incoming_call and updating_call carry
 * them */
static void
set_parties (JsonObject * event, Call * call)
{
  json_object_set_string_member (event, "caller", call->caller_number);
  json_object_set_string_member (event, "callee", call->callee_number);
  json_object_set_string_member (event, "caller_display_name",
      call->caller_number);
  if (call->referred_by)
    json_object_set_string_member (event, "referred_by", call->referred_by);
}

/* Tells the leg that asked for a transfer how it went: the NOTIFY of
 * sipfrag a SIP REFER gets */
static void
refer_notify (Server * server, const gchar * refer_id, const gchar * state,
    const gchar * content)
{
  Refer *refer = g_hash_table_lookup (server->refers, refer_id);
  Session *session;
  guint i;

  if (refer == NULL)
    return;
  session = g_hash_table_lookup (server->sessions, refer->referrer_token);
  for (i = 0; session && i < server->n_lines; i++) {
    Leg *leg = session->lines[i];
    JsonObject *event;

    if (leg == NULL || g_strcmp0 (leg->call_id, refer->referrer_call_id))
      continue;
    event = call_event_new ("notify", leg);
    json_object_set_string_member (event, "notify", "refer");
    json_object_set_string_member (event, "subscription_state", state);
    json_object_set_string_member (event, "content_type", "message/sipfrag");
    json_object_set_string_member (event, "content", content);
    leg_send_event (leg, event);
  }
  if (g_str_equal (state, "terminated")) {
    gpointer key;

    g_hash_table_steal_extended (server->refers, refer_id, &key, NULL);
    g_free (key);
    refer_free (refer);
  }
}

static void
refer_free (Refer * refer)
{
  g_free (refer->referrer_token);
  g_free (refer->referrer_call_id);
  g_free (refer->referred_by);
  g_free (refer);
}

void
server_free_refers (Server * server)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, server->refers);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    g_hash_table_iter_steal (&iter);
    g_free (key);
    refer_free (value);
  }
}

/* Frees the call; @code says how it ended, for a transfer it carried out */
static void
call_finish (Call * call, gint code)
{
  Server *server = call->server;

  if (call->refer_id) {
    gchar *content = g_strdup_printf ("SIP/2.0 %d %s", code,
        sip_reason (code));

    refer_notify (server, call->refer_id, "terminated", content);
    g_free (content);
  }
  server->calls = g_list_remove (server->calls, call);
  if (call->gather_id)
    g_source_remove (call->gather_id);
  call_leg_free (call->caller);
  if (call->callee)
    call_leg_free (call->callee);
  if (call->offer)
    json_object_unref (call->offer);
  if (call->answer)
    json_object_unref (call->answer);
  g_free (call->caller_number);
  g_free (call->callee_number);
  g_free (call->refer_id);
  g_free (call->referred_by);
  g_free (call);
}

/* Ends @leg's call because its side is gone (session dropped, server
 * stopping): both legs get a hangup, the far one with @code */
void
call_end_for_leg (Leg * leg, gint code, const gchar * reason)
{
  Call *call = leg->call;
  Leg *peer = leg_peer (leg);

  server_log (call->server, "[%s] call %s ends: %d %s",
      leg->session->number, leg->call_id, code, reason);
  if (peer)
    leg_hangup (peer, code, reason);
  leg_hangup (leg, code, reason);
  call_finish (call, code);
}

void
server_end_all_calls (Server * server)
{
  while (server->calls) {
    Call *call = server->calls->data;

    call_end_for_leg (call->caller, 480, "Temporarily Unavailable");
  }
}

/* Routing */

static gboolean
is_user_number (gpointer key, gpointer value, gpointer number)
{
  return g_str_equal (value, number);
}

/* The caller's offer is ready to go: find the callee and ring it */
static void
call_route (Call * call)
{
  Server *server = call->server;
  Session *session = server_find_session_by_number (server,
      call->callee_number);
  JsonObject *event;
  gchar *call_id;
  gint line;

  if (session == NULL && !(server->users
          && g_hash_table_find (server->users, is_user_number,
              call->callee_number))) {
    server_log (server, "[%s] call %s: no such number \"%s\"",
        call->caller_number, call->caller->call_id, call->callee_number);
    leg_hangup (call->caller, 404, "Not Found");
    call_finish (call, 404);
    return;
  }
  if (session == NULL || session->client == NULL) {
    server_log (server, "[%s] call %s: \"%s\" is not connected",
        call->caller_number, call->caller->call_id, call->callee_number);
    leg_hangup (call->caller, 480, "Temporarily Unavailable");
    call_finish (call, 480);
    return;
  }

  call_id = random_id (CALL_ID_LENGTH);
  line = session_find_free_line (session);
  if (line < 0) {
    server_log (server, "[%s] call %s: every line of \"%s\" is busy",
        call->caller_number, call->caller->call_id, call->callee_number);
    event = wtsp_event_new ("missed_call", WTSP_LINE_GUEST, call_id);
    json_object_set_string_member (event, "caller", call->caller_number);
    json_object_set_string_member (event, "callee", call->callee_number);
    session_send_object (session, event);
    json_object_unref (event);
    g_free (call_id);
    leg_hangup (call->caller, 486, "Busy Here");
    call_finish (call, 486);
    return;
  }

  call->callee = leg_new (call, session, line, call_id);
  g_free (call_id);
  call->state = CALL_RINGING;
  server_log (server, "[%s] call %s rings \"%s\" on line %d as %s",
      call->caller_number, call->caller->call_id, call->callee_number, line,
      call->callee->call_id);

  event = call_event_new ("incoming_call", call->callee);
  set_parties (event, call);
  json_object_set_object_member (event, "jsep",
      jsep_for_delivery (call, call->caller, call->offer));
  leg_send_event (call->callee, event);

  leg_send_simple (call->caller, "ringing");
}

/* The callee's answer is ready to go */
static void
call_deliver_answer (Call * call)
{
  JsonObject *event = call_event_new ("accepted", call->caller);

  call->state = CALL_ACTIVE;
  json_object_set_object_member (event, "jsep",
      jsep_for_delivery (call, call->callee, call->answer));
  leg_send_event (call->caller, event);
  server_log (call->server, "[%s] call %s is up", call->caller_number,
      call->caller->call_id);

  if (call->refer_id) {
    refer_notify (call->server, call->refer_id, "terminated", "SIP/2.0 200 OK");
    g_clear_pointer (&call->refer_id, g_free);
  }
}

/* --no-trickle: @leg has sent all of its candidates (or we gave up
 * waiting), so what of it was held can go */
static void
call_leg_gathered (Leg * leg)
{
  Call *call = leg->call;
  gboolean held = (leg == call->caller && call->state == CALL_OFFERING)
      || (leg == call->callee && call->state == CALL_ANSWERING);

  leg->gathered = TRUE;
  if (!held)
    return;
  if (call->gather_id) {
    g_source_remove (call->gather_id);
    call->gather_id = 0;
  }
  if (call->state == CALL_OFFERING)
    call_route (call);
  else
    call_deliver_answer (call);
}

static gboolean
gather_timeout (gpointer data)
{
  Call *call = data;
  Leg *leg = call->state == CALL_OFFERING ? call->caller : call->callee;

  call->gather_id = 0;
  server_log (call->server, "[%s] no end of candidates after %d ms on call "
      "%s: sending the %u candidates it has", leg->session->number,
      GATHER_TIMEOUT_MS, leg->call_id, leg->candidates->len);
  call_leg_gathered (leg);
  return G_SOURCE_REMOVE;
}

static void
call_wait_for_candidates (Call * call, CallState state)
{
  call->state = state;
  if (call->gather_id == 0)
    call->gather_id = g_timeout_add (GATHER_TIMEOUT_MS, gather_timeout, call);
}

/* Requests */

/* Line checks every line and call request shares; answers the error */
static gboolean
check_line (Client * client, WtspMessage * req)
{
  if (req->line == WTSP_LINE_GUEST) {
    client_respond_error (client, req, NULL, 405,
        "not allowed: this server has no guest line calls");
    return FALSE;
  }
  if (req->line < 0 || (guint) req->line >= client->server->n_lines) {
    client_respond_error (client, req, NULL, 457, "invalid line");
    return FALSE;
  }
  return TRUE;
}

static Leg *
find_leg (Client * client, WtspMessage * req)
{
  Leg *leg;

  if (!check_line (client, req))
    return NULL;
  leg = client->session->lines[req->line];
  if (leg == NULL || (req->call_id && g_strcmp0 (leg->call_id, req->call_id))) {
    client_respond_error (client, req, NULL, 459, "call not found");
    return NULL;
  }
  return leg;
}

static gboolean
jsep_is (WtspMessage * req, const gchar * type)
{
  const gchar *jsep_type;

  return wtsp_message_get_jsep (req, &jsep_type, NULL)
      && g_strcmp0 (jsep_type, type) == 0;
}

static void
handle_outgoing_call (Client * client, WtspMessage * req)
{
  Server *server = client->server;
  Session *session = client->session;
  const gchar *number = wtsp_message_get_string (req, "number");
  const gchar *refer_id = wtsp_message_get_string (req, "refer_id");
  const gchar *sdp = NULL;
  Call *call;
  guint i;

  if (!check_line (client, req))
    return;
  if (session->lines[req->line]) {
    client_respond_error (client, req, NULL, 405, "line busy");
    return;
  }
  for (i = 0; i < server->n_lines; i++) {
    if (session->lines[i] && g_str_equal (session->lines[i]->call_id,
            req->call_id)) {
      client_respond_error (client, req, NULL, 468, "call_id in use");
      return;
    }
  }
  if (!jsep_is (req, "offer")) {
    client_respond_error (client, req, NULL, 464,
        "outgoing_call needs an offer in jsep");
    return;
  }
  if (*number == '\0') {
    client_respond_error (client, req, NULL, 456, "empty number");
    return;
  }

  call = g_new0 (Call, 1);
  call->server = server;
  call->state = CALL_OFFERING;
  call->caller_number = g_strdup (session->number);
  call->callee_number = g_strdup (number);
  call->offer = json_object_ref (wtsp_message_get_object (req, "jsep"));
  call->caller = leg_new (call, session, req->line, req->call_id);
  server->calls = g_list_prepend (server->calls, call);

  /* the transferee calling the transfer target */
  if (refer_id && g_hash_table_lookup (server->refers, refer_id)) {
    Refer *refer = g_hash_table_lookup (server->refers, refer_id);

    call->refer_id = g_strdup (refer_id);
    call->referred_by = g_strdup (refer->referred_by);
  }

  server_log (server, "[%s] call %s to \"%s\" on line %d", session->number,
      req->call_id, number, req->line);
  leg_log (call->caller, req->object);
  client_respond_ack (client, req, call->caller);
  leg_send_simple (call->caller, "calling");

  wtsp_message_get_jsep (req, NULL, &sdp);
  if (server->no_trickle && !sdp_has_end_of_candidates (sdp))
    call_wait_for_candidates (call, CALL_OFFERING);
  else
    call_route (call);
}

static void
handle_accept (Client * client, WtspMessage * req, Leg * leg)
{
  Call *call = leg->call;
  const gchar *sdp = NULL;

  if (leg == call->callee && call->state == CALL_RINGING) {
    /* FIXME: an offer here answers an incoming_call without jsep
     * (--offerless), which is not implemented */
    if (!jsep_is (req, "answer")) {
      client_respond_error (client, req, leg, 464,
          "accept needs the answer in jsep");
      return;
    }
    client_respond_ack (client, req, leg);
    call->answer = json_object_ref (wtsp_message_get_object (req, "jsep"));
    leg_send_simple (leg, "accepted");

    wtsp_message_get_jsep (req, NULL, &sdp);
    if (call->server->no_trickle && !leg->gathered
        && !sdp_has_end_of_candidates (sdp))
      call_wait_for_candidates (call, CALL_ANSWERING);
    else
      call_deliver_answer (call);
    return;
  }

  /* the answer to the other leg's update */
  if (call->state == CALL_ACTIVE && call->updater && call->updater != leg) {
    Leg *updater = call->updater;
    JsonObject *event;

    if (!jsep_is (req, "answer")) {
      client_respond_error (client, req, leg, 464,
          "accept of an update needs the answer in jsep");
      return;
    }
    client_respond_ack (client, req, leg);
    call->updater = NULL;
    event = call_event_new ("updated", updater);
    json_object_set_object_member (event, "jsep",
        json_object_ref (wtsp_message_get_object (req, "jsep")));
    leg_send_event (updater, event);
    return;
  }

  client_respond_error (client, req, leg, 405,
      "not allowed: nothing to accept on this call");
}

static void
handle_decline (Client * client, WtspMessage * req, Leg * leg)
{
  Call *call = leg->call;
  const gchar *refer_id = wtsp_message_get_string (req, "refer_id");
  gint code;
  const gchar *reason;
  JsonObject *event;

  /* declining a transfer, not the call */
  if (refer_id) {
    if (!g_hash_table_lookup (client->server->refers, refer_id)) {
      client_respond_error (client, req, leg, 459, "no such transfer");
      return;
    }
    client_respond_ack (client, req, leg);
    refer_notify (client->server, refer_id, "terminated",
        "SIP/2.0 603 Decline");
    return;
  }

  if (leg != call->callee || call->state != CALL_RINGING) {
    client_respond_error (client, req, leg, 405,
        "not allowed: only a ringing incoming call can be declined");
    return;
  }
  code = wtsp_message_get_int (req, "code", 603);
  if (code < 400 || code > 699)
    code = 603;
  reason = sip_reason (code);

  client_respond_ack (client, req, leg);
  event = call_event_new ("declining", leg);
  json_object_set_int_member (event, "code", code);
  leg_send_event (leg, event);
  leg_hangup (leg, code, reason);
  leg_hangup (call->caller, code, reason);
  server_log (client->server, "[%s] declined call %s: %d", leg->session->number,
      leg->call_id, code);
  call_finish (call, code);
}

static void
handle_hangup (Client * client, WtspMessage * req, Leg * leg)
{
  Call *call = leg->call;
  Leg *peer = leg_peer (leg);
  JsonObject *event;
  gint code = 200;

  client_respond_ack (client, req, leg);
  event = call_event_new ("hangingup", leg);
  json_object_set_int_member (event, "code", 200);
  leg_send_event (leg, event);
  leg_hangup (leg, 200, "to BYE");

  if (peer == call->callee && call->state == CALL_RINGING) {
    /* a CANCEL, for the callee */
    code = 487;
    leg_hangup (peer, 487, "Request Terminated");
  } else if (peer == call->caller && call->state != CALL_ACTIVE) {
    /* the callee hung up instead of declining, or before the caller had
     * its answer */
    code = 603;
    leg_hangup (peer, 603, "Decline");
  } else if (peer) {
    leg_hangup (peer, 200, "Session Terminated");
  }
  server_log (client->server, "[%s] hung up call %s", leg->session->number,
      leg->call_id);
  call_finish (call, code);
}

static const gchar *
opposite_direction (const gchar * direction)
{
  if (g_str_equal (direction, "sendonly"))
    return "recvonly";
  if (g_str_equal (direction, "recvonly"))
    return "sendonly";
  return direction;
}

/* hold and unhold: a re-INVITE with the new direction, for the far end */
static void
handle_direction (Client * client, WtspMessage * req, Leg * leg,
    const gchar * own_event, const gchar * direction)
{
  Call *call = leg->call;
  Leg *peer = leg_peer (leg);
  JsonObject *event;

  if (call->state != CALL_ACTIVE) {
    client_respond_error (client, req, leg, 405,
        "not allowed: the call is not up");
    return;
  }
  client_respond_ack (client, req, leg);
  leg_send_simple (leg, own_event);

  event = call_event_new ("updating_call", peer);
  set_parties (event, call);
  json_object_set_string_member (event, "direction", direction);
  leg_send_event (peer, event);
}

static void
handle_hold (Client * client, WtspMessage * req, Leg * leg)
{
  const gchar *direction = wtsp_message_get_string (req, "direction");

  handle_direction (client, req, leg, "holding",
      opposite_direction (direction ? direction : "sendonly"));
}

static void
handle_unhold (Client * client, WtspMessage * req, Leg * leg)
{
  handle_direction (client, req, leg, "resuming", "sendrecv");
}

static void
handle_update (Client * client, WtspMessage * req, Leg * leg)
{
  Call *call = leg->call;
  Leg *peer = leg_peer (leg);
  JsonObject *event;

  if (call->state != CALL_ACTIVE || call->updater) {
    client_respond_error (client, req, leg, 405, call->updater ?
        "not allowed: an update is already in progress" :
        "not allowed: the call is not up");
    return;
  }
  if (!jsep_is (req, "offer")) {
    client_respond_error (client, req, leg, 464,
        "update needs an offer in jsep");
    return;
  }
  client_respond_ack (client, req, leg);
  call->updater = leg;
  leg_send_simple (leg, "updating");

  /* FIXME: with --no-trickle, the candidates of an ICE restart trickled
   * after this offer are dropped */
  event = call_event_new ("updating_call", peer);
  set_parties (event, call);
  json_object_set_object_member (event, "jsep",
      json_object_ref (wtsp_message_get_object (req, "jsep")));
  leg_send_event (peer, event);
}

static void
handle_transfer (Client * client, WtspMessage * req, Leg * leg)
{
  Server *server = client->server;
  Call *call = leg->call;
  Leg *peer = leg_peer (leg);
  const gchar *replace = wtsp_message_get_string (req, "replace_call_id");
  gchar *refer_id;
  Refer *refer;
  JsonObject *event;

  if (call->state != CALL_ACTIVE) {
    client_respond_error (client, req, leg, 405,
        "not allowed: the call is not up");
    return;
  }
  client_respond_ack (client, req, leg);
  leg_send_simple (leg, "transferring");

  refer_id = random_id (REFER_ID_LENGTH);
  refer = g_new0 (Refer, 1);
  refer->referrer_token = g_strdup (leg->session->token);
  refer->referrer_call_id = g_strdup (leg->call_id);
  refer->referred_by = g_strdup (leg->session->number);
  g_hash_table_insert (server->refers, refer_id, refer);

  event = call_event_new ("transfer", peer);
  json_object_set_string_member (event, "refer_id", refer_id);
  json_object_set_string_member (event, "refer_to",
      wtsp_message_get_string (req, "number"));
  json_object_set_string_member (event, "referred_by", refer->referred_by);
  if (replace)
    json_object_set_string_member (event, "replace_call_id", replace);
  leg_send_event (peer, event);

  refer_notify (server, refer_id, "active", "SIP/2.0 100 Trying");
}

static void
handle_ice_trickle (Client * client, WtspMessage * req)
{
  JsonNode *node = json_object_get_member (req->object, "candidate");
  gboolean end = JSON_NODE_HOLDS_NULL (node)
      || json_object_get_boolean_member_with_default (json_node_get_object
      (node), "completed", FALSE);
  Leg *leg = find_leg (client, req);
  Leg *peer;
  JsonObject *event;

  if (leg == NULL)
    return;
  leg_log (leg, req->object);
  client_respond_ack (client, req, leg);

  if (client->server->no_trickle) {
    if (leg->gathered)
      server_log (client->server, "[%s] candidate after the end of "
          "candidates of call %s: dropped", leg->session->number, leg->call_id);
    else if (end)
      call_leg_gathered (leg);
    else
      g_ptr_array_add (leg->candidates,
          json_object_ref (json_node_get_object (node)));
    return;
  }

  peer = leg_peer (leg);
  if (peer == NULL)
    return;
  event = call_event_new ("ice_trickle", peer);
  json_object_set_member (event, "candidate", json_node_copy (node));
  leg_send_event (peer, event);
}

typedef void (*CallRequestFunc) (Client * client, WtspMessage * req, Leg * leg);

static const struct
{
  const gchar *type;
  CallRequestFunc func;
} call_requests[] = {
  {"accept", handle_accept},
  {"decline", handle_decline},
  {"hangup", handle_hangup},
  {"hold", handle_hold},
  {"unhold", handle_unhold},
  {"update", handle_update},
  {"transfer", handle_transfer},
};

/* Returns: FALSE if @req is no call request */
gboolean
call_handle_request (Client * client, WtspMessage * req)
{
  guint i;

  if (g_str_equal (req->type, "outgoing_call")) {
    handle_outgoing_call (client, req);
    return TRUE;
  }
  if (g_str_equal (req->type, "ice_trickle")) {
    handle_ice_trickle (client, req);
    return TRUE;
  }
  for (i = 0; i < G_N_ELEMENTS (call_requests); i++) {
    Leg *leg;

    if (!g_str_equal (req->type, call_requests[i].type))
      continue;
    leg = find_leg (client, req);
    if (leg) {
      leg_log (leg, req->object);
      call_requests[i].func (client, req, leg);
    }
    return TRUE;
  }
  return FALSE;
}
