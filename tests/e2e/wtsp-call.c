/* wtsp-call: one call through a webrtccall pipeline, and what came of it
 *
 *   wtsp-call --server URL (--token T | --token-file F)
 *       (--call NUMBER | --answer) [--video-codecs LIST] [--record FILE]
 *       [--duration S] [--timeout S] [--expect-frames N] [--expect-audio N]
 *       [--no-video] [--no-audio] [--mjpeg]
 *       [--send-dtmf TONES] [--expect-dtmf TONES]
 *
 * The pipeline is what an application with a webcam and a microphone
 * builds:
 *
 *   videotestsrc is-live=true pattern=ball
 *       ! video/x-raw,format=YUY2,width=640,height=480,framerate=30/1
 *       ! call.video_sink         (--mjpeg: ! videoconvert ! jpegenc ! ...)
 *   audiotestsrc is-live=true wave=ticks
 *       ! audio/x-raw,format=S16LE,rate=48000,channels=1 ! call.audio_sink
 *   webrtccall name=call
 *   call.video_src_N ! fakesink          (a probe counts decoded frames)
 *   call.audio_src_N ! fakesink          (and decoded audio buffers)
 *
 * With --record FILE the bin outputs encoded media and the src pads go
 * through a queue each into matroskamux ! filesink; the probes then count
 * encoded frames and audio packets. The bin sends EOS out of its src pads
 * when the call ends, so the file is finalized before this program exits.
 *
 * DTMF: --send-dtmf TONES emits the bin's send-dtmf with TONES (0-9 * #
 * A-D, ',' a 2 s pause) 1 s after the call is connected. Every
 * webrtccall-dtmf message (a key the far end pressed) is printed as it
 * comes (`dtmf 1 duration=100 line=0 call-id=...`); with --expect-dtmf
 * TONES the keys received, in order, must be TONES (pauses left out).
 *
 * stdout: one line per state the bin posts (`state connected line=0
 * call-id=...`) and per key received, `dtmf sent: TONES` when send-dtmf
 * was emitted, `dtmf received: 1 (100 ms) 2 (100 ms) ...` after the call
 * when a key came or one was expected, then one JSON line:
 *
 *   {"result":"ok","role":"caller","setupMs":412,"videoFramesReceived":171,
 *    "audioBuffersReceived":297,"videoPacketsSent":1079,"audioPacketsSent":300,
 *    "hangup":{"code":200,"reason":"Session Terminated"},"file":null,
 *    "dtmfSent":null,"dtmfReceived":[{"tone":"1","duration":100}],
 *    "error":null}
 *
 * Warnings and errors from the bus go to stderr; an error ends the run.
 * Exit status: 0 when the call reached `connected` and every expectation
 * held, 1 otherwise (also when stopping the pipeline takes more than 10 s:
 * the report is then printed anyway), 2 on a usage error. GST_PLUGIN_PATH
 * must lead to the plugin (build/gst); the build's own directory is tried
 * when it does not.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <glib-unix.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_VIDEO_CODECS "VP8,H264"
#define DEFAULT_TIMEOUT 30.0
/* How long an ended call's EOS may take to reach the file */
#define EOS_WAIT_MS 5000
/* --send-dtmf: this long after connected */
#define DTMF_DELAY_MS 1000

/* Bin descriptions: caps at the end of one need an explicit capsfilter */
#define VIDEO_CAPS "capsfilter caps=\"video/x-raw,format=YUY2,width=640," \
  "height=480,framerate=30/1\""
#define AUDIO_CAPS "capsfilter caps=\"audio/x-raw,format=S16LE,rate=48000," \
  "channels=1\""

typedef struct
{
  gchar *server;
  gchar *token;
  gchar *token_file;
  gchar *call;
  gboolean answer;
  gchar *video_codecs;
  gchar *turn_server;
  gchar *stats_file;            /* --stats-file: the call's quality, JSON lines */
  gboolean relay;
  gchar *record;
  gdouble duration;
  gdouble timeout;
  gint expect_frames;
  gint expect_audio;
  gboolean no_video;
  gboolean no_audio;
  gboolean mjpeg;
  gchar *send_dtmf;             /* --send-dtmf: keys to press */
  gchar *expect_dtmf;           /* --expect-dtmf: keys that must come */
} Options;

enum
{
  MEDIA_VIDEO,
  MEDIA_AUDIO,
  N_MEDIA
};

static const gchar *const media_names[N_MEDIA] = { "video", "audio" };

typedef struct
{
  Options opt;
  GMainLoop *loop;
  GstElement *pipeline;
  GstElement *call;
  GList *sink_pads;             /* requested from the bin */

  /* --record: one queue per media in front of the muxer */
  GstElement *record_queue[N_MEDIA];
  gboolean record_linked[N_MEDIA];      /* streaming threads, under lock */
  GMutex lock;

  gint received[N_MEDIA];       /* atomic */

  gboolean connected;
  gboolean ended;
  gboolean recorded;            /* EOS reached the filesink */
  gint hangup_code;
  gchar *hangup_reason;
  gchar *error;
  GstStructure *stats;          /* taken when the call ended */

  /* DTMF */
  gboolean dtmf_sent;           /* send-dtmf emitted and accepted */
  GString *dtmf_tones;          /* the keys received, in order */
  GArray *dtmf_durations;       /* guint ms of each of them */

  guint timeout_id;
  guint duration_id;
  guint eos_wait_id;
  guint dtmf_id;
} App;

static void
fail (App * app, const gchar * error)
{
  if (app->error == NULL)
    app->error = g_strdup (error);
  g_main_loop_quit (app->loop);
}

/* Media out of the bin */

static GstPadProbeReturn
count_buffers (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  gint *counter = user_data;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    g_atomic_int_add (counter,
        gst_buffer_list_length (GST_PAD_PROBE_INFO_BUFFER_LIST (info)));
  else
    g_atomic_int_inc (counter);
  return GST_PAD_PROBE_OK;
}

/* A streaming thread of webrtcbin: link now, or the first buffers hit an
 * unlinked pad */
static void
on_pad_added (GstElement * call, GstPad * pad, App * app)
{
  const gchar *name = GST_PAD_NAME (pad);
  GstElement *sink = NULL;
  GstPad *sinkpad;
  gint m;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  m = g_str_has_prefix (name, "video") ? MEDIA_VIDEO : MEDIA_AUDIO;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, count_buffers, &app->received[m], NULL);

  g_mutex_lock (&app->lock);
  if (app->record_queue[m] && !app->record_linked[m]) {
    app->record_linked[m] = TRUE;
    g_mutex_unlock (&app->lock);
    sinkpad = gst_element_get_static_pad (app->record_queue[m], "sink");
  } else {
    g_mutex_unlock (&app->lock);
    /* a second stream of a kind, or no recording: counted, dropped */
    sink = gst_element_factory_make ("fakesink", NULL);
    g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
    gst_bin_add (GST_BIN (app->pipeline), sink);
    gst_element_sync_state_with_parent (sink);
    sinkpad = gst_element_get_static_pad (sink, "sink");
  }
  if (GST_PAD_LINK_FAILED (gst_pad_link (pad, sinkpad)))
    g_printerr ("wtsp-call: could not link %s\n", name);
  else
    g_printerr ("wtsp-call: receiving %s%s\n", name,
        sink ? "" : " into the recording");
  gst_object_unref (sinkpad);
}

/* A stream the far end never sent still has a muxer pad waiting for
 * data: end it, or the muxer never finishes the file */
static void
end_unused_record_pads (App * app)
{
  gint m;

  for (m = 0; m < N_MEDIA; m++) {
    gboolean linked;

    if (app->record_queue[m] == NULL)
      continue;
    g_mutex_lock (&app->lock);
    linked = app->record_linked[m];
    app->record_linked[m] = TRUE;
    g_mutex_unlock (&app->lock);
    if (!linked) {
      GstPad *pad = gst_element_get_static_pad (app->record_queue[m], "sink");

      g_printerr ("wtsp-call: no %s stream came: not recorded\n",
          media_names[m]);
      gst_pad_send_event (pad, gst_event_new_eos ());
      gst_object_unref (pad);
    }
  }
}

/* Timers */

static gboolean
on_timeout (gpointer user_data)
{
  App *app = user_data;
  gchar *msg = g_strdup_printf ("timeout after %g s%s", app->opt.timeout,
      app->connected ? "" : " without a connected call");

  app->timeout_id = 0;
  fail (app, msg);
  g_free (msg);
  return G_SOURCE_REMOVE;
}

static gboolean
on_duration (gpointer user_data)
{
  App *app = user_data;

  app->duration_id = 0;
  g_signal_emit_by_name (app->call, "hangup");
  return G_SOURCE_REMOVE;
}

static gboolean
on_send_dtmf (gpointer user_data)
{
  App *app = user_data;
  gboolean ok = FALSE;

  app->dtmf_id = 0;
  if (app->ended)
    return G_SOURCE_REMOVE;
  g_signal_emit_by_name (app->call, "send-dtmf", app->opt.send_dtmf, &ok);
  if (ok) {
    app->dtmf_sent = TRUE;
    g_print ("dtmf sent: %s\n", app->opt.send_dtmf);
  } else {
    /* the bin's warning says why */
    gchar *msg = g_strdup_printf ("send-dtmf \"%s\" refused by the bin",
        app->opt.send_dtmf);

    fail (app, msg);
    g_free (msg);
  }
  return G_SOURCE_REMOVE;
}

static gboolean
on_eos_wait (gpointer user_data)
{
  App *app = user_data;

  app->eos_wait_id = 0;
  fail (app, "the recording was not finished: no EOS reached the file "
      "after the call");
  return G_SOURCE_REMOVE;
}

static gboolean
recording_done (gpointer user_data)
{
  App *app = user_data;

  app->recorded = TRUE;
  if (app->ended) {
    g_clear_handle_id (&app->eos_wait_id, g_source_remove);
    g_main_loop_quit (app->loop);
  }
  return G_SOURCE_REMOVE;
}

/* The muxer's streaming thread: it has written the file's index and
 * duration, and filesink closes the file when the pipeline stops */
static GstPadProbeReturn
on_file_eos (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS)
    g_main_context_invoke (NULL, recording_done, user_data);
  return GST_PAD_PROBE_OK;
}

static gboolean
on_signal (gpointer user_data)
{
  fail (user_data, "interrupted");
  return G_SOURCE_CONTINUE;
}

/* The bus */

static void
print_state (const GstStructure * s)
{
  GString *line = g_string_new ("state ");
  static const gchar *const fields[] = { "line", "call-id", "caller",
    "callee", "code", "reason"
  };
  guint i;

  g_string_append (line, gst_structure_get_string (s, "state"));
  for (i = 0; i < G_N_ELEMENTS (fields); i++) {
    const GValue *v = gst_structure_get_value (s, fields[i]);

    if (v == NULL)
      continue;
    if (G_VALUE_HOLDS_INT (v))
      g_string_append_printf (line, " %s=%d", fields[i], g_value_get_int (v));
    else if (G_VALUE_HOLDS_STRING (v) && strchr (g_value_get_string (v), ' '))
      g_string_append_printf (line, " %s=\"%s\"", fields[i],
          g_value_get_string (v));
    else if (G_VALUE_HOLDS_STRING (v))
      g_string_append_printf (line, " %s=%s", fields[i],
          g_value_get_string (v));
  }
  g_print ("%s\n", line->str);
  g_string_free (line, TRUE);
}

static void
on_call_state (App * app, const GstStructure * s)
{
  const gchar *state = gst_structure_get_string (s, "state");

  print_state (s);
  if (g_str_equal (state, "connected")) {
    app->connected = TRUE;
    if (app->opt.duration > 0 && app->duration_id == 0)
      app->duration_id = g_timeout_add (app->opt.duration * 1000,
          on_duration, app);
    if (app->opt.send_dtmf && !app->dtmf_sent && app->dtmf_id == 0)
      app->dtmf_id = g_timeout_add (DTMF_DELAY_MS, on_send_dtmf, app);
  } else if (g_str_equal (state, "ended") && !app->ended) {
    app->ended = TRUE;
    g_clear_handle_id (&app->duration_id, g_source_remove);
    g_clear_handle_id (&app->dtmf_id, g_source_remove);
    gst_structure_get_int (s, "code", &app->hangup_code);
    app->hangup_reason = g_strdup (gst_structure_get_string (s, "reason"));
    g_object_get (app->call, "stats", &app->stats, NULL);
    if (app->opt.record == NULL) {
      g_main_loop_quit (app->loop);
      return;
    }
    /* the bin sends EOS out of its src pads; the file is complete once
     * the muxer passed it on to the filesink */
    end_unused_record_pads (app);
    if (app->recorded)
      g_main_loop_quit (app->loop);
    else
      app->eos_wait_id = g_timeout_add (EOS_WAIT_MS, on_eos_wait, app);
  }
}

/* A key the far end pressed */
static void
on_dtmf (App * app, const GstStructure * s)
{
  const gchar *tone = gst_structure_get_string (s, "tone");
  const gchar *call_id = gst_structure_get_string (s, "call-id");
  guint duration = 0;
  gint line = -1;

  gst_structure_get_uint (s, "duration", &duration);
  gst_structure_get_int (s, "line", &line);
  g_print ("dtmf %s duration=%u line=%d call-id=%s\n", tone ? tone : "?",
      duration, line, call_id ? call_id : "?");
  g_string_append (app->dtmf_tones, tone ? tone : "?");
  g_array_append_val (app->dtmf_durations, duration);
}

static gboolean
on_bus_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  App *app = user_data;
  GError *err = NULL;
  gchar *debug = NULL;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:
      if (GST_MESSAGE_SRC (msg) != GST_OBJECT (app->call))
        break;
      if (gst_message_has_name (msg, "webrtccall-state"))
        on_call_state (app, gst_message_get_structure (msg));
      else if (gst_message_has_name (msg, "webrtccall-dtmf"))
        on_dtmf (app, gst_message_get_structure (msg));
      break;
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (msg, &err, &debug);
      g_printerr ("wtsp-call: error from %s: %s\n%s%s", GST_OBJECT_NAME
          (GST_MESSAGE_SRC (msg)), err->message, debug ? debug : "",
          debug ? "\n" : "");
      fail (app, err->message);
      break;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (msg, &err, &debug);
      g_printerr ("wtsp-call: warning from %s: %s\n%s%s", GST_OBJECT_NAME
          (GST_MESSAGE_SRC (msg)), err->message, debug ? debug : "",
          debug ? "\n" : "");
      /* send-dtmf took the tones, then found it could not send them
       * (telephone-event not negotiated, no audio sender) */
      if (app->opt.send_dtmf && GST_MESSAGE_SRC (msg) == GST_OBJECT (app->call)
          && g_str_has_prefix (err->message, "DTMF")
          && strstr (err->message, "not sent"))
        fail (app, err->message);
      break;
    case GST_MESSAGE_EOS:
      /* every sink had EOS: nothing more to wait for */
      g_printerr ("wtsp-call: end of stream\n");
      break;
    default:
      break;
  }
  g_clear_error (&err);
  g_free (debug);
  return G_SOURCE_CONTINUE;
}

/* The pipeline */

static gboolean
link_source (App * app, const gchar * desc, const gchar * pad_name,
    GError ** error)
{
  GstElement *src = gst_parse_bin_from_description (desc, TRUE, error);
  GstPad *srcpad, *sinkpad;
  gboolean ok;

  if (src == NULL)
    return FALSE;
  gst_bin_add (GST_BIN (app->pipeline), src);
  sinkpad = gst_element_request_pad_simple (app->call, pad_name);
  srcpad = gst_element_get_static_pad (src, "src");
  ok = sinkpad && GST_PAD_LINK_SUCCESSFUL (gst_pad_link (srcpad, sinkpad));
  if (!ok)
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_PAD,
        "could not link %s to webrtccall", desc);
  if (sinkpad)
    app->sink_pads = g_list_prepend (app->sink_pads, sinkpad);
  gst_object_unref (srcpad);
  return ok;
}

static gboolean
make_recorder (App * app, GError ** error)
{
  GstElement *mux = gst_element_factory_make ("matroskamux", NULL);
  GstElement *sink = gst_element_factory_make ("filesink", NULL);
  GstPad *pad;
  gint m;

  if (mux == NULL || sink == NULL) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "matroskamux or filesink is missing");
    gst_clear_object (&mux);
    gst_clear_object (&sink);
    return FALSE;
  }
  /* the call starts at 0 in the file, however late it came; the sink has
   * nothing to preroll before a call */
  g_object_set (mux, "offset-to-zero", TRUE, NULL);
  g_object_set (sink, "location", app->opt.record, "async", FALSE, NULL);
  gst_bin_add_many (GST_BIN (app->pipeline), mux, sink, NULL);
  gst_element_link (mux, sink);
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_file_eos,
      app, NULL);
  gst_object_unref (pad);

  /* Both pads now: a muxer takes no new pad once it has started. Unbounded
   * queues: the muxer holds one stream until the other's first data, and
   * a blocked queue would stall webrtcbin's jitterbuffer and call end. */
  for (m = 0; m < N_MEDIA; m++) {
    GstElement *queue = gst_element_factory_make ("queue", NULL);
    gchar *templ = g_strdup_printf ("%s_%%u", media_names[m]);
    GstPad *muxpad = gst_element_request_pad_simple (mux, templ);
    GstPad *qsrc = gst_element_get_static_pad (queue, "src");

    g_object_set (queue, "max-size-buffers", 0, "max-size-bytes", 0,
        "max-size-time", (guint64) 0, NULL);
    gst_bin_add (GST_BIN (app->pipeline), queue);
    gst_pad_link (qsrc, muxpad);
    app->record_queue[m] = queue;
    gst_object_unref (qsrc);
    gst_object_unref (muxpad);
    g_free (templ);
  }
  return TRUE;
}

static gboolean
make_pipeline (App * app, GError ** error)
{
  Options *o = &app->opt;

  app->pipeline = gst_pipeline_new ("wtsp-call");
  app->call = gst_element_factory_make ("webrtccall", "call");
  if (app->call == NULL) {
    /* not found through GST_PLUGIN_PATH: this build's plugin */
    gst_registry_scan_path (gst_registry_get (), WTSP_BUILD_PLUGIN_DIR);
    app->call = gst_element_factory_make ("webrtccall", "call");
  }
  if (app->call == NULL) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "no webrtccall element: set GST_PLUGIN_PATH to the build's gst/ "
        "directory");
    return FALSE;
  }
  /* the token goes in as a property: launch lines are logged */
  g_object_set (app->call, "location", o->server, "video-codecs",
      o->video_codecs, "encoded-output", o->record != NULL, NULL);
  if (o->turn_server)
    g_object_set (app->call, "turn-server", o->turn_server, NULL);
  if (o->stats_file)
    g_object_set (app->call, "stats-file", o->stats_file, NULL);
  if (o->relay)
    gst_util_set_object_arg (G_OBJECT (app->call), "ice-transport-policy",
        "relay");
  if (o->token)
    g_object_set (app->call, "token", o->token, NULL);
  else
    g_object_set (app->call, "token-file", o->token_file, NULL);
  if (o->call)
    g_object_set (app->call, "number", o->call, NULL);
  else
    g_object_set (app->call, "auto-answer", TRUE, NULL);
  gst_bin_add (GST_BIN (app->pipeline), app->call);
  g_signal_connect (app->call, "pad-added", G_CALLBACK (on_pad_added), app);

  if (!o->no_video && !link_source (app, o->mjpeg ?
          "videotestsrc is-live=true pattern=ball ! " VIDEO_CAPS
          " ! videoconvert ! jpegenc" :
          "videotestsrc is-live=true pattern=ball ! " VIDEO_CAPS,
          "video_sink", error))
    return FALSE;
  if (!o->no_audio && !link_source (app,
          "audiotestsrc is-live=true wave=ticks ! " AUDIO_CAPS, "audio_sink",
          error))
    return FALSE;
  if (o->record && !make_recorder (app, error))
    return FALSE;
  return TRUE;
}

/* Stopping a pipeline must not hang a test run: if it takes longer than
 * this, the report is printed from here and the process exits */
#define STOP_TIMEOUT_S 10

typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean stopped;
  gchar *report;                /* printed if the stop hangs */
} Watchdog;

static gpointer
watchdog_run (gpointer data)
{
  Watchdog *w = data;
  gint64 deadline =
      g_get_monotonic_time () + STOP_TIMEOUT_S * G_TIME_SPAN_SECOND;

  g_mutex_lock (&w->lock);
  while (!w->stopped)
    if (!g_cond_wait_until (&w->cond, &w->lock, deadline))
      break;
  if (!w->stopped) {
    g_printerr ("wtsp-call: the pipeline did not stop within %d s "
        "(a deadlock in teardown?)\n", STOP_TIMEOUT_S);
    g_print ("%s\n", w->report);
    fflush (stdout);
    _exit (1);
  }
  g_mutex_unlock (&w->lock);
  return NULL;
}

/* The report */

static gchar *
check_expectations (App * app)
{
  GString *why = g_string_new (NULL);
  gint video = g_atomic_int_get (&app->received[MEDIA_VIDEO]);
  gint audio = g_atomic_int_get (&app->received[MEDIA_AUDIO]);

  if (app->error)
    g_string_append (why, app->error);
  if (!app->connected)
    g_string_append_printf (why, "%sthe call never reached connected",
        why->len ? "; " : "");
  if (video < app->opt.expect_frames)
    g_string_append_printf (why, "%svideo frames received %d < %d",
        why->len ? "; " : "", video, app->opt.expect_frames);
  if (audio < app->opt.expect_audio)
    g_string_append_printf (why, "%saudio buffers received %d < %d",
        why->len ? "; " : "", audio, app->opt.expect_audio);
  if (app->opt.send_dtmf && !app->dtmf_sent && app->error == NULL)
    g_string_append_printf (why, "%sDTMF \"%s\" never sent (the call was "
        "not connected for %d ms)", why->len ? "; " : "", app->opt.send_dtmf,
        DTMF_DELAY_MS);
  if (app->opt.expect_dtmf
      && !g_str_equal (app->opt.expect_dtmf, app->dtmf_tones->str))
    g_string_append_printf (why, "%sDTMF received \"%s\" (%u keys), "
        "expected \"%s\"", why->len ? "; " : "", app->dtmf_tones->str,
        (guint) app->dtmf_tones->len, app->opt.expect_dtmf);
  return g_string_free (why, why->len == 0);
}

/* `dtmf received: 1 (100 ms) 2 (100 ms)`, or `dtmf received: none` */
static void
print_dtmf_received (App * app)
{
  GString *line = g_string_new ("dtmf received:");
  guint i;

  for (i = 0; i < app->dtmf_tones->len; i++)
    g_string_append_printf (line, " %c (%u ms)", app->dtmf_tones->str[i],
        g_array_index (app->dtmf_durations, guint, i));
  if (app->dtmf_tones->len == 0)
    g_string_append (line, " none");
  if (app->opt.expect_dtmf)
    g_string_append_printf (line, ", expected %s", app->opt.expect_dtmf);
  g_print ("%s\n", line->str);
  g_string_free (line, TRUE);
}

static gchar *
make_report (App * app, const gchar * error)
{
  JsonBuilder *b = json_builder_new ();
  JsonGenerator *gen = json_generator_new ();
  JsonNode *root;
  gdouble setup_ms = 0;
  gint sent[N_MEDIA] = { 0, 0 };
  gchar *text;
  guint i;

  if (app->stats) {
    gst_structure_get_double (app->stats, "setup-ms", &setup_ms);
    gst_structure_get_int (app->stats, "video-packets-sent",
        &sent[MEDIA_VIDEO]);
    gst_structure_get_int (app->stats, "audio-packets-sent",
        &sent[MEDIA_AUDIO]);
  }

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "result");
  json_builder_add_string_value (b, error ? "fail" : "ok");
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, app->opt.call ? "caller" : "callee");
  json_builder_set_member_name (b, "setupMs");
  if (app->connected)
    json_builder_add_int_value (b, (gint64) lround (setup_ms));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "videoFramesReceived");
  json_builder_add_int_value (b, g_atomic_int_get (&app->received[0]));
  json_builder_set_member_name (b, "audioBuffersReceived");
  json_builder_add_int_value (b, g_atomic_int_get (&app->received[1]));
  json_builder_set_member_name (b, "videoPacketsSent");
  json_builder_add_int_value (b, sent[MEDIA_VIDEO]);
  json_builder_set_member_name (b, "audioPacketsSent");
  json_builder_add_int_value (b, sent[MEDIA_AUDIO]);
  json_builder_set_member_name (b, "hangup");
  if (app->ended) {
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "code");
    json_builder_add_int_value (b, app->hangup_code);
    json_builder_set_member_name (b, "reason");
    json_builder_add_string_value (b, app->hangup_reason ?
        app->hangup_reason : "");
    json_builder_end_object (b);
  } else {
    json_builder_add_null_value (b);
  }
  json_builder_set_member_name (b, "file");
  if (app->opt.record)
    json_builder_add_string_value (b, app->opt.record);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "dtmfSent");
  if (app->dtmf_sent)
    json_builder_add_string_value (b, app->opt.send_dtmf);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "dtmfReceived");
  json_builder_begin_array (b);
  for (i = 0; i < app->dtmf_tones->len; i++) {
    gchar tone[2] = { app->dtmf_tones->str[i], 0 };

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "tone");
    json_builder_add_string_value (b, tone);
    json_builder_set_member_name (b, "duration");
    json_builder_add_int_value (b, g_array_index (app->dtmf_durations, guint,
            i));
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "error");
  if (error)
    json_builder_add_string_value (b, error);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  json_node_unref (root);
  g_object_unref (gen);
  g_object_unref (b);
  return text;
}

int
main (int argc, char **argv)
{
  App app = { 0, };
  Options *o = &app.opt;
  GOptionEntry entries[] = {
    {"server", 0, 0, G_OPTION_ARG_STRING, &o->server,
        "Signaling server, ws[s]://HOST:PORT/signaling/v1", "URL"},
    {"token", 0, 0, G_OPTION_ARG_STRING, &o->token,
        "Session token (prefer --token-file)", "T"},
    {"token-file", 0, 0, G_OPTION_ARG_FILENAME, &o->token_file,
        "File holding the session token", "F"},
    {"call", 0, 0, G_OPTION_ARG_STRING, &o->call, "Call NUMBER", "NUMBER"},
    {"answer", 0, 0, G_OPTION_ARG_NONE, &o->answer,
        "Wait for a call and answer it", NULL},
    {"video-codecs", 0, 0, G_OPTION_ARG_STRING, &o->video_codecs,
        "Video codecs in order of preference (default " DEFAULT_VIDEO_CODECS
          ")", "LIST"},
    {"stats-file", 0, 0, G_OPTION_ARG_FILENAME, &o->stats_file,
        "Append the call's webrtccall-stats to FILE, one JSON line each "
        "(for pipelines/call-report.py)", "FILE"},
    {"turn-server", 0, 0, G_OPTION_ARG_STRING, &o->turn_server,
        "TURN server, turn://USER:PASSWORD@HOST:PORT", "URL"},
    {"relay", 0, 0, G_OPTION_ARG_NONE, &o->relay,
        "Use only TURN relay candidates (ice-transport-policy=relay)", NULL},
    {"record", 0, 0, G_OPTION_ARG_FILENAME, &o->record,
        "Record what the far end sends, without transcoding, to a Matroska "
          "FILE", "FILE"},
    {"duration", 0, 0, G_OPTION_ARG_DOUBLE, &o->duration,
        "Hang up S seconds after connected (default: stay until the far end "
          "hangs up)", "S"},
    {"timeout", 0, 0, G_OPTION_ARG_DOUBLE, &o->timeout,
        "Give up after S seconds in all (default 30)", "S"},
    {"expect-frames", 0, 0, G_OPTION_ARG_INT, &o->expect_frames,
        "Video frames that must be received (default 0)", "N"},
    {"expect-audio", 0, 0, G_OPTION_ARG_INT, &o->expect_audio,
        "Audio buffers that must be received (default 0)", "N"},
    {"no-video", 0, 0, G_OPTION_ARG_NONE, &o->no_video,
        "Send no video", NULL},
    {"no-audio", 0, 0, G_OPTION_ARG_NONE, &o->no_audio,
        "Send no audio", NULL},
    {"mjpeg", 0, 0, G_OPTION_ARG_NONE, &o->mjpeg,
        "Send image/jpeg video, as an MJPEG webcam does", NULL},
    {"send-dtmf", 0, 0, G_OPTION_ARG_STRING, &o->send_dtmf,
        "Press these keys (0-9 * # A-D, ',' pauses 2 s) 1 s after connected",
        "TONES"},
    {"expect-dtmf", 0, 0, G_OPTION_ARG_STRING, &o->expect_dtmf,
        "The keys the far end must press, in this order", "TONES"},
    {NULL}
  };
  GOptionContext *ctx;
  GError *error = NULL;
  GstBus *bus;
  Watchdog watchdog = { 0, };
  GThread *watchdog_thread;
  gchar *why, *report;
  guint sigint, sigterm;
  gint status;
  GList *l;

  o->timeout = DEFAULT_TIMEOUT;
  ctx = g_option_context_new ("- one call through a webrtccall pipeline");
  g_option_context_set_summary (ctx, "Places (--call) or answers (--answer) "
      "one call, prints its states, then a JSON report.\nExit status 0 when "
      "the call reached connected and the expectations held.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("wtsp-call: %s\n", error->message);
    g_error_free (error);
    g_option_context_free (ctx);
    return 2;
  }
  g_option_context_free (ctx);
  if (o->server == NULL || (o->token == NULL) == (o->token_file == NULL)
      || (o->call == NULL) == !o->answer || o->timeout <= 0
      || o->duration < 0) {
    g_printerr ("wtsp-call: needs --server, one of --token/--token-file and "
        "one of --call/--answer (--help)\n");
    return 2;
  }
  if (o->expect_dtmf) {
    /* the bin posts upper-case keys; a pause is no key */
    gchar *keys = g_ascii_strup (o->expect_dtmf, -1);
    gchar *k, *t;

    for (k = t = keys; *t; t++)
      if (*t != ',')
        *k++ = *t;
    *k = '\0';
    g_free (o->expect_dtmf);
    o->expect_dtmf = keys;
    if (strspn (keys, "0123456789*#ABCD") != strlen (keys)) {
      g_printerr ("wtsp-call: --expect-dtmf: only 0-9 * # A-D (and ',')\n");
      return 2;
    }
  }
  if (o->video_codecs == NULL)
    o->video_codecs = g_strdup (DEFAULT_VIDEO_CODECS);

  /* the scripts read our lines as they come */
  setvbuf (stdout, NULL, _IOLBF, 0);

  g_mutex_init (&app.lock);
  app.dtmf_tones = g_string_new (NULL);
  app.dtmf_durations = g_array_new (FALSE, FALSE, sizeof (guint));
  app.loop = g_main_loop_new (NULL, FALSE);
  if (!make_pipeline (&app, &error)) {
    fail (&app, error->message);
    g_clear_error (&error);
    goto done;
  }

  bus = gst_element_get_bus (app.pipeline);
  gst_bus_add_watch (bus, on_bus_message, &app);
  gst_object_unref (bus);
  sigint = g_unix_signal_add (SIGINT, on_signal, &app);
  sigterm = g_unix_signal_add (SIGTERM, on_signal, &app);
  app.timeout_id = g_timeout_add (o->timeout * 1000, on_timeout, &app);

  if (gst_element_set_state (app.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    /* the reason is on the bus */
    GstMessage *msg = gst_bus_pop_filtered (GST_ELEMENT_BUS (app.pipeline),
        GST_MESSAGE_ERROR);

    if (msg) {
      on_bus_message (NULL, msg, &app);
      gst_message_unref (msg);
    }
    fail (&app, "the pipeline did not start");
  } else {
    g_main_loop_run (app.loop);
  }

  /* A call still up (timeout, signal, error) is hung up by the bin */
  if (app.stats == NULL)
    g_object_get (app.call, "stats", &app.stats, NULL);
  why = check_expectations (&app);
  g_mutex_init (&watchdog.lock);
  g_cond_init (&watchdog.cond);
  watchdog.report = make_report (&app, why ? why :
      "the pipeline did not stop (teardown hangs)");
  g_free (why);
  watchdog_thread = g_thread_new ("wtsp-call-watchdog", watchdog_run,
      &watchdog);
  gst_element_set_state (app.pipeline, GST_STATE_NULL);
  g_mutex_lock (&watchdog.lock);
  watchdog.stopped = TRUE;
  g_cond_signal (&watchdog.cond);
  g_mutex_unlock (&watchdog.lock);
  g_thread_join (watchdog_thread);
  g_mutex_clear (&watchdog.lock);
  g_cond_clear (&watchdog.cond);
  g_free (watchdog.report);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_clear_handle_id (&app.timeout_id, g_source_remove);
  g_clear_handle_id (&app.duration_id, g_source_remove);
  g_clear_handle_id (&app.eos_wait_id, g_source_remove);
  g_clear_handle_id (&app.dtmf_id, g_source_remove);
  gst_bus_remove_watch (GST_ELEMENT_BUS (app.pipeline));

done:
  if (o->expect_dtmf || app.dtmf_tones->len > 0)
    print_dtmf_received (&app);
  why = check_expectations (&app);
  report = make_report (&app, why);
  g_print ("%s\n", report);
  g_free (report);
  status = why ? 1 : 0;

  g_free (why);
  if (app.stats)
    gst_structure_free (app.stats);
  /* Request pads go back to the element that made them before it goes */
  for (l = app.sink_pads; l; l = l->next) {
    gst_element_release_request_pad (app.call, l->data);
    gst_object_unref (l->data);
  }
  g_list_free (app.sink_pads);
  gst_clear_object (&app.pipeline);
  g_main_loop_unref (app.loop);
  g_mutex_clear (&app.lock);
  g_free (app.hangup_reason);
  g_free (app.error);
  g_free (o->server);
  g_free (o->token);
  g_free (o->token_file);
  g_free (o->call);
  g_free (o->video_codecs);
  g_free (o->turn_server);
  g_free (o->stats_file);
  g_free (o->record);
  g_free (o->send_dtmf);
  g_free (o->expect_dtmf);
  g_string_free (app.dtmf_tones, TRUE);
  g_array_free (app.dtmf_durations, TRUE);
  return status;
}
