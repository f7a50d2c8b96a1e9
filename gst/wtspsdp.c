/* WebTrit Signaling Protocol (WTSP): SDP and id helpers
 *
 * The few questions both ends of a WTSP call ask of an SDP: does a media
 * section have an attribute, did the far end reject it, which m-line has
 * which mid, and which m-line a trickled candidate belongs to.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "wtspsdp.h"

#include <stdlib.h>
#include <string.h>

/**
 * wtsp_sdp_media_has_attribute:
 * @media: a media section
 * @key: an attribute name, e.g. "end-of-candidates", "sendonly"
 *
 * Returns: whether @media has an a=@key line, with or without a value
 */
gboolean
wtsp_sdp_media_has_attribute (const GstSDPMedia * media, const gchar * key)
{
  guint i;

  g_return_val_if_fail (media != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  for (i = 0; i < gst_sdp_media_attributes_len (media); i++)
    if (g_strcmp0 (gst_sdp_media_get_attribute (media, i)->key, key) == 0)
      return TRUE;
  return FALSE;
}

/**
 * wtsp_sdp_media_rejected:
 * @media: a media section of an offer or answer
 *
 * Port 0 rejects an m-line (RFC 3264 §6), unless the section is
 * a=bundle-only: then port 0 only says that it is carried by the BUNDLE
 * transport (RFC 8843 §6).
 *
 * Returns: whether @media was rejected
 */
gboolean
wtsp_sdp_media_rejected (const GstSDPMedia * media)
{
  g_return_val_if_fail (media != NULL, FALSE);

  return gst_sdp_media_get_port (media) == 0
      && !wtsp_sdp_media_has_attribute (media, "bundle-only");
}

/**
 * wtsp_sdp_fingerprint_to_media:
 * @sdp: an SDP
 *
 * Moves a session-level a=fingerprint into every m-line that has none, as
 * webrtcbin 1.22 reads it only there (Janus' re-offers put it at session
 * level).
 *
 * Returns: whether @sdp was changed
 */
gboolean
wtsp_sdp_fingerprint_to_media (GstSDPMessage * sdp)
{
  const gchar *value;
  gchar *fingerprint;
  guint i, a;

  g_return_val_if_fail (sdp != NULL, FALSE);

  value = gst_sdp_message_get_attribute_val (sdp, "fingerprint");
  if (value == NULL)
    return FALSE;
  fingerprint = g_strdup (value);
  for (a = 0; a < gst_sdp_message_attributes_len (sdp); a++) {
    if (g_strcmp0 (gst_sdp_message_get_attribute (sdp, a)->key,
            "fingerprint") == 0) {
      gst_sdp_message_remove_attribute (sdp, a);
      break;
    }
  }
  for (i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    GstSDPMedia *m = (GstSDPMedia *) gst_sdp_message_get_media (sdp, i);

    if (!wtsp_sdp_media_has_attribute (m, "fingerprint"))
      gst_sdp_media_add_attribute (m, "fingerprint", fingerprint);
  }
  g_free (fingerprint);
  return TRUE;
}

/**
 * wtsp_sdp_clean_rejected:
 * @sdp: an answer made by webrtcbin
 *
 * webrtcbin 1.22 answers an m-line it rejects with a copy of the offer's,
 * the offerer's DTLS fingerprint, candidates and ssrcs included, and its
 * own check then refuses that answer: every m-line must carry the same
 * fingerprint ("Fingerprint in media 1 differs from previous
 * fingerprint", or "No fingerprint lines in sdp for media 0" when the
 * offer had it at session level). The rejected m-lines lose the offer's
 * lines and get the answer's own fingerprint.
 *
 * Returns: whether @sdp was changed
 */
gboolean
wtsp_sdp_clean_rejected (GstSDPMessage * sdp)
{
  static const gchar *const foreign[] = { "fingerprint", "candidate",
    "end-of-candidates", "ssrc", "msid", NULL
  };
  const gchar *own = NULL;
  gboolean changed = FALSE;
  guint i;

  g_return_val_if_fail (sdp != NULL, FALSE);

  for (i = 0; own == NULL && i < gst_sdp_message_medias_len (sdp); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (sdp, i);

    if (!wtsp_sdp_media_rejected (m))
      own = gst_sdp_media_get_attribute_val (m, "fingerprint");
  }
  for (i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    GstSDPMedia *m = (GstSDPMedia *) gst_sdp_message_get_media (sdp, i);
    guint a = 0;

    if (!wtsp_sdp_media_rejected (m))
      continue;
    while (a < gst_sdp_media_attributes_len (m)) {
      if (g_strv_contains (foreign, gst_sdp_media_get_attribute (m, a)->key)) {
        gst_sdp_media_remove_attribute (m, a);
        changed = TRUE;
      } else {
        a++;
      }
    }
    if (own)
      gst_sdp_media_add_attribute (m, "fingerprint", own);
  }
  return changed;
}

/* Whether @media lists payload type @pt */
static gboolean
media_has_format (const GstSDPMedia * media, gint pt)
{
  guint i;

  for (i = 0; i < gst_sdp_media_formats_len (media); i++)
    if (atoi (gst_sdp_media_get_format (media, i)) == pt)
      return TRUE;
  return FALSE;
}

/* Whether an m-line of @sdp other than @skip (accepted ones only, with
 * @accepted_only) lists @pt */
static gboolean
sdp_has_format (const GstSDPMessage * sdp, gint pt, guint skip,
    gboolean accepted_only)
{
  guint i;

  for (i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (sdp, i);

    if (i != skip && (!accepted_only || !wtsp_sdp_media_rejected (m))
        && media_has_format (m, pt))
      return TRUE;
  }
  return FALSE;
}

/* The media of static payload type @pt (RFC 3551: 0-23 audio, 24-34
 * video), or NULL for a dynamic one */
static const gchar *
static_pt_media (gint pt)
{
  if (pt >= 0 && pt <= 23)
    return "audio";
  if (pt >= 24 && pt <= 34)
    return "video";
  return NULL;
}

/* Whether @m's formats can only be of another media than its own */
static gboolean
formats_of_other_media (const GstSDPMedia * m)
{
  const gchar *media = gst_sdp_media_get_media (m);
  guint f;

  for (f = 0; f < gst_sdp_media_formats_len (m); f++) {
    const gchar *kind = static_pt_media (atoi (gst_sdp_media_get_format (m,
                f)));

    if (kind == NULL || g_strcmp0 (kind, media) == 0)
      return FALSE;
  }
  return gst_sdp_media_formats_len (m) > 0;
}

/**
 * wtsp_sdp_inactivate_foreign:
 * @sdp: the far end's SDP
 * @reference: for an answer, our offer; for a re-offer, the far end's SDP
 *     webrtcbin has
 * @answer: whether @sdp answers @reference
 *
 * Janus' SIP plugin turns a SIP phone's rejected "m=video 0 RTP/AVP 0"
 * into an accepted "m=video 9 ... 0" (sendrecv, PCMU on a video m-line
 * we offered VP8 and H.264 on), in its answer and in every re-offer
 * after it, and webrtcbin 1.22 then maps PCMU to video. An m-line that
 * lists only static payload types of the other media, or, answering, none
 * of the offered ones, is made what it is, a stream where nothing flows:
 * it stays in the BUNDLE (its transport may be the one ICE runs on) but
 * is inactive, with @reference's first payload type and that one's rtpmap
 * and fmtp, so that each re-offer finds the m-line as webrtcbin has it.
 *
 * Returns: whether @sdp was changed
 */
gboolean
wtsp_sdp_inactivate_foreign (GstSDPMessage * sdp,
    const GstSDPMessage * reference, gboolean answer)
{
  static const gchar *const replaced[] = { "rtpmap", "fmtp", "rtcp-fb",
    NULL
  };
  gboolean changed = FALSE;
  guint i;

  g_return_val_if_fail (sdp != NULL && reference != NULL, FALSE);

  for (i = 0; i < gst_sdp_message_medias_len (sdp)
      && i < gst_sdp_message_medias_len (reference); i++) {
    GstSDPMedia *m = (GstSDPMedia *) gst_sdp_message_get_media (sdp, i);
    const GstSDPMedia *r = gst_sdp_message_get_media (reference, i);
    gboolean foreign;
    const gchar *pt;
    guint f, a = 0;

    if (wtsp_sdp_media_rejected (m) || gst_sdp_media_formats_len (m) == 0
        || gst_sdp_media_formats_len (r) == 0
        || g_strcmp0 (gst_sdp_media_get_media (m),
            gst_sdp_media_get_media (r)) != 0)
      continue;
    foreign = formats_of_other_media (m);
    if (answer && !foreign) {
      foreign = TRUE;
      for (f = 0; f < gst_sdp_media_formats_len (m) && foreign; f++)
        foreign = !media_has_format (r, atoi (gst_sdp_media_get_format (m,
                    f)));
    }
    if (!foreign)
      continue;

    while (gst_sdp_media_formats_len (m) > 0)
      gst_sdp_media_remove_format (m, 0);
    while (a < gst_sdp_media_attributes_len (m)) {
      if (g_strv_contains (replaced, gst_sdp_media_get_attribute (m, a)->key))
        gst_sdp_media_remove_attribute (m, a);
      else
        a++;
    }
    pt = gst_sdp_media_get_format (r, 0);
    gst_sdp_media_add_format (m, pt);
    for (a = 0; a < gst_sdp_media_attributes_len (r); a++) {
      const GstSDPAttribute *attr = gst_sdp_media_get_attribute (r, a);

      if ((g_str_equal (attr->key, "rtpmap") || g_str_equal (attr->key,
                  "fmtp")) && attr->value && g_str_has_prefix (attr->value, pt)
          && attr->value[strlen (pt)] == ' ')
        gst_sdp_media_add_attribute (m, attr->key, attr->value);
    }
    wtsp_sdp_media_set_direction (m, "inactive");
    changed = TRUE;
  }
  return changed;
}

/**
 * wtsp_sdp_unclash_rejected:
 * @sdp: a far end's SDP
 *
 * SIP phones reject an m-line as "m=video 0 RTP/AVP 0" (baresip), and
 * webrtcbin 1.22 maps the payload types of rejected m-lines too: the
 * audio m-line's PCMU (0) then comes out of webrtcbin as
 * "media=video, payload=0", a stream nobody can receive. A rejected
 * m-line listing a payload type an accepted one uses gets, instead of its
 * formats, one dynamic payload type no m-line uses (and loses its
 * rtpmap, fmtp and rtcp-fb lines).
 *
 * Returns: whether @sdp was changed
 */
gboolean
wtsp_sdp_unclash_rejected (GstSDPMessage * sdp)
{
  static const gchar *const per_format[] = { "rtpmap", "fmtp", "rtcp-fb",
    NULL
  };
  gboolean changed = FALSE;
  guint i;

  g_return_val_if_fail (sdp != NULL, FALSE);

  for (i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    GstSDPMedia *m = (GstSDPMedia *) gst_sdp_message_get_media (sdp, i);
    gboolean clash = FALSE;
    guint f, a = 0;
    gint pt;
    gchar *fmt;

    if (!wtsp_sdp_media_rejected (m))
      continue;
    for (f = 0; f < gst_sdp_media_formats_len (m) && !clash; f++)
      clash = sdp_has_format (sdp, atoi (gst_sdp_media_get_format (m, f)), i,
          TRUE);
    if (!clash)
      continue;
    for (pt = 127; pt >= 96 && sdp_has_format (sdp, pt, i, FALSE); pt--);
    if (pt < 96)
      continue;
    while (gst_sdp_media_formats_len (m) > 0)
      gst_sdp_media_remove_format (m, 0);
    fmt = g_strdup_printf ("%d", pt);
    gst_sdp_media_add_format (m, fmt);
    g_free (fmt);
    while (a < gst_sdp_media_attributes_len (m)) {
      if (g_strv_contains (per_format, gst_sdp_media_get_attribute (m, a)->key))
        gst_sdp_media_remove_attribute (m, a);
      else
        a++;
    }
    changed = TRUE;
  }
  return changed;
}

/* The clock rate of @pt in @media's a=rtpmap, or 0 */
static gint
media_clock_rate (const GstSDPMedia * media, const gchar * pt,
    gchar ** encoding)
{
  guint i;

  for (i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);
    gchar **parts;
    gint rate = 0;

    if (g_strcmp0 (a->key, "rtpmap") != 0 || a->value == NULL)
      continue;
    parts = g_strsplit_set (a->value, " /", 4);
    if (parts[0] && parts[1] && parts[2] && g_str_equal (parts[0], pt)) {
      rate = atoi (parts[2]);
      if (encoding)
        *encoding = g_strdup (parts[1]);
    }
    g_strfreev (parts);
    if (rate)
      return rate;
  }
  return 0;
}

/**
 * wtsp_sdp_answer_telephone_events:
 * @answer: our answer to @offer
 *
 * webrtcbin 1.22 answers one format per m-line, whatever its codec
 * preferences say. This adds to each audio m-line of @answer in use the
 * offer's telephone-event (RFC 4733) at the rate of the codec the answer
 * chose, with the offer's payload type and a=fmtp (default 0-15).
 *
 * Returns: whether @answer was changed
 */
gboolean
wtsp_sdp_answer_telephone_events (GstSDPMessage * answer,
    const GstSDPMessage * offer)
{
  gboolean changed = FALSE;
  guint i, f;

  g_return_val_if_fail (answer != NULL && offer != NULL, FALSE);

  for (i = 0; i < gst_sdp_message_medias_len (answer)
      && i < gst_sdp_message_medias_len (offer); i++) {
    GstSDPMedia *ours = (GstSDPMedia *) gst_sdp_message_get_media (answer, i);
    const GstSDPMedia *theirs = gst_sdp_message_get_media (offer, i);
    gint rate;

    if (g_strcmp0 (gst_sdp_media_get_media (ours), "audio") != 0
        || wtsp_sdp_media_rejected (ours)
        || gst_sdp_media_formats_len (ours) == 0)
      continue;
    rate = media_clock_rate (ours, gst_sdp_media_get_format (ours, 0), NULL);
    for (f = 0; rate && f < gst_sdp_media_formats_len (theirs); f++) {
      const gchar *pt = gst_sdp_media_get_format (theirs, f);
      gchar *encoding = NULL, *rtpmap, *fmtp = NULL, *prefix;
      guint a, k;
      gboolean have = FALSE;

      if (media_clock_rate (theirs, pt, &encoding) != rate
          || g_ascii_strcasecmp (encoding, "telephone-event") != 0) {
        g_free (encoding);
        continue;
      }
      for (k = 0; k < gst_sdp_media_formats_len (ours); k++)
        have |= g_str_equal (gst_sdp_media_get_format (ours, k), pt);
      if (have) {
        g_free (encoding);
        continue;
      }
      prefix = g_strdup_printf ("%s ", pt);
      for (a = 0; a < gst_sdp_media_attributes_len (theirs) && !fmtp; a++) {
        const GstSDPAttribute *attr = gst_sdp_media_get_attribute (theirs, a);

        if (g_strcmp0 (attr->key, "fmtp") == 0 && attr->value
            && g_str_has_prefix (attr->value, prefix))
          fmtp = g_strdup (attr->value);
      }
      gst_sdp_media_add_format (ours, pt);
      rtpmap = g_strdup_printf ("%s %s/%d", pt, encoding, rate);
      gst_sdp_media_add_attribute (ours, "rtpmap", rtpmap);
      if (fmtp == NULL)
        fmtp = g_strdup_printf ("%s0-15", prefix);
      gst_sdp_media_add_attribute (ours, "fmtp", fmtp);
      g_free (rtpmap);
      g_free (fmtp);
      g_free (prefix);
      g_free (encoding);
      changed = TRUE;
    }
  }
  return changed;
}

/* The four directions of RFC 3264 */
const gchar *const wtsp_sdp_directions[] = { "sendrecv", "sendonly",
  "recvonly", "inactive", NULL
};

/**
 * wtsp_sdp_media_set_direction:
 * @media: an m-line
 * @direction: one of wtsp_sdp_directions
 *
 * Replaces @media's direction attributes with @direction. The attribute
 * gets an empty value, as the parser gives one: a NULL value crashes
 * gst_sdp_media_attributes_to_caps(), which webrtcbin runs on m-lines.
 */
void
wtsp_sdp_media_set_direction (GstSDPMedia * media, const gchar * direction)
{
  guint a = 0;

  g_return_if_fail (media != NULL);
  g_return_if_fail (g_strv_contains (wtsp_sdp_directions, direction));

  while (a < gst_sdp_media_attributes_len (media)) {
    if (g_strv_contains (wtsp_sdp_directions,
            gst_sdp_media_get_attribute (media, a)->key))
      gst_sdp_media_remove_attribute (media, a);
    else
      a++;
  }
  gst_sdp_media_add_attribute (media, direction, "");
}

/**
 * wtsp_sdp_set_direction:
 * @sdp: a description one side sent
 * @direction: "sendrecv", "sendonly", "recvonly" or "inactive"
 *
 * Makes @sdp the same side's re-offer with a new direction (a hold or a
 * resume, RFC 3264 §8.4): every audio and video m-line in use says
 * @direction (a rejected one keeps what it had), and the
 * o= version goes up by one. What identifies the session (m-lines,
 * payload types, ICE credentials, fingerprint, setup) stays.
 */
void
wtsp_sdp_set_direction (GstSDPMessage * sdp, const gchar * direction)
{
  const GstSDPOrigin *o;
  guint i;

  g_return_if_fail (sdp != NULL);
  g_return_if_fail (g_strv_contains (wtsp_sdp_directions, direction));

  for (i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    GstSDPMedia *m = (GstSDPMedia *) gst_sdp_message_get_media (sdp, i);

    if (wtsp_sdp_media_rejected (m)
        || g_strcmp0 (gst_sdp_media_get_media (m), "application") == 0)
      continue;
    wtsp_sdp_media_set_direction (m, direction);
  }

  o = gst_sdp_message_get_origin (sdp);
  if (o && o->sess_version) {
    /* set_origin frees the old strings first: copies */
    gchar *f[5] = { g_strdup (o->username), g_strdup (o->sess_id),
      g_strdup (o->nettype), g_strdup (o->addrtype), g_strdup (o->addr)
    };
    gchar *version = g_strdup_printf ("%" G_GUINT64_FORMAT,
        g_ascii_strtoull (o->sess_version, NULL, 10) + 1);

    gst_sdp_message_set_origin (sdp, f[0], f[1], version, f[2], f[3], f[4]);
    g_free (version);
    for (i = 0; i < G_N_ELEMENTS (f); i++)
      g_free (f[i]);
  }
}

/**
 * wtsp_sdp_mline_for_mid:
 * @sdp: (nullable): an SDP
 * @mid: (nullable): a media id
 *
 * Returns: the index of the first media section with a=mid:@mid, -1 if
 *     none has it (or @sdp or @mid is %NULL)
 */
gint
wtsp_sdp_mline_for_mid (const GstSDPMessage * sdp, const gchar * mid)
{
  guint i;

  if (sdp == NULL || mid == NULL)
    return -1;
  for (i = 0; i < gst_sdp_message_medias_len (sdp); i++)
    if (g_strcmp0 (gst_sdp_media_get_attribute_val (gst_sdp_message_get_media
                (sdp, i), "mid"), mid) == 0)
      return i;
  return -1;
}

/**
 * wtsp_sdp_mid_for_mline:
 * @sdp: (nullable): an SDP
 * @mline: a media section index
 *
 * Returns: (transfer none) (nullable): the a=mid of media section @mline,
 *     %NULL if it has none or there is no such section
 */
const gchar *
wtsp_sdp_mid_for_mline (const GstSDPMessage * sdp, guint mline)
{
  if (sdp == NULL || mline >= gst_sdp_message_medias_len (sdp))
    return NULL;
  return gst_sdp_media_get_attribute_val (gst_sdp_message_get_media (sdp,
          mline), "mid");
}

/* A member of the JSON type a candidate must have, or NULL */
static JsonNode *
get_value (JsonObject * object, const gchar * name, GType type)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != type)
    return NULL;
  return node;
}

/**
 * wtsp_sdp_candidate_mline:
 * @sdp: (nullable): the SDP the candidate belongs to; %NULL when it is not
 *     known yet
 * @candidate: a trickled candidate, `{candidate, sdpMid, sdpMLineIndex}`
 *
 * Which media section a trickled candidate is for, with JSEP's precedence
 * (RFC 8829 §4.1.17, W3C addIceCandidate): sdpMid when it is present and
 * a section of @sdp has that mid, else sdpMLineIndex. An sdpMid that no
 * section has is not fatal here (a gateway may rewrite mids): the index
 * decides then. An index must name a section of @sdp; without @sdp an
 * index >= 0 is taken as it is.
 *
 * Returns: the m-line index, or -1 if neither member tells it
 */
gint
wtsp_sdp_candidate_mline (const GstSDPMessage * sdp, JsonObject * candidate)
{
  JsonNode *node;
  gint64 index;
  gint mline;

  g_return_val_if_fail (candidate != NULL, -1);

  node = get_value (candidate, "sdpMid", G_TYPE_STRING);
  if (node) {
    mline = wtsp_sdp_mline_for_mid (sdp, json_node_get_string (node));
    if (mline >= 0)
      return mline;
  }

  node = get_value (candidate, "sdpMLineIndex", G_TYPE_INT64);
  if (node == NULL)
    return -1;
  index = json_node_get_int (node);
  if (index < 0 || index > G_MAXINT)
    return -1;
  if (sdp && index >= gst_sdp_message_medias_len (sdp))
    return -1;
  return (gint) index;
}

/**
 * wtsp_random_id:
 * @length: how many characters
 *
 * Random letters and digits, for call ids (%WTSP_CALL_ID_LENGTH, as the
 * reference clients make them) and refer ids. Not for secrets: the
 * generator is GLib's, not a cryptographic one.
 *
 * Returns: (transfer full): a string of @length characters [A-Za-z0-9]
 */
gchar *
wtsp_random_id (guint length)
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
