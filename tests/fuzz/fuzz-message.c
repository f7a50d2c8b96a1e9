/* libFuzzer target for wtsp_message_parse() (gst/wtspmessage.c)
 *
 * Besides what the sanitizers catch, it checks properties of every
 * message the parser accepts:
 *  - no object or array nests deeper than the parser's limit;
 *  - wtsp_message_to_string() gives back the text received, and that text
 *    parses again to the same message;
 *  - the object as json-glib writes it parses again to the same message
 *    (what a relay such as the reference server sends on), and passes
 *    wtsp_message_new_from_object();
 *  - wtsp_message_to_structure() and the accessors work on it;
 * and that every refusal is a WTSP_MESSAGE_ERROR with a message.
 * A GLib warning or critical aborts as well.
 *
 *   scripts/fuzz.sh [SECONDS]
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gst/gst.h>
#include "wtspmessage.h"

/* check_syntax() in wtspmessage.c */
#define MAX_DEPTH 64

#define CHECK(cond) G_STMT_START {                                      \
  if (G_UNLIKELY (!(cond))) {                                           \
    fprintf (stderr, "%s:%d: property failed: %s\n", __FILE__,          \
        __LINE__, #cond);                                               \
    abort ();                                                           \
  }                                                                     \
} G_STMT_END

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static guint
node_depth (JsonNode * node)
{
  guint deepest = 0, d, i, n;

  if (JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObjectIter iter;
    JsonNode *child;

    json_object_iter_init (&iter, json_node_get_object (node));
    while (json_object_iter_next (&iter, NULL, &child))
      if ((d = node_depth (child)) > deepest)
        deepest = d;
    return deepest + 1;
  }
  if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *array = json_node_get_array (node);

    n = json_array_get_length (array);
    for (i = 0; i < n; i++)
      if ((d = node_depth (json_array_get_element (array, i))) > deepest)
        deepest = d;
    return deepest + 1;
  }
  return 0;
}

static void
check_same (WtspMessage * a, WtspMessage * b)
{
  CHECK (a->kind == b->kind);
  CHECK (g_strcmp0 (a->type, b->type) == 0);
  CHECK (a->line == b->line);
  CHECK (g_strcmp0 (a->call_id, b->call_id) == 0);
  CHECK (g_strcmp0 (a->transaction, b->transaction) == 0);
  CHECK (a->code == b->code);
  CHECK (g_strcmp0 (a->reason, b->reason) == 0);
}

static void
check_refused (GError * error)
{
  CHECK (error != NULL);
  CHECK (error->domain == WTSP_MESSAGE_ERROR);
  CHECK (error->code >= WTSP_MESSAGE_ERROR_INVALID_JSON
      && error->code <= WTSP_MESSAGE_ERROR_TOO_LARGE);
  CHECK (error->message != NULL && error->message[0] != '\0');
  g_error_free (error);
}

static void
check_accepted (WtspMessage * msg, const gchar * data, gsize size)
{
  GError *error = NULL;
  WtspMessage *again;
  JsonNode *root;
  GstStructure *s;
  const gchar *text, *type = NULL, *sdp = NULL;
  gchar *written, *str;

  CHECK (msg->type != NULL && msg->type[0] != '\0');
  CHECK (msg->object != NULL);
  CHECK (msg->line >= WTSP_LINE_NONE);

  root = json_node_init_object (json_node_alloc (), msg->object);
  CHECK (node_depth (root) <= MAX_DEPTH);
  json_node_unref (root);

  /* the text as received */
  text = wtsp_message_to_string (msg);
  CHECK (strlen (text) == size && memcmp (text, data, size) == 0);
  again = wtsp_message_parse (text, -1, &error);
  CHECK (again != NULL && error == NULL);
  check_same (msg, again);
  wtsp_message_unref (again);

  /* the text as json-glib writes the object */
  written = wtsp_object_to_string (msg->object);
  if (strlen (written) <= WTSP_DEFAULT_MAX_MESSAGE_SIZE) {
    again = wtsp_message_parse (written, -1, &error);
    if (again == NULL)
      fprintf (stderr, "re-parse of \"%.200s\": %s\n", written,
          error->message);
    CHECK (again != NULL && error == NULL);
    check_same (msg, again);
    wtsp_message_unref (again);
  }
  g_free (written);

  again = wtsp_message_new_from_object (msg->object, &error);
  CHECK (again != NULL && error == NULL);
  check_same (msg, again);
  wtsp_message_unref (again);

  s = wtsp_message_to_structure (msg, "wtsp-message");
  CHECK (s != NULL);
  CHECK (g_strcmp0 (gst_structure_get_string (s, "type"), msg->type) == 0);
  CHECK (g_strcmp0 (gst_structure_get_string (s, "json"), text) == 0);
  str = gst_structure_to_string (s);
  g_free (str);
  gst_structure_free (s);

  if (wtsp_message_get_jsep (msg, &type, &sdp))
    CHECK (type != NULL && sdp != NULL);
  CHECK (wtsp_message_is_event (msg, msg->type) ==
      (msg->kind == WTSP_MESSAGE_KIND_EVENT));
  wtsp_message_get_string (msg, "caller");
  wtsp_message_get_int (msg, "keepalive_interval", 0);
  wtsp_message_get_object (msg, "candidate");
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  /* no plugin is needed: do not load the registry */
  g_setenv ("GST_REGISTRY_DISABLE", "yes", TRUE);
  gst_init (NULL, NULL);
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  GError *error = NULL;
  WtspMessage *msg;

  msg = wtsp_message_parse ((const gchar *) data, size, &error);
  if (msg == NULL) {
    check_refused (error);
    return 0;
  }
  CHECK (error == NULL);
  check_accepted (msg, (const gchar *) data, size);
  wtsp_message_unref (msg);
  return 0;
}
