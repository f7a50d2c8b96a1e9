/* webrtccall: the call object and its state machine
 *
 * One WebrtcCallCall per call, outgoing or incoming. It owns its
 * webrtcbin (webrtccall-negotiation.c), its media branches
 * (webrtccall-media.c) and its state; everything here runs on the bin's
 * task thread, except teardown during the application's PAUSED->READY,
 * which runs on the application's thread once the task thread is idle.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "webrtccall-priv.h"

#include <stdlib.h>
#include <string.h>

#define GST_CAT_DEFAULT gst_webrtc_call_debug

G_DEFINE_TYPE (WebrtcCallCall, webrtc_call_call, GST_TYPE_OBJECT);

static void
output_free (WebrtcCallOutput * out)
{
  gst_object_unref (out->ghost);
  g_free (out);
}

static void
webrtc_call_call_finalize (GObject * object)
{
  WebrtcCallCall *call = WEBRTC_CALL_CALL (object);
  JsonObject *c;

  while ((c = g_queue_pop_head (&call->pending_candidates)))
    json_object_unref (c);
  if (call->remote_sdp)
    gst_sdp_message_free (call->remote_sdp);
  g_clear_pointer (&call->incoming, wtsp_message_unref);
  g_list_free_full (call->outputs, (GDestroyNotify) output_free);
  g_list_free_full (call->removed_outputs, (GDestroyNotify) output_free);
  g_list_free_full (call->senders, gst_object_unref);
  if (call->dtmf_pending)
    g_string_free (call->dtmf_pending, TRUE);
  g_clear_pointer (&call->samples, g_hash_table_unref);
  g_free (call->refer_id);
  g_free (call->transfer_to);
  g_free (call->transfer_refer_id);
  if (call->quality)
    gst_structure_free (call->quality);
  g_list_free_full (call->promises, (GDestroyNotify) gst_promise_unref);
  gst_clear_object (&call->webrtc);
  g_free (call->call_id);
  g_free (call->caller);
  g_free (call->callee);
  G_OBJECT_CLASS (webrtc_call_call_parent_class)->finalize (object);
}

static void
webrtc_call_call_init (WebrtcCallCall * call)
{
  g_queue_init (&call->pending_candidates);
  call->state = GST_WEBRTC_CALL_STATE_IDLE;
}

static void
webrtc_call_call_class_init (WebrtcCallCallClass * klass)
{
  G_OBJECT_CLASS (klass)->finalize = webrtc_call_call_finalize;
}

const gchar *
webrtc_call_state_nick (GstWebrtcCallState state)
{
  GEnumValue *v = g_enum_get_value (g_type_class_peek
      (GST_TYPE_WEBRTC_CALL_STATE), state);
  return v ? v->value_nick : "unknown";
}

WebrtcCallCall *
webrtc_call_call_new (GstWebrtcCall * bin, gint line, const gchar * call_id)
{
  WebrtcCallCall *call = g_object_new (WEBRTC_TYPE_CALL_CALL, NULL);
  gchar *name = g_strdup_printf ("%s:%s", GST_OBJECT_NAME (bin), call_id);

  gst_object_ref_sink (call);
  gst_object_set_name (GST_OBJECT (call), name);
  g_free (name);
  call->bin = bin;
  call->line = line;
  call->call_id = g_strdup (call_id);
  call->started = g_get_monotonic_time ();
  return call;
}

gboolean
webrtc_call_call_is_ending (WebrtcCallCall * call)
{
  gboolean ending;

  GST_OBJECT_LOCK (call);
  ending = call->ending;
  GST_OBJECT_UNLOCK (call);
  return ending;
}

JsonObject *
webrtc_call_call_request (WebrtcCallCall * call, const gchar * type)
{
  return wtsp_request_new (type, call->line, call->call_id);
}

/* State, on the bus: webrtccall-state (see the SECTION block) */
void
webrtc_call_call_post_state (WebrtcCallCall * call, GstWebrtcCallState state,
    gint code, const gchar * reason)
{
  GstWebrtcCall *bin = call->bin;
  GstStructure *s;

  GST_OBJECT_LOCK (call);
  call->state = state;
  if (state == GST_WEBRTC_CALL_STATE_CONNECTED && call->setup_us == 0)
    call->setup_us = MAX (1, g_get_monotonic_time () - call->started);
  GST_OBJECT_UNLOCK (call);
  GST_OBJECT_LOCK (bin);
  bin->state = state;
  GST_OBJECT_UNLOCK (bin);

  s = gst_structure_new ("webrtccall-state",
      "state", G_TYPE_STRING, webrtc_call_state_nick (state),
      "line", G_TYPE_INT, call->line,
      "call-id", G_TYPE_STRING, call->call_id, NULL);
  if (call->caller)
    gst_structure_set (s, "caller", G_TYPE_STRING, call->caller, NULL);
  if (call->callee)
    gst_structure_set (s, "callee", G_TYPE_STRING, call->callee, NULL);
  if (state == GST_WEBRTC_CALL_STATE_ENDED)
    gst_structure_set (s, "code", G_TYPE_INT, code,
        "reason", G_TYPE_STRING, reason ? reason : "", NULL);

  GST_INFO_OBJECT (call, "call state %s%s%s", webrtc_call_state_nick (state),
      reason ? ": " : "", reason ? reason : "");
  g_object_notify (G_OBJECT (bin), "state");
  gst_element_post_message (GST_ELEMENT (bin),
      gst_message_new_element (GST_OBJECT (bin), s));
}

GstWebrtcCallState
webrtc_call_call_get_state (WebrtcCallCall * call)
{
  GstWebrtcCallState state;

  GST_OBJECT_LOCK (call);
  state = call->state;
  GST_OBJECT_UNLOCK (call);
  return state;
}

static void
post_connected (WebrtcCallCall * call)
{
  webrtc_call_call_post_state (call, GST_WEBRTC_CALL_STATE_CONNECTED, 0, NULL);
}

/* Dialling: the bin made us its current call on a free line */
void
webrtc_call_call_dial (WebrtcCallCall * call)
{
  GST_INFO_OBJECT (call, "dialling %s on line %d", call->callee, call->line);
  webrtc_call_call_post_state (call, GST_WEBRTC_CALL_STATE_CALLING, 0, NULL);
  webrtc_call_negotiation_offer (call);
}

void
webrtc_call_call_answer (WebrtcCallCall * call)
{
  const gchar *type, *sdp_text;
  WtspMessage *incoming = call->incoming;

  if (incoming == NULL) {
    GST_ELEMENT_WARNING (call->bin, RESOURCE, FAILED,
        ("No incoming call to answer"), (NULL));
    return;
  }
  call->incoming = NULL;

  if (!wtsp_message_get_jsep (incoming, &type, &sdp_text)) {
    /* Offerless INVITE: we offer in the accept, the answer comes with
     * "accepted" */
    GST_INFO_OBJECT (call, "incoming call without offer: offering");
    webrtc_call_negotiation_offer (call);
  } else if (!g_str_equal (type, "offer")) {
    webrtc_call_call_decline (call, 488);
    webrtc_call_call_end (call, 488, "the incoming call carried an answer "
        "where an offer was due");
  } else {
    webrtc_call_negotiation_answer (call, sdp_text);
  }
  wtsp_message_unref (incoming);
}

void
webrtc_call_call_decline (WebrtcCallCall * call, guint code)
{
  JsonObject *req = webrtc_call_call_request (call, "decline");

  if (code)
    json_object_set_int_member (req, "code", code);
  webrtc_call_send_request (call->bin, call, req);
}

/* How long a hangup waits for the server's word that the call is over (a
 * CANCEL the far end never answers 487 gets none) */
#define HANGUP_CONFIRM_MS 5000

static void
hangup_unconfirmed (GstWebrtcCall * self, WebrtcCallCall * call,
    gpointer data)
{
  gchar *reason;

  if (webrtc_call_call_get_state (call) != GST_WEBRTC_CALL_STATE_HANGINGUP)
    return;
  reason = g_strdup_printf ("hung up; the server did not confirm the end "
      "of the call within %u ms", HANGUP_CONFIRM_MS);
  GST_ELEMENT_WARNING (call->bin, RESOURCE, FAILED, ("Call %s: %s",
          call->call_id, reason), (NULL));
  webrtc_call_call_end (call, call->answered || !call->outgoing ? 200 : 487,
      reason);
  g_free (reason);
}

void
webrtc_call_call_hangup (WebrtcCallCall * call)
{
  if (call->hangup_sent)
    return;
  call->hangup_sent = TRUE;
  if (call->incoming) {
    webrtc_call_call_decline (call, 486);
    return;
  }
  /* Still making our offer: the server has not heard of the call, and
   * never will (the offer's task bails out once the call ends) */
  if (call->outgoing && !call->placed) {
    webrtc_call_call_end (call, 487, "hung up before the call was placed");
    return;
  }
  webrtc_call_send_request (call->bin, call,
      webrtc_call_call_request (call, "hangup"));
  /* The link is down: the hangup waits for it (or, if it takes longer
   * than a transaction, for the next handshake), the call ends now */
  if (!webrtc_call_session_ready (call->bin)) {
    webrtc_call_call_end (call, 200, "hung up while the signaling link was "
        "down: the server is told when it is back");
    return;
  }
  webrtc_call_call_post_state (call, GST_WEBRTC_CALL_STATE_HANGINGUP, 0, NULL);
  webrtc_call_enqueue_later (call->bin, call, HANGUP_CONFIRM_MS,
      hangup_unconfirmed, NULL, NULL);
}

/* We end the call (dead media, a failed connection): the server and the
 * far end are told, and the call ends now with our code and reason */
void
webrtc_call_call_give_up (WebrtcCallCall * call, gint code,
    const gchar * reason)
{
  if (!call->hangup_sent) {
    call->hangup_sent = TRUE;
    if (call->incoming)
      webrtc_call_call_decline (call, code);
    else if (!call->outgoing || call->placed)
      webrtc_call_send_request (call->bin, call,
          webrtc_call_call_request (call, "hangup"));
  }
  webrtc_call_call_end (call, code, reason);
}

void
webrtc_call_call_hold (WebrtcCallCall * call, gboolean hold)
{
  JsonObject *req = webrtc_call_call_request (call, hold ? "hold" : "unhold");
  GstWebrtcCallHoldDirection direction;

  GST_OBJECT_LOCK (call->bin);
  direction = call->bin->hold_direction;
  GST_OBJECT_UNLOCK (call->bin);
  if (hold)
    json_object_set_string_member (req, "direction",
        g_enum_get_value (g_type_class_peek (GST_TYPE_WEBRTC_CALL_HOLD_DIRECTION),
            direction)->value_nick);
  webrtc_call_send_request (call->bin, call, req);
}

/* A request of this call was not acknowledged */
void
webrtc_call_call_request_failed (WebrtcCallCall * call,
    const GstStructure * reply)
{
  const gchar *result = gst_structure_get_string (reply, "result");
  const gchar *reason = gst_structure_get_string (reply, "reason");
  const gchar *request = gst_structure_get_string (reply, "request");
  gint code = 0;
  gchar *text;

  gst_structure_get_int (reply, "code", &code);
  text = g_strdup_printf ("%s request failed (%s%s%s)",
      request, result, reason ? ": " : "", reason ? reason : "");
  /* A candidate that reaches the server after it ended the call (busy,
   * unknown number) is refused: nothing anyone can do about it */
  if (g_strcmp0 (request, "ice_trickle") == 0)
    GST_INFO_OBJECT (call, "%s", text);
  else
    GST_ELEMENT_WARNING (call->bin, RESOURCE, WRITE, ("%s", text), (NULL));

  /* A call the server would not start or accept is over; so is one we
   * hung up that the server does not know (any more): 454/459 */
  if (g_strcmp0 (request, "outgoing_call") == 0
      || g_strcmp0 (request, "accept") == 0
      || g_strcmp0 (request, "hangup") == 0
      || g_strcmp0 (request, "decline") == 0)
    webrtc_call_call_end (call, code ? code : 500, text);
  g_free (text);
}

/* The first buffer of the far end's media left webrtcbin */
void
webrtc_call_call_media_arrived (WebrtcCallCall * call)
{
  if (call->media_flowing)
    return;
  call->media_flowing = TRUE;
  if (call->ice_connected
      && webrtc_call_call_get_state (call) == GST_WEBRTC_CALL_STATE_ACCEPTED)
    post_connected (call);
}

void
webrtc_call_call_connection_state (WebrtcCallCall * call,
    GstWebRTCPeerConnectionState state)
{
  GST_INFO_OBJECT (call, "peer connection %d", state);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) {
    if (!call->ice_connected) {
      call->ice_connected = TRUE;
      webrtc_call_media_update_sending (call);
    }
    if ((call->media_flowing || !webrtc_call_negotiation_remote_sends (call))
        && webrtc_call_call_get_state (call) == GST_WEBRTC_CALL_STATE_ACCEPTED)
      post_connected (call);
  } else if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) {
    GST_ELEMENT_WARNING (call->bin, RESOURCE, FAILED,
        ("The media connection of call %s failed (ICE or DTLS): no path to "
            "the far end", call->call_id), (NULL));
    webrtc_call_call_give_up (call, WEBRTC_CALL_CODE_MEDIA_FAILED,
        "the media connection failed (ICE or DTLS): no path to the far end");
  }
}

/* The far end asks us to call someone else (its REFER): for the
 * application, which decides; the call goes on meanwhile */
static void
post_transfer_request (WebrtcCallCall * call, WtspMessage * msg)
{
  GstStructure *s = gst_structure_new ("webrtccall-transfer",
      "event", G_TYPE_STRING, "transfer",
      "line", G_TYPE_INT, call->line,
      "call-id", G_TYPE_STRING, call->call_id,
      "refer-to", G_TYPE_STRING,
      GST_STR_NULL (wtsp_message_get_string (msg, "refer_to")),
      "referred-by", G_TYPE_STRING,
      GST_STR_NULL (wtsp_message_get_string (msg, "referred_by")),
      "refer-id", G_TYPE_STRING,
      GST_STR_NULL (wtsp_message_get_string (msg, "refer_id")), NULL);
  const gchar *replaces = wtsp_message_get_string (msg, "replace_call_id");

  const gchar *refer_to = wtsp_message_get_string (msg, "refer_to");
  const gchar *refer_id = wtsp_message_get_string (msg, "refer_id");
  gboolean accept;

  if (replaces)
    gst_structure_set (s, "replace-call-id", G_TYPE_STRING, replaces, NULL);
  GST_INFO_OBJECT (call, "the far end transfers us: %" GST_PTR_FORMAT, s);
  gst_element_post_message (GST_ELEMENT (call->bin),
      gst_message_new_element (GST_OBJECT (call->bin), s));

  GST_OBJECT_LOCK (call->bin);
  accept = call->bin->accept_transfers;
  GST_OBJECT_UNLOCK (call->bin);
  if (!accept)
    return;
  if (refer_to == NULL || *refer_to == '\0') {
    GST_ELEMENT_WARNING (call->bin, STREAM, FAILED,
        ("The far end asked for a transfer of call %s without saying to "
            "whom (no refer_to): not transferred", call->call_id), (NULL));
    return;
  }
  /* As a SIP transferee does: the new call is placed (with refer_id, so
   * that the transferor hears how it goes), and the old one is left to
   * the transferor, who hangs it up once told it worked. Here, the old
   * call's media ends at once: the bin carries one call. */
  call->transfer_to = g_strdup (refer_to);
  call->transfer_refer_id = g_strdup (refer_id);
  {
    gchar *reason = g_strdup_printf ("transferred to %s", refer_to);

    webrtc_call_call_end (call, 200, reason);
    g_free (reason);
  }
}

/* The progress of a transfer we asked for (transferring, then notify
 * with the target's SIP status as message/sipfrag): for the application.
 * Once the target answered (a final 2xx) we hang up, as a SIP transferor
 * sends its BYE. */
static void
post_transfer_progress (WebrtcCallCall * call, WtspMessage * msg)
{
  GstStructure *s = gst_structure_new ("webrtccall-transfer",
      "event", G_TYPE_STRING, msg->type,
      "line", G_TYPE_INT, call->line,
      "call-id", G_TYPE_STRING, call->call_id, NULL);
  const gchar *state = wtsp_message_get_string (msg, "subscription_state");
  const gchar *content = wtsp_message_get_string (msg, "content");
  gint status = 0;

  if (g_str_equal (msg->type, "notify")) {
    /* "SIP/2.0 200 OK" */
    if (content && g_str_has_prefix (content, "SIP/2.0 "))
      status = atoi (content + strlen ("SIP/2.0 "));
    gst_structure_set (s,
        "subscription-state", G_TYPE_STRING, GST_STR_NULL (state),
        "content-type", G_TYPE_STRING,
        GST_STR_NULL (wtsp_message_get_string (msg, "content_type")),
        "content", G_TYPE_STRING, GST_STR_NULL (content),
        "status", G_TYPE_INT, status, NULL);
  }
  GST_INFO_OBJECT (call, "transfer: %" GST_PTR_FORMAT, s);
  gst_element_post_message (GST_ELEMENT (call->bin),
      gst_message_new_element (GST_OBJECT (call->bin), s));

  if (g_strcmp0 (state, "terminated") == 0 && status >= 200 && status < 300) {
    GST_INFO_OBJECT (call, "transferred: hanging up");
    webrtc_call_call_hangup (call);
  } else if (g_strcmp0 (state, "terminated") == 0) {
    GST_ELEMENT_WARNING (call->bin, STREAM, FAILED,
        ("The transfer of call %s failed: %s", call->call_id,
            content ? content : "no status"), (NULL));
  }
}

void
webrtc_call_call_transfer (WebrtcCallCall * call, const gchar * number,
    const gchar * replace_call_id)
{
  JsonObject *req = webrtc_call_call_request (call, "transfer");

  json_object_set_string_member (req, "number", number);
  if (replace_call_id && *replace_call_id)
    json_object_set_string_member (req, "replace_call_id", replace_call_id);
  GST_INFO_OBJECT (call, "transferring to %s%s%s", number,
      replace_call_id ? ", replacing " : "", GST_STR_NULL (replace_call_id));
  webrtc_call_send_request (call->bin, call, req);
}

/* A call event from the server, for this call's line and call id */
void
webrtc_call_call_handle_event (WebrtcCallCall * call, WtspMessage * msg)
{
  const gchar *e = msg->type;
  GstWebrtcCallState state = webrtc_call_call_get_state (call);

  call->known = TRUE;

  if (g_str_equal (e, "ice_trickle")) {
    JsonObject *c = wtsp_message_get_object (msg, "candidate");

    if (c)
      webrtc_call_negotiation_remote_candidate (call, c);
  } else if (g_str_equal (e, "ice_media") || g_str_equal (e, "ice_slowlink")
      || g_str_equal (e, "ice_webrtcup") || g_str_equal (e, "ice_hangup")) {
    /* the gateway's view of our media (Janus' webrtcup, media, slowlink
     * and hangup events), for the application */
    gst_element_post_message (GST_ELEMENT (call->bin),
        gst_message_new_element (GST_OBJECT (call->bin),
            gst_structure_new ("webrtccall-ice",
                "event", G_TYPE_STRING, e,
                "line", G_TYPE_INT, call->line,
                "call-id", G_TYPE_STRING, call->call_id,
                "json", G_TYPE_STRING, wtsp_message_to_string (msg), NULL)));
  } else if (g_str_equal (e, "calling")) {
    /* posted when we dialled */
  } else if (state == GST_WEBRTC_CALL_STATE_HANGINGUP
      && (g_str_equal (e, "ringing") || g_str_equal (e, "proceeding")
          || g_str_equal (e, "progress") || g_str_equal (e, "accepted"))) {
    /* we hung up: the call goes no further */
    GST_INFO_OBJECT (call, "%s ignored: hanging up", e);
  } else if (g_str_equal (e, "ringing") || g_str_equal (e, "proceeding")) {
    if (state == GST_WEBRTC_CALL_STATE_CALLING)
      webrtc_call_call_post_state (call, GST_WEBRTC_CALL_STATE_RINGING, 0,
          NULL);
  } else if (g_str_equal (e, "progress")) {
    webrtc_call_negotiation_apply_answer (call, msg);
    if (!webrtc_call_call_is_ending (call))
      webrtc_call_call_post_state (call, GST_WEBRTC_CALL_STATE_PROGRESS, 0,
          NULL);
  } else if (g_str_equal (e, "updated") || (g_str_equal (e, "accepted")
          && call->answered && call->reoffering)) {
    /* the answer to our new offer (a stream added during the call) */
    webrtc_call_negotiation_apply_update (call, msg);
  } else if (g_str_equal (e, "accepted")) {
    webrtc_call_negotiation_apply_answer (call, msg);
    if (webrtc_call_call_is_ending (call))
      return;
    webrtc_call_call_post_state (call, GST_WEBRTC_CALL_STATE_ACCEPTED, 0,
        NULL);
    webrtc_call_watchdog_start (call);
    webrtc_call_stats_start (call);
    if (call->ice_connected && (call->media_flowing
            || !webrtc_call_negotiation_remote_sends (call)))
      post_connected (call);
  } else if (g_str_equal (e, "updating_call")) {
    webrtc_call_negotiation_reoffer (call, msg);
  } else if (g_str_equal (e, "transfer")) {
    post_transfer_request (call, msg);
  } else if (g_str_equal (e, "transferring") || g_str_equal (e, "notify")) {
    post_transfer_progress (call, msg);
  } else if (g_str_equal (e, "holding")) {
    /* the server took our hold: we send nothing until we resume */
    call->on_hold = TRUE;
    webrtc_call_media_update_sending (call);
    webrtc_call_call_post_state (call, GST_WEBRTC_CALL_STATE_HOLDING, 0,
        NULL);
  } else if (g_str_equal (e, "resuming")) {
    call->on_hold = FALSE;
    webrtc_call_media_update_sending (call);
    webrtc_call_call_post_state (call, call->media_flowing ?
        GST_WEBRTC_CALL_STATE_CONNECTED : GST_WEBRTC_CALL_STATE_ACCEPTED, 0,
        NULL);
  } else if (g_str_equal (e, "hangingup")) {
    if (state != GST_WEBRTC_CALL_STATE_HANGINGUP)
      webrtc_call_call_post_state (call, GST_WEBRTC_CALL_STATE_HANGINGUP, 0,
          NULL);
  } else if (g_str_equal (e, "hangup")) {
    webrtc_call_call_end (call, msg->code, msg->reason ? msg->reason :
        "the call was hung up");
  } else if (g_str_equal (e, "error")) {
    GST_ELEMENT_WARNING (call->bin, RESOURCE, FAILED,
        ("The server reported an error on call %s: %d %s", call->call_id,
            msg->code, GST_STR_NULL (msg->reason)), (NULL));
  } else {
    GST_DEBUG_OBJECT (call, "call event %s not handled", e);
  }
}

typedef struct
{
  GstWebrtcCall *bin;
  WebrtcCallCall *call;         /* its counters are in the senders' probes */
  GList *senders;
} Teardown;

typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean done;
} Barrier;

static void
barrier_reached (GstPromise * promise, gpointer data)
{
  Barrier *b = data;

  g_mutex_lock (&b->lock);
  b->done = TRUE;
  g_cond_signal (&b->cond);
  g_mutex_unlock (&b->lock);
}

/* webrtcbin runs its operations (descriptions, transceivers) on a thread
 * of its own, one after the other: they add and start elements, and one
 * still running while webrtcbin goes to NULL leaves them running (an
 * element disposed in PLAYING, a queue's thread that never stops). An
 * operation queued now ("get-stats") replies once those before it are
 * done: waited for, bounded, before the state change. */
static void
drain_operations (GstElement * webrtc)
{
  Barrier *b = g_new0 (Barrier, 1);
  GstPromise *promise;
  gint64 deadline = g_get_monotonic_time () + 2 * G_TIME_SPAN_SECOND;
  gboolean done;

  g_mutex_init (&b->lock);
  g_cond_init (&b->cond);
  promise = gst_promise_new_with_change_func (barrier_reached, b, NULL);
  g_signal_emit_by_name (webrtc, "get-stats", NULL, promise);
  g_mutex_lock (&b->lock);
  while (!b->done && g_cond_wait_until (&b->cond, &b->lock, deadline));
  done = b->done;
  g_mutex_unlock (&b->lock);
  gst_promise_unref (promise);
  if (done) {
    g_mutex_clear (&b->lock);
    g_cond_clear (&b->cond);
    g_free (b);
  } else {
    /* still replied to later: leaked, like the promise's reference */
    GST_WARNING_OBJECT (webrtc, "its operations did not finish within 2 s");
  }
}

static void
teardown_async (GstElement * webrtc, gpointer user_data)
{
  Teardown *t = user_data;
  GList *l;

  drain_operations (webrtc);
  /* webrtcbin first: a sender's thread may be inside it (held until DTLS
   * is up), and only webrtcbin going to NULL lets that thread return */
  gst_element_set_state (webrtc, GST_STATE_NULL);
  for (l = t->senders; l; l = l->next)
    webrtc_call_media_stop_sender (l->data);
  g_list_free_full (t->senders, gst_object_unref);
  GST_DEBUG_OBJECT (t->call, "%s down", GST_OBJECT_NAME (webrtc));

  g_mutex_lock (&t->bin->lock);
  t->bin->teardowns--;
  g_cond_broadcast (&t->bin->cond);
  g_mutex_unlock (&t->bin->lock);
  gst_object_unref (t->call);
  gst_object_unref (t->bin);
  g_free (t);
}

/* Takes webrtcbin and the senders out of the bin and brings them to NULL
 * on another thread: their streaming threads may be blocked downstream
 * (an application's sink in preroll) until the application goes on with
 * its state change, and nobody here waits for them. Runs where children
 * may change: inside webrtc_call_begin_surgery(), or on the
 * application's thread during its state change. */
void
webrtc_call_call_finish_teardown (WebrtcCallCall * call)
{
  GstWebrtcCall *bin = call->bin;
  GstElement *webrtc = webrtc_call_negotiation_take_webrtc (call);
  GList *senders = call->senders, *l;
  Teardown *t;

  call->senders = NULL;
  for (l = senders; l; l = l->next)
    if (GST_OBJECT_PARENT (l->data) == GST_OBJECT (bin))
      gst_bin_remove (GST_BIN (bin), l->data);

  if (webrtc == NULL) {
    for (l = senders; l; l = l->next)
      webrtc_call_media_stop_sender (l->data);
    g_list_free_full (senders, gst_object_unref);
    return;
  }

  if (GST_OBJECT_PARENT (webrtc) == GST_OBJECT (bin))
    gst_bin_remove (GST_BIN (bin), webrtc);
  g_mutex_lock (&bin->lock);
  bin->teardowns++;
  g_mutex_unlock (&bin->lock);
  t = g_new0 (Teardown, 1);
  t->bin = gst_object_ref (bin);
  t->call = gst_object_ref (call);
  t->senders = senders;
  gst_element_call_async (webrtc, teardown_async, t, NULL);
  gst_object_unref (webrtc);
}

/* Ending, on the task thread (or the application's, when it stops us):
 * "ended" on the bus, then EOS out of every output so muxers finish, then
 * the bin's EOS, then webrtcbin out of the bin and down on another
 * thread. Safe to call more than once. */
void
webrtc_call_call_end (WebrtcCallCall * call, gint code, const gchar * reason)
{
  GstWebrtcCall *bin = call->bin;
  gboolean current, ready;

  GST_OBJECT_LOCK (call);
  if (call->ending) {
    GST_OBJECT_UNLOCK (call);
    return;
  }
  call->ending = TRUE;
  GST_OBJECT_UNLOCK (call);
  GST_INFO_OBJECT (call, "call ended: %d %s", code, GST_STR_NULL (reason));
  webrtc_call_watchdog_stop (call);

  g_mutex_lock (&bin->lock);
  /* Its pads stay until the next call: the bin's reference moves */
  current = bin->call == call;
  if (current)
    bin->call = NULL;
  else
    gst_object_ref (call);
  bin->ended = g_list_prepend (bin->ended, call);
  g_mutex_unlock (&bin->lock);

  if (bin->session)
    wtsp_session_release_line (bin->session, call->line, bin);
  g_object_notify (G_OBJECT (bin), "remote-number");

  /* Stop sending: the inputs drop again, their senders go with webrtcbin */
  webrtc_call_media_unbind_inputs (call);

  /* "ended" first: an application that quits on EOS has seen it */
  webrtc_call_call_post_state (call, GST_WEBRTC_CALL_STATE_ENDED, code,
      reason);

  webrtc_call_media_end_outputs (call, webrtc_call_is_stopping (bin));
  /* a transferred call is followed by the new one: no EOS */
  if (current && call->transfer_to == NULL) {
    bin->calls_done = TRUE;
    webrtc_call_post_eos (bin);
  }

  if (webrtc_call_begin_surgery (bin, FALSE)) {
    webrtc_call_call_finish_teardown (call);
    webrtc_call_end_surgery (bin);
  } else {
    webrtc_call_defer_teardown (bin, call);
  }

  g_mutex_lock (&bin->lock);
  ready = bin->ready && !bin->eos && !bin->shutdown;
  g_mutex_unlock (&bin->lock);
  if (ready && current)
    webrtc_call_post_registered (bin);
  if (ready && current && call->transfer_to)
    webrtc_call_dial_transfer (bin, call->transfer_to,
        call->transfer_refer_id);
}
