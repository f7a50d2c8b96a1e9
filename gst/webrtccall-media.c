/* webrtccall: the media branches of a call
 *
 * Inputs: each request sink pad feeds a valve that drops between calls;
 * during a call the valve feeds a sender (encoder, payloader; a queue
 * first for video) into a webrtcbin sink pad, from the moment its media
 * connection is up. Outputs: each stream the far end sends gets a
 * receiver (depayloader, decoder) and a src pad of the bin; data nobody
 * linked is dropped at its entry, and when the call ends the outputs get
 * EOS (and pads the far end never used are added, only to get EOS), so
 * that the application's sinks finish.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "webrtccall-priv.h"
#include "wtspsdp.h"

#define GST_CAT_DEFAULT gst_webrtc_call_debug

/* Inputs */

static GstPadProbeReturn
input_event_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstWebrtcCall *self = GST_WEBRTC_CALL (user_data);
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  GList *l;

  if (GST_EVENT_TYPE (event) != GST_EVENT_EOS)
    return GST_PAD_PROBE_OK;

  GST_INFO_OBJECT (self, "EOS on %s: hanging up", GST_PAD_NAME (pad));
  g_mutex_lock (&self->lock);
  for (l = self->inputs; l; l = l->next)
    if (((WebrtcCallInput *) l->data)->valve == GST_PAD_PARENT (pad))
      ((WebrtcCallInput *) l->data)->eos = TRUE;
  g_mutex_unlock (&self->lock);
  webrtc_call_inputs_ended (self);
  return GST_PAD_PROBE_DROP;
}

WebrtcCallInput *
webrtc_call_media_input_new (GstWebrtcCall * self, GstPadTemplate * templ,
    const gchar * media)
{
  WebrtcCallInput *in = g_new0 (WebrtcCallInput, 1);
  GstPad *valve_sink;

  in->media = media;
  in->valve = gst_element_factory_make ("valve", NULL);
  g_object_set (in->valve, "drop", TRUE, NULL);
  /* re-send caps and segment when a call starts taking the media */
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (in->valve),
          "drop-mode"))
    gst_util_set_object_arg (G_OBJECT (in->valve), "drop-mode",
        "forward-sticky-events");
  /* ours as long as the pad lives: GstBin's dispose removes children
   * before request pads are released */
  gst_bin_add (GST_BIN (self), gst_object_ref (in->valve));
  gst_element_sync_state_with_parent (in->valve);

  valve_sink = gst_element_get_static_pad (in->valve, "sink");
  in->ghost = gst_ghost_pad_new_from_template (templ->name_template,
      valve_sink, templ);
  gst_pad_add_probe (valve_sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      input_event_probe, self, NULL);
  gst_object_unref (valve_sink);
  return in;
}

/**
 * webrtc_call_media_stop_sender:
 * @sender: from connect_sender()
 *
 * Any thread: @sender to NULL, with its rtpdtmfsrc (its own state)
 */
void
webrtc_call_media_stop_sender (GstElement * sender)
{
  webrtc_call_dtmf_release (sender);
  gst_element_set_state (sender, GST_STATE_NULL);
}

void
webrtc_call_media_input_free (GstWebrtcCall * self, WebrtcCallInput * in)
{
  gst_element_set_state (in->valve, GST_STATE_NULL);
  if (GST_OBJECT_PARENT (in->valve) == GST_OBJECT (self))
    gst_bin_remove (GST_BIN (self), in->valve);
  gst_object_unref (in->valve);
  if (in->sender) {
    webrtc_call_media_stop_sender (in->sender);
    if (GST_OBJECT_PARENT (in->sender) == GST_OBJECT (self))
      gst_bin_remove (GST_BIN (self), in->sender);
    gst_object_unref (in->sender);
  }
  gst_clear_object (&in->webrtc_pad);
  gst_clear_object (&in->transceiver);
  g_free (in);
}

/* An input gets a sink pad of webrtcbin, and an SSRC that the caps carry
 * into our SDP (a=ssrc): without it Chromium cannot tell bundled streams
 * apart when one of them is receive-only. The sender will use it.
 * @mline: -1 in a first negotiation; during a call the index of the new
 * m-line: webrtcbin 1.22 gives pad sink_N the transceiver of m-line N, and
 * an existing one (a stream that is already negotiated) cannot take a
 * sender. Returns NULL if no free input of @media is there. */
WebrtcCallInput *
webrtc_call_media_bind_input (WebrtcCallCall * call, const gchar * media,
    GstCaps * caps, gint mline)
{
  GstWebrtcCall *self = call->bin;
  WebrtcCallInput *in = NULL;
  GstWebRTCRTPTransceiver *transceiver = NULL;
  GstPad *pad;
  guint32 ssrc = g_random_int ();
  GList *l;

  g_mutex_lock (&self->lock);
  for (l = self->inputs; l && !in; l = l->next) {
    WebrtcCallInput *i = l->data;

    if (g_str_equal (i->media, media) && i->call == NULL && !i->eos)
      in = i;
  }
  if (in)
    in->call = call;
  g_mutex_unlock (&self->lock);
  if (in == NULL)
    return NULL;

  /* webrtcbin emits pad-added for its new pad: not under our lock */
  gst_caps_set_simple (caps, "ssrc", G_TYPE_UINT, ssrc, NULL);
  if (mline < 0) {
    pad = gst_element_request_pad_simple (call->webrtc, "sink_%u");
  } else {
    gchar *name = g_strdup_printf ("sink_%d", mline);

    pad = gst_element_request_pad (call->webrtc,
        gst_element_get_pad_template (call->webrtc, "sink_%u"), name, NULL);
    g_free (name);
  }
  if (pad == NULL) {
    GST_WARNING_OBJECT (call, "webrtcbin gave no sink pad for m-line %d",
        mline);
    g_mutex_lock (&self->lock);
    in->call = NULL;
    g_mutex_unlock (&self->lock);
    return NULL;
  }
  g_object_get (pad, "transceiver", &transceiver, NULL);
  g_object_set (transceiver, "direction",
      GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV,
      "codec-preferences", caps, NULL);

  g_mutex_lock (&self->lock);
  in->ssrc = ssrc;
  in->webrtc_pad = pad;
  in->transceiver = transceiver;
  g_mutex_unlock (&self->lock);
  return in;
}

/* Payloaders push buffer lists: count packets, not pushes */
static GstPadProbeReturn
count_sent (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    g_atomic_int_add ((gint *) user_data,
        gst_buffer_list_length (GST_PAD_PROBE_INFO_BUFFER_LIST (info)));
  else
    g_atomic_int_inc ((gint *) user_data);
  return GST_PAD_PROBE_OK;
}

/* Whether @media's a=fmtp for @pt has @param (e.g. "sprop-stereo=1") */
static gboolean
fmtp_has (const GstSDPMedia * media, gint pt, const gchar * param)
{
  gchar *prefix = g_strdup_printf ("%d ", pt);
  gboolean found = FALSE;
  guint i;

  for (i = 0; !found; i++) {
    const gchar *fmtp = gst_sdp_media_get_attribute_val_n (media, "fmtp", i);
    gchar **params;
    guint j;

    if (fmtp == NULL)
      break;
    if (!g_str_has_prefix (fmtp, prefix))
      continue;
    params = g_strsplit (fmtp + strlen (prefix), ";", -1);
    for (j = 0; params[j] && !found; j++)
      found = g_ascii_strcasecmp (g_strstrip (params[j]), param) == 0;
    g_strfreev (params);
  }
  g_free (prefix);
  return found;
}

/* Builds, links and starts the sender of one input, whose m-line in @sdp
 * decides the codec. Returns the warning to post, or NULL. */
static gchar *
connect_sender (WebrtcCallCall * call, WebrtcCallInput * in,
    GstSDPMessage * sdp, GstElement ** sender_out)
{
  GstWebrtcCall *self = call->bin;
  GError *error = NULL;
  const GstSDPMedia *media;
  const WebrtcCallCodec *codec;
  GstCaps *input_caps;
  GstElement *sender;
  GstPad *valve_src, *sender_sink, *sender_src;
  GstPadLinkReturn ret;
  gint mline, pt = -1, dtmf_pt = -1, dtmf_rate = 0;
  gchar *problem = NULL;

  g_object_get (in->transceiver, "mlineindex", &mline, NULL);
  if (mline < 0 || (guint) mline >= gst_sdp_message_medias_len (sdp)) {
    GST_WARNING_OBJECT (call, "%s input has no m-line (%d) in the SDP",
        in->media, mline);
    return NULL;
  }
  media = gst_sdp_message_get_media (sdp, mline);
  if (wtsp_sdp_media_rejected (media)) {
    GST_INFO_OBJECT (call, "%s m-line %d rejected by the far end",
        in->media, mline);
    return NULL;
  }
  codec = webrtc_call_codecs_negotiated (media, &pt);
  if (codec == NULL)
    return g_strdup_printf ("No %s codec in common with the far end: not "
        "sending %s", in->media, in->media);

  if (g_str_equal (codec->media, "audio")) {
    dtmf_pt = webrtc_call_codecs_dtmf_pt (media, codec->clock_rate,
        &dtmf_rate);
    if (dtmf_pt >= 0 && dtmf_rate != codec->clock_rate)
      GST_INFO_OBJECT (call, "the far end takes telephone-event/%d with "
          "%s/%d: DTMF sent on payload type %d, timed at %d Hz (one clock "
          "rate in the stream, as baresip does)", dtmf_rate, codec->name,
          codec->clock_rate, dtmf_pt, codec->clock_rate);
  }
  input_caps = gst_pad_get_current_caps (in->ghost);
  /* a phone that offers stereo Opus (baresip) gets an answer saying we
   * send stereo: webrtcbin wants the payloader to say so too */
  sender = webrtc_call_codec_make_sender (codec, pt, in->ssrc, input_caps,
      fmtp_has (media, pt, "sprop-stereo=1"), dtmf_pt, dtmf_rate, &error);
  if (input_caps)
    gst_caps_unref (input_caps);
  if (sender == NULL) {
    problem = g_strdup (error->message);
    g_clear_error (&error);
    return problem;
  }
  GST_INFO_OBJECT (call, "sending %s as %s/%d", in->media, codec->name, pt);
  in->codec = codec;
  in->pt = pt;

  /* one reference is ours (in->sender, then the call's teardown), one
   * the bin's: a reference added to a non-floating object is not sunk */
  gst_object_ref_sink (sender);
  gst_bin_add (GST_BIN (self), sender);
  valve_src = gst_element_get_static_pad (in->valve, "src");
  sender_sink = gst_element_get_static_pad (sender, "sink");
  sender_src = gst_element_get_static_pad (sender, "src");
  if (GST_PAD_LINK_FAILED (ret = gst_pad_link (sender_src, in->webrtc_pad))
      || GST_PAD_LINK_FAILED (ret = gst_pad_link (valve_src, sender_sink))) {
    /* The valve stays closed: the input is dropped, the call goes on */
    GstCaps *ours = gst_pad_query_caps (sender_src, NULL);
    GstCaps *theirs = gst_pad_query_caps (in->webrtc_pad, NULL);
    gchar *o = gst_caps_to_string (ours), *t = gst_caps_to_string (theirs);

    problem = g_strdup_printf ("Cannot send %s as %s: linking failed (%s; "
        "sender %s, webrtcbin %s)", in->media, codec->name,
        gst_pad_link_get_name (ret), o, t);
    g_free (o);
    g_free (t);
    gst_caps_unref (ours);
    gst_caps_unref (theirs);
    gst_pad_unlink (sender_src, in->webrtc_pad);
    gst_bin_remove (GST_BIN (self), sender);
    gst_element_set_state (sender, GST_STATE_NULL);
    gst_clear_object (&sender);
  } else {
    gst_pad_add_probe (sender_src, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_BUFFER_LIST, count_sent,
        g_str_equal (in->media, "video") ? &call->video_sent :
        &call->audio_sent, NULL);
    gst_element_sync_state_with_parent (sender);
    if (webrtc_call_media_is_muted (self, in->media)
        && !webrtc_call_codec_set_muted (sender, TRUE))
      GST_INFO_OBJECT (call, "%s muted: encoded input is not sent",
          in->media);
    else if (call->ice_connected)
      g_object_set (in->valve, "drop", FALSE, NULL);
    /* else opened when the media connection is up */
  }
  gst_object_unref (valve_src);
  gst_object_unref (sender_sink);
  gst_object_unref (sender_src);
  *sender_out = sender;
  return problem;
}

/* Inside a surgery, once the m-lines of the inputs are known */
void
webrtc_call_media_connect_senders (WebrtcCallCall * call, GstSDPMessage * sdp)
{
  GstWebrtcCall *self = call->bin;
  GList *todo = NULL, *l;

  /* Inputs change only on the task thread and the application's (pads
   * released while a call uses them wait for unbind_inputs) */
  g_mutex_lock (&self->lock);
  for (l = self->inputs; l; l = l->next) {
    WebrtcCallInput *in = l->data;

    if (in->call == call && in->transceiver && in->sender == NULL) {
      /* release_pad() leaves it to us from now on */
      in->connecting = TRUE;
      todo = g_list_prepend (todo, in);
    }
  }
  g_mutex_unlock (&self->lock);

  for (l = todo; l; l = l->next) {
    WebrtcCallInput *in = l->data;
    GstElement *sender = NULL;
    gchar *problem = connect_sender (call, in, sdp, &sender);
    gboolean released;

    if (problem) {
      GST_ELEMENT_WARNING (self, STREAM, FORMAT, ("%s", problem), (NULL));
      g_free (problem);
    }
    g_mutex_lock (&self->lock);
    in->connecting = FALSE;
    released = in->released;
    if (released)
      /* its pad is gone: the sender goes down with the call's webrtcbin */
      call->senders = sender ? g_list_prepend (call->senders, sender) :
          call->senders;
    else
      in->sender = sender;
    g_mutex_unlock (&self->lock);
    if (released)
      webrtc_call_media_input_free (self, in);
  }
  g_list_free (todo);
}

gboolean
webrtc_call_media_is_muted (GstWebrtcCall * self, const gchar * media)
{
  gboolean muted;

  GST_OBJECT_LOCK (self);
  muted = g_str_equal (media, "video") ? self->video_muted :
      self->audio_muted;
  GST_OBJECT_UNLOCK (self);
  return muted;
}

/**
 * webrtc_call_media_set_muted:
 *
 * Any thread (a property set): the senders of @media make black or
 * silence from now on, or stop muting; a sender of encoded input sends
 * nothing while muted. Nothing is renegotiated.
 */
void
webrtc_call_media_set_muted (GstWebrtcCall * self, const gchar * media,
    gboolean muted)
{
  GList *senders = NULL, *l;

  g_mutex_lock (&self->lock);
  for (l = self->inputs; l; l = l->next) {
    WebrtcCallInput *in = l->data;

    if (in->sender && in->call && g_str_equal (in->media, media))
      senders = g_list_prepend (senders, gst_object_ref (in->sender));
  }
  g_mutex_unlock (&self->lock);
  for (l = senders; l; l = l->next)
    webrtc_call_codec_set_muted (l->data, muted);
  g_list_free_full (senders, gst_object_unref);
}

/**
 * webrtc_call_media_update_sending:
 *
 * Task thread. Our senders send only while the call allows it: not before
 * its media connection is up (webrtcbin holds a sender's buffers until
 * DTLS is, and an audio sender runs in the application's thread), not while
 * we hold the call (call->on_hold, from `holding` to `resuming`), nor on
 * an m-line the far end's last description made sendonly or inactive
 * (it holds us). The valve drops instead: webrtcbin 1.22 cannot change a
 * transceiver's direction, and nothing needs renegotiating.
 */
void
webrtc_call_media_update_sending (WebrtcCallCall * call)
{
  GstWebrtcCall *self = call->bin;
  GList *open = NULL, *closed = NULL, *l;

  g_mutex_lock (&self->lock);
  for (l = self->inputs; l; l = l->next) {
    WebrtcCallInput *in = l->data;
    gboolean send = call->ice_connected && !call->on_hold;
    gint mline = -1;

    if (in->call != call || in->sender == NULL || in->transceiver == NULL)
      continue;
    /* encoded input cannot be made black or silent: not sent instead */
    if (webrtc_call_media_is_muted (self, in->media)
        && !webrtc_call_codec_can_mute (in->sender))
      send = FALSE;
    g_object_get (in->transceiver, "mlineindex", &mline, NULL);
    if (send && call->remote_sdp && mline >= 0
        && (guint) mline < gst_sdp_message_medias_len (call->remote_sdp)) {
      const GstSDPMedia *m = gst_sdp_message_get_media (call->remote_sdp,
          mline);

      send = !wtsp_sdp_media_has_attribute (m, "sendonly")
          && !wtsp_sdp_media_has_attribute (m, "inactive");
    }
    GST_DEBUG_OBJECT (call, "%s input: %s", in->media, send ? "sending" :
        "not sending");
    if (send)
      open = g_list_prepend (open, gst_object_ref (in->valve));
    else
      closed = g_list_prepend (closed, gst_object_ref (in->valve));
  }
  g_mutex_unlock (&self->lock);

  for (l = open; l; l = l->next)
    g_object_set (l->data, "drop", FALSE, NULL);
  for (l = closed; l; l = l->next)
    g_object_set (l->data, "drop", TRUE, NULL);
  g_list_free_full (open, gst_object_unref);
  g_list_free_full (closed, gst_object_unref);
}

/* The call ends: its inputs drop again; their senders are the call's to
 * take down with webrtcbin */
void
webrtc_call_media_unbind_inputs (WebrtcCallCall * call)
{
  GstWebrtcCall *self = call->bin;
  GList *valves = NULL, *garbage = NULL, *l;

  g_mutex_lock (&self->lock);
  for (l = self->inputs; l; l = l->next) {
    WebrtcCallInput *in = l->data;

    if (in->call != call)
      continue;
    valves = g_list_prepend (valves, gst_object_ref (in->valve));
    if (in->sender)
      call->senders = g_list_prepend (call->senders, in->sender);
    in->sender = NULL;
    if (in->webrtc_pad)
      garbage = g_list_prepend (garbage, in->webrtc_pad);
    if (in->transceiver)
      garbage = g_list_prepend (garbage, in->transceiver);
    in->webrtc_pad = NULL;
    in->transceiver = NULL;
    in->codec = NULL;
    in->call = NULL;
  }
  g_mutex_unlock (&self->lock);

  for (l = valves; l; l = l->next)
    g_object_set (l->data, "drop", TRUE, NULL);
  g_list_free_full (valves, gst_object_unref);
  g_list_free_full (garbage, gst_object_unref);
}

/* Outputs */

/* How many streams the far end will send, from both descriptions: the
 * pads to expect before no-more-pads, and to end if they never came */
void
webrtc_call_media_set_expected (WebrtcCallCall * call, GstSDPMessage * local,
    GstSDPMessage * remote)
{
  guint i, video = 0, audio = 0;
  gboolean done;

  for (i = 0; remote && local && i < gst_sdp_message_medias_len (remote)
      && i < gst_sdp_message_medias_len (local); i++) {
    const GstSDPMedia *r = gst_sdp_message_get_media (remote, i);
    const GstSDPMedia *l = gst_sdp_message_get_media (local, i);

    if (wtsp_sdp_media_rejected (r) || wtsp_sdp_media_rejected (l)
        || wtsp_sdp_media_has_attribute (r, "recvonly")
        || wtsp_sdp_media_has_attribute (r, "inactive")
        || wtsp_sdp_media_has_attribute (l, "sendonly")
        || wtsp_sdp_media_has_attribute (l, "inactive"))
      continue;
    if (g_strcmp0 (gst_sdp_media_get_media (r), "video") == 0)
      video++;
    else if (g_strcmp0 (gst_sdp_media_get_media (r), "audio") == 0)
      audio++;
  }

  GST_OBJECT_LOCK (call);
  call->expected_video = video;
  call->expected_audio = audio;
  done = video + audio > 0 && call->added_outputs >= video + audio
      && !call->no_more_pads;
  if (done)
    call->no_more_pads = TRUE;
  GST_OBJECT_UNLOCK (call);
  GST_DEBUG_OBJECT (call, "expecting %u video and %u audio streams", video,
      audio);
  if (done)
    gst_element_no_more_pads (GST_ELEMENT (call->bin));
}

static void
media_arrived (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  webrtc_call_call_media_arrived (call);
}

/* On webrtcbin's src pad: what the output cannot use goes no further, so
 * that webrtcbin never sees not-linked (which would end the call) */
static GstPadProbeReturn
output_entry (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  WebrtcCallOutput *out = user_data;

  if (g_atomic_int_get (&out->closed))
    return GST_PAD_PROBE_DROP;
  g_atomic_int_inc (out->packets);
  if (!gst_pad_is_linked (out->ghost)) {
    if (g_atomic_int_compare_and_exchange (&out->warned, 0, 1)) {
      GST_ELEMENT_WARNING (out->call->bin, STREAM, FAILED,
          ("Nothing is linked to %s: its media is dropped",
              GST_PAD_NAME (out->ghost)), ("call %s", out->call->call_id));
      /* media arrives all the same: the call is connected */
      webrtc_call_enqueue (out->call->bin, out->call, media_arrived, NULL,
          NULL);
    }
    return GST_PAD_PROBE_DROP;
  }
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
drop_all (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  return GST_PAD_PROBE_DROP;
}

static GstPadProbeReturn
count_received (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  g_atomic_int_inc ((gint *) user_data);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
first_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  WebrtcCallCall *call = user_data;

  webrtc_call_enqueue (call->bin, call, media_arrived, NULL, NULL);
  return GST_PAD_PROBE_REMOVE;
}

static gchar *
next_pad_name (GstWebrtcCall * self, const gchar * media)
{
  gchar *name;

  g_mutex_lock (&self->lock);
  if (g_str_equal (media, "video"))
    name = g_strdup_printf ("video_src_%u", self->video_pads++);
  else
    name = g_strdup_printf ("audio_src_%u", self->audio_pads++);
  g_mutex_unlock (&self->lock);
  return name;
}

static GstPadTemplate *
src_template (GstWebrtcCall * self, const gchar * media)
{
  return gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (self),
      g_str_equal (media, "video") ? "video_src_%u" : "audio_src_%u");
}

/* Streaming thread of webrtcbin, in its pad-added: link at once, or its
 * data is lost. The one place where a thread other than the task thread
 * and the application's adds children: like rtpbin, it bails out once the
 * bin is shutting down. */
void
webrtc_call_media_pad_added (WebrtcCallCall * call, GstPad * pad)
{
  GstWebrtcCall *self = call->bin;
  const WebrtcCallCodec *codec = NULL;
  GError *error = NULL;
  GstCaps *caps;
  const gchar *name;
  gboolean encoded, all;
  WebrtcCallOutput *out;
  GstPad *sink, *src;
  gchar *pad_name;

  if (webrtc_call_call_is_ending (call)
      || !webrtc_call_begin_surgery (self, TRUE)) {
    GST_DEBUG_OBJECT (call, "call ending: %s dropped", GST_PAD_NAME (pad));
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, drop_all, NULL, NULL);
    return;
  }

  caps = gst_pad_get_current_caps (pad);
  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  if (webrtc_call_dtmf_take_pad (call, pad, caps)) {
    gst_caps_unref (caps);
    webrtc_call_end_surgery (self);
    return;
  }
  name = gst_structure_get_string (gst_caps_get_structure (caps, 0),
      "encoding-name");
  if (name)
    codec = webrtc_call_codec_find (name);
  if (codec == NULL) {
    GST_ELEMENT_WARNING (self, STREAM, CODEC_NOT_FOUND,
        ("The far end sends media this element cannot receive"),
        ("%" GST_PTR_FORMAT, caps));
    gst_caps_unref (caps);
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, drop_all, NULL, NULL);
    webrtc_call_end_surgery (self);
    return;
  }
  gst_caps_unref (caps);

  GST_OBJECT_LOCK (self);
  encoded = self->encoded_output;
  GST_OBJECT_UNLOCK (self);

  out = g_new0 (WebrtcCallOutput, 1);
  out->call = call;
  out->media = codec->media;
  out->bin = webrtc_call_codec_make_receiver (codec, encoded, &error);
  if (out->bin == NULL) {
    GST_ELEMENT_WARNING (self, CORE, MISSING_PLUGIN, ("%s", error->message),
        (NULL));
    g_clear_error (&error);
    g_free (out);
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, drop_all, NULL, NULL);
    webrtc_call_end_surgery (self);
    return;
  }

  gst_bin_add (GST_BIN (self), out->bin);
  sink = gst_element_get_static_pad (out->bin, "sink");
  src = gst_element_get_static_pad (out->bin, "src");
  gst_element_sync_state_with_parent (out->bin);

  pad_name = next_pad_name (self, codec->media);
  out->ghost = gst_object_ref (gst_ghost_pad_new_from_template (pad_name, src,
          src_template (self, codec->media)));
  /* webrtcbin may outlive the output (it goes down on another thread):
   * the probe keeps the call, which keeps its outputs */
  out->packets = g_str_equal (codec->media, "video") ? &call->video_rtp :
      &call->audio_rtp;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, output_entry, out,
      NULL);
  g_object_set_data_full (G_OBJECT (pad), "webrtccall-call",
      gst_object_ref (call), gst_object_unref);
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER, count_received,
      g_str_equal (codec->media, "video") ? &call->video_received :
      &call->audio_received, NULL);
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER, first_buffer, call,
      NULL);
  gst_pad_set_active (out->ghost, TRUE);

  GST_OBJECT_LOCK (call);
  call->outputs = g_list_append (call->outputs, out);
  GST_OBJECT_UNLOCK (call);

  GST_INFO_OBJECT (call, "receiving %s as %s on %s", codec->media,
      codec->name, pad_name);
  /* The application links the new pad in its pad-added handler; only then
   * may data flow, or the first buffers hit an unlinked pad */
  gst_element_add_pad (GST_ELEMENT (self), out->ghost);

  /* Streams arrive on their own threads: counted once their pad-added
   * handler returned, so that no-more-pads comes after every handler
   * (a recorder requests its muxer pads there) */
  GST_OBJECT_LOCK (call);
  all = ++call->added_outputs == call->expected_video + call->expected_audio
      && !call->no_more_pads;
  if (all)
    call->no_more_pads = TRUE;
  GST_OBJECT_UNLOCK (call);
  if (all)
    gst_element_no_more_pads (GST_ELEMENT (self));

  if (GST_PAD_LINK_FAILED (gst_pad_link (pad, sink)))
    GST_ELEMENT_WARNING (self, CORE, PAD, ("Could not receive %s",
            codec->media), ("linking %s failed", GST_PAD_NAME (pad)));

  g_free (pad_name);
  gst_object_unref (sink);
  gst_object_unref (src);
  webrtc_call_end_surgery (self);
}

/* A stream the far end negotiated but never sent still gets its pad, with
 * nothing but EOS on it: the application may have linked sinks to that
 * name (gst-launch's delayed links) and waits for their EOS */
static WebrtcCallOutput *
add_ended_output (WebrtcCallCall * call, const gchar * media)
{
  GstWebrtcCall *self = call->bin;
  WebrtcCallOutput *out = g_new0 (WebrtcCallOutput, 1);
  gchar *name = next_pad_name (self, media);
  gchar *stream_id;
  GstSegment segment;

  out->call = call;
  out->media = media;
  out->closed = 1;
  out->ghost = gst_object_ref (gst_pad_new_from_template (src_template (self,
              media), name));
  gst_pad_use_fixed_caps (out->ghost);
  gst_pad_set_active (out->ghost, TRUE);
  stream_id = g_strdup_printf ("%08x%08x/%s", g_random_int (),
      g_random_int (), name);
  gst_pad_push_event (out->ghost, gst_event_new_stream_start (stream_id));
  g_free (stream_id);
  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_pad_push_event (out->ghost, gst_event_new_segment (&segment));
  GST_INFO_OBJECT (call, "%s never got media: %s only ends", media, name);
  gst_element_add_pad (GST_ELEMENT (self), out->ghost);
  g_free (name);
  return out;
}

/* Whether an EOS out of @pad could wait for the application: a peer still
 * PAUSED or PLAYING holds it in preroll. While the application stops the
 * pipeline its sinks went down before us (GstBin stops sinks first). */
static gboolean
peer_running (GstPad * pad)
{
  GstPad *peer = gst_pad_get_peer (pad);
  GstElement *parent = peer ? gst_pad_get_parent_element (peer) : NULL;
  gboolean running = FALSE;

  if (parent) {
    GST_OBJECT_LOCK (parent);
    running = GST_STATE (parent) > GST_STATE_READY
        && GST_STATE_TARGET (parent) > GST_STATE_READY;
    GST_OBJECT_UNLOCK (parent);
    gst_object_unref (parent);
  }
  g_clear_object (&peer);
  return running;
}

/* EOS out of every output: received data first drains through its
 * decoder. On the task thread this may wait for a sink in preroll; the
 * application's PAUSED->READY flushes us out of that
 * (webrtc_call_media_flush_outputs). On the application's thread, while
 * it stops us, an output whose peer still runs gets no EOS: nothing may
 * block there. */
void
webrtc_call_media_end_outputs (WebrtcCallCall * call, gboolean stopping)
{
  GList *outputs, *l, *added = NULL;
  guint video = 0, audio = 0, expected_video, expected_audio;

  GST_OBJECT_LOCK (call);
  outputs = g_list_copy (call->outputs);
  expected_video = call->expected_video;
  expected_audio = call->expected_audio;
  GST_OBJECT_UNLOCK (call);

  for (l = outputs; l; l = l->next) {
    WebrtcCallOutput *out = l->data;

    g_atomic_int_set (&out->closed, 1);
    if (g_str_equal (out->media, "video"))
      video++;
    else
      audio++;
  }
  for (; video < expected_video; video++)
    added = g_list_append (added, add_ended_output (call, "video"));
  for (; audio < expected_audio; audio++)
    added = g_list_append (added, add_ended_output (call, "audio"));

  for (l = outputs; l; l = l->next) {
    WebrtcCallOutput *out = l->data;
    GstPad *sink;

    if (stopping && peer_running (out->ghost)) {
      GST_DEBUG_OBJECT (call, "no EOS on %s: its peer still runs",
          GST_PAD_NAME (out->ghost));
      continue;
    }
    sink = gst_element_get_static_pad (out->bin, "sink");
    gst_pad_send_event (sink, gst_event_new_eos ());
    gst_object_unref (sink);
  }
  for (l = added; l; l = l->next) {
    GstPad *ghost = ((WebrtcCallOutput *) l->data)->ghost;

    if (!stopping || !peer_running (ghost))
      gst_pad_push_event (ghost, gst_event_new_eos ());
  }

  GST_OBJECT_LOCK (call);
  call->outputs = g_list_concat (call->outputs, added);
  GST_OBJECT_UNLOCK (call);
  g_list_free (outputs);
}

/* Through every output, downstream from its entry: FLUSH_START releases
 * any thread of ours waiting in the application's sinks (preroll, a full
 * queue) without taking a stream lock; FLUSH_STOP, once that thread is
 * out, leaves the branch empty for the last EOS. */
void
webrtc_call_media_flush_outputs (WebrtcCallCall * call, gboolean start)
{
  GList *outputs, *l;

  GST_OBJECT_LOCK (call);
  outputs = g_list_copy (call->outputs);
  for (l = outputs; l; l = l->next) {
    WebrtcCallOutput *out = l->data;

    l->data = out->bin ? gst_element_get_static_pad (out->bin, "sink") :
        gst_object_ref (out->ghost);
    g_atomic_int_set (&out->closed, 1);
  }
  GST_OBJECT_UNLOCK (call);

  for (l = outputs; l; l = l->next) {
    GstPad *pad = l->data;
    GstEvent *event = start ? gst_event_new_flush_start () :
        gst_event_new_flush_stop (FALSE);

    if (GST_PAD_IS_SRC (pad))
      gst_pad_push_event (pad, event);
    else
      gst_pad_send_event (pad, event);
  }
  g_list_free_full (outputs, gst_object_unref);
}

/* The pads of an ended call go: a new call starts, or the bin stops.
 * Inside a surgery, after the call's end. */
void
webrtc_call_media_remove_outputs (WebrtcCallCall * call)
{
  GstWebrtcCall *self = call->bin;
  GList *outputs, *l;

  GST_OBJECT_LOCK (call);
  outputs = call->outputs;
  call->outputs = NULL;
  GST_OBJECT_UNLOCK (call);

  for (l = outputs; l; l = l->next) {
    WebrtcCallOutput *out = l->data;

    gst_element_remove_pad (GST_ELEMENT (self), out->ghost);
    if (out->bin) {
      gst_element_set_locked_state (out->bin, TRUE);
      gst_element_set_state (out->bin, GST_STATE_NULL);
      gst_bin_remove (GST_BIN (self), out->bin);
      out->bin = NULL;
    }
  }
  /* Freed with the call: webrtcbin's probes may still look at them */
  GST_OBJECT_LOCK (call);
  call->removed_outputs = g_list_concat (call->removed_outputs, outputs);
  GST_OBJECT_UNLOCK (call);
}
