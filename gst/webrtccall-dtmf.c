/* webrtccall: DTMF, RFC 4733 telephone-events in the audio stream
 *
 * Sending: the audio sender of a call that negotiated telephone-event
 * ends in an rtpdtmfmux whose priority pad an rtpdtmfsrc feeds
 * (webrtccall-codecs.c); send-dtmf queues tones on the call, and the task
 * thread starts and stops one event at a time on timers of the task queue.
 *
 * Receiving: webrtcbin gives the far end's telephone-events their own src
 * pad (rtpbin demuxes by payload type); a probe there reads each event and
 * posts one webrtccall-dtmf message per key press, when its first end
 * packet arrives (RFC 4733 sends the end three times).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "webrtccall-priv.h"

#include <gst/rtp/rtp.h>
#include <string.h>

#define GST_CAT_DEFAULT gst_webrtc_call_debug

/* RFC 4733 §3.2: 0-9, *, #, A-D are events 0-15 */
static const gchar dtmf_keys[] = "0123456789*#ABCD";

/* A ',' in the tones: the pause, as RTCDTMFSender.insertDTMF has it */
#define DTMF_PAUSE_MS 2000
/* Volume of our events, in -dBm0 (RFC 4733 §2.5.1.2) */
#define DTMF_VOLUME 10

/**
 * webrtc_call_dtmf_check:
 * @tones: what the application gave send-dtmf
 *
 * Returns: (nullable): NULL if every character is a key or a pause, else
 *     the first one that is not, in a message for the application (free it)
 */
gchar *
webrtc_call_dtmf_check (const gchar * tones)
{
  const gchar *t;

  if (tones == NULL || *tones == '\0')
    return g_strdup ("send-dtmf needs tones: 0-9, *, #, A-D, or ',' "
        "for a 2 s pause");
  for (t = tones; *t; t++)
    if (*t != ',' && strchr (dtmf_keys, g_ascii_toupper (*t)) == NULL)
      return g_strdup_printf ("send-dtmf: '%c' in \"%s\" is not a DTMF key "
          "(0-9, *, #, A-D, or ',' for a 2 s pause)", *t, tones);
  return NULL;
}

/* The rtpdtmfsrc of the call's audio sender, or NULL */
static GstElement *
dup_dtmf_source (WebrtcCallCall * call)
{
  GstWebrtcCall *self = call->bin;
  GstElement *src = NULL;
  GList *l;

  g_mutex_lock (&self->lock);
  for (l = self->inputs; l && !src; l = l->next) {
    WebrtcCallInput *in = l->data;

    if (in->call == call && in->sender && g_str_equal (in->media, "audio"))
      src = gst_bin_get_by_name (GST_BIN (in->sender), "dtmfsrc");
  }
  g_mutex_unlock (&self->lock);
  return src;
}

static gboolean
send_event (WebrtcCallCall * call, GstStructure * s)
{
  GstElement *src = dup_dtmf_source (call);
  GstPad *pad;
  gboolean sent;

  if (src == NULL) {
    gst_structure_free (s);
    return FALSE;
  }
  /* as rtpdtmfsrc documents it: an upstream event into its src pad */
  pad = gst_element_get_static_pad (src, "src");
  sent = gst_pad_send_event (pad, gst_event_new_custom
      (GST_EVENT_CUSTOM_UPSTREAM, s));
  gst_object_unref (pad);
  gst_object_unref (src);
  return sent;
}

static void play_next (GstWebrtcCall * self, WebrtcCallCall * call,
    gpointer data);

static void
stop_tone (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  guint gap;

  send_event (call, gst_structure_new ("dtmf-event",
          "type", G_TYPE_INT, 1, "start", G_TYPE_BOOLEAN, FALSE, NULL));
  GST_OBJECT_LOCK (self);
  gap = self->dtmf_gap;
  GST_OBJECT_UNLOCK (self);
  webrtc_call_enqueue_later (self, call, gap, play_next, NULL, NULL);
}

/* The next tone of the queue, or the pause: on the task thread */
static void
play_next (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  gchar key;
  guint duration;

  if (call->dtmf_pending == NULL || call->dtmf_pending->len == 0) {
    call->dtmf_playing = FALSE;
    return;
  }
  key = g_ascii_toupper (call->dtmf_pending->str[0]);
  g_string_erase (call->dtmf_pending, 0, 1);
  call->dtmf_playing = TRUE;

  if (key == ',') {
    webrtc_call_enqueue_later (self, call, DTMF_PAUSE_MS, play_next, NULL,
        NULL);
    return;
  }
  if (!send_event (call, gst_structure_new ("dtmf-event",
              "type", G_TYPE_INT, 1,
              "number", G_TYPE_INT, (gint) (strchr (dtmf_keys, key) -
                  dtmf_keys), "volume", G_TYPE_INT, DTMF_VOLUME,
              "start", G_TYPE_BOOLEAN, TRUE, NULL))) {
    GST_ELEMENT_WARNING (self, STREAM, FAILED,
        ("DTMF '%c' not sent: the audio sender stopped", key),
        ("call %s", call->call_id));
    g_string_truncate (call->dtmf_pending, 0);
    call->dtmf_playing = FALSE;
    return;
  }
  GST_DEBUG_OBJECT (call, "DTMF '%c' started", key);
  GST_OBJECT_LOCK (self);
  duration = self->dtmf_duration;
  GST_OBJECT_UNLOCK (self);
  webrtc_call_enqueue_later (self, call, duration, stop_tone, NULL, NULL);
}

/**
 * webrtc_call_dtmf_send:
 * @tones: checked by webrtc_call_dtmf_check()
 *
 * Task thread: queues @tones after those still playing. A call that did
 * not negotiate telephone-event warns and sends nothing.
 */
void
webrtc_call_dtmf_send (WebrtcCallCall * call, const gchar * tones)
{
  GstElement *src = dup_dtmf_source (call);

  if (src == NULL) {
    GST_ELEMENT_WARNING (call->bin, STREAM, FAILED,
        ("DTMF \"%s\" not sent: call %s %s", tones, call->call_id,
            call->answered ? "did not negotiate telephone-event (RFC 4733) "
            "with the far end, or sends no audio" :
            "is not answered yet"), (NULL));
    return;
  }
  gst_object_unref (src);
  if (call->dtmf_pending == NULL)
    call->dtmf_pending = g_string_new (NULL);
  g_string_append (call->dtmf_pending, tones);
  if (!call->dtmf_playing)
    play_next (call->bin, call, NULL);
}

/* Receiving */

typedef struct
{
  WebrtcCallCall *call;         /* a ref */
  gint clock_rate;
  gboolean have;                /* an event is known */
  guint32 timestamp;            /* RFC 4733: one event, one timestamp */
  guint8 event;
  guint duration;               /* in clock-rate units */
  gboolean posted;
} DtmfReceiver;

static void
receiver_free (gpointer data)
{
  DtmfReceiver *r = data;

  gst_object_unref (r->call);
  g_free (r);
}

static void
post_key (DtmfReceiver * r)
{
  WebrtcCallCall *call = r->call;
  gchar tone[2] = { 0, 0 };
  guint ms;

  r->posted = TRUE;
  if (r->event >= strlen (dtmf_keys)) {
    GST_DEBUG_OBJECT (call, "telephone-event %u is not a DTMF key", r->event);
    return;
  }
  if (webrtc_call_call_is_ending (call))
    return;
  tone[0] = dtmf_keys[r->event];
  ms = r->clock_rate > 0 ? (guint) ((guint64) r->duration * 1000 /
      r->clock_rate) : 0;
  GST_INFO_OBJECT (call, "DTMF '%s' received, %u ms", tone, ms);
  gst_element_post_message (GST_ELEMENT (call->bin),
      gst_message_new_element (GST_OBJECT (call->bin),
          gst_structure_new ("webrtccall-dtmf",
              "tone", G_TYPE_STRING, tone,
              "duration", G_TYPE_UINT, ms,
              "line", G_TYPE_INT, call->line,
              "call-id", G_TYPE_STRING, call->call_id, NULL)));
}

/* webrtcbin's streaming thread: read each packet, pass none on */
static GstPadProbeReturn
receive_event (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  DtmfReceiver *r = user_data;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  const guint8 *p;
  guint32 ts;
  gboolean end;

  if (!gst_rtp_buffer_map (buffer, GST_MAP_READ, &rtp))
    return GST_PAD_PROBE_DROP;
  if (gst_rtp_buffer_get_payload_len (&rtp) < 4) {
    gst_rtp_buffer_unmap (&rtp);
    return GST_PAD_PROBE_DROP;
  }
  p = gst_rtp_buffer_get_payload (&rtp);
  ts = gst_rtp_buffer_get_timestamp (&rtp);
  end = (p[1] & 0x80) != 0;

  /* a new event: the last one's end packets were all lost */
  if (r->have && ts != r->timestamp && !r->posted)
    post_key (r);
  if (!r->have || ts != r->timestamp) {
    r->have = TRUE;
    r->timestamp = ts;
    r->posted = FALSE;
  }
  if (!r->posted) {
    r->event = p[0];
    r->duration = GST_READ_UINT16_BE (p + 2);
    if (end)
      post_key (r);
  }
  gst_rtp_buffer_unmap (&rtp);
  return GST_PAD_PROBE_DROP;
}

static GstPadProbeReturn
drop_events (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  /* sticky events stay on the pad; nothing goes to a peer it has not */
  return GST_PAD_PROBE_DROP;
}

/**
 * webrtc_call_dtmf_take_pad:
 * @pad: a new src pad of webrtcbin, @caps its caps
 *
 * Streaming thread, in pad-added. Returns: TRUE if @pad carries
 * telephone-events, which are read here and go no further
 */
gboolean
webrtc_call_dtmf_take_pad (WebrtcCallCall * call, GstPad * pad,
    const GstCaps * caps)
{
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  const gchar *name = gst_structure_get_string (s, "encoding-name");
  DtmfReceiver *r;

  if (name == NULL || g_ascii_strcasecmp (name, "TELEPHONE-EVENT") != 0)
    return FALSE;
  r = g_new0 (DtmfReceiver, 1);
  r->call = gst_object_ref (call);
  gst_structure_get_int (s, "clock-rate", &r->clock_rate);
  GST_INFO_OBJECT (call, "receiving DTMF on %s (%d Hz)", GST_PAD_NAME (pad),
      r->clock_rate);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, receive_event, r,
      receiver_free);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, drop_events,
      NULL, NULL);
  return TRUE;
}
