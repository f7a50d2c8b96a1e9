/* webrtccall: call quality, from webrtcbin's get-stats
 *
 * While a call is up (from `accepted`), the task thread asks webrtcbin
 * for its stats every stats-interval ms; the reply (a task again) is
 * boiled down to one flat webrtccall-stats structure: per kind and
 * direction the codec, bitrate, packets, loss and jitter, the round trip
 * time from RTCP, and the candidate types of the selected pair. It is
 * posted as an element message, appended to stats-file as a JSON line,
 * and kept for the `stats` property. Decoded frames and buffers are our
 * own counters (webrtcbin 1.22 does not know the decoder).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "webrtccall-priv.h"

#include <json-glib/json-glib.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GST_CAT_DEFAULT gst_webrtc_call_debug

/* The fields every webrtccall-stats has, whatever the call's state */
static GstStructure *
base_structure (GstWebrtcCall * self, WebrtcCallCall * call)
{
  GstWebrtcCallState state;
  gint64 setup_us = 0;

  if (call == NULL) {
    GST_OBJECT_LOCK (self);
    state = self->state;
    GST_OBJECT_UNLOCK (self);
  } else {
    GST_OBJECT_LOCK (call);
    state = call->state;
    setup_us = call->setup_us;
    GST_OBJECT_UNLOCK (call);
  }
  return gst_structure_new ("webrtccall-stats",
      "state", G_TYPE_STRING, webrtc_call_state_nick (state),
      "call-id", G_TYPE_STRING, call ? call->call_id : "",
      "line", G_TYPE_INT, call ? call->line : -1,
      "setup-ms", G_TYPE_DOUBLE, setup_us / 1000.0,
      "video-buffers-received", G_TYPE_INT,
      call ? g_atomic_int_get (&call->video_received) : 0,
      "audio-buffers-received", G_TYPE_INT,
      call ? g_atomic_int_get (&call->audio_received) : 0,
      "video-packets-sent", G_TYPE_INT,
      call ? g_atomic_int_get (&call->video_sent) : 0,
      "audio-packets-sent", G_TYPE_INT,
      call ? g_atomic_int_get (&call->audio_sent) : 0, NULL);
}

static gboolean
copy_field (GQuark field, const GValue * value, gpointer user_data)
{
  GstStructure *to = user_data;

  if (!gst_structure_id_has_field (to, field))
    gst_structure_id_set_value (to, field, value);
  return TRUE;
}

/* webrtccall-stats: the current call's figures, or the last call's once
 * it ended (its state is then "ended"). Fields in docs/webrtccall.md. */
GstStructure *
webrtc_call_stats_new (GstWebrtcCall * self)
{
  WebrtcCallCall *call = NULL;
  GstStructure *s;

  g_mutex_lock (&self->lock);
  if (self->call)
    call = gst_object_ref (self->call);
  else if (self->ended)
    call = gst_object_ref (self->ended->data);
  g_mutex_unlock (&self->lock);

  s = base_structure (self, call);
  if (call) {
    GST_OBJECT_LOCK (call);
    if (call->quality)
      gst_structure_foreach (call->quality, copy_field, s);
    GST_OBJECT_UNLOCK (call);
    gst_object_unref (call);
  }
  return s;
}

/* Reading webrtcbin's reply */

typedef struct
{
  const GstStructure *reply;
  GHashTable *by_id;            /* stats id -> GstStructure (no copies) */
} Reply;

static gboolean
index_stats (GQuark field, const GValue * value, gpointer user_data)
{
  Reply *r = user_data;

  if (GST_VALUE_HOLDS_STRUCTURE (value))
    g_hash_table_insert (r->by_id, (gpointer) g_quark_to_string (field),
        (gpointer) gst_value_get_structure (value));
  return TRUE;
}

static GstWebRTCStatsType
stats_type (const GstStructure * s)
{
  GstWebRTCStatsType type = 0;

  gst_structure_get (s, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, NULL);
  return type;
}

static const GstStructure *
linked (Reply * r, const GstStructure * s, const gchar * id_field)
{
  const gchar *id = gst_structure_get_string (s, id_field);

  return id ? g_hash_table_lookup (r->by_id, id) : NULL;
}

/* The codec the answer chose for @kind: the first format of its first
 * m-line of that kind in use */
static gchar *
answered_codec (GstSDPMessage * answer, const gchar * kind)
{
  guint i;

  for (i = 0; answer && i < gst_sdp_message_medias_len (answer); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (answer, i);
    GstCaps *caps;
    gchar *name;

    if (g_strcmp0 (gst_sdp_media_get_media (m), kind) != 0
        || gst_sdp_media_get_port (m) == 0
        || gst_sdp_media_formats_len (m) == 0)
      continue;
    caps = gst_sdp_media_get_caps_from_media (m,
        atoi (gst_sdp_media_get_format (m, 0)));
    if (caps == NULL)
      continue;
    name = g_strdup (gst_structure_get_string (gst_caps_get_structure (caps,
                0), "encoding-name"));
    gst_caps_unref (caps);
    return name;
  }
  return NULL;
}

/* What an RTP stream carries. webrtcbin 1.22 says "video" of every
 * stream of a bundle and links them all to one empty codec entry, so:
 * what we send, from the encoder's codec entry with its SSRC (mime-type
 * "audio/OPUS"); what we receive, from the RTP clock rate (90000 is
 * video), and its codec from the answer. */
static gboolean
identify (Reply * r, const GstStructure * s, gboolean inbound,
    GstSDPMessage * answer, const gchar ** kind, gchar ** codec)
{
  guint ssrc = 0;

  gst_structure_get_uint (s, "ssrc", &ssrc);
  if (!inbound) {
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init (&iter, r->by_id);
    while (g_hash_table_iter_next (&iter, NULL, &value)) {
      const gchar *mime = gst_structure_get_string (value, "mime-type");
      guint codec_ssrc = 0;

      if (stats_type (value) != GST_WEBRTC_STATS_CODEC || mime == NULL
          || g_strcmp0 (gst_structure_get_string (value, "codec-type"),
              "encode") != 0 || !gst_structure_get_uint (value, "ssrc",
              &codec_ssrc) || codec_ssrc != ssrc || strchr (mime, '/') == NULL)
        continue;
      *kind = g_str_has_prefix (mime, "video/") ? "video" : "audio";
      *codec = g_strdup (strchr (mime, '/') + 1);
      return TRUE;
    }
    return FALSE;
  } else {
    const GstStructure *src = NULL;
    gint rate = 0;

    if (gst_structure_has_field_typed (s, "gst-rtpsource-stats",
            GST_TYPE_STRUCTURE))
      src = gst_value_get_structure (gst_structure_get_value (s,
              "gst-rtpsource-stats"));
    if (src == NULL || !gst_structure_get_int (src, "clock-rate", &rate)
        || rate <= 0)
      return FALSE;
    *kind = rate == 90000 ? "video" : "audio";
    *codec = answered_codec (answer, *kind);
    return TRUE;
  }
}

typedef struct
{
  guint64 bytes;
  gint64 at_us;
} Sample;

/* bits per second since the last sample of @key, kept in call->samples;
 * -1 at the first one */
static gdouble
bitrate (WebrtcCallCall * call, const gchar * key, guint64 bytes, gint64 now)
{
  Sample *last = g_hash_table_lookup (call->samples, key);
  gdouble bps = -1;

  if (last && now > last->at_us && bytes >= last->bytes)
    bps = (bytes - last->bytes) * 8.0 * G_USEC_PER_SEC / (now - last->at_us);
  if (last == NULL) {
    last = g_new0 (Sample, 1);
    g_hash_table_insert (call->samples, g_strdup (key), last);
  }
  last->bytes = bytes;
  last->at_us = now;
  return bps;
}

/* @out's field @prefix@name = *@value */
static void
set_field (GstStructure * out, const gchar * prefix, const gchar * name,
    GType type, gconstpointer value)
{
  gchar *field = g_strconcat (prefix, name, NULL);

  if (type == G_TYPE_STRING)
    gst_structure_set (out, field, type, value ? value : "", NULL);
  else if (type == G_TYPE_DOUBLE)
    gst_structure_set (out, field, type, *(const gdouble *) value, NULL);
  else if (type == G_TYPE_UINT64)
    gst_structure_set (out, field, type, *(const guint64 *) value, NULL);
  else if (type == G_TYPE_INT64)
    gst_structure_set (out, field, type, *(const gint64 *) value, NULL);
  else
    gst_structure_set (out, field, type, *(const gint *) value, NULL);
  g_free (field);
}

static void
add_stream (WebrtcCallCall * call, GstStructure * out, Reply * r,
    const GstStructure * s, gboolean inbound, GstSDPMessage * sdp,
    gint64 now)
{
  const GstStructure *remote = linked (r, s, "remote-id");
  const gchar *dir = inbound ? "in" : "out";
  guint64 bytes = 0, packets = 0;
  gchar *codec_name = NULL, *prefix;
  const gchar *kind = NULL;
  gdouble d;
  gint64 lost;

  if (!identify (r, s, inbound, sdp, &kind, &codec_name)) {
    GST_LOG ("stream %" GST_PTR_FORMAT " not identified", s);
    return;
  }
  prefix = g_strdup_printf ("%s-%s-", kind, dir);

  gst_structure_get_uint64 (s, inbound ? "bytes-received" : "bytes-sent",
      &bytes);
  gst_structure_get_uint64 (s, inbound ? "packets-received" :
      "packets-sent", &packets);
  set_field (out, prefix, "codec", G_TYPE_STRING, codec_name);
  /* none at the first sample: nothing to compare with yet */
  if ((d = bitrate (call, prefix, bytes, now)) >= 0)
    set_field (out, prefix, "bitrate", G_TYPE_DOUBLE, &d);
  set_field (out, prefix, "bytes", G_TYPE_UINT64, &bytes);
  set_field (out, prefix, "packets", G_TYPE_UINT64, &packets);

  if (inbound) {
    /* what we received */
    if (gst_structure_get_int64 (s, "packets-lost", &lost) && lost >= 0)
      set_field (out, prefix, "packets-lost", G_TYPE_INT64, &lost);
    if (gst_structure_get_double (s, "jitter", &d)) {
      d *= 1000;
      set_field (out, prefix, "jitter-ms", G_TYPE_DOUBLE, &d);
    }
  } else if (remote) {
    /* what the far end said, by RTCP, of what we sent */
    if (gst_structure_get_int64 (remote, "packets-lost", &lost) && lost >= 0)
      set_field (out, prefix, "packets-lost", G_TYPE_INT64, &lost);
    if (gst_structure_get_double (remote, "fraction-lost", &d))
      set_field (out, prefix, "fraction-lost", G_TYPE_DOUBLE, &d);
    if (gst_structure_get_double (remote, "jitter", &d)) {
      d *= 1000;
      set_field (out, prefix, "jitter-ms", G_TYPE_DOUBLE, &d);
    }
    if (gst_structure_get_double (remote, "round-trip-time", &d) && d > 0)
      gst_structure_set (out, "round-trip-ms", G_TYPE_DOUBLE, d * 1000, NULL);
  }
  g_free (prefix);
  g_free (codec_name);
}

/* The selected candidate pair's local and remote candidate types */
static void
add_candidate_pair (GstStructure * out, Reply * r, const GstStructure * s)
{
  const GstStructure *local = linked (r, s, "local-candidate-id");
  const GstStructure *remote = linked (r, s, "remote-candidate-id");
  const gchar *type;

  if (local && (type = gst_structure_get_string (local, "candidate-type")))
    gst_structure_set (out, "local-candidate-type", G_TYPE_STRING, type,
        NULL);
  if (remote && (type = gst_structure_get_string (remote, "candidate-type")))
    gst_structure_set (out, "remote-candidate-type", G_TYPE_STRING, type,
        NULL);
}

static GstStructure *
summarize (WebrtcCallCall * call, const GstStructure * reply)
{
  Reply r = { reply, g_hash_table_new (g_str_hash, g_str_equal) };
  GstStructure *out = gst_structure_new_empty ("quality");
  GstWebRTCSessionDescription *local = NULL, *remote = NULL;
  GstSDPMessage *answer = NULL;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  gpointer value;

  gst_structure_foreach (reply, index_stats, &r);
  if (call->webrtc)
    g_object_get (call->webrtc, "current-local-description", &local,
        "current-remote-description", &remote, NULL);
  if (local && local->type == GST_WEBRTC_SDP_TYPE_ANSWER)
    answer = local->sdp;
  else if (remote && remote->type == GST_WEBRTC_SDP_TYPE_ANSWER)
    answer = remote->sdp;

  g_hash_table_iter_init (&iter, r.by_id);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    const GstStructure *s = value;

    switch (stats_type (s)) {
      case GST_WEBRTC_STATS_INBOUND_RTP:
        add_stream (call, out, &r, s, TRUE, answer, now);
        break;
      case GST_WEBRTC_STATS_OUTBOUND_RTP:
        add_stream (call, out, &r, s, FALSE, answer, now);
        break;
      case GST_WEBRTC_STATS_TRANSPORT:{
        const GstStructure *pair = linked (&r, s,
            "selected-candidate-pair-id");

        if (pair)
          add_candidate_pair (out, &r, pair);
        break;
      }
      default:
        break;
    }
  }
  /* webrtcbin 1.22 names no selected pair: its only pair is the one */
  if (!gst_structure_has_field (out, "local-candidate-type")) {
    g_hash_table_iter_init (&iter, r.by_id);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      if (stats_type (value) == GST_WEBRTC_STATS_CANDIDATE_PAIR)
        add_candidate_pair (out, &r, value);
  }
  if (local)
    gst_webrtc_session_description_free (local);
  if (remote)
    gst_webrtc_session_description_free (remote);
  g_hash_table_unref (r.by_id);
  return out;
}

/* stats-file: one JSON object per line */
static void
append_json (GstWebrtcCall * self, const GstStructure * s)
{
  JsonBuilder *b = json_builder_new ();
  JsonNode *root;
  gchar *path, *line;
  guint i;
  FILE *f;

  GST_OBJECT_LOCK (self);
  path = g_strdup (self->stats_file);
  GST_OBJECT_UNLOCK (self);
  if (path == NULL) {
    g_object_unref (b);
    return;
  }

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "time-ms");
  json_builder_add_int_value (b, g_get_real_time () / 1000);
  for (i = 0; i < (guint) gst_structure_n_fields (s); i++) {
    const gchar *name = gst_structure_nth_field_name (s, i);
    const GValue *v = gst_structure_get_value (s, name);
    GValue d = G_VALUE_INIT;

    json_builder_set_member_name (b, name);
    if (G_VALUE_HOLDS_STRING (v)) {
      json_builder_add_string_value (b, g_value_get_string (v));
    } else if (g_value_type_transformable (G_VALUE_TYPE (v), G_TYPE_DOUBLE)) {
      g_value_init (&d, G_TYPE_DOUBLE);
      g_value_transform (v, &d);
      json_builder_add_double_value (b, g_value_get_double (&d));
      g_value_unset (&d);
    } else {
      json_builder_add_null_value (b);
    }
  }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  line = json_to_string (root, FALSE);
  json_node_unref (root);
  g_object_unref (b);

  f = fopen (path, "a");
  if (f == NULL || fprintf (f, "%s\n", line) < 0) {
    if (!self->stats_file_warned) {
      self->stats_file_warned = TRUE;
      GST_ELEMENT_WARNING (self, RESOURCE, OPEN_WRITE,
          ("Cannot write the call's stats to \"%s\": %s", path,
              g_strerror (errno)), (NULL));
    }
  }
  if (f)
    fclose (f);
  g_free (line);
  g_free (path);
}

static void sample (GstWebrtcCall * self, WebrtcCallCall * call,
    gpointer data);

static void
schedule (GstWebrtcCall * self, WebrtcCallCall * call)
{
  guint interval;

  GST_OBJECT_LOCK (self);
  interval = self->stats_interval;
  GST_OBJECT_UNLOCK (self);
  if (interval > 0)
    webrtc_call_enqueue_later (self, call, interval, sample, NULL, NULL);
}

/* Task thread: webrtcbin's reply */
static void
got_stats (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  const GstStructure *reply = data;
  GstStructure *quality, *msg;

  call->stats_pending = FALSE;
  if (reply == NULL || call->webrtc == NULL)
    return;
  GST_LOG_OBJECT (call, "webrtcbin stats: %" GST_PTR_FORMAT, reply);
  quality = summarize (call, reply);
  GST_OBJECT_LOCK (call);
  if (call->quality)
    gst_structure_free (call->quality);
  call->quality = quality;
  GST_OBJECT_UNLOCK (call);

  msg = webrtc_call_stats_new (self);
  append_json (self, msg);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), msg));
}

/* webrtcbin's thread: the reply goes to the task queue */
static void
on_stats (GstPromise * promise, gpointer user_data)
{
  WebrtcCallCall *call = user_data;
  const GstStructure *reply = NULL;

  if (gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED)
    reply = gst_promise_get_reply (promise);
  webrtc_call_enqueue (call->bin, call, got_stats,
      reply ? gst_structure_copy (reply) : NULL,
      (GDestroyNotify) gst_structure_free);
}

static void
sample (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  GstPromise *promise;

  schedule (self, call);
  /* one at a time: a webrtcbin busy for longer than the interval is not
   * asked again meanwhile */
  if (call->webrtc == NULL || call->stats_pending)
    return;
  call->stats_pending = TRUE;
  /* not among call->promises: nobody waits for it, and webrtcbin frees
   * it, and the call's ref with it, if it goes before replying */
  promise = gst_promise_new_with_change_func (on_stats,
      gst_object_ref (call), gst_object_unref);
  g_signal_emit_by_name (call->webrtc, "get-stats", NULL, promise);
  gst_promise_unref (promise);
}

/**
 * webrtc_call_stats_start:
 *
 * Task thread, when the call is answered: samples every stats-interval
 * ms until the call ends (its tasks do nothing then)
 */
void
webrtc_call_stats_start (WebrtcCallCall * call)
{
  if (call->samples)
    return;
  call->samples = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  schedule (call->bin, call);
}
