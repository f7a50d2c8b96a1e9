/* webrtccall end to end: pipelines call each other through the reference
 * server, with real ICE, DTLS and media
 *
 * Runs inside tests/e2e/netns.sh: libnice gathers no candidates on lo, so
 * the server listens on n0 (10.99.0.1) and every call's media crosses the
 * veth pair n0/n1 of a network namespace of the test's own.
 *
 * With WTSP_TEST_SIGNALING_ONLY=1 the same binary runs only the cases
 * that need no ICE and no media (declined, busy, unknown number, missed
 * calls, failed connections), against a server on 127.0.0.1, outside any
 * namespace and without root: meson's "webrtccall-signaling" test.
 * WTSP_TEST_ROUNDS=N sets the rounds of every race case (default 10 or
 * 12). See docs/testing.md.
 *
 * Each side is a pipeline a user would write: test sources in a webcam's
 * and a microphone's caps into the request pads, the src pads linked to a
 * fakesink from "pad-added". The test follows what a user sees: the
 * `webrtccall-state` bus messages, the caps and buffers on the src pads,
 * EOS, the `stats` property.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <openssl/crypto.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "wtsp-test-server.h"

/* Where the server listens: n0 in tests/e2e/netns.sh, or loopback for
 * the signaling-only cases */
#define NETNS_HOST "10.99.0.1"
#define LOOPBACK_HOST "127.0.0.1"
static const gchar *host = NETNS_HOST;
static gboolean signaling_only;

/* Bounds of each wait. Setup measures a few hundred ms here; the bounds
 * only keep a broken call from hanging the suite. WTSP_TEST_SLOWDOWN=N
 * multiplies them, for runs under valgrind (scripts/valgrind.sh). */
static guint slowdown = 1;
#define SIGNAL_MS (5000 * slowdown)     /* a signaling step: registered... */
#define CONNECT_MS (10000 * slowdown)   /* dial to connected */
#define MEDIA_MS (5000 * slowdown)      /* connected to enough decoded media */
#define STATE_MS (10000 * slowdown)     /* a pipeline's state change */

/* One second of media each way (30 fps video, 20 ms Opus frames) */
#define MIN_VIDEO 30
#define MIN_AUDIO 50

/* 320x240: media checks are about media flowing, and a smaller picture
 * keeps the VP8 encoders of four parties in time on a loaded 2-core CI
 * machine (at 640x480 they fell to ~5 fps there) */
#define VIDEO_IN "videotestsrc name=vsrc is-live=true pattern=ball ! " \
  "video/x-raw,format=YUY2,width=320,height=240,framerate=30/1"
#define AUDIO_IN "audiotestsrc name=asrc is-live=true wave=sine ! " \
  "audio/x-raw,format=S16LE,rate=48000,channels=1"

/* Inputs that never produce: a far end that sends no media although it
 * negotiated to (a camera and a mic that give nothing) */
#define SILENT_VIDEO_IN "appsrc name=vsrc is-live=true format=time " \
  "caps=video/x-raw,format=YUY2,width=320,height=240,framerate=30/1"
#define SILENT_AUDIO_IN "appsrc name=asrc is-live=true format=time " \
  "caps=audio/x-raw,format=S16LE,rate=48000,channels=1,layout=interleaved"

/* The outputs a gst-launch-1.0 line links by name (delayed links): queue
 * ! fakesink chains in the pipeline before any call, see PARTY_NAMED_LINKS */
#define NAMED_OUTPUTS \
  "queue name=video_src_0-queue ! fakesink sync=false async=false " \
  "queue name=audio_src_0-queue ! fakesink sync=false async=false"

typedef enum
{
  PARTY_DEFAULT = 0,
  PARTY_SILENT_INPUTS = 1 << 0, /* SILENT_*_IN instead of test sources */
  PARTY_NO_LINKS = 1 << 1,      /* src pads are watched, never linked */
  PARTY_NAMED_LINKS = 1 << 2,   /* video_src_0 / audio_src_0 linked to the
                                 * NAMED_OUTPUTS, other src pads left alone */
  PARTY_AUDIO_ONLY = 1 << 3,    /* no video_sink: no camera */
} PartyFlags;

typedef struct _Party Party;

/* A src pad of the call bin, and what came out of it */
typedef struct
{
  Party *party;
  GstPad *pad;
  gchar *name;
  gboolean video;
  GstCaps *caps;                /* the first caps */
  gint buffers;                 /* atomic */
  gint64 first_buffer_us;       /* monotonic, 0 = none yet */
  gboolean eos;
} Output;

/* One side: a pipeline with a webrtccall. Bus messages are taken by a
 * sync handler, so several parties can be followed without losing any. */
struct _Party
{
  const gchar *name;
  PartyFlags flags;
  GstElement *pipeline;
  GstElement *call;
  GstBus *bus;

  GMutex lock;
  GCond cond;
  guint seq;                    /* messages recorded so far: their order */
  GPtrArray *states;            /* GstStructure: every webrtccall-state, with
                                 * "test-us" (monotonic time of posting) and
                                 * "test-seq" (order among the messages) */
  guint next_state;             /* states before it were waited for */
  GPtrArray *elements;          /* GstStructure: the other element
                                 * messages of the call bin, the same way */
  GPtrArray *outputs;           /* Output: every src pad ever added */
  GPtrArray *warnings;          /* text */
  GPtrArray *errors;            /* text */
  gboolean eos;                 /* EOS message from the pipeline */
  guint eos_seq;                /* the first one's place in the order */
};

/* Per test, for the timing line */
static gint64 test_start_us;
static gchar *test_name;

/* See exit_at_once() */
static pid_t main_pid;
static gboolean test_passed;

/* Bus */

static gchar *
message_text (GstMessage * msg)
{
  gchar *text = wtsp_test_message_text (msg);
  gchar *full = g_strdup_printf ("%s: %s", GST_MESSAGE_SRC_NAME (msg), text);

  g_free (text);
  return full;
}

static GstBusSyncReply
on_bus_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Party *p = user_data;
  const GstStructure *s;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:
      s = gst_message_get_structure (msg);
      if (s && (g_str_has_prefix (gst_structure_get_name (s), "webrtccall-")
              || gst_structure_has_name (s, "wtsp-connection"))) {
        GstStructure *copy = gst_structure_copy (s);
        gboolean state = gst_structure_has_name (s, "webrtccall-state");

        g_mutex_lock (&p->lock);
        gst_structure_set (copy, "test-us", G_TYPE_INT64,
            g_get_monotonic_time (), "test-seq", G_TYPE_UINT, ++p->seq,
            "test-src", G_TYPE_STRING, GST_MESSAGE_SRC_NAME (msg), NULL);
        GST_INFO ("%s: %" GST_PTR_FORMAT, p->name, copy);
        g_ptr_array_add (state ? p->states : p->elements, copy);
        g_cond_broadcast (&p->cond);
        g_mutex_unlock (&p->lock);
      }
      break;
    case GST_MESSAGE_WARNING:
    case GST_MESSAGE_ERROR:{
      gchar *text = message_text (msg);
      gboolean error = GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR;

      GST_WARNING ("%s: %s: %s", p->name, error ? "ERROR" : "WARNING", text);
      g_mutex_lock (&p->lock);
      g_ptr_array_add (error ? p->errors : p->warnings, text);
      g_cond_broadcast (&p->cond);
      g_mutex_unlock (&p->lock);
      break;
    }
    case GST_MESSAGE_EOS:
      if (GST_MESSAGE_SRC (msg) == GST_OBJECT (p->pipeline)) {
        g_mutex_lock (&p->lock);
        if (!p->eos)
          p->eos_seq = ++p->seq;
        p->eos = TRUE;
        g_cond_broadcast (&p->cond);
        g_mutex_unlock (&p->lock);
      }
      break;
    default:
      break;
  }
  /* A sync handler that drops a message owns it (GstBusSyncHandler):
   * without this unref every message, and through them the pipelines
   * and their webrtcbins, outlived the test, whose process then exited
   * with webrtcbin threads still running (a crash in 1 of 100) */
  gst_message_unref (msg);
  return GST_BUS_DROP;
}

/* Src pads */

static GstPadProbeReturn
output_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Output *o = user_data;
  Party *p = o->party;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    if (g_atomic_int_add (&o->buffers, 1) == 0) {
      g_mutex_lock (&p->lock);
      o->first_buffer_us = g_get_monotonic_time ();
      g_mutex_unlock (&p->lock);
    }
    return GST_PAD_PROBE_OK;
  }

  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
    GstCaps *caps;

    g_mutex_lock (&p->lock);
    switch (GST_EVENT_TYPE (event)) {
      case GST_EVENT_CAPS:
        gst_event_parse_caps (event, &caps);
        if (o->caps == NULL)
          o->caps = gst_caps_ref (caps);
        break;
      case GST_EVENT_EOS:
        o->eos = TRUE;
        break;
      default:
        break;
    }
    g_cond_broadcast (&p->cond);
    g_mutex_unlock (&p->lock);
  }
  return GST_PAD_PROBE_OK;
}

/* webrtcbin's streaming thread: link before returning, data follows */
static void
on_pad_added (GstElement * call, GstPad * pad, Party * p)
{
  GstElement *sink = NULL;
  GstPad *sinkpad;
  Output *o;
  GstPadLinkReturn ret = GST_PAD_LINK_OK;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;

  o = g_new0 (Output, 1);
  o->party = p;
  o->pad = gst_object_ref (pad);
  o->name = gst_pad_get_name (pad);
  o->video = g_str_has_prefix (o->name, "video_src_");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, output_probe, o, NULL);

  if (p->flags & PARTY_NAMED_LINKS) {
    /* as gst-launch-1.0 does for "call.video_src_0 ! queue ! ...": the
     * pad of that name, linked to what was there from the start */
    gchar *queue = g_strdup_printf ("%s-queue", o->name);

    sink = gst_bin_get_by_name (GST_BIN (p->pipeline), queue);
    g_free (queue);
  } else if (!(p->flags & PARTY_NO_LINKS)) {
    sink = gst_element_factory_make ("fakesink", NULL);
    g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
    gst_bin_add (GST_BIN (p->pipeline), sink);
    gst_element_sync_state_with_parent (sink);
    gst_object_ref (sink);
  }
  if (sink) {
    sinkpad = gst_element_get_static_pad (sink, "sink");
    ret = gst_pad_link (pad, sinkpad);
    gst_object_unref (sinkpad);
    gst_object_unref (sink);
  }
  GST_INFO ("%s: new pad %s, linked: %s", p->name, o->name,
      sink ? gst_pad_link_get_name (ret) : "no");

  g_mutex_lock (&p->lock);
  if (ret != GST_PAD_LINK_OK)
    g_ptr_array_add (p->errors, g_strdup_printf ("cannot link %s: %s",
            o->name, gst_pad_link_get_name (ret)));
  g_ptr_array_add (p->outputs, o);
  g_cond_broadcast (&p->cond);
  g_mutex_unlock (&p->lock);
}

static void
output_free (Output * o)
{
  gst_object_unref (o->pad);
  gst_clear_caps (&o->caps);
  g_free (o->name);
  g_free (o);
}

/* Parties */

/* @props: more webrtccall properties, in gst-launch syntax. @token is
 * the number too (the reference server makes it so); several parties
 * with one token are bins on the same account. */
static Party *
party_new_full (WtspTestServer * server, const gchar * name,
    const gchar * token, PartyFlags flags, const gchar * props)
{
  Party *p = g_new0 (Party, 1);
  GError *error = NULL;
  gboolean silent = flags & PARTY_SILENT_INPUTS;
  gchar *desc;

  p->name = name;
  p->flags = flags;
  g_mutex_init (&p->lock);
  g_cond_init (&p->cond);
  p->states = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  p->elements = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  p->outputs = g_ptr_array_new_with_free_func ((GDestroyNotify) output_free);
  p->warnings = g_ptr_array_new_with_free_func (g_free);
  p->errors = g_ptr_array_new_with_free_func (g_free);

  desc = g_strdup_printf ("webrtccall name=call location=%s %s "
      "%s%s %s ! call.audio_sink %s", server->url,
      props ? props : "", (flags & PARTY_AUDIO_ONLY) ? "" :
      silent ? SILENT_VIDEO_IN : VIDEO_IN,
      (flags & PARTY_AUDIO_ONLY) ? "" : " ! call.video_sink",
      silent ? SILENT_AUDIO_IN : AUDIO_IN,
      (flags & PARTY_NAMED_LINKS) ? NAMED_OUTPUTS : "");
  p->pipeline = gst_parse_launch (desc, &error);
  fail_unless (p->pipeline != NULL, "%s: %s", desc,
      error ? error->message : "?");
  g_clear_error (&error);
  g_free (desc);
  gst_object_set_name (GST_OBJECT (p->pipeline), name);

  p->call = gst_bin_get_by_name (GST_BIN (p->pipeline), "call");
  g_object_set (p->call, "token", token, NULL);
  if (slowdown > 1)
    /* the session's own bounds too (over what @props set) */
    g_object_set (p->call, "handshake-timeout", 10000 * slowdown,
        "transaction-timeout", 10000 * slowdown, NULL);
  g_signal_connect (p->call, "pad-added", G_CALLBACK (on_pad_added), p);
  p->bus = gst_element_get_bus (p->pipeline);
  gst_bus_set_sync_handler (p->bus, on_bus_message, p, NULL);
  return p;
}

static Party *
party_new (WtspTestServer * server, const gchar * name, const gchar * props)
{
  return party_new_full (server, name, name, PARTY_DEFAULT, props);
}

static void fail_with_states (Party * p, const gchar * what);

/* gst_element_set_state() on a thread of its own, so that a state change
 * that never returns (a deadlock) fails the test with a message instead
 * of running into the test timeout */
typedef struct
{
  GstElement *element;
  GstState state;
  GstStateChangeReturn ret;
  gboolean done;
  GMutex lock;
  GCond cond;
} StateJob;

static gpointer
state_job_run (gpointer data)
{
  StateJob *job = data;
  GstStateChangeReturn ret = gst_element_set_state (job->element, job->state);

  g_mutex_lock (&job->lock);
  job->ret = ret;
  job->done = TRUE;
  g_cond_signal (&job->cond);
  g_mutex_unlock (&job->lock);
  return NULL;
}

static GstStateChangeReturn
set_state_bounded (Party * p, GstState state)
{
  /* Leaked if the state change never returns: its thread still uses it */
  StateJob *job = g_new0 (StateJob, 1);
  gint64 deadline =
      g_get_monotonic_time () + STATE_MS * G_TIME_SPAN_MILLISECOND;
  GstStateChangeReturn ret;
  gboolean done;

  job->element = p->pipeline;
  job->state = state;
  g_mutex_init (&job->lock);
  g_cond_init (&job->cond);
  g_thread_unref (g_thread_new ("set-state", state_job_run, job));

  g_mutex_lock (&job->lock);
  while (!job->done && g_cond_wait_until (&job->cond, &job->lock, deadline));
  done = job->done;
  ret = job->ret;
  g_mutex_unlock (&job->lock);
  if (!done) {
    gchar *what = g_strdup_printf ("going to %s did not return within "
        G_STRINGIFY (STATE_MS) " ms (deadlock?)",
        gst_element_state_get_name (state));

    fail_with_states (p, what);
    g_free (what);
  }
  g_mutex_clear (&job->lock);
  g_cond_clear (&job->cond);
  g_free (job);
  return ret;
}

static void
party_free (Party * p)
{
  fail_unless (set_state_bounded (p, GST_STATE_NULL) ==
      GST_STATE_CHANGE_SUCCESS, "%s did not stop", p->name);
  g_signal_handlers_disconnect_by_data (p->call, p);
  gst_bus_set_sync_handler (p->bus, NULL, NULL, NULL);
  gst_object_unref (p->bus);
  gst_object_unref (p->call);
  gst_object_unref (p->pipeline);
  g_ptr_array_unref (p->states);
  g_ptr_array_unref (p->elements);
  g_ptr_array_unref (p->outputs);
  g_ptr_array_unref (p->warnings);
  g_ptr_array_unref (p->errors);
  g_mutex_clear (&p->lock);
  g_cond_clear (&p->cond);
  g_free (p);
}

/* What @p saw so far, for failure messages: "registered calling
 * ended(486 Busy Here)" */
static gchar *
states_text (Party * p)
{
  GString *text = g_string_new (NULL);
  guint i;

  g_mutex_lock (&p->lock);
  for (i = 0; i < p->states->len; i++) {
    const GstStructure *s = g_ptr_array_index (p->states, i);
    gint code = 0;

    g_string_append_printf (text, "%s%s", i ? " " : "",
        gst_structure_get_string (s, "state"));
    if (gst_structure_get_int (s, "code", &code))
      g_string_append_printf (text, "(%d %s)", code,
          gst_structure_get_string (s, "reason"));
  }
  for (i = 0; i < p->errors->len; i++)
    g_string_append_printf (text, "; ERROR %s",
        (gchar *) g_ptr_array_index (p->errors, i));
  for (i = 0; i < p->warnings->len; i++)
    g_string_append_printf (text, "; WARNING %s",
        (gchar *) g_ptr_array_index (p->warnings, i));
  g_mutex_unlock (&p->lock);
  return g_string_free (text, FALSE);
}

static gchar *
outputs_text (Party * p)
{
  GString *text = g_string_new (NULL);
  guint i;

  g_mutex_lock (&p->lock);
  for (i = 0; i < p->outputs->len; i++) {
    Output *o = g_ptr_array_index (p->outputs, i);
    gchar *caps = o->caps ? gst_caps_to_string (o->caps) : g_strdup ("none");

    g_string_append_printf (text, "%s%s: %d buffers%s, caps %s", i ? "; " :
        "", o->name, g_atomic_int_get (&o->buffers), o->eos ? ", EOS" : "",
        caps);
    g_free (caps);
  }
  g_mutex_unlock (&p->lock);
  if (text->len == 0)
    g_string_append (text, "no src pads");
  return g_string_free (text, FALSE);
}

static void
fail_with_states (Party * p, const gchar * what)
{
  gchar *states = states_text (p);
  gchar *outputs = outputs_text (p);

  fail ("%s: %s (states: %s | outputs: %s)", p->name, what, states, outputs);
  g_free (states);
  g_free (outputs);
}

/* Waits until @check is TRUE, called with the lock held. Counters change
 * without a signal, hence the polling. */
typedef gboolean (*CheckFunc) (Party * p, gpointer data);

static gboolean
wait_for (Party * p, CheckFunc check, gpointer data, guint timeout_ms)
{
  gint64 deadline =
      g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  gboolean ok;

  g_mutex_lock (&p->lock);
  while (!(ok = check (p, data)) && p->errors->len == 0
      && g_get_monotonic_time () < deadline)
    g_cond_wait_until (&p->cond, &p->lock, MIN (deadline,
            g_get_monotonic_time () + 20 * G_TIME_SPAN_MILLISECOND));
  g_mutex_unlock (&p->lock);
  return ok;
}

typedef struct
{
  const gchar *state;
  const GstStructure *found;
  const GstStructure *ended;    /* an "ended" met while waiting for more */
} StateWait;

static gboolean
check_state (Party * p, gpointer data)
{
  StateWait *w = data;

  while (p->next_state < p->states->len) {
    const GstStructure *s = g_ptr_array_index (p->states, p->next_state++);
    const gchar *state = gst_structure_get_string (s, "state");

    if (g_str_equal (state, w->state)) {
      w->found = s;
      return TRUE;
    }
    if (g_str_equal (state, "ended")) {
      w->ended = s;
      return TRUE;
    }
  }
  return FALSE;
}

/* The next @state after those waited for (others in between are passed
 * over). An "ended" on the way fails, unless that is what is waited for.
 * Returns: (transfer none): the message's structure */
static const GstStructure *
wait_state (Party * p, const gchar * state, guint timeout_ms)
{
  StateWait w = { state, NULL, NULL };
  gchar *what;

  wait_for (p, check_state, &w, timeout_ms);
  if (w.found)
    return w.found;
  if (w.ended)
    what = g_strdup_printf ("the call ended while waiting for \"%s\"", state);
  else
    what = g_strdup_printf ("no \"%s\" within %u ms", state, timeout_ms);
  fail_with_states (p, what);
  g_free (what);
  return NULL;
}

/* Index in p->states of the first @state at or after @from, -1 if none */
static gint
state_index (Party * p, const gchar * state, guint from)
{
  gint found = -1;
  guint i;

  g_mutex_lock (&p->lock);
  for (i = from; i < p->states->len && found < 0; i++)
    if (g_str_equal (gst_structure_get_string (g_ptr_array_index (p->states,
                    i), "state"), state))
      found = i;
  g_mutex_unlock (&p->lock);
  return found;
}

static guint
count_states (Party * p, const gchar * state)
{
  guint i, n = 0;

  g_mutex_lock (&p->lock);
  for (i = 0; i < p->states->len; i++)
    if (g_str_equal (gst_structure_get_string (g_ptr_array_index (p->states,
                    i), "state"), state))
      n++;
  g_mutex_unlock (&p->lock);
  return n;
}

static guint
n_states (Party * p)
{
  guint n;

  g_mutex_lock (&p->lock);
  n = p->states->len;
  g_mutex_unlock (&p->lock);
  return n;
}

static guint
n_outputs (Party * p)
{
  guint n;

  g_mutex_lock (&p->lock);
  n = p->outputs->len;
  g_mutex_unlock (&p->lock);
  return n;
}

static gint64
state_time (const GstStructure * s)
{
  gint64 t = 0;

  gst_structure_get_int64 (s, "test-us", &t);
  return t;
}

static gint64
state_time_at (Party * p, gint index)
{
  gint64 t;

  fail_unless (index >= 0);
  g_mutex_lock (&p->lock);
  t = state_time (g_ptr_array_index (p->states, index));
  g_mutex_unlock (&p->lock);
  return t;
}

static void
assert_ended (const GstStructure * s, gint code, const gchar * reason_part)
{
  gint got = 0;
  const gchar *reason = gst_structure_get_string (s, "reason");

  fail_unless (gst_structure_get_int (s, "code", &got), "ended has no code");
  fail_unless_equals_int (got, code);
  fail_unless (reason != NULL, "ended has no reason");
  if (reason_part)
    fail_unless (strstr (reason, reason_part) != NULL,
        "reason \"%s\" does not say \"%s\"", reason, reason_part);
}

static void
party_start (Party * p)
{
  fail_if (gst_element_set_state (p->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE, "%s does not start", p->name);
  wait_state (p, "registered", SIGNAL_MS);
}

static void
party_dial (Party * p, const gchar * number)
{
  GST_INFO ("%s dials %s", p->name, number);
  g_signal_emit_by_name (p->call, "dial", number);
}

static void
assert_no_problems (Party * p)
{
  gboolean clean;

  g_mutex_lock (&p->lock);
  clean = p->errors->len == 0 && p->warnings->len == 0;
  g_mutex_unlock (&p->lock);
  if (!clean)
    fail_with_states (p, "errors or warnings on the bus");
}

/* The element's "state" property, as its nick */
static const gchar *
call_state (Party * p)
{
  GParamSpec *pspec =
      g_object_class_find_property (G_OBJECT_GET_CLASS (p->call), "state");
  GEnumValue *v;
  gint state = -1;

  g_object_get (p->call, "state", &state, NULL);
  v = g_enum_get_value (G_PARAM_SPEC_ENUM (pspec)->enum_class, state);
  return v ? v->value_nick : "?";
}

/* No call going on. By the "state" property, not the last message: an
 * idle bin reports a missed call as "incoming" then "ended" while another
 * bin's call goes on; and a bin whose inputs had EOS stays "ended" (it
 * takes no more calls). */
static gboolean
check_idle (Party * p, gpointer data)
{
  const gchar *state = call_state (p);

  return g_str_equal (state, "idle") || g_str_equal (state, "registered")
      || g_str_equal (state, "ended");
}

/* Ends the test's calls by hanging up, then stops each party: stopping a
 * pipeline in the middle of a call has tests of its own
 * (test_stop_hangs_up, test_stop_while_far_end_hangs_up) */
static void
parties_free (Party * first, ...)
{
  GPtrArray *parties = g_ptr_array_new ();
  Party *p;
  va_list ap;
  guint i;

  va_start (ap, first);
  for (p = first; p; p = va_arg (ap, Party *))
    g_ptr_array_add (parties, p);
  va_end (ap);

  for (i = 0; i < parties->len; i++) {
    p = g_ptr_array_index (parties, i);
    if (!wait_for (p, check_idle, NULL, 0)) {
      g_signal_emit_by_name (p->call, "hangup");
      if (!wait_for (p, check_idle, NULL, SIGNAL_MS))
        GST_WARNING ("%s is still in a call: stopping it anyway", p->name);
    }
    party_free (p);
  }
  g_ptr_array_unref (parties);
}

/* Media */

typedef struct
{
  guint first;                  /* outputs of this call: from this index */
  gint video, audio;            /* needed */
} MediaWait;

static gboolean
check_media (Party * p, gpointer data)
{
  MediaWait *w = data;
  gboolean video = w->video == 0, audio = w->audio == 0;
  guint i;

  for (i = w->first; i < p->outputs->len; i++) {
    Output *o = g_ptr_array_index (p->outputs, i);
    gint n = g_atomic_int_get (&o->buffers);

    if (o->video && n >= w->video)
      video = TRUE;
    if (!o->video && n >= w->audio)
      audio = TRUE;
  }
  return video && audio;
}

/* At least MIN_VIDEO video and MIN_AUDIO audio buffers out of the src pads
 * added since output @first */
static void
wait_media (Party * p, guint first)
{
  MediaWait w = { first, MIN_VIDEO, MIN_AUDIO };

  if (!wait_for (p, check_media, &w, MEDIA_MS))
    fail_with_states (p, "not enough media within " G_STRINGIFY (MEDIA_MS)
        " ms of connected");
}

/* The output of this call (from @first) named like @prefix, or NULL */
static Output *
find_output_or_null (Party * p, guint first, const gchar * prefix)
{
  Output *found = NULL;
  guint i;

  g_mutex_lock (&p->lock);
  for (i = first; i < p->outputs->len && !found; i++)
    if (g_str_has_prefix (((Output *) g_ptr_array_index (p->outputs,
                    i))->name, prefix))
      found = g_ptr_array_index (p->outputs, i);
  g_mutex_unlock (&p->lock);
  return found;
}

/* The same, which must be there */
static Output *
find_output (Party * p, guint first, const gchar * prefix)
{
  Output *found = find_output_or_null (p, first, prefix);

  if (found == NULL) {
    gchar *what = g_strdup_printf ("no src pad %s...", prefix);

    fail_with_states (p, what);
    g_free (what);
  }
  return found;
}

static gboolean
check_outputs_eos (Party * p, gpointer data)
{
  guint i;

  for (i = GPOINTER_TO_UINT (data); i < p->outputs->len; i++)
    if (!((Output *) g_ptr_array_index (p->outputs, i))->eos)
      return FALSE;
  return TRUE;
}

static void
wait_outputs_eos (Party * p, guint first)
{
  if (!wait_for (p, check_outputs_eos, GUINT_TO_POINTER (first), SIGNAL_MS))
    fail_with_states (p, "a src pad had no EOS");
}

static gboolean
check_pipeline_eos (Party * p, gpointer data)
{
  return p->eos;
}

/* A factory's element somewhere in the call bin */
static gboolean
bin_has (GstElement * bin, const gchar * factory)
{
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (bin));
  GValue v = G_VALUE_INIT;
  gboolean found = FALSE;

  while (!found && gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstElementFactory *f = gst_element_get_factory (g_value_get_object (&v));

    found = f && g_str_equal (GST_OBJECT_NAME (f), factory);
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
  return found;
}

static GstStructure *
get_stats (Party * p)
{
  GstStructure *stats = NULL;

  g_object_get (p->call, "stats", &stats, NULL);
  fail_unless (stats != NULL);
  return stats;
}

static gint
stats_int (const GstStructure * stats, const gchar * field)
{
  gint v = -1;

  fail_unless (gst_structure_get_int (stats, field, &v), "stats has no %s",
      field);
  return v;
}

/* Setup as each side saw it: from calling (caller) or incoming (callee)
 * to connected, by the bus and by the stats, and to the first video
 * frame out */
static void
report_setup (Party * p, const gchar * from, guint first_state,
    guint first_output)
{
  gint i_from = state_index (p, from, first_state);
  gint i_connected = state_index (p, "connected", first_state);
  GstStructure *stats = get_stats (p);
  Output *video = find_output (p, first_output, "video_src_");
  gint64 t_from, t_connected, t_frame;
  gdouble setup_ms = -1;

  fail_unless (i_from >= 0 && i_connected > i_from);
  g_mutex_lock (&p->lock);
  t_from = state_time (g_ptr_array_index (p->states, i_from));
  t_connected = state_time (g_ptr_array_index (p->states, i_connected));
  t_frame = video->first_buffer_us;
  g_mutex_unlock (&p->lock);

  gst_structure_get_double (stats, "setup-ms", &setup_ms);
  g_print ("SETUP %s %s: %s -> connected %.0f ms (stats setup-ms %.0f), "
      "-> first video frame %.0f ms\n", test_name, p->name, from,
      (t_connected - t_from) / 1000.0, setup_ms,
      t_frame ? (t_frame - t_from) / 1000.0 : -1.0);
  gst_structure_free (stats);
}

/* Calls */

typedef struct
{
  guint caller_state, callee_state;     /* first state of this call */
  guint caller_output, callee_output;   /* first output of this call */
} CallMarks;

/* @caller dials @callee (auto-answer=true): both connected */
static CallMarks
call_connect (Party * caller, Party * callee)
{
  CallMarks m;
  const GstStructure *s;

  m.caller_state = n_states (caller);
  m.callee_state = n_states (callee);
  m.caller_output = n_outputs (caller);
  m.callee_output = n_outputs (callee);

  party_dial (caller, callee->name);
  s = wait_state (caller, "calling", SIGNAL_MS);
  fail_unless_equals_string (gst_structure_get_string (s, "callee"),
      callee->name);
  s = wait_state (callee, "incoming", SIGNAL_MS);
  fail_unless_equals_string (gst_structure_get_string (s, "caller"),
      caller->name);
  fail_unless_equals_string (gst_structure_get_string (s, "callee"),
      callee->name);
  fail_unless (gst_structure_get_string (s, "call-id") != NULL);

  wait_state (caller, "connected", CONNECT_MS);
  wait_state (callee, "connected", CONNECT_MS);
  return m;
}

/* @a hangs up: the call ends on both sides */
static void
hangup_both (Party * a, Party * b)
{
  g_signal_emit_by_name (a->call, "hangup");
  wait_state (a, "ended", SIGNAL_MS);
  wait_state (b, "ended", SIGNAL_MS);
}

/* call_connect(), and media both ways */
static CallMarks
call_up (Party * caller, Party * callee)
{
  CallMarks m = call_connect (caller, callee);
  GstStructure *stats;
  gchar *call_id;

  wait_media (caller, m.caller_output);
  wait_media (callee, m.callee_output);

  report_setup (caller, "calling", m.caller_state, m.caller_output);
  report_setup (callee, "incoming", m.callee_state, m.callee_output);

  /* stats agree with the pads, and name the call */
  stats = get_stats (caller);
  fail_unless_equals_string (gst_structure_get_string (stats, "state"),
      "connected");
  g_object_get (caller->call, "call-id", &call_id, NULL);
  fail_unless_equals_string (gst_structure_get_string (stats, "call-id"),
      call_id);
  fail_unless (stats_int (stats, "video-buffers-received") >= MIN_VIDEO);
  fail_unless (stats_int (stats, "audio-buffers-received") >= MIN_AUDIO);
  gst_structure_free (stats);
  g_free (call_id);
  return m;
}

/* The stats of a connected call: setup time, and packets going out */
static void
assert_stats (Party * p)
{
  GstStructure *stats = get_stats (p);
  gchar *text = gst_structure_to_string (stats);
  gdouble setup_ms = -1;

  g_print ("STATS %s %s: %s\n", test_name, p->name, text);
  gst_structure_get_double (stats, "setup-ms", &setup_ms);
  fail_unless (setup_ms > 0 && setup_ms < CONNECT_MS,
      "%s: stats setup-ms is %.1f: %s", p->name, setup_ms, text);
  fail_unless (stats_int (stats, "audio-packets-sent") > 0,
      "%s: no audio packets sent: %s", p->name, text);
  fail_unless (stats_int (stats, "video-packets-sent") > 0,
      "%s: no video packets sent, yet the far end decodes our video: %s",
      p->name, text);
  g_free (text);
  gst_structure_free (stats);
}

/* Element messages besides webrtccall-state */

typedef struct
{
  const gchar *name;
  const GstStructure *found;
} ElementWait;

static gboolean
check_element (Party * p, gpointer data)
{
  ElementWait *w = data;
  guint i;

  for (i = 0; i < p->elements->len && !w->found; i++)
    if (gst_structure_has_name (g_ptr_array_index (p->elements, i), w->name))
      w->found = g_ptr_array_index (p->elements, i);
  return w->found != NULL;
}

/* The first element message @name the call bin posted.
 * Returns: (transfer none): its structure */
static const GstStructure *
wait_element (Party * p, const gchar * name, guint timeout_ms)
{
  ElementWait w = { name, NULL };

  if (!wait_for (p, check_element, &w, timeout_ms)) {
    gchar *what = g_strdup_printf ("no \"%s\" message within %u ms", name,
        timeout_ms);

    fail_with_states (p, what);
    g_free (what);
  }
  return w.found;
}

static guint
message_seq (const GstStructure * s)
{
  guint seq = 0;

  fail_unless (gst_structure_get_uint (s, "test-seq", &seq));
  return seq;
}

/* The pipeline's own EOS, what gst-launch-1.0 -e and applications wait
 * for */
static void
wait_pipeline_eos (Party * p, guint timeout_ms)
{
  if (!wait_for (p, check_pipeline_eos, NULL, timeout_ms))
    fail_with_states (p, "the pipeline posted no EOS");
}

/* The "remote-number" property: the far end's number during a call */
static gchar *
remote_number (Party * p)
{
  gchar *number = NULL;

  fail_unless (g_object_class_find_property (G_OBJECT_GET_CLASS (p->call),
          "remote-number") != NULL, "webrtccall has no \"remote-number\" "
      "property");
  g_object_get (p->call, "remote-number", &number, NULL);
  return number;
}

static void
assert_remote_number (Party * p, const gchar * expected)
{
  gchar *number = remote_number (p);

  fail_unless (g_strcmp0 (number, expected) == 0, "%s: remote-number is "
      "\"%s\", expected \"%s\" (state %s)", p->name, GST_STR_NULL (number),
      GST_STR_NULL (expected), call_state (p));
  g_free (number);
}

/* Rounds of a race case: WTSP_TEST_ROUNDS, else @default_rounds
 * (scripts/stress.sh runs them by the hundred) */
static gint
race_rounds (gint default_rounds)
{
  const gchar *env = g_getenv ("WTSP_TEST_ROUNDS");
  gint64 n;

  if (env == NULL || *env == '\0')
    return default_rounds;
  n = g_ascii_strtoll (env, NULL, 10);
  return n > 0 && n < 100000 ? (gint) n : default_rounds;
}

/* A TCP peer that accepts and closes before any WebSocket handshake,
 * on 127.0.0.1 */
typedef struct
{
  GSocketListener *listener;
  GCancellable *cancel;
  GThread *thread;
  guint port;
  gint accepted;                /* atomic */
} DropServer;

static gpointer
drop_server_run (gpointer data)
{
  DropServer *d = data;
  GSocketConnection *conn;

  while ((conn = g_socket_listener_accept (d->listener, NULL, d->cancel,
              NULL))) {
    g_atomic_int_inc (&d->accepted);
    g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
    g_object_unref (conn);
  }
  return NULL;
}

static DropServer *
drop_server_new (void)
{
  DropServer *d = g_new0 (DropServer, 1);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0);
  GSocketAddress *effective = NULL;
  GError *error = NULL;

  d->listener = g_socket_listener_new ();
  d->cancel = g_cancellable_new ();
  fail_unless (g_socket_listener_add_address (d->listener, addr,
          G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &effective,
          &error), "cannot listen on 127.0.0.1: %s",
      error ? error->message : "?");
  d->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_object_unref (effective);
  g_object_unref (addr);
  g_object_unref (lo);
  d->thread = g_thread_new ("drop-server", drop_server_run, d);
  return d;
}

static void
drop_server_free (DropServer * d)
{
  g_cancellable_cancel (d->cancel);
  g_thread_join (d->thread);
  g_socket_listener_close (d->listener);
  g_object_unref (d->listener);
  g_object_unref (d->cancel);
  g_free (d);
}

/* A child process: gst-launch-1.0, with this test's plugin path */

static void
child_setup (gpointer user_data)
{
#ifdef __linux__
  /* a test that fails at once must not leave it behind */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
#endif
}

typedef struct
{
  GSubprocess *proc;
  gboolean done;
  GMutex lock;
  GCond cond;
} ChildWait;

static gpointer
child_wait_run (gpointer data)
{
  ChildWait *w = data;

  g_subprocess_wait (w->proc, NULL, NULL);
  g_mutex_lock (&w->lock);
  w->done = TRUE;
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->lock);
  return NULL;
}

/* Runs @argv (argv[0] looked up on PATH), stdout and stderr into one
 * file, killed after @timeout_ms. Returns: the output (free it); @proc
 * is the exited process (unref it) */
static gchar *
run_child (const gchar * const *argv, guint timeout_ms, GSubprocess ** proc,
    gboolean * timed_out)
{
  GSubprocessLauncher *launcher;
  gchar *dir, *log, *out = NULL, *program;
  GError *error = NULL;
  ChildWait w = { NULL, FALSE };
  GThread *thread;
  gint64 deadline;
  GPtrArray *args = g_ptr_array_new ();
  guint i;

  program = g_find_program_in_path (argv[0]);
  fail_unless (program != NULL, "%s is not on PATH", argv[0]);
  g_ptr_array_add (args, program);
  for (i = 1; argv[i]; i++)
    g_ptr_array_add (args, (gpointer) argv[i]);
  g_ptr_array_add (args, NULL);

  dir = g_dir_make_tmp ("test-webrtccall-XXXXXX", &error);
  fail_unless (dir != NULL, "%s", error ? error->message : "?");
  log = g_build_filename (dir, "output", NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_stdout_file_path (launcher, log);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  w.proc = g_subprocess_launcher_spawnv (launcher,
      (const gchar * const *) args->pdata, &error);
  g_object_unref (launcher);
  fail_unless (w.proc != NULL, "cannot start %s: %s", program,
      error ? error->message : "?");
  g_ptr_array_unref (args);

  g_mutex_init (&w.lock);
  g_cond_init (&w.cond);
  thread = g_thread_new ("child-wait", child_wait_run, &w);
  deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  g_mutex_lock (&w.lock);
  while (!w.done && g_cond_wait_until (&w.cond, &w.lock, deadline));
  *timed_out = !w.done;
  g_mutex_unlock (&w.lock);
  if (*timed_out)
    g_subprocess_force_exit (w.proc);
  g_thread_join (thread);
  g_mutex_clear (&w.lock);
  g_cond_clear (&w.cond);

  g_file_get_contents (log, &out, NULL, NULL);
  g_unlink (log);
  g_rmdir (dir);
  g_free (log);
  g_free (dir);
  g_free (program);
  *proc = w.proc;
  return out ? out : g_strdup ("");
}

/* The ERROR line of @text, lower case, or NULL (free it) */
static gchar *
error_line (const gchar * text)
{
  const gchar *start = strstr (text, "ERROR");
  const gchar *end;

  if (start == NULL)
    return NULL;
  end = strchr (start, '\n');
  return g_ascii_strdown (start, end ? end - start : -1);
}

/* An error naming the connection problem, as a user reads it */
static gboolean
names_connection (const gchar * lower)
{
  return strstr (lower, "connect") != NULL || strstr (lower, "server") != NULL;
}

/* Fixture */

/* A server that cannot start (a flag it does not know, a port taken...)
 * fails the test, with the server's own message above */
static WtspTestServer *
server_start (const gchar * first_flag, ...)
{
  const gchar *args[8] = { "--host", NULL, NULL };
  const gchar *flag;
  guint n = 2;
  va_list ap;

  va_start (ap, first_flag);
  for (flag = first_flag; flag; flag = va_arg (ap, const gchar *)) {
    fail_unless (n < G_N_ELEMENTS (args) - 1, "too many server flags");
    args[n++] = flag;
  }
  va_end (ap);
  args[1] = host;
  return wtsp_test_server_startv (args);
}

static void
test_setup (void)
{
  test_start_us = g_get_monotonic_time ();
}

/* A failed test leaves its pipelines running, and the forked test process
 * exits right away; but gst_check_init() set atexit (gst_deinit), which
 * then waits for their streaming threads, often forever: the failure
 * would show as "Test timeout expired" a minute later, its message lost.
 * Runs before gst_deinit (atexit is last in, first out).
 *
 * OpenSSL is told not to clean up at exit (webrtccall_suite): its exit
 * handler, registered on first use (dtlsdec), ran before gst_deinit(),
 * which then freed DTLS objects (kept by pending DTLS timeouts on the
 * system clock) and stopped pool threads that had used OpenSSL: "double
 * free or corruption" in about 1 exit in 100. An application that
 * registers gst_deinit() with atexit() before its first call has the
 * same problem (docs/troubleshooting.md). */
static void
exit_at_once (void)
{
  if (getpid () != main_pid && !test_passed)
    _exit (1);
}

static void
test_teardown (void)
{
  test_passed = TRUE;
  g_print ("TIME %s: %.1f s\n", test_name,
      (g_get_monotonic_time () - test_start_us) / 1e6);
  g_clear_pointer (&test_name, g_free);
}

#define BEGIN() \
  (test_name = __i__ ? g_strdup_printf ("%s:%d", G_STRFUNC, __i__) : \
      g_strdup (G_STRFUNC))

/* Tests */

GST_START_TEST (test_basic_call)
{
  WtspTestServer *server;
  Party *bob, *alice;
  Output *o;
  GstStructure *s;
  gint64 played;
  gint i_calling, width = 0, height = 0;

  BEGIN ();
  server = server_start (NULL);
  bob = party_new (server, "bob", "auto-answer=true");
  party_start (bob);

  /* number= dials when the bin reaches PLAYING, as in the docs */
  alice = party_new (server, "alice", "number=bob");
  played = g_get_monotonic_time ();
  fail_if (gst_element_set_state (alice->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  wait_state (alice, "registered", SIGNAL_MS);
  wait_state (alice, "calling", SIGNAL_MS);
  wait_state (bob, "incoming", SIGNAL_MS);
  wait_state (bob, "connected", CONNECT_MS);
  wait_state (alice, "connected", CONNECT_MS);
  wait_media (alice, 0);
  wait_media (bob, 0);
  g_print ("SETUP %s alice: PLAYING -> connected %.0f ms\n", test_name,
      (state_time_at (alice, state_index (alice, "connected", 0)) -
          played) / 1000.0);
  report_setup (alice, "calling", 0, 0);
  report_setup (bob, "incoming", 0, 0);

  /* the caller saw the far end ring and answer, in order */
  i_calling = state_index (alice, "calling", 0);
  fail_unless (i_calling >= 0);
  fail_unless (state_index (alice, "ringing", i_calling) > i_calling);
  fail_unless (state_index (alice, "accepted", i_calling) >
      state_index (alice, "ringing", i_calling));
  fail_unless (state_index (bob, "accepted", 0) >
      state_index (bob, "incoming", 0));

  /* decoded media in the caps the far end sent */
  o = find_output (alice, 0, "video_src_0");
  fail_unless (o->caps != NULL);
  s = gst_caps_get_structure (o->caps, 0);
  fail_unless (gst_structure_has_name (s, "video/x-raw"));
  fail_unless (gst_structure_get_int (s, "width", &width)
      && gst_structure_get_int (s, "height", &height));
  fail_unless (width == 320 && height == 240, "decoded %dx%d", width, height);
  o = find_output (bob, 0, "audio_src_0");
  fail_unless (o->caps != NULL);
  fail_unless (gst_structure_has_name (gst_caps_get_structure (o->caps, 0),
          "audio/x-raw"));

  assert_stats (alice);
  assert_stats (bob);
  assert_no_problems (alice);
  assert_no_problems (bob);

  /* each side knows the other's number while the call lasts, and only
   * then */
  assert_remote_number (alice, "bob");
  assert_remote_number (bob, "alice");
  hangup_both (alice, bob);
  assert_remote_number (alice, NULL);
  assert_remote_number (bob, NULL);

  parties_free (alice, bob, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* VP8 and H264, decoded and encoded (decoders: what this machine has,
 * openh264 for H264) */
static const struct
{
  const gchar *codecs;
  gboolean encoded;
  const gchar *video_caps, *audio_caps;
  const gchar *depayloader, *decoder;
} codec_cases[] = {
  {"VP8", FALSE, "video/x-raw", "audio/x-raw", "rtpvp8depay", "vp8dec"},
  {"VP8", TRUE, "video/x-vp8", "audio/x-opus", "rtpvp8depay", NULL},
  {"H264", FALSE, "video/x-raw", "audio/x-raw", "rtph264depay", "openh264dec"},
  {"H264", TRUE, "video/x-h264", "audio/x-opus", "rtph264depay", NULL},
};

GST_START_TEST (test_codecs)
{
  WtspTestServer *server;
  gchar *props;
  Party *bob, *alice, *sides[2];
  guint i;

  BEGIN ();
  server = server_start (NULL);
  props = g_strdup_printf ("video-codecs=%s encoded-output=%s",
      codec_cases[__i__].codecs, codec_cases[__i__].encoded ? "true" : "false");
  bob = party_new (server, "bob", props);
  g_object_set (bob->call, "auto-answer", TRUE, NULL);
  alice = party_new (server, "alice", props);
  g_free (props);
  party_start (bob);
  party_start (alice);
  call_up (alice, bob);

  sides[0] = alice;
  sides[1] = bob;
  for (i = 0; i < 2; i++) {
    Output *video = find_output (sides[i], 0, "video_src_0");
    Output *audio = find_output (sides[i], 0, "audio_src_0");
    gchar *caps = gst_caps_to_string (video->caps);

    g_print ("CAPS %s %s: %s\n", test_name, sides[i]->name, caps);
    g_free (caps);
    fail_unless (gst_structure_has_name (gst_caps_get_structure
            (video->caps, 0), codec_cases[__i__].video_caps),
        "%s video caps %" GST_PTR_FORMAT, sides[i]->name, video->caps);
    fail_unless (gst_structure_has_name (gst_caps_get_structure
            (audio->caps, 0), codec_cases[__i__].audio_caps),
        "%s audio caps %" GST_PTR_FORMAT, sides[i]->name, audio->caps);
    fail_unless (bin_has (sides[i]->call, codec_cases[__i__].depayloader),
        "%s receives without %s", sides[i]->name,
        codec_cases[__i__].depayloader);
    if (codec_cases[__i__].decoder)
      fail_unless (bin_has (sides[i]->call, codec_cases[__i__].decoder),
          "%s decodes without %s", sides[i]->name, codec_cases[__i__].decoder);
    assert_no_problems (sides[i]);
  }

  parties_free (alice, bob, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* @from_caller: who hangs up */
static void
hangup_test (gboolean from_caller)
{
  WtspTestServer *server = server_start (NULL);
  Party *bob = party_new (server, "bob", "auto-answer=true");
  Party *alice = party_new (server, "alice", NULL);
  Party *hanger, *other;
  const GstStructure *s;
  GstStructure *stats;
  gchar *call_id;

  party_start (bob);
  party_start (alice);
  call_up (alice, bob);
  hanger = from_caller ? alice : bob;
  other = from_caller ? bob : alice;

  g_object_get (hanger->call, "call-id", &call_id, NULL);
  g_signal_emit_by_name (hanger->call, "hangup");
  wait_state (hanger, "hangingup", SIGNAL_MS);
  s = wait_state (hanger, "ended", SIGNAL_MS);
  assert_ended (s, 200, "BYE");
  fail_unless_equals_string (gst_structure_get_string (s, "call-id"), call_id);
  s = wait_state (other, "ended", SIGNAL_MS);
  assert_ended (s, 200, NULL);

  /* muxers downstream can finish their files */
  wait_outputs_eos (alice, 0);
  wait_outputs_eos (bob, 0);
  fail_unless_equals_int (n_outputs (alice), 2);
  fail_unless_equals_int (n_outputs (bob), 2);

  /* and both are ready for the next call; the stats still describe the
   * last one: its call-id, and how it is (ended) */
  wait_state (alice, "registered", SIGNAL_MS);
  wait_state (bob, "registered", SIGNAL_MS);
  stats = get_stats (hanger);
  fail_unless_equals_string (gst_structure_get_string (stats, "call-id"),
      call_id);
  fail_unless_equals_string (gst_structure_get_string (stats, "state"),
      "ended");
  gst_structure_free (stats);

  assert_no_problems (alice);
  assert_no_problems (bob);
  g_free (call_id);
  parties_free (alice, bob, NULL);
  wtsp_test_server_free (server);
}

GST_START_TEST (test_hangup_caller)
{
  BEGIN ();
  hangup_test (TRUE);
}

GST_END_TEST;

GST_START_TEST (test_hangup_callee)
{
  BEGIN ();
  hangup_test (FALSE);
}

GST_END_TEST;

/* decline's code argument, and the code both sides must end with */
static const guint decline_codes[][2] = {
  {603, 603},
  {0, 603},                     /* the server's default */
  {486, 486},
};

GST_START_TEST (test_decline)
{
  WtspTestServer *server;
  Party *bob, *alice;
  const GstStructure *s;
  guint code = decline_codes[__i__][1];

  BEGIN ();
  server = server_start (NULL);
  bob = party_new (server, "bob", "auto-answer=false");
  alice = party_new (server, "alice", NULL);
  party_start (bob);
  party_start (alice);
  party_dial (alice, "bob");
  s = wait_state (bob, "incoming", SIGNAL_MS);
  fail_unless_equals_string (gst_structure_get_string (s, "caller"), "alice");
  wait_state (alice, "ringing", SIGNAL_MS);

  g_signal_emit_by_name (bob->call, "decline", decline_codes[__i__][0]);
  s = wait_state (bob, "ended", SIGNAL_MS);
  assert_ended (s, code, NULL);
  s = wait_state (alice, "ended", SIGNAL_MS);
  assert_ended (s, code, NULL);

  /* no media was ever set up */
  fail_unless_equals_int (n_outputs (alice), 0);
  fail_unless_equals_int (n_outputs (bob), 0);
  fail_unless (state_index (alice, "connected", 0) < 0);
  wait_state (alice, "registered", SIGNAL_MS);
  wait_state (bob, "registered", SIGNAL_MS);

  assert_no_problems (alice);
  assert_no_problems (bob);
  parties_free (alice, bob, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* The missed call a busy bin reports: a message of its own, with what an
 * application needs to call back; the bin's own call state is untouched
 * (no "incoming"/"ended" for a call it never had) */
static void
assert_missed_call (Party * p, const gchar * caller, const gchar * callee,
    const gchar * own_call_id)
{
  const GstStructure *s = wait_element (p, "webrtccall-missed-call",
      SIGNAL_MS);
  const gchar *call_id = gst_structure_get_string (s, "call-id");
  gint line = -3, code = 0;

  fail_unless (gst_structure_get_int (s, "line", &line),
      "missed-call has no int line: %" GST_PTR_FORMAT, s);
  fail_unless (call_id != NULL && *call_id, "missed-call has no call-id");
  fail_if (g_strcmp0 (call_id, own_call_id) == 0,
      "the missed call has %s's own call-id", p->name);
  fail_unless_equals_string (gst_structure_get_string (s, "caller"), caller);
  fail_unless_equals_string (gst_structure_get_string (s, "callee"), callee);
  fail_unless (gst_structure_get_int (s, "code", &code),
      "missed-call has no int code");
  fail_unless_equals_int (code, 486);
  fail_unless (gst_structure_get_string (s, "reason") != NULL,
      "missed-call has no reason");
}

/* All of bob's lines are taken (--lines 1): alice gets 486, and bob's
 * own call goes on. 0 = bob is in a connected call with media, 1 = his
 * call is still ringing (no media: runs in the signaling-only suite) */
GST_START_TEST (test_busy)
{
  WtspTestServer *server;
  Party *bob, *carol, *alice;
  const GstStructure *s;
  GstStructure *stats;
  guint bob_states;
  gchar *call_id;
  const gchar *bob_state;
  gboolean ringing = __i__ == 1;

  BEGIN ();
  server = server_start ("--lines", "1", NULL);
  bob = party_new (server, "bob", ringing ? "auto-answer=false" :
      "auto-answer=true");
  carol = party_new (server, "carol", NULL);
  alice = party_new (server, "alice", NULL);
  party_start (bob);
  party_start (carol);
  party_start (alice);
  if (ringing) {
    party_dial (carol, "bob");
    wait_state (bob, "incoming", SIGNAL_MS);
    wait_state (carol, "ringing", SIGNAL_MS);
  } else {
    call_up (carol, bob);
  }
  bob_states = n_states (bob);
  bob_state = call_state (bob);
  g_object_get (bob->call, "call-id", &call_id, NULL);

  party_dial (alice, "bob");
  wait_state (alice, "calling", SIGNAL_MS);
  s = wait_state (alice, "ended", SIGNAL_MS);
  assert_ended (s, 486, NULL);
  fail_unless_equals_int (n_outputs (alice), 0);

  /* bob hears of the call he missed, as a missed call */
  assert_missed_call (bob, "alice", "bob", call_id);

  if (ringing) {
    /* time for anything else bob would post about it */
    g_usleep (500 * G_TIME_SPAN_MILLISECOND);
  } else {
    /* and his call with carol goes on untouched: half a second more
     * video (on 2 busy cores it may stall a moment, and catch up) */
    Output *video = find_output (bob, 0, "video_src_0");
    MediaWait more;

    more.first = 0;
    more.video = g_atomic_int_get (&video->buffers) + 15;
    more.audio = 0;
    if (!wait_for (bob, check_media, &more, MEDIA_MS))
      fail_with_states (bob, "video stopped after alice's call was refused");
  }
  if (n_states (bob) != bob_states)
    fail_with_states (bob, "the missed call changed bob's call state");
  fail_unless_equals_string (call_state (bob), bob_state);
  stats = get_stats (bob);
  fail_unless_equals_string (gst_structure_get_string (stats, "state"),
      bob_state);
  fail_unless_equals_string (gst_structure_get_string (stats, "call-id"),
      call_id);
  gst_structure_free (stats);
  g_free (call_id);

  assert_no_problems (bob);
  assert_no_problems (carol);
  parties_free (carol, bob, alice, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* Two bins on bob's account, one line (--lines 1): one rings with
 * carol's call, the other is idle. alice's call, refused with 486, is
 * reported by the idle bin as a call that came and ended at once, and
 * the busy bin's call state is untouched. */
GST_START_TEST (test_missed_call_idle_bin)
{
  WtspTestServer *server;
  Party *bob1, *bob2, *busy = NULL, *idle = NULL, *carol, *alice;
  const GstStructure *s;
  guint busy_states;
  gchar *busy_call_id, *missed_id;
  gint64 deadline;

  BEGIN ();
  server = server_start ("--lines", "1", NULL);
  bob1 = party_new_full (server, "bob1", "bob", PARTY_DEFAULT,
      "auto-answer=false");
  bob2 = party_new_full (server, "bob2", "bob", PARTY_DEFAULT,
      "auto-answer=false");
  carol = party_new (server, "carol", NULL);
  alice = party_new (server, "alice", NULL);
  party_start (bob1);
  /* Two pipelines share a session when the application hands the
   * context over (within one pipeline the bins find it themselves) */
  {
    GstContext *context = gst_element_get_context (bob1->call,
        "wtsp.session");

    fail_unless (context != NULL, "bob1 has no wtsp.session context");
    gst_element_set_context (bob2->call, context);
    gst_context_unref (context);
  }
  party_start (bob2);
  party_start (carol);
  party_start (alice);

  /* carol's call goes to one of them */
  party_dial (carol, "bob");
  wait_state (carol, "ringing", SIGNAL_MS);
  deadline = g_get_monotonic_time () + SIGNAL_MS * G_TIME_SPAN_MILLISECOND;
  while (busy == NULL && g_get_monotonic_time () < deadline) {
    if (state_index (bob1, "incoming", 0) >= 0)
      busy = bob1;
    else if (state_index (bob2, "incoming", 0) >= 0)
      busy = bob2;
    else
      g_usleep (20 * G_TIME_SPAN_MILLISECOND);
  }
  if (busy == NULL)
    fail_with_states (bob1, "neither bin of bob got carol's call");
  idle = busy == bob1 ? bob2 : bob1;
  GST_INFO ("%s has carol's call, %s is idle", busy->name, idle->name);
  busy_states = n_states (busy);
  g_object_get (busy->call, "call-id", &busy_call_id, NULL);
  /* what the idle bin saw so far (registered) is passed */
  g_mutex_lock (&idle->lock);
  idle->next_state = idle->states->len;
  g_mutex_unlock (&idle->lock);

  party_dial (alice, "bob");
  s = wait_state (alice, "ended", SIGNAL_MS);
  assert_ended (s, 486, NULL);

  s = wait_state (idle, "incoming", SIGNAL_MS);
  fail_unless_equals_string (gst_structure_get_string (s, "caller"), "alice");
  missed_id = g_strdup (gst_structure_get_string (s, "call-id"));
  fail_if (g_strcmp0 (missed_id, busy_call_id) == 0,
      "the missed call has the busy bin's call-id");
  s = wait_state (idle, "ended", SIGNAL_MS);
  assert_ended (s, 486, NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "call-id"),
      missed_id);

  g_usleep (300 * G_TIME_SPAN_MILLISECOND);
  if (n_states (busy) != busy_states)
    fail_with_states (busy, "the missed call changed the busy bin's state");
  fail_unless_equals_string (call_state (busy), "incoming");

  g_free (missed_id);
  g_free (busy_call_id);
  assert_no_problems (bob1);
  assert_no_problems (bob2);
  parties_free (carol, bob1, bob2, alice, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* Taking calls as they come (a recorder): bob1 (claim-timeout) is in a
 * call with carol; alice's call finds no idle bin of bob's session and
 * waits, posted as webrtccall-unclaimed. Case 0: the application adds
 * bob2 with take-call: it takes the call, alice and bob2 connect, media
 * both ways, bob1's call goes on. Case 1: nobody takes it: declined 486
 * once the claim-timeout is over. Case 2: alice hangs up while it waits:
 * bob2's take-call then names a call that is gone, a warning says so and
 * bob2 waits for calls. */
#define CLAIM_MS 1500

static gboolean check_warning (Party * p, gpointer data);

GST_START_TEST (test_take_call)
{
  WtspTestServer *server;
  Party *bob1, *bob2 = NULL, *carol, *alice;
  const GstStructure *s;
  guint bob1_states;
  gchar *props, *call_id;
  gint64 dialled, ended;
  GstContext *context;

  BEGIN ();
  server = server_start ("--lines", "2", NULL);
  bob1 = party_new_full (server, "bob", "bob", PARTY_DEFAULT,
      "auto-answer=true claim-timeout=" G_STRINGIFY (CLAIM_MS));
  carol = party_new (server, "carol", NULL);
  alice = party_new (server, "alice", NULL);
  party_start (bob1);
  party_start (carol);
  party_start (alice);
  call_up (carol, bob1);
  bob1_states = n_states (bob1);

  dialled = g_get_monotonic_time ();
  party_dial (alice, "bob");
  wait_state (alice, "calling", SIGNAL_MS);
  s = wait_element (bob1, "webrtccall-unclaimed", SIGNAL_MS);
  fail_unless_equals_string (gst_structure_get_string (s, "caller"), "alice");
  fail_unless_equals_int (g_value_get_uint (gst_structure_get_value (s,
              "timeout")), CLAIM_MS);
  call_id = g_strdup (gst_structure_get_string (s, "call-id"));
  fail_unless (call_id != NULL);

  if (__i__ == 1) {
    s = wait_state (alice, "ended", CLAIM_MS + SIGNAL_MS);
    ended = g_get_monotonic_time ();
    assert_ended (s, 486, NULL);
    /* it waited: not declined before the claim-timeout was over */
    fail_unless ((ended - dialled) / 1000 >= CLAIM_MS - 100,
        "declined %" G_GINT64_FORMAT " ms after the dial, before the "
        "claim-timeout (%u ms) was over", (ended - dialled) / 1000, CLAIM_MS);
  } else {
    if (__i__ == 2) {
      g_signal_emit_by_name (alice->call, "hangup");
      wait_state (alice, "ended", SIGNAL_MS);
    }
    /* the application's answer to webrtccall-unclaimed: a bin for it */
    props = g_strdup_printf ("auto-answer=true take-call=%s", call_id);
    bob2 = party_new_full (server, "bob", "bob", PARTY_DEFAULT, props);
    g_free (props);
    context = gst_element_get_context (bob1->call, "wtsp.session");
    fail_unless (context != NULL, "bob1 has no wtsp.session context");
    gst_element_set_context (bob2->call, context);
    gst_context_unref (context);
    party_start (bob2);
    if (__i__ == 0) {
      s = wait_state (bob2, "incoming", SIGNAL_MS);
      fail_unless_equals_string (gst_structure_get_string (s, "call-id"),
          call_id);
      fail_unless_equals_string (gst_structure_get_string (s, "caller"),
          "alice");
      wait_state (alice, "connected", CONNECT_MS);
      wait_state (bob2, "connected", CONNECT_MS);
      wait_media (alice, 0);
      wait_media (bob2, 0);
      hangup_both (alice, bob2);
      assert_no_problems (bob2);
    } else {
      if (!wait_for (bob2, check_warning, (gpointer) call_id, SIGNAL_MS))
        fail_with_states (bob2, "no warning that the call to take is gone");
      /* and it waits for calls */
      fail_unless_equals_string (call_state (bob2), "registered");
    }
  }
  /* bob1's own call went on untouched */
  fail_unless_equals_string (call_state (bob1), "connected");
  if (n_states (bob1) != bob1_states)
    fail_with_states (bob1, "alice's call changed bob1's call state");
  hangup_both (carol, bob1);

  g_free (call_id);
  assert_no_problems (bob1);
  assert_no_problems (carol);
  if (__i__ != 1)
    assert_no_problems (alice);
  parties_free (carol, bob1, alice, bob2, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

#define UNKNOWN_NUMBER_DIALS 20

GST_START_TEST (test_unknown_number)
{
  WtspTestServer *server;
  Party *alice;
  const GstStructure *s;
  guint i;

  BEGIN ();
  server = server_start (NULL);
  alice = party_new (server, "alice", NULL);
  party_start (alice);

  /* Again and again in the same pipeline: the 404 comes back while
   * webrtcbin still gathers candidates, a window for late callbacks */
  for (i = 0; i < UNKNOWN_NUMBER_DIALS; i++) {
    party_dial (alice, "nobody");
    wait_state (alice, "calling", SIGNAL_MS);
    s = wait_state (alice, "ended", SIGNAL_MS);
    assert_ended (s, 404, NULL);
    wait_state (alice, "registered", SIGNAL_MS);
  }
  fail_unless_equals_int (n_outputs (alice), 0);

  assert_no_problems (alice);
  party_free (alice);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* Candidates only in the SDP, none trickled: a gateway may well work so */
GST_START_TEST (test_no_trickle)
{
  WtspTestServer *server;
  Party *bob, *alice;

  BEGIN ();
  server = server_start ("--no-trickle", NULL);
  bob = party_new (server, "bob", "auto-answer=true");
  alice = party_new (server, "alice", NULL);
  party_start (bob);
  party_start (alice);
  call_up (alice, bob);

  assert_no_problems (alice);
  assert_no_problems (bob);
  parties_free (alice, bob, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* The same pipelines carry a second call after the first ended */

GST_START_TEST (test_second_call)
{
  WtspTestServer *server;
  Party *bob, *alice, *sides[2];
  CallMarks m;
  gchar *first_id, *second_id;
  guint i;

  BEGIN ();
  server = server_start (NULL);
  sides[1] = bob = party_new (server, "bob", "auto-answer=true");
  sides[0] = alice = party_new (server, "alice", NULL);
  party_start (bob);
  party_start (alice);
  call_up (alice, bob);
  g_object_get (alice->call, "call-id", &first_id, NULL);

  hangup_both (alice, bob);
  wait_state (alice, "registered", SIGNAL_MS);
  wait_state (bob, "registered", SIGNAL_MS);

  m = call_up (alice, bob);
  g_object_get (alice->call, "call-id", &second_id, NULL);
  fail_if (g_strcmp0 (first_id, second_id) == 0, "same call-id twice");

  /* it connects (its setup time is printed: ~130 ms here, as a first
   * call; speed is the benchmark's business, not a test's) */
  for (i = 0; i < 2; i++) {
    GstStructure *stats = get_stats (sides[i]);
    gdouble setup_ms = -1;

    gst_structure_get_double (stats, "setup-ms", &setup_ms);
    gst_structure_free (stats);
    g_print ("SETUP %s %s: second call %.0f ms\n", test_name,
        sides[i]->name, setup_ms);
    fail_unless (setup_ms > 0 && setup_ms < CONNECT_MS,
        "%s: the second call took %.0f ms to connect", sides[i]->name,
        setup_ms);
  }

  /* new pads for the new call, the old ones gone */
  for (i = 0; i < 2; i++) {
    /* (not "first": fail_unless_equals_int declares one of its own) */
    guint mark = i == 0 ? m.caller_output : m.callee_output;
    GstPad *old;

    fail_unless_equals_int (mark, 2);
    find_output (sides[i], mark, "video_src_1");
    find_output (sides[i], mark, "audio_src_1");
    old = gst_element_get_static_pad (sides[i]->call, "video_src_0");
    fail_unless (old == NULL, "%s still has video_src_0", sides[i]->name);
    assert_no_problems (sides[i]);
  }

  g_free (first_id);
  g_free (second_id);
  parties_free (alice, bob, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* EOS into the caller's bin (gst-launch -e, or sources that end) hangs up
 * cleanly: 0 = EOS sent to the pipeline, 1 = the sources end */
GST_START_TEST (test_eos_hangs_up)
{
  WtspTestServer *server;
  Party *bob, *alice;
  const GstStructure *s;

  BEGIN ();
  server = server_start (NULL);
  bob = party_new (server, "bob", "auto-answer=true");
  alice = party_new (server, "alice", NULL);
  party_start (bob);
  party_start (alice);
  call_up (alice, bob);

  if (__i__ == 0) {
    /* as gst-launch-1.0 -e does, ignoring the result: FALSE if any
     * source refused it */
    gboolean sent = gst_element_send_event (alice->pipeline,
        gst_event_new_eos ());

    GST_INFO ("EOS sent to the pipeline: %d", sent);
  } else {
    GstElement *vsrc = gst_bin_get_by_name (GST_BIN (alice->pipeline),
        "vsrc");
    GstElement *asrc = gst_bin_get_by_name (GST_BIN (alice->pipeline),
        "asrc");

    fail_unless (gst_element_send_event (vsrc, gst_event_new_eos ()));
    fail_unless (gst_element_send_event (asrc, gst_event_new_eos ()));
    gst_object_unref (vsrc);
    gst_object_unref (asrc);
  }

  s = wait_state (bob, "ended", SIGNAL_MS);
  assert_ended (s, 200, NULL);
  s = wait_state (alice, "ended", SIGNAL_MS);
  assert_ended (s, 200, NULL);
  wait_outputs_eos (alice, 0);
  wait_outputs_eos (bob, 0);

  /* what gst-launch-1.0 -e waits for before it stops */
  if (!wait_for (alice, check_pipeline_eos, NULL, SIGNAL_MS))
    fail_with_states (alice, "the pipeline posted no EOS");

  /* one hangup, though both inputs ended */
  if (count_states (alice, "hangingup") != 1)
    fail_with_states (alice, "hung up more than once");

  assert_no_problems (alice);
  assert_no_problems (bob);
  parties_free (alice, bob, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* Hanging up while the call is being set up, when webrtcbin is busiest:
 * candidates, connection state and first buffers are on their way. Each
 * side must end the call cleanly and be ready for the next one. */
#define EARLY_HANGUP_ROUNDS 30

GST_START_TEST (test_hangup_while_connecting)
{
  WtspTestServer *server;
  Party *bob, *alice;
  const GstStructure *s;
  guint i;

  BEGIN ();
  server = server_start (NULL);
  bob = party_new (server, "bob", "auto-answer=true");
  alice = party_new (server, "alice", NULL);
  party_start (bob);
  party_start (alice);

  for (i = 0; i < EARLY_HANGUP_ROUNDS; i++) {
    party_dial (alice, "bob");
    wait_state (alice, "accepted", CONNECT_MS);
    g_signal_emit_by_name (alice->call, "hangup");
    s = wait_state (alice, "ended", SIGNAL_MS);
    assert_ended (s, 200, NULL);
    s = wait_state (bob, "ended", SIGNAL_MS);
    assert_ended (s, 200, NULL);
    wait_state (alice, "registered", SIGNAL_MS);
    wait_state (bob, "registered", SIGNAL_MS);
  }

  assert_no_problems (alice);
  assert_no_problems (bob);
  parties_free (alice, bob, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* Going to NULL in the middle of a call hangs it up: 0 = the caller
 * stops, 1 = the callee stops */
GST_START_TEST (test_stop_hangs_up)
{
  WtspTestServer *server;
  Party *bob, *alice, *stopper, *other;
  const GstStructure *s;

  BEGIN ();
  server = server_start (NULL);
  bob = party_new (server, "bob", "auto-answer=true");
  alice = party_new (server, "alice", NULL);
  party_start (bob);
  party_start (alice);
  call_up (alice, bob);
  stopper = __i__ == 0 ? alice : bob;
  other = __i__ == 0 ? bob : alice;

  fail_unless (set_state_bounded (stopper, GST_STATE_NULL) ==
      GST_STATE_CHANGE_SUCCESS, "%s did not stop", stopper->name);
  s = wait_state (stopper, "ended", SIGNAL_MS);
  assert_ended (s, 200, NULL);
  s = wait_state (other, "ended", SIGNAL_MS);
  assert_ended (s, 200, NULL);
  wait_outputs_eos (stopper, 0);
  wait_outputs_eos (other, 0);
  wait_state (other, "registered", SIGNAL_MS);

  assert_no_problems (other);
  parties_free (stopper, other, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* The far end hangs up just as this pipeline stops: the element ends the
 * call while the application changes its state. It is a race: round N
 * stops N ms (modulo 10) after the hangup, so that the hangup reaches bob
 * at different points of his stop. */
GST_START_TEST (test_stop_while_far_end_hangs_up)
{
  WtspTestServer *server;
  Party *bob, *alice;

  BEGIN ();
  server = server_start (NULL);
  bob = party_new (server, "bob", "auto-answer=true");
  alice = party_new (server, "alice", NULL);
  party_start (alice);
  party_start (bob);
  call_connect (alice, bob);

  g_signal_emit_by_name (alice->call, "hangup");
  g_usleep ((__i__ % 10) * G_TIME_SPAN_MILLISECOND);
  fail_unless (set_state_bounded (bob, GST_STATE_NULL) ==
      GST_STATE_CHANGE_SUCCESS, "bob did not stop");
  wait_state (bob, "ended", SIGNAL_MS);
  wait_state (alice, "ended", SIGNAL_MS);
  wait_state (alice, "registered", SIGNAL_MS);

  /* and bob can start again and take the next call */
  g_mutex_lock (&bob->lock);
  bob->next_state = bob->states->len;
  g_mutex_unlock (&bob->lock);
  party_start (bob);
  call_connect (alice, bob);

  parties_free (alice, bob, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* Has the server send @event (JSON) to session @to, as a debug_event
 * asked by a signalingsrc of its own */
static void
tell (WtspTestServer * server, const gchar * to, const gchar * event)
{
  gchar *request = g_strdup_printf ("{\"request\":\"debug_event\",\"to\":"
      "\"%s\",\"event\":%s}", to, event);
  GstElement *sig, *mallory;
  GstStructure *reply;

  mallory = gst_parse_launch ("signalingsrc name=sig token=mallory ! "
      "fakesink sync=false", NULL);
  sig = gst_bin_get_by_name (GST_BIN (mallory), "sig");
  g_object_set (sig, "location", server->url, NULL);
  gst_element_set_state (mallory, GST_STATE_PLAYING);
  gst_message_unref (wtsp_test_wait_element (GST_ELEMENT_BUS (mallory),
          "wtsp-connection", "state", "ready", SIGNAL_MS));
  reply = wtsp_test_request (sig, request, SIGNAL_MS);
  fail_unless_equals_string (gst_structure_get_string (reply, "result"),
      "ack");
  gst_structure_free (reply);
  gst_object_unref (sig);
  gst_element_set_state (mallory, GST_STATE_NULL);
  gst_object_unref (mallory);
  g_free (request);
}

/* A hostile server: events the reference server sends to alice as it is
 * told (debug_event with "to", asked by a signalingsrc of its own), and
 * what the user must see */
typedef struct
{
  const gchar *name;
  gboolean in_call;             /* alice first dials bob, who rings */
  const gchar *event;           /* JSON; CALL_ID is alice's call id */
  gint code;                    /* alice's "ended", 0 = no call state */
  const gchar *reason;
} HostileCase;

static const HostileCase hostile_cases[] = {
  {"offer-sdp-garbage", FALSE, "{\"event\":\"incoming_call\",\"line\":0,"
        "\"call_id\":\"hostile-1\",\"caller\":\"mallory\",\"callee\":\"alice\","
        "\"jsep\":{\"type\":\"offer\",\"sdp\":\"garbage\"}}", 488,
      "could not be parsed"},
  {"offer-is-an-answer", FALSE, "{\"event\":\"incoming_call\",\"line\":0,"
        "\"call_id\":\"hostile-2\",\"caller\":\"mallory\",\"callee\":\"alice\","
        "\"jsep\":{\"type\":\"answer\",\"sdp\":\"v=0\\r\\n\"}}", 488,
      "an answer where an offer was due"},
  {"answer-sdp-garbage", TRUE, "{\"event\":\"accepted\",\"line\":0,"
        "\"call_id\":\"CALL_ID\",\"callee\":\"bob\","
        "\"jsep\":{\"type\":\"answer\",\"sdp\":\"garbage\"}}", 488,
      "no usable SDP"},
  {"answer-is-an-offer", TRUE, "{\"event\":\"accepted\",\"line\":0,"
        "\"call_id\":\"CALL_ID\",\"callee\":\"bob\","
        "\"jsep\":{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}}", 488,
      "where an answer was due"},
  {"hangup-unknown-call", TRUE, "{\"event\":\"hangup\",\"line\":0,"
        "\"call_id\":\"not-this-call\",\"code\":200,\"reason\":\"x\"}", 0,
      NULL},
  {"accepted-other-line", TRUE, "{\"event\":\"accepted\",\"line\":1,"
        "\"call_id\":\"CALL_ID\",\"callee\":\"bob\"}", 0, NULL},
};

GST_START_TEST (test_hostile_server)
{
  const HostileCase *c = &hostile_cases[__i__];
  WtspTestServer *server;
  Party *alice, *bob = NULL;
  gchar *event, **parts, *id = NULL;
  const GstStructure *s;
  guint states;

  test_name = g_strdup_printf ("test_hostile_server:%s", c->name);
  server = server_start ("--debug-requests", NULL);
  alice = party_new (server, "alice", NULL);
  party_start (alice);
  if (c->in_call) {
    bob = party_new (server, "bob", NULL);
    party_start (bob);
    party_dial (alice, "bob");
    wait_state (alice, "ringing", SIGNAL_MS);
  }

  g_object_get (alice->call, "call-id", &id, NULL);
  parts = g_strsplit (c->event, "CALL_ID", -1);
  event = g_strjoinv (id ? id : "", parts);
  g_strfreev (parts);
  g_free (id);
  states = n_states (alice);
  tell (server, "alice", event);

  if (c->code) {
    s = wait_state (alice, "ended", SIGNAL_MS);
    assert_ended (s, c->code, c->reason);
    if (bob) {
      /* the far end hears that the call is off */
      s = wait_state (bob, "ended", SIGNAL_MS);
    }
  } else {
    /* ignored: nothing changes */
    g_usleep (500 * G_TIME_SPAN_MILLISECOND);
    fail_unless (n_states (alice) == states, "%s: the call changed: %s",
        c->name, states_text (alice));
  }
  g_mutex_lock (&alice->lock);
  fail_unless (alice->errors->len == 0, "%s: %s", c->name, (gchar *)
      g_ptr_array_index (alice->errors, 0));
  g_mutex_unlock (&alice->lock);

  if (bob)
    parties_free (alice, bob, NULL);
  else
    parties_free (alice, NULL);
  g_free (event);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* A warning on the bus whose text contains @data */
static gboolean
check_warning (Party * p, gpointer data)
{
  guint i;

  for (i = 0; i < p->warnings->len; i++)
    if (strstr (g_ptr_array_index (p->warnings, i), data))
      return TRUE;
  return FALSE;
}

/* A line the account does not have: a warning that says which lines
 * there are, and no call */
GST_START_TEST (test_line_out_of_range)
{
  WtspTestServer *server;
  Party *alice;

  BEGIN ();
  server = server_start (NULL);
  alice = party_new (server, "alice", "line=5");
  party_start (alice);
  party_dial (alice, "bob");
  if (!wait_for (alice, check_warning, (gpointer) "this account has 2 lines",
          SIGNAL_MS))
    fail_with_states (alice, "no warning about line 5");
  fail_unless_equals_string (call_state (alice), "registered");
  party_free (alice);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* The server's SIP registration fails (a gateway whose registrar says
 * 403): an error naming the code and reason */
GST_START_TEST (test_registration_failed)
{
  WtspTestServer *server;
  Party *alice;

  BEGIN ();
  server = server_start ("--debug-requests", NULL);
  alice = party_new (server, "alice", NULL);
  party_start (alice);
  tell (server, "alice", "{\"event\":\"registration_failed\",\"line\":null,"
      "\"code\":403,\"reason\":\"Forbidden\"}");
  g_mutex_lock (&alice->lock);
  while (alice->errors->len == 0)
    if (!g_cond_wait_until (&alice->cond, &alice->lock,
            g_get_monotonic_time () + SIGNAL_MS * G_TIME_SPAN_MILLISECOND))
      break;
  fail_unless (alice->errors->len > 0, "no error for registration_failed");
  fail_unless (strstr (g_ptr_array_index (alice->errors, 0),
          "SIP registration failed: 403 Forbidden") != NULL, "%s",
      (gchar *) g_ptr_array_index (alice->errors, 0));
  g_mutex_unlock (&alice->lock);
  party_free (alice);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* Outages: the signaling link of one side goes through a proxy that
 * cuts it (no close frame, as a lost network) while the server and the
 * far end stay up */

#define OUTAGE_MS 2000          /* the proxy refuses connections this long */
#define RECOVERY_MS 15000       /* cut to ready again: backoff + handshake */

/* @p's bin takes its signaling through a proxy of @server */
static WtspTestProxy *
party_use_proxy (Party * p, WtspTestServer * server)
{
  WtspTestProxy *proxy = wtsp_test_proxy_new (server);

  g_object_set (p->call, "location", wtsp_test_proxy_get_url (proxy), NULL);
  return proxy;
}

typedef struct
{
  const gchar *state;
  guint from;                   /* element messages before it are old */
  guint found;                  /* its index + 1 */
} ConnectionWait;

static gboolean
check_connection (Party * p, gpointer data)
{
  ConnectionWait *w = data;
  guint i;

  for (i = w->from; i < p->elements->len; i++) {
    const GstStructure *s = g_ptr_array_index (p->elements, i);

    if (gst_structure_has_name (s, "wtsp-connection")
        && g_strcmp0 (gst_structure_get_string (s, "state"), w->state) == 0) {
      w->found = i + 1;
      return TRUE;
    }
  }
  return FALSE;
}

/* Waits for a wtsp-connection @state among the element messages from
 * *@from on; *@from then points after it */
static void
wait_connection (Party * p, const gchar * state, guint * from,
    guint timeout_ms)
{
  ConnectionWait w = { state, *from, 0 };

  if (!wait_for (p, check_connection, &w, timeout_ms)) {
    gchar *what = g_strdup_printf ("no wtsp-connection \"%s\" within %u ms",
        state, timeout_ms);

    fail_with_states (p, what);
    g_free (what);
  }
  *from = w.found;
}

static guint
n_elements (Party * p)
{
  guint n;

  g_mutex_lock (&p->lock);
  n = p->elements->len;
  g_mutex_unlock (&p->lock);
  return n;
}

/* Buffers out of @p's first video output of this call */
static gint
video_buffers (Party * p, guint first)
{
  gint n = 0;
  guint i;

  g_mutex_lock (&p->lock);
  for (i = first; i < p->outputs->len; i++) {
    Output *o = g_ptr_array_index (p->outputs, i);

    if (o->video) {
      n = g_atomic_int_get (&o->buffers);
      break;
    }
  }
  g_mutex_unlock (&p->lock);
  return n;
}

/* The signaling link of a connected call is cut for OUTAGE_MS and comes
 * back: the call is kept (no state posted), the media never stops, the
 * outage shows as wtsp-connection reconnecting then ready, and a hangup
 * afterwards reaches the far end */
GST_START_TEST (test_signaling_cut_mid_call)
{
  WtspTestServer *server;
  WtspTestProxy *proxy;
  Party *bob, *alice;
  const GstStructure *s;
  guint from, states;
  gint64 cut_us, ready_us, last_change_us, gap_us = 0;
  gint last;

  BEGIN ();
  server = server_start (NULL);
  bob = party_new (server, "bob", "auto-answer=true");
  alice = party_new (server, "alice", NULL);
  proxy = party_use_proxy (alice, server);
  party_start (alice);
  party_start (bob);
  call_up (alice, bob);

  from = n_elements (alice);
  states = n_states (alice);
  last = video_buffers (alice, 0);
  cut_us = last_change_us = g_get_monotonic_time ();
  wtsp_test_proxy_cut (proxy, OUTAGE_MS);
  wait_connection (alice, "reconnecting", &from, SIGNAL_MS);

  /* the media goes on, over its own path: the largest gap between two
   * decoded video frames while the link is down */
  for (;;) {
    ConnectionWait w = { "ready", from, 0 };
    gint n = video_buffers (alice, 0);
    gint64 now = g_get_monotonic_time ();

    if (n != last) {
      gap_us = MAX (gap_us, now - last_change_us);
      last = n;
      last_change_us = now;
    }
    if (check_connection (alice, &w))
      break;
    fail_if (now - cut_us > RECOVERY_MS * G_TIME_SPAN_MILLISECOND,
        "alice did not reconnect within %d ms", RECOVERY_MS);
    g_usleep (10 * G_TIME_SPAN_MILLISECOND);
  }
  ready_us = g_get_monotonic_time ();
  gap_us = MAX (gap_us, ready_us - last_change_us);
  g_print ("OUTAGE %s: cut %d ms, ready again after %.0f ms, largest "
      "video gap %.0f ms\n", test_name, OUTAGE_MS,
      (ready_us - cut_us) / 1000.0, gap_us / 1000.0);
  fail_unless (gap_us < 1000 * G_TIME_SPAN_MILLISECOND,
      "the video stopped for %.0f ms during the outage", gap_us / 1000.0);
  fail_unless_equals_string (call_state (alice), "connected");
  /* a short wait: a late "ended" from the reconciliation would show */
  g_usleep (300 * G_TIME_SPAN_MILLISECOND);
  fail_unless (n_states (alice) == states,
      "alice posted call states for the outage: %s", states_text (alice));

  /* and the call still ends normally, at both ends */
  g_signal_emit_by_name (alice->call, "hangup");
  s = wait_state (bob, "ended", SIGNAL_MS);
  assert_ended (s, 200, NULL);
  wait_state (alice, "ended", SIGNAL_MS);

  parties_free (alice, bob, NULL);
  wtsp_test_proxy_free (proxy);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* The server is killed and restarted: it forgets the call, and both ends
 * say so within 10 s of its return */
GST_START_TEST (test_server_restart)
{
  WtspTestServer *server;
  Party *bob, *alice;
  const GstStructure *s;
  gint64 back_us;

  BEGIN ();
  server = server_start (NULL);
  bob = party_new (server, "bob", "auto-answer=true");
  alice = party_new (server, "alice", NULL);
  party_start (alice);
  party_start (bob);
  call_up (alice, bob);

  wtsp_test_server_kill (server);
  g_usleep (500 * G_TIME_SPAN_MILLISECOND);
  wtsp_test_server_restart (server);
  back_us = g_get_monotonic_time ();
  s = wait_state (alice, "ended", 10000);
  assert_ended (s, 481, "no longer knows this call");
  s = wait_state (bob, "ended", 10000);
  assert_ended (s, 481, "no longer knows this call");
  g_print ("RESTART %s: both ended %.0f ms after the server came back\n",
      test_name, (g_get_monotonic_time () - back_us) / 1000.0);

  /* and a new call works */
  wait_state (alice, "registered", SIGNAL_MS);
  wait_state (bob, "registered", SIGNAL_MS);
  g_mutex_lock (&alice->lock);
  alice->next_state = alice->states->len;
  g_mutex_unlock (&alice->lock);
  g_mutex_lock (&bob->lock);
  bob->next_state = bob->states->len;
  g_mutex_unlock (&bob->lock);
  call_connect (alice, bob);

  parties_free (alice, bob, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* A hangup while the link is down ends the call at once; the far end
 * hears of it when the link is back (0), or, when the far end hung up
 * meanwhile (1), the call log of the new state tells how it ended */
GST_START_TEST (test_hangup_during_outage)
{
  WtspTestServer *server;
  WtspTestProxy *proxy;
  Party *bob, *alice;
  const GstStructure *s;
  guint from;
  gint64 asked_us;

  BEGIN ();
  server = server_start (NULL);
  bob = party_new (server, "bob", "auto-answer=true");
  alice = party_new (server, "alice", NULL);
  proxy = party_use_proxy (alice, server);
  party_start (alice);
  party_start (bob);
  call_up (alice, bob);

  from = n_elements (alice);
  wtsp_test_proxy_cut (proxy, OUTAGE_MS);
  wait_connection (alice, "reconnecting", &from, SIGNAL_MS);
  if (__i__ == 0) {
    asked_us = g_get_monotonic_time ();
    g_signal_emit_by_name (alice->call, "hangup");
    s = wait_state (alice, "ended", 1000);
    g_print ("OUTAGE %s: hangup during the outage ended the call in "
        "%.0f ms\n", test_name, (g_get_monotonic_time () - asked_us) / 1000.0);
    assert_ended (s, 200, "link was down");
    fail_unless_equals_string (call_state (bob), "connected");
    wait_connection (alice, "ready", &from, RECOVERY_MS);
    s = wait_state (bob, "ended", SIGNAL_MS);
    assert_ended (s, 200, NULL);
  } else {
    g_signal_emit_by_name (bob->call, "hangup");
    s = wait_state (bob, "ended", SIGNAL_MS);
    wait_connection (alice, "ready", &from, RECOVERY_MS);
    s = wait_state (alice, "ended", SIGNAL_MS);
    /* the code and reason of the hangup the server logged */
    assert_ended (s, 200, NULL);
    fail_if (strstr (gst_structure_get_string (s, "reason"),
            "no longer knows") != NULL,
        "alice's call ended as unknown, not as the log says: %s",
        gst_structure_get_string (s, "reason"));
  }
  wait_state (alice, "registered", SIGNAL_MS);
  wait_state (bob, "registered", SIGNAL_MS);

  parties_free (alice, bob, NULL);
  wtsp_test_proxy_free (proxy);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* A hold asked for while the link is down waits for the link, across
 * the reconnect attempts that fail while the proxy refuses (reconnects
 * every 100-800 ms, so several fail in OUTAGE_MS): it is sent after the
 * handshake and the server's "holding" arrives (0); one that waits
 * longer than its transaction-timeout fails with a warning saying it was
 * never sent, and the call goes on (1) */
GST_START_TEST (test_hold_during_outage)
{
  WtspTestServer *server;
  WtspTestProxy *proxy;
  Party *bob, *alice;
  const GstStructure *s;
  guint from;

  BEGIN ();
  server = server_start (NULL);
  bob = party_new (server, "bob", "auto-answer=true");
  alice = party_new (server, "alice", __i__ == 0 ?
      "reconnect-delay-min=100 reconnect-delay-max=800" :
      "reconnect-delay-min=100 reconnect-delay-max=800 "
      "transaction-timeout=1000");
  proxy = party_use_proxy (alice, server);
  party_start (alice);
  party_start (bob);
  call_up (alice, bob);

  from = n_elements (alice);
  wtsp_test_proxy_cut (proxy, OUTAGE_MS);
  wait_connection (alice, "reconnecting", &from, SIGNAL_MS);
  g_signal_emit_by_name (alice->call, "hold");
  if (!wait_for (alice, check_warning, (gpointer) "(attempt 2)", SIGNAL_MS))
    fail_with_states (alice, "no failed reconnect attempt during the outage");
  wait_connection (alice, "ready", &from, RECOVERY_MS);

  if (__i__ == 0) {
    wait_state (alice, "holding", SIGNAL_MS);
    fail_if (check_warning (alice, (gpointer) "hold request failed"),
        "the hold failed: %s", states_text (alice));
    g_signal_emit_by_name (alice->call, "unhold");
    wait_state (alice, "connected", SIGNAL_MS);
  } else {
    if (!wait_for (alice, check_warning, (gpointer) "hold request failed "
            "(timeout: hold (transaction-", SIGNAL_MS))
      fail_with_states (alice, "no warning about the hold that timed out");
    fail_unless (check_warning (alice, (gpointer) "was never sent: the "
            "signaling link was down"), "the warning does not say why");
    fail_unless_equals_string (call_state (alice), "connected");
  }

  g_signal_emit_by_name (alice->call, "hangup");
  s = wait_state (bob, "ended", SIGNAL_MS);
  assert_ended (s, 200, NULL);
  s = wait_state (alice, "ended", SIGNAL_MS);
  assert_ended (s, 200, NULL);

  parties_free (alice, bob, NULL);
  wtsp_test_proxy_free (proxy);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* The far end's media stops: its sources are cut off in front of its
 * bin (a probe drops every buffer into bob's sink pads), while the call
 * and the signaling go on */

static GstPadProbeReturn
drop_while_silent (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  return g_atomic_int_get ((gint *) data) ? GST_PAD_PROBE_DROP :
      GST_PAD_PROBE_OK;
}

static void
silence_inputs (Party * p, gint * flag)
{
  GstIterator *it = gst_element_iterate_sink_pads (p->call);
  GValue v = G_VALUE_INIT;

  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    gst_pad_add_probe (g_value_get_object (&v), GST_PAD_PROBE_TYPE_BUFFER,
        drop_while_silent, flag, NULL);
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
}

typedef struct
{
  gboolean receiving;
  const gchar *kind;
  guint from;
  const GstStructure *found;
} MediaMsgWait;

static gboolean
check_media_msg (Party * p, gpointer data)
{
  MediaMsgWait *w = data;
  guint i;

  for (i = w->from; i < p->elements->len; i++) {
    const GstStructure *s = g_ptr_array_index (p->elements, i);
    gboolean receiving;

    if (gst_structure_has_name (s, "webrtccall-media")
        && gst_structure_get_boolean (s, "receiving", &receiving)
        && receiving == w->receiving
        && g_strcmp0 (gst_structure_get_string (s, "kind"), w->kind) == 0) {
      w->found = s;
      return TRUE;
    }
  }
  return FALSE;
}

static const GstStructure *
wait_media_msg (Party * p, gboolean receiving, const gchar * kind,
    guint from, guint timeout_ms)
{
  MediaMsgWait w = { receiving, kind, from, NULL };

  if (!wait_for (p, check_media_msg, &w, timeout_ms)) {
    gchar *what = g_strdup_printf ("no webrtccall-media receiving=%d "
        "kind=%s within %u ms", receiving, kind, timeout_ms);

    fail_with_states (p, what);
    g_free (what);
  }
  return w.found;
}

/* 0: bob's media stops for 3 s and comes back: receiving=false after
 * about 2 s, receiving=true when it is back, the call goes on.
 * 1: it never comes back: alice (media-timeout=4000) hangs up, ended 408
 * at about 4 s, and bob hears of it through the server. */
GST_START_TEST (test_far_end_silent)
{
  WtspTestServer *server;
  Party *bob, *alice;
  const GstStructure *s;
  gint silent = 0;
  guint from, states;
  guint64 since = 0;
  gint64 start_us;

  BEGIN ();
  server = server_start (NULL);
  bob = party_new (server, "bob", "auto-answer=true");
  alice = party_new (server, "alice", __i__ == 0 ? "media-timeout=8000" :
      "media-timeout=4000");
  silence_inputs (bob, &silent);
  party_start (alice);
  party_start (bob);
  call_up (alice, bob);

  from = n_elements (alice);
  states = n_states (alice);
  g_atomic_int_set (&silent, 1);
  start_us = g_get_monotonic_time ();
  s = wait_media_msg (alice, FALSE, "video", from, 4000);
  g_print ("SILENT %s: receiving=false (video) %.0f ms after the far end "
      "stopped\n", test_name, (g_get_monotonic_time () - start_us) / 1000.0);
  fail_unless (gst_structure_get_uint64 (s, "since-ms", &since)
      && since >= 2000 && since < 4000, "since-ms %" G_GUINT64_FORMAT, since);
  wait_media_msg (alice, FALSE, "audio", from, 2000);
  fail_unless_equals_string (call_state (alice), "connected");

  if (__i__ == 0) {
    g_usleep (1000 * G_TIME_SPAN_MILLISECOND);
    g_atomic_int_set (&silent, 0);
    wait_media_msg (alice, TRUE, "video", from, SIGNAL_MS);
    wait_media_msg (alice, TRUE, "audio", from, SIGNAL_MS);
    fail_unless (n_states (alice) == states, "alice's call changed: %s",
        states_text (alice));
    parties_free (alice, bob, NULL);
  } else {
    s = wait_state (alice, "ended", 4000);
    g_print ("SILENT %s: ended %.0f ms after the far end stopped\n",
        test_name, (g_get_monotonic_time () - start_us) / 1000.0);
    assert_ended (s, 408, "no media from the far end for 4000 ms");
    s = wait_state (bob, "ended", SIGNAL_MS);
    assert_ended (s, 200, NULL);
    parties_free (alice, bob, NULL);
  }
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* State changes while a call comes up: alice dials, and bob (who
 * answers by himself) goes PLAYING -> PAUSED -> PLAYING -> READY ->
 * PAUSED -> PLAYING, one change every (round % 7) ms, so that they meet
 * the call at different points (ringing, negotiating, connected). No
 * change may hang or fail, nothing may post an error, and both ends must
 * be idle afterwards and able to make the next call. */
GST_START_TEST (test_state_cycles)
{
  static const GstState cycle[] = { GST_STATE_PAUSED, GST_STATE_PLAYING,
    GST_STATE_READY, GST_STATE_PAUSED, GST_STATE_PLAYING
  };
  WtspTestServer *server;
  Party *bob, *alice;
  guint i;

  BEGIN ();
  server = server_start (NULL);
  bob = party_new (server, "bob", "auto-answer=true");
  alice = party_new (server, "alice", NULL);
  party_start (alice);
  party_start (bob);

  party_dial (alice, "bob");
  g_usleep ((__i__ % 5) * 10 * G_TIME_SPAN_MILLISECOND);
  for (i = 0; i < G_N_ELEMENTS (cycle); i++) {
    GstStateChangeReturn ret = set_state_bounded (bob, cycle[i]);

    fail_if (ret == GST_STATE_CHANGE_FAILURE, "bob could not go to %s",
        gst_element_state_get_name (cycle[i]));
    g_usleep ((__i__ % 7) * G_TIME_SPAN_MILLISECOND);
  }
  fail_unless (gst_element_get_state (bob->pipeline, NULL, NULL,
          STATE_MS * GST_MSECOND) == GST_STATE_CHANGE_SUCCESS,
      "bob did not reach PLAYING");

  /* the call ended (bob went to READY) or is up: either way it ends */
  if (!wait_for (alice, check_idle, NULL, 0))
    g_signal_emit_by_name (alice->call, "hangup");
  if (!wait_for (alice, check_idle, NULL, SIGNAL_MS))
    fail_with_states (alice, "alice is still in a call");
  /* what the server relays to bob about that call (an incoming, its
   * end) may still be on its way: let it arrive before bob is judged */
  g_usleep (500 * G_TIME_SPAN_MILLISECOND);
  if (!wait_for (bob, check_idle, NULL, SIGNAL_MS))
    fail_with_states (bob, "bob is still in a call");
  g_mutex_lock (&alice->lock);
  fail_unless (alice->errors->len == 0, "alice: %s", (gchar *)
      g_ptr_array_index (alice->errors, 0));
  alice->next_state = alice->states->len;
  g_mutex_unlock (&alice->lock);
  g_mutex_lock (&bob->lock);
  fail_unless (bob->errors->len == 0, "bob: %s", (gchar *)
      g_ptr_array_index (bob->errors, 0));
  bob->next_state = bob->states->len;
  g_mutex_unlock (&bob->lock);

  /* and the next call works */
  call_connect (alice, bob);
  parties_free (alice, bob, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* A first connection that fails: the server is unreachable (even
 * rounds), or a TCP peer drops before the WebSocket handshake (odd
 * rounds). gst-launch-1.0 must end with an error that says so, not with
 * a crash at exit (a DTLS warm-up racing the process's exit crashed it)
 * and not with criticals on the way. */
#define FAILED_CONNECTION_MS 30000
#define SECRET_TOKEN "not-for-the-logs-7f3a"

GST_START_TEST (test_failed_first_connection)
{
  DropServer *drop = NULL;
  GSubprocess *proc;
  gboolean timed_out;
  gchar *location, *location_arg, *token_file, *token_arg, *output, *line;
  gchar *dir;
  const gchar *argv[12];
  GError *error = NULL;
  guint n = 0;

  BEGIN ();
  fail_unless (g_getenv ("GST_PLUGIN_PATH_1_0") || g_getenv
      ("GST_PLUGIN_PATH"), "no plugin path: run the test with meson test");
  if (__i__ % 2 == 0) {
    location = g_strdup ("ws://127.0.0.1:1/signaling/v1");
  } else {
    drop = drop_server_new ();
    location = g_strdup_printf ("ws://127.0.0.1:%u/signaling/v1", drop->port);
  }
  dir = g_dir_make_tmp ("test-webrtccall-XXXXXX", &error);
  fail_unless (dir != NULL, "%s", error ? error->message : "?");
  token_file = g_build_filename (dir, "token", NULL);
  fail_unless (g_file_set_contents (token_file, SECRET_TOKEN, -1, NULL));
  token_arg = g_strdup_printf ("token-file=%s", token_file);

  location_arg = g_strdup_printf ("location=%s", location);

  argv[n++] = "gst-launch-1.0";
  argv[n++] = "webrtccall";
  argv[n++] = "name=call";
  argv[n++] = location_arg;
  argv[n++] = token_arg;
  argv[n++] = "videotestsrc";
  argv[n++] = "is-live=true";
  argv[n++] = "!";
  argv[n++] = "call.video_sink";
  argv[n++] = NULL;
  fail_unless (n <= G_N_ELEMENTS (argv));
  output = run_child (argv, FAILED_CONNECTION_MS, &proc, &timed_out);

  fail_if (timed_out, "gst-launch-1.0 against %s did not exit within "
      G_STRINGIFY (FAILED_CONNECTION_MS) " ms:\n%s", location, output);
  fail_if (g_subprocess_get_if_signaled (proc),
      "gst-launch-1.0 against %s was killed by signal %d (%s):\n%s",
      location, g_subprocess_get_term_sig (proc),
      g_strsignal (g_subprocess_get_term_sig (proc)), output);
  fail_unless (g_subprocess_get_if_exited (proc)
      && g_subprocess_get_exit_status (proc) != 0,
      "gst-launch-1.0 against %s exited with 0:\n%s", location, output);
  line = error_line (output);
  fail_unless (line != NULL, "no ERROR from gst-launch-1.0 against %s:\n%s",
      location, output);
  fail_unless (names_connection (line), "the error does not name the "
      "connection problem: %s", line);
  fail_if (strstr (output, "should not be reached") != NULL,
      "against %s:\n%s", location, output);
  fail_if (strstr (output, "CRITICAL") != NULL, "against %s:\n%s", location,
      output);
  fail_if (strstr (output, SECRET_TOKEN) != NULL,
      "the token is in the output of gst-launch-1.0");
  if (drop)
    fail_unless (g_atomic_int_get (&drop->accepted) > 0,
        "gst-launch-1.0 never reached the dropping peer");

  g_free (line);
  g_free (output);
  g_object_unref (proc);
  g_unlink (token_file);
  g_rmdir (dir);
  g_free (dir);
  g_free (token_file);
  g_free (token_arg);
  g_free (location_arg);
  g_free (location);
  if (drop)
    drop_server_free (drop);
}

GST_END_TEST;

/* The same in an application: the pipeline goes to NULL right after the
 * error and is unreffed, and the process exits (a crash there fails the
 * case as a signal). 0 = unreachable, 1 = dropped before the handshake */
GST_START_TEST (test_failed_first_connection_in_process)
{
  DropServer *drop = NULL;
  GstElement *pipeline, *call;
  GstMessage *msg;
  GstBus *bus;
  GError *error = NULL;
  gchar *desc, *debug = NULL, *lower;

  BEGIN ();
  if (__i__ == 1)
    drop = drop_server_new ();
  desc = g_strdup_printf ("webrtccall name=call location=ws://127.0.0.1:%u"
      "/signaling/v1 videotestsrc is-live=true ! call.video_sink",
      drop ? drop->port : 1);
  pipeline = gst_parse_launch (desc, &error);
  fail_unless (pipeline != NULL, "%s: %s", desc, error ? error->message : "?");
  g_free (desc);
  call = gst_bin_get_by_name (GST_BIN (pipeline), "call");
  g_object_set (call, "token", SECRET_TOKEN, NULL);
  gst_object_unref (call);
  bus = gst_element_get_bus (pipeline);

  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, FAILED_CONNECTION_MS * GST_MSECOND,
      GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error within " G_STRINGIFY
      (FAILED_CONNECTION_MS) " ms");
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);

  gst_message_parse_error (msg, &error, &debug);
  lower = g_ascii_strdown (error->message, -1);
  fail_unless (names_connection (lower), "the error does not name the "
      "connection problem: %s", error->message);
  fail_if (strstr (error->message, SECRET_TOKEN) || (debug
          && strstr (debug, SECRET_TOKEN)), "the token is in the error");
  g_free (lower);
  g_free (debug);
  g_clear_error (&error);
  gst_message_unref (msg);
  gst_object_unref (bus);
  if (drop)
    drop_server_free (drop);
}

GST_END_TEST;

/* 183 with the answer, then 200 OK */
GST_START_TEST (test_early_media)
{
  WtspTestServer *server;
  Party *bob, *alice;
  gint progress, accepted, connected;

  BEGIN ();
  server = server_start ("--early-media", NULL);
  bob = party_new (server, "bob", "auto-answer=true");
  alice = party_new (server, "alice", NULL);
  party_start (bob);
  party_start (alice);
  call_up (alice, bob);

  progress = state_index (alice, "progress", 0);
  accepted = state_index (alice, "accepted", 0);
  connected = state_index (alice, "connected", 0);
  fail_unless (progress >= 0, "no progress");
  fail_unless (accepted > progress, "accepted (%d) not after progress (%d)",
      accepted, progress);
  fail_unless (connected > accepted);

  assert_no_problems (alice);
  assert_no_problems (bob);
  assert_stats (alice);
  assert_stats (bob);
  assert_no_problems (bob);
  parties_free (alice, bob, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* An INVITE without SDP: the callee offers, the caller answers */
GST_START_TEST (test_offerless)
{
  WtspTestServer *server;
  Party *bob, *alice;

  BEGIN ();
  server = server_start ("--offerless", NULL);
  bob = party_new (server, "bob", "auto-answer=true");
  alice = party_new (server, "alice", NULL);
  party_start (bob);
  party_start (alice);
  call_up (alice, bob);

  assert_no_problems (alice);
  assert_no_problems (bob);
  parties_free (alice, bob, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* The caller never links its src pads (gst-launch-1.0 ... number=bob
 * videotestsrc ! call.video_sink: no call.video_src_0 link). The call
 * must go on: what arrives on those pads is dropped inside the bin, with
 * one warning per pad that names it, and no error. */
#define UNLINKED_CALL_MS 3000

GST_START_TEST (test_unlinked_src_pad)
{
  WtspTestServer *server;
  Party *bob, *alice;
  const GstStructure *s;
  MediaWait more = { 0, 0, 0 };
  Output *video;
  gboolean one_each;
  guint i, j, n;

  BEGIN ();
  server = server_start (NULL);
  bob = party_new (server, "bob", "auto-answer=true");
  alice = party_new_full (server, "alice", "alice", PARTY_NO_LINKS, NULL);
  party_start (bob);
  party_start (alice);
  call_connect (alice, bob);
  more.video = MIN_VIDEO;
  more.audio = MIN_AUDIO;
  if (!wait_for (bob, check_media, &more, MEDIA_MS)) {
    /* say why, if alice's bin gave up */
    assert_no_problems (alice);
    fail_with_states (bob, "not enough media from alice within "
        G_STRINGIFY (MEDIA_MS) " ms of connected");
  }

  /* past the point where an unlinked pad used to stop the call (a
   * not-linked error 0.5 s after connected) */
  g_usleep (UNLINKED_CALL_MS * G_TIME_SPAN_MILLISECOND);
  g_mutex_lock (&alice->lock);
  n = alice->errors->len;
  g_mutex_unlock (&alice->lock);
  if (n > 0)
    fail_with_states (alice, "an error on the bus: unlinked src pads must "
        "not stop the call");
  fail_unless_equals_string (call_state (alice), "connected");
  fail_unless_equals_string (call_state (bob), "connected");
  video = find_output (bob, 0, "video_src_0");
  more.video = g_atomic_int_get (&video->buffers) + 15;
  if (!wait_for (bob, check_media, &more, MEDIA_MS))
    fail_with_states (bob, "alice's video stopped");

  /* alice: one warning naming each pad, nothing else */
  g_mutex_lock (&alice->lock);
  n = alice->outputs->len;
  one_each = n >= 2 && alice->errors->len == 0 && alice->warnings->len == n;
  for (i = 0; i < n; i++) {
    Output *o = g_ptr_array_index (alice->outputs, i);
    guint naming = 0;

    for (j = 0; j < alice->warnings->len; j++)
      if (strstr (g_ptr_array_index (alice->warnings, j), o->name))
        naming++;
    one_each = one_each && naming == 1;
  }
  g_mutex_unlock (&alice->lock);
  if (n < 2)
    fail_with_states (alice, "bob's video and audio never got a src pad");
  if (!one_each)
    fail_with_states (alice, "not exactly one warning per unlinked pad "
        "(naming it), or an error");

  g_signal_emit_by_name (alice->call, "hangup");
  s = wait_state (alice, "ended", SIGNAL_MS);
  assert_ended (s, 200, "BYE");
  s = wait_state (bob, "ended", SIGNAL_MS);
  assert_ended (s, 200, NULL);

  assert_no_problems (bob);
  parties_free (alice, bob, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* `ended` is on the bus before the EOS the end of the call causes: an
 * application that quits on EOS still has the end code.
 * 0 = a hangup, 1 = a 404 (unknown number), 2 = a 486 (the callee
 * declines with it). 1 and 2 need no media. */
static void
assert_ended_before_eos (Party * p, const GstStructure * ended)
{
  wait_pipeline_eos (p, SIGNAL_MS);
  if (message_seq (ended) > p->eos_seq)
    fail_with_states (p, "the pipeline's EOS came before \"ended\"");
}

GST_START_TEST (test_ended_before_eos)
{
  WtspTestServer *server;
  Party *bob = NULL, *alice;
  const GstStructure *s;
  gint calling, ended;

  BEGIN ();
  server = server_start (NULL);
  alice = party_new (server, "alice", NULL);
  party_start (alice);

  switch (__i__) {
    case 0:
      bob = party_new (server, "bob", "auto-answer=true");
      party_start (bob);
      call_up (alice, bob);
      g_signal_emit_by_name (alice->call, "hangup");
      s = wait_state (alice, "ended", SIGNAL_MS);
      assert_ended (s, 200, NULL);
      assert_ended_before_eos (alice, s);
      s = wait_state (bob, "ended", SIGNAL_MS);
      assert_ended (s, 200, NULL);
      assert_ended_before_eos (bob, s);
      break;
    case 1:
      party_dial (alice, "nobody");
      wait_state (alice, "calling", SIGNAL_MS);
      s = wait_state (alice, "ended", SIGNAL_MS);
      assert_ended (s, 404, NULL);
      assert_ended_before_eos (alice, s);
      break;
    case 2:
      bob = party_new (server, "bob", "auto-answer=false");
      party_start (bob);
      party_dial (alice, "bob");
      wait_state (bob, "incoming", SIGNAL_MS);
      g_signal_emit_by_name (bob->call, "decline", 486);
      s = wait_state (alice, "ended", SIGNAL_MS);
      assert_ended (s, 486, NULL);
      assert_ended_before_eos (alice, s);
      /* as gst-launch-1.0 -m shows it: calling ... ended, then EOS */
      calling = state_index (alice, "calling", 0);
      ended = state_index (alice, "ended", 0);
      fail_unless (calling >= 0 && ended > calling,
          "calling (%d) not before ended (%d)", calling, ended);
      break;
    default:
      g_assert_not_reached ();
  }

  assert_no_problems (alice);
  if (bob) {
    assert_no_problems (bob);
    parties_free (alice, bob, NULL);
  } else {
    parties_free (alice, NULL);
  }
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* gst-launch-1.0 -e with "call.video_src_0 ! queue ! fakesink" links,
 * and a far end that never sends media: the src pads never appeared, yet
 * after EOS (Ctrl-C) the pipeline must post EOS. The bin gives the
 * negotiated outputs that never got a pad their pad at the end of the
 * call, with EOS, so those delayed links and sinks finish too. The far
 * end negotiates sendrecv (it has inputs) but its sources never produce. */
GST_START_TEST (test_eos_without_media)
{
  WtspTestServer *server;
  Party *bob, *alice;

  BEGIN ();
  server = server_start (NULL);
  bob = party_new_full (server, "bob", "bob", PARTY_SILENT_INPUTS,
      "auto-answer=true");
  alice = party_new_full (server, "alice", "alice", PARTY_NAMED_LINKS, NULL);
  party_start (bob);
  party_start (alice);
  party_dial (alice, "bob");
  wait_state (alice, "accepted", CONNECT_MS);
  wait_state (bob, "accepted", CONNECT_MS);
  wait_media (bob, 0);
  /* a moment of media one way only */
  g_usleep (500 * G_TIME_SPAN_MILLISECOND);
  fail_unless_equals_int (n_outputs (alice), 0);

  /* as gst-launch-1.0 -e does on Ctrl-C */
  gst_element_send_event (alice->pipeline, gst_event_new_eos ());
  wait_state (alice, "ended", SIGNAL_MS);
  wait_pipeline_eos (alice, SIGNAL_MS);

  parties_free (alice, bob, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* Where a case runs: every case runs in the netns suite; SIGNALING ones
 * (no ICE, no media) also in the signaling-only one, on loopback */
typedef enum
{
  NETNS = 1 << 0,
  SIGNALING = 1 << 1,
} Where;

#define ADD_TEST(tc, fn, where) add_case (tc, fn, #fn, 0, 1, where)
#define ADD_LOOP(tc, fn, s, e, where) add_case (tc, fn, #fn, s, e, where)

/* DTMF (RFC 4733) both ways, in an Opus and in a G.711 call: every key
 * pressed on one side is one webrtccall-dtmf message on the other, in
 * order; tones that are not DTMF keys are refused with a warning */
static const gchar *const dtmf_codecs[] = { "OPUS", "PCMU" };

/* The tones of the webrtccall-dtmf messages from @from, in order; with
 * @p's lock. @bad: (out) (optional): the first with a wrong duration */
static gchar *
dtmf_received_locked (Party * p, guint from, const GstStructure ** bad)
{
  GString *tones = g_string_new (NULL);
  guint i;

  for (i = from; i < p->elements->len; i++) {
    const GstStructure *s = g_ptr_array_index (p->elements, i);
    guint duration = 0;

    if (!gst_structure_has_name (s, "webrtccall-dtmf"))
      continue;
    g_string_append (tones, gst_structure_get_string (s, "tone"));
    /* rtpdtmfsrc's shortest event is 250 ms */
    if (bad && *bad == NULL && (!gst_structure_get_uint (s, "duration",
                &duration) || duration < 100 || duration > 1000
            || gst_structure_get_string (s, "call-id") == NULL))
      *bad = s;
  }
  return g_string_free (tones, FALSE);
}

typedef struct
{
  guint from;
  const gchar *want;
} DtmfWait;

static gboolean
check_dtmf (Party * p, gpointer data)
{
  DtmfWait *w = data;
  gchar *got = dtmf_received_locked (p, w->from, NULL);
  gboolean done = strlen (got) >= strlen (w->want);

  g_free (got);
  return done;
}

/* The rtpdtmfsrc elements of @p's call running (not in NULL) */
static guint
dtmf_sources_running (Party * p)
{
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (p->call));
  GValue item = G_VALUE_INIT;
  guint n = 0;

  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&item);
    GstState state = GST_STATE_VOID_PENDING;

    if (g_str_equal (GST_OBJECT_NAME (e), "dtmfsrc")) {
      gst_element_get_state (e, &state, NULL, 0);
      n += state != GST_STATE_NULL;
    }
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return n;
}

/* rtpdtmfsrc (a live source: a thread of its own) runs only while tones
 * play: back in NULL within 5 s of the last one */
static void
assert_dtmf_idle (Party * a, Party * b, const gchar * when)
{
  gint64 end = g_get_monotonic_time () + 5 * G_TIME_SPAN_SECOND;

  while (dtmf_sources_running (a) + dtmf_sources_running (b) > 0
      && g_get_monotonic_time () < end)
    g_usleep (50 * G_TIME_SPAN_MILLISECOND);
  fail_unless_equals_int (dtmf_sources_running (a), 0);
  fail_unless_equals_int (dtmf_sources_running (b), 0);
  g_print ("DTMF %s: no rtpdtmfsrc running %s\n", test_name, when);
}

static void
assert_dtmf (Party * from, Party * to, const gchar * tones)
{
  gchar **parts = g_strsplit (tones, ",", -1);
  /* the pauses are no keys */
  gchar *keys = g_strjoinv ("", parts);
  DtmfWait w = { n_elements (to), keys };
  gboolean sent = FALSE;
  gint64 start = g_get_monotonic_time ();
  const GstStructure *bad = NULL;
  gchar *got, *bad_text = NULL;

  g_strfreev (parts);

  g_signal_emit_by_name (from->call, "send-dtmf", tones, &sent);
  fail_unless (sent, "%s: send-dtmf \"%s\" refused", from->name, tones);

  wait_for (to, check_dtmf, &w, SIGNAL_MS + strlen (tones) * 500);
  g_mutex_lock (&to->lock);
  got = dtmf_received_locked (to, w.from, &bad);
  if (bad)
    bad_text = gst_structure_to_string (bad);
  g_mutex_unlock (&to->lock);
  fail_if (bad_text, "%s: %s", to->name, bad_text);

  g_print ("DTMF %s %s -> %s: sent \"%s\", received \"%s\" in %.0f ms\n",
      test_name, from->name, to->name, tones, got,
      (g_get_monotonic_time () - start) / 1000.0);
  fail_unless_equals_string (got, keys);
  g_free (got);
  g_free (keys);
}

GST_START_TEST (test_dtmf)
{
  WtspTestServer *server;
  Party *bob, *alice;
  gchar *props;
  gboolean sent = TRUE;

  BEGIN ();
  server = server_start (NULL);
  props = g_strdup_printf ("audio-codecs=%s", dtmf_codecs[__i__]);
  bob = party_new (server, "bob", props);
  g_free (props);
  g_object_set (bob->call, "auto-answer", TRUE, NULL);
  alice = party_new (server, "alice", NULL);
  party_start (alice);
  party_start (bob);
  call_up (alice, bob);
  assert_dtmf_idle (alice, bob, "before the tones");

  assert_dtmf (alice, bob, "159*#0");
  assert_dtmf (bob, alice, "AD7");
  /* a pause, and a second send-dtmf queued behind the first */
  assert_dtmf (alice, bob, "2,3");
  assert_dtmf_idle (alice, bob, "after the tones");

  g_signal_emit_by_name (alice->call, "send-dtmf", "12x4", &sent);
  fail_if (sent, "send-dtmf took a tone that is no DTMF key");
  if (!wait_for (alice, check_warning, (gpointer) "'x' in \"12x4\" is not a "
          "DTMF key", SIGNAL_MS))
    fail_with_states (alice, "no warning naming the bad tone");

  hangup_both (alice, bob);
  parties_free (alice, bob, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* A call that ends while its tones play: round N ends it (N % 10) * 40 ms
 * after send-dtmf, from before rtpdtmfsrc has started to mid-tone, by a
 * hangup (even rounds) or by stopping alice's pipeline (odd). The call
 * ends on both sides, no element is disposed running (a critical fails
 * the test), and the next call's tone arrives. */
GST_START_TEST (test_end_during_dtmf)
{
  WtspTestServer *server;
  Party *bob, *alice;
  gboolean sent = FALSE;

  BEGIN ();
  server = server_start (NULL);
  bob = party_new (server, "bob", "auto-answer=true");
  alice = party_new (server, "alice", NULL);
  party_start (alice);
  party_start (bob);
  call_up (alice, bob);

  g_signal_emit_by_name (alice->call, "send-dtmf", "1234", &sent);
  fail_unless (sent, "send-dtmf refused");
  g_usleep ((__i__ % 10) * 40 * G_TIME_SPAN_MILLISECOND);
  if (__i__ % 2 == 0) {
    g_signal_emit_by_name (alice->call, "hangup");
    wait_state (alice, "ended", SIGNAL_MS);
    wait_state (alice, "registered", SIGNAL_MS);
  } else {
    fail_unless (set_state_bounded (alice, GST_STATE_NULL) ==
        GST_STATE_CHANGE_SUCCESS, "alice did not stop");
    g_mutex_lock (&alice->lock);
    alice->next_state = alice->states->len;
    g_mutex_unlock (&alice->lock);
    party_start (alice);
  }
  wait_state (bob, "ended", SIGNAL_MS);
  assert_dtmf_idle (alice, bob, "once the call ended");

  call_up (alice, bob);
  assert_dtmf (alice, bob, "5");
  assert_dtmf_idle (alice, bob, "after the next call's tone");

  hangup_both (alice, bob);
  parties_free (alice, bob, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* Hold and resume: while alice holds the call nobody's media reaches the
 * other (0: hold-direction sendonly, bob answers recvonly) or only bob's
 * reaches alice (1: recvonly); bob sees "held" in case 0; after unhold
 * both hear each other again */
static gint
output_buffers (Party * p, const gchar * prefix)
{
  return g_atomic_int_get (&find_output (p, 0, prefix)->buffers);
}

/* Buffers on @p's audio output within 1 s, after 500 ms to settle (the
 * jitterbuffer drains) */
static gint
audio_in_a_second (Party * p)
{
  gint before;

  g_usleep (500 * G_TIME_SPAN_MILLISECOND);
  before = output_buffers (p, "audio_src_0");
  g_usleep (G_TIME_SPAN_SECOND);
  return output_buffers (p, "audio_src_0") - before;
}

GST_START_TEST (test_hold)
{
  WtspTestServer *server;
  Party *bob, *alice;
  gint to_bob, to_alice;

  BEGIN ();
  server = server_start (NULL);
  bob = party_new (server, "bob", "auto-answer=true");
  alice = party_new (server, "alice", __i__ == 0 ? NULL :
      "hold-direction=recvonly");
  party_start (alice);
  party_start (bob);
  call_up (alice, bob);

  g_signal_emit_by_name (alice->call, "hold");
  wait_state (alice, "holding", SIGNAL_MS);
  if (__i__ == 0)
    wait_state (bob, "held", SIGNAL_MS);
  to_bob = audio_in_a_second (bob);
  to_alice = audio_in_a_second (alice);
  g_print ("HOLD %s: audio buffers in 1 s while held: to bob %d, to alice "
      "%d\n", test_name, to_bob, to_alice);
  fail_unless_equals_int (to_bob, 0);
  if (__i__ == 0) {
    fail_unless_equals_int (to_alice, 0);
  } else {
    fail_unless (to_alice > 25, "bob's audio stopped although alice holds "
        "recvonly: %d buffers in 1 s", to_alice);
  }
  fail_unless_equals_string (call_state (alice), "holding");

  g_signal_emit_by_name (alice->call, "unhold");
  wait_state (alice, "connected", SIGNAL_MS);
  if (__i__ == 0)
    wait_state (bob, "connected", SIGNAL_MS);
  to_bob = audio_in_a_second (bob);
  to_alice = audio_in_a_second (alice);
  g_print ("HOLD %s: after unhold: to bob %d, to alice %d\n", test_name,
      to_bob, to_alice);
  fail_unless (to_bob > 25 && to_alice > 25, "media did not come back: %d "
      "and %d buffers in 1 s", to_bob, to_alice);
  assert_no_problems (alice);
  assert_no_problems (bob);

  hangup_both (alice, bob);
  parties_free (alice, bob, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* Call quality: webrtccall-stats every stats-interval ms from webrtcbin's
 * get-stats (bitrates, loss, jitter, round trip, candidate types), the
 * same in the stats property, one JSON line each in stats-file, and
 * pipelines/call-report.py makes a PNG of them */
static guint
count_stats_messages (Party * p, const GstStructure ** last)
{
  guint i, n = 0;

  g_mutex_lock (&p->lock);
  for (i = 0; i < p->elements->len; i++) {
    const GstStructure *s = g_ptr_array_index (p->elements, i);

    if (gst_structure_has_name (s, "webrtccall-stats")) {
      n++;
      *last = s;
    }
  }
  g_mutex_unlock (&p->lock);
  return n;
}

static gdouble
stats_double (const GstStructure * s, const gchar * field)
{
  gdouble v = -1;

  fail_unless (gst_structure_get_double (s, field, &v), "no %s in %"
      GST_PTR_FORMAT, field, s);
  return v;
}

GST_START_TEST (test_call_stats)
{
  WtspTestServer *server;
  Party *bob, *alice;
  const GstStructure *last = NULL;
  GstStructure *prop;
  gchar *dir = g_dir_make_tmp ("webrtccall-stats-XXXXXX", NULL);
  gchar *jsonl = g_build_filename (dir, "call.jsonl", NULL);
  gchar *png = g_build_filename (dir, "call.png", NULL);
  gchar *contents = NULL, **lines, *out = NULL, *err = NULL;
  const gchar *report = g_getenv ("WTSP_CALL_REPORT");
  gint status = -1;
  guint n, i, json_lines = 0;
  gsize len = 0;

  BEGIN ();
  server = server_start (NULL);
  bob = party_new (server, "bob", "auto-answer=true stats-interval=0");
  alice = party_new (server, "alice", "stats-interval=500");
  g_object_set (alice->call, "stats-file", jsonl, NULL);
  party_start (alice);
  party_start (bob);
  call_up (alice, bob);
  g_usleep (3 * G_TIME_SPAN_SECOND);

  n = count_stats_messages (alice, &last);
  fail_unless (n >= 4, "%u webrtccall-stats in 3 s at 500 ms", n);
  out = gst_structure_to_string (last);
  g_print ("QUALITY %s alice (%u messages): %s\n", test_name, n, out);
  g_clear_pointer (&out, g_free);
  fail_unless_equals_string (gst_structure_get_string (last, "audio-in-codec"),
      "OPUS");
  fail_unless_equals_string (gst_structure_get_string (last, "video-out-codec"),
      "VP8");
  /* Opus at 32 kbit/s, VP8 well above */
  fail_unless (stats_double (last, "audio-in-bitrate") > 16000);
  fail_unless (stats_double (last, "audio-out-bitrate") > 16000);
  fail_unless (stats_double (last, "video-in-bitrate") > 50000);
  fail_unless (stats_double (last, "video-out-bitrate") > 50000);
  fail_unless (stats_double (last, "round-trip-ms") > 0);
  fail_unless (stats_double (last, "audio-in-jitter-ms") >= 0);
  fail_unless_equals_string (gst_structure_get_string (last,
          "local-candidate-type"), "host");
  /* a call with stats-interval=0 posts none */
  fail_unless_equals_int (count_stats_messages (bob, &last), 0);

  prop = get_stats (alice);
  fail_unless (gst_structure_has_field (prop, "audio-in-bitrate"),
      "the stats property lacks the call quality: %" GST_PTR_FORMAT, prop);
  gst_structure_free (prop);

  hangup_both (alice, bob);

  fail_unless (g_file_get_contents (jsonl, &contents, &len, NULL),
      "no %s", jsonl);
  lines = g_strsplit (contents, "\n", -1);
  for (i = 0; lines[i]; i++) {
    JsonNode *node;

    if (*lines[i] == '\0')
      continue;
    node = json_from_string (lines[i], NULL);
    fail_unless (node && JSON_NODE_HOLDS_OBJECT (node), "line %u: %s", i,
        lines[i]);
    fail_unless (json_object_has_member (json_node_get_object (node),
            "time-ms"));
    json_node_unref (node);
    json_lines++;
  }
  g_strfreev (lines);
  g_free (contents);
  fail_unless (json_lines >= 4, "%u lines in %s", json_lines, jsonl);

  fail_unless (report != NULL, "WTSP_CALL_REPORT (pipelines/call-report.py) "
      "not set");
  {
    const gchar *argv[] = { "/usr/bin/python3", report, jsonl, "-o", png,
      NULL
    };
    GError *error = NULL;

    fail_unless (g_spawn_sync (NULL, (gchar **) argv, NULL, 0, NULL, NULL,
            &out, &err, &status, &error), "%s", error ? error->message : "");
  }
  g_print ("REPORT %s: %s", test_name, out);
  fail_unless (g_spawn_check_wait_status (status, NULL), "call-report.py: %s",
      err);
  fail_unless (strstr (out, "audio in OPUS") != NULL, "%s", out);
  fail_unless (g_file_get_contents (png, &contents, &len, NULL));
  fail_unless (len > 1000 && memcmp (contents, "\x89PNG", 4) == 0,
      "%s is no PNG", png);
  g_free (contents);
  g_free (out);
  g_free (err);

  g_unlink (png);
  g_unlink (jsonl);
  g_rmdir (dir);
  g_free (png);
  g_free (jsonl);
  g_free (dir);
  parties_free (alice, bob, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* video-muted, audio-muted: the far end decodes black and silence, the
 * call goes on and nothing is renegotiated; unmuted, the picture and the
 * tone come back */
typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean video;
  gdouble level;                /* mean luma, or RMS of S16 samples */
  gboolean done;
} Level;

static GstPadProbeReturn
measure_level (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Level *l = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstCaps *caps = gst_pad_get_current_caps (pad);
  GstMapInfo map;
  gdouble sum = 0;
  gsize i, n;

  if (caps == NULL || !gst_buffer_map (buf, &map, GST_MAP_READ)) {
    gst_clear_caps (&caps);
    return GST_PAD_PROBE_OK;
  }
  if (l->video) {
    GstVideoInfo vi;

    /* the luma plane of a planar YUV frame */
    fail_unless (gst_video_info_from_caps (&vi, caps));
    n = MIN (map.size, (gsize) GST_VIDEO_INFO_COMP_STRIDE (&vi, 0) *
        GST_VIDEO_INFO_HEIGHT (&vi));
    for (i = 0; i < n; i++)
      sum += map.data[i];
    sum /= MAX (n, 1);
  } else {
    const gint16 *samples = (const gint16 *) map.data;

    n = map.size / 2;
    for (i = 0; i < n; i++)
      sum += (gdouble) samples[i] * samples[i];
    sum = sqrt (sum / MAX (n, 1));
  }
  gst_buffer_unmap (buf, &map);
  gst_caps_unref (caps);
  g_mutex_lock (&l->lock);
  l->level = sum;
  l->done = TRUE;
  g_cond_signal (&l->cond);
  g_mutex_unlock (&l->lock);
  return GST_PAD_PROBE_REMOVE;
}

/* The level of the next buffer out of @p's src pad @prefix, 1 s from now */
static gdouble
output_level (Party * p, const gchar * prefix)
{
  Output *o = find_output (p, 0, prefix);
  Level l = { 0, };
  gint64 deadline;

  g_usleep (G_TIME_SPAN_SECOND);
  g_mutex_init (&l.lock);
  g_cond_init (&l.cond);
  l.video = o->video;
  gst_pad_add_probe (o->pad, GST_PAD_PROBE_TYPE_BUFFER, measure_level, &l,
      NULL);
  deadline = g_get_monotonic_time () + SIGNAL_MS * G_TIME_SPAN_MILLISECOND;
  g_mutex_lock (&l.lock);
  while (!l.done && g_cond_wait_until (&l.cond, &l.lock, deadline));
  g_mutex_unlock (&l.lock);
  fail_unless (l.done, "%s: no buffer on %s", p->name, prefix);
  g_mutex_clear (&l.lock);
  g_cond_clear (&l.cond);
  return l.level;
}

GST_START_TEST (test_muted)
{
  WtspTestServer *server;
  Party *bob, *alice;
  GstElement *vsrc;
  gdouble luma, rms;
  guint renegotiations;

  BEGIN ();
  server = server_start (NULL);
  bob = party_new (server, "bob", "auto-answer=true");
  alice = party_new (server, "alice", NULL);
  /* colour bars, not the ball on black */
  vsrc = gst_bin_get_by_name (GST_BIN (alice->pipeline), "vsrc");
  gst_util_set_object_arg (G_OBJECT (vsrc), "pattern", "smpte");
  gst_object_unref (vsrc);
  party_start (alice);
  party_start (bob);
  call_up (alice, bob);
  renegotiations = n_states (bob);

  luma = output_level (bob, "video_src_0");
  rms = output_level (bob, "audio_src_0");
  g_print ("MUTE %s: before: luma %.0f, rms %.0f\n", test_name, luma, rms);
  fail_unless (luma > 60 && rms > 1000, "the test sources do not show: luma "
      "%.0f, rms %.0f", luma, rms);

  g_object_set (alice->call, "video-muted", TRUE, "audio-muted", TRUE, NULL);
  luma = output_level (bob, "video_src_0");
  rms = output_level (bob, "audio_src_0");
  g_print ("MUTE %s: muted: luma %.0f, rms %.0f\n", test_name, luma, rms);
  /* black: luma 16 at most (videobalance makes it 0) */
  fail_unless (luma < 24, "video-muted: bob decodes luma %.0f, not black",
      luma);
  fail_unless (rms < 100, "audio-muted: bob hears rms %.0f", rms);

  g_object_set (alice->call, "video-muted", FALSE, "audio-muted", FALSE, NULL);
  luma = output_level (bob, "video_src_0");
  rms = output_level (bob, "audio_src_0");
  g_print ("MUTE %s: unmuted: luma %.0f, rms %.0f\n", test_name, luma, rms);
  fail_unless (luma > 60 && rms > 1000);

  /* no state change on either side: nothing was renegotiated */
  fail_unless_equals_int (n_states (bob), renegotiations);
  fail_unless_equals_string (call_state (alice), "connected");
  assert_no_problems (alice);
  assert_no_problems (bob);
  hangup_both (alice, bob);
  parties_free (alice, bob, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* Blind transfer through the reference server: alice calls bob, bob
 * transfers her to carol. 0: alice accepts transfers: her call with bob
 * ends here ("transferred to carol"), she calls carol with the refer_id,
 * bob hears "transferring", NOTIFY 100 and 200 and hangs up; alice and
 * carol talk. 1: she does not: the request is only posted, the call goes
 * on. */
typedef struct
{
  const gchar *event;
  const gchar *state;           /* subscription-state, or NULL */
  guint from;
  const GstStructure *found;
} TransferWait;

static gboolean
check_transfer_msg (Party * p, gpointer data)
{
  TransferWait *w = data;
  guint i;

  for (i = w->from; i < p->elements->len && !w->found; i++) {
    const GstStructure *s = g_ptr_array_index (p->elements, i);

    if (gst_structure_has_name (s, "webrtccall-transfer")
        && g_strcmp0 (gst_structure_get_string (s, "event"), w->event) == 0
        && (w->state == NULL || g_strcmp0 (gst_structure_get_string (s,
                    "subscription-state"), w->state) == 0))
      w->found = s;
  }
  return w->found != NULL;
}

static const GstStructure *
wait_transfer_msg (Party * p, const gchar * event, const gchar * state)
{
  TransferWait w = { event, state, 0, NULL };

  if (!wait_for (p, check_transfer_msg, &w, SIGNAL_MS)) {
    gchar *what = g_strdup_printf ("no webrtccall-transfer event=%s%s%s",
        event, state ? " subscription-state=" : "", state ? state : "");

    fail_with_states (p, what);
    g_free (what);
  }
  return w.found;
}

GST_START_TEST (test_transfer_blind)
{
  WtspTestServer *server;
  Party *bob, *alice, *carol;
  const GstStructure *s;
  gint status = 0;
  guint first_output;

  BEGIN ();
  server = server_start (NULL);
  bob = party_new (server, "bob", "auto-answer=true");
  carol = party_new (server, "carol", "auto-answer=true");
  alice = party_new (server, "alice", __i__ == 0 ? "accept-transfers=true" :
      NULL);
  party_start (alice);
  party_start (bob);
  party_start (carol);
  call_up (alice, bob);

  g_signal_emit_by_name (bob->call, "transfer", "carol", NULL);
  wait_transfer_msg (bob, "transferring", NULL);
  s = wait_transfer_msg (alice, "transfer", NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "refer-to"),
      "carol");
  fail_unless_equals_string (gst_structure_get_string (s, "referred-by"),
      "bob");
  fail_unless (gst_structure_get_string (s, "refer-id") != NULL);

  if (__i__ == 1) {
    /* posted, not acted on */
    g_usleep (G_TIME_SPAN_SECOND);
    fail_unless_equals_string (call_state (alice), "connected");
    fail_unless_equals_int (count_states (carol, "incoming"), 0);
    g_signal_emit_by_name (alice->call, "hangup");
    wait_state (alice, "ended", SIGNAL_MS);
    wait_state (bob, "ended", SIGNAL_MS);
    parties_free (alice, bob, carol, NULL);
    wtsp_test_server_free (server);
    return;
  }

  s = wait_state (alice, "ended", SIGNAL_MS);
  assert_ended (s, 200, "transferred to carol");
  first_output = n_outputs (alice);
  s = wait_state (alice, "calling", SIGNAL_MS);
  fail_unless_equals_string (gst_structure_get_string (s, "callee"), "carol");
  s = wait_state (carol, "incoming", SIGNAL_MS);
  fail_unless_equals_string (gst_structure_get_string (s, "caller"), "alice");
  wait_state (carol, "connected", CONNECT_MS);
  wait_state (alice, "connected", CONNECT_MS);
  wait_media (alice, first_output);
  wait_media (carol, 0);

  /* the transferor is told, and hangs up */
  s = wait_transfer_msg (bob, "notify", "terminated");
  fail_unless (gst_structure_get_int (s, "status", &status));
  fail_unless_equals_int (status, 200);
  fail_unless_equals_string (gst_structure_get_string (s, "content-type"),
      "message/sipfrag");
  s = wait_state (bob, "ended", SIGNAL_MS);
  assert_ended (s, 200, NULL);
  /* alice's bin posted no EOS for the call it was transferred out of */
  fail_if (alice->eos, "alice's pipeline got EOS at the transfer");
  assert_no_problems (alice);
  assert_no_problems (carol);

  hangup_both (alice, carol);
  parties_free (alice, bob, carol, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* Keyframes: 0: the far end asks for one (an upstream force-key-unit out
 * of bob's src pad: rtpsession sends a PLI) and alice's encoder makes one
 * at once; 1: alice's video loses bursts of packets on the way (dropped
 * at her webrtcbin's sink pad, so that no retransmission can mend them):
 * bob's depayloader asks for a keyframe and the picture resumes. Natural
 * keyframes come every 2 s (keyframe-max-dist=60 at 30 fps): five waits
 * all well under that are no luck. */
typedef struct
{
  GMutex lock;
  gint64 last_key_us;           /* the last keyframe out of bob's pad */
  gint drop;                    /* atomic: packets still to drop */
  gint64 burst_end_us;          /* the last one dropped */
} Keyframes;

static GstPadProbeReturn
note_keyframe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Keyframes *k = data;

  if (!GST_BUFFER_FLAG_IS_SET (GST_PAD_PROBE_INFO_BUFFER (info),
          GST_BUFFER_FLAG_DELTA_UNIT)) {
    g_mutex_lock (&k->lock);
    k->last_key_us = g_get_monotonic_time ();
    g_mutex_unlock (&k->lock);
  }
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
drop_packets (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Keyframes *k = data;
  gint n = (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) ?
      (gint) gst_buffer_list_length (GST_PAD_PROBE_INFO_BUFFER_LIST (info)) : 1;

  if (g_atomic_int_get (&k->drop) <= 0)
    return GST_PAD_PROBE_OK;
  if (g_atomic_int_add (&k->drop, -n) <= n) {
    g_mutex_lock (&k->lock);
    k->burst_end_us = g_get_monotonic_time ();
    g_mutex_unlock (&k->lock);
  }
  return GST_PAD_PROBE_DROP;
}

/* The sink pad of @p's webrtcbin that takes VP8 */
static GstPad *
video_sink_of_webrtcbin (Party * p)
{
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (p->call));
  GValue v = G_VALUE_INIT;
  GstPad *found = NULL;

  while (!found && gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&v);
    GstElementFactory *f = gst_element_get_factory (e);

    if (f && g_str_equal (GST_OBJECT_NAME (f), "webrtcbin")) {
      GstIterator *pads = gst_element_iterate_sink_pads (e);
      GValue pv = G_VALUE_INIT;

      while (!found && gst_iterator_next (pads, &pv) == GST_ITERATOR_OK) {
        GstCaps *caps = gst_pad_get_current_caps (g_value_get_object (&pv));

        if (caps && g_strcmp0 (gst_structure_get_string
                (gst_caps_get_structure (caps, 0), "encoding-name"),
                "VP8") == 0)
          found = gst_object_ref (g_value_get_object (&pv));
        gst_clear_caps (&caps);
        g_value_reset (&pv);
      }
      g_value_unset (&pv);
      gst_iterator_free (pads);
    }
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
  return found;
}

GST_START_TEST (test_keyframes)
{
  WtspTestServer *server;
  Party *bob, *alice;
  Keyframes k = { 0, };
  Output *o;
  GstPad *sink = NULL;
  GString *delays = g_string_new (NULL);
  gint64 worst = 0;
  guint round;

  BEGIN ();
  g_mutex_init (&k.lock);
  server = server_start (NULL);
  bob = party_new (server, "bob", "auto-answer=true encoded-output=true "
      "video-codecs=VP8");
  alice = party_new (server, "alice", "video-codecs=VP8");
  party_start (alice);
  party_start (bob);
  call_up (alice, bob);
  o = find_output (bob, 0, "video_src_0");
  gst_pad_add_probe (o->pad, GST_PAD_PROBE_TYPE_BUFFER, note_keyframe, &k,
      NULL);
  if (__i__ == 1) {
    sink = video_sink_of_webrtcbin (alice);
    fail_unless (sink != NULL, "alice's webrtcbin has no VP8 sink pad");
    gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_BUFFER_LIST, drop_packets, &k, NULL);
  }

  for (round = 0; round < 5; round++) {
    gint64 asked, key = 0, deadline;

    /* away from the last natural keyframe */
    g_usleep ((500 + g_random_int_range (0, 400)) * G_TIME_SPAN_MILLISECOND);
    asked = g_get_monotonic_time ();
    if (__i__ == 0)
      fail_unless (gst_pad_send_event (o->pad,
              gst_video_event_new_upstream_force_key_unit
              (GST_CLOCK_TIME_NONE, TRUE, 0)), "the keyframe request was "
          "refused");
    else
      g_atomic_int_set (&k.drop, 15);
    deadline = asked + 2 * G_TIME_SPAN_SECOND;
    while (g_get_monotonic_time () < deadline) {
      g_mutex_lock (&k.lock);
      key = k.last_key_us > asked ? k.last_key_us : 0;
      g_mutex_unlock (&k.lock);
      if (key)
        break;
      g_usleep (5 * G_TIME_SPAN_MILLISECOND);
    }
    fail_unless (key > 0, "round %u: no keyframe within 2 s", round);
    if (__i__ == 1) {
      /* from the end of the burst */
      g_mutex_lock (&k.lock);
      asked = k.burst_end_us;
      g_mutex_unlock (&k.lock);
    }
    g_string_append_printf (delays, "%s%.0f", round ? " " : "",
        (key - asked) / 1000.0);
    worst = MAX (worst, key - asked);
  }
  g_print ("KEYFRAME %s: %s -> keyframe at bob after ms: %s\n", test_name,
      __i__ == 0 ? "bob asks" : "15 packets lost (from the last one)",
      delays->str);
  /* asked: a PLI and a keyframe across one namespace, tens of ms (562
   * seen once on a loaded 2-core CI machine); lost: from the burst's last
   * packet, the jitterbuffer's wait for the lost ones, then the same.
   * Both held to the issue's bound, 1 s: the figures are printed above */
  fail_unless (worst < 1000 * 1000,
      "a keyframe took %.0f ms: %s", worst / 1000.0, delays->str);
  g_string_free (delays, TRUE);
  gst_clear_object (&sink);

  hangup_both (alice, bob);
  parties_free (alice, bob, NULL);
  wtsp_test_server_free (server);
  g_mutex_clear (&k.lock);
}

GST_END_TEST;

/* Attended transfer through the reference server: alice calls bob; bob,
 * on his account's other bin, calls carol; bob transfers alice to carol,
 * replacing his call with carol. alice (accept-transfers) calls carol,
 * whose idle bin takes the call; once it is up the server ends bob's call
 * with carol ("Replaced"), and bob, told the transfer worked, hangs up
 * his call with alice. */
static void
share_session (Party * from, Party * to)
{
  GstContext *context = gst_element_get_context (from->call, "wtsp.session");

  fail_unless (context != NULL, "%s has no wtsp.session context", from->name);
  gst_element_set_context (to->call, context);
  gst_context_unref (context);
}

/* Which of @a and @b posted @state first (from their first state) */
static Party *
which_posted (Party * a, Party * b, const gchar * state, guint from_a,
    guint from_b)
{
  gint64 deadline = g_get_monotonic_time () + SIGNAL_MS *
      G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < deadline) {
    if (state_index (a, state, from_a) >= 0)
      return a;
    if (state_index (b, state, from_b) >= 0)
      return b;
    g_usleep (10 * G_TIME_SPAN_MILLISECOND);
  }
  fail ("neither %s nor %s posted %s", a->name, b->name, state);
  return NULL;
}

GST_START_TEST (test_transfer_attended)
{
  WtspTestServer *server;
  Party *alice, *bob1, *bob2, *carol1, *carol2, *target, *replaced;
  const GstStructure *s;
  gchar *bob_carol_id = NULL;
  guint alice_output, target_states, other_states;
  gint status = 0;

  BEGIN ();
  server = server_start (NULL);
  bob1 = party_new_full (server, "bob1", "bob", PARTY_DEFAULT,
      "auto-answer=true");
  bob2 = party_new_full (server, "bob2", "bob", PARTY_DEFAULT, NULL);
  carol1 = party_new_full (server, "carol1", "carol", PARTY_DEFAULT,
      "auto-answer=true");
  carol2 = party_new_full (server, "carol2", "carol", PARTY_DEFAULT,
      "auto-answer=true");
  alice = party_new (server, "alice", "accept-transfers=true");
  party_start (bob1);
  share_session (bob1, bob2);
  party_start (carol1);
  share_session (carol1, carol2);
  party_start (alice);
  party_start (carol2);

  /* alice - bob (bob1: bob2 is not started yet) */
  party_dial (alice, "bob");
  wait_state (bob1, "connected", CONNECT_MS);
  wait_state (alice, "connected", CONNECT_MS);
  party_start (bob2);

  /* bob - carol, from bob's other bin */
  party_dial (bob2, "carol");
  replaced = which_posted (carol1, carol2, "incoming", 0, 0);
  target = replaced == carol1 ? carol2 : carol1;
  wait_state (bob2, "connected", CONNECT_MS);
  wait_state (replaced, "connected", CONNECT_MS);
  g_object_get (bob2->call, "call-id", &bob_carol_id, NULL);
  target_states = n_states (target);
  other_states = n_states (replaced);

  /* bob transfers alice to carol, replacing his call with carol */
  g_signal_emit_by_name (bob1->call, "transfer", "carol", bob_carol_id);
  wait_transfer_msg (bob1, "transferring", NULL);
  s = wait_transfer_msg (alice, "transfer", NULL);
  fail_unless_equals_string (gst_structure_get_string (s,
          "replace-call-id"), bob_carol_id);
  s = wait_state (alice, "ended", SIGNAL_MS);
  assert_ended (s, 200, "transferred to carol");
  alice_output = n_outputs (alice);
  wait_state (alice, "calling", SIGNAL_MS);
  fail_unless (state_index (target, "incoming", target_states) >= 0
      || which_posted (target, target, "incoming", target_states,
          target_states) == target);
  wait_state (target, "connected", CONNECT_MS);
  wait_state (alice, "connected", CONNECT_MS);
  wait_media (alice, alice_output);

  /* the replaced call ends on both sides, the transferor hangs up */
  s = wait_state (bob2, "ended", SIGNAL_MS);
  assert_ended (s, 200, "Replaced");
  s = wait_state (replaced, "ended", SIGNAL_MS);
  assert_ended (s, 200, "Replaced");
  fail_unless (state_index (replaced, "ended", other_states) >= 0);
  s = wait_transfer_msg (bob1, "notify", "terminated");
  fail_unless (gst_structure_get_int (s, "status", &status));
  fail_unless_equals_int (status, 200);
  wait_state (bob1, "ended", SIGNAL_MS);
  g_print ("TRANSFER %s: alice talks to %s; bob's call with %s replaced\n",
      test_name, target->name, replaced->name);

  hangup_both (alice, target);
  g_free (bob_carol_id);
  parties_free (alice, bob1, bob2, carol1, carol2, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

/* Video turned on during an audio-only call, as the seeds' call guide
 * promises ("enable the video track while the call is in progress"): the
 * party without a camera (0: the caller, 1: the callee) gets one and
 * requests video_sink mid-call. Its bin offers a new m-line in "update",
 * the far end's bin answers it (relayed as "updated"), a new video_src
 * pad with decoded frames appears on the far side, and the media
 * negotiated before goes on. */
static GstPad *
party_add_camera (Party * p)
{
  GError *error = NULL;
  GstElement *cam = gst_parse_bin_from_description (VIDEO_IN " ! queue", TRUE, &error);
  GstPad *src, *sink;

  fail_unless (cam != NULL, "%s", error ? error->message : "?");
  gst_bin_add (GST_BIN (p->pipeline), cam);
  sink = gst_element_request_pad_simple (p->call, "video_sink");
  fail_unless (sink != NULL, "%s: no video_sink pad during the call",
      p->name);
  src = gst_element_get_static_pad (cam, "src");
  fail_unless_equals_int (gst_pad_link (src, sink), GST_PAD_LINK_OK);
  gst_object_unref (src);
  fail_unless (gst_element_sync_state_with_parent (cam));
  return sink;
}

GST_START_TEST (test_video_mid_call)
{
  WtspTestServer *server;
  Party *bob, *alice, *late, *other;
  CallMarks m;
  MediaWait w = { 0, };
  GstPad *sink;
  gint64 t0;
  gint to_late, to_other;
  Output *o;

  BEGIN ();
  server = server_start (NULL);
  alice = party_new_full (server, "alice", "alice", __i__ == 0 ?
      PARTY_AUDIO_ONLY : PARTY_DEFAULT, NULL);
  bob = party_new_full (server, "bob", "bob", __i__ == 1 ?
      PARTY_AUDIO_ONLY : PARTY_DEFAULT, "auto-answer=true");
  late = __i__ == 0 ? alice : bob;
  other = __i__ == 0 ? bob : alice;
  party_start (alice);
  party_start (bob);
  m = call_connect (alice, bob);
  wait_media (late, late == alice ? m.caller_output : m.callee_output);
  w.first = other == alice ? m.caller_output : m.callee_output;
  w.audio = MIN_AUDIO;
  if (!wait_for (other, check_media, &w, MEDIA_MS))
    fail_with_states (other, "no audio from the party without a camera");
  fail_if (find_output_or_null (other, w.first, "video_src_") &&
      g_atomic_int_get (&find_output (other, w.first,
              "video_src_")->buffers) > 0,
      "%s got video from %s, which has no camera", other->name, late->name);

  w.first = n_outputs (other);
  w.video = MIN_VIDEO;
  w.audio = 0;
  t0 = g_get_monotonic_time ();
  sink = party_add_camera (late);
  if (!wait_for (other, check_media, &w, CONNECT_MS))
    fail_with_states (other, "no video from the camera added during the "
        "call");
  o = find_output (other, w.first, "video_src_");
  g_print ("VIDEO %s: %s's camera added mid-call: %s on %s, first frame "
      "after %.0f ms\n", test_name, late->name, o->name, other->name,
      (o->first_buffer_us - t0) / 1000.0);

  /* the media negotiated before goes on */
  to_late = audio_in_a_second (late);
  to_other = audio_in_a_second (other);
  fail_unless (to_late > 25 && to_other > 25, "audio stopped after the "
      "renegotiation: %d and %d buffers in 1 s", to_late, to_other);
  assert_no_problems (alice);
  assert_no_problems (bob);
  fail_unless_equals_string (call_state (alice), "connected");

  hangup_both (alice, bob);
  gst_object_unref (sink);
  parties_free (alice, bob, NULL);
  wtsp_test_server_free (server);
}

GST_END_TEST;

static void
add_case (TCase * tc, TFun fn, const gchar * name, gint start, gint end,
    Where where)
{
  if (signaling_only && !(where & SIGNALING))
    return;
  _tcase_add_test (tc, fn, name, 0, 0, start, end);
}

static Suite *
webrtccall_suite (void)
{
  Suite *s = suite_create ("webrtccall");
  TCase *tc = tcase_create ("calls");
  const Where both = NETNS | SIGNALING;

  main_pid = getpid ();
  /* before anything initialises OpenSSL: see exit_at_once() */
  OPENSSL_init_crypto (OPENSSL_INIT_NO_ATEXIT, NULL);
  /* A crash in any thread while a plugin is being loaded (srtp, webrtc:
   * lazily, by the first call) would be taken by GStreamer's segfault
   * trap for the plugin's, and end the process with exit(1): let it
   * crash, so that it counts as one and leaves a core */
  gst_segtrap_set_enabled (FALSE);
  atexit (exit_at_once);
  signaling_only = g_strcmp0 (g_getenv ("WTSP_TEST_SIGNALING_ONLY"), "1") == 0;
  host = signaling_only ? LOOPBACK_HOST : NETNS_HOST;

  if (g_getenv ("WTSP_TEST_SLOWDOWN"))
    slowdown = CLAMP (atoi (g_getenv ("WTSP_TEST_SLOWDOWN")), 1, 100);
  tcase_set_timeout (tc, 60 * slowdown);
  tcase_add_checked_fixture (tc, test_setup, test_teardown);
  suite_add_tcase (s, tc);
  ADD_TEST (tc, test_basic_call, NETNS);
  ADD_LOOP (tc, test_video_mid_call, 0, 2, NETNS);
  ADD_LOOP (tc, test_codecs, 0, G_N_ELEMENTS (codec_cases), NETNS);
  ADD_TEST (tc, test_hangup_caller, NETNS);
  ADD_TEST (tc, test_hangup_callee, NETNS);
  ADD_LOOP (tc, test_decline, 0, G_N_ELEMENTS (decline_codes), both);
  /* 0: bob in a connected call, 1: bob's call still ringing */
  if (signaling_only)
    ADD_LOOP (tc, test_busy, 1, 2, SIGNALING);
  else
    ADD_LOOP (tc, test_busy, 0, 2, NETNS);
  ADD_TEST (tc, test_missed_call_idle_bin, both);
  ADD_TEST (tc, test_unknown_number, both);
  ADD_TEST (tc, test_line_out_of_range, both);
  ADD_LOOP (tc, test_hostile_server, 0, G_N_ELEMENTS (hostile_cases), NETNS);
  ADD_TEST (tc, test_no_trickle, NETNS);
  ADD_TEST (tc, test_second_call, NETNS);
  ADD_LOOP (tc, test_eos_hangs_up, 0, 2, NETNS);
  ADD_TEST (tc, test_hangup_while_connecting, NETNS);
  ADD_LOOP (tc, test_stop_hangs_up, 0, 2, NETNS);
  ADD_LOOP (tc, test_stop_while_far_end_hangs_up, 0, race_rounds (10), NETNS);
  ADD_LOOP (tc, test_state_cycles, 0, race_rounds (10), NETNS);
  ADD_TEST (tc, test_registration_failed, both);
  ADD_TEST (tc, test_signaling_cut_mid_call, NETNS);
  ADD_TEST (tc, test_server_restart, NETNS);
  ADD_LOOP (tc, test_hangup_during_outage, 0, 2, NETNS);
  ADD_LOOP (tc, test_hold_during_outage, 0, 2, NETNS);
  ADD_LOOP (tc, test_far_end_silent, 0, 2, NETNS);
  ADD_LOOP (tc, test_failed_first_connection, 0, race_rounds (12), both);
  ADD_LOOP (tc, test_failed_first_connection_in_process, 0, 2, both);
  ADD_TEST (tc, test_early_media, NETNS);
  ADD_TEST (tc, test_offerless, NETNS);
  ADD_TEST (tc, test_unlinked_src_pad, NETNS);
  /* 0: a hangup (media), 1: 404, 2: 486 */
  if (signaling_only)
    ADD_LOOP (tc, test_ended_before_eos, 1, 3, SIGNALING);
  else
    ADD_LOOP (tc, test_ended_before_eos, 0, 3, NETNS);
  ADD_TEST (tc, test_eos_without_media, NETNS);
  ADD_LOOP (tc, test_dtmf, 0, G_N_ELEMENTS (dtmf_codecs), NETNS);
  ADD_LOOP (tc, test_end_during_dtmf, 0, race_rounds (6), NETNS);
  ADD_LOOP (tc, test_hold, 0, 2, NETNS);
  ADD_LOOP (tc, test_take_call, 0, 3, NETNS);
  ADD_TEST (tc, test_call_stats, NETNS);
  ADD_TEST (tc, test_muted, NETNS);
  ADD_LOOP (tc, test_transfer_blind, 0, 2, NETNS);
  ADD_LOOP (tc, test_keyframes, 0, 2, NETNS);
  ADD_TEST (tc, test_transfer_attended, NETNS);
  return s;
}

GST_CHECK_MAIN (webrtccall);
