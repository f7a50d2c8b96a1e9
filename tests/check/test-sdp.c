/* Unit tests for gst/wtspsdp.c: the SDP and id helpers the call element
 * and the reference server share.
 *
 * Table-driven: one row per question and the answer it must get.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/check/gstcheck.h>
#include "wtspsdp.h"

/* Four m-lines: an audio one, a BUNDLE-only video one (port 0, not
 * rejected), a rejected video one, and one without a mid */
#define TEST_SDP \
  "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" \
  "a=group:BUNDLE a0 v1\r\n" \
  "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n" \
  "a=rtpmap:111 opus/48000/2\r\na=mid:a0\r\na=sendrecv\r\n" \
  "a=end-of-candidates\r\n" \
  "m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n" \
  "a=rtpmap:96 VP8/90000\r\na=mid:v1\r\na=bundle-only\r\na=recvonly\r\n" \
  "m=video 0 UDP/TLS/RTP/SAVPF 97\r\nc=IN IP4 0.0.0.0\r\n" \
  "a=rtpmap:97 H264/90000\r\na=mid:v2\r\na=inactive\r\n" \
  "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n" \
  "c=IN IP4 0.0.0.0\r\na=sctp-port:5000\r\n"

static GstSDPMessage *
parse_sdp (void)
{
  GstSDPMessage *sdp;

  fail_unless_equals_int (gst_sdp_message_new_from_text (TEST_SDP, &sdp),
      GST_SDP_OK);
  fail_unless_equals_int (gst_sdp_message_medias_len (sdp), 4);
  return sdp;
}

static JsonObject *
parse_object (const gchar * json)
{
  JsonNode *node = json_from_string (json, NULL);
  JsonObject *object;

  fail_unless (node != NULL && JSON_NODE_HOLDS_OBJECT (node), "%s", json);
  object = json_object_ref (json_node_get_object (node));
  json_node_unref (node);
  return object;
}

GST_START_TEST (test_media_attributes)
{
  static const struct
  {
    guint mline;
    const gchar *key;
    gboolean has;
  } rows[] = {
    {0, "mid", TRUE},
    {0, "sendrecv", TRUE},
    {0, "end-of-candidates", TRUE},     /* an attribute without a value */
    {0, "recvonly", FALSE},
    {0, "group", FALSE},        /* a session attribute, not a media one */
    {1, "bundle-only", TRUE},
    {1, "recvonly", TRUE},
    {1, "sendrecv", FALSE},
    {2, "inactive", TRUE},
    {2, "bundle-only", FALSE},
    {3, "sctp-port", TRUE},
    {3, "mid", FALSE},
    {3, "", FALSE},
  };
  GstSDPMessage *sdp = parse_sdp ();
  guint i;

  for (i = 0; i < G_N_ELEMENTS (rows); i++)
    fail_unless_equals_int (wtsp_sdp_media_has_attribute
        (gst_sdp_message_get_media (sdp, rows[i].mline), rows[i].key),
        rows[i].has);
  gst_sdp_message_free (sdp);
}

GST_END_TEST;

GST_START_TEST (test_media_rejected)
{
  static const gboolean rejected[] = {
    FALSE,                      /* port 9 */
    FALSE,                      /* port 0, a=bundle-only: in the BUNDLE */
    TRUE,                       /* port 0 */
    FALSE,                      /* port 9, no mid */
  };
  GstSDPMessage *sdp = parse_sdp ();
  guint i;

  for (i = 0; i < G_N_ELEMENTS (rejected); i++)
    fail_unless_equals_int (wtsp_sdp_media_rejected
        (gst_sdp_message_get_media (sdp, i)), rejected[i]);
  gst_sdp_message_free (sdp);
}

GST_END_TEST;

GST_START_TEST (test_mids)
{
  static const struct
  {
    const gchar *mid;
    gint mline;
  } by_mid[] = {
    {"a0", 0}, {"v1", 1}, {"v2", 2}, {"zz", -1}, {"", -1}, {"A0", -1},
    {NULL, -1},
  };
  static const struct
  {
    guint mline;
    const gchar *mid;
  } by_mline[] = {
    {0, "a0"}, {1, "v1"}, {2, "v2"}, {3, NULL}, {4, NULL}, {G_MAXUINT, NULL},
  };
  GstSDPMessage *sdp = parse_sdp ();
  guint i;

  for (i = 0; i < G_N_ELEMENTS (by_mid); i++) {
    fail_unless_equals_int (wtsp_sdp_mline_for_mid (sdp, by_mid[i].mid),
        by_mid[i].mline);
    fail_unless_equals_int (wtsp_sdp_mline_for_mid (NULL, by_mid[i].mid), -1);
  }
  for (i = 0; i < G_N_ELEMENTS (by_mline); i++) {
    fail_unless_equals_string (wtsp_sdp_mid_for_mline (sdp,
            by_mline[i].mline), by_mline[i].mid);
    fail_unless (wtsp_sdp_mid_for_mline (NULL, by_mline[i].mline) == NULL);
  }
  gst_sdp_message_free (sdp);
}

GST_END_TEST;

GST_START_TEST (test_candidate_mline)
{
  static const struct
  {
    const gchar *candidate;
    gboolean with_sdp;          /* FALSE: the SDP is not known yet */
    gint mline;
  } rows[] = {
    /* JSEP: sdpMid first when a section has it */
    {"{\"candidate\":\"c\",\"sdpMid\":\"v1\",\"sdpMLineIndex\":0}", TRUE, 1},
    {"{\"candidate\":\"c\",\"sdpMid\":\"a0\",\"sdpMLineIndex\":2}", TRUE, 0},
    {"{\"candidate\":\"c\",\"sdpMid\":\"v2\"}", TRUE, 2},
    {"{\"candidate\":\"c\",\"sdpMid\":\"a0\",\"sdpMLineIndex\":null}", TRUE,
        0},
    /* else sdpMLineIndex, if the SDP has that section */
    {"{\"candidate\":\"c\",\"sdpMLineIndex\":3}", TRUE, 3},
    {"{\"candidate\":\"c\",\"sdpMid\":null,\"sdpMLineIndex\":1}", TRUE, 1},
    {"{\"candidate\":\"c\",\"sdpMid\":\"zz\",\"sdpMLineIndex\":2}", TRUE, 2},
    {"{\"candidate\":\"c\",\"sdpMLineIndex\":4}", TRUE, -1},
    {"{\"candidate\":\"c\",\"sdpMLineIndex\":-1}", TRUE, -1},
    {"{\"candidate\":\"c\",\"sdpMLineIndex\":4294967296}", TRUE, -1},
    /* neither */
    {"{\"candidate\":\"c\",\"sdpMid\":\"zz\"}", TRUE, -1},
    {"{\"candidate\":\"c\"}", TRUE, -1},
    {"{\"completed\":true}", TRUE, -1},
    {"{\"candidate\":\"c\",\"sdpMid\":null,\"sdpMLineIndex\":null}", TRUE, -1},
    /* members of the wrong type count as absent */
    {"{\"candidate\":\"c\",\"sdpMid\":0,\"sdpMLineIndex\":\"1\"}", TRUE, -1},
    {"{\"candidate\":\"c\",\"sdpMid\":[\"a0\"],\"sdpMLineIndex\":1.0}", TRUE,
        -1},
    /* no SDP yet: no mid can be known; an index is taken as it is */
    {"{\"candidate\":\"c\",\"sdpMid\":\"a0\",\"sdpMLineIndex\":7}", FALSE, 7},
    {"{\"candidate\":\"c\",\"sdpMid\":\"a0\"}", FALSE, -1},
    {"{\"candidate\":\"c\",\"sdpMLineIndex\":-3}", FALSE, -1},
  };
  GstSDPMessage *sdp = parse_sdp ();
  guint i;

  for (i = 0; i < G_N_ELEMENTS (rows); i++) {
    JsonObject *candidate = parse_object (rows[i].candidate);
    gint mline = wtsp_sdp_candidate_mline (rows[i].with_sdp ? sdp : NULL,
        candidate);

    fail_unless (mline == rows[i].mline, "row %u %s%s: m-line %d, not %d", i,
        rows[i].candidate, rows[i].with_sdp ? "" : " (no SDP)", mline,
        rows[i].mline);
    json_object_unref (candidate);
  }
  gst_sdp_message_free (sdp);
}

GST_END_TEST;

GST_START_TEST (test_random_id)
{
  static const guint lengths[] = { 0, 1, 16, WTSP_CALL_ID_LENGTH, 200 };
  GHashTable *seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  guint i, j;

  for (i = 0; i < G_N_ELEMENTS (lengths); i++) {
    gchar *id = wtsp_random_id (lengths[i]);

    fail_unless_equals_int (strlen (id), lengths[i]);
    for (j = 0; j < lengths[i]; j++)
      fail_unless (g_ascii_isalnum (id[j]), "%s: '%c' is not alphanumeric",
          id, id[j]);
    g_free (id);
  }

  /* 62^24 ids: 1000 of them never collide, and use the whole alphabet */
  for (i = 0; i < 1000; i++) {
    gchar *id = wtsp_random_id (WTSP_CALL_ID_LENGTH);

    fail_if (g_hash_table_contains (seen, id), "%s twice", id);
    g_hash_table_add (seen, id);
  }
  {
    GHashTableIter iter;
    gpointer key;
    gboolean chars[128] = { FALSE, };
    guint n = 0;

    g_hash_table_iter_init (&iter, seen);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      for (j = 0; ((gchar *) key)[j]; j++)
        chars[(guchar) ((gchar *) key)[j]] = TRUE;
    for (j = 0; j < 128; j++)
      n += chars[j];
    fail_unless_equals_int (n, 62);
  }
  g_hash_table_unref (seen);
}

GST_END_TEST;

/* A rejected m-line of webrtcbin's answer with the offerer's lines in it,
 * and the answer's own fingerprint on the other */
#define ANSWER_SDP \
  "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" \
  "m=video 0 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 10.0.0.1\r\na=mid:v0\r\n" \
  "a=ssrc:1 cname:janus\r\na=candidate:1 1 udp 1 10.0.0.1 3 typ host\r\n" \
  "a=end-of-candidates\r\na=fingerprint:sha-256 AA\r\n" \
  "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:a1\r\n" \
  "a=rtpmap:111 OPUS/48000/2\r\na=recvonly\r\na=fingerprint:sha-256 BB\r\n"

GST_START_TEST (test_clean_rejected)
{
  GstSDPMessage *sdp;
  const GstSDPMedia *v, *a;

  fail_unless_equals_int (gst_sdp_message_new_from_text (ANSWER_SDP, &sdp),
      GST_SDP_OK);
  fail_unless (wtsp_sdp_clean_rejected (sdp));
  v = gst_sdp_message_get_media (sdp, 0);
  a = gst_sdp_message_get_media (sdp, 1);
  /* the offerer's lines gone, our fingerprint in their place */
  fail_if (wtsp_sdp_media_has_attribute (v, "ssrc"));
  fail_if (wtsp_sdp_media_has_attribute (v, "candidate"));
  fail_if (wtsp_sdp_media_has_attribute (v, "end-of-candidates"));
  fail_unless_equals_string (gst_sdp_media_get_attribute_val (v,
          "fingerprint"), "sha-256 BB");
  fail_unless_equals_string (gst_sdp_media_get_attribute_val (v, "mid"),
      "v0");
  /* the m-line in use untouched */
  fail_unless_equals_int (gst_sdp_media_attributes_len (a), 4);
  fail_unless_equals_string (gst_sdp_media_get_attribute_val (a,
          "fingerprint"), "sha-256 BB");
  gst_sdp_message_free (sdp);

  /* nothing rejected: nothing changes (the BUNDLE-only one is in use) */
  {
    /* TEST_SDP's audio and BUNDLE-only video m-lines */
    gchar *two = g_strndup (TEST_SDP,
        strstr (TEST_SDP, "m=video 0 UDP/TLS/RTP/SAVPF 97") - TEST_SDP);

    fail_unless_equals_int (gst_sdp_message_new_from_text (two, &sdp),
        GST_SDP_OK);
    fail_unless_equals_int (gst_sdp_message_medias_len (sdp), 2);
    fail_if (wtsp_sdp_clean_rejected (sdp));
    gst_sdp_message_free (sdp);
    g_free (two);
  }
}

GST_END_TEST;

GST_START_TEST (test_unclash_rejected)
{
  /* the m-lines of a far end's SDP, and the first one's formats after */
  static const struct
  {
    const gchar *video;
    const gchar *audio;
    gboolean changed;
    const gchar *video_formats;
  } rows[] = {
    /* baresip, G.711 only: its rejected video lists PCMU */
    {"m=video 0 RTP/AVP 0\r\n", "m=audio 4000 RTP/AVP 0 126\r\n"
          "a=rtpmap:126 telephone-event/8000\r\n", TRUE, "127"},
    /* 127 taken: the next free one */
    {"m=video 0 RTP/AVP 0\r\n", "m=audio 4000 RTP/AVP 0 127\r\n"
          "a=rtpmap:127 telephone-event/8000\r\n", TRUE, "126"},
    /* a rejected m-line with its own rtpmap and a clash */
    {"m=video 0 RTP/AVP 96 0\r\na=rtpmap:96 VP8/90000\r\n"
          "a=rtcp-fb:96 nack\r\n", "m=audio 4000 RTP/AVP 0\r\n", TRUE,
        "127"},
    /* no clash: left alone */
    {"m=video 0 RTP/AVP 96\r\n", "m=audio 4000 RTP/AVP 0\r\n", FALSE, "96"},
    /* accepted video: left alone */
    {"m=video 4002 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n",
        "m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n", FALSE,
        "96"},
    /* bundle-only is not rejected */
    {"m=video 0 RTP/AVP 0\r\na=bundle-only\r\n",
        "m=audio 4000 RTP/AVP 0\r\n", FALSE, "0"},
  };
  guint r;

  for (r = 0; r < G_N_ELEMENTS (rows); r++) {
    gchar *text = g_strconcat ("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n"
        "c=IN IP4 10.0.0.1\r\nt=0 0\r\n", rows[r].video, rows[r].audio,
        NULL);
    GstSDPMessage *sdp;
    const GstSDPMedia *v;
    GString *formats = g_string_new (NULL);
    guint i;

    fail_unless_equals_int (gst_sdp_message_new_from_text (text, &sdp),
        GST_SDP_OK);
    fail_unless_equals_int (wtsp_sdp_unclash_rejected (sdp), rows[r].changed);
    v = gst_sdp_message_get_media (sdp, 0);
    for (i = 0; i < gst_sdp_media_formats_len (v); i++)
      g_string_append_printf (formats, "%s%s", i ? " " : "",
          gst_sdp_media_get_format (v, i));
    fail_unless_equals_string (formats->str, rows[r].video_formats);
    if (rows[r].changed) {
      fail_if (wtsp_sdp_media_has_attribute (v, "rtpmap"));
      fail_if (wtsp_sdp_media_has_attribute (v, "rtcp-fb"));
    }
    /* the accepted m-line is never touched */
    fail_unless (gst_sdp_media_formats_len (gst_sdp_message_get_media (sdp,
                1)) >= 1);
    g_string_free (formats, TRUE);
    gst_sdp_message_free (sdp);
    g_free (text);
  }
}

GST_END_TEST;

GST_START_TEST (test_inactivate_foreign)
{
  /* Janus' answer to our VP8/H.264 + PCMU offer when the SIP phone
   * rejected video: PCMU on an accepted video m-line */
  static const gchar *offer_text = "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\n"
      "s=-\r\nt=0 0\r\na=group:BUNDLE video0 audio1\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96 102\r\nc=IN IP4 0.0.0.0\r\n"
      "a=recvonly\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\n"
      "a=rtpmap:102 H264/90000\r\na=fmtp:102 packetization-mode=1\r\n"
      "a=mid:video0\r\n"
      "m=audio 0 UDP/TLS/RTP/SAVPF 0 126\r\nc=IN IP4 0.0.0.0\r\n"
      "a=bundle-only\r\na=sendrecv\r\na=rtpmap:0 PCMU/8000\r\n"
      "a=rtpmap:126 TELEPHONE-EVENT/8000\r\na=mid:audio1\r\n";
  static const gchar *answer_text = "v=0\r\no=- 2 1 IN IP4 10.99.0.1\r\n"
      "s=-\r\nt=0 0\r\na=group:BUNDLE video0 audio1\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 10.99.0.1\r\n"
      "a=sendrecv\r\na=mid:video0\r\na=rtcp-mux\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 0 126\r\nc=IN IP4 10.99.0.1\r\n"
      "a=sendrecv\r\na=mid:audio1\r\na=rtpmap:0 PCMU/8000\r\n"
      "a=rtpmap:126 telephone-event/8000\r\n";
  GstSDPMessage *offer, *answer;
  const GstSDPMedia *v, *a;
  GstCaps *caps;
  guint i;

  fail_unless_equals_int (gst_sdp_message_new_from_text (offer_text,
          &offer), GST_SDP_OK);
  fail_unless_equals_int (gst_sdp_message_new_from_text (answer_text,
          &answer), GST_SDP_OK);
  fail_unless (wtsp_sdp_inactivate_foreign (answer, offer, TRUE));
  v = gst_sdp_message_get_media (answer, 0);
  a = gst_sdp_message_get_media (answer, 1);
  /* video: still in the bundle, inactive, with the offer's VP8 */
  fail_unless_equals_int (gst_sdp_media_get_port (v), 9);
  fail_unless_equals_int (gst_sdp_media_formats_len (v), 1);
  fail_unless_equals_string (gst_sdp_media_get_format (v, 0), "96");
  fail_unless_equals_string (gst_sdp_media_get_attribute_val (v, "rtpmap"),
      "96 VP8/90000");
  fail_unless (wtsp_sdp_media_has_attribute (v, "inactive"));
  fail_if (wtsp_sdp_media_has_attribute (v, "sendrecv"));
  fail_unless_equals_string (gst_sdp_media_get_attribute_val (v, "mid"),
      "video0");
  /* no attribute without a value: gst_sdp_media_attributes_to_caps()
   * (webrtcbin runs it on every m-line) crashes on one */
  for (i = 0; i < gst_sdp_media_attributes_len (v); i++)
    fail_unless (gst_sdp_media_get_attribute (v, i)->value != NULL);
  caps = gst_sdp_media_get_caps_from_media (v, 96);
  fail_unless (caps != NULL);
  fail_unless_equals_int (gst_sdp_media_attributes_to_caps (v, caps),
      GST_SDP_OK);
  gst_caps_unref (caps);
  /* audio untouched */
  fail_unless_equals_int (gst_sdp_media_formats_len (a), 2);
  fail_unless (wtsp_sdp_media_has_attribute (a, "sendrecv"));
  /* once fixed, nothing more to do */
  fail_if (wtsp_sdp_inactivate_foreign (answer, offer, TRUE));

  /* Janus' re-offer (baresip holds) has the same PCMU video m-line: made
   * as webrtcbin has it from the answer; a codec change on the audio
   * m-line (PCMU only, where Opus was) is no nonsense */
  {
    GstSDPMessage *reoffer;
    const gchar *reoffer_text = "v=0\r\no=- 2 2 IN IP4 10.99.0.1\r\n"
        "s=-\r\nt=0 0\r\na=group:BUNDLE video0 audio1\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 10.99.0.1\r\n"
        "a=sendrecv\r\na=mid:video0\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 8\r\nc=IN IP4 10.99.0.1\r\n"
        "a=sendonly\r\na=mid:audio1\r\na=rtpmap:8 PCMA/8000\r\n";

    fail_unless_equals_int (gst_sdp_message_new_from_text (reoffer_text,
            &reoffer), GST_SDP_OK);
    fail_unless (wtsp_sdp_inactivate_foreign (reoffer, answer, FALSE));
    v = gst_sdp_message_get_media (reoffer, 0);
    a = gst_sdp_message_get_media (reoffer, 1);
    fail_unless_equals_string (gst_sdp_media_get_format (v, 0), "96");
    fail_unless (wtsp_sdp_media_has_attribute (v, "inactive"));
    fail_unless_equals_string (gst_sdp_media_get_format (a, 0), "8");
    fail_unless (wtsp_sdp_media_has_attribute (a, "sendonly"));
    gst_sdp_message_free (reoffer);
  }
  gst_sdp_message_free (answer);
  gst_sdp_message_free (offer);
}

GST_END_TEST;

GST_START_TEST (test_answer_telephone_events)
{
  /* an offer's audio m-line, our answer's, and what the answer ends with */
  static const struct
  {
    const gchar *offer;
    const gchar *answer;
    gboolean changed;
    const gchar *formats;       /* the answer's formats after */
    const gchar *fmtp;          /* its a=fmtp for the added one, or NULL */
  } rows[] = {
    /* Chromium's offer: Opus answered, the 48 kHz event with it */
    {"m=audio 9 UDP/TLS/RTP/SAVPF 111 0 110 126\r\na=rtpmap:111 opus/48000/2\r\n"
          "a=rtpmap:0 PCMU/8000\r\na=rtpmap:110 telephone-event/48000\r\n"
          "a=rtpmap:126 telephone-event/8000\r\na=fmtp:126 0-16\r\n",
          "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 OPUS/48000/2\r\n",
        TRUE, "111 110", "110 0-15"},
    /* G.711 answered: the 8 kHz one, with the offer's fmtp */
    {"m=audio 9 UDP/TLS/RTP/SAVPF 111 0 110 126\r\na=rtpmap:111 opus/48000/2\r\n"
          "a=rtpmap:0 PCMU/8000\r\na=rtpmap:110 telephone-event/48000\r\n"
          "a=rtpmap:126 telephone-event/8000\r\na=fmtp:126 0-16\r\n",
          "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\n",
        TRUE, "0 126", "126 0-16"},
    /* a phone's 101 at 8 kHz only, and Opus answered: no event at 48 kHz */
    {"m=audio 9 RTP/AVP 111 101\r\na=rtpmap:111 opus/48000/2\r\n"
          "a=rtpmap:101 telephone-event/8000\r\n",
          "m=audio 9 RTP/AVP 111\r\na=rtpmap:111 OPUS/48000/2\r\n",
        FALSE, "111", NULL},
    /* already answered */
    {"m=audio 9 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
          "a=rtpmap:101 telephone-event/8000\r\n",
          "m=audio 9 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
          "a=rtpmap:101 telephone-event/8000\r\n", FALSE, "0 101", NULL},
    /* no event offered */
    {"m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
        "m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", FALSE, "0", NULL},
    /* a rejected m-line stays rejected */
    {"m=audio 9 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
          "a=rtpmap:101 telephone-event/8000\r\n",
          "m=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", FALSE, "0", NULL},
    /* video is no business of telephone-event */
    {"m=video 9 RTP/AVP 96 101\r\na=rtpmap:96 VP8/90000\r\n"
          "a=rtpmap:101 telephone-event/90000\r\n",
          "m=video 9 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n", FALSE, "96",
        NULL},
  };
  const gchar *head = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";
  guint r, f, a;

  for (r = 0; r < G_N_ELEMENTS (rows); r++) {
    gchar *ot = g_strconcat (head, rows[r].offer, NULL);
    gchar *at = g_strconcat (head, rows[r].answer, NULL);
    GstSDPMessage *offer, *answer;
    const GstSDPMedia *m;
    GString *formats = g_string_new (NULL);
    const gchar *fmtp = NULL;

    fail_unless_equals_int (gst_sdp_message_new_from_text (ot, &offer),
        GST_SDP_OK);
    fail_unless_equals_int (gst_sdp_message_new_from_text (at, &answer),
        GST_SDP_OK);
    fail_unless_equals_int (wtsp_sdp_answer_telephone_events (answer, offer),
        rows[r].changed);
    m = gst_sdp_message_get_media (answer, 0);
    for (f = 0; f < gst_sdp_media_formats_len (m); f++)
      g_string_append_printf (formats, "%s%s", f ? " " : "",
          gst_sdp_media_get_format (m, f));
    fail_unless_equals_string (formats->str, rows[r].formats);
    for (a = 0; a < gst_sdp_media_attributes_len (m); a++)
      if (g_str_equal (gst_sdp_media_get_attribute (m, a)->key, "fmtp"))
        fmtp = gst_sdp_media_get_attribute (m, a)->value;
    if (rows[r].fmtp)
      fail_unless_equals_string (fmtp, rows[r].fmtp);
    g_string_free (formats, TRUE);
    gst_sdp_message_free (offer);
    gst_sdp_message_free (answer);
    g_free (ot);
    g_free (at);
  }
}

GST_END_TEST;

GST_START_TEST (test_set_direction)
{
  static const struct
  {
    const gchar *direction;
    const gchar *after[4];      /* each m-line's direction, NULL = none */
  } rows[] = {
    {"sendonly", {"sendonly", "sendonly", "inactive", NULL}},
    {"inactive", {"inactive", "inactive", "inactive", NULL}},
    {"recvonly", {"recvonly", "recvonly", "inactive", NULL}},
    {"sendrecv", {"sendrecv", "sendrecv", "inactive", NULL}},
  };
  static const gchar *const directions[] = { "sendrecv", "sendonly",
    "recvonly", "inactive"
  };
  guint r, i, d;

  for (r = 0; r < G_N_ELEMENTS (rows); r++) {
    GstSDPMessage *sdp = parse_sdp ();

    wtsp_sdp_set_direction (sdp, rows[r].direction);
    for (i = 0; i < 4; i++) {
      const GstSDPMedia *m = gst_sdp_message_get_media (sdp, i);
      guint found = 0;

      for (d = 0; d < G_N_ELEMENTS (directions); d++)
        if (wtsp_sdp_media_has_attribute (m, directions[d])) {
          found++;
          fail_unless_equals_string (directions[d], rows[r].after[i]);
        }
      fail_unless_equals_int (found, rows[r].after[i] ? 1 : 0);
    }
    /* the same session, a newer version of it */
    fail_unless_equals_string (gst_sdp_message_get_origin (sdp)->sess_id, "1");
    fail_unless_equals_string (gst_sdp_message_get_origin (sdp)->sess_version,
        "2");
    fail_unless_equals_string (gst_sdp_media_get_attribute_val
        (gst_sdp_message_get_media (sdp, 0), "rtpmap"), "111 opus/48000/2");
    gst_sdp_message_free (sdp);
  }
}

GST_END_TEST;

GST_START_TEST (test_fingerprint_to_media)
{
  static const struct
  {
    const gchar *session;       /* a=fingerprint at session level */
    const gchar *media[2];      /* and in each m-line */
    gboolean changed;
    const gchar *after[2];
  } rows[] = {
    {"sha-256 AA", {NULL, NULL}, TRUE, {"sha-256 AA", "sha-256 AA"}},
    {"sha-256 AA", {"sha-256 CC", NULL}, TRUE, {"sha-256 CC", "sha-256 AA"}},
    {NULL, {"sha-256 CC", NULL}, FALSE, {"sha-256 CC", NULL}},
    {NULL, {NULL, NULL}, FALSE, {NULL, NULL}},
  };
  guint r, i;

  for (r = 0; r < G_N_ELEMENTS (rows); r++) {
    GString *text = g_string_new ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"
        "s=-\r\nt=0 0\r\n");
    GstSDPMessage *sdp;

    if (rows[r].session)
      g_string_append_printf (text, "a=fingerprint:%s\r\n", rows[r].session);
    for (i = 0; i < 2; i++) {
      g_string_append_printf (text, "m=audio 9 RTP/SAVPF 111\r\na=mid:%u\r\n",
          i);
      if (rows[r].media[i])
        g_string_append_printf (text, "a=fingerprint:%s\r\n",
            rows[r].media[i]);
    }
    fail_unless_equals_int (gst_sdp_message_new_from_text (text->str, &sdp),
        GST_SDP_OK);
    fail_unless_equals_int (wtsp_sdp_fingerprint_to_media (sdp),
        rows[r].changed);
    fail_unless (gst_sdp_message_get_attribute_val (sdp, "fingerprint")
        == NULL, "row %u: the session's fingerprint is still there", r);
    for (i = 0; i < 2; i++)
      fail_unless_equals_string (gst_sdp_media_get_attribute_val
          (gst_sdp_message_get_media (sdp, i), "fingerprint"),
          rows[r].after[i]);
    gst_sdp_message_free (sdp);
    g_string_free (text, TRUE);
  }
}

GST_END_TEST;

static Suite *
sdp_suite (void)
{
  Suite *s = suite_create ("sdp");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_media_attributes);
  tcase_add_test (tc, test_media_rejected);
  tcase_add_test (tc, test_mids);
  tcase_add_test (tc, test_candidate_mline);
  tcase_add_test (tc, test_random_id);
  tcase_add_test (tc, test_clean_rejected);
  tcase_add_test (tc, test_unclash_rejected);
  tcase_add_test (tc, test_inactivate_foreign);
  tcase_add_test (tc, test_fingerprint_to_media);
  tcase_add_test (tc, test_set_direction);
  tcase_add_test (tc, test_answer_telephone_events);
  return s;
}

GST_CHECK_MAIN (sdp);
