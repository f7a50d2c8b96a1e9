/* webrtccall: is the far end's media still coming? From the answer on,
 * a timer on the bin's task thread counts the RTP packets that leave
 * webrtcbin per kind. A kind that had been arriving and stops for
 * WATCHDOG_SILENT_MS posts a `webrtccall-media` message (receiving=false),
 * its return another (receiving=true); no media at all for the bin's
 * media-timeout hangs the call up. Not while the call is on hold, and
 * only for the kinds the far end agreed to send.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "webrtccall-priv.h"

GST_DEBUG_CATEGORY_EXTERN (gst_webrtc_call_debug);
#define GST_CAT_DEFAULT gst_webrtc_call_debug

#define WATCHDOG_TICK_MS 250

typedef struct
{
  const gchar *kind;
  gint *packets;                /* the call's counter */
  gint seen;                    /* its value at the last tick */
  gint64 last_us;               /* monotonic: last packet seen, or start */
  gboolean receiving;           /* packets came, and have not stopped */
} Flow;

struct _WebrtcCallWatchdog
{
  WebrtcCallCall *call;
  GSource *source;
  Flow flows[2];
  guint timeout_ms;
  gint64 start_us;
};

static void
post_media (WebrtcCallCall * call, Flow * f, gint64 now)
{
  GstStructure *s = gst_structure_new ("webrtccall-media",
      "receiving", G_TYPE_BOOLEAN, f->receiving,
      "kind", G_TYPE_STRING, f->kind,
      "since-ms", G_TYPE_UINT64, (guint64) ((now - f->last_us) / 1000),
      "line", G_TYPE_INT, call->line,
      "call-id", G_TYPE_STRING, call->call_id, NULL);

  if (f->receiving)
    GST_INFO_OBJECT (call, "%s media back", f->kind);
  else
    GST_WARNING_OBJECT (call, "no %s media for %" G_GINT64_FORMAT " ms",
        f->kind, (now - f->last_us) / 1000);
  gst_element_post_message (GST_ELEMENT (call->bin),
      gst_message_new_element (GST_OBJECT (call->bin), s));
}

static gboolean
watchdog_tick (gpointer data)
{
  WebrtcCallWatchdog *w = data;
  WebrtcCallCall *call = w->call;
  gint64 now = g_get_monotonic_time (), newest = 0;
  guint expected[2], i, watched = 0;
  GstWebrtcCallState state;

  if (webrtc_call_call_is_ending (call))
    return G_SOURCE_REMOVE;

  GST_OBJECT_LOCK (call);
  state = call->state;
  expected[0] = call->expected_video;
  expected[1] = call->expected_audio;
  GST_OBJECT_UNLOCK (call);

  for (i = 0; i < G_N_ELEMENTS (w->flows); i++) {
    Flow *f = &w->flows[i];
    gint n = g_atomic_int_get (f->packets);

    /* on hold, or not sent to us: silence is expected; it counts from
     * when that ends */
    if (state == GST_WEBRTC_CALL_STATE_HOLDING
        || state == GST_WEBRTC_CALL_STATE_HELD || expected[i] == 0) {
      f->last_us = now;
      f->seen = n;
      continue;
    }
    watched++;
    if (n != f->seen) {
      f->seen = n;
      f->last_us = now;
      if (!f->receiving) {
        f->receiving = TRUE;
        post_media (call, f, now);
      }
    } else if (f->receiving
        && now - f->last_us >= WATCHDOG_SILENT_MS * G_TIME_SPAN_MILLISECOND) {
      f->receiving = FALSE;
      post_media (call, f, now);
    }
    newest = MAX (newest, f->last_us);
  }

  if (watched > 0 && w->timeout_ms > 0
      && now - newest >= (gint64) w->timeout_ms * G_TIME_SPAN_MILLISECOND) {
    gchar *reason = g_strdup_printf ("no media from the far end for %u ms "
        "(media-timeout)", w->timeout_ms);

    GST_ELEMENT_WARNING (call->bin, STREAM, FAILED, ("Call %s: %s",
            call->call_id, reason), (NULL));
    webrtc_call_call_give_up (call, WEBRTC_CALL_CODE_MEDIA_TIMEOUT, reason);
    g_free (reason);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static void
watchdog_free (gpointer data)
{
  WebrtcCallWatchdog *w = data;
  WebrtcCallCall *call = w->call;
  GSource *source;

  GST_OBJECT_LOCK (call);
  if (call->watchdog == w)
    call->watchdog = NULL;
  source = w->source;
  w->source = NULL;
  GST_OBJECT_UNLOCK (call);
  if (source)
    g_source_unref (source);
  gst_object_unref (call);
  g_free (w);
}

/* The answer is in: from now on the far end's media is due. On the task
 * thread. */
void
webrtc_call_watchdog_start (WebrtcCallCall * call)
{
  GstWebrtcCall *bin = call->bin;
  WebrtcCallWatchdog *w;
  GMainContext *context = NULL;
  GSource *source;

  if (call->watchdog)
    return;
  w = g_new0 (WebrtcCallWatchdog, 1);
  w->call = gst_object_ref (call);
  w->start_us = g_get_monotonic_time ();
  w->flows[0].kind = "video";
  w->flows[0].packets = &call->video_rtp;
  w->flows[1].kind = "audio";
  w->flows[1].packets = &call->audio_rtp;
  w->flows[0].last_us = w->flows[1].last_us = w->start_us;
  GST_OBJECT_LOCK (bin);
  w->timeout_ms = bin->media_timeout;
  GST_OBJECT_UNLOCK (bin);

  g_mutex_lock (&bin->lock);
  if (bin->task_context)
    context = g_main_context_ref (bin->task_context);
  g_mutex_unlock (&bin->lock);
  if (context == NULL) {
    watchdog_free (w);
    return;
  }
  source = g_timeout_source_new (WATCHDOG_TICK_MS);
  g_source_set_callback (source, watchdog_tick, w, watchdog_free);
  GST_OBJECT_LOCK (call);
  call->watchdog = w;
  w->source = g_source_ref (source);
  GST_OBJECT_UNLOCK (call);
  g_source_attach (source, context);
  g_source_unref (source);
  g_main_context_unref (context);
}

/* The call ends (any thread) */
void
webrtc_call_watchdog_stop (WebrtcCallCall * call)
{
  GSource *source = NULL;

  GST_OBJECT_LOCK (call);
  if (call->watchdog) {
    if (call->watchdog->source)
      source = g_source_ref (call->watchdog->source);
    call->watchdog = NULL;
  }
  GST_OBJECT_UNLOCK (call);
  if (source) {
    g_source_destroy (source);
    g_source_unref (source);
  }
}
