/* webrtccall: surviving the network. After every reconnect, the calls
 * the bin holds are compared with the server's new "state"; hangups made
 * while the link was down end the call at once and reach the server when
 * it is back.
 *
 * Runs on the bin's task thread.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "webrtccall-priv.h"

GST_DEBUG_CATEGORY_EXTERN (gst_webrtc_call_debug);
#define GST_CAT_DEFAULT gst_webrtc_call_debug

/* A call we ended whose hangup the server never acknowledged (the link
 * was down for longer than a transaction lasts): sent again after the
 * next handshake if the server still lists the call */
typedef struct
{
  gint line;
  gchar *call_id;
} Orphan;

static void
orphan_free (Orphan * o)
{
  g_free (o->call_id);
  g_free (o);
}

void
webrtc_call_recovery_add_orphan (GstWebrtcCall * self, gint line,
    const gchar * call_id)
{
  Orphan *o = g_new0 (Orphan, 1);

  GST_INFO_OBJECT (self, "hangup of call %s on line %d not acknowledged: "
      "sent again after the next handshake", call_id, line);
  o->line = line;
  o->call_id = g_strdup (call_id);
  self->orphans = g_list_append (self->orphans, o);
}

void
webrtc_call_recovery_clear (GstWebrtcCall * self)
{
  g_list_free_full (self->orphans, (GDestroyNotify) orphan_free);
  self->orphans = NULL;
}

/* The entry of @line in the handshake's lines, if it holds @call_id */
static JsonObject *
listed_call (JsonArray * lines, gint line, const gchar * call_id)
{
  JsonNode *node;
  JsonObject *entry;

  if (lines == NULL || line < 0 || (guint) line >= json_array_get_length
      (lines))
    return NULL;
  node = json_array_get_element (lines, line);
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  entry = json_node_get_object (node);
  if (g_strcmp0 (json_object_get_string_member_with_default (entry,
              "call_id", NULL), call_id) != 0)
    return NULL;
  return entry;
}

/* The newest message of the call's log that settles where the call
 * stands: one that ended it, or its "accepted". Returns a new message, or
 * NULL. */
static WtspMessage *
newest_outcome (JsonObject * entry)
{
  JsonArray *logs;
  gint i;

  if (!json_object_has_member (entry, "call_logs")
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (entry, "call_logs")))
    return NULL;
  logs = json_object_get_array_member (entry, "call_logs");
  for (i = (gint) json_array_get_length (logs) - 1; i >= 0; i--) {
    JsonNode *pair = json_array_get_element (logs, i);
    JsonNode *node;
    JsonObject *o;
    const gchar *event;

    /* [timestamp_ms, message] */
    if (!JSON_NODE_HOLDS_ARRAY (pair)
        || json_array_get_length (json_node_get_array (pair)) < 2)
      continue;
    node = json_array_get_element (json_node_get_array (pair), 1);
    if (!JSON_NODE_HOLDS_OBJECT (node))
      continue;
    o = json_node_get_object (node);
    event = json_object_get_string_member_with_default (o, "event", NULL);
    if (event == NULL)
      continue;
    if (g_str_equal (event, "hangup") || g_str_equal (event, "accepted")) {
      GError *error = NULL;
      WtspMessage *msg = wtsp_message_new_from_object (o, &error);

      if (msg == NULL) {
        GST_WARNING ("unusable %s in the call log: %s", event,
            error->message);
        g_clear_error (&error);
        continue;
      }
      return msg;
    }
  }
  return NULL;
}

/* After a handshake that was not the first: @state is its message, @call
 * the bin's current call (or NULL) */
void
webrtc_call_recovery_reconcile (GstWebrtcCall * self, WebrtcCallCall * call,
    WtspMessage * state)
{
  JsonArray *lines = NULL;
  JsonObject *entry;
  WtspMessage *outcome;
  GList *l;

  if (state && json_object_has_member (state->object, "lines")
      && JSON_NODE_HOLDS_ARRAY (json_object_get_member (state->object,
              "lines")))
    lines = json_object_get_array_member (state->object, "lines");

  /* Hangups the server never took: again, if it still has the call */
  for (l = self->orphans; l; l = l->next) {
    Orphan *o = l->data;

    if (listed_call (lines, o->line, o->call_id)) {
      GST_INFO_OBJECT (self, "call %s is still listed: hanging up again",
          o->call_id);
      webrtc_call_send_request (self, NULL, wtsp_request_new ("hangup",
              o->line, o->call_id));
    }
  }
  webrtc_call_recovery_clear (self);

  /* A call the server has not heard of yet (its outgoing_call still
   * waits for the link) cannot be listed */
  if (call == NULL || webrtc_call_call_is_ending (call) || !call->known)
    return;

  entry = listed_call (lines, call->line, call->call_id);
  if (entry == NULL) {
    GST_WARNING_OBJECT (call, "not in the new state's lines: ending it");
    webrtc_call_call_end (call, WEBRTC_CALL_CODE_UNKNOWN_AFTER_RECONNECT,
        "the server no longer knows this call after reconnecting");
    return;
  }

  /* Listed: kept as it is, unless the log says it moved on while we were
   * away (an answer we missed, or its end) */
  outcome = newest_outcome (entry);
  if (outcome == NULL) {
    GST_INFO_OBJECT (call, "still listed after reconnecting: kept");
    return;
  }
  if (wtsp_message_is_event (outcome, "hangup")) {
    gint code = (gint) wtsp_message_get_int (outcome, "code", 0);
    const gchar *reason = wtsp_message_get_string (outcome, "reason");

    GST_INFO_OBJECT (call, "the call log says it ended while we were away");
    webrtc_call_call_end (call, code ? code : 200,
        reason ? reason : "hung up while the signaling link was down");
  } else if (call->outgoing && !call->answered) {
    GST_INFO_OBJECT (call, "the call log says it was accepted while we "
        "were away");
    webrtc_call_call_handle_event (call, outcome);
  } else {
    GST_INFO_OBJECT (call, "still listed after reconnecting: kept");
  }
  wtsp_message_unref (outcome);
}
