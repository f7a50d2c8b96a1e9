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
