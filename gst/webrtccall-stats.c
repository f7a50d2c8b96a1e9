/* webrtccall: the stats property
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "webrtccall-priv.h"

/* webrtccall-stats: the current call's figures, or the last call's once
 * it ended (its state is then "ended"). Types in docs/webrtccall.md. */
GstStructure *
webrtc_call_stats_new (GstWebrtcCall * self)
{
  WebrtcCallCall *call = NULL;
  GstWebrtcCallState state;
  GstStructure *s;
  gint64 setup_us = 0;

  g_mutex_lock (&self->lock);
  if (self->call)
    call = gst_object_ref (self->call);
  else if (self->ended)
    call = gst_object_ref (self->ended->data);
  g_mutex_unlock (&self->lock);

  if (call == NULL) {
    GST_OBJECT_LOCK (self);
    state = self->state;
    GST_OBJECT_UNLOCK (self);
    return gst_structure_new ("webrtccall-stats",
        "state", G_TYPE_STRING, webrtc_call_state_nick (state),
        "call-id", G_TYPE_STRING, "",
        "setup-ms", G_TYPE_DOUBLE, 0.0,
        "video-buffers-received", G_TYPE_INT, 0,
        "audio-buffers-received", G_TYPE_INT, 0,
        "video-packets-sent", G_TYPE_INT, 0,
        "audio-packets-sent", G_TYPE_INT, 0, NULL);
  }

  GST_OBJECT_LOCK (call);
  state = call->state;
  setup_us = call->setup_us;
  GST_OBJECT_UNLOCK (call);
  s = gst_structure_new ("webrtccall-stats",
      "state", G_TYPE_STRING, webrtc_call_state_nick (state),
      "call-id", G_TYPE_STRING, call->call_id,
      "setup-ms", G_TYPE_DOUBLE, setup_us / 1000.0,
      "video-buffers-received", G_TYPE_INT,
      g_atomic_int_get (&call->video_received),
      "audio-buffers-received", G_TYPE_INT,
      g_atomic_int_get (&call->audio_received),
      "video-packets-sent", G_TYPE_INT, g_atomic_int_get (&call->video_sent),
      "audio-packets-sent", G_TYPE_INT, g_atomic_int_get (&call->audio_sent),
      NULL);
  gst_object_unref (call);
  return s;
}
