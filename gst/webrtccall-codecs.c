/* webrtccall: the codecs a call can use, and the branches that carry them
 *
 * One table row per codec: what we put in an offer, how to pick it from a
 * remote offer, and the launch fragments that encode, payload, depayload
 * and decode it. Adding a codec is adding a row.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "webrtccall-codecs.h"

#include <string.h>

GST_DEBUG_CATEGORY_EXTERN (gst_webrtc_call_debug);
#define GST_CAT_DEFAULT gst_webrtc_call_debug

/* The feedback Chromium needs to ask us for keyframes and retransmits */
#define VIDEO_FEEDBACK "rtcp-fb-nack=(boolean)true, " \
  "rtcp-fb-nack-pli=(boolean)true, rtcp-fb-ccm-fir=(boolean)true"

/* After a loss the depayloader asks the far end for a keyframe (a PLI
 * through rtpsession) and passes nothing on until it comes, so that the
 * decoder resumes clean rather than smeared */
#define KEYFRAMES "request-keyframe=true wait-for-keyframe=true"

/* One encoder thread: libvpx's second thread costs 3.5x the CPU at
 * 640x480 30 fps (35 % of a core instead of 10 %, measured with
 * videotestsrc ! vp8enc ... ! fakesink on a 2-core machine) and gains
 * nothing at that size: see docs/performance.md */
static const gchar *const vp8_encoders[] = {
  "vp8enc deadline=1 cpu-used=8 threads=1 end-usage=cbr "
      "target-bitrate=1000000 keyframe-max-dist=60 lag-in-frames=0 "
      "error-resilient=partitions",
  NULL
};

static const gchar *const vp8_decoders[] = { "vp8dec", NULL };

static const gchar *const h264_encoders[] = {
  "openh264enc complexity=low rate-control=bitrate bitrate=1000000 "
      "gop-size=60 usage-type=camera ! "
      "video/x-h264,profile=(string){constrained-baseline,baseline}",
  "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 "
      "bitrate=1000 ! "
      "video/x-h264,profile=(string){constrained-baseline,baseline}",
  NULL
};

static const gchar *const h264_decoders[] = {
  "openh264dec", "avdec_h264", NULL
};

static const gchar *const opus_encoders[] = {
  "opusenc bitrate=32000 frame-size=20 inband-fec=true", NULL
};

static const gchar *const opus_decoders[] = { "opusdec plc=true", NULL };
static const gchar *const pcmu_encoders[] = { "mulawenc", NULL };
static const gchar *const pcmu_decoders[] = { "mulawdec", NULL };
static const gchar *const pcma_encoders[] = { "alawenc", NULL };
static const gchar *const pcma_decoders[] = { "alawdec", NULL };

static const WebrtcCallCodec codecs[] = {
  {"video", "VP8", 96, 90000, VIDEO_FEEDBACK, "video/x-vp8",
      vp8_encoders, "videoconvert", "rtpvp8pay picture-id-mode=15-bit mtu=1200",
      "rtpvp8depay " KEYFRAMES, NULL, vp8_decoders},
  {"video", "H264", 102, 90000, VIDEO_FEEDBACK ", packetization-mode="
        "(string)1, profile-level-id=(string)42e01f, "
        "level-asymmetry-allowed=(string)1", "video/x-h264",
      h264_encoders, "videoconvert",
      "rtph264pay config-interval=-1 aggregate-mode=zero-latency mtu=1200",
      "rtph264depay " KEYFRAMES, "h264parse", h264_decoders},
  {"audio", "OPUS", 111, 48000, "encoding-params=(string)2", "audio/x-opus",
        opus_encoders,
        "audioconvert ! audioresample ! audio/x-raw,rate=48000",
      "rtpopuspay", "rtpopusdepay", "opusparse", opus_decoders},
  {"audio", "PCMU", 0, 8000, NULL, "audio/x-mulaw", pcmu_encoders,
        "audioconvert ! audioresample ! audio/x-raw,rate=8000,channels=1",
      "rtppcmupay", "rtppcmudepay", NULL, pcmu_decoders},
  {"audio", "PCMA", 8, 8000, NULL, "audio/x-alaw", pcma_encoders,
        "audioconvert ! audioresample ! audio/x-raw,rate=8000,channels=1",
      "rtppcmapay", "rtppcmadepay", NULL, pcma_decoders},
};

const WebrtcCallCodec *
webrtc_call_codec_find (const gchar * name)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (codecs); i++)
    if (g_ascii_strcasecmp (codecs[i].name, name) == 0)
      return &codecs[i];
  return NULL;
}

/* The factory a launch fragment starts with is installed */
static gboolean
fragment_available (const gchar * fragment)
{
  gchar *name = g_strndup (fragment, strcspn (fragment, " !"));
  GstElementFactory *f = gst_element_factory_find (name);

  g_free (name);
  if (f == NULL)
    return FALSE;
  gst_object_unref (f);
  return TRUE;
}

static const gchar *
first_available (const gchar * const *fragments)
{
  for (; fragments && *fragments; fragments++)
    if (fragment_available (*fragments))
      return *fragments;
  return NULL;
}

static gboolean
codec_usable (const WebrtcCallCodec * codec)
{
  return first_available (codec->encoders) && first_available
      (codec->decoders) && fragment_available (codec->payloader)
      && fragment_available (codec->depayloader);
}

/* RFC 4733 telephone-event in our offers: at Opus' rate and at 8000 Hz
 * (G.711's), with the payload types Chromium uses */
static const struct
{
  gint pt;
  gint rate;
} dtmf_offer[] = { {110, 48000}, {126, 8000} };

/**
 * webrtc_call_codecs_dtmf_usable:
 *
 * Returns: whether DTMF can be sent (rtpdtmfsrc and rtpdtmfmux are
 *     there): only then is telephone-event offered and answered
 */
gboolean
webrtc_call_codecs_dtmf_usable (void)
{
  return fragment_available ("rtpdtmfsrc") && fragment_available
      ("rtpdtmfmux");
}

/**
 * webrtc_call_codecs_offer_caps:
 * @media: "video" or "audio"
 * @preferences: codec names in order of preference, e.g. "VP8,H264"
 *
 * Returns: (transfer full) (nullable): codec-preferences for a transceiver
 *     of an offer we make
 */
GstCaps *
webrtc_call_codecs_offer_caps (const gchar * media, const gchar * preferences,
    GError ** error)
{
  gchar **names = g_strsplit (preferences, ",", -1);
  GstCaps *caps = gst_caps_new_empty ();
  gchar **n;

  for (n = names; *n; n++) {
    const WebrtcCallCodec *codec = webrtc_call_codec_find (g_strstrip (*n));
    GstStructure *s;
    gchar *desc;

    if (codec == NULL || !g_str_equal (codec->media, media)) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
          "\"%s\" is not a %s codec this element knows", *n, media);
      gst_caps_unref (caps);
      g_strfreev (names);
      return NULL;
    }
    if (!codec_usable (codec)) {
      GST_WARNING ("%s left out of the offer: its elements are missing",
          codec->name);
      continue;
    }
    desc = g_strdup_printf ("application/x-rtp, media=(string)%s, "
        "encoding-name=(string)%s, clock-rate=(int)%d, payload=(int)%d%s%s",
        codec->media, codec->name, codec->clock_rate, codec->pt,
        codec->rtp_fields ? ", " : "",
        codec->rtp_fields ? codec->rtp_fields : "");
    s = gst_structure_from_string (desc, NULL);
    g_assert (s != NULL);
    gst_caps_append_structure (caps, s);
    g_free (desc);
  }
  g_strfreev (names);

  if (g_str_equal (media, "audio") && !gst_caps_is_empty (caps)
      && webrtc_call_codecs_dtmf_usable ()) {
    guint i, j, n = gst_caps_get_size (caps);

    /* 8000 Hz always (SIP phones take it with Opus too), another rate
     * only with a codec at that rate (no telephone-event/48000 in a
     * G.711 offer) */
    for (i = 0; i < G_N_ELEMENTS (dtmf_offer); i++) {
      gboolean wanted = dtmf_offer[i].rate == 8000;

      for (j = 0; j < n && !wanted; j++) {
        gint rate = 0;

        gst_structure_get_int (gst_caps_get_structure (caps, j),
            "clock-rate", &rate);
        wanted = rate == dtmf_offer[i].rate;
      }
      if (!wanted)
        continue;
      gst_caps_append_structure (caps, gst_structure_new ("application/x-rtp",
              "media", G_TYPE_STRING, "audio", "encoding-name", G_TYPE_STRING,
              "TELEPHONE-EVENT", "clock-rate", G_TYPE_INT, dtmf_offer[i].rate,
              "payload", G_TYPE_INT, dtmf_offer[i].pt, NULL));
    }
  }

  if (gst_caps_is_empty (caps)) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "none of the %s codecs \"%s\" can be used: their GStreamer elements "
        "are missing", media, preferences);
    gst_caps_unref (caps);
    return NULL;
  }
  return caps;
}

/* H264 we can encode and decode: packetization-mode 1, (constrained)
 * baseline profile */
/* Constrained baseline, what our encoders make; @strict: that only, not
 * the (decodable, but not what the encoder says) plain baseline */
static gboolean
h264_acceptable (const GstStructure * s, gboolean strict)
{
  const gchar *mode = gst_structure_get_string (s, "packetization-mode");
  const gchar *level_id = gst_structure_get_string (s, "profile-level-id");
  /* GstSDP 1.22 turns profile-level-id into profile=... */
  const gchar *profile = gst_structure_get_string (s, "profile");

  if (g_strcmp0 (mode, "1") != 0)
    return FALSE;
  if (profile)
    return g_str_equal (profile, "constrained-baseline")
        || (!strict && g_str_equal (profile, "baseline"));
  return level_id && strlen (level_id) == 6
      && (g_ascii_strncasecmp (level_id, "42e0", 4) == 0
      || g_ascii_strncasecmp (level_id, "42c0", 4) == 0
      || (!strict && g_ascii_strncasecmp (level_id, "4200", 4) == 0));
}

static gboolean
codec_field (GQuark field, GValue * value, gpointer user_data)
{
  const gchar *name = g_quark_to_string (field);

  return !g_str_has_prefix (name, "a-") && !g_str_has_prefix (name, "x-")
      && !g_str_has_prefix (name, "extmap-") && !g_str_has_prefix (name,
      "ssrc") && !g_str_equal (name, "rtcp-fb-transport-cc");
}

static GstCaps *
caps_for_pt (const GstSDPMedia * media, gint pt)
{
  GstCaps *caps = gst_sdp_media_get_caps_from_media (media, pt);
  GstStructure *s;

  if (caps == NULL)
    return NULL;
  caps = gst_caps_make_writable (caps);
  s = gst_caps_get_structure (caps, 0);
  gst_structure_set_name (s, "application/x-rtp");
  /* Only what identifies the codec: session attributes (a-mid, a-setup,
   * ssrc, extmap-N...) would keep webrtcbin from matching these caps
   * against the offer */
  gst_structure_filter_and_map_in_place (s, codec_field, NULL);
  if (!gst_structure_has_field (s, "media"))
    gst_structure_set (s, "media", G_TYPE_STRING,
        gst_sdp_media_get_media (media), NULL);
  return caps;
}

/**
 * webrtc_call_codecs_choose:
 * @media: an m-line of a remote offer
 * @preferences: our codec names in order of preference
 * @pt: (out): the offer's payload type for the chosen codec
 * @caps: (out) (transfer full): codec-preferences matching the offer
 *
 * Picks the codec we prefer among those offered, with the offer's own
 * payload type: webrtcbin 1.22 answers by matching the offer against
 * what its sink pads want, payload type included.
 *
 * Returns: (nullable): the codec, or %NULL if none offered is ours
 */
const WebrtcCallCodec *
webrtc_call_codecs_choose (const GstSDPMedia * media,
    const gchar * preferences, gint * pt, GstCaps ** caps)
{
  gchar **names = g_strsplit (preferences, ",", -1);
  const WebrtcCallCodec *chosen = NULL;
  gchar **n;
  guint i, pass;

  for (n = names; *n && !chosen; n++) {
    const WebrtcCallCodec *codec = webrtc_call_codec_find (g_strstrip (*n));

    if (codec == NULL || !g_str_equal (codec->media,
            gst_sdp_media_get_media (media)) || !codec_usable (codec))
      continue;

    /* Two passes: for H264, constrained baseline wherever it is in the
     * offer before plain baseline */
    for (pass = 0; pass < 2 && !chosen; pass++) {
      for (i = 0; i < gst_sdp_media_formats_len (media) && !chosen; i++) {
        gint fmt = atoi (gst_sdp_media_get_format (media, i));
        GstCaps *c = caps_for_pt (media, fmt);
        const GstStructure *s;
        const gchar *name;

        if (c == NULL)
          continue;
        s = gst_caps_get_structure (c, 0);
        name = gst_structure_get_string (s, "encoding-name");
        if (name && g_ascii_strcasecmp (name, codec->name) == 0
            && (!g_str_equal (codec->name, "H264")
                || h264_acceptable (s, pass == 0))) {
          chosen = codec;
          *pt = fmt;
          *caps = gst_caps_ref (c);
        }
        gst_caps_unref (c);
      }
    }
  }
  g_strfreev (names);

  /* and every telephone-event of the offer: the sender takes the one at
   * the codec's rate */
  for (i = 0; chosen && g_str_equal (chosen->media, "audio")
      && webrtc_call_codecs_dtmf_usable ()
      && i < gst_sdp_media_formats_len (media); i++) {
    gint fmt = atoi (gst_sdp_media_get_format (media, i));
    GstCaps *c = caps_for_pt (media, fmt);
    const gchar *name;

    if (c == NULL)
      continue;
    name = gst_structure_get_string (gst_caps_get_structure (c, 0),
        "encoding-name");
    if (name && g_ascii_strcasecmp (name, "TELEPHONE-EVENT") == 0) {
      *caps = gst_caps_make_writable (*caps);
      gst_caps_append (*caps, gst_caps_ref (c));
    }
    gst_caps_unref (c);
  }
  return chosen;
}

/**
 * webrtc_call_codecs_dtmf_pt:
 * @media: a negotiated m-line
 * @clock_rate: the audio codec's
 * @dtmf_rate: (out): the clock rate of the telephone-event returned
 *
 * RFC 4733 wants events at the audio codec's rate (Chromium: 48000 with
 * Opus), but SIP phones often negotiate only telephone-event/8000 with
 * Opus (baresip, Asterisk): that one is taken when no other is there.
 *
 * Returns: the payload type of telephone-event at @clock_rate, else of
 *     the first telephone-event at another rate, or -1
 */
gint
webrtc_call_codecs_dtmf_pt (const GstSDPMedia * media, gint clock_rate,
    gint * dtmf_rate)
{
  gint other = -1, other_rate = 0;
  guint i;

  for (i = 0; i < gst_sdp_media_formats_len (media); i++) {
    gint fmt = atoi (gst_sdp_media_get_format (media, i));
    GstCaps *c = caps_for_pt (media, fmt);
    const GstStructure *s;
    const gchar *name;
    gint rate = 0;

    if (c == NULL)
      continue;
    s = gst_caps_get_structure (c, 0);
    name = gst_structure_get_string (s, "encoding-name");
    gst_structure_get_int (s, "clock-rate", &rate);
    if (name && g_ascii_strcasecmp (name, "TELEPHONE-EVENT") == 0
        && rate > 0) {
      if (rate == clock_rate) {
        gst_caps_unref (c);
        *dtmf_rate = rate;
        return fmt;
      }
      if (other < 0) {
        other = fmt;
        other_rate = rate;
      }
    }
    gst_caps_unref (c);
  }
  *dtmf_rate = other_rate;
  return other;
}

/**
 * webrtc_call_codecs_negotiated:
 * @media: an m-line of an answer
 * @pt: (out): its payload type
 *
 * Returns: (nullable): the codec the answer chose: its first format that
 *     is a codec we know
 */
const WebrtcCallCodec *
webrtc_call_codecs_negotiated (const GstSDPMedia * media, gint * pt)
{
  guint i;

  for (i = 0; i < gst_sdp_media_formats_len (media); i++) {
    gint fmt = atoi (gst_sdp_media_get_format (media, i));
    GstCaps *c = caps_for_pt (media, fmt);
    const WebrtcCallCodec *codec = NULL;
    const gchar *name;

    if (c == NULL)
      continue;
    name = gst_structure_get_string (gst_caps_get_structure (c, 0),
        "encoding-name");
    if (name)
      codec = webrtc_call_codec_find (name);
    gst_caps_unref (c);
    if (codec && codec_usable (codec)) {
      *pt = fmt;
      return codec;
    }
  }
  return NULL;
}

static GstElement *
make_bin (const gchar * desc, const gchar * what, GError ** error)
{
  GError *err = NULL;
  GstElement *bin;

  GST_DEBUG ("%s: %s", what, desc);
  /* Not GST_PARSE_FLAG_NO_SINGLE_ELEMENT_BINS: with it, a chain comes back
   * as a GstPipeline, which flushes its parent's bus when set to NULL */
  bin = gst_parse_bin_from_description_full (desc, TRUE, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &err);
  if (bin == NULL) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "cannot build the %s (%s): %s", what, desc, err->message);
    g_clear_error (&err);
  }
  return bin;
}

/* The telephone-event caps rtpdtmfmux forwards (it passes on the caps its
 * last input got): webrtcbin and its RTP session keep the codec's once
 * they have them (the session times its sender reports in their clock
 * rate). Before, they get the rate of the negotiated rtpmap
 * (@user_data), not the audio's: webrtcbin takes only what was
 * negotiated. */
static GstPadProbeReturn
dtmf_caps_as_negotiated (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  GstCaps *caps;
  GstPad *peer;
  const gchar *name;
  gboolean have_caps;

  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  gst_event_parse_caps (event, &caps);
  name = gst_structure_get_string (gst_caps_get_structure (caps, 0),
      "encoding-name");
  if (name == NULL || g_ascii_strcasecmp (name, "TELEPHONE-EVENT") != 0)
    return GST_PAD_PROBE_OK;
  peer = gst_pad_get_peer (pad);
  have_caps = peer && gst_pad_has_current_caps (peer);
  gst_clear_object (&peer);
  if (have_caps)
    return GST_PAD_PROBE_DROP;
  caps = gst_caps_copy (caps);
  gst_caps_set_simple (caps, "clock-rate", G_TYPE_INT,
      GPOINTER_TO_INT (user_data), NULL);
  gst_event_unref (event);
  GST_PAD_PROBE_INFO_DATA (info) = gst_event_new_caps (caps);
  gst_caps_unref (caps);
  return GST_PAD_PROBE_OK;
}

/**
 * webrtc_call_codec_make_sender:
 * @pt: the negotiated payload type
 * @ssrc: the SSRC our SDP announced for this stream
 * @input: (nullable): caps of what the user feeds the sink pad
 * @stereo: Opus: the answer says we send stereo (sprop-stereo=1): raw
 *     input is made two channels, so that the payloader says so too
 * @dtmf_pt: the negotiated telephone-event payload type, or -1: the RTP
 *     goes through an rtpdtmfmux whose priority pad an rtpdtmfsrc named
 *     "dtmfsrc" feeds (RFC 4733 events in the same stream); it stays in
 *     NULL, its state locked, until tones play (webrtccall-dtmf.c)
 * @dtmf_rate: the clock rate of @dtmf_pt's rtpmap: rtpdtmfmux muxes one
 *     clock rate, so the events are timed in the codec's, and when the
 *     rtpmap says another (8000 with Opus) their caps say that one to
 *     webrtcbin, which takes only what was negotiated
 *
 * Raw input is converted and encoded; MJPEG is decoded first; input
 * already in @codec is only parsed and payloaded. Before the encoder of
 * raw input, an element named "mute" (videobalance, volume) can make it
 * black or silent: webrtc_call_codec_set_muted().
 *
 * Returns: (transfer floating) (nullable): a bin with one sink and one src
 */
GstElement *
webrtc_call_codec_make_sender (const WebrtcCallCodec * codec, gint pt,
    guint32 ssrc, const GstCaps * input, gboolean stereo, gint dtmf_pt,
    gint dtmf_rate, GError ** error)
{
  const gchar *name = NULL;
  const gchar *encoder = first_available (codec->encoders);
  const gchar *queue;
  gchar *encoded_name, *desc, *what;
  GstElement *bin;

  if (input && gst_caps_get_size (input) > 0)
    name = gst_structure_get_name (gst_caps_get_structure (input, 0));
  encoded_name = g_strndup (codec->encoded_caps, strcspn (codec->encoded_caps,
          ","));

  /* Video: a queue that drops rather than lets the encoder (milliseconds
   * a frame) delay capture. Audio encodes in the application's thread:
   * Opus takes ~0.2 ms a packet, and a thread per call is not worth it */
  queue = g_str_equal (codec->media, "video") ? "queue max-size-buffers=3 "
      "max-size-bytes=0 max-size-time=0 leaky=downstream ! " : "";

  if (name && g_str_equal (name, encoded_name)) {
    desc = g_strdup_printf ("%s%s%s%s pt=%d ssrc=%u", queue,
        codec->parser ? codec->parser : "", codec->parser ? " ! " : "",
        codec->payloader, pt, ssrc);
  } else if (name == NULL || g_str_has_suffix (name, "/x-raw")
      || g_str_equal (name, "image/jpeg")) {
    gboolean jpeg = name && g_str_equal (name, "image/jpeg");

    stereo = stereo && g_str_equal (codec->name, "OPUS");
    /* "mute": black or silence while video-muted / audio-muted
     * (passthrough otherwise) */
    desc = g_strdup_printf ("%s%s%s%s ! %s ! %s ! %s pt=%d ssrc=%u", queue,
        jpeg ? "jpegdec ! " : "", codec->pre_encoder,
        stereo ? ",channels=2" : "", g_str_equal (codec->media, "video") ?
        "videobalance name=mute" : "volume name=mute", encoder,
        codec->payloader, pt, ssrc);
  } else {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
        "cannot send %s input in a call that negotiated %s: feed raw media, "
        "image/jpeg, or %s", name, codec->name, encoded_name);
    g_free (encoded_name);
    return NULL;
  }

  if (dtmf_pt >= 0) {
    gchar *plain = desc;

    /* the capsfilter: rtpdtmfsrc takes its rate and payload type from
     * downstream caps first, and webrtcbin's list every telephone-event */
    desc = g_strdup_printf ("%s ! rtpdtmfmux name=dtmfmux ssrc=%u "
        "rtpdtmfsrc name=dtmfsrc pt=%d clock-rate=%d ssrc=%u packet-redundancy=3 ! "
        "application/x-rtp,media=audio,encoding-name=TELEPHONE-EVENT,"
        "clock-rate=%d,payload=%d ! dtmfmux.priority_sink_0", plain, ssrc,
        dtmf_pt, codec->clock_rate, ssrc, codec->clock_rate, dtmf_pt);
    g_free (plain);
  }

  what = g_strdup_printf ("%s sender", codec->name);
  bin = make_bin (desc, what, error);
  if (bin && dtmf_pt >= 0) {
    GstElement *mux = gst_bin_get_by_name (GST_BIN (bin), "dtmfmux");
    GstElement *dtmfsrc = gst_bin_get_by_name (GST_BIN (bin), "dtmfsrc");
    GstPad *src = gst_element_get_static_pad (mux, "src");

    gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        dtmf_caps_as_negotiated, GINT_TO_POINTER (dtmf_rate > 0 ? dtmf_rate :
            codec->clock_rate), NULL);
    /* its thread runs only while tones play (webrtccall-dtmf.c) */
    gst_element_set_locked_state (dtmfsrc, TRUE);
    gst_object_unref (src);
    gst_object_unref (dtmfsrc);
    gst_object_unref (mux);
  }
  g_free (what);
  g_free (desc);
  g_free (encoded_name);
  return bin;
}

gboolean
webrtc_call_codec_can_mute (GstElement * sender)
{
  GstElement *mute = gst_bin_get_by_name (GST_BIN (sender), "mute");

  if (mute)
    gst_object_unref (mute);
  return mute != NULL;
}

/**
 * webrtc_call_codec_set_muted:
 * @sender: from webrtc_call_codec_make_sender()
 *
 * Returns: FALSE if @sender cannot mute (encoded input: no "mute")
 */
gboolean
webrtc_call_codec_set_muted (GstElement * sender, gboolean muted)
{
  GstElement *mute = gst_bin_get_by_name (GST_BIN (sender), "mute");

  if (mute == NULL)
    return FALSE;
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (mute), "mute"))
    g_object_set (mute, "mute", muted, NULL);
  else
    /* black: no light, no contrast, no colour */
    g_object_set (mute, "brightness", muted ? -1.0 : 0.0,
        "contrast", muted ? 0.0 : 1.0, "saturation", muted ? 0.0 : 1.0, NULL);
  gst_object_unref (mute);
  return TRUE;
}

/**
 * webrtc_call_codec_make_receiver:
 * @encoded: stop after depayloading (and parsing) instead of decoding
 *
 * Returns: (transfer floating) (nullable): a bin with one sink and one src
 */
GstElement *
webrtc_call_codec_make_receiver (const WebrtcCallCodec * codec,
    gboolean encoded, GError ** error)
{
  gchar *desc, *what;
  GstElement *bin;

  if (encoded)
    desc = g_strdup_printf ("%s%s%s", codec->depayloader,
        codec->parser ? " ! " : "", codec->parser ? codec->parser : "");
  else
    desc = g_strdup_printf ("%s%s%s ! %s", codec->depayloader,
        codec->parser ? " ! " : "", codec->parser ? codec->parser : "",
        first_available (codec->decoders));

  what = g_strdup_printf ("%s receiver", codec->name);
  bin = make_bin (desc, what, error);
  g_free (what);
  g_free (desc);
  return bin;
}
