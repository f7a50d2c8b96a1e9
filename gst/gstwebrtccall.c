/* GStreamer WTSP call bin
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-webrtccall
 * @title: webrtccall
 *
 * webrtccall makes audio/video calls through a call server that speaks
 * the WebTrit Signaling Protocol (WTSP): it holds the signaling session
 * (like #signalingsrc) and puts a `webrtcbin` behind it, so that a call
 * is a pipeline.
 *
 * Local media goes into the request pads `video_sink` and `audio_sink`:
 * raw video in any format, `image/jpeg` (MJPEG webcams), raw audio at any
 * rate, or media already encoded in the negotiated codec (H264, VP8,
 * Opus), which is only payloaded. Raw media is encoded to the codec
 * negotiated with the far end: VP8 or H264 for video, Opus, PCMU or PCMA
 * for audio. Between calls the sink pads take their input and drop it.
 * A sink pad requested during a call (a camera turned on in an audio-only
 * call) is offered to the far end at once: an `update` with our new
 * offer, a new m-line.
 *
 * Remote media comes out of the sometimes pads `video_src_%u` and
 * `audio_src_%u`, decoded by default, or encoded (depayloaded and parsed)
 * with `encoded-output=true`, ready for a muxer. Media on a src pad that
 * nobody linked is dropped inside the bin (one warning names the pad);
 * the call goes on. When a call ends the bin sends EOS on them, so a
 * muxer finishes its file; a stream the far end negotiated but never sent
 * still gets its pad then, with only EOS on it, so that sinks linked to
 * it by name finish too. The next call gets new pads.
 *
 * A call starts by dialling (`number` set when the bin goes to PLAYING, or
 * the #GstWebrtcCall::dial action signal), or when the server reports an
 * incoming call (answered by `auto-answer=true` or the
 * #GstWebrtcCall::answer action signal). Every change of the call's state
 * is posted on the bus as an element message named `webrtccall-state`
 * with the fields `state` (string: registered, calling, ringing,
 * progress, incoming, accepted, connected, holding, held, hangingup,
 * ended),
 * `line` (int), `call-id` (string), `caller` and `callee` (strings) where
 * known, and `code` (int) and `reason` (string) on `ended`. `connected`
 * means ICE and DTLS are up and media arrives. `ended` is posted before
 * the EOS that the end of the call causes.
 *
 * A call that came while every line was busy (`missed_call`) is posted by
 * an idle bin of the session as `incoming` then `ended` (code 486); when
 * every bin is in a call, by one of them as a `webrtccall-missed-call`
 * element message (line, call-id, caller, callee, code, reason), which
 * leaves that bin's own call alone.
 *
 * An application that takes calls as they come (a recorder) sets
 * `claim-timeout`: an incoming call that finds no idle bin of the session
 * then waits that long, posted as a `webrtccall-unclaimed` element
 * message (line, call-id, caller, callee, timeout), for a new bin with
 * `take-call` set to its call-id, before it is declined with 486.
 *
 * A call survives a lost signaling link: the session reconnects, the
 * bin posts its `wtsp-connection` messages (`state`: connecting,
 * handshake, ready, reconnecting, failed, stopped; `reason`), and on each
 * new handshake keeps the call if the server still lists it, or ends it
 * (`ended` 481 "the server no longer knows this call after
 * reconnecting", or the code of the hangup the server logged meanwhile).
 * A hangup during an outage ends the call at once and reaches the server
 * when the link is back.
 *
 * Media from the far end is watched: a kind that stops for 2 s posts a
 * `webrtccall-media` element message (`receiving` boolean, `kind` string,
 * `since-ms` guint64, `line`, `call-id`), its return another;
 * no media for `media-timeout` ms hangs up (`ended` 408), as does a
 * failed peer connection (503). The gateway's ice_webrtcup, ice_media,
 * ice_slowlink and ice_hangup events are posted as `webrtccall-ice`
 * (`event`, `line`, `call-id`, `json`).
 *
 * A re-offer from the far end on a running call (`updating_call`, a SIP
 * re-INVITE) is answered with `update`; a hold from the far end is the
 * state `held`, its resume `connected` again. The far end asking us to
 * call someone else (its REFER, the `transfer` event) is posted as a
 * `webrtccall-transfer` element message (`event`, `line`, `call-id`,
 * `refer-to`, `referred-by`, `refer-id`, `replace-call-id`).
 *
 * #GstWebrtcCall::hold asks for `hold-direction`; once the server confirms
 * (`holding`) the bin sends nothing until #GstWebrtcCall::unhold is
 * confirmed (`connected` again).
 *
 * DTMF: calls negotiate RFC 4733 telephone-event; #GstWebrtcCall::send-dtmf
 * sends keys in the audio stream, and each key the far end presses is a
 * `webrtccall-dtmf` element message (`tone` string, `duration` uint ms,
 * `line`, `call-id`).
 *
 * Call quality: every `stats-interval` ms a `webrtccall-stats` element
 * message (webrtcbin's get-stats summed up: per kind and direction codec,
 * bitrate, packets, loss, jitter; round trip; candidate types), the same
 * as the `stats` property; `stats-file` appends each as a JSON line, which
 * `pipelines/call-report.py` turns into a PNG.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 webrtccall name=call location=ws://127.0.0.1:8080/signaling/v1 token-file=alice.token number=bob \
 *     v4l2src ! call.video_sink  pulsesrc ! call.audio_sink \
 *     call.video_src_0 ! queue ! videoconvert ! autovideosink  call.audio_src_0 ! queue ! audioconvert ! autoaudiosink
 * ]| Calls bob with a webcam and a microphone, and shows and plays bob.
 * |[
 * gst-launch-1.0 -e -m webrtccall name=call location=ws://127.0.0.1:8080/signaling/v1 token-file=bob.token auto-answer=true encoded-output=true \
 *     call.video_src_0 ! queue ! mux.video_0  call.audio_src_0 ! queue ! mux.audio_0 \
 *     matroskamux name=mux ! filesink location=call.mkv
 * ]| Answers the next call and records it without transcoding; the file is
 * finished and gst-launch exits when the call ends. Name the muxer's pads:
 * gst-launch links `queue ! mux.` before it knows the caps, and may pick
 * the wrong pad.
 *
 * |[
 * gst-launch-1.0 -m webrtccall location=ws://127.0.0.1:8080/signaling/v1 token-file=alice.token number=ivr stats-file=call.jsonl \
 *     audiotestsrc is-live=true ! call.audio_sink  call.audio_src_0 ! queue ! autoaudiosink
 * ]| Calls an IVR, prints every `webrtccall-dtmf` and `webrtccall-stats` on
 * the bus (-m), and logs the call's quality for `call-report.py`.
 *
 * Since: 0.1
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "webrtccall-priv.h"
#include "wtspsdp.h"
#include "wtspsettings.h"

#include <string.h>

GST_DEBUG_CATEGORY (gst_webrtc_call_debug);
#define GST_CAT_DEFAULT gst_webrtc_call_debug

#define DEFAULT_NUMBER NULL
#define DEFAULT_LINE -1
#define DEFAULT_AUTO_ANSWER FALSE
#define DEFAULT_STUN_SERVER NULL
#define DEFAULT_TURN_SERVER NULL
#define DEFAULT_ICE_TRANSPORT_POLICY GST_WEBRTC_ICE_TRANSPORT_POLICY_ALL
#define DEFAULT_ICE_TCP FALSE
#define DEFAULT_MEDIA_TIMEOUT 30000
#define DEFAULT_LATENCY 50
#define DEFAULT_VIDEO_CODECS "VP8,H264"
#define DEFAULT_AUDIO_CODECS "OPUS,PCMU,PCMA"
#define DEFAULT_ENCODED_OUTPUT FALSE
#define DEFAULT_DTMF_DURATION 100
#define DEFAULT_DTMF_GAP 70
#define DEFAULT_HOLD_DIRECTION GST_WEBRTC_CALL_HOLD_SENDONLY
#define DEFAULT_MUTED FALSE
#define DEFAULT_ACCEPT_TRANSFERS FALSE
#define DEFAULT_CLAIM_TIMEOUT 0
#define DEFAULT_TAKE_CALL NULL
#define DEFAULT_STATS_INTERVAL 1000
#define DEFAULT_STATS_FILE NULL

/* How long the application's thread waits, at most, for another of our
 * threads in a state change; past it, a warning names what was waited for */
#define BARRIER_TIMEOUT_US (5 * G_TIME_SPAN_SECOND)
#define TEARDOWN_TIMEOUT_US (10 * G_TIME_SPAN_SECOND)

enum
{
  PROP_0,
  PROP_NUMBER,
  PROP_LINE,
  PROP_AUTO_ANSWER,
  PROP_STUN_SERVER,
  PROP_TURN_SERVER,
  PROP_ICE_TRANSPORT_POLICY,
  PROP_ICE_TCP,
  PROP_LATENCY,
  PROP_MEDIA_TIMEOUT,
  PROP_VIDEO_CODECS,
  PROP_AUDIO_CODECS,
  PROP_ENCODED_OUTPUT,
  PROP_DTMF_DURATION,
  PROP_DTMF_GAP,
  PROP_HOLD_DIRECTION,
  PROP_STATS_INTERVAL,
  PROP_STATS_FILE,
  PROP_VIDEO_MUTED,
  PROP_AUDIO_MUTED,
  PROP_ACCEPT_TRANSFERS,
  PROP_CLAIM_TIMEOUT,
  PROP_TAKE_CALL,
  PROP_STATE,
  PROP_CALL_ID,
  PROP_REMOTE_NUMBER,
  PROP_STATS,
  PROP_SESSION_SETTINGS,        /* the signaling properties follow */
};

enum
{
  SIGNAL_DIAL,
  SIGNAL_ANSWER,
  SIGNAL_DECLINE,
  SIGNAL_HANGUP,
  SIGNAL_HOLD,
  SIGNAL_UNHOLD,
  SIGNAL_SEND_DTMF,
  SIGNAL_TRANSFER,
  LAST_SIGNAL
};

static guint signals[LAST_SIGNAL];

static GstStaticPadTemplate video_sink_template =
GST_STATIC_PAD_TEMPLATE ("video_sink", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("video/x-raw(ANY); image/jpeg; video/x-h264; "
        "video/x-vp8"));

static GstStaticPadTemplate audio_sink_template =
GST_STATIC_PAD_TEMPLATE ("audio_sink", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("audio/x-raw; audio/x-opus; audio/x-mulaw; "
        "audio/x-alaw"));

static GstStaticPadTemplate video_src_template =
GST_STATIC_PAD_TEMPLATE ("video_src_%u", GST_PAD_SRC, GST_PAD_SOMETIMES,
    GST_STATIC_CAPS ("video/x-raw; video/x-vp8; video/x-h264"));

static GstStaticPadTemplate audio_src_template =
GST_STATIC_PAD_TEMPLATE ("audio_src_%u", GST_PAD_SRC, GST_PAD_SOMETIMES,
    GST_STATIC_CAPS ("audio/x-raw; audio/x-opus; audio/x-mulaw; "
        "audio/x-alaw"));

#define gst_webrtc_call_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstWebrtcCall, gst_webrtc_call, GST_TYPE_BIN,
    GST_DEBUG_CATEGORY_INIT (gst_webrtc_call_debug, "webrtccall", 0,
        "WTSP call bin"));
GST_ELEMENT_REGISTER_DEFINE (webrtccall, "webrtccall", GST_RANK_NONE,
    GST_TYPE_WEBRTC_CALL);

GType
gst_webrtc_call_state_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_WEBRTC_CALL_STATE_IDLE, "Not registered yet", "idle"},
    {GST_WEBRTC_CALL_STATE_REGISTERED, "Registered, no call", "registered"},
    {GST_WEBRTC_CALL_STATE_CALLING, "Dialling", "calling"},
    {GST_WEBRTC_CALL_STATE_RINGING, "The far end rings", "ringing"},
    {GST_WEBRTC_CALL_STATE_PROGRESS, "Early media", "progress"},
    {GST_WEBRTC_CALL_STATE_INCOMING, "A call waits for an answer",
        "incoming"},
    {GST_WEBRTC_CALL_STATE_ACCEPTED, "Answered, media being set up",
        "accepted"},
    {GST_WEBRTC_CALL_STATE_CONNECTED, "ICE and DTLS up, media flows",
        "connected"},
    {GST_WEBRTC_CALL_STATE_HOLDING, "On hold", "holding"},
    {GST_WEBRTC_CALL_STATE_HELD, "The far end holds the call", "held"},
    {GST_WEBRTC_CALL_STATE_HANGINGUP, "Hanging up", "hangingup"},
    {GST_WEBRTC_CALL_STATE_ENDED, "The call ended", "ended"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstWebrtcCallState", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_webrtc_call_hold_direction_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_WEBRTC_CALL_HOLD_SENDONLY, "RFC 3264 hold: the far end stops "
          "sending", "sendonly"},
    {GST_WEBRTC_CALL_HOLD_INACTIVE, "Neither side sends", "inactive"},
    {GST_WEBRTC_CALL_HOLD_RECVONLY, "The far end goes on sending, we listen",
        "recvonly"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstWebrtcCallHoldDirection", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* The task queue: one thread per bin, running every call's work in the
 * order it was asked for. The session's thread, webrtcbin's threads and
 * the application's only queue work here. */

typedef struct
{
  GstWebrtcCall *self;
  WebrtcCallCall *call;         /* NULL: not tied to a call */
  WebrtcCallTaskFunc func;
  gpointer data;
  GDestroyNotify notify;
  gboolean surgery;             /* changes our children */
} Task;

static void
task_free (Task * t)
{
  if (t->notify && t->data)
    t->notify (t->data);
  if (t->call)
    gst_object_unref (t->call);
  if (t->self)
    gst_object_unref (t->self);
  g_free (t);
}

static void
task_destroy (gpointer data)
{
  task_free (data);
}

static gboolean
task_run (gpointer data)
{
  Task *t = data;
  GstWebrtcCall *self = t->self;
  gboolean shutdown;

  g_mutex_lock (&self->lock);
  shutdown = self->shutdown;
  g_mutex_unlock (&self->lock);

  if (shutdown) {
    GST_DEBUG_OBJECT (self, "stopping: work dropped");
  } else if (t->call && webrtc_call_call_is_ending (t->call)) {
    GST_DEBUG_OBJECT (t->call, "call ended: work dropped");
  } else if (!t->surgery) {
    t->func (self, t->call, t->data);
  } else if (webrtc_call_begin_surgery (self, FALSE)) {
    t->func (self, t->call, t->data);
    webrtc_call_end_surgery (self);
  } else {
    /* The application is changing our state: after it. The work moves
     * to a task of its own, which end_change() may queue again at once,
     * on its thread, while this source is still being destroyed here */
    Task *moved = g_new (Task, 1);

    GST_DEBUG_OBJECT (self, "work deferred until the state change is over");
    *moved = *t;
    t->self = NULL;
    t->call = NULL;
    t->data = NULL;
    t->notify = NULL;
    g_mutex_lock (&self->lock);
    self->deferred_tasks = g_list_append (self->deferred_tasks, moved);
    g_mutex_unlock (&self->lock);
  }
  return G_SOURCE_REMOVE;
}

static gboolean
task_attach (GstWebrtcCall * self, guint delay_ms, GSourceFunc func,
    gpointer data, GDestroyNotify notify)
{
  GMainContext *context = NULL;
  GSource *source;

  g_mutex_lock (&self->lock);
  if (self->task_context)
    context = g_main_context_ref (self->task_context);
  g_mutex_unlock (&self->lock);
  if (context == NULL) {
    if (notify)
      notify (data);
    return FALSE;
  }
  source = delay_ms ? g_timeout_source_new (delay_ms) : g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, notify);
  g_source_attach (source, context);
  g_source_unref (source);
  g_main_context_unref (context);
  return TRUE;
}

static void
enqueue (GstWebrtcCall * self, WebrtcCallCall * call, guint delay_ms,
    WebrtcCallTaskFunc func, gpointer data, GDestroyNotify notify,
    gboolean surgery)
{
  Task *t = g_new0 (Task, 1);

  t->self = gst_object_ref (self);
  t->call = call ? gst_object_ref (call) : NULL;
  t->func = func;
  t->data = data;
  t->notify = notify;
  t->surgery = surgery;
  if (!task_attach (self, delay_ms, task_run, t, task_destroy))
    GST_DEBUG_OBJECT (self, "no task queue: work dropped");
}

/**
 * webrtc_call_enqueue:
 * @call: (nullable): the call the work is for: dropped if it ended first
 *
 * Queues @func on the bin's task thread, from any thread. Never runs
 * @func at once, so callers may hold their own locks.
 */
void
webrtc_call_enqueue (GstWebrtcCall * self, WebrtcCallCall * call,
    WebrtcCallTaskFunc func, gpointer data, GDestroyNotify notify)
{
  enqueue (self, call, 0, func, data, notify, FALSE);
}

/* Same, @delay_ms from now (a timer of the call's: dropped if the call
 * ended first) */
void
webrtc_call_enqueue_later (GstWebrtcCall * self, WebrtcCallCall * call,
    guint delay_ms, WebrtcCallTaskFunc func, gpointer data,
    GDestroyNotify notify)
{
  enqueue (self, call, delay_ms, func, data, notify, FALSE);
}

/* Same, for work that adds or removes children: held back while the
 * application changes our state */
void
webrtc_call_enqueue_surgery (GstWebrtcCall * self, WebrtcCallCall * call,
    WebrtcCallTaskFunc func, gpointer data, GDestroyNotify notify)
{
  enqueue (self, call, 0, func, data, notify, TRUE);
}

static gpointer
task_thread_func (gpointer data)
{
  GstWebrtcCall *self = data;

  g_main_context_push_thread_default (self->task_context);
  g_main_loop_run (self->task_loop);
  g_main_context_pop_thread_default (self->task_context);
  return NULL;
}

static void
tasks_start (GstWebrtcCall * self)
{
  GMainContext *context = g_main_context_new ();

  self->task_loop = g_main_loop_new (context, FALSE);
  g_mutex_lock (&self->lock);
  self->task_context = context;
  g_mutex_unlock (&self->lock);
  self->task_thread = g_thread_new ("webrtccall-tasks", task_thread_func, self);
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static void
tasks_stop (GstWebrtcCall * self)
{
  GMainContext *context;

  if (self->task_thread == NULL)
    return;
  task_attach (self, 0, quit_loop, self->task_loop, NULL);
  g_thread_join (self->task_thread);
  self->task_thread = NULL;

  g_mutex_lock (&self->lock);
  context = self->task_context;
  self->task_context = NULL;
  g_mutex_unlock (&self->lock);
  /* What was still queued is dropped (shutdown), its data freed */
  while (g_main_context_iteration (context, FALSE));
  g_main_loop_unref (self->task_loop);
  self->task_loop = NULL;
  g_main_context_unref (context);
}

typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean done;
} Fence;

static gboolean
fence_reached (gpointer data)
{
  Fence *f = data;

  g_mutex_lock (&f->lock);
  f->done = TRUE;
  g_cond_signal (&f->cond);
  g_mutex_unlock (&f->lock);
  return G_SOURCE_REMOVE;
}

/* Waits until the task thread ran what was queued before (dropping it,
 * when stopping). Bounded: it may be in an application's sink that our
 * flush has not reached. */
static void
tasks_fence (GstWebrtcCall * self)
{
  Fence *f = g_new0 (Fence, 1);
  gint64 deadline = g_get_monotonic_time () + BARRIER_TIMEOUT_US;
  gboolean done = TRUE;

  g_mutex_init (&f->lock);
  g_cond_init (&f->cond);
  if (task_attach (self, 0, fence_reached, f, NULL)) {
    g_mutex_lock (&f->lock);
    while (!f->done && g_cond_wait_until (&f->cond, &f->lock, deadline));
    done = f->done;
    g_mutex_unlock (&f->lock);
  }
  if (!done) {
    /* The fence runs later: leak it rather than free it under its feet */
    GST_WARNING_OBJECT (self, "the task thread is still busy after %d s",
        (gint) (BARRIER_TIMEOUT_US / G_TIME_SPAN_SECOND));
    return;
  }
  g_mutex_clear (&f->lock);
  g_cond_clear (&f->cond);
  g_free (f);
}

/* Children and state changes. Only the application's thread changes our
 * children while it changes our state; our task thread defers its work
 * (webrtc_call_enqueue_surgery) and webrtcbin's streaming threads, which
 * must link new streams at once, only bail out once we are stopping (as
 * rtpbin's do). The application's thread waits, bounded, for surgeries
 * that started before it came. */

gboolean
webrtc_call_begin_surgery (GstWebrtcCall * self, gboolean streaming)
{
  gboolean ok;

  g_mutex_lock (&self->lock);
  if (self->changing && self->changer == g_thread_self ())
    ok = TRUE;
  else if (self->shutdown || (self->changing && !streaming))
    ok = FALSE;
  else {
    self->surgeons++;
    ok = TRUE;
  }
  g_mutex_unlock (&self->lock);
  return ok;
}

void
webrtc_call_end_surgery (GstWebrtcCall * self)
{
  g_mutex_lock (&self->lock);
  if (!(self->changing && self->changer == g_thread_self ())) {
    self->surgeons--;
    g_cond_broadcast (&self->cond);
  }
  g_mutex_unlock (&self->lock);
}

void
webrtc_call_defer_teardown (GstWebrtcCall * self, WebrtcCallCall * call)
{
  g_mutex_lock (&self->lock);
  self->deferred = g_list_append (self->deferred, gst_object_ref (call));
  g_mutex_unlock (&self->lock);
}

/* The calls whose src pads are ours: the current one and the ended ones */
static GList *
dup_calls_with_pads (GstWebrtcCall * self)
{
  GList *calls;

  g_mutex_lock (&self->lock);
  calls = g_list_copy_deep (self->ended, (GCopyFunc) (void (*)(void))
      gst_object_ref, NULL);
  if (self->call)
    calls = g_list_prepend (calls, gst_object_ref (self->call));
  g_mutex_unlock (&self->lock);
  return calls;
}

static void
flush_outputs (GstWebrtcCall * self, gboolean start)
{
  GList *calls = dup_calls_with_pads (self), *l;

  for (l = calls; l; l = l->next)
    webrtc_call_media_flush_outputs (l->data, start);
  g_list_free_full (calls, gst_object_unref);
}

/* Whether the application's thread is stopping us (and runs this) */
gboolean
webrtc_call_is_stopping (GstWebrtcCall * self)
{
  gboolean stopping;

  g_mutex_lock (&self->lock);
  stopping = self->shutdown && self->changer == g_thread_self ();
  g_mutex_unlock (&self->lock);
  return stopping;
}

static void
begin_change (GstWebrtcCall * self, gboolean shutdown)
{
  gint64 deadline = g_get_monotonic_time () + BARRIER_TIMEOUT_US;

  g_mutex_lock (&self->lock);
  self->changing = TRUE;
  self->changer = g_thread_self ();
  if (shutdown)
    self->shutdown = TRUE;
  g_mutex_unlock (&self->lock);

  /* Stopping: release whoever of ours waits in the application's sinks
   * (our task thread, pushing EOS into a sink in preroll; webrtcbin's
   * streaming threads), before waiting for anyone */
  if (shutdown)
    flush_outputs (self, TRUE);

  g_mutex_lock (&self->lock);
  while (self->surgeons > 0
      && g_cond_wait_until (&self->cond, &self->lock, deadline));
  if (self->surgeons > 0)
    GST_WARNING_OBJECT (self, "%u threads still change our children",
        self->surgeons);
  g_mutex_unlock (&self->lock);
}

/* Still changing: teardowns held back meanwhile are done here, on the
 * application's thread; deferred tasks go back to the queue */
static void
end_change (GstWebrtcCall * self)
{
  GList *calls, *tasks, *l;
  gboolean shutdown;

  g_mutex_lock (&self->lock);
  calls = self->deferred;
  self->deferred = NULL;
  g_mutex_unlock (&self->lock);
  for (l = calls; l; l = l->next)
    webrtc_call_call_finish_teardown (l->data);
  g_list_free_full (calls, gst_object_unref);

  g_mutex_lock (&self->lock);
  self->changing = FALSE;
  self->changer = NULL;
  tasks = self->deferred_tasks;
  self->deferred_tasks = NULL;
  shutdown = self->shutdown;
  g_mutex_unlock (&self->lock);

  for (l = tasks; l; l = l->next) {
    Task *t = l->data;

    if (shutdown)
      task_free (t);
    else
      task_attach (self, 0, task_run, t, task_destroy);
  }
  g_list_free (tasks);
}

/* Bus */

void
webrtc_call_post_eos (GstWebrtcCall * self)
{
  GST_DEBUG_OBJECT (self, "EOS: no call goes on");
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_eos (GST_OBJECT (self)));
}

void
webrtc_call_post_registered (GstWebrtcCall * self)
{
  GST_OBJECT_LOCK (self);
  self->state = GST_WEBRTC_CALL_STATE_REGISTERED;
  GST_OBJECT_UNLOCK (self);
  GST_INFO_OBJECT (self, "call state registered");
  g_object_notify (G_OBJECT (self), "state");
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("webrtccall-state",
              "state", G_TYPE_STRING, "registered", NULL)));
}

gchar *
webrtc_call_dup_codecs (GstWebrtcCall * self, const gchar * media)
{
  gchar *codecs;

  GST_OBJECT_LOCK (self);
  codecs = g_strdup (g_strcmp0 (media, "video") == 0 ? self->video_codecs :
      g_strcmp0 (media, "audio") == 0 ? self->audio_codecs : "");
  GST_OBJECT_UNLOCK (self);
  return codecs;
}

/* Requests: replies come on the session's thread and go to the queue */

typedef struct
{
  GstWebrtcCall *self;
  WebrtcCallCall *call;
} RequestCtx;

static void
request_ctx_free (RequestCtx * ctx)
{
  gst_object_unref (ctx->self);
  g_clear_object (&ctx->call);
  g_free (ctx);
}

static void
request_failed (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  webrtc_call_call_request_failed (call, data);
}

typedef struct
{
  gint line;
  gchar *call_id;
} OrphanData;

static void
orphan_data_free (OrphanData * o)
{
  g_free (o->call_id);
  g_free (o);
}

static void
orphan_task (GstWebrtcCall * self, WebrtcCallCall * unused, gpointer data)
{
  OrphanData *o = data;

  webrtc_call_recovery_add_orphan (self, o->line, o->call_id);
}

static void
on_request_reply (GstPromise * promise, gpointer user_data)
{
  RequestCtx *ctx = user_data;
  const GstStructure *reply = gst_promise_get_reply (promise);
  const gchar *result = wtsp_reply_get_result (reply);

  if (ctx->call == NULL || g_str_equal (result, WTSP_RESULT_ACK))
    return;
  /* A hangup that never reached the server (the link stayed down past
   * its timeout) is sent again after the next handshake: on the queue,
   * with no call, so that it is not dropped with the ended call's work */
  if (g_strcmp0 (gst_structure_get_string (reply, "request"), "hangup") == 0
      && (g_str_equal (result, WTSP_RESULT_TIMEOUT)
          || g_str_equal (result, WTSP_RESULT_DISCONNECTED))) {
    OrphanData *o = g_new0 (OrphanData, 1);

    o->line = ctx->call->line;
    o->call_id = g_strdup (ctx->call->call_id);
    webrtc_call_enqueue (ctx->self, NULL, orphan_task, o,
        (GDestroyNotify) orphan_data_free);
  }
  webrtc_call_enqueue (ctx->self, ctx->call, request_failed,
      gst_structure_copy (reply), (GDestroyNotify) gst_structure_free);
}

void
webrtc_call_send_request (GstWebrtcCall * self, WebrtcCallCall * call,
    JsonObject * request)
{
  RequestCtx *ctx;
  GstPromise *promise;

  if (self->session == NULL) {
    json_object_unref (request);
    return;
  }
  ctx = g_new0 (RequestCtx, 1);
  ctx->self = gst_object_ref (self);
  ctx->call = call ? gst_object_ref (call) : NULL;
  promise = gst_promise_new_with_change_func (on_request_reply, ctx,
      (GDestroyNotify) request_ctx_free);
  wtsp_session_send_request (self->session, request, promise);
  gst_promise_unref (promise);
}

/* Tasks of the bin */

static WebrtcCallCall *
dup_call (GstWebrtcCall * self)
{
  WebrtcCallCall *call;

  g_mutex_lock (&self->lock);
  call = self->call ? gst_object_ref (self->call) : NULL;
  g_mutex_unlock (&self->lock);
  return call;
}

/* Inside a surgery, as a new call starts: the ended calls' pads go */
static void
remove_ended_outputs (GstWebrtcCall * self)
{
  GList *ended, *l;

  g_mutex_lock (&self->lock);
  ended = self->ended;
  self->ended = NULL;
  g_mutex_unlock (&self->lock);
  for (l = ended; l; l = l->next)
    webrtc_call_media_remove_outputs (l->data);
  g_list_free_full (ended, gst_object_unref);
}

/* @refer_id: the call carries out the transfer the far end asked for
 * (protocol.md §11), on any free line: the transferred call keeps its own
 * until the transferor hangs it up */
static void
dial_full (GstWebrtcCall * self, const gchar * number, const gchar * refer_id)
{
  WebrtcCallCall *call, *busy;
  gchar *call_id;
  gint line;

  if ((busy = dup_call (self))) {
    GST_ELEMENT_WARNING (self, RESOURCE, BUSY,
        ("Cannot dial %s: call %s is still going on", number, busy->call_id),
        (NULL));
    gst_object_unref (busy);
    return;
  }
  if (!self->ready) {
    GST_DEBUG_OBJECT (self, "dial %s once registered", number);
    GST_OBJECT_LOCK (self);
    g_free (self->number);
    self->number = g_strdup (number);
    GST_OBJECT_UNLOCK (self);
    self->dial_pending = TRUE;
    return;
  }

  GST_OBJECT_LOCK (self);
  line = refer_id ? -1 : self->line;
  GST_OBJECT_UNLOCK (self);
  if (line >= 0 && (guint) line >= wtsp_session_get_n_lines (self->session)) {
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("Cannot dial %s on line %d: this account has %u lines (0 to %u); "
            "line=-1 takes the first free one", number, line,
            wtsp_session_get_n_lines (self->session),
            wtsp_session_get_n_lines (self->session) - 1), (NULL));
    return;
  }
  line = wtsp_session_claim_line (self->session, line, self);
  if (line < 0) {
    GST_ELEMENT_WARNING (self, RESOURCE, BUSY,
        ("Cannot dial %s: no free line on this account", number), (NULL));
    return;
  }

  call_id = wtsp_random_id (24);
  call = webrtc_call_call_new (self, line, call_id);
  g_free (call_id);
  call->outgoing = TRUE;
  call->callee = g_strdup (number);
  call->refer_id = g_strdup (refer_id);

  g_mutex_lock (&self->lock);
  busy = self->call;
  if (busy == NULL)
    self->call = gst_object_ref (call);
  g_mutex_unlock (&self->lock);
  if (busy) {
    /* An incoming call took the bin meanwhile */
    GST_ELEMENT_WARNING (self, RESOURCE, BUSY,
        ("Cannot dial %s: call %s is going on", number, busy->call_id),
        (NULL));
    wtsp_session_release_line (self->session, line, self);
    gst_object_unref (call);
    return;
  }

  remove_ended_outputs (self);
  g_object_notify (G_OBJECT (self), "call-id");
  g_object_notify (G_OBJECT (self), "remote-number");
  webrtc_call_call_dial (call);
  gst_object_unref (call);
}

static void
dial_task (GstWebrtcCall * self, WebrtcCallCall * unused, gpointer data)
{
  dial_full (self, data, NULL);
}

typedef struct
{
  gchar *number;
  gchar *refer_id;
} TransferDial;

static void
transfer_dial_free (TransferDial * d)
{
  g_free (d->number);
  g_free (d->refer_id);
  g_free (d);
}

static void
transfer_dial_task (GstWebrtcCall * self, WebrtcCallCall * unused,
    gpointer data)
{
  TransferDial *d = data;

  dial_full (self, d->number, d->refer_id);
}

/* Task thread, once the transferred call ended here: the new call */
void
webrtc_call_dial_transfer (GstWebrtcCall * self, const gchar * number,
    const gchar * refer_id)
{
  TransferDial *d = g_new0 (TransferDial, 1);

  d->number = g_strdup (number);
  d->refer_id = g_strdup (refer_id);
  webrtc_call_enqueue_surgery (self, NULL, transfer_dial_task, d,
      (GDestroyNotify) transfer_dial_free);
}

static void
incoming_task (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  const gchar *problem;
  gboolean auto_answer;

  remove_ended_outputs (self);
  g_object_notify (G_OBJECT (self), "call-id");
  g_object_notify (G_OBJECT (self), "remote-number");
  webrtc_call_call_post_state (call, GST_WEBRTC_CALL_STATE_INCOMING, 0, NULL);

  /* An offer nobody could answer is declined now, not when answered */
  problem = webrtc_call_negotiation_check_offer (call->incoming);
  if (problem) {
    GST_WARNING_OBJECT (call, "declining: %s", problem);
    g_clear_pointer (&call->incoming, wtsp_message_unref);
    webrtc_call_call_decline (call, 488);
    webrtc_call_call_end (call, 488, problem);
    return;
  }

  GST_OBJECT_LOCK (self);
  auto_answer = self->auto_answer;
  GST_OBJECT_UNLOCK (self);
  if (auto_answer)
    webrtc_call_call_answer (call);
}

static void
event_task (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  webrtc_call_call_handle_event (call, data);
}

static gboolean take_waiting_call (GstWebrtcCall * self);

/* The server is registered with its SIP side, for the first time since
 * we started: "registered", then the call take-call names, or a dial
 * that waited */
static void
became_registered (GstWebrtcCall * self)
{
  WebrtcCallCall *call;

  if (self->ready)
    return;
  self->ready = TRUE;
  call = dup_call (self);
  if (call == NULL)
    webrtc_call_post_registered (self);
  if (call == NULL && take_waiting_call (self)) {
    self->dial_pending = FALSE;
    return;
  }
  if (self->dial_pending && call == NULL) {
    gchar *number;

    self->dial_pending = FALSE;
    GST_OBJECT_LOCK (self);
    number = g_strdup (self->number);
    GST_OBJECT_UNLOCK (self);
    webrtc_call_enqueue_surgery (self, NULL, dial_task, number, g_free);
  }
  g_clear_object (&call);
}

/* The SIP registration the server reports failed (a wrong password, a
 * registrar that refuses): nothing can be called, as signalingsrc says */
static void
registration_failed (GstWebrtcCall * self, gint64 code, const gchar * reason,
    WtspMessage * msg)
{
  GST_ELEMENT_ERROR (self, RESOURCE, NOT_AUTHORIZED,
      ("SIP registration failed: %" G_GINT64_FORMAT " %s", code,
          reason ? reason : "(no reason given)"),
      ("%s", wtsp_message_to_string (msg)));
}

/* registered, registration_failed: session events */
static void
registration_task (GstWebrtcCall * self, WebrtcCallCall * unused,
    gpointer data)
{
  WtspMessage *msg = data;

  if (!self->handshaken)
    return;
  if (wtsp_message_is_event (msg, "registered"))
    became_registered (self);
  else
    registration_failed (self, msg->code, msg->reason, msg);
}

/* Each handshake: @data is its "state" message. After the first, every
 * one follows a reconnect. Its registration.status says whether the
 * server is registered with its SIP side (a gateway may still be
 * registering: "registered" then waits for the event). */
static void
ready_task (GstWebrtcCall * self, WebrtcCallCall * unused, gpointer data)
{
  WtspMessage *state = data;
  JsonObject *reg = state ? wtsp_message_get_object (state, "registration") :
      NULL;
  WebrtcCallCall *call = dup_call (self);
  gboolean first = !self->handshaken;
  gchar *status = NULL;

  self->handshaken = TRUE;
  if (!first && state)
    webrtc_call_recovery_reconcile (self, call, data);
  g_clear_object (&call);

  /* NULL: a shared session, ready before we joined it: as it is now */
  if (state == NULL)
    g_object_get (self->session, "registration", &status, NULL);
  else if (reg)
    status = g_strdup (json_object_get_string_member_with_default (reg,
            "status", NULL));
  if (status == NULL || g_str_equal (status, "registered"))
    became_registered (self);
  else if (g_str_equal (status, "registration_failed") && reg)
    registration_failed (self, json_object_get_int_member_with_default (reg,
            "code", 0), json_object_get_string_member_with_default (reg,
            "reason", NULL), state);
  else if (!self->ready)
    GST_INFO_OBJECT (self, "the server's SIP registration is %s: waiting "
        "for \"registered\"", status);
  g_free (status);
}

static void
play_task (GstWebrtcCall * self, WebrtcCallCall * unused, gpointer data)
{
  gchar *number;

  GST_OBJECT_LOCK (self);
  number = g_strdup (self->number);
  GST_OBJECT_UNLOCK (self);
  if (number && *number)
    dial_task (self, NULL, number);
  g_free (number);
}

static void
session_failed_task (GstWebrtcCall * self, WebrtcCallCall * unused,
    gpointer data)
{
  WebrtcCallCall *call = dup_call (self);

  if (call) {
    webrtc_call_call_end (call, 503, data);
    gst_object_unref (call);
  }
}

static void
inputs_ended_task (GstWebrtcCall * self, WebrtcCallCall * unused,
    gpointer data)
{
  WebrtcCallCall *call;

  /* The pipeline is ending: hang up cleanly; the call's end sends EOS
   * out of our src pads */
  g_mutex_lock (&self->lock);
  self->eos = TRUE;
  g_mutex_unlock (&self->lock);
  call = dup_call (self);
  if (call) {
    webrtc_call_call_hangup (call);
    gst_object_unref (call);
  } else if (!self->calls_done) {
    self->calls_done = TRUE;
    webrtc_call_post_eos (self);
  }
}

void
webrtc_call_inputs_ended (GstWebrtcCall * self)
{
  webrtc_call_enqueue (self, NULL, inputs_ended_task, NULL, NULL);
}

/* Missed calls: reported once per session, by an idle bin as a call that
 * came and ended at once, or else by a busy one as a message of its own */

/* Whether this bin is the first of the session to report @msg (the
 * session's bins all see it): @name names the report */
static gboolean
report_once (WtspSession * session, const gchar * name, WtspMessage * msg)
{
  GQuark quark = g_quark_from_string (name);
  const gchar *text = wtsp_message_to_string (msg);

  if (g_strcmp0 (g_object_get_qdata (G_OBJECT (session), quark), text) == 0)
    return FALSE;
  g_object_set_qdata_full (G_OBJECT (session), quark, g_strdup (text),
      g_free);
  return TRUE;
}

static void
missed_as_states_task (GstWebrtcCall * self, WebrtcCallCall * unused,
    gpointer data)
{
  WtspMessage *msg = data;
  const gchar *states[] = { "incoming", "ended" };
  guint i;

  GST_INFO_OBJECT (self, "missed call from %s",
      GST_STR_NULL (wtsp_message_get_string (msg, "caller")));
  for (i = 0; i < G_N_ELEMENTS (states); i++) {
    GstStructure *s = gst_structure_new ("webrtccall-state",
        "state", G_TYPE_STRING, states[i],
        "line", G_TYPE_INT, msg->line,
        "call-id", G_TYPE_STRING, GST_STR_NULL (msg->call_id),
        "caller", G_TYPE_STRING, GST_STR_NULL (wtsp_message_get_string (msg,
                "caller")),
        "callee", G_TYPE_STRING, GST_STR_NULL (wtsp_message_get_string (msg,
                "callee")), NULL);

    if (i == 1)
      gst_structure_set (s, "code", G_TYPE_INT, 486,
          "reason", G_TYPE_STRING, "missed: all lines were busy", NULL);
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self), s));
  }
}

static void
missed_as_message_task (GstWebrtcCall * self, WebrtcCallCall * unused,
    gpointer data)
{
  WtspMessage *msg = data;

  GST_INFO_OBJECT (self, "missed call from %s while in a call",
      GST_STR_NULL (wtsp_message_get_string (msg, "caller")));
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("webrtccall-missed-call",
              "line", G_TYPE_INT, msg->line,
              "call-id", G_TYPE_STRING, GST_STR_NULL (msg->call_id),
              "caller", G_TYPE_STRING,
              GST_STR_NULL (wtsp_message_get_string (msg, "caller")),
              "callee", G_TYPE_STRING,
              GST_STR_NULL (wtsp_message_get_string (msg, "callee")),
              "code", G_TYPE_INT, 486,
              "reason", G_TYPE_STRING, "missed: all lines were busy",
              NULL)));
}

/* The session's thread: parse and dispatch, nothing more */

static gboolean
is_idle (GstWebrtcCall * self)
{
  gboolean idle;

  g_mutex_lock (&self->lock);
  idle = self->call == NULL && !self->eos && !self->shutdown;
  g_mutex_unlock (&self->lock);
  return idle;
}

/* self->lock held, its line claimed: @msg's call becomes ours */
static WebrtcCallCall *
new_incoming_call (GstWebrtcCall * self, WtspMessage * msg)
{
  WebrtcCallCall *call = webrtc_call_call_new (self, msg->line, msg->call_id);

  call->caller = g_strdup (wtsp_message_get_string (msg, "caller"));
  call->callee = g_strdup (wtsp_message_get_string (msg, "callee"));
  call->incoming = wtsp_message_ref (msg);
  call->known = TRUE;
  self->call = gst_object_ref (call);
  return call;
}

/* The first idle bin of the session claims the line at once, so that no
 * other bin takes the call too; the session declines a call nobody
 * claimed (after claim-timeout, if a bin may still take it) */
static void
dispatch_incoming (GstWebrtcCall * self, WtspSession * session,
    WtspMessage * msg)
{
  WebrtcCallCall *call = NULL;

  g_mutex_lock (&self->lock);
  if (self->call == NULL && !self->eos && !self->shutdown
      && !self->take_pending && msg->line >= 0 && msg->call_id
      && wtsp_session_claim_line (session, msg->line, self) == msg->line)
    call = new_incoming_call (self, msg);
  g_mutex_unlock (&self->lock);

  if (call) {
    webrtc_call_enqueue_surgery (self, call, incoming_task, NULL, NULL);
    gst_object_unref (call);
  }
}

/* Task thread, the bin registered: the waiting call take-call names
 * becomes ours. Returns: whether it did */
static gboolean
take_waiting_call (GstWebrtcCall * self)
{
  WebrtcCallCall *call = NULL;
  WtspMessage *msg;
  gchar *call_id;

  GST_OBJECT_LOCK (self);
  call_id = g_strdup (self->take_call);
  GST_OBJECT_UNLOCK (self);
  g_mutex_lock (&self->lock);
  self->take_pending = FALSE;
  g_mutex_unlock (&self->lock);
  if (call_id == NULL || !*call_id || self->take_tried) {
    g_free (call_id);
    return FALSE;
  }
  self->take_tried = TRUE;

  msg = wtsp_session_take_waiting_call (self->session, call_id, self);
  if (msg == NULL) {
    GST_ELEMENT_WARNING (self, RESOURCE, NOT_FOUND,
        ("Incoming call %s is not waiting to be taken: declined after "
            "claim-timeout, taken by another bin, hung up by its caller, "
            "or unknown", call_id), ("take-call=%s", call_id));
    g_free (call_id);
    return FALSE;
  }
  g_mutex_lock (&self->lock);
  if (self->call == NULL && !self->eos && !self->shutdown)
    call = new_incoming_call (self, msg);
  g_mutex_unlock (&self->lock);

  if (call) {
    GST_INFO_OBJECT (self, "took waiting call %s on line %d", call_id,
        msg->line);
    webrtc_call_enqueue_surgery (self, call, incoming_task, NULL, NULL);
    gst_object_unref (call);
  } else {
    /* stopping, or in a call already: back to the session, declined */
    JsonObject *req = wtsp_request_new ("decline", msg->line, msg->call_id);

    json_object_set_int_member (req, "code", 486);
    wtsp_session_release_line (self->session, msg->line, self);
    wtsp_session_send_request (self->session, req, NULL);
  }
  wtsp_message_unref (msg);
  g_free (call_id);
  return call != NULL;
}

static void
on_session_message (WtspSession * session, WtspMessage * msg,
    GstWebrtcCall * self)
{
  WebrtcCallCall *call;

  if (msg->kind != WTSP_MESSAGE_KIND_EVENT)
    return;

  if (wtsp_message_is_event (msg, "incoming_call")) {
    dispatch_incoming (self, session, msg);
    return;
  }
  if (wtsp_message_is_event (msg, "registered")
      || wtsp_message_is_event (msg, "registration_failed")) {
    webrtc_call_enqueue (self, NULL, registration_task, wtsp_message_ref (msg),
        (GDestroyNotify) wtsp_message_unref);
    return;
  }
  if (wtsp_message_is_event (msg, "missed_call")) {
    if (is_idle (self) && report_once (session, "webrtccall-missed-call", msg))
      webrtc_call_enqueue (self, NULL, missed_as_states_task,
          wtsp_message_ref (msg), (GDestroyNotify) wtsp_message_unref);
    return;
  }

  call = dup_call (self);
  /* the line events (ice_trickle, ice_media..., transfer) may come
   * without call_id: the line says whose they are */
  if (call && msg->line == call->line
      && (g_str_has_prefix (msg->type, "ice_")
          || (msg->call_id == NULL && wtsp_message_is_event (msg, "transfer"))
          || g_strcmp0 (msg->call_id, call->call_id) == 0))
    webrtc_call_enqueue (self, call, event_task, wtsp_message_ref (msg),
        (GDestroyNotify) wtsp_message_unref);
  g_clear_object (&call);
}

static void
unclaimed_task (GstWebrtcCall * self, WebrtcCallCall * unused, gpointer data)
{
  WtspMessage *msg = data;
  guint timeout = wtsp_session_get_claim_timeout (self->session);

  GST_INFO_OBJECT (self, "incoming call %s from %s: no bin is idle, it "
      "waits %u ms for a bin with take-call", msg->call_id,
      GST_STR_NULL (wtsp_message_get_string (msg, "caller")), timeout);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("webrtccall-unclaimed",
              "line", G_TYPE_INT, msg->line,
              "call-id", G_TYPE_STRING, msg->call_id,
              "caller", G_TYPE_STRING,
              GST_STR_NULL (wtsp_message_get_string (msg, "caller")),
              "callee", G_TYPE_STRING,
              GST_STR_NULL (wtsp_message_get_string (msg, "callee")),
              "timeout", G_TYPE_UINT, timeout, NULL)));
}

/* After every bin saw it: a missed call no idle bin took; an incoming
 * call nobody claimed, which may wait for a bin (claim-timeout) */
static void
on_session_message_after (WtspSession * session, WtspMessage * msg,
    GstWebrtcCall * self)
{
  if (wtsp_message_is_event (msg, "missed_call")
      && report_once (session, "webrtccall-missed-call", msg))
    webrtc_call_enqueue (self, NULL, missed_as_message_task,
        wtsp_message_ref (msg), (GDestroyNotify) wtsp_message_unref);
  else if (wtsp_message_is_event (msg, "incoming_call") && msg->call_id
      && msg->line >= 0 && wtsp_session_get_claim_timeout (session) > 0
      && wtsp_session_get_line_owner (session, msg->line) == NULL
      && report_once (session, "webrtccall-unclaimed", msg))
    webrtc_call_enqueue (self, NULL, unclaimed_task, wtsp_message_ref (msg),
        (GDestroyNotify) wtsp_message_unref);
}

typedef struct
{
  WtspSessionState state;
  gchar *why;
} ConnectionChange;

static void
connection_change_free (ConnectionChange * c)
{
  g_free (c->why);
  g_free (c);
}

static void
connection_task (GstWebrtcCall * self, WebrtcCallCall * unused,
    gpointer data)
{
  ConnectionChange *c = data;

  wtsp_session_post_connection (GST_ELEMENT (self), c->state, c->why);
}

/* Posted from the queue, in order with the call states */
static void
on_session_state (WtspSession * session, WtspSessionState old,
    WtspSessionState state, const gchar * why, GstWebrtcCall * self)
{
  ConnectionChange *c = g_new0 (ConnectionChange, 1);

  c->state = state;
  c->why = g_strdup (why);
  webrtc_call_enqueue (self, NULL, connection_task, c,
      (GDestroyNotify) connection_change_free);
  if (state == WTSP_SESSION_STATE_READY)
    webrtc_call_enqueue (self, NULL, ready_task,
        wtsp_session_get_state_message (session),
        (GDestroyNotify) wtsp_message_unref);
}

gboolean
webrtc_call_session_ready (GstWebrtcCall * self)
{
  return self->session
      && wtsp_session_get_state (self->session) == WTSP_SESSION_STATE_READY;
}

static void
on_session_warning (WtspSession * session, GError * error,
    const gchar * debug, GstWebrtcCall * self)
{
  GST_ELEMENT_WARNING (self, RESOURCE, READ, ("%s", error->message),
      ("%s", debug ? debug : ""));
}

static void
on_session_error (WtspSession * session, GError * error,
    GstStructure * details, GstWebrtcCall * self)
{
  wtsp_session_post_error (GST_ELEMENT (self), error, details);
  webrtc_call_enqueue (self, NULL, session_failed_task,
      g_strdup (error->message), g_free);
}

static gboolean
session_acquire (GstWebrtcCall * self, GError ** error)
{
  gchar *why = NULL;
  WtspSession *session;

  session = wtsp_session_acquire (GST_ELEMENT (self), self->settings, &why);
  if (why)
    GST_DEBUG_OBJECT (self, "not sharing a session: %s", why);
  g_free (why);

  wtsp_session_set_decline_unclaimed (session, TRUE);
  GST_OBJECT_LOCK (self);
  wtsp_session_set_claim_timeout (session, self->claim_timeout);
  GST_OBJECT_UNLOCK (self);
  g_signal_connect (session, "message", G_CALLBACK (on_session_message),
      self);
  g_signal_connect_after (session, "message",
      G_CALLBACK (on_session_message_after), self);
  g_signal_connect (session, "state-changed", G_CALLBACK (on_session_state),
      self);
  g_signal_connect (session, "warning", G_CALLBACK (on_session_warning),
      self);
  g_signal_connect (session, "error", G_CALLBACK (on_session_error), self);
  self->session = session;
  if (!wtsp_session_use (session, error)) {
    g_signal_handlers_disconnect_by_data (session, self);
    self->session = NULL;
    gst_object_unref (session);
    return FALSE;
  }

  /* Ready already (shared), or became so before we listened: ready_task
   * runs once however often it is queued */
  if (wtsp_session_get_state (session) == WTSP_SESSION_STATE_READY)
    webrtc_call_enqueue (self, NULL, ready_task, NULL, NULL);
  return TRUE;
}

static void
session_release (GstWebrtcCall * self)
{
  WtspSession *session = self->session;

  if (session == NULL)
    return;
  g_signal_handlers_disconnect_by_data (session, self);
  self->session = NULL;
  wtsp_session_unuse (session);
  gst_object_unref (session);
}

/* Action signals: any thread; the work is queued */

static void
gst_webrtc_call_dial (GstWebrtcCall * self, const gchar * number)
{
  if (number == NULL || *number == '\0') {
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("dial needs a number"), (NULL));
    return;
  }
  webrtc_call_enqueue_surgery (self, NULL, dial_task, g_strdup (number),
      g_free);
}

static void
answer_task (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  webrtc_call_call_answer (call);
}

static void
decline_task (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  if (call->incoming == NULL) {
    GST_ELEMENT_WARNING (self, RESOURCE, FAILED,
        ("No incoming call to decline"), (NULL));
    return;
  }
  webrtc_call_call_decline (call, GPOINTER_TO_UINT (data));
}

static void
hangup_task (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  webrtc_call_call_hangup (call);
}

static void
hold_task (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  webrtc_call_call_hold (call, GPOINTER_TO_INT (data));
}

/* Queues @func for the current call; warns if there is none */
static void
call_action (GstWebrtcCall * self, const gchar * what,
    WebrtcCallTaskFunc func, gpointer data, gboolean surgery)
{
  WebrtcCallCall *call = dup_call (self);

  if (call == NULL) {
    GST_ELEMENT_WARNING (self, RESOURCE, FAILED, ("No call to %s", what),
        (NULL));
    return;
  }
  if (surgery)
    webrtc_call_enqueue_surgery (self, call, func, data, NULL);
  else
    webrtc_call_enqueue (self, call, func, data, NULL);
  gst_object_unref (call);
}

static void
gst_webrtc_call_answer (GstWebrtcCall * self)
{
  call_action (self, "answer", answer_task, NULL, TRUE);
}

static void
gst_webrtc_call_decline (GstWebrtcCall * self, guint code)
{
  call_action (self, "decline", decline_task, GUINT_TO_POINTER (code), FALSE);
}

static void
gst_webrtc_call_hangup (GstWebrtcCall * self)
{
  WebrtcCallCall *call = dup_call (self);

  /* Nothing to hang up is not worth a warning */
  if (call) {
    webrtc_call_enqueue (self, call, hangup_task, NULL, NULL);
    gst_object_unref (call);
  }
}

static void
gst_webrtc_call_hold (GstWebrtcCall * self)
{
  call_action (self, "hold", hold_task, GINT_TO_POINTER (1), FALSE);
}

static void
gst_webrtc_call_unhold (GstWebrtcCall * self)
{
  call_action (self, "unhold", hold_task, GINT_TO_POINTER (0), FALSE);
}

typedef struct
{
  gchar *number;
  gchar *replace_call_id;
} TransferArgs;

static void
transfer_args_free (TransferArgs * a)
{
  g_free (a->number);
  g_free (a->replace_call_id);
  g_free (a);
}

static void
transfer_task (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  TransferArgs *a = data;

  webrtc_call_call_transfer (call, a->number, a->replace_call_id);
}

static void
gst_webrtc_call_transfer (GstWebrtcCall * self, const gchar * number,
    const gchar * replace_call_id)
{
  TransferArgs *a;
  WebrtcCallCall *call;

  if (number == NULL || *number == '\0') {
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("transfer needs a number"), (NULL));
    return;
  }
  call = dup_call (self);
  if (call == NULL) {
    GST_ELEMENT_WARNING (self, RESOURCE, FAILED,
        ("No call to transfer to %s", number), (NULL));
    return;
  }
  a = g_new0 (TransferArgs, 1);
  a->number = g_strdup (number);
  a->replace_call_id = g_strdup (replace_call_id);
  webrtc_call_enqueue (self, call, transfer_task, a,
      (GDestroyNotify) transfer_args_free);
  gst_object_unref (call);
}

static void
update_sending_task (GstWebrtcCall * self, WebrtcCallCall * call,
    gpointer data)
{
  webrtc_call_media_update_sending (call);
}

/* video-muted, audio-muted: the senders of raw input at once; those of
 * encoded input on the task thread, which decides what a call sends */
static void
set_muted (GstWebrtcCall * self, const gchar * media, gboolean muted)
{
  WebrtcCallCall *call = dup_call (self);

  GST_INFO_OBJECT (self, "%s %s", media, muted ? "muted" : "unmuted");
  webrtc_call_media_set_muted (self, media, muted);
  if (call) {
    webrtc_call_enqueue (self, call, update_sending_task, NULL, NULL);
    gst_object_unref (call);
  }
}

static void
dtmf_task (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  webrtc_call_dtmf_send (call, data);
}

static gboolean
gst_webrtc_call_send_dtmf (GstWebrtcCall * self, const gchar * tones)
{
  gchar *problem = webrtc_call_dtmf_check (tones);
  WebrtcCallCall *call;

  if (problem) {
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS, ("%s", problem), (NULL));
    g_free (problem);
    return FALSE;
  }
  call = dup_call (self);
  if (call == NULL) {
    GST_ELEMENT_WARNING (self, RESOURCE, FAILED,
        ("No call to send DTMF \"%s\" in", tones), (NULL));
    return FALSE;
  }
  webrtc_call_enqueue (self, call, dtmf_task, g_strdup (tones), g_free);
  gst_object_unref (call);
  return TRUE;
}

/* Input pads */

static void
add_input_task (GstWebrtcCall * self, WebrtcCallCall * call, gpointer data)
{
  webrtc_call_negotiation_add_inputs (call);
}

static GstPad *
gst_webrtc_call_request_new_pad (GstElement * element, GstPadTemplate * templ,
    const gchar * name, const GstCaps * caps)
{
  GstWebrtcCall *self = GST_WEBRTC_CALL (element);
  WebrtcCallCall *call;
  const gchar *media;
  WebrtcCallInput *in;
  gboolean taken = FALSE;
  GList *l;

  if (templ == gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS
          (element), "video_sink"))
    media = "video";
  else if (templ == gst_element_class_get_pad_template
      (GST_ELEMENT_GET_CLASS (element), "audio_sink"))
    media = "audio";
  else
    return NULL;

  g_mutex_lock (&self->lock);
  for (l = self->inputs; l; l = l->next)
    taken |= g_str_equal (((WebrtcCallInput *) l->data)->media, media);
  g_mutex_unlock (&self->lock);
  if (taken) {
    GST_ELEMENT_WARNING (self, CORE, PAD, ("There is already a %s_sink "
            "pad: one %s stream per call", media, media), (NULL));
    return NULL;
  }

  in = webrtc_call_media_input_new (self, templ, media);
  g_mutex_lock (&self->lock);
  self->inputs = g_list_append (self->inputs, in);
  g_mutex_unlock (&self->lock);

  gst_pad_set_active (in->ghost, TRUE);
  gst_element_add_pad (element, in->ghost);

  /* during a call: a new stream, offered to the far end */
  call = dup_call (self);
  if (call) {
    webrtc_call_enqueue_surgery (self, call, add_input_task, NULL, NULL);
    gst_object_unref (call);
  }
  return in->ghost;
}

static void
gst_webrtc_call_release_pad (GstElement * element, GstPad * pad)
{
  GstWebrtcCall *self = GST_WEBRTC_CALL (element);
  WebrtcCallInput *in = NULL;
  gboolean handed_over = FALSE;
  GList *l;

  g_mutex_lock (&self->lock);
  for (l = self->inputs; l; l = l->next) {
    if (((WebrtcCallInput *) l->data)->ghost == pad) {
      in = l->data;
      self->inputs = g_list_delete_link (self->inputs, l);
      break;
    }
  }
  /* A call that used it takes its sender down with webrtcbin. While the
   * task thread builds that sender (connect_senders), the input is its to
   * free when done. */
  if (in && in->call && in->sender) {
    in->call->senders = g_list_prepend (in->call->senders, in->sender);
    in->sender = NULL;
  }
  if (in && in->connecting)
    handed_over = in->released = TRUE;
  g_mutex_unlock (&self->lock);
  if (in == NULL)
    return;

  gst_element_remove_pad (element, pad);
  if (!handed_over)
    webrtc_call_media_input_free (self, in);
}

/* State changes */

/* The first DTLS certificate of a process takes 100-600 ms to make, and
 * dtlsdec makes it once for everyone when the first one is created: do
 * that now, not when the first call is placed. On the task thread, which
 * READY->NULL joins: the warm-up cannot outlive the element, nor race the
 * process's exit. */
static void
warm_dtls_task (GstWebrtcCall * self, WebrtcCallCall * unused, gpointer data)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    gint64 start = g_get_monotonic_time ();
    GstElement *dec = gst_element_factory_make ("dtlsdec", NULL);

    GST_INFO_OBJECT (self, "DTLS certificate ready after %" G_GINT64_FORMAT
        " ms", (g_get_monotonic_time () - start) / 1000);
    if (dec)
      gst_object_unref (dec);
    g_once_init_leave (&done, 1);
  }
}

/* PAUSED->READY, on the application's thread, before the children stop:
 * nothing of ours may be left waiting on a streaming thread that waits
 * for the application (the stop/hangup deadlock). */
static void
stop_calls (GstWebrtcCall * self)
{
  WebrtcCallCall *call;
  GList *ended, *l;

  /* No more dispatch from the session, no more work queued */
  if (self->session)
    g_signal_handlers_disconnect_by_data (self->session, self);

  /* The outputs were flushed (begin_change): the task thread is idle
   * after this, the rest is ours; the last EOS may go out */
  tasks_fence (self);
  flush_outputs (self, FALSE);
  call = dup_call (self);

  self->ready = FALSE;          /* no "registered" after this end */
  if (call) {
    if (!call->incoming && !webrtc_call_call_is_ending (call))
      webrtc_call_send_request (self, NULL,
          webrtc_call_call_request (call, "hangup"));
    webrtc_call_call_end (call, 200, "the pipeline stopped");
    gst_object_unref (call);
  }

  /* Teardowns held back, and every pad of ours that calls left */
  g_mutex_lock (&self->lock);
  ended = self->ended;
  self->ended = NULL;
  g_mutex_unlock (&self->lock);
  {
    GList *calls;

    g_mutex_lock (&self->lock);
    calls = self->deferred;
    self->deferred = NULL;
    g_mutex_unlock (&self->lock);
    for (l = calls; l; l = l->next)
      webrtc_call_call_finish_teardown (l->data);
    g_list_free_full (calls, gst_object_unref);
  }
  for (l = ended; l; l = l->next)
    webrtc_call_media_remove_outputs (l->data);
  g_list_free_full (ended, gst_object_unref);

  session_release (self);
}

/* READY->NULL: webrtcbins going down on other threads are waited for,
 * bounded: after stop_calls() nothing holds them */
static void
wait_teardowns (GstWebrtcCall * self)
{
  gint64 deadline = g_get_monotonic_time () + TEARDOWN_TIMEOUT_US;

  g_mutex_lock (&self->lock);
  while (self->teardowns > 0
      && g_cond_wait_until (&self->cond, &self->lock, deadline));
  if (self->teardowns > 0)
    GST_WARNING_OBJECT (self, "%u webrtcbins are still going down",
        self->teardowns);
  g_mutex_unlock (&self->lock);
}

static void
eos_sink_start (GstWebrtcCall * self)
{
  GstPad *pad = gst_element_get_static_pad (self->eos_sink, "sink");
  GstSegment segment;
  gchar *id;

  id = g_strdup_printf ("%08x%08x/%s-calls", g_random_int (), g_random_int (),
      GST_OBJECT_NAME (self));
  gst_pad_send_event (pad, gst_event_new_stream_start (id));
  g_free (id);
  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_pad_send_event (pad, gst_event_new_segment (&segment));
  gst_object_unref (pad);
}

static GstStateChangeReturn
gst_webrtc_call_change_state (GstElement * element, GstStateChange transition)
{
  GstWebrtcCall *self = GST_WEBRTC_CALL (element);
  GstStateChangeReturn ret;
  GError *error = NULL;
  gboolean take;

  begin_change (self, transition == GST_STATE_CHANGE_PAUSED_TO_READY);

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      tasks_start (self);
      webrtc_call_enqueue (self, NULL, warm_dtls_task, NULL, NULL);
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      GST_OBJECT_LOCK (self);
      take = self->take_call != NULL && *self->take_call;
      GST_OBJECT_UNLOCK (self);
      g_mutex_lock (&self->lock);
      self->shutdown = FALSE;
      self->eos = FALSE;
      /* the call it was made for first: an idle bin that took the next
       * incoming call would leave that one to be declined */
      self->take_pending = take;
      g_mutex_unlock (&self->lock);
      self->handshaken = FALSE;
      self->ready = FALSE;
      self->dial_pending = FALSE;
      self->take_tried = FALSE;
      self->calls_done = FALSE;
      if (!session_acquire (self, &error)) {
        GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", error->message),
            (NULL));
        g_error_free (error);
        end_change (self);
        return GST_STATE_CHANGE_FAILURE;
      }
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      g_mutex_lock (&self->lock);
      self->playing = TRUE;
      g_mutex_unlock (&self->lock);
      webrtc_call_enqueue_surgery (self, NULL, play_task, NULL, NULL);
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      g_mutex_lock (&self->lock);
      self->playing = FALSE;
      g_mutex_unlock (&self->lock);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      stop_calls (self);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    end_change (self);
    return ret;
  }

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      eos_sink_start (self);
      /* Like a live source: nothing to preroll before a call */
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      GST_OBJECT_LOCK (self);
      self->state = GST_WEBRTC_CALL_STATE_IDLE;
      GST_OBJECT_UNLOCK (self);
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:
      wait_teardowns (self);
      tasks_stop (self);
      /* the task thread is gone: its lists are ours */
      webrtc_call_recovery_clear (self);
      break;
    default:
      break;
  }
  end_change (self);
  return ret;
}

/* Properties */

static void
gst_webrtc_call_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstWebrtcCall *self = GST_WEBRTC_CALL (object);

  if (wtsp_settings_set_property (self->settings, pspec, value))
    return;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_NUMBER:
      g_free (self->number);
      self->number = g_value_dup_string (value);
      break;
    case PROP_LINE:
      self->line = g_value_get_int (value);
      break;
    case PROP_AUTO_ANSWER:
      self->auto_answer = g_value_get_boolean (value);
      break;
    case PROP_STUN_SERVER:
      g_free (self->stun_server);
      self->stun_server = g_value_dup_string (value);
      break;
    case PROP_TURN_SERVER:
      g_free (self->turn_server);
      self->turn_server = g_value_dup_string (value);
      break;
    case PROP_ICE_TRANSPORT_POLICY:
      self->ice_transport_policy = g_value_get_enum (value);
      break;
    case PROP_ICE_TCP:
      self->ice_tcp = g_value_get_boolean (value);
      break;
    case PROP_LATENCY:
      self->latency = g_value_get_uint (value);
      break;
    case PROP_MEDIA_TIMEOUT:
      self->media_timeout = g_value_get_uint (value);
      break;
    case PROP_VIDEO_CODECS:
      g_free (self->video_codecs);
      self->video_codecs = g_value_dup_string (value);
      break;
    case PROP_AUDIO_CODECS:
      g_free (self->audio_codecs);
      self->audio_codecs = g_value_dup_string (value);
      break;
    case PROP_ENCODED_OUTPUT:
      self->encoded_output = g_value_get_boolean (value);
      break;
    case PROP_DTMF_DURATION:
      self->dtmf_duration = g_value_get_uint (value);
      break;
    case PROP_DTMF_GAP:
      self->dtmf_gap = g_value_get_uint (value);
      break;
    case PROP_HOLD_DIRECTION:
      self->hold_direction = g_value_get_enum (value);
      break;
    case PROP_STATS_INTERVAL:
      self->stats_interval = g_value_get_uint (value);
      break;
    case PROP_ACCEPT_TRANSFERS:
      self->accept_transfers = g_value_get_boolean (value);
      break;
    case PROP_CLAIM_TIMEOUT:
      self->claim_timeout = g_value_get_uint (value);
      break;
    case PROP_TAKE_CALL:
      g_free (self->take_call);
      self->take_call = g_value_dup_string (value);
      break;
    case PROP_STATS_FILE:
      g_free (self->stats_file);
      self->stats_file = g_value_dup_string (value);
      break;
    case PROP_VIDEO_MUTED:
    case PROP_AUDIO_MUTED:
      if (prop_id == PROP_VIDEO_MUTED)
        self->video_muted = g_value_get_boolean (value);
      else
        self->audio_muted = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      set_muted (self, prop_id == PROP_VIDEO_MUTED ? "video" : "audio",
          g_value_get_boolean (value));
      return;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* The current call, or the last one */
static WebrtcCallCall *
dup_recent_call (GstWebrtcCall * self)
{
  WebrtcCallCall *call;

  g_mutex_lock (&self->lock);
  call = self->call ? self->call : self->ended ? self->ended->data : NULL;
  if (call)
    gst_object_ref (call);
  g_mutex_unlock (&self->lock);
  return call;
}

static void
gst_webrtc_call_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstWebrtcCall *self = GST_WEBRTC_CALL (object);
  WebrtcCallCall *call;

  if (wtsp_settings_get_property (self->settings, pspec, value))
    return;

  switch (prop_id) {
    case PROP_STATS:
      g_value_take_boxed (value, webrtc_call_stats_new (self));
      return;
    case PROP_CALL_ID:
      call = dup_recent_call (self);
      g_value_set_string (value, call ? call->call_id : NULL);
      g_clear_object (&call);
      return;
    case PROP_REMOTE_NUMBER:
      call = dup_call (self);
      g_value_set_string (value, call == NULL ? NULL : call->outgoing ?
          call->callee : call->caller);
      g_clear_object (&call);
      return;
    default:
      break;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_NUMBER:
      g_value_set_string (value, self->number);
      break;
    case PROP_LINE:
      g_value_set_int (value, self->line);
      break;
    case PROP_AUTO_ANSWER:
      g_value_set_boolean (value, self->auto_answer);
      break;
    case PROP_STUN_SERVER:
      g_value_set_string (value, self->stun_server);
      break;
    case PROP_TURN_SERVER:
      g_value_set_string (value, self->turn_server);
      break;
    case PROP_ICE_TRANSPORT_POLICY:
      g_value_set_enum (value, self->ice_transport_policy);
      break;
    case PROP_ICE_TCP:
      g_value_set_boolean (value, self->ice_tcp);
      break;
    case PROP_LATENCY:
      g_value_set_uint (value, self->latency);
      break;
    case PROP_MEDIA_TIMEOUT:
      g_value_set_uint (value, self->media_timeout);
      break;
    case PROP_VIDEO_CODECS:
      g_value_set_string (value, self->video_codecs);
      break;
    case PROP_AUDIO_CODECS:
      g_value_set_string (value, self->audio_codecs);
      break;
    case PROP_ENCODED_OUTPUT:
      g_value_set_boolean (value, self->encoded_output);
      break;
    case PROP_DTMF_DURATION:
      g_value_set_uint (value, self->dtmf_duration);
      break;
    case PROP_DTMF_GAP:
      g_value_set_uint (value, self->dtmf_gap);
      break;
    case PROP_HOLD_DIRECTION:
      g_value_set_enum (value, self->hold_direction);
      break;
    case PROP_STATS_INTERVAL:
      g_value_set_uint (value, self->stats_interval);
      break;
    case PROP_STATS_FILE:
      g_value_set_string (value, self->stats_file);
      break;
    case PROP_VIDEO_MUTED:
      g_value_set_boolean (value, self->video_muted);
      break;
    case PROP_ACCEPT_TRANSFERS:
      g_value_set_boolean (value, self->accept_transfers);
      break;
    case PROP_CLAIM_TIMEOUT:
      g_value_set_uint (value, self->claim_timeout);
      break;
    case PROP_TAKE_CALL:
      g_value_set_string (value, self->take_call);
      break;
    case PROP_AUDIO_MUTED:
      g_value_set_boolean (value, self->audio_muted);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_webrtc_call_dispose (GObject * object)
{
  GstWebrtcCall *self = GST_WEBRTC_CALL (object);

  /* A bin disposed without going to NULL: stop our own threads at least */
  session_release (self);
  wait_teardowns (self);
  g_mutex_lock (&self->lock);
  self->shutdown = TRUE;
  g_mutex_unlock (&self->lock);
  tasks_stop (self);
  webrtc_call_recovery_clear (self);
  g_clear_object (&self->call);
  g_list_free_full (self->ended, gst_object_unref);
  self->ended = NULL;
  gst_clear_object (&self->settings);
  G_OBJECT_CLASS (parent_class)->dispose (object);
}

static void
gst_webrtc_call_finalize (GObject * object)
{
  GstWebrtcCall *self = GST_WEBRTC_CALL (object);

  while (self->inputs) {
    webrtc_call_media_input_free (self, self->inputs->data);
    self->inputs = g_list_delete_link (self->inputs, self->inputs);
  }
  g_free (self->number);
  g_free (self->stun_server);
  g_free (self->turn_server);
  g_free (self->video_codecs);
  g_free (self->audio_codecs);
  g_free (self->stats_file);
  g_free (self->take_call);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_webrtc_call_init (GstWebrtcCall * self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->line = DEFAULT_LINE;
  self->auto_answer = DEFAULT_AUTO_ANSWER;
  self->ice_transport_policy = DEFAULT_ICE_TRANSPORT_POLICY;
  self->ice_tcp = DEFAULT_ICE_TCP;
  self->latency = DEFAULT_LATENCY;
  self->claim_timeout = DEFAULT_CLAIM_TIMEOUT;
  self->media_timeout = DEFAULT_MEDIA_TIMEOUT;
  self->video_codecs = g_strdup (DEFAULT_VIDEO_CODECS);
  self->audio_codecs = g_strdup (DEFAULT_AUDIO_CODECS);
  self->encoded_output = DEFAULT_ENCODED_OUTPUT;
  self->dtmf_duration = DEFAULT_DTMF_DURATION;
  self->dtmf_gap = DEFAULT_DTMF_GAP;
  self->hold_direction = DEFAULT_HOLD_DIRECTION;
  self->stats_interval = DEFAULT_STATS_INTERVAL;
  self->state = GST_WEBRTC_CALL_STATE_IDLE;

  self->settings = wtsp_session_new ();

  /* A pipeline posts EOS once every sink had one, and webrtcbin's own
   * sinks leave with the call: the bin keeps a sink (eos-sink, which never
   * gets data) so it counts as one, and posts EOS itself when a call ends,
   * or when its inputs end with no call, so that gst-launch -e and a
   * pipeline's EOS follow the call. A message, not an event into
   * eos-sink: an event could block there in preroll while the
   * application is stopping the pipeline. */
  self->eos_sink = gst_element_factory_make ("fakesink", "eos-sink");
  g_object_set (self->eos_sink, "async", FALSE, "sync", FALSE, NULL);
  gst_bin_add (GST_BIN (self), self->eos_sink);
}

static void
gst_webrtc_call_class_init (GstWebrtcCallClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  gobject_class->set_property = gst_webrtc_call_set_property;
  gobject_class->get_property = gst_webrtc_call_get_property;
  gobject_class->dispose = gst_webrtc_call_dispose;
  gobject_class->finalize = gst_webrtc_call_finalize;

  g_object_class_install_property (gobject_class, PROP_NUMBER,
      g_param_spec_string ("number", "Number",
          "Number to dial when the bin reaches PLAYING (none: wait for "
          "calls, or use the dial action)", DEFAULT_NUMBER, rw));
  g_object_class_install_property (gobject_class, PROP_LINE,
      g_param_spec_int ("line", "Line",
          "Line to place calls on (-1 = the first free one)", -1, G_MAXINT,
          DEFAULT_LINE, rw));
  g_object_class_install_property (gobject_class, PROP_AUTO_ANSWER,
      g_param_spec_boolean ("auto-answer", "Auto answer",
          "Answer incoming calls at once (else post \"incoming\" and wait "
          "for the answer or decline action)", DEFAULT_AUTO_ANSWER, rw));
  g_object_class_install_property (gobject_class, PROP_STUN_SERVER,
      g_param_spec_string ("stun-server", "STUN server",
          "stun://host:port", DEFAULT_STUN_SERVER, rw));
  g_object_class_install_property (gobject_class, PROP_TURN_SERVER,
      g_param_spec_string ("turn-server", "TURN server",
          "turn(s)://user:password@host:port", DEFAULT_TURN_SERVER, rw));
  g_object_class_install_property (gobject_class, PROP_ICE_TRANSPORT_POLICY,
      g_param_spec_enum ("ice-transport-policy", "ICE transport policy",
          "all, or relay to use only TURN candidates",
          GST_TYPE_WEBRTC_ICE_TRANSPORT_POLICY, DEFAULT_ICE_TRANSPORT_POLICY,
          rw));
  g_object_class_install_property (gobject_class, PROP_ICE_TCP,
      g_param_spec_boolean ("ice-tcp", "ICE-TCP",
          "Gather TCP host candidates too (RFC 6544): for a far end that "
          "takes ICE over TCP; each call then holds 4 more sockets. UDP, "
          "and TURN (over UDP or TCP) for networks that block it, is what "
          "gateways and browsers use. Read when a call starts",
          DEFAULT_ICE_TCP, rw));
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_uint ("latency", "Latency",
          "Jitterbuffer latency in milliseconds", 0, 10000, DEFAULT_LATENCY,
          rw));
  g_object_class_install_property (gobject_class, PROP_MEDIA_TIMEOUT,
      g_param_spec_uint ("media-timeout", "Media timeout",
          "Hang up a call after this many milliseconds without media from "
          "the far end (not while on hold; 0 = never). A kind of media "
          "that stops for 2 s posts webrtccall-media receiving=false",
          0, G_MAXUINT, DEFAULT_MEDIA_TIMEOUT, rw));
  g_object_class_install_property (gobject_class, PROP_VIDEO_CODECS,
      g_param_spec_string ("video-codecs", "Video codecs",
          "Video codecs in order of preference: VP8, H264",
          DEFAULT_VIDEO_CODECS, rw));
  g_object_class_install_property (gobject_class, PROP_AUDIO_CODECS,
      g_param_spec_string ("audio-codecs", "Audio codecs",
          "Audio codecs in order of preference: OPUS, PCMU, PCMA",
          DEFAULT_AUDIO_CODECS, rw));
  g_object_class_install_property (gobject_class, PROP_ENCODED_OUTPUT,
      g_param_spec_boolean ("encoded-output", "Encoded output",
          "Output remote media encoded (depayloaded and parsed, for muxing) "
          "instead of decoded", DEFAULT_ENCODED_OUTPUT, rw));
  g_object_class_install_property (gobject_class, PROP_DTMF_DURATION,
      g_param_spec_uint ("dtmf-duration", "DTMF duration",
          "How long each tone of send-dtmf lasts, in ms (rtpdtmfsrc makes "
          "an event last at least 250 ms)", 40, 6000, DEFAULT_DTMF_DURATION,
          rw));
  g_object_class_install_property (gobject_class, PROP_DTMF_GAP,
      g_param_spec_uint ("dtmf-gap", "DTMF gap",
          "Silence between two tones of send-dtmf, in ms (rtpdtmfsrc keeps "
          "at least 100 ms)", 30, 6000, DEFAULT_DTMF_GAP, rw));
  g_object_class_install_property (gobject_class, PROP_HOLD_DIRECTION,
      g_param_spec_enum ("hold-direction", "Hold direction",
          "The direction the hold action asks for; whichever it is, we "
          "send nothing while on hold", GST_TYPE_WEBRTC_CALL_HOLD_DIRECTION,
          DEFAULT_HOLD_DIRECTION, rw));
  g_object_class_install_property (gobject_class, PROP_STATS_INTERVAL,
      g_param_spec_uint ("stats-interval", "Stats interval",
          "How often a call posts webrtccall-stats (webrtcbin's get-stats "
          "summed up), in ms; 0 = never. Read when the call is answered",
          0, G_MAXUINT, DEFAULT_STATS_INTERVAL, rw));
  g_object_class_install_property (gobject_class, PROP_STATS_FILE,
      g_param_spec_string ("stats-file", "Stats file",
          "File each webrtccall-stats is appended to, as a line of JSON, for "
          "pipelines/call-report.py (NULL = none)", DEFAULT_STATS_FILE, rw));
  g_object_class_install_property (gobject_class, PROP_ACCEPT_TRANSFERS,
      g_param_spec_boolean ("accept-transfers", "Accept transfers",
          "When the far end transfers the call (its REFER), end it here and "
          "call the transfer target (outgoing_call with refer_id); "
          "otherwise only the webrtccall-transfer message is posted",
          DEFAULT_ACCEPT_TRANSFERS, rw));
  g_object_class_install_property (gobject_class, PROP_CLAIM_TIMEOUT,
      g_param_spec_uint ("claim-timeout", "Claim timeout",
          "How long, in ms, an incoming call that no bin of the session is "
          "idle for waits for one (posted as webrtccall-unclaimed: add a bin "
          "with take-call) before it is declined with 486; 0 = declined at "
          "once. The longest of the session's bins counts. Read when the "
          "bin starts", 0, G_MAXUINT, DEFAULT_CLAIM_TIMEOUT, rw));
  g_object_class_install_property (gobject_class, PROP_TAKE_CALL,
      g_param_spec_string ("take-call", "Take call",
          "The call-id of a waiting incoming call (webrtccall-unclaimed) "
          "that this bin takes as soon as it joins the session: incoming, "
          "then answered as auto-answer says; a call no longer waiting is a "
          "warning, and the bin waits for calls as usual. Read when the bin "
          "starts", DEFAULT_TAKE_CALL, rw));
  g_object_class_install_property (gobject_class, PROP_VIDEO_MUTED,
      g_param_spec_boolean ("video-muted", "Video muted",
          "Send black instead of the video input (encoded input: nothing), "
          "without renegotiating", DEFAULT_MUTED, rw));
  g_object_class_install_property (gobject_class, PROP_AUDIO_MUTED,
      g_param_spec_boolean ("audio-muted", "Audio muted",
          "Send silence instead of the audio input (encoded input: "
          "nothing), without renegotiating", DEFAULT_MUTED, rw));
  g_object_class_install_property (gobject_class, PROP_STATE,
      g_param_spec_enum ("state", "State", "State of the call",
          GST_TYPE_WEBRTC_CALL_STATE, GST_WEBRTC_CALL_STATE_IDLE, ro));
  g_object_class_install_property (gobject_class, PROP_CALL_ID,
      g_param_spec_string ("call-id", "Call id",
          "Call-ID of the current or last call", NULL, ro));
  g_object_class_install_property (gobject_class, PROP_REMOTE_NUMBER,
      g_param_spec_string ("remote-number", "Remote number",
          "The far end's number while a call lasts (the callee of an "
          "outgoing call, the caller of an incoming one), else null", NULL,
          ro));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "webrtccall-stats of the current or last call: state, call-id, "
          "line, setup-ms (start to connected), video/audio-buffers-received, "
          "video/audio-packets-sent, and from the last get-stats per "
          "KIND-DIR (audio/video, in/out): -codec, -bitrate (bit/s), -bytes, "
          "-packets, -packets-lost, -jitter-ms; round-trip-ms, "
          "local/remote-candidate-type (docs/webrtccall.md)",
          GST_TYPE_STRUCTURE, ro));

  wtsp_settings_install (gobject_class, PROP_SESSION_SETTINGS, FALSE);

  /**
   * GstWebrtcCall::dial:
   * @call: the element
   * @number: the number to call
   */
  signals[SIGNAL_DIAL] = g_signal_new_class_handler ("dial",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_webrtc_call_dial), NULL, NULL, NULL, G_TYPE_NONE, 1,
      G_TYPE_STRING);
  /**
   * GstWebrtcCall::answer:
   * @call: the element
   *
   * Answers the call that posted "incoming".
   */
  signals[SIGNAL_ANSWER] = g_signal_new_class_handler ("answer",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_webrtc_call_answer), NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * GstWebrtcCall::decline:
   * @call: the element
   * @code: SIP status to decline with (0 = the server's default, 603)
   */
  signals[SIGNAL_DECLINE] = g_signal_new_class_handler ("decline",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_webrtc_call_decline), NULL, NULL, NULL, G_TYPE_NONE, 1,
      G_TYPE_UINT);
  /**
   * GstWebrtcCall::hangup:
   * @call: the element
   */
  signals[SIGNAL_HANGUP] = g_signal_new_class_handler ("hangup",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_webrtc_call_hangup), NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * GstWebrtcCall::hold:
   * @call: the element
   */
  signals[SIGNAL_HOLD] = g_signal_new_class_handler ("hold",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_webrtc_call_hold), NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * GstWebrtcCall::unhold:
   * @call: the element
   */
  signals[SIGNAL_UNHOLD] = g_signal_new_class_handler ("unhold",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_webrtc_call_unhold), NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * GstWebrtcCall::send-dtmf:
   * @call: the element
   * @tones: keys to press in order: 0-9, *, #, A-D; a ',' pauses 2 s
   *
   * Sends @tones as RFC 4733 telephone-events in the call's audio, each
   * `dtmf-duration` ms long, `dtmf-gap` ms apart, after the tones still
   * being sent. The call must have negotiated telephone-event.
   *
   * Returns: %FALSE (and a warning) if @tones has something else, or
   *     there is no call
   */
  signals[SIGNAL_SEND_DTMF] = g_signal_new_class_handler ("send-dtmf",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_webrtc_call_send_dtmf), NULL, NULL, NULL,
      G_TYPE_BOOLEAN, 1, G_TYPE_STRING);
  /**
   * GstWebrtcCall::transfer:
   * @call: the element
   * @number: whom the far end is to call
   * @replace_call_id: (nullable): for an attended transfer, the call id of
   *     our call with @number, which the new call replaces
   *
   * Asks the far end to call @number (a SIP REFER through a gateway).
   * Its progress is posted as `webrtccall-transfer` messages (`event`
   * "transferring", then "notify" with `status`); once @number answered,
   * the bin hangs up.
   */
  signals[SIGNAL_TRANSFER] = g_signal_new_class_handler ("transfer",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_webrtc_call_transfer), NULL, NULL, NULL, G_TYPE_NONE,
      2, G_TYPE_STRING, G_TYPE_STRING);

  gst_element_class_add_static_pad_template (element_class,
      &video_sink_template);
  gst_element_class_add_static_pad_template (element_class,
      &audio_sink_template);
  gst_element_class_add_static_pad_template (element_class,
      &video_src_template);
  gst_element_class_add_static_pad_template (element_class,
      &audio_src_template);
  gst_element_class_set_static_metadata (element_class,
      "WTSP WebRTC call", "Filter/Network/WebRTC",
      "Places, answers and carries audio/video calls through a WebTrit "
      "Signaling Protocol server", "gst-wtsp developers");

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_webrtc_call_change_state);
  element_class->request_new_pad =
      GST_DEBUG_FUNCPTR (gst_webrtc_call_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR (gst_webrtc_call_release_pad);

  gst_type_mark_as_plugin_api (GST_TYPE_WEBRTC_CALL_STATE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_WEBRTC_CALL_HOLD_DIRECTION, 0);
}
