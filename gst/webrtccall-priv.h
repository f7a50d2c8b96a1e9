/* webrtccall: what the files of the call bin share
 *
 * The bin (gstwebrtccall.c) holds the settings, the pads, the session and
 * one task queue; each call is a WebrtcCallCall (webrtccall-call.c) that
 * owns its webrtcbin, its media branches and its state. See docs/design.md
 * for the threads and who may call whom.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __WEBRTCCALL_PRIV_H__
#define __WEBRTCCALL_PRIV_H__

#include "gstwebrtccall.h"
#include "webrtccall-codecs.h"
#include "wtspsession.h"

#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (gst_webrtc_call_debug);

typedef struct _WebrtcCallCall WebrtcCallCall;

typedef struct _WebrtcCallWatchdog WebrtcCallWatchdog;

/* A request sink pad, for the bin's whole life: between calls its media
 * is dropped by the valve; during a call the valve feeds a sender.
 * Fields under the bin's lock. */
typedef struct
{
  const gchar *media;           /* "video" or "audio" */
  GstPad *ghost;
  GstElement *valve;
  gboolean eos;
  gboolean connecting;          /* the task thread builds its sender now */
  gboolean released;            /* its pad went meanwhile: the task thread
                                 * frees it when done */

  /* Bound to the current call */
  WebrtcCallCall *call;         /* no ref: the call unbinds before it goes */
  GstElement *sender;           /* encoder + payloader */
  GstPad *webrtc_pad;           /* webrtcbin sink pad */
  GstWebRTCRTPTransceiver *transceiver;
  guint32 ssrc;                 /* announced in our SDP, used by the sender */
  gint pt;
  const WebrtcCallCodec *codec;
} WebrtcCallInput;

/* A remote stream: depayloader (+ decoder) to a video_src_%u/audio_src_%u.
 * A call's outputs keep their pads (after EOS) until the next call. */
typedef struct
{
  WebrtcCallCall *call;         /* no ref: the call owns its outputs */
  const gchar *media;
  GstElement *bin;              /* NULL for a pad that never got media */
  GstPad *ghost;                /* the bin's src pad, a ref */
  gint closed;                  /* atomic: the call ended, drop data */
  gint *packets;                /* the call's RTP counter of this kind */
  gint warned;                  /* atomic: "nobody linked" said once */
} WebrtcCallOutput;

typedef void (*WebrtcCallTaskFunc) (GstWebrtcCall * self,
    WebrtcCallCall * call, gpointer data);

struct _GstWebrtcCall
{
  GstBin parent;

  WtspSession *settings;        /* the session properties are kept here */
  WtspSession *session;         /* the running one (maybe shared) */
  GstElement *eos_sink;         /* a sink of ours: EOS when a call ends */

  /* GST_OBJECT_LOCK: properties */
  gchar *number;
  gint line;
  gboolean auto_answer;
  gchar *stun_server;
  gchar *turn_server;
  GstWebRTCICETransportPolicy ice_transport_policy;
  gboolean ice_tcp;             /* TCP host candidates */
  guint latency;
  guint media_timeout;          /* ms, 0 = never; GST_OBJECT_LOCK */
  gchar *video_codecs;
  gchar *audio_codecs;
  gboolean encoded_output;
  guint dtmf_duration;          /* ms */
  guint dtmf_gap;               /* ms */
  GstWebrtcCallHoldDirection hold_direction;
  gboolean video_muted;         /* black instead of the camera */
  gboolean audio_muted;         /* silence instead of the microphone */
  gboolean accept_transfers;
  guint claim_timeout;          /* ms an unclaimed call waits for a bin */
  gchar *take_call;             /* the waiting call this bin takes */
  guint stats_interval;         /* ms, 0 = no webrtccall-stats messages */
  gchar *stats_file;
  gboolean stats_file_warned;   /* task thread */
  GstWebrtcCallState state;

  /* The task queue: all call work runs on this thread, in order */
  GThread *task_thread;
  GMainContext *task_context;
  GMainLoop *task_loop;

  /* self->lock: what the session thread, streaming threads and the
   * application's thread also read */
  GMutex lock;
  GCond cond;
  WebrtcCallCall *call;         /* the current call, a ref */
  GList *ended;                 /* WebrtcCallCall, newest first: ended
                                 * calls whose pads are still ours */
  GList *inputs;                /* WebrtcCallInput */
  GList *deferred;              /* WebrtcCallCall: teardowns to finish */
  guint video_pads;             /* names given so far */
  guint audio_pads;
  GList *deferred_tasks;        /* tasks held back by a state change */
  gboolean changing;            /* the application changes our state */
  GThread *changer;             /* the thread that does */
  gboolean shutdown;            /* PAUSED->READY: no more work */
  guint surgeons;               /* threads changing our children now */
  guint teardowns;              /* webrtcbins going to NULL off-thread */
  gboolean playing;
  gboolean eos;                 /* our inputs ended: no more calls */
  gboolean take_pending;        /* take-call names a call not looked for
                                 * yet: the bin takes no other meanwhile */

  /* Task thread only */
  gboolean handshaken;          /* had a state handshake */
  gboolean ready;               /* and the server is registered (SIP) */
  gboolean dial_pending;
  gboolean take_tried;          /* take-call was looked for */
  gboolean calls_done;          /* EOS posted for the last call */
  GList *orphans;               /* webrtccall-recovery.c: hangups to
                                 * send again after the next handshake */
};

/* gstwebrtccall.c: the task queue and the rule for changing children */
void webrtc_call_enqueue (GstWebrtcCall * self, WebrtcCallCall * call,
    WebrtcCallTaskFunc func, gpointer data, GDestroyNotify notify);
void webrtc_call_enqueue_surgery (GstWebrtcCall * self, WebrtcCallCall * call,
    WebrtcCallTaskFunc func, gpointer data, GDestroyNotify notify);
void webrtc_call_enqueue_later (GstWebrtcCall * self, WebrtcCallCall * call,
    guint delay_ms, WebrtcCallTaskFunc func, gpointer data,
    GDestroyNotify notify);
void webrtc_call_inputs_ended (GstWebrtcCall * self);
gboolean webrtc_call_begin_surgery (GstWebrtcCall * self, gboolean streaming);
void webrtc_call_end_surgery (GstWebrtcCall * self);
void webrtc_call_defer_teardown (GstWebrtcCall * self, WebrtcCallCall * call);
void webrtc_call_post_eos (GstWebrtcCall * self);
void webrtc_call_post_registered (GstWebrtcCall * self);
gboolean webrtc_call_is_stopping (GstWebrtcCall * self);
gboolean webrtc_call_session_ready (GstWebrtcCall * self);
void webrtc_call_send_request (GstWebrtcCall * self, WebrtcCallCall * call,
    JsonObject * request);
gchar *webrtc_call_dup_codecs (GstWebrtcCall * self, const gchar * media);
void webrtc_call_dial_transfer (GstWebrtcCall * self, const gchar * number,
    const gchar * refer_id);

/* webrtccall-call.c: the call object and its state machine */
struct _WebrtcCallCall
{
  GstObject parent;

  GstWebrtcCall *bin;           /* no ref: the bin outlives its calls */
  gint line;
  gchar *call_id;
  gboolean outgoing;
  gchar *caller;
  gchar *callee;
  WtspMessage *incoming;        /* the incoming_call, until answered */
  gint64 started;               /* monotonic */

  /* Task thread only */
  GstElement *webrtc;
  GstSDPMessage *remote_sdp;
  gboolean remote_set;
  gboolean answered;            /* the far end's answer, or our accept */
  GQueue pending_candidates;    /* JsonObject, until remote_set */
  GList *promises;              /* given to webrtcbin, not replied yet */
  gboolean ice_connected;
  gboolean media_flowing;
  gboolean hangup_sent;
  gboolean placed;              /* outgoing_call or accept sent */
  gboolean known;               /* the server told us about it */
  GList *senders;               /* GstElement, taken from inputs at the end */
  GString *dtmf_pending;        /* send-dtmf tones not played yet */
  gboolean dtmf_playing;
  guint dtmf_bursts;            /* tones that went idle: a stop's check */
  guint dtmf_idle_tries;
  gboolean on_hold;             /* we hold the call: from holding to resuming */
  GHashTable *samples;          /* webrtccall-stats.c: bytes at the last
                                 * sample, for bitrates */
  gboolean stats_pending;       /* a get-stats not replied yet */
  gchar *refer_id;              /* placed to carry out that transfer */
  gchar *transfer_to;           /* ended to be transferred there */
  gchar *transfer_refer_id;
  gboolean reoffering;          /* our update offer awaits its answer */
  gboolean reoffer_again;       /* an input came meanwhile */
  guint reoffer_tries;          /* waits for a stable negotiation */

  /* GST_OBJECT_LOCK */
  GstWebrtcCallState state;
  gboolean ending;              /* ended: callbacks and tasks bail out */
  gint64 setup_us;
  GList *outputs;               /* WebrtcCallOutput */
  GList *removed_outputs;       /* their pads are gone; freed with us */
  guint expected_video;         /* remote streams negotiated */
  guint expected_audio;
  guint added_outputs;          /* pads whose pad-added has returned */
  gboolean no_more_pads;

  WebrtcCallWatchdog *watchdog; /* GST_OBJECT_LOCK */
  GstStructure *quality;        /* GST_OBJECT_LOCK: the last get-stats,
                                 * summed up (webrtccall-stats.c) */

  /* atomic */
  gint video_rtp;               /* RTP packets out of webrtcbin */
  gint audio_rtp;
  gint video_received;
  gint audio_received;
  gint video_sent;
  gint audio_sent;
};

#define WEBRTC_TYPE_CALL_CALL (webrtc_call_call_get_type ())
G_DECLARE_FINAL_TYPE (WebrtcCallCall, webrtc_call_call, WEBRTC, CALL_CALL,
    GstObject);

const gchar *webrtc_call_state_nick (GstWebrtcCallState state);
WebrtcCallCall *webrtc_call_call_new (GstWebrtcCall * bin, gint line,
    const gchar * call_id);
gboolean webrtc_call_call_is_ending (WebrtcCallCall * call);
GstWebrtcCallState webrtc_call_call_get_state (WebrtcCallCall * call);
void webrtc_call_call_post_state (WebrtcCallCall * call,
    GstWebrtcCallState state, gint code, const gchar * reason);
void webrtc_call_call_end (WebrtcCallCall * call, gint code,
    const gchar * reason);
void webrtc_call_call_finish_teardown (WebrtcCallCall * call);
void webrtc_call_call_dial (WebrtcCallCall * call);
void webrtc_call_call_answer (WebrtcCallCall * call);
void webrtc_call_call_decline (WebrtcCallCall * call, guint code);
void webrtc_call_call_hangup (WebrtcCallCall * call);
void webrtc_call_call_give_up (WebrtcCallCall * call, gint code,
    const gchar * reason);
void webrtc_call_call_hold (WebrtcCallCall * call, gboolean hold);
void webrtc_call_call_transfer (WebrtcCallCall * call, const gchar * number,
    const gchar * replace_call_id);
void webrtc_call_call_handle_event (WebrtcCallCall * call, WtspMessage * msg);
void webrtc_call_call_request_failed (WebrtcCallCall * call,
    const GstStructure * reply);
void webrtc_call_call_media_arrived (WebrtcCallCall * call);
void webrtc_call_call_connection_state (WebrtcCallCall * call,
    GstWebRTCPeerConnectionState state);
JsonObject *webrtc_call_call_request (WebrtcCallCall * call,
    const gchar * type);

/* webrtccall-negotiation.c: webrtcbin, offers, answers, candidates */
void webrtc_call_negotiation_offer (WebrtcCallCall * call);
void webrtc_call_negotiation_answer (WebrtcCallCall * call,
    const gchar * sdp_text);
void webrtc_call_negotiation_apply_answer (WebrtcCallCall * call,
    WtspMessage * msg);
void webrtc_call_negotiation_reoffer (WebrtcCallCall * call,
    WtspMessage * msg);
void webrtc_call_negotiation_add_inputs (WebrtcCallCall * call);
void webrtc_call_negotiation_apply_update (WebrtcCallCall * call,
    WtspMessage * msg);
void webrtc_call_negotiation_remote_candidate (WebrtcCallCall * call,
    JsonObject * candidate);
gboolean webrtc_call_negotiation_remote_sends (WebrtcCallCall * call);
const gchar *webrtc_call_negotiation_check_offer (WtspMessage * incoming);
GstElement *webrtc_call_negotiation_take_webrtc (WebrtcCallCall * call);

/* webrtccall-media.c: input and output branches */
WebrtcCallInput *webrtc_call_media_input_new (GstWebrtcCall * self,
    GstPadTemplate * templ, const gchar * media);
void webrtc_call_media_input_free (GstWebrtcCall * self,
    WebrtcCallInput * in);
WebrtcCallInput *webrtc_call_media_bind_input (WebrtcCallCall * call,
    const gchar * media, GstCaps * caps, gint mline);
void webrtc_call_media_connect_senders (WebrtcCallCall * call,
    GstSDPMessage * sdp);
void webrtc_call_media_unbind_inputs (WebrtcCallCall * call);
void webrtc_call_media_stop_sender (GstElement * sender);
void webrtc_call_media_update_sending (WebrtcCallCall * call);
gboolean webrtc_call_media_is_muted (GstWebrtcCall * self,
    const gchar * media);
void webrtc_call_media_set_muted (GstWebrtcCall * self, const gchar * media,
    gboolean muted);
void webrtc_call_media_set_expected (WebrtcCallCall * call,
    GstSDPMessage * local, GstSDPMessage * remote);
void webrtc_call_media_pad_added (WebrtcCallCall * call, GstPad * pad);
void webrtc_call_media_end_outputs (WebrtcCallCall * call, gboolean stopping);
void webrtc_call_media_flush_outputs (WebrtcCallCall * call, gboolean start);
void webrtc_call_media_remove_outputs (WebrtcCallCall * call);

/* webrtccall-watchdog.c: the far end's media */

/* A kind of media that stops this long posts receiving=false */
#define WATCHDOG_SILENT_MS 2000
/* "ended" codes: no media for media-timeout (SIP 408 Request Timeout); the
 * peer connection failed (503 Service Unavailable) */
#define WEBRTC_CALL_CODE_MEDIA_TIMEOUT 408
#define WEBRTC_CALL_CODE_MEDIA_FAILED 503

void webrtc_call_watchdog_start (WebrtcCallCall * call);
void webrtc_call_watchdog_stop (WebrtcCallCall * call);

/* webrtccall-recovery.c: reconnects and outages */

/* "ended" code of a call the server's new state no longer lists after a
 * reconnect (SIP's 481 Call/Transaction Does Not Exist) */
#define WEBRTC_CALL_CODE_UNKNOWN_AFTER_RECONNECT 481

void webrtc_call_recovery_reconcile (GstWebrtcCall * self,
    WebrtcCallCall * call, WtspMessage * state);
void webrtc_call_recovery_add_orphan (GstWebrtcCall * self, gint line,
    const gchar * call_id);
void webrtc_call_recovery_clear (GstWebrtcCall * self);

/* webrtccall-dtmf.c: RFC 4733 telephone-events */
gchar *webrtc_call_dtmf_check (const gchar * tones);
void webrtc_call_dtmf_send (WebrtcCallCall * call, const gchar * tones);
void webrtc_call_dtmf_release (GstElement * sender);
gboolean webrtc_call_dtmf_take_pad (WebrtcCallCall * call, GstPad * pad,
    const GstCaps * caps);

/* webrtccall-stats.c: call quality from webrtcbin's get-stats */
GstStructure *webrtc_call_stats_new (GstWebrtcCall * self);
void webrtc_call_stats_start (WebrtcCallCall * call);

G_END_DECLS

#endif /* __WEBRTCCALL_PRIV_H__ */
