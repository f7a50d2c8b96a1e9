/* webrtccall: DTMF, RFC 4733 telephone-events in the audio stream
 *
 * Sending: the audio sender of a call that negotiated telephone-event
 * ends in an rtpdtmfmux whose priority pad an rtpdtmfsrc feeds
 * (webrtccall-codecs.c); send-dtmf queues tones on the call, and the task
 * thread starts and stops one event at a time on timers of the task queue.
 * The rtpdtmfsrc, a live source with a thread of its own, runs only while
 * tones play: its state is locked in NULL, the first tone starts it, and
 * DTMF_IDLE_MS after the last it goes back to NULL. The sender's teardown
 * (any thread) releases it first, webrtc_call_dtmf_release(); a mark
 * under source_lock keeps the task thread from starting it again.
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

/* After the last tone's end packets went: rtpdtmfsrc plays each event
 * at least 250 ms, so tones given faster wait in its queue, and it stops
 * only once it has sent every one */
#define DTMF_IDLE_MS 500
/* ... checked again this often, this many times at most */
#define DTMF_IDLE_TRIES 120

typedef enum
{
  SOURCE_IDLE,                  /* NULL, locked */
  SOURCE_RUNNING,               /* PLAYING, locked */
  SOURCE_DOWN                   /* released: the sender's state is its */
} SourceState;

typedef struct
{
  SourceState state;            /* with source_lock */
  gint stops;                   /* with source_lock: stop events sent */
  gint ended;                   /* atomic: events whose end packet went */
  gboolean have_ts;             /* its streaming thread: */
  guint32 last_ts;              /* one event, one RTP timestamp */
} DtmfSource;

static GMutex source_lock;
#define DTMF_SOURCE (g_quark_from_static_string ("webrtccall-dtmf-source"))

/* rtpdtmfsrc's streaming thread: the first end packet of each event (it
 * sends it three times) */
static GstPadProbeReturn
count_ended (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  DtmfSource *ds = user_data;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  const guint8 *p;

  if (!gst_rtp_buffer_map (GST_PAD_PROBE_INFO_BUFFER (info), GST_MAP_READ,
          &rtp))
    return GST_PAD_PROBE_OK;
  p = gst_rtp_buffer_get_payload (&rtp);
  if (gst_rtp_buffer_get_payload_len (&rtp) >= 4 && (p[1] & 0x80)
      && (!ds->have_ts || gst_rtp_buffer_get_timestamp (&rtp) != ds->last_ts)) {
    ds->have_ts = TRUE;
    ds->last_ts = gst_rtp_buffer_get_timestamp (&rtp);
    g_atomic_int_inc (&ds->ended);
  }
  gst_rtp_buffer_unmap (&rtp);
  return GST_PAD_PROBE_OK;
}

/* With source_lock */
static DtmfSource *
source_get (GstElement * src)
{
  DtmfSource *ds = g_object_get_qdata (G_OBJECT (src), DTMF_SOURCE);
  GstPad *pad;

  if (ds)
    return ds;
  ds = g_new0 (DtmfSource, 1);
  g_object_set_qdata_full (G_OBJECT (src), DTMF_SOURCE, ds, g_free);
  pad = gst_element_get_static_pad (src, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_ended, ds, NULL);
  gst_object_unref (pad);
  return ds;
}

/* Task thread. Returns: whether @src runs */
static gboolean
source_start (GstElement * src)
{
  DtmfSource *ds;
  SourceState state;
  gboolean down;

  g_mutex_lock (&source_lock);
  ds = source_get (src);
  state = ds->state;
  if (state == SOURCE_IDLE)
    ds->state = SOURCE_RUNNING;
  g_mutex_unlock (&source_lock);
  if (state != SOURCE_IDLE)
    return state == SOURCE_RUNNING;

  /* the bin gave it its clock and base time, locked or not */
  if (gst_element_set_state (src, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    gst_element_set_state (src, GST_STATE_NULL);
    g_mutex_lock (&source_lock);
    if (ds->state == SOURCE_RUNNING)
      ds->state = SOURCE_IDLE;
    g_mutex_unlock (&source_lock);
    return FALSE;
  }
  g_mutex_lock (&source_lock);
  down = ds->state == SOURCE_DOWN;
  g_mutex_unlock (&source_lock);
  /* released meanwhile: its sender may have gone down before it came up */
  if (down)
    gst_element_set_state (src, GST_STATE_NULL);
  return !down;
}

/* Task thread. Returns: FALSE if @src still has events to end */
static gboolean
source_stop (GstElement * src)
{
  DtmfSource *ds;
  gboolean stop = FALSE, busy = FALSE;

  g_mutex_lock (&source_lock);
  ds = source_get (src);
  if (ds->state == SOURCE_RUNNING) {
    busy = g_atomic_int_get (&ds->ended) < ds->stops;
    stop = !busy;
    if (stop)
      ds->state = SOURCE_IDLE;
  }
  g_mutex_unlock (&source_lock);
  if (stop)
    gst_element_set_state (src, GST_STATE_NULL);
  return !busy;
}

/**
 * webrtc_call_dtmf_release:
 * @sender: an audio sender (webrtc_call_codec_make_sender())
 *
 * Any thread, before @sender goes to NULL: its rtpdtmfsrc, if it has one,
 * goes down with it and is not started again.
 */
void
webrtc_call_dtmf_release (GstElement * sender)
{
  GstElement *src = gst_bin_get_by_name (GST_BIN (sender), "dtmfsrc");

  if (src == NULL)
    return;
  g_mutex_lock (&source_lock);
  source_get (src)->state = SOURCE_DOWN;
  g_mutex_unlock (&source_lock);
  gst_element_set_locked_state (src, FALSE);
  gst_object_unref (src);
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
  gboolean sent, start = TRUE;
  DtmfSource *ds;

  if (src == NULL || !source_start (src)) {
    gst_clear_object (&src);
    gst_structure_free (s);
    return FALSE;
  }
  gst_structure_get_boolean (s, "start", &start);
  g_mutex_lock (&source_lock);
  ds = source_get (src);
  if (!start)
    ds->stops++;
  g_mutex_unlock (&source_lock);
  /* as rtpdtmfsrc documents it: an upstream event into its src pad */
  pad = gst_element_get_static_pad (src, "src");
  sent = gst_pad_send_event (pad, gst_event_new_custom
      (GST_EVENT_CUSTOM_UPSTREAM, s));
  gst_object_unref (pad);
  if (!sent && !start) {
    g_mutex_lock (&source_lock);
    ds->stops--;
    g_mutex_unlock (&source_lock);
  }
  gst_object_unref (src);
  return sent;
}

static void play_next (GstWebrtcCall * self, WebrtcCallCall * call,
    gpointer data);

/* DTMF_IDLE_MS after the last tone of a burst, unless another followed,
 * and again until rtpdtmfsrc ended every event it was given */
static void
go_idle (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  GstElement *src;

  if (call->dtmf_playing || GPOINTER_TO_UINT (data) != call->dtmf_bursts)
    return;
  src = dup_dtmf_source (call);
  if (src == NULL)
    return;
  if (source_stop (src)) {
    GST_DEBUG_OBJECT (call, "no more tones: rtpdtmfsrc stopped");
  } else if (++call->dtmf_idle_tries < DTMF_IDLE_TRIES) {
    webrtc_call_enqueue_later (self, call, DTMF_IDLE_MS, go_idle, data, NULL);
  } else {
    GST_WARNING_OBJECT (call, "rtpdtmfsrc did not end its events within "
        "%u s: it runs until the call ends",
        DTMF_IDLE_MS * DTMF_IDLE_TRIES / 1000);
  }
  gst_object_unref (src);
}

/* No more tones for now */
static void
burst_done (GstWebrtcCall * self, WebrtcCallCall * call)
{
  call->dtmf_playing = FALSE;
  call->dtmf_bursts++;
  call->dtmf_idle_tries = 0;
  webrtc_call_enqueue_later (self, call, DTMF_IDLE_MS, go_idle,
      GUINT_TO_POINTER (call->dtmf_bursts), NULL);
}

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
    burst_done (self, call);
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
    burst_done (self, call);
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
