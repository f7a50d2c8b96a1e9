/* webrtccall: a call's webrtcbin, its offers and answers, candidates
 *
 * Everything here runs on the bin's task thread. webrtcbin calls back on
 * its own threads; each callback carries its call, bails out once the
 * call is ending, and hands its work to the task queue: nothing blocks
 * there and nothing is done under a lock of ours.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "webrtccall-priv.h"
#include "wtspsdp.h"

#define GST_CAT_DEFAULT gst_webrtc_call_debug

/* Promises: webrtcbin replies on its own thread; the reply goes to the
 * task queue, where the call may already have ended (it is then dropped) */

typedef struct
{
  WebrtcCallCall *call;
  WebrtcCallTaskFunc then;
} PromiseCtx;

static void
promise_ctx_free (PromiseCtx * ctx)
{
  gst_object_unref (ctx->call);
  g_free (ctx);
}

/* webrtcbin refused a description: the server and the far end must hear
 * that the call is off */
static void
promise_failed (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  webrtc_call_call_give_up (call, 488, data);
}

static void
on_webrtc_promise (GstPromise * promise, gpointer user_data)
{
  PromiseCtx *ctx = user_data;
  WebrtcCallCall *call = ctx->call;
  const GstStructure *reply;
  GError *error = NULL;

  /* Interrupted: the call is being torn down (take_webrtc) */
  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED) {
    webrtc_call_enqueue (call->bin, call, promise_failed,
        g_strdup ("webrtcbin did not answer"), g_free);
    return;
  }
  reply = gst_promise_get_reply (promise);
  GST_LOG_OBJECT (call, "webrtcbin replied: %" GST_PTR_FORMAT, reply);
  if (reply && gst_structure_has_field (reply, "error")) {
    gst_structure_get (reply, "error", G_TYPE_ERROR, &error, NULL);
    webrtc_call_enqueue (call->bin, call, promise_failed,
        g_strdup_printf ("negotiation failed: %s",
            error ? error->message : "unknown error"), g_free);
    g_clear_error (&error);
    return;
  }
  /* What follows a reply may add senders to the bin */
  webrtc_call_enqueue_surgery (call->bin, call, ctx->then,
      reply ? gst_structure_copy (reply) : NULL,
      (GDestroyNotify) gst_structure_free);
}

static GstPromise *
webrtc_promise (WebrtcCallCall * call, WebrtcCallTaskFunc then)
{
  PromiseCtx *ctx = g_new0 (PromiseCtx, 1);
  GstPromise *promise;

  ctx->call = gst_object_ref (call);
  ctx->then = then;
  promise = gst_promise_new_with_change_func (on_webrtc_promise, ctx,
      (GDestroyNotify) promise_ctx_free);
  call->promises = g_list_prepend (call->promises, gst_promise_ref (promise));
  return promise;
}

/* Takes webrtcbin from the call for teardown. webrtcbin set to NULL drops
 * its queued tasks, and their promises with them, unreplied: settle ours
 * first. Late callbacks see the call ending and bail out. */
GstElement *
webrtc_call_negotiation_take_webrtc (WebrtcCallCall * call)
{
  GstElement *webrtc = call->webrtc;
  GList *l;

  for (l = call->promises; l; l = l->next) {
    /* a no-op on a promise already replied to */
    gst_promise_interrupt (l->data);
    gst_promise_unref (l->data);
  }
  g_list_free (call->promises);
  call->promises = NULL;
  call->webrtc = NULL;
  call->remote_set = FALSE;
  if (webrtc)
    g_signal_handlers_disconnect_by_data (webrtc, call);
  return webrtc;
}

/* webrtcbin's signals, on its threads */

static void
send_candidate (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  JsonObject *req = webrtc_call_call_request (call, "ice_trickle");

  json_object_set_object_member (req, "candidate", json_object_ref (data));
  webrtc_call_send_request (self, call, req);
}

static void
on_ice_candidate (GstElement * webrtc, guint mline, gchar * candidate,
    WebrtcCallCall * call)
{
  GstWebRTCSessionDescription *local = NULL;
  JsonObject *c;
  const gchar *mid;

  if (webrtc_call_call_is_ending (call))
    return;
  c = json_object_new ();
  g_object_get (webrtc, "local-description", &local, NULL);
  mid = local ? wtsp_sdp_mid_for_mline (local->sdp, mline) : NULL;
  json_object_set_string_member (c, "candidate", candidate);
  if (mid)
    json_object_set_string_member (c, "sdpMid", mid);
  json_object_set_int_member (c, "sdpMLineIndex", mline);
  if (local)
    gst_webrtc_session_description_free (local);
  webrtc_call_enqueue (call->bin, call, send_candidate, c,
      (GDestroyNotify) json_object_unref);
}

static void
gathering_done (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  JsonObject *req = webrtc_call_call_request (call, "ice_trickle");
  JsonObject *c = json_object_new ();

  json_object_set_boolean_member (c, "completed", TRUE);
  json_object_set_object_member (req, "candidate", c);
  webrtc_call_send_request (self, call, req);
}

static void
on_gathering_state (GstElement * webrtc, GParamSpec * pspec,
    WebrtcCallCall * call)
{
  GstWebRTCICEGatheringState state;

  g_object_get (webrtc, "ice-gathering-state", &state, NULL);
  if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    webrtc_call_enqueue (call->bin, call, gathering_done, NULL, NULL);
}

static void
connection_state (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  webrtc_call_call_connection_state (call, GPOINTER_TO_INT (data));
}

static void
on_connection_state (GstElement * webrtc, GParamSpec * pspec,
    WebrtcCallCall * call)
{
  GstWebRTCPeerConnectionState state;

  g_object_get (webrtc, "connection-state", &state, NULL);
  webrtc_call_enqueue (call->bin, call, connection_state,
      GINT_TO_POINTER (state), NULL);
}

/* Streaming thread of webrtcbin: the branch is linked at once, or the
 * first buffers are lost */
static void
on_pad_added (GstElement * webrtc, GstPad * pad, WebrtcCallCall * call)
{
  if (GST_PAD_DIRECTION (pad) == GST_PAD_SRC)
    webrtc_call_media_pad_added (call, pad);
}

static void
connect_webrtc (WebrtcCallCall * call, const gchar * name, GCallback cb)
{
  g_signal_connect_data (call->webrtc, name, cb, gst_object_ref (call),
      (GClosureNotify) (void (*)(void)) gst_object_unref, 0);
}

/* RTCP every second at most, as browsers send it, not rtpsession's 5 s:
 * feedback that must wait for a regular RTCP packet (a keyframe request
 * after loss, when early feedback was used up) then comes within a
 * second, and the round trip in the stats is fresh. Any thread of
 * webrtcbin's: one property of the new element. */
#define RTCP_MIN_INTERVAL (1 * GST_SECOND)

/* webrtcbin puts a clocksync (sync=true) before rtpbin on each of its
 * inputs, so that a non-live input goes out in real time. It holds each
 * buffer until its running time plus the upstream latency: a live input's
 * buffer (a camera frame, a microphone period) comes in real time already,
 * and is held once more for the latency its source declared, one frame
 * (33 ms at 30 fps) of glass-to-glass delay for nothing. An offset of
 * minus that latency, set again each time a latency query comes through,
 * sends live media as it comes; a non-live input (latency 0) stays paced.
 * Streaming or application thread (the query's): one property. */
static GstPadProbeReturn
clocksync_latency_answered (GstPad * pad, GstPadProbeInfo * info,
    gpointer unused)
{
  GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);
  GstClockTime min = 0;
  GstElement *clocksync;
  gboolean live;

  if (GST_QUERY_TYPE (query) != GST_QUERY_LATENCY)
    return GST_PAD_PROBE_OK;
  gst_query_parse_latency (query, &live, &min, NULL);
  clocksync = gst_pad_get_parent_element (pad);
  if (clocksync && GST_CLOCK_TIME_IS_VALID (min))
    g_object_set (clocksync, "ts-offset", -(gint64) min, NULL);
  if (clocksync)
    gst_object_unref (clocksync);
  return GST_PAD_PROBE_OK;
}

static void
on_deep_element_added (GstBin * bin, GstBin * sub_bin, GstElement * element,
    WebrtcCallCall * call)
{
  GstElementFactory *f = gst_element_get_factory (element);

  if (f && g_str_equal (GST_OBJECT_NAME (f), "rtpsession")) {
    g_object_set (element, "rtcp-min-interval", (guint64) RTCP_MIN_INTERVAL,
        NULL);
  } else if (f && g_str_equal (GST_OBJECT_NAME (f), "clocksync")
      && sub_bin == bin) {
    GstPad *src = gst_element_get_static_pad (element, "src");

    gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_QUERY_UPSTREAM |
        GST_PAD_PROBE_TYPE_PULL, clocksync_latency_answered, NULL, NULL);
    gst_object_unref (src);
  }
}

/* Inside a surgery: the caller may add children */
static void
make_webrtc (WebrtcCallCall * call)
{
  GstWebrtcCall *self = call->bin;
  GstElement *webrtc = gst_element_factory_make ("webrtcbin", NULL);
  GObject *ice = NULL;
  gboolean ice_tcp;

  GST_OBJECT_LOCK (self);
  g_object_set (webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE,
      "latency", self->latency,
      "ice-transport-policy", self->ice_transport_policy, NULL);
  if (self->stun_server)
    g_object_set (webrtc, "stun-server", self->stun_server, NULL);
  if (self->turn_server)
    g_object_set (webrtc, "turn-server", self->turn_server, NULL);
  GST_OBJECT_UNLOCK (self);

  /* UPnP costs ~15 file descriptors per call and finds nothing here;
   * TCP host candidates 4 sockets per call, for far ends that seldom
   * take them (ice-tcp) */
  GST_OBJECT_LOCK (self);
  ice_tcp = self->ice_tcp;
  GST_OBJECT_UNLOCK (self);
  g_object_get (webrtc, "ice-agent", &ice, NULL);
  if (ice) {
    GObject *agent = NULL;

    if (g_object_class_find_property (G_OBJECT_GET_CLASS (ice), "agent"))
      g_object_get (ice, "agent", &agent, NULL);
    if (agent && g_object_class_find_property (G_OBJECT_GET_CLASS (agent),
            "upnp"))
      g_object_set (agent, "upnp", FALSE, NULL);
    if (agent && g_object_class_find_property (G_OBJECT_GET_CLASS (agent),
            "ice-tcp"))
      g_object_set (agent, "ice-tcp", ice_tcp, NULL);
    g_clear_object (&agent);
    g_object_unref (ice);
  }

  call->webrtc = gst_object_ref (webrtc);
  connect_webrtc (call, "on-ice-candidate", G_CALLBACK (on_ice_candidate));
  connect_webrtc (call, "pad-added", G_CALLBACK (on_pad_added));
  connect_webrtc (call, "deep-element-added",
      G_CALLBACK (on_deep_element_added));
  connect_webrtc (call, "notify::ice-gathering-state",
      G_CALLBACK (on_gathering_state));
  connect_webrtc (call, "notify::connection-state",
      G_CALLBACK (on_connection_state));

  gst_bin_add (GST_BIN (self), webrtc);
  gst_element_sync_state_with_parent (webrtc);
}

/* Remote descriptions and candidates */

static void
add_candidate (WebrtcCallCall * call, JsonObject * c)
{
  const gchar *candidate;
  gint mline;

  if (json_object_get_boolean_member_with_default (c, "completed", FALSE))
    return;
  candidate = json_object_get_string_member_with_default (c, "candidate",
      NULL);
  if (candidate == NULL || *candidate == '\0')
    return;
  mline = wtsp_sdp_candidate_mline (call->remote_sdp, c);
  if (mline < 0) {
    GST_WARNING_OBJECT (call, "candidate for no known m-line dropped: %s",
        candidate);
    return;
  }
  GST_LOG_OBJECT (call, "remote candidate %d %s", mline, candidate);
  g_signal_emit_by_name (call->webrtc, "add-ice-candidate", (guint) mline,
      candidate);
}

static void
apply_pending_candidates (WebrtcCallCall * call)
{
  JsonObject *c;

  while ((c = g_queue_pop_head (&call->pending_candidates))) {
    add_candidate (call, c);
    json_object_unref (c);
  }
}

void
webrtc_call_negotiation_remote_candidate (WebrtcCallCall * call,
    JsonObject * candidate)
{
  if (call->remote_set)
    add_candidate (call, candidate);
  else
    g_queue_push_tail (&call->pending_candidates, json_object_ref (candidate));
}

/* Whether the far end said it sends us anything */
gboolean
webrtc_call_negotiation_remote_sends (WebrtcCallCall * call)
{
  guint i;

  for (i = 0; call->remote_sdp && i < gst_sdp_message_medias_len
      (call->remote_sdp); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (call->remote_sdp, i);

    if (!wtsp_sdp_media_rejected (m)
        && !wtsp_sdp_media_has_attribute (m, "recvonly")
        && !wtsp_sdp_media_has_attribute (m, "inactive"))
      return TRUE;
  }
  return FALSE;
}

static void
expect_outputs (WebrtcCallCall * call)
{
  GstWebRTCSessionDescription *local = NULL, *remote = NULL;

  g_object_get (call->webrtc, "local-description", &local,
      "remote-description", &remote, NULL);
  webrtc_call_media_set_expected (call, local ? local->sdp : NULL,
      remote ? remote->sdp : NULL);
  if (local)
    gst_webrtc_session_description_free (local);
  if (remote)
    gst_webrtc_session_description_free (remote);
}

static void
set_remote (WebrtcCallCall * call, GstWebRTCSDPType type,
    GstSDPMessage * sdp, WebrtcCallTaskFunc then)
{
  GstWebRTCSessionDescription *desc;
  GstSDPMessage *copy;
  GstPromise *promise;

  if (gst_debug_category_get_threshold (GST_CAT_DEFAULT) >= GST_LEVEL_LOG) {
    gchar *text = gst_sdp_message_as_text (sdp);

    GST_LOG_OBJECT (call, "the far end's %s:\n%s",
        gst_webrtc_sdp_type_to_string (type), text);
    g_free (text);
  }
  /* what webrtcbin 1.22 and the far ends get wrong, set right: the
   * description takes the copy, the call keeps one for its senders */
  gst_sdp_message_copy (sdp, &copy);
  if (wtsp_sdp_fingerprint_to_media (copy))
    GST_DEBUG_OBJECT (call, "the session's fingerprint moved to its m-lines");
  if (type != GST_WEBRTC_SDP_TYPE_OFFER) {
    GstWebRTCSessionDescription *offer = NULL;

    g_object_get (call->webrtc, "local-description", &offer, NULL);
    if (offer && wtsp_sdp_inactivate_foreign (copy, offer->sdp, TRUE))
      GST_WARNING_OBJECT (call, "the far end answered an m-line with none "
          "of the offered payload types: taken as inactive");
    if (offer)
      gst_webrtc_session_description_free (offer);
  }
  if (wtsp_sdp_unclash_rejected (copy))
    GST_DEBUG_OBJECT (call, "rejected m-lines' payload types taken out of "
        "the accepted ones' way");
  if (call->remote_sdp)
    gst_sdp_message_free (call->remote_sdp);
  gst_sdp_message_copy (copy, &call->remote_sdp);
  desc = gst_webrtc_session_description_new (type, copy);
  promise = webrtc_promise (call, then);
  g_signal_emit_by_name (call->webrtc, "set-remote-description", desc,
      promise);
  gst_promise_unref (promise);
  gst_webrtc_session_description_free (desc);
}

static void
set_local (WebrtcCallCall * call, GstWebRTCSessionDescription * desc,
    WebrtcCallTaskFunc then)
{
  GstPromise *promise = webrtc_promise (call, then);

  g_signal_emit_by_name (call->webrtc, "set-local-description", desc,
      promise);
  gst_promise_unref (promise);
}

static void
send_jsep_request (WebrtcCallCall * call, const gchar * type,
    GstWebRTCSessionDescription * desc, const gchar * number)
{
  JsonObject *req = webrtc_call_call_request (call, type);
  gchar *sdp = gst_sdp_message_as_text (desc->sdp);

  GST_LOG_OBJECT (call, "%s with our %s:\n%s", type,
      gst_webrtc_sdp_type_to_string (desc->type), sdp);
  if (number)
    json_object_set_string_member (req, "number", number);
  if (call->refer_id && g_str_equal (type, "outgoing_call"))
    json_object_set_string_member (req, "refer_id", call->refer_id);
  json_object_set_object_member (req, "jsep",
      wtsp_jsep_new (gst_webrtc_sdp_type_to_string (desc->type), sdp));
  g_free (sdp);
  webrtc_call_send_request (call->bin, call, req);
}

/* @text as an SDP with at least one m-line, or NULL */
static GstSDPMessage *
parse_media_sdp (const gchar * text)
{
  GstSDPMessage *sdp = NULL;

  if (gst_sdp_message_new_from_text (text, &sdp) != GST_SDP_OK
      || gst_sdp_message_medias_len (sdp) == 0) {
    if (sdp)
      gst_sdp_message_free (sdp);
    return NULL;
  }
  return sdp;
}

/* The far end's answer to our offer is in place: inputs can be sent */
static void
remote_answer_set (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  call->remote_set = TRUE;
  apply_pending_candidates (call);
  webrtc_call_media_connect_senders (call, call->remote_sdp);
  expect_outputs (call);
}

void
webrtc_call_negotiation_apply_answer (WebrtcCallCall * call,
    WtspMessage * msg)
{
  const gchar *type, *sdp_text;
  GstSDPMessage *sdp = NULL;

  if (call->answered || !wtsp_message_get_jsep (msg, &type, &sdp_text))
    return;
  if (!g_str_equal (type, "answer") && !g_str_equal (type, "pranswer")) {
    gchar *reason = g_strdup_printf ("the far end sent a jsep of type "
        "\"%s\" where an answer was due", type);

    webrtc_call_call_give_up (call, 488, reason);
    g_free (reason);
    return;
  }
  sdp = parse_media_sdp (sdp_text);
  if (sdp == NULL) {
    /* The server and the far end think the call is up: tell them */
    webrtc_call_call_give_up (call, 488,
        "the far end's answer has no usable SDP");
    return;
  }
  call->answered = TRUE;
  set_remote (call, GST_WEBRTC_SDP_TYPE_ANSWER, sdp, remote_answer_set);
  gst_sdp_message_free (sdp);
}

/* Offering: outgoing calls, and accepting a call that came without an
 * offer. The request goes out before the local description is set, so the
 * server knows the call before its candidates arrive (protocol.md §6). */

static void
local_offer_set (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  GST_DEBUG_OBJECT (call, "local description set");
}

static void
offer_created (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  GstStructure *reply = data;
  GstWebRTCSessionDescription *offer = NULL;

  if (reply)
    gst_structure_get (reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
        &offer, NULL);
  if (offer == NULL) {
    webrtc_call_call_end (call, 500, "webrtcbin made no offer");
    return;
  }
  if (call->outgoing)
    send_jsep_request (call, "outgoing_call", offer, call->callee);
  else
    send_jsep_request (call, "accept", offer, NULL);
  call->placed = TRUE;
  set_local (call, offer, local_offer_set);
  gst_webrtc_session_description_free (offer);
}

/* One sendrecv transceiver per input pad, receive-only ones for media we
 * do not send, with all our codecs */
static gboolean
add_offer_transceivers (WebrtcCallCall * call, GError ** error)
{
  static const gchar *kinds[] = { "video", "audio" };
  guint k;

  for (k = 0; k < G_N_ELEMENTS (kinds); k++) {
    gchar *prefs = webrtc_call_dup_codecs (call->bin, kinds[k]);
    GstCaps *caps = webrtc_call_codecs_offer_caps (kinds[k], prefs, error);
    WebrtcCallInput *in;

    g_free (prefs);
    if (caps == NULL)
      return FALSE;

    in = webrtc_call_media_bind_input (call, kinds[k], caps, -1);
    if (in == NULL) {
      GstWebRTCRTPTransceiver *t = NULL;

      g_signal_emit_by_name (call->webrtc, "add-transceiver",
          GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &t);
      g_clear_object (&t);
    }
    GST_DEBUG_OBJECT (call, "%s transceiver (%s): %" GST_PTR_FORMAT,
        kinds[k], in ? "sendrecv" : "recvonly", caps);
    gst_caps_unref (caps);
  }
  return TRUE;
}

/* Inside a surgery (dial and answer tasks) */
void
webrtc_call_negotiation_offer (WebrtcCallCall * call)
{
  GError *error = NULL;
  GstPromise *promise;

  make_webrtc (call);
  if (!add_offer_transceivers (call, &error)) {
    GST_ELEMENT_ERROR (call->bin, CORE, NEGOTIATION, ("%s", error->message),
        (NULL));
    webrtc_call_call_end (call, 500, error->message);
    g_error_free (error);
    return;
  }
  promise = webrtc_promise (call, offer_created);
  g_signal_emit_by_name (call->webrtc, "create-offer", NULL, promise);
  gst_promise_unref (promise);
}

/* Answering */

/* Our answer is in place: m-lines are bound, inputs can be sent */
static void
local_answer_set (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  GstWebRTCSessionDescription *local = NULL;

  g_object_get (call->webrtc, "local-description", &local, NULL);
  if (local) {
    webrtc_call_media_connect_senders (call, local->sdp);
    gst_webrtc_session_description_free (local);
  }
  expect_outputs (call);
}

static void
answer_created (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  GstStructure *reply = data;
  GstWebRTCSessionDescription *answer = NULL;

  if (reply)
    gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
        &answer, NULL);
  if (answer == NULL) {
    webrtc_call_call_decline (call, 488);
    webrtc_call_call_end (call, 488, "webrtcbin made no answer to the offer");
    return;
  }
  if (wtsp_sdp_clean_rejected (answer->sdp))
    GST_DEBUG_OBJECT (call, "the offer's lines taken out of rejected m-lines");
  if (webrtc_call_codecs_dtmf_usable ()
      && wtsp_sdp_answer_telephone_events (answer->sdp, call->remote_sdp))
    GST_DEBUG_OBJECT (call, "the offer's telephone-event answered");
  send_jsep_request (call, "accept", answer, NULL);
  set_local (call, answer, local_answer_set);
  gst_webrtc_session_description_free (answer);
}

static void
remote_offer_set (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  GstPromise *promise;

  call->remote_set = TRUE;
  apply_pending_candidates (call);
  promise = webrtc_promise (call, answer_created);
  g_signal_emit_by_name (call->webrtc, "create-answer", NULL, promise);
  gst_promise_unref (promise);
}

/* Before the remote offer is set, one transceiver per m-line of the offer
 * from @first on (0; in a re-offer, its new m-lines), with the codec we
 * pick from it and the offer's payload type as codec preferences:
 * webrtcbin 1.22 builds its answer by matching the offer against these,
 * payload type included. Inputs are bound to m-lines once the local
 * answer is set (connect_senders). Returns the m-lines we can take. */
static guint
prepare_answer_transceivers (WebrtcCallCall * call, GstSDPMessage * offer,
    guint first)
{
  guint m, usable = 0;

  for (m = first; m < gst_sdp_message_medias_len (offer); m++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (offer, m);
    const gchar *kind = gst_sdp_media_get_media (media);
    GstCaps *caps = NULL;
    WebrtcCallInput *in;
    gchar *prefs = webrtc_call_dup_codecs (call->bin, kind);
    gint pt;

    if (webrtc_call_codecs_choose (media, prefs, &pt, &caps) == NULL) {
      GST_WARNING_OBJECT (call, "no codec of m-line %u (%s) is ours: it "
          "will be rejected", m, kind);
      g_free (prefs);
      continue;
    }
    g_free (prefs);
    usable++;

    in = webrtc_call_media_bind_input (call, kind, caps,
        first > 0 ? (gint) m : -1);
    if (in == NULL) {
      GstWebRTCRTPTransceiver *t = NULL;

      g_signal_emit_by_name (call->webrtc, "add-transceiver",
          GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &t);
      g_clear_object (&t);
    }
    GST_DEBUG_OBJECT (call, "m-line %u %s (%s): %" GST_PTR_FORMAT, m, kind,
        in ? "sendrecv" : "recvonly", caps);
    gst_caps_unref (caps);
  }
  return usable;
}

/* An incoming call's jsep, checked as it arrives: NULL if it can be
 * answered (or has no jsep: we offer then), else why not */
const gchar *
webrtc_call_negotiation_check_offer (WtspMessage * incoming)
{
  const gchar *type, *sdp_text;
  GstSDPMessage *sdp = NULL;
  gboolean usable;

  if (!wtsp_message_get_jsep (incoming, &type, &sdp_text))
    return NULL;
  if (!g_str_equal (type, "offer"))
    return "the incoming call carried an answer where an offer was due";
  sdp = parse_media_sdp (sdp_text);
  usable = sdp != NULL;
  if (sdp)
    gst_sdp_message_free (sdp);
  return usable ? NULL : "the offer's SDP could not be parsed";
}

/* Answers a remote offer with a fresh webrtcbin. Inside a surgery. */
void
webrtc_call_negotiation_answer (WebrtcCallCall * call, const gchar * sdp_text)
{
  GstSDPMessage *offer = parse_media_sdp (sdp_text);

  if (offer == NULL) {
    webrtc_call_call_decline (call, 488);
    webrtc_call_call_end (call, 488, "the offer's SDP could not be parsed");
    return;
  }
  make_webrtc (call);
  if (prepare_answer_transceivers (call, offer, 0) == 0) {
    gst_sdp_message_free (offer);
    webrtc_call_call_decline (call, 488);
    webrtc_call_call_end (call, 488, "no media of the offer can be taken");
    return;
  }
  call->answered = TRUE;
  set_remote (call, GST_WEBRTC_SDP_TYPE_OFFER, offer, remote_offer_set);
  gst_sdp_message_free (offer);
}

/* updating_call: the far end re-offers. Before our own offer was answered
 * this is an INVITE that came to the gateway without SDP (protocol.md:
 * "accept: ... an offer if the incoming call had none", seen from the
 * calling side): our offer is void, theirs is answered with "accept". */
static void
reoffer_answer (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  /* Candidates queued so far came with their offer: they stay. The old
   * webrtcbin and its senders go as a call's do, off this thread. */
  webrtc_call_media_unbind_inputs (call);
  webrtc_call_call_finish_teardown (call);
  webrtc_call_negotiation_answer (call, data);
}

/* A re-offer on a running call (a SIP re-INVITE: hold, resume, a codec
 * or address change): the same webrtcbin takes it and answers, and the
 * answer goes back in "update", as Janus' SIP plugin expects it
 * (protocol.md §11). */

/* Whether two m-lines share a payload type: Janus keeps an m-line the SIP
 * side rejected as "m=video 9 ... 0", which is no stream */
static gboolean
formats_meet (const GstSDPMedia * a, const GstSDPMedia * b)
{
  guint i, j;

  for (i = 0; i < gst_sdp_media_formats_len (a); i++)
    for (j = 0; j < gst_sdp_media_formats_len (b); j++)
      if (g_str_equal (gst_sdp_media_get_format (a, i),
              gst_sdp_media_get_format (b, j)))
        return TRUE;
  return FALSE;
}

/* Whether every m-line in use (on both sides) is sendonly or inactive
 * on theirs */
static gboolean
remote_holds (GstSDPMessage * sdp, GstSDPMessage * local,
    GstSDPMessage * remote)
{
  guint i, live = 0, held = 0;

  for (i = 0; sdp && local && remote && i < gst_sdp_message_medias_len (sdp)
      && i < gst_sdp_message_medias_len (local)
      && i < gst_sdp_message_medias_len (remote); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (sdp, i);

    if (wtsp_sdp_media_rejected (m)
        || wtsp_sdp_media_rejected (gst_sdp_message_get_media (local, i))
        || wtsp_sdp_media_rejected (gst_sdp_message_get_media (remote, i))
        || !formats_meet (m, gst_sdp_message_get_media (local, i)))
      continue;
    live++;
    if (wtsp_sdp_media_has_attribute (m, "sendonly")
        || wtsp_sdp_media_has_attribute (m, "inactive"))
      held++;
  }
  return live > 0 && held == live;
}

static void
renegotiated (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  GstWebrtcCallState state = webrtc_call_call_get_state (call);
  GstWebRTCSessionDescription *local = NULL, *remote = NULL;
  gboolean held;

  g_object_get (call->webrtc, "current-local-description", &local,
      "current-remote-description", &remote, NULL);
  held = remote_holds (call->remote_sdp, local ? local->sdp : NULL,
      remote ? remote->sdp : NULL);
  /* inputs bound to m-lines this negotiation added (as answerer; our own
   * re-offer's were connected from the answer) */
  if (local)
    webrtc_call_media_connect_senders (call, local->sdp);
  if (local)
    gst_webrtc_session_description_free (local);
  if (remote)
    gst_webrtc_session_description_free (remote);
  expect_outputs (call);
  webrtc_call_media_update_sending (call);
  GST_INFO_OBJECT (call, "renegotiated: %s", held ? "the far end holds us" :
      "media both ways");
  if (held && (state == GST_WEBRTC_CALL_STATE_CONNECTED
          || state == GST_WEBRTC_CALL_STATE_ACCEPTED))
    webrtc_call_call_post_state (call, GST_WEBRTC_CALL_STATE_HELD, 0, NULL);
  else if (!held && state == GST_WEBRTC_CALL_STATE_HELD)
    webrtc_call_call_post_state (call, call->media_flowing ?
        GST_WEBRTC_CALL_STATE_CONNECTED : GST_WEBRTC_CALL_STATE_ACCEPTED, 0,
        NULL);
}

/* webrtcbin 1.22 refuses a change of a transceiver's direction ("not
 * implemented"), and a hold is one. It is given the re-offer with the
 * directions it negotiated before; the answer that goes to the far end
 * has the right ones (RFC 3264: sendonly is answered recvonly, inactive
 * inactive). Our senders stop where the answer says we do not send
 * (webrtc_call_media_update_sending). */
static const gchar *
media_direction (const GstSDPMedia * m)
{
  guint i;

  for (i = 0; wtsp_sdp_directions[i]; i++)
    if (wtsp_sdp_media_has_attribute (m, wtsp_sdp_directions[i]))
      return wtsp_sdp_directions[i];
  return "sendrecv";
}

/* The answer's direction for an offer's */
static const gchar *
answer_direction (const gchar * offer, const gchar * ours)
{
  if (g_str_equal (offer, "inactive") || g_str_equal (ours, "inactive"))
    return "inactive";
  if (g_str_equal (offer, "sendonly"))
    return g_str_equal (ours, "sendonly") ? "inactive" : "recvonly";
  if (g_str_equal (offer, "recvonly"))
    return g_str_equal (ours, "recvonly") ? "inactive" : "sendonly";
  return ours;
}

/* @offer with each m-line's direction as in @before (the remote
 * description webrtcbin has) */
static GstSDPMessage *
mask_directions (GstSDPMessage * offer, const GstSDPMessage * before)
{
  GstSDPMessage *masked;
  guint i;

  gst_sdp_message_copy (offer, &masked);
  for (i = 0; before && i < gst_sdp_message_medias_len (masked)
      && i < gst_sdp_message_medias_len (before); i++) {
    GstSDPMedia *m = (GstSDPMedia *) gst_sdp_message_get_media (masked, i);
    const gchar *was = media_direction (gst_sdp_message_get_media (before, i));

    if (!g_str_equal (media_direction (m), was))
      wtsp_sdp_media_set_direction (m, was);
  }
  return masked;
}

/* What goes to the far end: @answer with the directions @offer asks */
static GstWebRTCSessionDescription *
unmask_directions (GstWebRTCSessionDescription * answer,
    const GstSDPMessage * offer)
{
  GstSDPMessage *sdp;
  guint i;

  gst_sdp_message_copy (answer->sdp, &sdp);
  for (i = 0; offer && i < gst_sdp_message_medias_len (sdp)
      && i < gst_sdp_message_medias_len (offer); i++) {
    GstSDPMedia *m = (GstSDPMedia *) gst_sdp_message_get_media (sdp, i);
    const gchar *want = answer_direction (media_direction
        (gst_sdp_message_get_media (offer, i)), media_direction (m));

    if (gst_sdp_media_get_port (m) != 0
        && !g_str_equal (media_direction (m), want))
      wtsp_sdp_media_set_direction (m, want);
  }
  return gst_webrtc_session_description_new (answer->type, sdp);
}

static void
reanswer_created (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  GstStructure *reply = data;
  GstWebRTCSessionDescription *answer = NULL, *sent;

  if (reply)
    gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
        &answer, NULL);
  if (answer == NULL) {
    webrtc_call_call_give_up (call, 488,
        "webrtcbin made no answer to the far end's new offer");
    return;
  }
  if (wtsp_sdp_clean_rejected (answer->sdp))
    GST_DEBUG_OBJECT (call, "the offer's lines taken out of rejected m-lines");
  if (webrtc_call_codecs_dtmf_usable ())
    wtsp_sdp_answer_telephone_events (answer->sdp, call->remote_sdp);
  sent = unmask_directions (answer, call->remote_sdp);
  send_jsep_request (call, "update", sent, NULL);
  gst_webrtc_session_description_free (sent);
  set_local (call, answer, renegotiated);
  gst_webrtc_session_description_free (answer);
}

static void
reoffer_set (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  GstPromise *promise = webrtc_promise (call, reanswer_created);

  g_signal_emit_by_name (call->webrtc, "create-answer", NULL, promise);
  gst_promise_unref (promise);
}

/* The transport of @sdp: ICE credentials and DTLS fingerprint of its
 * first m-line that has them, or the session's */
static gchar *
transport_of (const GstSDPMessage * sdp)
{
  static const gchar *const keys[] = { "ice-ufrag", "ice-pwd",
    "fingerprint"
  };
  GString *out = g_string_new (NULL);
  guint k, i;

  for (k = 0; k < G_N_ELEMENTS (keys); k++) {
    const gchar *v = gst_sdp_message_get_attribute_val (sdp, keys[k]);

    for (i = 0; v == NULL && i < gst_sdp_message_medias_len (sdp); i++)
      v = gst_sdp_media_get_attribute_val (gst_sdp_message_get_media (sdp,
              i), keys[k]);
    g_string_append_printf (out, "%s=%s;", keys[k], GST_STR_NULL (v));
  }
  return g_string_free (out, FALSE);
}

/* Whether @offer changes nothing but directions: the same m-lines, media
 * and payload types, ICE credentials and fingerprint as @before (a hold
 * or a resume, the usual re-INVITE) */
static gboolean
only_directions_change (const GstSDPMessage * offer,
    const GstSDPMessage * before)
{
  gchar *a, *b;
  gboolean same;
  guint i, f;

  if (before == NULL || gst_sdp_message_medias_len (offer)
      != gst_sdp_message_medias_len (before))
    return FALSE;
  for (i = 0; i < gst_sdp_message_medias_len (offer); i++) {
    const GstSDPMedia *o = gst_sdp_message_get_media (offer, i);
    const GstSDPMedia *p = gst_sdp_message_get_media (before, i);

    if (g_strcmp0 (gst_sdp_media_get_media (o), gst_sdp_media_get_media (p))
        || g_strcmp0 (gst_sdp_media_get_attribute_val (o, "mid"),
            gst_sdp_media_get_attribute_val (p, "mid")))
      return FALSE;
    if (wtsp_sdp_media_rejected (p))
      continue;
    if (gst_sdp_media_formats_len (o) != gst_sdp_media_formats_len (p))
      return FALSE;
    for (f = 0; f < gst_sdp_media_formats_len (o); f++)
      if (g_strcmp0 (gst_sdp_media_get_format (o, f),
              gst_sdp_media_get_format (p, f)))
        return FALSE;
  }
  a = transport_of (offer);
  b = transport_of (before);
  same = g_str_equal (a, b);
  g_free (a);
  g_free (b);
  return same;
}

/* Our answer to a direction-only re-offer, made from what was negotiated
 * (@local, our description, and @before, theirs): webrtcbin 1.22 can
 * change neither a transceiver's direction nor keep its DTLS role when it
 * answers a re-offer (it answers setup:active again), so it is not asked.
 * Rejected m-lines stay rejected, the DTLS role stays, each direction is
 * the answer to the offer's. */
static GstWebRTCSessionDescription *
reanswer_directions (const GstSDPMessage * local, const GstSDPMessage * before,
    const GstSDPMessage * offer)
{
  const GstSDPOrigin *o = gst_sdp_message_get_origin (local);
  GstSDPMessage *sdp;
  GString *bundle = g_string_new ("BUNDLE");
  gchar *version;
  guint i;

  gst_sdp_message_copy (local, &sdp);
  version = g_strdup_printf ("%" G_GUINT64_FORMAT,
      g_ascii_strtoull (o->sess_version, NULL, 10) + 1);
  gst_sdp_message_set_origin (sdp, o->username, o->sess_id, version,
      o->nettype, o->addrtype, o->addr);
  g_free (version);
  for (i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    GstSDPMedia *m = (GstSDPMedia *) gst_sdp_message_get_media (sdp, i);
    const GstSDPMedia *theirs = gst_sdp_message_get_media (before, i);
    const GstSDPMedia *now = gst_sdp_message_get_media (offer, i);
    const gchar *setup = gst_sdp_media_get_attribute_val (m, "setup");
    guint a;

    if (wtsp_sdp_media_rejected (theirs) || wtsp_sdp_media_rejected (now)
        || wtsp_sdp_media_rejected (m)) {
      gst_sdp_media_set_port_info (m, 0, 0);
      continue;
    }
    g_string_append_printf (bundle, " %s",
        gst_sdp_media_get_attribute_val (m, "mid"));
    wtsp_sdp_media_set_direction (m, answer_direction (media_direction (now),
            media_direction (m)));
    /* we offered actpass: our role is the opposite of their answer's */
    if (g_strcmp0 (setup, "actpass") == 0) {
      const gchar *their = gst_sdp_media_get_attribute_val (theirs, "setup");

      for (a = 0; a < gst_sdp_media_attributes_len (m); a++) {
        if (g_str_equal (gst_sdp_media_get_attribute (m, a)->key, "setup")) {
          GstSDPAttribute attr = { 0, };

          gst_sdp_attribute_set (&attr, "setup",
              g_strcmp0 (their, "passive") == 0 ? "active" : "passive");
          gst_sdp_media_replace_attribute (m, a, &attr);
          break;
        }
      }
    }
  }
  for (i = 0; i < gst_sdp_message_attributes_len (sdp); i++) {
    if (g_str_equal (gst_sdp_message_get_attribute (sdp, i)->key, "group")) {
      GstSDPAttribute attr = { 0, };

      gst_sdp_attribute_set (&attr, "group", bundle->str);
      gst_sdp_message_replace_attribute (sdp, i, &attr);
      break;
    }
  }
  g_string_free (bundle, TRUE);
  return gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
}

static void
renegotiate (WebrtcCallCall * call, const gchar * sdp_text)
{
  GstWebRTCSessionDescription *local = NULL, *remote = NULL;
  GstSDPMessage *offer = parse_media_sdp (sdp_text), *masked;

  if (offer == NULL) {
    GST_ELEMENT_WARNING (call->bin, STREAM, FAILED,
        ("The far end's new offer for call %s has no usable SDP: ignored, "
            "the call keeps its media", call->call_id), (NULL));
    return;
  }
  wtsp_sdp_fingerprint_to_media (offer);
  g_object_get (call->webrtc, "current-local-description", &local,
      "current-remote-description", &remote, NULL);
  if (remote && wtsp_sdp_inactivate_foreign (offer, remote->sdp, FALSE))
    GST_DEBUG_OBJECT (call, "the far end's nonsense m-line kept inactive, "
        "as webrtcbin has it");
  if (local && remote && only_directions_change (offer, remote->sdp)) {
    GstWebRTCSessionDescription *answer =
        reanswer_directions (local->sdp, remote->sdp, offer);

    GST_INFO_OBJECT (call, "the far end changes directions only: answered "
        "from what was negotiated");
    send_jsep_request (call, "update", answer, NULL);
    gst_webrtc_session_description_free (answer);
    gst_webrtc_session_description_free (local);
    gst_webrtc_session_description_free (remote);
    gst_sdp_message_free (call->remote_sdp);
    call->remote_sdp = offer;
    renegotiated (call->bin, call, NULL);
    return;
  }
  if (local)
    gst_webrtc_session_description_free (local);

  GST_INFO_OBJECT (call, "the far end renegotiates (%u m-lines)",
      gst_sdp_message_medias_len (offer));
  /* a stream added: its m-line gets a transceiver, and a free input of
   * its kind (a camera the first offer had no video m-line for) */
  if (call->remote_sdp && gst_sdp_message_medias_len (offer) >
      gst_sdp_message_medias_len (call->remote_sdp))
    prepare_answer_transceivers (call, offer,
        gst_sdp_message_medias_len (call->remote_sdp));
  masked = mask_directions (offer, remote ? remote->sdp : NULL);
  if (remote)
    gst_webrtc_session_description_free (remote);
  set_remote (call, GST_WEBRTC_SDP_TYPE_OFFER, masked, reoffer_set);
  gst_sdp_message_free (masked);
  /* what the far end asked, for the answer and the held state */
  gst_sdp_message_free (call->remote_sdp);
  call->remote_sdp = offer;
}

void
webrtc_call_negotiation_reoffer (WebrtcCallCall * call, WtspMessage * msg)
{
  const gchar *type, *sdp;

  if (!wtsp_message_get_jsep (msg, &type, &sdp)) {
    GST_INFO_OBJECT (call, "far end changed the call (direction %s)",
        GST_STR_NULL (wtsp_message_get_string (msg, "direction")));
    return;
  }
  if (!g_str_equal (type, "offer")) {
    GST_ELEMENT_WARNING (call->bin, STREAM, FAILED,
        ("updating_call on call %s carries an %s, not an offer: ignored",
            call->call_id, type), (NULL));
    return;
  }
  if (call->answered) {
    if (call->webrtc && call->remote_set)
      renegotiate (call, sdp);
    else
      GST_ELEMENT_WARNING (call->bin, STREAM, FAILED,
          ("The far end re-offered call %s before its first negotiation "
              "was done: ignored", call->call_id), (NULL));
    return;
  }

  GST_INFO_OBJECT (call, "the far end offers instead of answering");
  webrtc_call_enqueue_surgery (call->bin, call, reoffer_answer,
      g_strdup (sdp), g_free);
}

/* Our re-offer: an input requested during the call (video turned on in
 * an audio-only call) gets an m-line of its own, as webrtcbin 1.22 can
 * neither give a sender to a negotiated transceiver nor change its
 * direction. The offer goes in "update" (protocol.md §6), its answer
 * comes in "updated" (or "accepted"). */

static void
update_answer_set (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  call->reoffering = FALSE;
  webrtc_call_media_connect_senders (call, call->remote_sdp);
  renegotiated (self, call, NULL);
  if (call->reoffer_again) {
    call->reoffer_again = FALSE;
    webrtc_call_negotiation_add_inputs (call);
  }
}

void
webrtc_call_negotiation_apply_update (WebrtcCallCall * call,
    WtspMessage * msg)
{
  const gchar *type, *sdp_text;
  GstSDPMessage *sdp = NULL;

  if (!call->reoffering || !wtsp_message_get_jsep (msg, &type, &sdp_text)) {
    GST_DEBUG_OBJECT (call, "%s without an answer we wait for", msg->type);
    return;
  }
  if (g_str_equal (type, "answer"))
    sdp = parse_media_sdp (sdp_text);
  if (sdp == NULL) {
    /* webrtcbin stays with our offer: no further renegotiation, the media
     * negotiated before goes on */
    GST_ELEMENT_WARNING (call->bin, STREAM, FAILED,
        ("The far end's answer to our new offer on call %s is not a usable "
            "SDP answer (%s): the added stream is not sent, the call keeps "
            "its media", call->call_id, type), (NULL));
    return;
  }
  set_remote (call, GST_WEBRTC_SDP_TYPE_ANSWER, sdp, update_answer_set);
  gst_sdp_message_free (sdp);
}

static void
update_offer_created (GstWebrtcCall * self, WebrtcCallCall * call,
    gpointer data)
{
  GstStructure *reply = data;
  GstWebRTCSessionDescription *offer = NULL;

  if (reply)
    gst_structure_get (reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
        &offer, NULL);
  if (offer == NULL) {
    call->reoffering = FALSE;
    GST_ELEMENT_WARNING (call->bin, STREAM, FAILED,
        ("webrtcbin made no new offer for call %s: the added stream is not "
            "sent", call->call_id), (NULL));
    return;
  }
  send_jsep_request (call, "update", offer, NULL);
  set_local (call, offer, local_offer_set);
  gst_webrtc_session_description_free (offer);
}

static void
add_inputs_task (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  webrtc_call_negotiation_add_inputs (call);
}

static void
add_inputs_later (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  webrtc_call_enqueue_surgery (self, call, add_inputs_task, NULL, NULL);
}

/* Inside a surgery: the free inputs go into the call, if it is up */
void
webrtc_call_negotiation_add_inputs (WebrtcCallCall * call)
{
  static const gchar *kinds[] = { "video", "audio" };
  GstWebRTCSessionDescription *local = NULL;
  GstWebRTCSignalingState signaling = GST_WEBRTC_SIGNALING_STATE_CLOSED;
  GstPromise *promise;
  guint k, mlines, added = 0;

  if (webrtc_call_call_is_ending (call) || call->webrtc == NULL)
    return;
  if (call->reoffering) {
    call->reoffer_again = TRUE;
    return;
  }
  g_object_get (call->webrtc, "signaling-state", &signaling,
      "current-local-description", &local, NULL);
  if (signaling != GST_WEBRTC_SIGNALING_STATE_STABLE || local == NULL
      || !call->remote_set) {
    if (local)
      gst_webrtc_session_description_free (local);
    /* the first negotiation (or the far end's re-offer) is under way:
     * its end is not signalled here, so look again (for 30 s) */
    if (call->reoffer_tries++ < 150)
      webrtc_call_enqueue_later (call->bin, call, 200, add_inputs_later,
          NULL, NULL);
    else
      GST_ELEMENT_WARNING (call->bin, STREAM, FAILED,
          ("Call %s never became stable: the input added during it is not "
              "sent", call->call_id), (NULL));
    return;
  }
  call->reoffer_tries = 0;
  mlines = gst_sdp_message_medias_len (local->sdp);
  gst_webrtc_session_description_free (local);

  for (k = 0; k < G_N_ELEMENTS (kinds); k++) {
    gchar *prefs = webrtc_call_dup_codecs (call->bin, kinds[k]);
    GstCaps *caps = webrtc_call_codecs_offer_caps (kinds[k], prefs, NULL);

    g_free (prefs);
    if (caps && webrtc_call_media_bind_input (call, kinds[k], caps,
            mlines + added)) {
      GST_INFO_OBJECT (call, "%s input added during the call: m-line %u",
          kinds[k], mlines + added);
      added++;
    }
    if (caps)
      gst_caps_unref (caps);
  }
  if (added == 0)
    return;

  call->reoffering = TRUE;
  promise = webrtc_promise (call, update_offer_created);
  g_signal_emit_by_name (call->webrtc, "create-offer", NULL, promise);
  gst_promise_unref (promise);
}
