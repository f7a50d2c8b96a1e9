/* Codec choice: which codec and payload type a call picks from an m-line
 *
 * gst/webrtccall-codecs.c is compiled into this test (no plugin needed):
 * each table row is an m-line as Chromium or a SIP gateway writes it and
 * our preference string, and what webrtc_call_codecs_choose() /
 * webrtc_call_codecs_negotiated() / webrtc_call_codecs_offer_caps() must
 * make of it. A codec counts only if its GStreamer elements are installed
 * (scripts/setup.sh installs them all: vp8enc, openh264enc, opusenc,
 * mulawenc, alawenc and their decoders).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/sdp/sdp.h>
#include <string.h>

#include "webrtccall-codecs.h"

/* webrtccall-codecs.c logs in the element's category */
GST_DEBUG_CATEGORY (gst_webrtc_call_debug);

#define SESSION "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"

/* Chromium 1xx: VP8, VP9 and the H264 profiles it offers, in its order.
 * Baseline (42001f) comes before constrained baseline (42e01f); 4d001f is
 * main profile, which our encoders do not make. Session attributes (mid,
 * ssrc, extmap, rtcp-fb transport-cc) must not end up in the caps. */
#define CHROMIUM_VIDEO \
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 102 103 104 106 108 127 39\r\n" \
  "c=IN IP4 0.0.0.0\r\n" \
  "a=mid:1\r\n" \
  "a=sendrecv\r\n" \
  "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n" \
  "a=rtpmap:96 VP8/90000\r\n" \
  "a=rtcp-fb:96 goog-remb\r\n" \
  "a=rtcp-fb:96 transport-cc\r\n" \
  "a=rtcp-fb:96 ccm fir\r\n" \
  "a=rtcp-fb:96 nack\r\n" \
  "a=rtcp-fb:96 nack pli\r\n" \
  "a=rtpmap:97 rtx/90000\r\n" \
  "a=fmtp:97 apt=96\r\n" \
  "a=rtpmap:98 VP9/90000\r\n" \
  "a=fmtp:98 profile-id=0\r\n" \
  "a=rtpmap:102 H264/90000\r\n" \
  "a=rtcp-fb:102 nack\r\n" \
  "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;" \
  "profile-level-id=42001f\r\n" \
  "a=rtpmap:103 rtx/90000\r\n" \
  "a=fmtp:103 apt=102\r\n" \
  "a=rtpmap:104 H264/90000\r\n" \
  "a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;" \
  "profile-level-id=42001f\r\n" \
  "a=rtpmap:106 H264/90000\r\n" \
  "a=rtcp-fb:106 nack\r\n" \
  "a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;" \
  "profile-level-id=42e01f\r\n" \
  "a=rtpmap:108 H264/90000\r\n" \
  "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=0;" \
  "profile-level-id=42e01f\r\n" \
  "a=rtpmap:127 H264/90000\r\n" \
  "a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;" \
  "profile-level-id=4d001f\r\n" \
  "a=rtpmap:39 H264/90000\r\n" \
  "a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;" \
  "profile-level-id=4d001f\r\n" \
  "a=ssrc:1001 cname:chromium\r\n"

/* Chromium's H264 lines without VP8, and without constrained baseline */
#define H264_BASELINE_ONLY \
  "m=video 9 UDP/TLS/RTP/SAVPF 102 127\r\n" \
  "a=rtpmap:102 H264/90000\r\n" \
  "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;" \
  "profile-level-id=42001f\r\n" \
  "a=rtpmap:127 H264/90000\r\n" \
  "a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;" \
  "profile-level-id=4d001f\r\n"

#define H264_MAIN_ONLY \
  "m=video 9 UDP/TLS/RTP/SAVPF 127\r\n" \
  "a=rtpmap:127 H264/90000\r\n" \
  "a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;" \
  "profile-level-id=4d001f\r\n"

/* Constrained baseline, but single NAL mode (packetization-mode 0) */
#define H264_MODE0_ONLY \
  "m=video 9 UDP/TLS/RTP/SAVPF 108\r\n" \
  "a=rtpmap:108 H264/90000\r\n" \
  "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=0;" \
  "profile-level-id=42e01f\r\n"

/* Chromium's audio: Opus first, RED, G722, G.711, CN, telephone-event */
#define CHROMIUM_AUDIO \
  "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n" \
  "c=IN IP4 0.0.0.0\r\n" \
  "a=mid:0\r\n" \
  "a=sendrecv\r\n" \
  "a=rtpmap:111 opus/48000/2\r\n" \
  "a=rtcp-fb:111 transport-cc\r\n" \
  "a=fmtp:111 minptime=10;useinbandfec=1\r\n" \
  "a=rtpmap:63 red/48000/2\r\n" \
  "a=fmtp:63 111/111\r\n" \
  "a=rtpmap:9 G722/8000\r\n" \
  "a=rtpmap:0 PCMU/8000\r\n" \
  "a=rtpmap:8 PCMA/8000\r\n" \
  "a=rtpmap:13 CN/8000\r\n" \
  "a=rtpmap:110 telephone-event/48000\r\n" \
  "a=rtpmap:126 telephone-event/8000\r\n" \
  "a=ssrc:2002 cname:chromium\r\n"

/* A SIP gateway: G.711 only, A-law first, DTMF events */
#define GATEWAY_AUDIO \
  "m=audio 40000 RTP/AVP 8 0 101\r\n" \
  "c=IN IP4 10.0.0.1\r\n" \
  "a=rtpmap:8 PCMA/8000\r\n" \
  "a=rtpmap:0 PCMU/8000\r\n" \
  "a=rtpmap:101 telephone-event/8000\r\n" \
  "a=fmtp:101 0-16\r\n" \
  "a=ptime:20\r\n"

/* telephone-event as the first format, before the one codec */
#define EVENTS_FIRST \
  "m=audio 40000 RTP/AVP 101 0\r\n" \
  "a=rtpmap:101 telephone-event/8000\r\n" \
  "a=fmtp:101 0-16\r\n" \
  "a=rtpmap:0 PCMU/8000\r\n"

/* Nothing of ours: VP9 and AV1; G722 and telephone-event */
#define UNKNOWN_VIDEO \
  "m=video 9 UDP/TLS/RTP/SAVPF 98 45\r\n" \
  "a=rtpmap:98 VP9/90000\r\n" \
  "a=rtpmap:45 AV1/90000\r\n"

#define UNKNOWN_AUDIO \
  "m=audio 9 UDP/TLS/RTP/SAVPF 9 126\r\n" \
  "a=rtpmap:9 G722/8000\r\n" \
  "a=rtpmap:126 telephone-event/8000\r\n"

/* Port 0: Chromium's max-bundle m-lines (bundle-only), and a stream the
 * offerer disabled. Whether port 0 rejects the m-line is the caller's
 * decision (it looks at a=bundle-only): the codec choice itself is the
 * same as with a port, so a bundled m-line still gets its codec. */
#define BUNDLE_ONLY_VIDEO \
  "m=video 0 UDP/TLS/RTP/SAVPF 96 106\r\n" \
  "a=bundle-only\r\n" \
  "a=mid:1\r\n" \
  "a=rtpmap:96 VP8/90000\r\n" \
  "a=rtpmap:106 H264/90000\r\n" \
  "a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;" \
  "profile-level-id=42e01f\r\n"

#define DISABLED_AUDIO \
  "m=audio 0 RTP/AVP 0 8\r\n" \
  "a=rtpmap:0 PCMU/8000\r\n" \
  "a=rtpmap:8 PCMA/8000\r\n"

typedef struct
{
  const gchar *name;
  const gchar *mline;
  const gchar *preferences;
  const gchar *codec;           /* expected encoding name, NULL: none */
  gint pt;
} ChooseCase;

static const ChooseCase choose_cases[] = {
  /* the default preferences against Chromium */
  {"chromium-video-default", CHROMIUM_VIDEO, "VP8,H264", "VP8", 96},
  {"chromium-audio-default", CHROMIUM_AUDIO, "OPUS,PCMU,PCMA", "OPUS", 111},
  /* H264: constrained baseline wherever it is, before plain baseline */
  {"chromium-h264-constrained-first", CHROMIUM_VIDEO, "H264", "H264", 106},
  {"chromium-h264-before-vp8", CHROMIUM_VIDEO, "H264,VP8", "H264", 106},
  {"h264-baseline-if-no-constrained", H264_BASELINE_ONLY, "H264", "H264",
      102},
  {"h264-main-profile-only", H264_MAIN_ONLY, "H264", NULL, -1},
  {"h264-main-profile-then-vp8", H264_MAIN_ONLY, "H264,VP8", NULL, -1},
  {"h264-packetization-mode-0", H264_MODE0_ONLY, "H264", NULL, -1},
  /* our order, not the offer's */
  {"chromium-audio-g711", CHROMIUM_AUDIO, "PCMA,PCMU", "PCMA", 8},
  {"chromium-audio-pcmu", CHROMIUM_AUDIO, "PCMU", "PCMU", 0},
  {"gateway-default", GATEWAY_AUDIO, "OPUS,PCMU,PCMA", "PCMU", 0},
  {"gateway-pcma", GATEWAY_AUDIO, "PCMA,PCMU", "PCMA", 8},
  {"gateway-opus-only", GATEWAY_AUDIO, "OPUS", NULL, -1},
  {"telephone-event-first", EVENTS_FIRST, "OPUS,PCMU,PCMA", "PCMU", 0},
  /* nothing in common */
  {"unknown-video", UNKNOWN_VIDEO, "VP8,H264", NULL, -1},
  {"unknown-audio", UNKNOWN_AUDIO, "OPUS,PCMU,PCMA", NULL, -1},
  /* preferences: empty, unknown, of the other media, spelling */
  {"empty-preferences", CHROMIUM_VIDEO, "", NULL, -1},
  {"unknown-preference", CHROMIUM_VIDEO, "FOO", NULL, -1},
  {"unknown-then-known", CHROMIUM_VIDEO, "FOO,H264", "H264", 106},
  {"audio-codec-for-video", CHROMIUM_VIDEO, "OPUS", NULL, -1},
  {"video-codec-for-audio", CHROMIUM_AUDIO, "VP8,H264", NULL, -1},
  {"lower-case-and-spaces", CHROMIUM_AUDIO, " pcmu , opus ", "PCMU", 0},
  /* port 0 */
  {"bundle-only-port-0", BUNDLE_ONLY_VIDEO, "H264,VP8", "H264", 106},
  {"disabled-port-0", DISABLED_AUDIO, "PCMA", "PCMA", 8},
};

static GstSDPMessage *
parse_sdp (const gchar * mline)
{
  GstSDPMessage *sdp;
  gchar *text = g_strconcat (SESSION, mline, NULL);

  fail_unless (gst_sdp_message_new (&sdp) == GST_SDP_OK);
  fail_unless (gst_sdp_message_parse_buffer ((const guint8 *) text,
          strlen (text), sdp) == GST_SDP_OK);
  fail_unless_equals_int (gst_sdp_message_medias_len (sdp), 1);
  g_free (text);
  return sdp;
}

/* The caps only identify the codec: webrtcbin must be able to match them
 * against the offer, which session attributes would prevent */
static gboolean
no_session_field (GQuark field, const GValue * value, gpointer user_data)
{
  const gchar *name = g_quark_to_string (field);

  fail_if (g_str_has_prefix (name, "a-") || g_str_has_prefix (name, "x-")
      || g_str_has_prefix (name, "extmap-") || g_str_has_prefix (name, "ssrc")
      || g_str_equal (name, "rtcp-fb-transport-cc"),
      "the codec caps carry the session attribute \"%s\"", name);
  return TRUE;
}

/* telephone-event formats in an m-line's text */
static guint
count_events (const gchar * mline)
{
  guint n = 0;
  const gchar *p = mline;

  while ((p = strstr (p, "telephone-event/"))) {
    n++;
    p++;
  }
  return n;
}

GST_START_TEST (test_choose)
{
  const ChooseCase *c = &choose_cases[__i__];
  GstSDPMessage *sdp = parse_sdp (c->mline);
  const GstSDPMedia *media = gst_sdp_message_get_media (sdp, 0);
  const WebrtcCallCodec *codec;
  GstCaps *caps = NULL;
  const GstStructure *s;
  gint pt = -1, caps_pt = -1;
  guint i;

  GST_INFO ("%s: \"%s\"", c->name, c->preferences);
  codec = webrtc_call_codecs_choose (media, c->preferences, &pt, &caps);

  if (c->codec == NULL) {
    fail_unless (codec == NULL, "%s: chose %s (pt %d), expected none",
        c->name, codec ? codec->name : "", pt);
    fail_unless (caps == NULL, "%s: caps without a codec", c->name);
    gst_sdp_message_free (sdp);
    return;
  }

  fail_unless (codec != NULL, "%s: no codec chosen, expected %s %d", c->name,
      c->codec, c->pt);
  fail_unless_equals_string (codec->name, c->codec);
  fail_unless_equals_string (codec->media, gst_sdp_media_get_media (media));
  fail_unless (pt == c->pt, "%s: %s with payload type %d, expected %d",
      c->name, codec->name, pt, c->pt);

  /* codec-preferences for the transceiver: the offer's payload type */
  fail_unless (caps != NULL, "%s: no caps", c->name);
  /* the codec, then every telephone-event of an audio offer (RFC 4733) */
  fail_unless_equals_int (gst_caps_get_size (caps), 1 +
      (g_str_equal (codec->media, "audio") ? count_events (c->mline) : 0));
  for (i = 1; i < gst_caps_get_size (caps); i++)
    fail_unless_equals_string (gst_structure_get_string
        (gst_caps_get_structure (caps, i), "encoding-name"),
        "TELEPHONE-EVENT");
  s = gst_caps_get_structure (caps, 0);
  fail_unless (gst_structure_has_name (s, "application/x-rtp"),
      "%s: %" GST_PTR_FORMAT, c->name, caps);
  fail_unless (g_ascii_strcasecmp (gst_structure_get_string (s,
              "encoding-name"), c->codec) == 0, "%s: %" GST_PTR_FORMAT,
      c->name, caps);
  fail_unless (gst_structure_get_int (s, "payload", &caps_pt));
  fail_unless_equals_int (caps_pt, c->pt);
  fail_unless_equals_string (gst_structure_get_string (s, "media"),
      gst_sdp_media_get_media (media));
  gst_structure_foreach (s, no_session_field, NULL);
  if (g_str_equal (c->codec, "H264"))
    fail_unless_equals_string (gst_structure_get_string (s,
            "packetization-mode"), "1");

  gst_caps_unref (caps);
  gst_sdp_message_free (sdp);
}

GST_END_TEST;

/* An answer's m-line: the first format that is a codec we know */
typedef struct
{
  const gchar *name;
  const gchar *mline;
  const gchar *codec;           /* NULL: none */
  gint pt;
} NegotiatedCase;

static const NegotiatedCase negotiated_cases[] = {
  {"vp8-with-rtx", "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"
        "a=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\n"
        "a=fmtp:97 apt=96\r\n", "VP8", 96},
  {"h264", "m=video 9 UDP/TLS/RTP/SAVPF 106\r\n"
        "a=rtpmap:106 H264/90000\r\n"
        "a=fmtp:106 packetization-mode=1;profile-level-id=42e01f\r\n",
      "H264", 106},
  {"opus", "m=audio 9 UDP/TLS/RTP/SAVPF 111 126\r\n"
        "a=rtpmap:111 opus/48000/2\r\n"
        "a=rtpmap:126 telephone-event/8000\r\n", "OPUS", 111},
  {"telephone-event-first", EVENTS_FIRST, "PCMU", 0},
  {"gateway", GATEWAY_AUDIO, "PCMA", 8},
  {"unknown-video", UNKNOWN_VIDEO, NULL, -1},
  {"unknown-audio", UNKNOWN_AUDIO, NULL, -1},
  {"telephone-event-only", "m=audio 9 RTP/AVP 101\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n", NULL, -1},
};

GST_START_TEST (test_negotiated)
{
  const NegotiatedCase *c = &negotiated_cases[__i__];
  GstSDPMessage *sdp = parse_sdp (c->mline);
  const WebrtcCallCodec *codec;
  gint pt = -1;

  codec = webrtc_call_codecs_negotiated (gst_sdp_message_get_media (sdp, 0),
      &pt);
  if (c->codec == NULL) {
    fail_unless (codec == NULL, "%s: negotiated %s (pt %d), expected none",
        c->name, codec ? codec->name : "", pt);
  } else {
    fail_unless (codec != NULL, "%s: nothing negotiated, expected %s",
        c->name, c->codec);
    fail_unless_equals_string (codec->name, c->codec);
    fail_unless (pt == c->pt, "%s: payload type %d, expected %d", c->name,
        pt, c->pt);
  }
  gst_sdp_message_free (sdp);
}

GST_END_TEST;

/* The telephone-event our sender takes in an answered audio m-line */
typedef struct
{
  const gchar *name;
  const gchar *mline;
  gint clock_rate;              /* the audio codec's */
  gint pt;                      /* -1: none */
  gint rate;
} DtmfCase;

static const DtmfCase dtmf_cases[] = {
  /* Chromium: the one at Opus' rate */
  {"chromium", "m=audio 9 UDP/TLS/RTP/SAVPF 111 110 126\r\n"
        "a=rtpmap:111 opus/48000/2\r\na=rtpmap:110 telephone-event/48000\r\n"
        "a=rtpmap:126 telephone-event/8000\r\n", 48000, 110, 48000},
  /* baresip and most SIP phones: only 8000 with Opus, taken */
  {"sip-opus", "m=audio 9 UDP/TLS/RTP/SAVPF 111 126\r\n"
        "a=rtpmap:111 opus/48000/2\r\na=rtpmap:126 telephone-event/8000\r\n",
      48000, 126, 8000},
  {"g711", "m=audio 9 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n", 8000, 101, 8000},
  {"none", "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
        "a=rtpmap:111 opus/48000/2\r\n", 48000, -1, 0},
};

GST_START_TEST (test_dtmf_pt)
{
  const DtmfCase *c = &dtmf_cases[__i__];
  GstSDPMessage *sdp = parse_sdp (c->mline);
  gint rate = -1, pt;

  pt = webrtc_call_codecs_dtmf_pt (gst_sdp_message_get_media (sdp, 0),
      c->clock_rate, &rate);
  fail_unless (pt == c->pt, "%s: payload type %d, expected %d", c->name, pt,
      c->pt);
  fail_unless (rate == c->rate, "%s: rate %d, expected %d", c->name, rate,
      c->rate);
  gst_sdp_message_free (sdp);
}

GST_END_TEST;

/* Caps of our own offer, one structure per codec in preference order */
typedef struct
{
  const gchar *name;
  const gchar *media;
  const gchar *preferences;
  const gchar *codecs;          /* expected "NAME/PT ..." or NULL: an error */
  const gchar *in_error;        /* the error message names it */
} OfferCase;

static const OfferCase offer_cases[] = {
  {"video-default", "video", "VP8,H264", "VP8/96 H264/102", NULL},
  {"video-h264-first", "video", "H264,VP8", "H264/102 VP8/96", NULL},
  /* and RFC 4733 telephone-event at Opus' rate and G.711's */
  {"audio-default", "audio", "OPUS,PCMU,PCMA", "OPUS/111 PCMU/0 PCMA/8 "
        "TELEPHONE-EVENT/110 TELEPHONE-EVENT/126", NULL},
  {"audio-opus", "audio", "OPUS", "OPUS/111 TELEPHONE-EVENT/110 "
        "TELEPHONE-EVENT/126", NULL},
  /* G.711 only: no telephone-event/48000 */
  {"audio-g711", "audio", "pcma, pcmu", "PCMA/8 PCMU/0 TELEPHONE-EVENT/126",
      NULL},
  {"unknown", "video", "FOO", NULL, "\"FOO\""},
  {"unknown-among-known", "audio", "OPUS,FOO", NULL, "\"FOO\""},
  {"audio-codec-for-video", "video", "OPUS", NULL, "\"OPUS\""},
  {"video-codec-for-audio", "audio", "VP8", NULL, "\"VP8\""},
  {"empty", "video", "", NULL, "video"},
};

GST_START_TEST (test_offer_caps)
{
  const OfferCase *c = &offer_cases[__i__];
  GError *error = NULL;
  GstCaps *caps;
  GString *got;
  guint i;

  caps = webrtc_call_codecs_offer_caps (c->media, c->preferences, &error);
  if (c->codecs == NULL) {
    fail_unless (caps == NULL, "%s: %" GST_PTR_FORMAT ", expected an error",
        c->name, caps);
    fail_unless (error != NULL, "%s: NULL without an error", c->name);
    fail_unless (error->domain == GST_CORE_ERROR, "%s: %s", c->name,
        g_quark_to_string (error->domain));
    fail_unless (strstr (error->message, c->in_error) != NULL,
        "%s: error \"%s\" does not name %s", c->name, error->message,
        c->in_error);
    g_clear_error (&error);
    return;
  }

  fail_unless (caps != NULL, "%s: %s", c->name,
      error ? error->message : "no caps, no error");
  fail_unless (error == NULL);
  got = g_string_new (NULL);
  for (i = 0; i < gst_caps_get_size (caps); i++) {
    const GstStructure *s = gst_caps_get_structure (caps, i);
    gint pt = -1, rate = 0;

    fail_unless (gst_structure_has_name (s, "application/x-rtp"));
    fail_unless_equals_string (gst_structure_get_string (s, "media"), c->media);
    fail_unless (gst_structure_get_int (s, "payload", &pt));
    fail_unless (gst_structure_get_int (s, "clock-rate", &rate) && rate > 0);
    g_string_append_printf (got, "%s%s/%d", i ? " " : "",
        gst_structure_get_string (s, "encoding-name"), pt);
    if (g_str_equal (gst_structure_get_string (s, "encoding-name"), "H264")) {
      /* what Chromium needs to pick it: constrained baseline, mode 1 */
      fail_unless_equals_string (gst_structure_get_string (s,
              "packetization-mode"), "1");
      fail_unless_equals_string (gst_structure_get_string (s,
              "profile-level-id"), "42e01f");
    }
  }
  fail_unless_equals_string (got->str, c->codecs);
  g_string_free (got, TRUE);
  gst_caps_unref (caps);
}

GST_END_TEST;

static Suite *
codecs_suite (void)
{
  Suite *s = suite_create ("codecs");
  TCase *tc = tcase_create ("codecs");

  GST_DEBUG_CATEGORY_INIT (gst_webrtc_call_debug, "webrtccall", 0,
      "webrtccall codecs (test)");
  suite_add_tcase (s, tc);
  tcase_add_loop_test (tc, test_choose, 0, G_N_ELEMENTS (choose_cases));
  tcase_add_loop_test (tc, test_negotiated, 0, G_N_ELEMENTS (negotiated_cases));
  tcase_add_loop_test (tc, test_offer_caps, 0, G_N_ELEMENTS (offer_cases));
  tcase_add_loop_test (tc, test_dtmf_pt, 0, G_N_ELEMENTS (dtmf_cases));
  return s;
}

GST_CHECK_MAIN (codecs);
