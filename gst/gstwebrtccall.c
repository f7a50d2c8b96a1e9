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
 * for audio.
 *
 * Remote media comes out of the sometimes pads `video_src_%u` and
 * `audio_src_%u`, decoded by default, or encoded (depayloaded and parsed)
 * with `encoded-output=true`, ready for a muxer. When a call ends the bin
 * sends EOS on them, so a muxer finishes its file; the next call gets new
 * pads.
 *
 * A call starts by dialling (`number` set when the bin goes to PLAYING, or
 * the #GstWebrtcCall::dial action signal), or when the server reports an
 * incoming call (answered by `auto-answer=true` or the
 * #GstWebrtcCall::answer action signal). Every change of the call's state
 * is posted on the bus as an element message named `webrtccall-state`
 * with the fields `state` (registered, calling, ringing, progress,
 * incoming, accepted, connected, holding, hangingup, ended), `line` (int),
 * `call-id` (string), `caller` and `callee` where known, and `code` (int)
 * and `reason` (string) on `ended`. `connected` means ICE and DTLS are up
 * and media arrives.
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
 * Since: 0.1
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwebrtccall.h"
#include "webrtccall-codecs.h"
#include "wtspsession.h"

#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>
#include <string.h>

GST_DEBUG_CATEGORY (gst_webrtc_call_debug);
#define GST_CAT_DEFAULT gst_webrtc_call_debug

#define DEFAULT_NUMBER NULL
#define DEFAULT_LINE -1
#define DEFAULT_AUTO_ANSWER FALSE
#define DEFAULT_STUN_SERVER NULL
#define DEFAULT_TURN_SERVER NULL
#define DEFAULT_ICE_TRANSPORT_POLICY GST_WEBRTC_ICE_TRANSPORT_POLICY_ALL
#define DEFAULT_LATENCY 50
#define DEFAULT_VIDEO_CODECS "VP8,H264"
#define DEFAULT_AUDIO_CODECS "OPUS,PCMU,PCMA"
#define DEFAULT_ENCODED_OUTPUT FALSE

enum
{
  PROP_0,
  PROP_NUMBER,
  PROP_LINE,
  PROP_AUTO_ANSWER,
  PROP_STUN_SERVER,
  PROP_TURN_SERVER,
  PROP_ICE_TRANSPORT_POLICY,
  PROP_LATENCY,
  PROP_VIDEO_CODECS,
  PROP_AUDIO_CODECS,
  PROP_ENCODED_OUTPUT,
  PROP_STATE,
  PROP_CALL_ID,
  PROP_STATS,
  PROP_SESSION_FIRST,
  PROP_SESSION_LAST = PROP_SESSION_FIRST + WTSP_SESSION_N_SETTINGS,
};

enum
{
  SIGNAL_DIAL,
  SIGNAL_ANSWER,
  SIGNAL_DECLINE,
  SIGNAL_HANGUP,
  SIGNAL_HOLD,
  SIGNAL_UNHOLD,
  LAST_SIGNAL
};

static guint signals[LAST_SIGNAL];

/* A request sink pad, for the bin's whole life: between calls its media
 * is dropped by the valve; during a call the valve feeds a sender */
typedef struct
{
  const gchar *media;           /* "video" or "audio" */
  GstPad *ghost;
  GstElement *valve;
  GstElement *sender;           /* encoder + payloader, during a call */
  GstPad *webrtc_pad;           /* webrtcbin sink pad, during a call */
  GstWebRTCRTPTransceiver *transceiver;
  guint32 ssrc;                 /* announced in our SDP, used by the sender */
  gint pt;
  const WebrtcCallCodec *codec;
  gboolean eos;
} Input;

/* A remote stream: depayloader (+ decoder) to a video_src_%u/audio_src_%u */
typedef struct
{
  GstElement *bin;
  GstPad *ghost;
  const gchar *media;
  gint *counter;                /* in the bin, which outlives its outputs */
} Output;

typedef struct
{
  guint generation;
  gint line;
  gchar *call_id;
  gboolean outgoing;
  gchar *caller;
  gchar *callee;
  WtspMessage *incoming;        /* the incoming_call, until answered */
  GstElement *webrtc;
  GstSDPMessage *remote_sdp;
  gboolean remote_set;
  gboolean answered;            /* the far end's answer, or our accept */
  GQueue pending_candidates;    /* JsonObject, until remote_set */
  GstWebrtcCallState state;
  gboolean ice_connected;
  gboolean media_flowing;
  gboolean ending;
  gboolean hangup_sent;
  GList *promises;              /* given to webrtcbin, not replied yet */
  gint64 started;
} Call;

typedef struct _SharedSession SharedSession;

struct _GstWebrtcCall
{
  GstBin parent;

  WtspSession *session;         /* holds the settings (properties) */
  GstElement *eos_sink;         /* a sink of ours: EOS when a call ends */
  SharedSession *shared;        /* the running session, from READY->PAUSED */
  WtspSession *active;          /* shared->session */

  /* GST_OBJECT_LOCK */
  gchar *number;
  gint line;
  gboolean auto_answer;
  gchar *stun_server;
  gchar *turn_server;
  GstWebRTCICETransportPolicy ice_transport_policy;
  guint latency;
  gchar *video_codecs;
  gchar *audio_codecs;
  gboolean encoded_output;
  GstWebrtcCallState state;
  gchar *call_id;
  gint64 setup_us;

  /* Counters, atomic */
  gint video_received;
  gint audio_received;
  gint video_sent;
  gint audio_sent;

  /* self->lock: what streaming threads also touch */
  GMutex lock;
  GList *inputs;                /* Input */
  GList *outputs;               /* Output of the current or last call */
  guint expected_outputs;       /* remote streams negotiated, 0 = unknown */
  guint added_outputs;
  guint video_pads;
  guint audio_pads;
  guint generation;             /* of the current call, 0 = none */

  /* Session thread only */
  Call *call;
  gboolean ready;
  gboolean playing;
  gboolean dial_pending;
  gboolean eos;
  gboolean calls_done;          /* EOS posted for the last call */
};

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

static const gchar *
state_nick (GstWebrtcCallState state)
{
  GEnumValue *v = g_enum_get_value (g_type_class_peek
      (GST_TYPE_WEBRTC_CALL_STATE), state);
  return v ? v->value_nick : "unknown";
}

static void call_end (GstWebrtcCall * self, gint code, const gchar * reason);
static void apply_pending_candidates (GstWebrtcCall * self);


/* Sessions shared by the bins of a process that log in to the same server
 * as the same account: one WebSocket, one line per call. The first bin's
 * settings start it; the last one to leave stops it. */
struct _SharedSession
{
  gchar *identity;
  WtspSession *session;
  guint users;

  /* Session thread only */
  GHashTable *lines;            /* line -> the GstWebrtcCall using it */
  gboolean incoming_taken;      /* for the incoming_call being dispatched */
  gulong after_handler;
};

static GMutex pool_lock;
static GHashTable *pool;        /* identity -> SharedSession */

/* Runs after every bin saw the message: an incoming call no bin could
 * take (all busy) is declined, as a phone with no free line would */
static void
shared_after_message (WtspSession * session, WtspMessage * msg,
    SharedSession * shared)
{
  if (wtsp_message_is_event (msg, "incoming_call") && !shared->incoming_taken) {
    JsonObject *req = wtsp_request_new ("decline", msg->line, msg->call_id);

    GST_INFO_OBJECT (session, "no call bin is free: declining call %s",
        msg->call_id);
    json_object_set_int_member (req, "code", 486);
    wtsp_session_send_request (session, req, NULL);
  }
  shared->incoming_taken = FALSE;
}

static gboolean
claim_line (GstWebrtcCall * self, gint line)
{
  GHashTable *lines = self->shared->lines;
  gpointer owner = g_hash_table_lookup (lines, GINT_TO_POINTER (line));

  if (owner && owner != self)
    return FALSE;
  g_hash_table_insert (lines, GINT_TO_POINTER (line), self);
  return TRUE;
}

static void
release_line (GstWebrtcCall * self, gint line)
{
  GHashTable *lines = self->shared ? self->shared->lines : NULL;

  if (lines && g_hash_table_lookup (lines, GINT_TO_POINTER (line)) == self)
    g_hash_table_remove (lines, GINT_TO_POINTER (line));
}

static void on_session_message (WtspSession * session, WtspMessage * msg,
    GstWebrtcCall * self);
static void on_session_state (WtspSession * session, WtspSessionState old,
    WtspSessionState state, const gchar * why, GstWebrtcCall * self);
static void on_session_warning (WtspSession * session, GError * error,
    const gchar * debug, GstWebrtcCall * self);
static void on_session_error (WtspSession * session, GError * error,
    GstStructure * details, GstWebrtcCall * self);
static void session_ready (GstWebrtcCall * self);

static gboolean
joined_ready_session (gpointer user_data)
{
  session_ready (GST_WEBRTC_CALL (user_data));
  return G_SOURCE_REMOVE;
}

static gboolean
shared_acquire (GstWebrtcCall * self, GError ** error)
{
  gchar *identity = wtsp_session_get_identity (self->session);
  SharedSession *shared;
  gboolean fresh = FALSE;

  g_mutex_lock (&pool_lock);
  if (pool == NULL)
    pool = g_hash_table_new (g_str_hash, g_str_equal);
  shared = g_hash_table_lookup (pool, identity);
  if (shared == NULL) {
    shared = g_new0 (SharedSession, 1);
    shared->identity = identity;
    shared->session = gst_object_ref (self->session);
    shared->lines = g_hash_table_new (NULL, NULL);
    shared->after_handler = g_signal_connect_after (shared->session,
        "message", G_CALLBACK (shared_after_message), shared);
    g_hash_table_insert (pool, shared->identity, shared);
    fresh = TRUE;
  } else {
    g_free (identity);
  }
  shared->users++;
  self->shared = shared;
  self->active = shared->session;

  /* Before starting: the first state changes must not be missed */
  g_signal_connect (self->active, "message",
      G_CALLBACK (on_session_message), self);
  g_signal_connect (self->active, "state-changed",
      G_CALLBACK (on_session_state), self);
  g_signal_connect (self->active, "warning",
      G_CALLBACK (on_session_warning), self);
  g_signal_connect (self->active, "error", G_CALLBACK (on_session_error),
      self);

  if (fresh && !wtsp_session_start (self->active, error)) {
    g_mutex_unlock (&pool_lock);
    return FALSE;
  }
  g_mutex_unlock (&pool_lock);

  if (!fresh) {
    GST_INFO_OBJECT (self, "sharing the running signaling session (%u bins)",
        shared->users);
    if (wtsp_session_get_state (self->active) == WTSP_SESSION_STATE_READY)
      wtsp_session_invoke (self->active, joined_ready_session,
          gst_object_ref (self), gst_object_unref);
  }
  return TRUE;
}

static void
shared_release (GstWebrtcCall * self)
{
  SharedSession *shared = self->shared;
  gboolean last;

  if (shared == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->active, self);

  g_mutex_lock (&pool_lock);
  last = --shared->users == 0;
  if (last)
    g_hash_table_remove (pool, shared->identity);
  self->shared = NULL;
  self->active = NULL;
  g_mutex_unlock (&pool_lock);

  if (!last)
    return;
  wtsp_session_stop (shared->session);
  g_signal_handler_disconnect (shared->session, shared->after_handler);
  gst_object_unref (shared->session);
  g_hash_table_unref (shared->lines);
  g_free (shared->identity);
  g_free (shared);
}

/* State, on the bus */

static void
post_state (GstWebrtcCall * self, GstWebrtcCallState state, gint code,
    const gchar * reason)
{
  Call *call = self->call;
  GstStructure *s;

  GST_OBJECT_LOCK (self);
  self->state = state;
  GST_OBJECT_UNLOCK (self);
  if (call)
    call->state = state;

  s = gst_structure_new ("webrtccall-state",
      "state", G_TYPE_STRING, state_nick (state), NULL);
  if (call) {
    gst_structure_set (s, "line", G_TYPE_INT, call->line,
        "call-id", G_TYPE_STRING, call->call_id, NULL);
    if (call->caller)
      gst_structure_set (s, "caller", G_TYPE_STRING, call->caller, NULL);
    if (call->callee)
      gst_structure_set (s, "callee", G_TYPE_STRING, call->callee, NULL);
  }
  if (state == GST_WEBRTC_CALL_STATE_ENDED)
    gst_structure_set (s, "code", G_TYPE_INT, code,
        "reason", G_TYPE_STRING, reason ? reason : "", NULL);

  GST_INFO_OBJECT (self, "call state %s%s%s", state_nick (state),
      reason ? ": " : "", reason ? reason : "");
  g_object_notify (G_OBJECT (self), "state");
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* Hops: webrtcbin calls back on its own threads; all call logic runs on
 * the session's thread, and a hop that arrives after its call ended is
 * dropped by its generation */

typedef void (*CallFunc) (GstWebrtcCall * self, gpointer data);

typedef struct
{
  GstWebrtcCall *self;
  guint generation;
  CallFunc func;
  gpointer data;
  GDestroyNotify notify;
} Hop;

static void
hop_free (Hop * hop)
{
  if (hop->notify && hop->data)
    hop->notify (hop->data);
  gst_object_unref (hop->self);
  g_free (hop);
}

static gboolean
hop_run (gpointer user_data)
{
  Hop *hop = user_data;
  GstWebrtcCall *self = hop->self;

  if (hop->generation == 0 || (self->call && !self->call->ending
          && self->call->generation == hop->generation)) {
    GST_LOG_OBJECT (self, "running work for generation %u", hop->generation);
    hop->func (self, hop->data);
  }
  else
    GST_DEBUG_OBJECT (self, "dropped work for call generation %u",
        hop->generation);
  return G_SOURCE_REMOVE;
}

/* @generation 0: not tied to a call */
static void
hop (GstWebrtcCall * self, guint generation, CallFunc func, gpointer data,
    GDestroyNotify notify)
{
  Hop *h = g_new0 (Hop, 1);

  h->self = gst_object_ref (self);
  h->generation = generation;
  h->func = func;
  h->data = data;
  h->notify = notify;
  if (self->active == NULL || !wtsp_session_invoke (self->active, hop_run, h,
          (GDestroyNotify) hop_free))
    GST_DEBUG_OBJECT (self, "session not running: work dropped");
}

static guint
current_generation (GstWebrtcCall * self)
{
  guint g;

  g_mutex_lock (&self->lock);
  g = self->generation;
  g_mutex_unlock (&self->lock);
  return g;
}

/* For webrtcbin's callbacks: the work belongs to the call going on now,
 * and is dropped if that call ends first (or has ended already) */
static void
hop_call (GstWebrtcCall * self, CallFunc func, gpointer data,
    GDestroyNotify notify)
{
  guint generation = current_generation (self);

  if (generation == 0) {
    GST_DEBUG_OBJECT (self, "no call any more: work dropped");
    if (notify && data)
      notify (data);
    return;
  }
  hop (self, generation, func, data, notify);
}

/* Requests */

typedef struct
{
  GstWebrtcCall *self;
  guint generation;
  gchar *what;
} RequestCtx;

static void
request_ctx_free (RequestCtx * ctx)
{
  gst_object_unref (ctx->self);
  g_free (ctx->what);
  g_free (ctx);
}

static void
on_request_failed_hop (GstWebrtcCall * self, gpointer data)
{
  GstStructure *reply = data;
  const gchar *result = gst_structure_get_string (reply, "result");
  const gchar *reason = gst_structure_get_string (reply, "reason");
  const gchar *request = gst_structure_get_string (reply, "request");
  gint code = 0;
  gchar *text;

  gst_structure_get_int (reply, "code", &code);
  text = g_strdup_printf ("%s request failed (%s%s%s)",
      request, result, reason ? ": " : "", reason ? reason : "");
  /* A candidate that reaches the server after it ended the call (busy,
   * unknown number) is refused: nothing anyone can do about it */
  if (g_strcmp0 (request, "ice_trickle") == 0)
    GST_INFO_OBJECT (self, "%s", text);
  else
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("%s", text), (NULL));

  /* A call the server would not start or accept is over */
  if (self->call && (g_strcmp0 (request, "outgoing_call") == 0
          || g_strcmp0 (request, "accept") == 0))
    call_end (self, code ? code : 500, text);
  g_free (text);
}

static void
on_request_reply (GstPromise * promise, gpointer user_data)
{
  RequestCtx *ctx = user_data;
  const GstStructure *reply = gst_promise_get_reply (promise);
  const gchar *result = wtsp_reply_get_result (reply);

  /* Replies come on the session thread already; a hop keeps the
   * generation check in one place */
  if (!g_str_equal (result, WTSP_RESULT_ACK))
    hop (ctx->self, ctx->generation, on_request_failed_hop,
        gst_structure_copy (reply), (GDestroyNotify) gst_structure_free);
}

static void
send_request (GstWebrtcCall * self, JsonObject * request)
{
  RequestCtx *ctx = g_new0 (RequestCtx, 1);
  GstPromise *promise;

  ctx->self = gst_object_ref (self);
  ctx->generation = self->call ? self->call->generation : 0;
  promise = gst_promise_new_with_change_func (on_request_reply, ctx,
      (GDestroyNotify) request_ctx_free);
  wtsp_session_send_request (self->active, request, promise);
  gst_promise_unref (promise);
}

static JsonObject *
call_request (Call * call, const gchar * type)
{
  return wtsp_request_new (type, call->line, call->call_id);
}

static void
send_jsep_request (GstWebrtcCall * self, const gchar * type,
    GstWebRTCSessionDescription * desc, const gchar * number)
{
  JsonObject *req = call_request (self->call, type);
  gchar *sdp = gst_sdp_message_as_text (desc->sdp);

  if (number)
    json_object_set_string_member (req, "number", number);
  json_object_set_object_member (req, "jsep",
      wtsp_jsep_new (gst_webrtc_sdp_type_to_string (desc->type), sdp));
  g_free (sdp);
  send_request (self, req);
}

/* SDP helpers */

static gint
sdp_mline_for_mid (GstSDPMessage * sdp, const gchar * mid)
{
  guint i;

  for (i = 0; sdp && i < gst_sdp_message_medias_len (sdp); i++) {
    const gchar *m = gst_sdp_media_get_attribute_val (gst_sdp_message_get_media
        (sdp, i), "mid");
    if (g_strcmp0 (m, mid) == 0)
      return i;
  }
  return -1;
}

static const gchar *
sdp_mid_for_mline (GstSDPMessage * sdp, guint mline)
{
  if (sdp == NULL || mline >= gst_sdp_message_medias_len (sdp))
    return NULL;
  return gst_sdp_media_get_attribute_val (gst_sdp_message_get_media (sdp,
          mline), "mid");
}

static gboolean
has_attribute (const GstSDPMedia * media, const gchar * key)
{
  guint i;

  for (i = 0; i < gst_sdp_media_attributes_len (media); i++)
    if (g_strcmp0 (gst_sdp_media_get_attribute (media, i)->key, key) == 0)
      return TRUE;
  return FALSE;
}

/* Port 0 rejects an m-line, unless BUNDLE carries it (a=bundle-only) */
static gboolean
media_rejected (const GstSDPMedia * media)
{
  return gst_sdp_media_get_port (media) == 0
      && !has_attribute (media, "bundle-only");
}

/* Senders: built once the codec of each m-line is known */

/* Payloaders push buffer lists: count packets, not pushes */
static GstPadProbeReturn
count_sent (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    g_atomic_int_add ((gint *) user_data,
        gst_buffer_list_length (GST_PAD_PROBE_INFO_BUFFER_LIST (info)));
  else
    g_atomic_int_inc ((gint *) user_data);
  return GST_PAD_PROBE_OK;
}

static void
connect_senders (GstWebrtcCall * self, GstSDPMessage * answer)
{
  GList *l;

  g_mutex_lock (&self->lock);
  for (l = self->inputs; l; l = l->next) {
    Input *in = l->data;
    GError *error = NULL;
    const GstSDPMedia *media;
    const WebrtcCallCodec *codec;
    GstCaps *input_caps;
    GstPad *valve_src, *sender_sink, *sender_src;
    GstPadLinkReturn ret;
    gint mline, pt = -1;

    if (in->transceiver == NULL || in->sender)
      continue;
    g_object_get (in->transceiver, "mlineindex", &mline, NULL);
    if (mline < 0 || (guint) mline >= gst_sdp_message_medias_len (answer)) {
      GST_WARNING_OBJECT (self, "%s input has no m-line (%d) in the answer",
          in->media, mline);
      continue;
    }
    media = gst_sdp_message_get_media (answer, mline);
    if (media_rejected (media)) {
      GST_INFO_OBJECT (self, "%s m-line %d rejected by the far end",
          in->media, mline);
      continue;
    }
    codec = webrtc_call_codecs_negotiated (media, &pt);
    if (codec == NULL) {
      GST_ELEMENT_WARNING (self, STREAM, CODEC_NOT_FOUND,
          ("No %s codec in common with the far end: not sending %s",
              in->media, in->media), (NULL));
      continue;
    }

    input_caps = gst_pad_get_current_caps (in->ghost);
    in->sender = webrtc_call_codec_make_sender (codec, pt, in->ssrc,
        input_caps, &error);
    if (input_caps)
      gst_caps_unref (input_caps);
    if (in->sender == NULL) {
      GST_ELEMENT_WARNING (self, STREAM, FORMAT, ("%s", error->message),
          (NULL));
      g_clear_error (&error);
      continue;
    }
    in->codec = codec;
    in->pt = pt;
    GST_INFO_OBJECT (self, "sending %s as %s/%d", in->media, codec->name, pt);

    gst_bin_add (GST_BIN (self), gst_object_ref (in->sender));
    valve_src = gst_element_get_static_pad (in->valve, "src");
    sender_sink = gst_element_get_static_pad (in->sender, "sink");
    sender_src = gst_element_get_static_pad (in->sender, "src");
    if (GST_PAD_LINK_FAILED (ret = gst_pad_link (sender_src, in->webrtc_pad))
        || GST_PAD_LINK_FAILED (ret = gst_pad_link (valve_src, sender_sink))) {
      /* The valve stays closed: the input is dropped, the call goes on */
      GstCaps *ours = gst_pad_query_caps (sender_src, NULL);
      GstCaps *theirs = gst_pad_query_caps (in->webrtc_pad, NULL);

      GST_ELEMENT_WARNING (self, CORE, NEGOTIATION,
          ("Cannot send %s as %s: linking failed (%s)", in->media,
              codec->name, gst_pad_link_get_name (ret)),
          ("sender %" GST_PTR_FORMAT "; webrtcbin %" GST_PTR_FORMAT, ours,
              theirs));
      gst_caps_unref (ours);
      gst_caps_unref (theirs);
      gst_pad_unlink (sender_src, in->webrtc_pad);
      gst_element_set_state (in->sender, GST_STATE_NULL);
      gst_bin_remove (GST_BIN (self), in->sender);
      gst_clear_object (&in->sender);
      gst_object_unref (valve_src);
      gst_object_unref (sender_sink);
      gst_object_unref (sender_src);
      continue;
    }
    gst_pad_add_probe (sender_src, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_BUFFER_LIST, count_sent,
        g_str_equal (in->media, "video") ? &self->video_sent :
        &self->audio_sent, NULL);
    gst_element_sync_state_with_parent (in->sender);
    g_object_set (in->valve, "drop", FALSE, NULL);
    gst_object_unref (valve_src);
    gst_object_unref (sender_sink);
    gst_object_unref (sender_src);
  }
  g_mutex_unlock (&self->lock);
}

static void
disconnect_senders (GstWebrtcCall * self)
{
  GList *l;

  g_mutex_lock (&self->lock);
  for (l = self->inputs; l; l = l->next) {
    Input *in = l->data;

    g_object_set (in->valve, "drop", TRUE, NULL);
    if (in->sender) {
      GstPad *valve_src = gst_element_get_static_pad (in->valve, "src");
      GstPad *peer = gst_pad_get_peer (valve_src);

      if (peer) {
        gst_pad_unlink (valve_src, peer);
        gst_object_unref (peer);
      }
      gst_object_unref (valve_src);
      gst_element_set_locked_state (in->sender, TRUE);
      gst_element_set_state (in->sender, GST_STATE_NULL);
      gst_bin_remove (GST_BIN (self), in->sender);
      gst_clear_object (&in->sender);
    }
    gst_clear_object (&in->webrtc_pad);
    gst_clear_object (&in->transceiver);
    in->codec = NULL;
  }
  g_mutex_unlock (&self->lock);
}

/* Outputs */

static GstPadProbeReturn
count_received (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Output *out = user_data;

  g_atomic_int_inc (out->counter);
  return GST_PAD_PROBE_OK;
}

static void
post_connected (GstWebrtcCall * self)
{
  GST_OBJECT_LOCK (self);
  self->setup_us = g_get_monotonic_time () - self->call->started;
  GST_OBJECT_UNLOCK (self);
  post_state (self, GST_WEBRTC_CALL_STATE_CONNECTED, 0, NULL);
}

static void
media_arrived_hop (GstWebrtcCall * self, gpointer data)
{
  Call *call = self->call;

  if (call->media_flowing)
    return;
  call->media_flowing = TRUE;
  if (call->ice_connected && call->state == GST_WEBRTC_CALL_STATE_ACCEPTED)
    post_connected (self);
}

static GstPadProbeReturn
first_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstWebrtcCall *self = user_data;

  hop_call (self, media_arrived_hop, NULL, NULL);
  return GST_PAD_PROBE_REMOVE;
}

static void
remove_outputs (GstWebrtcCall * self)
{
  GList *outputs, *l;

  g_mutex_lock (&self->lock);
  outputs = self->outputs;
  self->outputs = NULL;
  g_mutex_unlock (&self->lock);

  for (l = outputs; l; l = l->next) {
    Output *out = l->data;

    gst_element_remove_pad (GST_ELEMENT (self), out->ghost);
    gst_element_set_locked_state (out->bin, TRUE);
    gst_element_set_state (out->bin, GST_STATE_NULL);
    gst_bin_remove (GST_BIN (self), out->bin);
    g_free (out);
  }
  g_list_free (outputs);
}

/* Streaming thread of webrtcbin: link at once, or its data is lost */
static void
on_webrtc_pad_added (GstElement * webrtc, GstPad * pad, GstWebrtcCall * self)
{
  const WebrtcCallCodec *codec = NULL;
  GError *error = NULL;
  GstCaps *caps;
  const gchar *name;
  gboolean encoded, all;
  Output *out;
  GstPad *sink, *src;
  gchar *pad_name;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;

  caps = gst_pad_get_current_caps (pad);
  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  name = gst_structure_get_string (gst_caps_get_structure (caps, 0),
      "encoding-name");
  if (name)
    codec = webrtc_call_codec_find (name);
  if (codec == NULL) {
    GST_ELEMENT_WARNING (self, STREAM, CODEC_NOT_FOUND,
        ("The far end sends media this element cannot receive"),
        ("%" GST_PTR_FORMAT, caps));
    gst_caps_unref (caps);
    return;
  }
  gst_caps_unref (caps);

  GST_OBJECT_LOCK (self);
  encoded = self->encoded_output;
  GST_OBJECT_UNLOCK (self);

  out = g_new0 (Output, 1);
  out->media = codec->media;
  out->counter = g_str_equal (codec->media, "video") ? &self->video_received :
      &self->audio_received;
  out->bin = webrtc_call_codec_make_receiver (codec, encoded, &error);
  if (out->bin == NULL) {
    GST_ELEMENT_WARNING (self, CORE, MISSING_PLUGIN, ("%s", error->message),
        (NULL));
    g_clear_error (&error);
    g_free (out);
    return;
  }

  gst_bin_add (GST_BIN (self), out->bin);
  sink = gst_element_get_static_pad (out->bin, "sink");
  src = gst_element_get_static_pad (out->bin, "src");
  gst_element_sync_state_with_parent (out->bin);

  g_mutex_lock (&self->lock);
  if (g_str_equal (codec->media, "video"))
    pad_name = g_strdup_printf ("video_src_%u", self->video_pads++);
  else
    pad_name = g_strdup_printf ("audio_src_%u", self->audio_pads++);
  self->outputs = g_list_append (self->outputs, out);
  g_mutex_unlock (&self->lock);

  out->ghost = gst_ghost_pad_new_from_template (pad_name, src,
      gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (self),
          g_str_equal (codec->media, "video") ? "video_src_%u" :
          "audio_src_%u"));
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER, count_received, out,
      NULL);
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER, first_buffer, self,
      NULL);
  gst_pad_set_active (out->ghost, TRUE);
  GST_INFO_OBJECT (self, "receiving %s as %s on %s", codec->media,
      codec->name, pad_name);
  /* The application links the new pad in its pad-added handler; only then
   * may data flow, or the first buffers hit an unlinked pad */
  gst_element_add_pad (GST_ELEMENT (self), out->ghost);

  g_mutex_lock (&self->lock);
  all = ++self->added_outputs == self->expected_outputs;
  g_mutex_unlock (&self->lock);
  if (all)
    gst_element_no_more_pads (GST_ELEMENT (self));

  if (GST_PAD_LINK_FAILED (gst_pad_link (pad, sink)))
    GST_ELEMENT_WARNING (self, CORE, PAD, ("Could not receive %s",
            codec->media), ("linking %s failed", GST_PAD_NAME (pad)));

  g_free (pad_name);
  gst_object_unref (sink);
  gst_object_unref (src);
}

/* webrtcbin */

static void
send_candidate_hop (GstWebrtcCall * self, gpointer data)
{
  JsonObject *candidate = data;
  JsonObject *req = call_request (self->call, "ice_trickle");

  json_object_set_object_member (req, "candidate",
      json_object_ref (candidate));
  send_request (self, req);
}

static void
on_ice_candidate (GstElement * webrtc, guint mline, gchar * candidate,
    GstWebrtcCall * self)
{
  GstWebRTCSessionDescription *local = NULL;
  JsonObject *c = json_object_new ();
  const gchar *mid;

  g_object_get (webrtc, "local-description", &local, NULL);
  mid = local ? sdp_mid_for_mline (local->sdp, mline) : NULL;
  json_object_set_string_member (c, "candidate", candidate);
  if (mid)
    json_object_set_string_member (c, "sdpMid", mid);
  json_object_set_int_member (c, "sdpMLineIndex", mline);
  if (local)
    gst_webrtc_session_description_free (local);

  hop_call (self, send_candidate_hop, c, (GDestroyNotify) json_object_unref);
}

static void
gathering_done_hop (GstWebrtcCall * self, gpointer data)
{
  JsonObject *req = call_request (self->call, "ice_trickle");
  JsonObject *c = json_object_new ();

  json_object_set_boolean_member (c, "completed", TRUE);
  json_object_set_object_member (req, "candidate", c);
  send_request (self, req);
}

static void
on_gathering_state (GstElement * webrtc, GParamSpec * pspec,
    GstWebrtcCall * self)
{
  GstWebRTCICEGatheringState state;

  g_object_get (webrtc, "ice-gathering-state", &state, NULL);
  if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    hop_call (self, gathering_done_hop, NULL, NULL);
}

/* Whether the far end said it sends us anything */
static gboolean
remote_sends (Call * call)
{
  guint i;

  for (i = 0; call->remote_sdp && i < gst_sdp_message_medias_len
      (call->remote_sdp); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (call->remote_sdp, i);

    if (!media_rejected (m)
        && !has_attribute (m, "recvonly") && !has_attribute (m, "inactive"))
      return TRUE;
  }
  return FALSE;
}

/* How many streams the far end will send, from both descriptions: the
 * pads to expect before no-more-pads */
static void
set_expected_outputs (GstWebrtcCall * self, GstSDPMessage * local,
    GstSDPMessage * remote)
{
  guint i, n = 0;
  gboolean done;

  for (i = 0; remote && local && i < gst_sdp_message_medias_len (remote)
      && i < gst_sdp_message_medias_len (local); i++) {
    const GstSDPMedia *r = gst_sdp_message_get_media (remote, i);
    const GstSDPMedia *l = gst_sdp_message_get_media (local, i);

    if (!media_rejected (r) && !media_rejected (l)
        && !has_attribute (r, "recvonly") && !has_attribute (r, "inactive")
        && !has_attribute (l, "sendonly") && !has_attribute (l, "inactive"))
      n++;
  }

  g_mutex_lock (&self->lock);
  self->expected_outputs = n;
  done = n > 0 && self->added_outputs >= n;
  g_mutex_unlock (&self->lock);
  GST_DEBUG_OBJECT (self, "expecting %u remote streams", n);
  if (done)
    gst_element_no_more_pads (GST_ELEMENT (self));
}

static void
expect_outputs_from_webrtc (GstWebrtcCall * self)
{
  GstWebRTCSessionDescription *local = NULL, *remote = NULL;

  g_object_get (self->call->webrtc, "local-description", &local,
      "remote-description", &remote, NULL);
  set_expected_outputs (self, local ? local->sdp : NULL,
      remote ? remote->sdp : NULL);
  if (local)
    gst_webrtc_session_description_free (local);
  if (remote)
    gst_webrtc_session_description_free (remote);
}

static void
connection_state_hop (GstWebrtcCall * self, gpointer data)
{
  GstWebRTCPeerConnectionState state = GPOINTER_TO_INT (data);
  Call *call = self->call;

  GST_INFO_OBJECT (self, "peer connection %d", state);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) {
    call->ice_connected = TRUE;
    if ((call->media_flowing || !remote_sends (call))
        && call->state == GST_WEBRTC_CALL_STATE_ACCEPTED)
      post_connected (self);
  } else if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) {
    GST_ELEMENT_WARNING (self, RESOURCE, FAILED,
        ("The media connection of call %s failed (ICE or DTLS): no path to "
            "the far end", call->call_id), (NULL));
  }
}

static void
on_connection_state (GstElement * webrtc, GParamSpec * pspec,
    GstWebrtcCall * self)
{
  GstWebRTCPeerConnectionState state;

  g_object_get (webrtc, "connection-state", &state, NULL);
  hop_call (self, connection_state_hop, GINT_TO_POINTER (state), NULL);
}

static void
make_webrtc (GstWebrtcCall * self, Call * call)
{
  GstElement *webrtc = gst_element_factory_make ("webrtcbin", NULL);
  GObject *ice = NULL;

  GST_OBJECT_LOCK (self);
  g_object_set (webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE,
      "latency", self->latency,
      "ice-transport-policy", self->ice_transport_policy, NULL);
  if (self->stun_server)
    g_object_set (webrtc, "stun-server", self->stun_server, NULL);
  if (self->turn_server)
    g_object_set (webrtc, "turn-server", self->turn_server, NULL);
  GST_OBJECT_UNLOCK (self);

  /* UPnP costs ~15 file descriptors per call and finds nothing here */
  g_object_get (webrtc, "ice-agent", &ice, NULL);
  if (ice) {
    GObject *agent = NULL;

    if (g_object_class_find_property (G_OBJECT_GET_CLASS (ice), "agent"))
      g_object_get (ice, "agent", &agent, NULL);
    if (agent && g_object_class_find_property (G_OBJECT_GET_CLASS (agent),
            "upnp"))
      g_object_set (agent, "upnp", FALSE, NULL);
    g_clear_object (&agent);
    g_object_unref (ice);
  }

  g_signal_connect (webrtc, "on-ice-candidate", G_CALLBACK (on_ice_candidate),
      self);
  g_signal_connect (webrtc, "pad-added", G_CALLBACK (on_webrtc_pad_added),
      self);
  g_signal_connect (webrtc, "notify::ice-gathering-state",
      G_CALLBACK (on_gathering_state), self);
  g_signal_connect (webrtc, "notify::connection-state",
      G_CALLBACK (on_connection_state), self);

  call->webrtc = gst_object_ref (webrtc);
  gst_bin_add (GST_BIN (self), webrtc);
  gst_element_sync_state_with_parent (webrtc);
}

/* An input gets a sink pad of webrtcbin, and an SSRC that the caps carry
 * into our SDP (a=ssrc): without it Chromium cannot tell bundled streams
 * apart when one of them is receive-only. The sender will use it. */
static void
bind_input (Call * call, Input * in, GstCaps * caps)
{
  in->ssrc = g_random_int ();
  gst_caps_set_simple (caps, "ssrc", G_TYPE_UINT, in->ssrc, NULL);
  in->webrtc_pad = gst_element_request_pad_simple (call->webrtc, "sink_%u");
  g_object_get (in->webrtc_pad, "transceiver", &in->transceiver, NULL);
  g_object_set (in->transceiver, "direction",
      GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV,
      "codec-preferences", caps, NULL);
}

/* Offering: one sendrecv transceiver per input pad, receive-only ones
 * for media we do not send, with all our codecs */
static gboolean
add_offer_transceivers (GstWebrtcCall * self, Call * call, GError ** error)
{
  static const gchar *kinds[] = { "video", "audio" };
  gboolean ok = TRUE;
  guint k;

  for (k = 0; k < G_N_ELEMENTS (kinds) && ok; k++) {
    GstCaps *caps;
    gchar *prefs;
    Input *in = NULL;
    GList *l;

    GST_OBJECT_LOCK (self);
    prefs = g_strdup (k == 0 ? self->video_codecs : self->audio_codecs);
    GST_OBJECT_UNLOCK (self);
    caps = webrtc_call_codecs_offer_caps (kinds[k], prefs, error);
    g_free (prefs);
    if (caps == NULL) {
      ok = FALSE;
      break;
    }

    g_mutex_lock (&self->lock);
    for (l = self->inputs; l && !in; l = l->next)
      if (g_str_equal (((Input *) l->data)->media, kinds[k])
          && !((Input *) l->data)->eos)
        in = l->data;
    if (in)
      bind_input (call, in, caps);
    g_mutex_unlock (&self->lock);

    if (in == NULL) {
      GstWebRTCRTPTransceiver *t = NULL;

      g_signal_emit_by_name (call->webrtc, "add-transceiver",
          GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &t);
      g_clear_object (&t);
    }
    GST_DEBUG_OBJECT (self, "%s transceiver (%s): %" GST_PTR_FORMAT,
        kinds[k], in ? "sendrecv" : "recvonly", caps);
    gst_caps_unref (caps);
  }
  return ok;
}

/* Answering: before the remote offer is set, one transceiver per m-line
 * of the offer, with the codec we pick from it and the offer's payload
 * type as codec preferences. webrtcbin 1.22 builds its answer by matching
 * the offer against these, payload type included. Inputs are bound to
 * m-lines once the local answer is set (connect_senders). */
static void
prepare_answer_transceivers (GstWebrtcCall * self, Call * call,
    GstSDPMessage * offer)
{
  guint m;

  for (m = 0; m < gst_sdp_message_medias_len (offer); m++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (offer, m);
    const gchar *kind = gst_sdp_media_get_media (media);
    GstCaps *caps = NULL;
    Input *in = NULL;
    gchar *prefs;
    gint pt;
    GList *l;

    GST_OBJECT_LOCK (self);
    prefs = g_strdup (g_str_equal (kind, "video") ? self->video_codecs :
        g_str_equal (kind, "audio") ? self->audio_codecs : "");
    GST_OBJECT_UNLOCK (self);
    if (webrtc_call_codecs_choose (media, prefs, &pt, &caps) == NULL) {
      GST_WARNING_OBJECT (self, "no codec of m-line %u (%s) is ours: it "
          "will be rejected", m, kind);
      g_free (prefs);
      continue;
    }
    g_free (prefs);

    g_mutex_lock (&self->lock);
    for (l = self->inputs; l && !in; l = l->next) {
      Input *i = l->data;
      if (g_str_equal (i->media, kind) && i->transceiver == NULL && !i->eos)
        in = i;
    }
    if (in)
      bind_input (call, in, caps);
    g_mutex_unlock (&self->lock);

    if (in == NULL) {
      GstWebRTCRTPTransceiver *t = NULL;

      g_signal_emit_by_name (call->webrtc, "add-transceiver",
          GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &t);
      g_clear_object (&t);
    }
    GST_DEBUG_OBJECT (self, "m-line %u %s (%s): %" GST_PTR_FORMAT, m, kind,
        in ? "sendrecv" : "recvonly", caps);
    gst_caps_unref (caps);
  }
}

/* Remote descriptions and candidates */

static void
add_candidate (GstWebrtcCall * self, JsonObject * c)
{
  Call *call = self->call;
  const gchar *candidate;
  gint mline = -1;

  if (json_object_get_boolean_member_with_default (c, "completed", FALSE))
    return;
  candidate = json_object_get_string_member_with_default (c, "candidate",
      NULL);
  if (candidate == NULL || *candidate == '\0')
    return;
  if (json_object_has_member (c, "sdpMLineIndex")
      && !json_object_get_null_member (c, "sdpMLineIndex"))
    mline = json_object_get_int_member (c, "sdpMLineIndex");
  else if (json_object_has_member (c, "sdpMid")
      && !json_object_get_null_member (c, "sdpMid"))
    mline = sdp_mline_for_mid (call->remote_sdp,
        json_object_get_string_member (c, "sdpMid"));
  if (mline < 0) {
    GST_WARNING_OBJECT (self, "candidate for no known m-line dropped: %s",
        candidate);
    return;
  }
  GST_LOG_OBJECT (self, "remote candidate %d %s", mline, candidate);
  g_signal_emit_by_name (call->webrtc, "add-ice-candidate", (guint) mline,
      candidate);
}

static void
apply_pending_candidates (GstWebrtcCall * self)
{
  JsonObject *c;

  while ((c = g_queue_pop_head (&self->call->pending_candidates))) {
    add_candidate (self, c);
    json_object_unref (c);
  }
}

typedef struct
{
  GstWebrtcCall *self;
  guint generation;
  CallFunc then;
} PromiseCtx;

static void
promise_ctx_free (PromiseCtx * ctx)
{
  gst_object_unref (ctx->self);
  g_free (ctx);
}

static void
promise_failed_hop (GstWebrtcCall * self, gpointer data)
{
  call_end (self, 488, data);
}

/* webrtcbin replies on its own thread: hop with a copy of the reply */
static void
on_webrtc_promise (GstPromise * promise, gpointer user_data)
{
  PromiseCtx *ctx = user_data;
  const GstStructure *reply;
  GError *error = NULL;

  /* Interrupted: the call is being torn down (interrupt_promises) */
  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED) {
    hop (ctx->self, ctx->generation, promise_failed_hop,
        g_strdup ("webrtcbin did not answer"), g_free);
    return;
  }
  reply = gst_promise_get_reply (promise);
  GST_LOG_OBJECT (ctx->self, "webrtcbin replied: %" GST_PTR_FORMAT, reply);
  if (reply && gst_structure_has_field (reply, "error")) {
    gst_structure_get (reply, "error", G_TYPE_ERROR, &error, NULL);
    hop (ctx->self, ctx->generation, promise_failed_hop,
        g_strdup_printf ("negotiation failed: %s",
            error ? error->message : "unknown error"), g_free);
    g_clear_error (&error);
    return;
  }
  hop (ctx->self, ctx->generation, ctx->then,
      reply ? gst_structure_copy (reply) : NULL,
      (GDestroyNotify) gst_structure_free);
}

static GstPromise *
webrtc_promise (GstWebrtcCall * self, CallFunc then)
{
  PromiseCtx *ctx = g_new0 (PromiseCtx, 1);
  GstPromise *promise;

  ctx->self = gst_object_ref (self);
  ctx->generation = self->call->generation;
  ctx->then = then;
  promise = gst_promise_new_with_change_func (on_webrtc_promise, ctx,
      (GDestroyNotify) promise_ctx_free);
  self->call->promises = g_list_prepend (self->call->promises,
      gst_promise_ref (promise));
  return promise;
}

/* webrtcbin set to NULL drops its queued tasks, and their promises with
 * them, unreplied: settle ours first */
static void
interrupt_promises (Call * call)
{
  GList *l;

  for (l = call->promises; l; l = l->next) {
    GstPromise *promise = l->data;

    /* a no-op on a promise already replied to */
    gst_promise_interrupt (promise);
    gst_promise_unref (promise);
  }
  g_list_free (call->promises);
  call->promises = NULL;
}

static void
remote_answer_set (GstWebrtcCall * self, gpointer data)
{
  Call *call = self->call;

  call->remote_set = TRUE;
  apply_pending_candidates (self);
  connect_senders (self, call->remote_sdp);
  expect_outputs_from_webrtc (self);
}

static gboolean
set_remote (GstWebrtcCall * self, const gchar * type, const gchar * sdp_text,
    CallFunc then)
{
  Call *call = self->call;
  GstSDPMessage *sdp = NULL;
  GstWebRTCSessionDescription *desc;
  GstPromise *promise;

  if (gst_sdp_message_new_from_text (sdp_text, &sdp) != GST_SDP_OK) {
    if (sdp)
      gst_sdp_message_free (sdp);
    call_end (self, 488, "the far end's SDP could not be parsed");
    return FALSE;
  }
  if (call->remote_sdp)
    gst_sdp_message_free (call->remote_sdp);
  gst_sdp_message_copy (sdp, &call->remote_sdp);

  desc = gst_webrtc_session_description_new (g_str_equal (type, "offer") ?
      GST_WEBRTC_SDP_TYPE_OFFER : g_str_equal (type, "pranswer") ?
      GST_WEBRTC_SDP_TYPE_PRANSWER : GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  promise = webrtc_promise (self, then);
  g_signal_emit_by_name (call->webrtc, "set-remote-description", desc,
      promise);
  gst_promise_unref (promise);
  gst_webrtc_session_description_free (desc);
  return TRUE;
}

static void
apply_answer (GstWebrtcCall * self, WtspMessage * msg)
{
  const gchar *type, *sdp;

  if (self->call->answered || !wtsp_message_get_jsep (msg, &type, &sdp))
    return;
  if (!g_str_equal (type, "answer") && !g_str_equal (type, "pranswer")) {
    call_end (self, 488, "the far end sent an offer where an answer was due");
    return;
  }
  self->call->answered = TRUE;
  set_remote (self, "answer", sdp, remote_answer_set);
}

/* Outgoing call, and accepting a call that came without an offer: we
 * offer. The request goes out before the local description is set, so the
 * server knows the call before its candidates arrive (protocol.md §6). */

static void
local_set (GstWebrtcCall * self, gpointer data)
{
  GST_DEBUG_OBJECT (self, "local description set");
}

static void
set_local_then (GstWebrtcCall * self, GstWebRTCSessionDescription * desc,
    CallFunc then)
{
  GstPromise *promise = webrtc_promise (self, then);

  g_signal_emit_by_name (self->call->webrtc, "set-local-description", desc,
      promise);
  gst_promise_unref (promise);
}

/* Our answer is in place: m-lines are bound, inputs can be sent */
static void
local_answer_set (GstWebrtcCall * self, gpointer data)
{
  GstWebRTCSessionDescription *local = NULL;

  g_object_get (self->call->webrtc, "local-description", &local, NULL);
  if (local) {
    connect_senders (self, local->sdp);
    gst_webrtc_session_description_free (local);
  }
  expect_outputs_from_webrtc (self);
}

static void
set_local (GstWebrtcCall * self, GstWebRTCSessionDescription * desc)
{
  GstPromise *promise = webrtc_promise (self, local_set);

  g_signal_emit_by_name (self->call->webrtc, "set-local-description", desc,
      promise);
  gst_promise_unref (promise);
}

static void
offer_created (GstWebrtcCall * self, gpointer data)
{
  GstStructure *reply = data;
  GstWebRTCSessionDescription *offer = NULL;
  gchar *number;

  gst_structure_get (reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
      &offer, NULL);
  if (offer == NULL) {
    call_end (self, 500, "webrtcbin made no offer");
    return;
  }

  GST_OBJECT_LOCK (self);
  number = g_strdup (self->number);
  GST_OBJECT_UNLOCK (self);

  if (self->call->outgoing)
    send_jsep_request (self, "outgoing_call", offer, self->call->callee);
  else
    send_jsep_request (self, "accept", offer, NULL);
  set_local (self, offer);
  gst_webrtc_session_description_free (offer);
  g_free (number);
}

static void
create_offer (GstWebrtcCall * self)
{
  GError *error = NULL;
  GstPromise *promise;

  make_webrtc (self, self->call);
  if (!add_offer_transceivers (self, self->call, &error)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("%s", error->message),
        (NULL));
    call_end (self, 500, error->message);
    g_error_free (error);
    return;
  }
  promise = webrtc_promise (self, offer_created);
  g_signal_emit_by_name (self->call->webrtc, "create-offer", NULL, promise);
  gst_promise_unref (promise);
}

static gchar *
random_call_id (void)
{
  static const gchar chars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  gchar *id = g_malloc (25);
  guint i;

  for (i = 0; i < 24; i++)
    id[i] = chars[g_random_int_range (0, sizeof (chars) - 1)];
  id[24] = '\0';
  return id;
}

/* A pipeline posts EOS once every sink had one, and webrtcbin's own sinks
 * leave with the call: the bin keeps a sink (eos-sink, which never gets
 * data) so it counts as one, and posts EOS itself when a call ends, or when
 * its inputs end with no call, so that gst-launch -e and a pipeline's EOS
 * follow the call. A message, not an event into eos-sink: an event could
 * block there in preroll while the application is stopping the pipeline. */
/* Once, at READY->PAUSED: with a stream-start the pipeline can post its
 * own STREAM_START, which waits for every sink */
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

static void
post_eos (GstWebrtcCall * self)
{
  GST_DEBUG_OBJECT (self, "EOS: no call goes on");
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_eos (GST_OBJECT (self)));
}

static Call *
call_new (GstWebrtcCall * self, gint line, const gchar * call_id)
{
  Call *call = g_new0 (Call, 1);

  /* The last call's pads have had their EOS: make room for new ones */
  remove_outputs (self);

  g_mutex_lock (&self->lock);
  self->expected_outputs = 0;
  self->added_outputs = 0;
  call->generation = ++self->generation;
  if (self->generation == 0)
    call->generation = self->generation = 1;
  g_mutex_unlock (&self->lock);

  call->line = line;
  call->call_id = g_strdup (call_id);
  call->started = g_get_monotonic_time ();
  g_queue_init (&call->pending_candidates);

  GST_OBJECT_LOCK (self);
  g_free (self->call_id);
  self->call_id = g_strdup (call_id);
  self->setup_us = 0;
  GST_OBJECT_UNLOCK (self);
  g_atomic_int_set (&self->video_received, 0);
  g_atomic_int_set (&self->audio_received, 0);
  g_atomic_int_set (&self->video_sent, 0);
  g_atomic_int_set (&self->audio_sent, 0);
  g_object_notify (G_OBJECT (self), "call-id");

  self->call = call;
  return call;
}

/* The first line the server's state shows idle and no bin of ours uses */
static gint
free_line (GstWebrtcCall * self)
{
  WtspMessage *state = wtsp_session_get_state_message (self->active);
  JsonArray *lines;
  gint line = -1;
  guint i;

  if (state == NULL)
    return -1;
  lines = json_object_get_array_member (state->object, "lines");
  for (i = 0; i < json_array_get_length (lines) && line < 0; i++)
    if (JSON_NODE_HOLDS_NULL (json_array_get_element (lines, i))
        && !g_hash_table_contains (self->shared->lines, GINT_TO_POINTER (i)))
      line = i;
  wtsp_message_unref (state);
  return line;
}

static void
dial_hop (GstWebrtcCall * self, gpointer data)
{
  gchar *number = data;
  gchar *call_id;
  gint line;
  Call *call;

  if (self->call) {
    GST_ELEMENT_WARNING (self, RESOURCE, BUSY,
        ("Cannot dial %s: call %s is still going on", number,
            self->call->call_id), (NULL));
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
  line = self->line;
  GST_OBJECT_UNLOCK (self);
  if (line < 0)
    line = free_line (self);
  if (line < 0 || !claim_line (self, line)) {
    GST_ELEMENT_WARNING (self, RESOURCE, BUSY,
        ("Cannot dial %s: no free line on this account", number), (NULL));
    return;
  }

  call_id = random_call_id ();
  call = call_new (self, line, call_id);
  g_free (call_id);
  call->outgoing = TRUE;
  call->callee = g_strdup (number);
  GST_INFO_OBJECT (self, "dialling %s on line %d, call %s", number, line,
      call->call_id);
  post_state (self, GST_WEBRTC_CALL_STATE_CALLING, 0, NULL);
  create_offer (self);
}

/* Answering */

static void
answer_created (GstWebrtcCall * self, gpointer data)
{
  GstStructure *reply = data;
  GstWebRTCSessionDescription *answer = NULL;

  gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
      &answer, NULL);
  if (answer == NULL) {
    call_end (self, 488, "webrtcbin made no answer to the offer");
    return;
  }
  send_jsep_request (self, "accept", answer, NULL);
  set_local_then (self, answer, local_answer_set);
  gst_webrtc_session_description_free (answer);
}

static void
remote_offer_set (GstWebrtcCall * self, gpointer data)
{
  GstPromise *promise;

  self->call->remote_set = TRUE;
  apply_pending_candidates (self);
  promise = webrtc_promise (self, answer_created);
  g_signal_emit_by_name (self->call->webrtc, "create-answer", NULL, promise);
  gst_promise_unref (promise);
}

/* Answers a remote offer with a fresh webrtcbin */
static void
answer_offer (GstWebrtcCall * self, const gchar * sdp_text)
{
  Call *call = self->call;
  GstSDPMessage *offer = NULL;

  if (gst_sdp_message_new_from_text (sdp_text, &offer) != GST_SDP_OK) {
    if (offer)
      gst_sdp_message_free (offer);
    call_end (self, 488, "the offer's SDP could not be parsed");
    return;
  }
  make_webrtc (self, call);
  prepare_answer_transceivers (self, call, offer);
  gst_sdp_message_free (offer);
  call->answered = TRUE;
  set_remote (self, "offer", sdp_text, remote_offer_set);
}

static void
answer_hop (GstWebrtcCall * self, gpointer data)
{
  Call *call = self->call;
  const gchar *type, *sdp_text;

  if (call == NULL || call->incoming == NULL) {
    GST_ELEMENT_WARNING (self, RESOURCE, FAILED,
        ("No incoming call to answer"), (NULL));
    return;
  }

  if (!wtsp_message_get_jsep (call->incoming, &type, &sdp_text)) {
    /* Offerless INVITE: we offer in the accept, the answer comes with
     * "accepted" */
    GST_INFO_OBJECT (self, "incoming call without offer: offering");
    g_clear_pointer (&call->incoming, wtsp_message_unref);
    create_offer (self);
    return;
  }

  answer_offer (self, sdp_text);
  g_clear_pointer (&call->incoming, wtsp_message_unref);
}

static void
decline_hop (GstWebrtcCall * self, gpointer data)
{
  guint code = GPOINTER_TO_UINT (data);
  JsonObject *req;

  if (self->call == NULL || self->call->incoming == NULL) {
    GST_ELEMENT_WARNING (self, RESOURCE, FAILED,
        ("No incoming call to decline"), (NULL));
    return;
  }
  req = call_request (self->call, "decline");
  if (code)
    json_object_set_int_member (req, "code", code);
  send_request (self, req);
}

static void
hangup_hop (GstWebrtcCall * self, gpointer data)
{
  if (self->call == NULL || self->call->ending || self->call->hangup_sent)
    return;
  self->call->hangup_sent = TRUE;
  if (self->call->incoming) {
    decline_hop (self, GUINT_TO_POINTER (486));
    return;
  }
  send_request (self, call_request (self->call, "hangup"));
  post_state (self, GST_WEBRTC_CALL_STATE_HANGINGUP, 0, NULL);
}

static void
hold_hop (GstWebrtcCall * self, gpointer data)
{
  JsonObject *req;

  if (self->call == NULL)
    return;
  req = call_request (self->call, data ? "hold" : "unhold");
  if (data)
    json_object_set_string_member (req, "direction", "sendonly");
  send_request (self, req);
}

/* webrtcbin and the senders feeding it go; the inputs drop again.
 * webrtcbin first: a sender's thread may be inside it (held by a probe
 * until DTLS is up, or by a sink), and only webrtcbin going to NULL
 * flushes its pads and lets that thread return. */
static void
drop_webrtc (GstWebrtcCall * self, Call * call)
{
  GList *l;

  g_mutex_lock (&self->lock);
  for (l = self->inputs; l; l = l->next)
    g_object_set (((Input *) l->data)->valve, "drop", TRUE, NULL);
  g_mutex_unlock (&self->lock);

  interrupt_promises (call);
  if (call->webrtc) {
    g_signal_handlers_disconnect_by_data (call->webrtc, self);
    gst_element_set_locked_state (call->webrtc, TRUE);
    gst_element_set_state (call->webrtc, GST_STATE_NULL);
  }
  disconnect_senders (self);
  if (call->webrtc) {
    gst_bin_remove (GST_BIN (self), call->webrtc);
    gst_clear_object (&call->webrtc);
  }
  call->remote_set = FALSE;
}

/* Out of our src pads, downstream: flushes reach the application's sinks
 * without waiting for a stream lock */
static void
push_outputs (GList * outputs, GstEvent * event)
{
  GList *l;

  for (l = outputs; l; l = l->next)
    gst_pad_push_event (((Output *) l->data)->ghost, gst_event_ref (event));
  gst_event_unref (event);
}

/* Ending: EOS out of every output so muxers finish, webrtcbin gone, the
 * inputs back to dropping. Safe to call more than once. */
static void
call_end (GstWebrtcCall * self, gint code, const gchar * reason)
{
  Call *call = self->call;
  GList *outputs, *l;
  gboolean stopping;
  JsonObject *c;

  if (call == NULL || call->ending)
    return;
  call->ending = TRUE;
  GST_INFO_OBJECT (self, "call %s ended: %d %s", call->call_id, code,
      GST_STR_NULL (reason));

  g_mutex_lock (&self->lock);
  self->generation = 0;         /* late webrtcbin callbacks are dropped */
  outputs = g_list_copy (self->outputs);
  g_mutex_unlock (&self->lock);

  /* The application is stopping the pipeline: its sinks may already be
   * PAUSED, holding a webrtcbin thread in preroll, and tearing webrtcbin
   * down would wait for that thread forever. A flush releases it. (While
   * PLAYING, no flush: a recording keeps everything up to the end.) */
  GST_OBJECT_LOCK (self);
  stopping = GST_STATE_TARGET (self) < GST_STATE_PLAYING;
  GST_OBJECT_UNLOCK (self);
  if (stopping)
    push_outputs (outputs, gst_event_new_flush_start ());

  /* webrtcbin first: it holds sinks of its own, and the pipeline can only
   * post EOS once every sink left has had one */
  drop_webrtc (self, call);

  if (stopping)
    push_outputs (outputs, gst_event_new_flush_stop (FALSE));
  for (l = outputs; l; l = l->next) {
    Output *out = l->data;
    GstPad *sink = gst_element_get_static_pad (out->bin, "sink");

    gst_pad_send_event (sink, gst_event_new_eos ());
    gst_object_unref (sink);
  }
  g_list_free (outputs);

  /* EOS before "ended": an application that stops the pipeline on
   * "ended" finds its files finished */
  self->calls_done = TRUE;
  post_eos (self);
  post_state (self, GST_WEBRTC_CALL_STATE_ENDED, code, reason);

  release_line (self, call->line);
  self->call = NULL;
  while ((c = g_queue_pop_head (&call->pending_candidates)))
    json_object_unref (c);
  if (call->remote_sdp)
    gst_sdp_message_free (call->remote_sdp);
  g_clear_pointer (&call->incoming, wtsp_message_unref);
  g_free (call->call_id);
  g_free (call->caller);
  g_free (call->callee);
  g_free (call);

  if (self->ready && !self->eos)
    post_state (self, GST_WEBRTC_CALL_STATE_REGISTERED, 0, NULL);
}

/* Signaling: on the session thread */

static void
handle_incoming_call (GstWebrtcCall * self, WtspMessage * msg)
{
  gboolean auto_answer;
  Call *call;

  /* One call per bin; another bin of the session may take it, and if none
   * does, the session declines it (shared_after_message) */
  if (self->shared->incoming_taken || self->call || self->eos
      || !claim_line (self, msg->line))
    return;
  self->shared->incoming_taken = TRUE;

  call = call_new (self, msg->line, msg->call_id);
  call->caller = g_strdup (wtsp_message_get_string (msg, "caller"));
  call->callee = g_strdup (wtsp_message_get_string (msg, "callee"));
  call->incoming = wtsp_message_ref (msg);
  post_state (self, GST_WEBRTC_CALL_STATE_INCOMING, 0, NULL);

  GST_OBJECT_LOCK (self);
  auto_answer = self->auto_answer;
  GST_OBJECT_UNLOCK (self);
  if (auto_answer)
    answer_hop (self, NULL);
}

/* updating_call: the far end re-offers. Before our own offer was answered
 * this is an INVITE that came to the gateway without SDP (protocol.md:
 * "accept: ... an offer if the incoming call had none", seen from the
 * calling side): our offer is void, theirs is answered with "accept". */
static void
handle_reoffer (GstWebrtcCall * self, WtspMessage * msg)
{
  Call *call = self->call;
  const gchar *type, *sdp;

  if (!wtsp_message_get_jsep (msg, &type, &sdp)) {
    GST_INFO_OBJECT (self, "far end changed the call (direction %s)",
        GST_STR_NULL (wtsp_message_get_string (msg, "direction")));
    return;
  }
  if (!g_str_equal (type, "offer")) {
    GST_ELEMENT_WARNING (self, STREAM, FAILED,
        ("updating_call on call %s carries an %s, not an offer: ignored",
            call->call_id, type), (NULL));
    return;
  }
  if (call->answered) {
    /* FIXME: renegotiating a running call needs webrtcbin >= 1.24 to be
     * reliable; the call goes on with the media it has */
    GST_ELEMENT_WARNING (self, STREAM, FAILED,
        ("The far end renegotiated call %s: not supported, the call keeps "
            "its current media", call->call_id), (NULL));
    return;
  }

  GST_INFO_OBJECT (self, "call %s: the far end offers instead of answering",
      call->call_id);
  /* Candidates queued so far came with their offer: they stay */
  drop_webrtc (self, call);
  answer_offer (self, sdp);
}

/* All lines were busy: the caller got 486. Reported once per session, by
 * the first bin that sees it, as a call that came and ended at once */
static void
handle_missed_call (GstWebrtcCall * self, WtspMessage * msg)
{
  GstStructure *s;
  const gchar *states[] = { "incoming", "ended" };
  guint i;

  if (self->shared->incoming_taken)
    return;
  self->shared->incoming_taken = TRUE;

  GST_INFO_OBJECT (self, "missed call from %s",
      GST_STR_NULL (wtsp_message_get_string (msg, "caller")));
  for (i = 0; i < G_N_ELEMENTS (states); i++) {
    s = gst_structure_new ("webrtccall-state",
        "state", G_TYPE_STRING, states[i],
        "line", G_TYPE_INT, msg->line,
        "call-id", G_TYPE_STRING, msg->call_id,
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
handle_call_event (GstWebrtcCall * self, WtspMessage * msg)
{
  Call *call = self->call;
  const gchar *e = msg->type;

  if (g_str_equal (e, "calling")) {
    /* posted when we dialled */
  } else if (g_str_equal (e, "ringing") || g_str_equal (e, "proceeding")) {
    if (call->state == GST_WEBRTC_CALL_STATE_CALLING)
      post_state (self, GST_WEBRTC_CALL_STATE_RINGING, 0, NULL);
  } else if (g_str_equal (e, "progress")) {
    apply_answer (self, msg);
    post_state (self, GST_WEBRTC_CALL_STATE_PROGRESS, 0, NULL);
  } else if (g_str_equal (e, "accepted")) {
    apply_answer (self, msg);
    post_state (self, GST_WEBRTC_CALL_STATE_ACCEPTED, 0, NULL);
    if (call->ice_connected && (call->media_flowing || !remote_sends (call)))
      post_connected (self);
  } else if (g_str_equal (e, "updating_call")) {
    handle_reoffer (self, msg);
  } else if (g_str_equal (e, "holding")) {
    post_state (self, GST_WEBRTC_CALL_STATE_HOLDING, 0, NULL);
  } else if (g_str_equal (e, "resuming")) {
    post_state (self, call->media_flowing ? GST_WEBRTC_CALL_STATE_CONNECTED :
        GST_WEBRTC_CALL_STATE_ACCEPTED, 0, NULL);
  } else if (g_str_equal (e, "hangingup")) {
    if (call->state != GST_WEBRTC_CALL_STATE_HANGINGUP)
      post_state (self, GST_WEBRTC_CALL_STATE_HANGINGUP, 0, NULL);
  } else if (g_str_equal (e, "hangup")) {
    call_end (self, msg->code, msg->reason ? msg->reason :
        "the call was hung up");
  } else if (g_str_equal (e, "error")) {
    GST_ELEMENT_WARNING (self, RESOURCE, FAILED,
        ("The server reported an error on call %s: %d %s", call->call_id,
            msg->code, GST_STR_NULL (msg->reason)), (NULL));
  } else {
    GST_DEBUG_OBJECT (self, "call event %s not handled", e);
  }
}

static void
on_session_message (WtspSession * session, WtspMessage * msg,
    GstWebrtcCall * self)
{
  Call *call = self->call;

  if (msg->kind != WTSP_MESSAGE_KIND_EVENT || self->shared == NULL)
    return;

  if (wtsp_message_is_event (msg, "incoming_call")) {
    handle_incoming_call (self, msg);
    return;
  }
  if (wtsp_message_is_event (msg, "missed_call")) {
    handle_missed_call (self, msg);
    return;
  }
  if (call == NULL || msg->line != call->line)
    return;

  if (wtsp_message_is_event (msg, "ice_trickle")) {
    JsonObject *c = wtsp_message_get_object (msg, "candidate");

    if (c == NULL)
      return;
    if (call->remote_set)
      add_candidate (self, c);
    else
      g_queue_push_tail (&call->pending_candidates, json_object_ref (c));
    return;
  }
  if (msg->call_id && g_str_equal (msg->call_id, call->call_id))
    handle_call_event (self, msg);
}

static void
session_ready (GstWebrtcCall * self)
{
  gboolean first = !self->ready;

  self->ready = TRUE;
  if (first && self->call == NULL)
    post_state (self, GST_WEBRTC_CALL_STATE_REGISTERED, 0, NULL);
  if (self->dial_pending && self->call == NULL) {
    gchar *number;

    self->dial_pending = FALSE;
    GST_OBJECT_LOCK (self);
    number = g_strdup (self->number);
    GST_OBJECT_UNLOCK (self);
    dial_hop (self, number);
    g_free (number);
  }
}

static void
on_session_state (WtspSession * session, WtspSessionState old,
    WtspSessionState state, const gchar * why, GstWebrtcCall * self)
{
  if (state == WTSP_SESSION_STATE_READY)
    session_ready (self);
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
  call_end (self, 503, error->message);
}

/* Action signals: any thread, work hops to the session thread */

static void
gst_webrtc_call_dial (GstWebrtcCall * self, const gchar * number)
{
  if (number == NULL || *number == '\0') {
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("dial needs a number"), (NULL));
    return;
  }
  hop (self, 0, dial_hop, g_strdup (number), g_free);
}

static void
gst_webrtc_call_answer (GstWebrtcCall * self)
{
  hop (self, 0, answer_hop, NULL, NULL);
}

static void
gst_webrtc_call_decline (GstWebrtcCall * self, guint code)
{
  hop (self, 0, decline_hop, GUINT_TO_POINTER (code), NULL);
}

static void
gst_webrtc_call_hangup (GstWebrtcCall * self)
{
  hop (self, 0, hangup_hop, NULL, NULL);
}

static void
gst_webrtc_call_hold (GstWebrtcCall * self)
{
  hop (self, 0, hold_hop, GINT_TO_POINTER (1), NULL);
}

static void
gst_webrtc_call_unhold (GstWebrtcCall * self)
{
  hop (self, 0, hold_hop, NULL, NULL);
}

/* Input pads */

static void
input_eos_hop (GstWebrtcCall * self, gpointer data)
{
  /* The pipeline is ending: hang up cleanly; the call's end sends EOS
   * out of our src pads */
  self->eos = TRUE;
  if (self->call) {
    hangup_hop (self, NULL);
  } else if (!self->calls_done) {
    self->calls_done = TRUE;
    post_eos (self);
  }
}

static GstPadProbeReturn
input_event_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstWebrtcCall *self = GST_WEBRTC_CALL (user_data);
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

  if (GST_EVENT_TYPE (event) != GST_EVENT_EOS)
    return GST_PAD_PROBE_OK;

  GST_INFO_OBJECT (self, "EOS on %s: hanging up", GST_PAD_NAME (pad));
  g_mutex_lock (&self->lock);
  {
    GList *l;
    for (l = self->inputs; l; l = l->next)
      if (((Input *) l->data)->valve == GST_PAD_PARENT (pad))
        ((Input *) l->data)->eos = TRUE;
  }
  g_mutex_unlock (&self->lock);
  hop (self, 0, input_eos_hop, NULL, NULL);
  return GST_PAD_PROBE_DROP;
}

static GstPad *
gst_webrtc_call_request_new_pad (GstElement * element, GstPadTemplate * templ,
    const gchar * name, const GstCaps * caps)
{
  GstWebrtcCall *self = GST_WEBRTC_CALL (element);
  const gchar *media;
  Input *in;
  GstPad *valve_sink;
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
  for (l = self->inputs; l; l = l->next) {
    if (g_str_equal (((Input *) l->data)->media, media)) {
      g_mutex_unlock (&self->lock);
      GST_ELEMENT_WARNING (self, CORE, PAD, ("There is already a %s_sink "
              "pad: one %s stream per call", media, media), (NULL));
      return NULL;
    }
  }
  g_mutex_unlock (&self->lock);

  in = g_new0 (Input, 1);
  in->media = media;
  in->valve = gst_element_factory_make ("valve", NULL);
  g_object_set (in->valve, "drop", TRUE, NULL);
  /* re-send caps and segment when a call starts taking the media */
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (in->valve),
          "drop-mode"))
    gst_util_set_object_arg (G_OBJECT (in->valve), "drop-mode",
        "forward-sticky-events");
  /* ours as long as the pad lives: GstBin's dispose removes children
   * before request pads are released */
  gst_bin_add (GST_BIN (self), gst_object_ref (in->valve));
  gst_element_sync_state_with_parent (in->valve);

  valve_sink = gst_element_get_static_pad (in->valve, "sink");
  in->ghost = gst_ghost_pad_new_from_template (templ->name_template,
      valve_sink, templ);
  gst_pad_add_probe (valve_sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      input_event_probe, self, NULL);
  gst_object_unref (valve_sink);

  g_mutex_lock (&self->lock);
  self->inputs = g_list_append (self->inputs, in);
  g_mutex_unlock (&self->lock);

  gst_pad_set_active (in->ghost, TRUE);
  gst_element_add_pad (element, in->ghost);
  return in->ghost;
}

static void
input_free (GstWebrtcCall * self, Input * in)
{
  gst_element_set_state (in->valve, GST_STATE_NULL);
  if (GST_OBJECT_PARENT (in->valve) == GST_OBJECT (self))
    gst_bin_remove (GST_BIN (self), in->valve);
  gst_object_unref (in->valve);
  if (in->sender) {
    gst_element_set_state (in->sender, GST_STATE_NULL);
    if (GST_OBJECT_PARENT (in->sender) == GST_OBJECT (self))
      gst_bin_remove (GST_BIN (self), in->sender);
    gst_object_unref (in->sender);
  }
  gst_clear_object (&in->webrtc_pad);
  gst_clear_object (&in->transceiver);
  g_free (in);
}

static void
gst_webrtc_call_release_pad (GstElement * element, GstPad * pad)
{
  GstWebrtcCall *self = GST_WEBRTC_CALL (element);
  Input *in = NULL;
  GList *l;

  g_mutex_lock (&self->lock);
  for (l = self->inputs; l; l = l->next) {
    if (((Input *) l->data)->ghost == pad) {
      in = l->data;
      self->inputs = g_list_delete_link (self->inputs, l);
      break;
    }
  }
  g_mutex_unlock (&self->lock);
  if (in == NULL)
    return;

  gst_element_remove_pad (element, pad);
  input_free (self, in);
}

/* State changes */

typedef struct
{
  GstWebrtcCall *self;
  GMutex lock;
  GCond cond;
  gboolean done;
} StopBarrier;

static gboolean
stop_hop (gpointer user_data)
{
  StopBarrier *b = user_data;
  GstWebrtcCall *self = b->self;

  if (self->call && !self->call->ending && !self->call->incoming)
    send_request (self, call_request (self->call, "hangup"));
  self->ready = FALSE;          /* no "registered" after this end */
  call_end (self, 200, "the pipeline stopped");

  g_mutex_lock (&b->lock);
  b->done = TRUE;
  g_cond_signal (&b->cond);
  g_mutex_unlock (&b->lock);
  return G_SOURCE_REMOVE;
}

static gboolean
play_hop (gpointer user_data)
{
  GstWebrtcCall *self = user_data;
  gchar *number;

  self->playing = TRUE;
  GST_OBJECT_LOCK (self);
  number = g_strdup (self->number);
  GST_OBJECT_UNLOCK (self);
  if (number && *number && self->call == NULL)
    dial_hop (self, number);
  g_free (number);
  return G_SOURCE_REMOVE;
}

/* The first DTLS certificate of a process takes 100-600 ms to make, and
 * dtlsdec makes it once for everyone when the first one is created: do
 * that now, off the caller's thread, not when the first call is placed */
static gpointer
warm_dtls (gpointer data)
{
  GstElement *dec = gst_element_factory_make ("dtlsdec", NULL);
  gint64 start = GPOINTER_TO_SIZE (data);

  GST_INFO ("DTLS certificate ready after %" G_GINT64_FORMAT " ms",
      (g_get_monotonic_time () - start) / 1000);
  if (dec)
    gst_object_unref (dec);
  return NULL;
}

static void
warm_dtls_once (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    g_thread_unref (g_thread_new ("wtsp-dtls-warmup", warm_dtls,
            GSIZE_TO_POINTER (g_get_monotonic_time ())));
    g_once_init_leave (&done, 1);
  }
}

static GstStateChangeReturn
gst_webrtc_call_change_state (GstElement * element, GstStateChange transition)
{
  GstWebrtcCall *self = GST_WEBRTC_CALL (element);
  GstStateChangeReturn ret;
  GError *error = NULL;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      warm_dtls_once ();
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      self->ready = FALSE;
      self->eos = FALSE;
      self->dial_pending = FALSE;
      if (!shared_acquire (self, &error)) {
        GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", error->message),
            (NULL));
        g_error_free (error);
        shared_release (self);
        return GST_STATE_CHANGE_FAILURE;
      }
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      wtsp_session_invoke (self->active, play_hop, gst_object_ref (self),
          gst_object_unref);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:{
      /* Hang up and tear down on the session thread, then stop it */
      StopBarrier b = { self };

      g_mutex_init (&b.lock);
      g_cond_init (&b.cond);
      if (self->active && wtsp_session_invoke (self->active, stop_hop, &b,
              NULL)) {
        g_mutex_lock (&b.lock);
        while (!b.done)
          g_cond_wait (&b.cond, &b.lock);
        g_mutex_unlock (&b.lock);
      }
      g_mutex_clear (&b.lock);
      g_cond_clear (&b.cond);
      shared_release (self);
      self->call = NULL;
      remove_outputs (self);
      break;
    }
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      self->calls_done = FALSE;
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
    default:
      break;
  }
  return ret;
}

/* Properties */

static GstStructure *
make_stats (GstWebrtcCall * self)
{
  GstStructure *s;

  GST_OBJECT_LOCK (self);
  s = gst_structure_new ("webrtccall-stats",
      "state", G_TYPE_STRING, state_nick (self->state),
      "call-id", G_TYPE_STRING, self->call_id ? self->call_id : "",
      "setup-ms", G_TYPE_DOUBLE, self->setup_us / 1000.0, NULL);
  GST_OBJECT_UNLOCK (self);
  gst_structure_set (s,
      "video-buffers-received", G_TYPE_INT,
      g_atomic_int_get (&self->video_received),
      "audio-buffers-received", G_TYPE_INT,
      g_atomic_int_get (&self->audio_received),
      "video-packets-sent", G_TYPE_INT, g_atomic_int_get (&self->video_sent),
      "audio-packets-sent", G_TYPE_INT, g_atomic_int_get (&self->audio_sent),
      NULL);
  return s;
}

static void
gst_webrtc_call_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstWebrtcCall *self = GST_WEBRTC_CALL (object);

  if (prop_id >= PROP_SESSION_FIRST && prop_id < PROP_SESSION_LAST) {
    g_object_set_property (G_OBJECT (self->session), pspec->name, value);
    return;
  }

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
    case PROP_LATENCY:
      self->latency = g_value_get_uint (value);
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
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_webrtc_call_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstWebrtcCall *self = GST_WEBRTC_CALL (object);

  if (prop_id >= PROP_SESSION_FIRST && prop_id < PROP_SESSION_LAST) {
    g_object_get_property (G_OBJECT (self->session), pspec->name, value);
    return;
  }
  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, make_stats (self));
    return;
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
    case PROP_LATENCY:
      g_value_set_uint (value, self->latency);
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
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_CALL_ID:
      g_value_set_string (value, self->call_id);
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

  shared_release (self);
  gst_clear_object (&self->session);
  G_OBJECT_CLASS (parent_class)->dispose (object);
}

static void
gst_webrtc_call_finalize (GObject * object)
{
  GstWebrtcCall *self = GST_WEBRTC_CALL (object);

  while (self->inputs) {
    input_free (self, self->inputs->data);
    self->inputs = g_list_delete_link (self->inputs, self->inputs);
  }
  g_list_free_full (self->outputs, g_free);
  g_free (self->number);
  g_free (self->stun_server);
  g_free (self->turn_server);
  g_free (self->video_codecs);
  g_free (self->audio_codecs);
  g_free (self->call_id);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_webrtc_call_init (GstWebrtcCall * self)
{
  g_mutex_init (&self->lock);
  self->line = DEFAULT_LINE;
  self->auto_answer = DEFAULT_AUTO_ANSWER;
  self->ice_transport_policy = DEFAULT_ICE_TRANSPORT_POLICY;
  self->latency = DEFAULT_LATENCY;
  self->video_codecs = g_strdup (DEFAULT_VIDEO_CODECS);
  self->audio_codecs = g_strdup (DEFAULT_AUDIO_CODECS);
  self->encoded_output = DEFAULT_ENCODED_OUTPUT;
  self->state = GST_WEBRTC_CALL_STATE_IDLE;

  self->session = wtsp_session_new ();

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
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_uint ("latency", "Latency",
          "Jitterbuffer latency in milliseconds", 0, 10000, DEFAULT_LATENCY,
          rw));
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
  g_object_class_install_property (gobject_class, PROP_STATE,
      g_param_spec_enum ("state", "State", "State of the call",
          GST_TYPE_WEBRTC_CALL_STATE, GST_WEBRTC_CALL_STATE_IDLE, ro));
  g_object_class_install_property (gobject_class, PROP_CALL_ID,
      g_param_spec_string ("call-id", "Call id",
          "Call-ID of the current or last call", NULL, ro));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "webrtccall-stats: state, call-id, setup-ms (start to connected), "
          "video/audio buffers received, packets sent",
          GST_TYPE_STRUCTURE, ro));

  wtsp_session_install_properties (gobject_class, PROP_SESSION_FIRST, FALSE);

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
}
