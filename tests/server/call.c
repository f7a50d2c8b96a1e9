/* Reference WTSP server: calls
 *
 * A call joins two legs: the caller's, on the line its outgoing_call
 * named, and the callee's, on the callee session's first free line, with
 * a call_id made here. Requests on one leg become events on the other
 * (protocol.md §6-§8), the way WebTrit Core turns them into SIP and back.
 *
 * Order of a call (CallState below):
 *
 *   caller                      server                      callee
 *   outgoing_call(offer) ------>  ack, calling
 *                                 incoming_call(offer) -------->   RINGING
 *                <--------------  ringing
 *                                 <------------------- accept(answer)
 *                                 ack, accepted ---------------->  ANSWERING
 *                <--------------  accepted(answer)                 ACTIVE
 *
 * --early-media (a SIP callee sending 183 Session Progress with its SDP,
 * then 200 OK): the caller's accepted(answer) becomes
 *
 *                <--------------  progress(answer)                 EARLY
 *                  ... --early-media-delay ms ...
 *                <--------------  accepted (no jsep)               ACTIVE
 *
 * --offerless (an INVITE without SDP: the callee offers in its 200 OK,
 * the caller answers in the ACK):
 *
 *   outgoing_call(offer A) ---->  ack, calling                     (offer A
 *                                 incoming_call (no jsep) ----->    is only
 *                <--------------  ringing                           logged)
 *                                 <-------------------- accept(offer B)
 *                                 ack, accepting -------------->   REOFFERING
 *                <--------------  updating_call(offer B)           REOFFERED
 *   accept(answer) ------------>  ack, accepted                    REANSWERING
 *                                 accepted(answer) ------------>   ACTIVE
 *
 * Once ACTIVE, either side may update (renegotiate): update(offer) ->
 * updating_call(offer) to the other, whose accept(answer) -> updated
 * (answer) to the updater (UpdateState below).
 *
 * With --no-trickle every offer and answer waits for its sender's end of
 * candidates and goes with them in its SDP (call_deliver). Without it
 * candidates are relayed as they come, except while an offerless call
 * waits for the callee's offer: the caller's belong to an offer the callee
 * never sees, and the callee's would reach the caller before that offer
 * (leg_relay).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "server.h"
#include "wtspsdp.h"

#include <string.h>

#define REFER_ID_LENGTH 16

/* --no-trickle: how long an offer or answer waits for the end of its
 * sender's candidates. A client that never says it is done still gets
 * its call, with what it sent. */
#define GATHER_TIMEOUT_MS 5000

/* Where a call stands; the diagrams at the top show when each begins */
typedef enum
{
  CALL_OFFERING,                /* --no-trickle: the offer waits for the
                                 * caller's candidates */
  CALL_RINGING,                 /* the callee has incoming_call */
  CALL_ANSWERING,               /* the callee accepted with its answer,
                                 * which (--no-trickle) may still wait for
                                 * its candidates */
  CALL_EARLY,                   /* --early-media: the caller has progress,
                                 * accepted follows after the delay */
  CALL_REOFFERING,              /* --offerless: the callee accepted with an
                                 * offer, which (--no-trickle) may still
                                 * wait for its candidates */
  CALL_REOFFERED,               /* --offerless: the caller has that offer in
                                 * updating_call; its accept is awaited */
  CALL_REANSWERING,             /* --offerless: the caller accepted with its
                                 * answer, which (--no-trickle) may still
                                 * wait for its candidates */
  CALL_ACTIVE,                  /* both sides have had accepted */
} CallState;

/* An update (renegotiation) of an ACTIVE call, kept apart from the
 * offerless updating_call of CALL_REOFFERED */
typedef enum
{
  UPDATE_NONE,
  UPDATE_OFFERING,              /* --no-trickle: the updater's offer waits */
  UPDATE_OFFERED,               /* the other side has updating_call */
  UPDATE_ANSWERING,             /* --no-trickle: the answer waits */
} UpdateState;

/* What is done with a jsep once it may go (with --no-trickle, once its
 * sender's candidates are in) */
typedef void (*DeliverFunc) (Call * call, JsonObject * jsep);

struct _Call
{
  Server *server;
  CallState state;
  UpdateState update_state;
  Leg *caller;
  Leg *callee;                  /* NULL until the call reaches the callee */
  gchar *caller_number;
  gchar *callee_number;         /* as dialled */
  Leg *updater;                 /* the leg whose update is in progress */
  guint hold_offers;            /* that update is our re-offer for its hold
                                 * (this many, a hold then an unhold, not
                                 * answered yet): answers go no further */
  gchar *refer_id;              /* this call carries out that transfer */
  gchar *referred_by;
  /* attended transfer: the call this one replaces once it is up (its
   * referrer-side leg: session token, call id), and the target's call id
   * of it, for the target's incoming_call */
  gchar *replaces_token;
  gchar *replaces_call_id;
  gchar *replaces_target_call_id;

  /* The jsep on its way, from held_leg, and what delivers it */
  Leg *held_leg;
  JsonObject *held_jsep;
  DeliverFunc held_func;
  guint gather_id;              /* --no-trickle: gives up waiting */

  guint early_id;               /* --early-media: sends accepted */
};

/* The candidates of one ICE session of a leg (one ice-ufrag) */
struct _Gathering
{
  gchar *ufrag;                 /* NULL until a jsep of the leg names it */
  GPtrArray *candidates;        /* JsonNode: candidates and end markers */
  guint n_relayed;              /* how many of them the far leg has had */
  gboolean complete;            /* end of candidates (or we gave up) */
};

/* A transfer (REFER) in progress: who to tell how it went */
typedef struct
{
  gchar *referrer_token;
  gchar *referrer_call_id;
  gchar *referred_by;
  gchar *replace_call_id;       /* attended: the referrer's call with the
                                 * target, which the new call replaces */
} Refer;

static void refer_free (Refer * refer);

static const gchar *
call_state_name (CallState state)
{
  static const gchar *names[] = { "offering", "ringing", "answering",
    "early", "reoffering", "reoffered", "reanswering", "active"
  };

  return names[state];
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

/* An SDP that says a=end-of-candidates already carries all of them: a
 * client that gathers before it offers has nothing more to trickle */
static gboolean
sdp_has_end_of_candidates (const gchar * text)
{
  GstSDPMessage *sdp;
  gboolean found = FALSE;
  guint i;

  if (text == NULL || gst_sdp_message_new_from_text (text, &sdp) != GST_SDP_OK)
    return FALSE;
  for (i = 0; i < gst_sdp_message_attributes_len (sdp); i++)
    if (g_strcmp0 (gst_sdp_message_get_attribute (sdp, i)->key,
            "end-of-candidates") == 0)
      found = TRUE;
  for (i = 0; !found && i < gst_sdp_message_medias_len (sdp); i++)
    found = wtsp_sdp_media_has_attribute (gst_sdp_message_get_media (sdp, i),
        "end-of-candidates");
  gst_sdp_message_free (sdp);
  return found;
}

/* Returns: (transfer full) (nullable): the ICE ufrag of the SDP @text (the
 * session's, else the first media section's that has one) */
static gchar *
sdp_ice_ufrag (const gchar * text)
{
  GstSDPMessage *sdp;
  const gchar *ufrag;
  gchar *result;
  guint i;

  if (text == NULL || gst_sdp_message_new_from_text (text, &sdp) != GST_SDP_OK)
    return NULL;
  ufrag = gst_sdp_message_get_attribute_val (sdp, "ice-ufrag");
  for (i = 0; ufrag == NULL && i < gst_sdp_message_medias_len (sdp); i++)
    ufrag = gst_sdp_media_get_attribute_val (gst_sdp_message_get_media (sdp,
            i), "ice-ufrag");
  result = g_strdup (ufrag);
  gst_sdp_message_free (sdp);
  return result;
}

/* The candidate line of a trickled candidate; NULL for an end marker */
static const gchar *
candidate_line (JsonNode * node)
{
  const gchar *line;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  line = json_object_get_string_member_with_default (json_node_get_object
      (node), "candidate", NULL);
  return line && *line ? line : NULL;
}

/* Returns: (transfer full) (nullable): @text with the candidates and
 * a=end-of-candidates in every media section, NULL if it is no SDP */
static gchar *
sdp_add_candidates (Server * server, const gchar * text, GPtrArray * candidates)
{
  GstSDPMessage *sdp;
  gchar *result;
  guint i;

  if (text == NULL || gst_sdp_message_new_from_text (text, &sdp) != GST_SDP_OK)
    return NULL;

  for (i = 0; i < candidates->len; i++) {
    JsonNode *node = g_ptr_array_index (candidates, i);
    const gchar *line = candidate_line (node);
    gint media;

    if (line == NULL)
      continue;
    /* sdpMid first, then sdpMLineIndex: as the element reads them */
    media = wtsp_sdp_candidate_mline (sdp, json_node_get_object (node));
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

    if (!wtsp_sdp_media_has_attribute (media, "end-of-candidates"))
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
      json_object_get_string_member_with_default (jsep, "sdp", NULL),
      leg->gathering->candidates);
  if (sdp == NULL)
    return json_object_ref (jsep);
  copy = wtsp_jsep_new (json_object_get_string_member (jsep, "type"), sdp);
  g_free (sdp);
  return copy;
}

/* Candidates, by ICE session */

static Gathering *
gathering_new (void)
{
  Gathering *gathering = g_new0 (Gathering, 1);

  gathering->candidates = g_ptr_array_new_with_free_func ((GDestroyNotify)
      json_node_unref);
  return gathering;
}

static void
gathering_free (Gathering * gathering)
{
  if (gathering == NULL)
    return;
  g_ptr_array_unref (gathering->candidates);
  g_free (gathering->ufrag);
  g_free (gathering);
}

/* What @leg trickles from now on belongs to a new ICE session; the old one
 * is kept until a jsep of the leg says which of the two it uses */
static void
leg_new_gathering (Leg * leg)
{
  gathering_free (leg->previous);
  leg->previous = leg->gathering;
  leg->gathering = gathering_new ();
}

/* Returns: (transfer full): one gathering of what @first and @second
 * hold, which are freed: what the far leg had of them first, then the
 * rest, then one end marker if either was complete */
static Gathering *
gathering_merge (Gathering * first, Gathering * second)
{
  Gathering *both = gathering_new ();
  Gathering *parts[] = { first, second };
  gboolean end_relayed = FALSE;
  guint i, j;

  both->ufrag = g_strdup (first->ufrag ? first->ufrag : second->ufrag);
  both->complete = first->complete || second->complete;
  for (i = 0; i < G_N_ELEMENTS (parts); i++)
    for (j = 0; j < parts[i]->n_relayed; j++) {
      JsonNode *node = g_ptr_array_index (parts[i]->candidates, j);

      if (candidate_line (node) == NULL)
        end_relayed = TRUE;
      g_ptr_array_add (both->candidates, json_node_ref (node));
    }
  both->n_relayed = both->candidates->len;
  for (i = 0; i < G_N_ELEMENTS (parts); i++)
    for (j = parts[i]->n_relayed; j < parts[i]->candidates->len; j++) {
      JsonNode *node = g_ptr_array_index (parts[i]->candidates, j);

      if (candidate_line (node))
        g_ptr_array_add (both->candidates, json_node_ref (node));
    }
  if (both->complete && !end_relayed)
    g_ptr_array_add (both->candidates, json_node_new (JSON_NODE_NULL));
  gathering_free (first);
  gathering_free (second);
  return both;
}

/* @leg sends an SDP: its ice-ufrag says which ICE session the candidates
 * that go with it are from. A new ufrag (an ICE restart, a new peer
 * connection) starts a new one. The ufrag of the previous session brings
 * that one back, with whatever was trickled since (an offerless caller
 * that answers with the ICE session of its own, dropped offer; a client
 * that sent a candidate after its end of candidates). */
static void
leg_bind_sdp (Leg * leg, const gchar * sdp)
{
  Gathering *current = leg->gathering;
  gchar *ufrag = sdp_ice_ufrag (sdp);

  if (ufrag == NULL)
    return;
  if (current->ufrag == NULL && leg->previous
      && g_strcmp0 (leg->previous->ufrag, ufrag) == 0) {
    leg->gathering = gathering_merge (leg->previous, current);
    leg->previous = NULL;
    server_log (leg->call->server, "[%s] call %s: same ICE session as "
        "before (ufrag %s)", leg->session->number, leg->call_id, ufrag);
  } else if (current->ufrag == NULL) {
    current->ufrag = g_strdup (ufrag);
  } else if (!g_str_equal (current->ufrag, ufrag)) {
    server_log (leg->call->server, "[%s] call %s: new ICE session (ufrag "
        "%s, was %s)", leg->session->number, leg->call_id, ufrag,
        current->ufrag);
    leg_new_gathering (leg);
    leg->gathering->ufrag = g_strdup (ufrag);
  }
  g_free (ufrag);
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
  leg->gathering = gathering_new ();
  g_assert (session->lines[line] == NULL);
  session->lines[line] = leg;
  g_clear_pointer (&session->ended[line], json_object_unref);
  return leg;
}

/* A leg of a call that is not routed here (janus.c): no Call */
Leg *
call_leg_new (Session * session, guint line, const gchar * call_id)
{
  return leg_new (NULL, session, line, call_id);
}

void
call_leg_free (Leg * leg)
{
  Session *session = leg->session;

  if (session->lines[leg->line] == leg) {
    session->lines[leg->line] = NULL;
    /* The next state shows the call once more, with its log, hangup
     * last, so that a client that reconnects learns how it ended: its
     * socket may be dead before the server noticed (the hangup event
     * went nowhere). A new call on the line, or a newer end, replaces
     * it. */
    if (!session->server->stopping) {
      JsonObject *entry = json_object_new ();

      json_object_set_string_member (entry, "call_id", leg->call_id);
      json_object_set_array_member (entry, "call_logs",
          json_array_ref (leg->logs));
      g_clear_pointer (&session->ended[leg->line], json_object_unref);
      session->ended[leg->line] = entry;
    }
  }
  json_array_unref (leg->logs);
  gathering_free (leg->gathering);
  gathering_free (leg->previous);
  g_free (leg->call_id);
  g_free (leg->sdp);
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
leg_send_with_jsep (Leg * leg, const gchar * type, JsonObject * jsep)
{
  JsonObject *event = call_event_new (type, leg);

  if (jsep)
    json_object_set_object_member (event, "jsep", json_object_ref (jsep));
  leg_send_event (leg, event);
}

void
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
  if (call->replaces_target_call_id)
    json_object_set_string_member (event, "replace_call_id",
        call->replaces_target_call_id);
}

/* The leg of session @token whose call id is @call_id, or NULL */
static Leg *
find_leg (Server * server, const gchar * token, const gchar * call_id)
{
  Session *session = g_hash_table_lookup (server->sessions, token);
  guint i;

  for (i = 0; session && call_id && i < server->n_lines; i++)
    if (session->lines[i] && g_strcmp0 (session->lines[i]->call_id,
            call_id) == 0)
      return session->lines[i];
  return NULL;
}

/* Without --no-trickle: whether the far leg may have @leg's candidates
 * now. An offerless call holds them until the caller has the callee's
 * offer: the caller's until then are for its own offer, which goes
 * nowhere, the callee's would come before the offer they go with. */
static gboolean
leg_may_relay (Leg * leg)
{
  Call *call = leg->call;

  if (call->server->no_trickle || leg_peer (leg) == NULL)
    return FALSE;
  if (call->server->offerless && (call->state == CALL_RINGING
          || call->state == CALL_REOFFERING))
    return FALSE;
  return TRUE;
}

/* Relays what @leg trickled in its current ICE session and the far leg
 * has not had yet, if it may have it now */
static void
leg_relay (Leg * leg)
{
  Gathering *gathering = leg->gathering;
  Leg *peer = leg_peer (leg);

  if (!leg_may_relay (leg))
    return;
  for (; gathering->n_relayed < gathering->candidates->len;
      gathering->n_relayed++) {
    JsonObject *event = call_event_new ("ice_trickle", peer);

    json_object_set_member (event, "candidate",
        json_node_copy (g_ptr_array_index (gathering->candidates,
                gathering->n_relayed)));
    leg_send_event (peer, event);
  }
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
  g_free (refer->replace_call_id);
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

static void
call_clear_held (Call * call)
{
  if (call->gather_id) {
    g_source_remove (call->gather_id);
    call->gather_id = 0;
  }
  g_clear_pointer (&call->held_jsep, json_object_unref);
  call->held_leg = NULL;
  call->held_func = NULL;
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
  call_clear_held (call);
  if (call->early_id)
    g_source_remove (call->early_id);
  call_leg_free (call->caller);
  if (call->callee)
    call_leg_free (call->callee);
  g_free (call->caller_number);
  g_free (call->callee_number);
  g_free (call->refer_id);
  g_free (call->referred_by);
  g_free (call->replaces_token);
  g_free (call->replaces_call_id);
  g_free (call->replaces_target_call_id);
  g_free (call);
}

/* Ends @leg's call because its side is gone (session dropped, server
 * stopping): both legs get a hangup, the far one with @code */
void
call_end_for_leg (Leg * leg, gint code, const gchar * reason)
{
  Call *call = leg->call;
  Leg *peer;

  if (call == NULL) {
    janus_leg_end (leg, code, reason);
    return;
  }
  peer = leg_peer (leg);

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
  /* and those of calls through Janus */
  if (server->janus) {
    GHashTableIter iter;
    gpointer value;
    guint i;

    g_hash_table_iter_init (&iter, server->sessions);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      for (i = 0; i < server->n_lines; i++)
        if (((Session *) value)->lines[i])
          call_end_for_leg (((Session *) value)->lines[i], 480,
              "Temporarily Unavailable");
  }
}

/* Delivering offers and answers */

/* Hands the jsep held back to its DeliverFunc. The call may be gone
 * afterwards. */
static void
call_release (Call * call)
{
  Leg *leg = call->held_leg;
  JsonObject *held = call->held_jsep;
  DeliverFunc func = call->held_func;
  JsonObject *jsep;

  call->held_jsep = NULL;
  call_clear_held (call);
  jsep = jsep_for_delivery (call, leg, held);
  json_object_unref (held);
  func (call, jsep);
  json_object_unref (jsep);
}

static gboolean
gather_timeout (gpointer data)
{
  Call *call = data;
  Leg *leg = call->held_leg;

  call->gather_id = 0;
  server_log (call->server, "[%s] no end of candidates after %d ms on call "
      "%s: sending the %u candidates it has", leg->session->number,
      GATHER_TIMEOUT_MS, leg->call_id, leg->gathering->candidates->len);
  leg->gathering->complete = TRUE;
  call_release (call);
  return G_SOURCE_REMOVE;
}

/* @jsep, from @leg, goes on through @func: at once, or with --no-trickle
 * once the candidates of @leg are complete (at most GATHER_TIMEOUT_MS).
 * The call may be gone afterwards. */
static void
call_deliver (Call * call, Leg * leg, JsonObject * jsep, DeliverFunc func)
{
  const gchar *sdp = json_object_get_string_member_with_default (jsep, "sdp",
      NULL);

  g_assert (call->held_leg == NULL);
  if (sdp) {
    g_free (leg->sdp);
    leg->sdp = g_strdup (sdp);
  }
  call->held_leg = leg;
  call->held_jsep = json_object_ref (jsep);
  call->held_func = func;

  leg_bind_sdp (leg, sdp);
  if (call->server->no_trickle) {
    if (!leg->gathering->complete && !sdp_has_end_of_candidates (sdp)) {
      server_log (call->server, "[%s] call %s: the %s waits for the end of "
          "candidates", leg->session->number, leg->call_id,
          json_object_get_string_member (jsep, "type"));
      call->gather_id = g_timeout_add (GATHER_TIMEOUT_MS, gather_timeout, call);
      return;
    }
  }
  call_release (call);
}

/* --no-trickle: @leg has sent all of its candidates */
static void
call_leg_gathered (Leg * leg)
{
  if (leg->call->held_leg == leg)
    call_release (leg->call);
}

/* Routing */

static gboolean
is_user_number (gpointer key, gpointer value, gpointer number)
{
  return g_str_equal (value, number);
}

/* The caller's offer is ready to go (NULL: --offerless, it goes nowhere):
 * find the callee and ring it */
static void
call_route (Call * call, JsonObject * offer)
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

  call_id = wtsp_random_id (WTSP_CALL_ID_LENGTH);
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
  server_log (server, "[%s] call %s rings \"%s\" on line %d as %s%s",
      call->caller_number, call->caller->call_id, call->callee_number, line,
      call->callee->call_id, offer ? "" : ", without the offer");

  event = call_event_new ("incoming_call", call->callee);
  set_parties (event, call);
  if (offer)
    json_object_set_object_member (event, "jsep", json_object_ref (offer));
  leg_send_event (call->callee, event);

  leg_send_simple (call->caller, "ringing");
  /* candidates the caller trickled before the callee was there */
  leg_relay (call->caller);
}

/* Both sides have had accepted: the call is up */
static void
call_established (Call * call)
{
  call->state = CALL_ACTIVE;
  server_log (call->server, "[%s] call %s is up", call->caller_number,
      call->caller->call_id);
  if (call->refer_id) {
    refer_notify (call->server, call->refer_id, "terminated", "SIP/2.0 200 OK");
    g_clear_pointer (&call->refer_id, g_free);
  }
  /* attended transfer: the referrer's call with the target is replaced
   * (the target's Replaces: both of its legs end) */
  if (call->replaces_call_id) {
    Leg *old = find_leg (call->server, call->replaces_token,
        call->replaces_call_id);

    if (old && old->call && old->call != call) {
      server_log (call->server, "[%s] call %s replaces call %s",
          call->caller_number, call->caller->call_id, old->call_id);
      call_end_for_leg (old, 200, "Replaced");
    }
  }
}

static gboolean
early_media_timeout (gpointer data)
{
  Call *call = data;

  call->early_id = 0;
  call->caller->up = TRUE;
  leg_send_simple (call->caller, "accepted");
  call_established (call);
  return G_SOURCE_REMOVE;
}

/* The callee's answer is ready to go */
static void
deliver_answer (Call * call, JsonObject * answer)
{
  if (call->server->early_media) {
    JsonObject *event = call_event_new ("progress", call->caller);

    call->state = CALL_EARLY;
    json_object_set_string_member (event, "callee", call->callee_number);
    json_object_set_object_member (event, "jsep", json_object_ref (answer));
    leg_send_event (call->caller, event);
    server_log (call->server, "[%s] call %s: early media, accepted in %u ms",
        call->caller_number, call->caller->call_id,
        call->server->early_media_delay);
    call->early_id = g_timeout_add (call->server->early_media_delay,
        early_media_timeout, call);
    return;
  }
  call->caller->up = TRUE;
  leg_send_with_jsep (call->caller, "accepted", answer);
  call_established (call);
}

/* --offerless: the callee's offer is ready to go, to the caller as a
 * re-INVITE would come */
static void
deliver_callee_offer (Call * call, JsonObject * offer)
{
  JsonObject *event = call_event_new ("updating_call", call->caller);

  call->state = CALL_REOFFERED;
  set_parties (event, call);
  json_object_set_object_member (event, "jsep", json_object_ref (offer));
  /* what the caller trickles from now on goes with its answer, not with
   * its dropped offer */
  leg_new_gathering (call->caller);
  leg_send_event (call->caller, event);
  server_log (call->server, "[%s] call %s: the callee's offer is with the "
      "caller", call->caller_number, call->caller->call_id);
  /* candidates the callee trickled before its offer went */
  leg_relay (call->callee);
}

/* --offerless: the caller's answer to the callee's offer is ready to go */
static void
deliver_caller_answer (Call * call, JsonObject * answer)
{
  call->callee->up = TRUE;
  leg_send_with_jsep (call->callee, "accepted", answer);
  call_established (call);
  /* the candidates of the caller's first ICE session, if its answer went
   * on with it */
  leg_relay (call->caller);
}

static void
deliver_update_offer (Call * call, JsonObject * offer)
{
  Leg *peer = leg_peer (call->updater);
  JsonObject *event = call_event_new ("updating_call", peer);

  call->update_state = UPDATE_OFFERED;
  set_parties (event, call);
  json_object_set_object_member (event, "jsep", json_object_ref (offer));
  leg_send_event (peer, event);
}

static void
deliver_update_answer (Call * call, JsonObject * answer)
{
  Leg *updater = call->updater;

  if (call->hold_offers > 0) {
    /* the holder asked for hold or unhold, not for an SDP */
    server_log (call->server, "[%s] call %s: the far end answered the "
        "hold re-offer", updater->session->number, updater->call_id);
    if (--call->hold_offers > 0) {
      call->update_state = UPDATE_OFFERED;
      return;
    }
    call->updater = NULL;
    call->update_state = UPDATE_NONE;
    return;
  }
  call->updater = NULL;
  call->update_state = UPDATE_NONE;
  leg_send_with_jsep (updater, "updated", answer);
}

/* Requests */

/* Line checks every line and call request shares; answers the error */
gboolean
call_check_line (Client * client, WtspMessage * req)
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

Leg *
call_find_leg (Client * client, WtspMessage * req)
{
  Leg *leg;

  if (!call_check_line (client, req))
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

  if (!call_check_line (client, req))
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
  call->caller = leg_new (call, session, req->line, req->call_id);
  server->calls = g_list_prepend (server->calls, call);

  /* the transferee calling the transfer target */
  if (refer_id && g_hash_table_lookup (server->refers, refer_id)) {
    Refer *refer = g_hash_table_lookup (server->refers, refer_id);

    call->refer_id = g_strdup (refer_id);
    call->referred_by = g_strdup (refer->referred_by);
    if (refer->replace_call_id) {
      Leg *old = find_leg (server, refer->referrer_token,
          refer->replace_call_id);
      Leg *target = old && old->call ? leg_peer (old) : NULL;

      call->replaces_token = g_strdup (refer->referrer_token);
      call->replaces_call_id = g_strdup (refer->replace_call_id);
      if (target)
        call->replaces_target_call_id = g_strdup (target->call_id);
    }
  }

  server_log (server, "[%s] call %s to \"%s\" on line %d", session->number,
      req->call_id, number, req->line);
  leg_log (call->caller, req->object);
  client_respond_ack (client, req, call->caller);
  leg_send_simple (call->caller, "calling");

  if (server->offerless) {
    /* an INVITE without SDP: the offer stays in the caller's call log */
    wtsp_message_get_jsep (req, NULL, &sdp);
    leg_bind_sdp (call->caller, sdp);
    call_route (call, NULL);
    return;
  }
  call_deliver (call, call->caller, wtsp_message_get_object (req, "jsep"),
      call_route);
}

/* The callee accepts a ringing call: with its answer, or (--offerless)
 * with its own offer */
static void
accept_incoming (Client * client, WtspMessage * req, Leg * leg)
{
  Call *call = leg->call;
  JsonObject *jsep = wtsp_message_get_object (req, "jsep");

  if (call->server->offerless) {
    if (!jsep_is (req, "offer")) {
      client_respond_error (client, req, leg, 464,
          "offerless call: accept must carry an offer");
      return;
    }
    client_respond_ack (client, req, leg);
    call->state = CALL_REOFFERING;
    leg_send_simple (leg, "accepting");
    call_deliver (call, leg, jsep, deliver_callee_offer);
    return;
  }

  if (!jsep_is (req, "answer")) {
    client_respond_error (client, req, leg, 464,
        "accept needs the answer in jsep");
    return;
  }
  client_respond_ack (client, req, leg);
  call->state = CALL_ANSWERING;
  leg->up = TRUE;
  leg_send_simple (leg, "accepted");
  call_deliver (call, leg, jsep, deliver_answer);
}

static void
handle_accept (Client * client, WtspMessage * req, Leg * leg)
{
  Call *call = leg->call;
  JsonObject *jsep = wtsp_message_get_object (req, "jsep");

  if (leg == call->callee && call->state == CALL_RINGING) {
    accept_incoming (client, req, leg);
    return;
  }

  /* --offerless: the caller answers the callee's offer */
  if (leg == call->caller && call->state == CALL_REOFFERED) {
    if (!jsep_is (req, "answer")) {
      client_respond_error (client, req, leg, 464,
          "accept of the callee's offer needs the answer in jsep");
      return;
    }
    client_respond_ack (client, req, leg);
    call->state = CALL_REANSWERING;
    leg->up = TRUE;
    leg_send_simple (leg, "accepted");
    call_deliver (call, leg, jsep, deliver_caller_answer);
    return;
  }

  /* the answer to the other leg's update */
  if (call->state == CALL_ACTIVE && call->update_state == UPDATE_OFFERED
      && call->updater != leg) {
    if (!jsep_is (req, "answer")) {
      client_respond_error (client, req, leg, 464,
          "accept of an update needs the answer in jsep");
      return;
    }
    client_respond_ack (client, req, leg);
    call->update_state = UPDATE_ANSWERING;
    call_deliver (call, leg, jsep, deliver_update_answer);
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
  gint code;

  client_respond_ack (client, req, leg);
  event = call_event_new ("hangingup", leg);
  json_object_set_int_member (event, "code", 200);
  leg_send_event (leg, event);
  leg_hangup (leg, 200, "to BYE");

  if (peer && peer->up) {
    code = 200;
    leg_hangup (peer, 200, "Session Terminated");
  } else if (peer == call->callee && call->state == CALL_RINGING) {
    /* a CANCEL, for the callee */
    code = 487;
    leg_hangup (peer, 487, "Request Terminated");
  } else if (peer == call->callee) {
    /* the callee accepted with an offer (--offerless), but the caller
     * hangs up instead of answering it */
    code = 487;
    leg_hangup (peer, 200, "Session Terminated");
  } else if (peer) {
    /* the callee hung up instead of declining, or before the caller was
     * told the call is up (--no-trickle, --early-media, --offerless) */
    code = 603;
    leg_hangup (peer, 603, "Decline");
  } else {
    /* --no-trickle: the offer had not gone yet */
    code = 487;
  }
  server_log (client->server, "[%s] hung up call %s (%s)",
      leg->session->number, leg->call_id, call_state_name (call->state));
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

/* Refuses a request that needs the call up; answers the error */
static gboolean
check_active (Client * client, WtspMessage * req, Leg * leg)
{
  gchar *reason;

  if (leg->call->state == CALL_ACTIVE)
    return TRUE;
  reason = g_strdup_printf ("not allowed: the call is not up (%s)",
      call_state_name (leg->call->state));
  client_respond_error (client, req, leg, 405, reason);
  g_free (reason);
  return FALSE;
}

/* hold and unhold: a re-INVITE for the far end, as Janus' SIP plugin
 * sends one: the holder's last SDP with the new direction (@sdp_direction,
 * the holder's), in updating_call; its answer comes in update (or
 * accept) and goes no further. "direction" is the far end's new one. */
static void
handle_direction (Client * client, WtspMessage * req, Leg * leg,
    const gchar * own_event, const gchar * sdp_direction)
{
  Call *call = leg->call;
  Leg *peer = leg_peer (leg);
  GstSDPMessage *sdp = NULL;
  JsonObject *event;

  if (!check_active (client, req, leg))
    return;
  /* a hold or unhold after another one not answered yet is fine: the
   * far end answers both */
  if (call->update_state != UPDATE_NONE
      && !(call->hold_offers > 0 && call->updater == leg)) {
    client_respond_error (client, req, leg, 405,
        "not allowed: an update is already in progress");
    return;
  }
  client_respond_ack (client, req, leg);
  leg_send_simple (leg, own_event);

  event = call_event_new ("updating_call", peer);
  set_parties (event, call);
  json_object_set_string_member (event, "direction",
      opposite_direction (sdp_direction));
  if (leg->sdp && gst_sdp_message_new_from_text (leg->sdp, &sdp) == GST_SDP_OK) {
    JsonObject *jsep = json_object_new ();

    wtsp_sdp_set_direction (sdp, sdp_direction);
    g_free (leg->sdp);
    leg->sdp = gst_sdp_message_as_text (sdp);
    json_object_set_string_member (jsep, "type", "offer");
    json_object_set_string_member (jsep, "sdp", leg->sdp);
    json_object_set_object_member (event, "jsep", jsep);
    call->updater = leg;
    call->update_state = UPDATE_OFFERED;
    call->hold_offers++;
  }
  if (sdp)
    gst_sdp_message_free (sdp);
  leg_send_event (peer, event);
}

static void
handle_hold (Client * client, WtspMessage * req, Leg * leg)
{
  const gchar *direction = wtsp_message_get_string (req, "direction");

  if (direction && !g_str_equal (direction, "sendonly")
      && !g_str_equal (direction, "recvonly")
      && !g_str_equal (direction, "inactive")) {
    client_respond_error (client, req, leg, 467, "hold direction must be "
        "sendonly, recvonly or inactive");
    return;
  }
  handle_direction (client, req, leg, "holding",
      direction ? direction : "sendonly");
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

  if (!check_active (client, req, leg))
    return;
  /* the answer to the other leg's update (a re-INVITE), as Janus' SIP
   * plugin takes it */
  if (call->update_state == UPDATE_OFFERED && call->updater != leg
      && jsep_is (req, "answer")) {
    client_respond_ack (client, req, leg);
    call->update_state = UPDATE_ANSWERING;
    call_deliver (call, leg, wtsp_message_get_object (req, "jsep"),
        deliver_update_answer);
    return;
  }
  if (call->update_state != UPDATE_NONE) {
    client_respond_error (client, req, leg, 405,
        "not allowed: an update is already in progress");
    return;
  }
  if (!jsep_is (req, "offer")) {
    client_respond_error (client, req, leg, 464,
        "update needs an offer in jsep");
    return;
  }
  client_respond_ack (client, req, leg);
  call->updater = leg;
  call->update_state = UPDATE_OFFERING;
  leg_send_simple (leg, "updating");
  call_deliver (call, leg, wtsp_message_get_object (req, "jsep"),
      deliver_update_offer);
}

static void
handle_transfer (Client * client, WtspMessage * req, Leg * leg)
{
  Server *server = client->server;
  Leg *peer = leg_peer (leg);
  const gchar *replace = wtsp_message_get_string (req, "replace_call_id");
  gchar *refer_id;
  Refer *refer;
  JsonObject *event;

  if (!check_active (client, req, leg))
    return;
  client_respond_ack (client, req, leg);
  leg_send_simple (leg, "transferring");

  refer_id = wtsp_random_id (REFER_ID_LENGTH);
  refer = g_new0 (Refer, 1);
  refer->referrer_token = g_strdup (leg->session->token);
  refer->referrer_call_id = g_strdup (leg->call_id);
  refer->referred_by = g_strdup (leg->session->number);
  refer->replace_call_id = g_strdup (replace);
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
  Leg *leg = call_find_leg (client, req);
  Gathering *gathering;

  if (leg == NULL)
    return;
  leg_log (leg, req->object);
  client_respond_ack (client, req, leg);

  gathering = leg->gathering;
  if (gathering->complete) {
    if (end || candidate_line (node) == NULL)
      return;                   /* one more end marker: nothing new */
    /* a candidate after the end of candidates: a new ICE session (a
     * restart, or a new peer connection) has begun */
    leg_new_gathering (leg);
    gathering = leg->gathering;
  }
  g_ptr_array_add (gathering->candidates, json_node_copy (node));
  if (end)
    gathering->complete = TRUE;

  if (client->server->no_trickle) {
    if (end)
      call_leg_gathered (leg);
    return;
  }
  leg_relay (leg);
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

  if (client->server->janus)
    return janus_handle_request (client, req);
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
    leg = call_find_leg (client, req);
    if (leg) {
      leg_log (leg, req->object);
      call_requests[i].func (client, req, leg);
    }
    return TRUE;
  }
  return FALSE;
}
