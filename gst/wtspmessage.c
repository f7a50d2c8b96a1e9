/* WebTrit Signaling Protocol (WTSP): messages
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "wtspmessage.h"

#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (wtsp_message_debug);
#define GST_CAT_DEFAULT wtsp_message_debug

/* json-glib parses recursively: refuse absurd nesting before it does */
#define MAX_DEPTH 64

G_DEFINE_QUARK (wtsp-message-error-quark, wtsp_message_error);

G_DEFINE_BOXED_TYPE_WITH_CODE (WtspMessage, wtsp_message,
    wtsp_message_ref, wtsp_message_unref,
    GST_DEBUG_CATEGORY_INIT (wtsp_message_debug, "wtspmessage", 0,
        "WTSP message parsing"));

/* Member types a field may take, or'ed together */
enum
{
  T_STRING = 1 << 0,
  T_INT = 1 << 1,
  T_BOOL = 1 << 2,
  T_OBJECT = 1 << 3,
  T_ARRAY = 1 << 4,
  T_NULL = 1 << 5,
  T_NUMBER = 1 << 6,            /* integer or floating point */
  REQUIRED = 1 << 8,
};

typedef struct
{
  const gchar *name;
  guint flags;
} FieldSpec;

/* What a line or call message needs besides its own fields */
enum
{
  SCOPE_SESSION = 0,
  SCOPE_LINE = 1,               /* "line" required */
  SCOPE_CALL = 2,               /* "line" and "call_id" required */
};

typedef struct
{
  WtspMessageKind kind;
  const gchar *type;            /* NULL: any other type of this kind */
  guint scope;
  FieldSpec fields[6];
} MessageSpec;

/* Members checked wherever they appear */
static const FieldSpec common_fields[] = {
  {"transaction", T_STRING},
  {"line", T_INT | T_NULL},
  {"call_id", T_STRING},
  {"code", T_INT},
  {"reason", T_STRING},
  {"jsep", T_OBJECT | T_NULL},        /* null: no session description */
  {NULL, 0}
};

#define TX {"transaction", T_STRING | REQUIRED}

/* One row per message type the protocol defines (protocol.md §2-§7).
 * Only what a peer needs to act on a message is required; everything
 * else is type-checked if present. */
static const MessageSpec message_specs[] = {
  {WTSP_MESSAGE_KIND_STATE, "state", SCOPE_SESSION, {
          {"keepalive_interval", T_INT | REQUIRED},
          {"lines", T_ARRAY | REQUIRED},
          {"registration", T_OBJECT},
          {"timestamp", T_INT},
          {"guest_line", T_OBJECT | T_NULL}}},
  {WTSP_MESSAGE_KIND_KEEPALIVE, "keepalive", SCOPE_SESSION, {TX}},

  {WTSP_MESSAGE_KIND_RESPONSE, "ack", SCOPE_SESSION, {TX}},
  {WTSP_MESSAGE_KIND_RESPONSE, "error", SCOPE_SESSION, {TX,
          {"code", T_INT | REQUIRED}}},

  {WTSP_MESSAGE_KIND_REQUEST, "outgoing_call", SCOPE_CALL, {TX,
          {"number", T_STRING | REQUIRED},
          {"jsep", T_OBJECT | REQUIRED},
          {"from", T_STRING},
          {"refer_id", T_STRING}}},
  {WTSP_MESSAGE_KIND_REQUEST, "accept", SCOPE_CALL, {TX}},
  {WTSP_MESSAGE_KIND_REQUEST, "decline", SCOPE_CALL, {TX,
          {"refer_id", T_STRING}}},
  {WTSP_MESSAGE_KIND_REQUEST, "hangup", SCOPE_CALL, {TX}},
  {WTSP_MESSAGE_KIND_REQUEST, "hold", SCOPE_CALL, {TX,
          {"direction", T_STRING}}},
  {WTSP_MESSAGE_KIND_REQUEST, "unhold", SCOPE_CALL, {TX}},
  {WTSP_MESSAGE_KIND_REQUEST, "update", SCOPE_CALL, {TX,
          {"jsep", T_OBJECT | REQUIRED}}},
  {WTSP_MESSAGE_KIND_REQUEST, "transfer", SCOPE_CALL, {TX,
          {"number", T_STRING | REQUIRED},
          {"replace_call_id", T_STRING}}},
  {WTSP_MESSAGE_KIND_REQUEST, "ice_trickle", SCOPE_LINE, {TX,
          {"candidate", T_OBJECT | T_NULL | REQUIRED}}},
  {WTSP_MESSAGE_KIND_REQUEST, NULL, SCOPE_SESSION, {TX}},

  {WTSP_MESSAGE_KIND_EVENT, "registered", SCOPE_SESSION, {
          {"phrase", T_STRING}}},
  {WTSP_MESSAGE_KIND_EVENT, "registration_failed", SCOPE_SESSION, {{NULL}}},
  {WTSP_MESSAGE_KIND_EVENT, "error", SCOPE_SESSION, {{NULL}}},
  {WTSP_MESSAGE_KIND_EVENT, "ice_webrtcup", SCOPE_LINE, {{NULL}}},
  {WTSP_MESSAGE_KIND_EVENT, "ice_media", SCOPE_LINE, {
          {"type", T_STRING},
          {"receiving", T_BOOL}}},
  {WTSP_MESSAGE_KIND_EVENT, "ice_slowlink", SCOPE_LINE, {
          {"type", T_STRING},
          {"uplink", T_BOOL},
          {"lost", T_NUMBER}}},
  {WTSP_MESSAGE_KIND_EVENT, "ice_hangup", SCOPE_LINE, {{NULL}}},
  {WTSP_MESSAGE_KIND_EVENT, "ice_trickle", SCOPE_LINE, {
          {"candidate", T_OBJECT | T_NULL | REQUIRED}}},
  {WTSP_MESSAGE_KIND_EVENT, "transfer", SCOPE_LINE, {
          {"refer_id", T_STRING},
          {"refer_to", T_STRING},
          {"referred_by", T_STRING},
          {"replace_call_id", T_STRING}}},
  {WTSP_MESSAGE_KIND_EVENT, "calling", SCOPE_CALL, {{NULL}}},
  {WTSP_MESSAGE_KIND_EVENT, "proceeding", SCOPE_CALL, {{NULL}}},
  {WTSP_MESSAGE_KIND_EVENT, "ringing", SCOPE_CALL, {{NULL}}},
  {WTSP_MESSAGE_KIND_EVENT, "progress", SCOPE_CALL, {
          {"callee", T_STRING}}},
  {WTSP_MESSAGE_KIND_EVENT, "accepted", SCOPE_CALL, {
          {"is_focus", T_BOOL}}},
  {WTSP_MESSAGE_KIND_EVENT, "accepting", SCOPE_CALL, {{NULL}}},
  {WTSP_MESSAGE_KIND_EVENT, "incoming_call", SCOPE_CALL, {
          {"caller", T_STRING},
          {"callee", T_STRING},
          {"caller_display_name", T_STRING | T_NULL},
          {"referred_by", T_STRING | T_NULL},
          {"replace_call_id", T_STRING | T_NULL}}},
  {WTSP_MESSAGE_KIND_EVENT, "updating_call", SCOPE_CALL, {
          {"caller", T_STRING},
          {"callee", T_STRING},
          {"direction", T_STRING}}},
  {WTSP_MESSAGE_KIND_EVENT, "missed_call", SCOPE_CALL, {
          {"caller", T_STRING},
          {"callee", T_STRING}}},
  {WTSP_MESSAGE_KIND_EVENT, "declining", SCOPE_CALL, {{NULL}}},
  {WTSP_MESSAGE_KIND_EVENT, "hangingup", SCOPE_CALL, {{NULL}}},
  {WTSP_MESSAGE_KIND_EVENT, "hangup", SCOPE_CALL, {{NULL}}},
  {WTSP_MESSAGE_KIND_EVENT, "holding", SCOPE_CALL, {{NULL}}},
  {WTSP_MESSAGE_KIND_EVENT, "resuming", SCOPE_CALL, {{NULL}}},
  {WTSP_MESSAGE_KIND_EVENT, "updating", SCOPE_CALL, {{NULL}}},
  {WTSP_MESSAGE_KIND_EVENT, "updated", SCOPE_CALL, {{NULL}}},
  {WTSP_MESSAGE_KIND_EVENT, "transferring", SCOPE_CALL, {{NULL}}},
  {WTSP_MESSAGE_KIND_EVENT, "notify", SCOPE_CALL, {
          {"notify", T_STRING},
          {"subscription_state", T_STRING},
          {"content_type", T_STRING},
          {"content", T_STRING}}},
  /* registering, unregistering, unregistered, and events this code does
   * not know yet: passed on as they are */
  {WTSP_MESSAGE_KIND_EVENT, NULL, SCOPE_SESSION, {{NULL}}},
};

static const gchar *kind_keys[] = {
  [WTSP_MESSAGE_KIND_STATE] = "handshake",
  [WTSP_MESSAGE_KIND_KEEPALIVE] = "handshake",
  [WTSP_MESSAGE_KIND_REQUEST] = "request",
  [WTSP_MESSAGE_KIND_RESPONSE] = "response",
  [WTSP_MESSAGE_KIND_EVENT] = "event",
};

const gchar *
wtsp_message_kind_to_string (WtspMessageKind kind)
{
  switch (kind) {
    case WTSP_MESSAGE_KIND_STATE:
      return "state";
    case WTSP_MESSAGE_KIND_KEEPALIVE:
      return "keepalive";
    case WTSP_MESSAGE_KIND_REQUEST:
      return "request";
    case WTSP_MESSAGE_KIND_RESPONSE:
      return "response";
    case WTSP_MESSAGE_KIND_EVENT:
      return "event";
  }
  return "unknown";
}

static guint
node_type_flag (JsonNode * node)
{
  switch (json_node_get_node_type (node)) {
    case JSON_NODE_OBJECT:
      return T_OBJECT;
    case JSON_NODE_ARRAY:
      return T_ARRAY;
    case JSON_NODE_NULL:
      return T_NULL;
    case JSON_NODE_VALUE:
      switch (json_node_get_value_type (node)) {
        case G_TYPE_STRING:
          return T_STRING;
        case G_TYPE_INT64:
          return T_INT | T_NUMBER;
        case G_TYPE_DOUBLE:
          return T_NUMBER;
        case G_TYPE_BOOLEAN:
          return T_BOOL;
        default:
          return 0;
      }
  }
  return 0;
}

static const gchar *
node_type_name (JsonNode * node)
{
  switch (node_type_flag (node)) {
    case T_OBJECT:
      return "an object";
    case T_ARRAY:
      return "an array";
    case T_NULL:
      return "null";
    case T_STRING:
      return "a string";
    case T_INT | T_NUMBER:
      return "an integer";
    case T_NUMBER:
      return "a fractional number";
    case T_BOOL:
      return "a boolean";
  }
  return "of an unknown type";
}

static gchar *
expected_types (guint flags)
{
  static const struct
  {
    guint flag;
    const gchar *name;
  } names[] = {
    {T_STRING, "a string"}, {T_INT, "an integer"}, {T_NUMBER, "a number"},
    {T_BOOL, "a boolean"}, {T_OBJECT, "an object"}, {T_ARRAY, "an array"},
    {T_NULL, "null"},
  };
  GString *s = g_string_new (NULL);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (names); i++) {
    if (!(flags & names[i].flag))
      continue;
    if (s->len)
      g_string_append (s, " or ");
    g_string_append (s, names[i].name);
  }
  return g_string_free (s, FALSE);
}

/* @what names the message for the error text, e.g. 'event "hangup"' */
static gboolean
check_field (JsonObject * object, const gchar * what, const FieldSpec * f,
    GError ** error)
{
  JsonNode *node = json_object_get_member (object, f->name);
  gchar *expected;

  if (node == NULL) {
    if (!(f->flags & REQUIRED))
      return TRUE;
    g_set_error (error, WTSP_MESSAGE_ERROR, WTSP_MESSAGE_ERROR_MISSING_FIELD,
        "%s has no \"%s\" member", what, f->name);
    return FALSE;
  }
  if (node_type_flag (node) & f->flags)
    return TRUE;

  expected = expected_types (f->flags);
  g_set_error (error, WTSP_MESSAGE_ERROR, WTSP_MESSAGE_ERROR_WRONG_TYPE,
      "%s: member \"%s\" must be %s, not %s", what, f->name, expected,
      node_type_name (node));
  g_free (expected);
  return FALSE;
}

static gboolean
check_jsep (JsonObject * jsep, const gchar * what, GError ** error)
{
  static const FieldSpec fields[] = {
    {"type", T_STRING | REQUIRED}, {"sdp", T_STRING | REQUIRED},
  };
  const gchar *type;
  gchar *jwhat = g_strdup_printf ("%s: jsep", what);
  gboolean ok = check_field (jsep, jwhat, &fields[0], error)
      && check_field (jsep, jwhat, &fields[1], error);

  g_free (jwhat);
  if (!ok)
    return FALSE;

  type = json_object_get_string_member (jsep, "type");
  if (g_strcmp0 (type, "offer") && g_strcmp0 (type, "answer")
      && g_strcmp0 (type, "pranswer")) {
    g_set_error (error, WTSP_MESSAGE_ERROR, WTSP_MESSAGE_ERROR_INVALID_VALUE,
        "%s: jsep type \"%s\" is not offer, answer or pranswer", what, type);
    return FALSE;
  }
  return TRUE;
}

/* "candidate": null, {"completed": true} or an RTCIceCandidate */
static gboolean
check_candidate (JsonObject * object, const gchar * what, GError ** error)
{
  static const FieldSpec fields[] = {
    {"candidate", T_STRING}, {"sdpMid", T_STRING | T_NULL},
    {"sdpMLineIndex", T_INT | T_NULL}, {"completed", T_BOOL},
  };
  JsonNode *node = json_object_get_member (object, "candidate");
  JsonObject *c;
  gchar *cwhat;
  guint i;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  c = json_node_get_object (node);

  cwhat = g_strdup_printf ("%s: candidate", what);
  for (i = 0; i < G_N_ELEMENTS (fields); i++) {
    if (!check_field (c, cwhat, &fields[i], error)) {
      g_free (cwhat);
      return FALSE;
    }
  }
  g_free (cwhat);

  if (!json_object_has_member (c, "candidate")
      && !json_object_has_member (c, "completed")) {
    g_set_error (error, WTSP_MESSAGE_ERROR, WTSP_MESSAGE_ERROR_MISSING_FIELD,
        "%s: candidate has neither \"candidate\" nor \"completed\"", what);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_state (JsonObject * object, GError ** error)
{
  JsonArray *lines = json_object_get_array_member (object, "lines");
  JsonObject *reg;
  guint i, n = json_array_get_length (lines);

  if (json_object_get_int_member (object, "keepalive_interval") <= 0) {
    g_set_error (error, WTSP_MESSAGE_ERROR, WTSP_MESSAGE_ERROR_INVALID_VALUE,
        "handshake \"state\": keepalive_interval %" G_GINT64_FORMAT
        " is not a positive number of milliseconds",
        json_object_get_int_member (object, "keepalive_interval"));
    return FALSE;
  }

  reg = json_object_has_member (object, "registration") ?
      json_object_get_object_member (object, "registration") : NULL;
  if (reg) {
    static const FieldSpec status = { "status", T_STRING | REQUIRED };
    if (!check_field (reg, "handshake \"state\": registration", &status, error))
      return FALSE;
  }

  for (i = 0; i < n; i++) {
    static const FieldSpec line_fields[] = {
      {"call_id", T_STRING | T_NULL}, {"call_logs", T_ARRAY},
    };
    JsonNode *line = json_array_get_element (lines, i);
    JsonArray *logs;
    gchar *what;
    guint j, k;

    if (JSON_NODE_HOLDS_NULL (line))
      continue;
    if (!JSON_NODE_HOLDS_OBJECT (line)) {
      g_set_error (error, WTSP_MESSAGE_ERROR, WTSP_MESSAGE_ERROR_WRONG_TYPE,
          "handshake \"state\": lines[%u] must be null or an object, not %s",
          i, node_type_name (line));
      return FALSE;
    }
    what = g_strdup_printf ("handshake \"state\": lines[%u]", i);
    for (k = 0; k < G_N_ELEMENTS (line_fields); k++) {
      if (!check_field (json_node_get_object (line), what, &line_fields[k],
              error)) {
        g_free (what);
        return FALSE;
      }
    }
    g_free (what);

    logs = json_object_has_member (json_node_get_object (line), "call_logs") ?
        json_object_get_array_member (json_node_get_object (line),
        "call_logs") : NULL;
    for (j = 0; logs && j < json_array_get_length (logs); j++) {
      JsonNode *entry = json_array_get_element (logs, j);
      JsonArray *pair;

      if (!JSON_NODE_HOLDS_ARRAY (entry)
          || json_array_get_length (pair = json_node_get_array (entry)) != 2
          || node_type_flag (json_array_get_element (pair, 0)) != (T_INT |
              T_NUMBER)
          || !JSON_NODE_HOLDS_OBJECT (json_array_get_element (pair, 1))) {
        g_set_error (error, WTSP_MESSAGE_ERROR, WTSP_MESSAGE_ERROR_WRONG_TYPE,
            "handshake \"state\": lines[%u].call_logs[%u] is not a "
            "[timestamp, message] pair", i, j);
        return FALSE;
      }
    }
  }
  return TRUE;
}

/* TRUE if a \uXXXX escape starts at @data[@i], whose value goes to @u */
static gboolean
u_escape_at (const gchar * data, gsize length, gsize i, guint * u)
{
  guint k;

  if (i + 6 > length || data[i] != '\\' || data[i + 1] != 'u')
    return FALSE;
  for (*u = 0, k = 2; k < 6; k++) {
    if (!g_ascii_isxdigit (data[i + k]))
      return FALSE;
    *u = (*u << 4) | g_ascii_xdigit_value (data[i + k]);
  }
  return TRUE;
}

/* Refuses nesting deeper than MAX_DEPTH before json-glib, which parses
 * recursively with no limit of its own, sees the text.
 *
 * Counting brackets is only sound if we know exactly where strings begin
 * and end, the way json-glib's scanner does. json-glib 1.6 also accepts
 * things that are not JSON, and some of them move a string's end out of
 * our sight: '...' strings and comments (a '"' inside them), a \u escape
 * with fewer than four hex digits (it then swallows the next character,
 * even a '"'), a lone UTF-16 surrogate (it swallows up to two characters
 * looking for the other half). So allow only RFC 8259 syntax there: no
 * quote or slash outside strings, only the standard escapes, surrogates in
 * pairs. Every other oddity json-glib may accept (hex numbers, raw control
 * characters) cannot hide a quote or a bracket. */
static gboolean
check_syntax (const gchar * data, gsize length, GError ** error)
{
  gboolean in_string = FALSE;
  guint depth = 0;
  gsize i, esc = 0;

  for (i = 0; i < length; i++) {
    gchar c = data[i];

    if (in_string) {
      guint u;

      if (c == '"') {
        in_string = FALSE;
        continue;
      }
      if (c != '\\')
        continue;
      esc = i;
      if (i + 1 < length && data[i + 1] != '\0'
          && strchr ("\"\\/bfnrt", data[i + 1]) != NULL) {
        i++;
        continue;
      }
      if (!u_escape_at (data, length, i, &u))
        goto bad_escape;
      i += 5;
      if (u >= 0xdc00 && u <= 0xdfff)
        goto bad_surrogate;
      if (u >= 0xd800 && u <= 0xdbff) {
        /* the low half must follow at once */
        if (!u_escape_at (data, length, i + 1, &u) || u < 0xdc00 || u > 0xdfff)
          goto bad_surrogate;
        i += 6;
      }
    } else if (c == '"') {
      in_string = TRUE;
    } else if (c == '{' || c == '[') {
      if (++depth > MAX_DEPTH) {
        g_set_error (error, WTSP_MESSAGE_ERROR,
            WTSP_MESSAGE_ERROR_INVALID_JSON,
            "message nests objects or arrays deeper than %d levels",
            MAX_DEPTH);
        return FALSE;
      }
    } else if ((c == '}' || c == ']') && depth > 0) {
      depth--;
    } else if (c == '\'' || c == '/') {
      g_set_error (error, WTSP_MESSAGE_ERROR, WTSP_MESSAGE_ERROR_INVALID_JSON,
          "message is not JSON: unexpected character '%c' at offset %"
          G_GSIZE_FORMAT " (comments and single-quoted strings are not JSON)",
          c, i);
      return FALSE;
    }
  }
  return TRUE;

bad_escape:
  g_set_error (error, WTSP_MESSAGE_ERROR, WTSP_MESSAGE_ERROR_INVALID_JSON,
      "message is not JSON: invalid escape sequence in a string at offset %"
      G_GSIZE_FORMAT, esc);
  return FALSE;
bad_surrogate:
  g_set_error (error, WTSP_MESSAGE_ERROR, WTSP_MESSAGE_ERROR_INVALID_JSON,
      "message is not JSON: unpaired UTF-16 surrogate escape in a string "
      "at offset %" G_GSIZE_FORMAT, esc);
  return FALSE;
}

/* json-glib reads 1e400 as infinity and would write it back as "inf.0",
 * which is not JSON: a message we accept must be one we can send on (a
 * server relays messages, and replays them in a state's call_logs).
 * Recursion is bounded by check_syntax(). */
static gboolean
check_numbers (JsonNode * node, const gchar * name, GError ** error)
{
  switch (JSON_NODE_TYPE (node)) {
    case JSON_NODE_OBJECT:{
      JsonObjectIter iter;
      const gchar *member;
      JsonNode *child;

      json_object_iter_init (&iter, json_node_get_object (node));
      while (json_object_iter_next (&iter, &member, &child))
        if (!check_numbers (child, member, error))
          return FALSE;
      return TRUE;
    }
    case JSON_NODE_ARRAY:{
      JsonArray *array = json_node_get_array (node);
      guint i, n = json_array_get_length (array);

      for (i = 0; i < n; i++)
        if (!check_numbers (json_array_get_element (array, i), name, error))
          return FALSE;
      return TRUE;
    }
    case JSON_NODE_VALUE:
      if (json_node_get_value_type (node) == G_TYPE_DOUBLE) {
        gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
        gdouble d = json_node_get_double (node);

        /* json-glib 1.6 writes doubles with %g and adds ".0" when there
         * is no '.': 2e55 becomes "2e+55.0", not JSON either */
        g_ascii_formatd (buf, sizeof (buf), "%g", d);
        if (!isfinite (d) || (strpbrk (buf, "eE") && !strchr (buf, '.'))) {
          g_set_error (error, WTSP_MESSAGE_ERROR,
              WTSP_MESSAGE_ERROR_INVALID_VALUE,
              "member \"%s\": number out of range", name ? name : "(root)");
          return FALSE;
        }
      }
      return TRUE;
    case JSON_NODE_NULL:
      return TRUE;
  }
  return TRUE;
}

static gboolean
find_kind (JsonObject * object, WtspMessageKind * kind, const gchar ** type,
    GError ** error)
{
  static const gchar *keys[] = { "handshake", "request", "response", "event" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (keys); i++) {
    JsonNode *node = json_object_get_member (object, keys[i]);

    if (node == NULL)
      continue;
    if (node_type_flag (node) != T_STRING) {
      g_set_error (error, WTSP_MESSAGE_ERROR, WTSP_MESSAGE_ERROR_WRONG_TYPE,
          "member \"%s\" must be a string, not %s", keys[i],
          node_type_name (node));
      return FALSE;
    }
    *type = json_node_get_string (node);
    switch (i) {
      case 0:
        if (g_str_equal (*type, "state"))
          *kind = WTSP_MESSAGE_KIND_STATE;
        else if (g_str_equal (*type, "keepalive"))
          *kind = WTSP_MESSAGE_KIND_KEEPALIVE;
        else {
          g_set_error (error, WTSP_MESSAGE_ERROR,
              WTSP_MESSAGE_ERROR_INVALID_VALUE,
              "unknown handshake \"%s\" (expected state or keepalive)", *type);
          return FALSE;
        }
        break;
      case 1:
        *kind = WTSP_MESSAGE_KIND_REQUEST;
        break;
      case 2:
        if (!g_str_equal (*type, "ack") && !g_str_equal (*type, "error")) {
          g_set_error (error, WTSP_MESSAGE_ERROR,
              WTSP_MESSAGE_ERROR_INVALID_VALUE,
              "unknown response \"%s\" (expected ack or error)", *type);
          return FALSE;
        }
        *kind = WTSP_MESSAGE_KIND_RESPONSE;
        break;
      default:
        *kind = WTSP_MESSAGE_KIND_EVENT;
        break;
    }
    if (**type == '\0') {
      g_set_error (error, WTSP_MESSAGE_ERROR, WTSP_MESSAGE_ERROR_INVALID_VALUE,
          "member \"%s\" is an empty string", keys[i]);
      return FALSE;
    }
    return TRUE;
  }

  g_set_error_literal (error, WTSP_MESSAGE_ERROR,
      WTSP_MESSAGE_ERROR_UNKNOWN_KIND,
      "message has no \"handshake\", \"request\", \"response\" or "
      "\"event\" member");
  return FALSE;
}

static const MessageSpec *
find_spec (WtspMessageKind kind, const gchar * type)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (message_specs); i++) {
    const MessageSpec *spec = &message_specs[i];

    if (spec->kind != kind)
      continue;
    if (spec->type == NULL || g_str_equal (spec->type, type))
      return spec;
  }
  return NULL;
}

static gboolean
validate (JsonObject * object, WtspMessageKind kind, const gchar * type,
    GError ** error)
{
  const MessageSpec *spec = find_spec (kind, type);
  FieldSpec scoped[] = { {"line", T_INT | T_NULL | REQUIRED},
  {"call_id", T_STRING | REQUIRED}
  };
  gchar *what;
  gboolean ok = FALSE;
  guint i;

  if (kind == WTSP_MESSAGE_KIND_STATE || kind == WTSP_MESSAGE_KIND_KEEPALIVE)
    what = g_strdup_printf ("handshake \"%s\"", type);
  else
    what = g_strdup_printf ("%s \"%s\"", kind_keys[kind], type);

  for (i = 0; common_fields[i].name; i++)
    if (!check_field (object, what, &common_fields[i], error))
      goto done;
  for (i = 0; spec && i < G_N_ELEMENTS (spec->fields) && spec->fields[i].name;
      i++)
    if (!check_field (object, what, &spec->fields[i], error))
      goto done;
  if (spec && spec->scope >= SCOPE_LINE
      && !check_field (object, what, &scoped[0], error))
    goto done;
  if (spec && spec->scope >= SCOPE_CALL
      && !check_field (object, what, &scoped[1], error))
    goto done;

  if (json_object_has_member (object, "line")
      && !json_object_get_null_member (object, "line")
      && json_object_get_int_member (object, "line") < 0) {
    g_set_error (error, WTSP_MESSAGE_ERROR, WTSP_MESSAGE_ERROR_INVALID_VALUE,
        "%s: line %" G_GINT64_FORMAT " is negative", what,
        json_object_get_int_member (object, "line"));
    goto done;
  }
  if (json_object_has_member (object, "jsep")
      && !json_object_get_null_member (object, "jsep")
      && !check_jsep (json_object_get_object_member (object, "jsep"), what,
          error))
    goto done;
  if (g_str_equal (type, "ice_trickle") && !check_candidate (object, what,
          error))
    goto done;
  if (kind == WTSP_MESSAGE_KIND_STATE && !check_state (object, error))
    goto done;
  if (kind == WTSP_MESSAGE_KIND_REQUEST && g_str_equal (type, "hold")
      && json_object_has_member (object, "direction")) {
    const gchar *dir = json_object_get_string_member (object, "direction");
    if (g_strcmp0 (dir, "sendonly") && g_strcmp0 (dir, "recvonly")
        && g_strcmp0 (dir, "inactive")) {
      g_set_error (error, WTSP_MESSAGE_ERROR, WTSP_MESSAGE_ERROR_INVALID_VALUE,
          "%s: direction \"%s\" is not sendonly, recvonly or inactive", what,
          dir);
      goto done;
    }
  }
  ok = TRUE;

done:
  g_free (what);
  return ok;
}

static WtspMessage *
message_new (JsonObject * object, WtspMessageKind kind, const gchar * type)
{
  WtspMessage *msg = g_new0 (WtspMessage, 1);
  JsonNode *line;

  msg->refcount = 1;
  msg->kind = kind;
  msg->type = g_strdup (type);
  msg->object = json_object_ref (object);
  msg->transaction = g_strdup (json_object_get_string_member_with_default
      (object, "transaction", NULL));
  msg->call_id = g_strdup (json_object_get_string_member_with_default
      (object, "call_id", NULL));
  msg->reason = g_strdup (json_object_get_string_member_with_default
      (object, "reason", NULL));
  msg->code = json_object_get_int_member_with_default (object, "code", 0);

  line = json_object_get_member (object, "line");
  if (line == NULL)
    msg->line = WTSP_LINE_NONE;
  else if (JSON_NODE_HOLDS_NULL (line))
    msg->line = WTSP_LINE_GUEST;
  else
    msg->line = (gint) MIN (json_node_get_int (line), G_MAXINT);

  return msg;
}

/**
 * wtsp_message_new_from_object:
 * @object: a JSON object
 * @error: where to say what is wrong with it
 *
 * Validates @object as a WTSP message (protocol.md) and wraps it.
 *
 * Returns: (transfer full) (nullable): the message, or %NULL with @error set
 */
WtspMessage *
wtsp_message_new_from_object (JsonObject * object, GError ** error)
{
  WtspMessageKind kind = WTSP_MESSAGE_KIND_EVENT;
  const gchar *type = NULL;

  g_return_val_if_fail (object != NULL, NULL);

  if (!find_kind (object, &kind, &type, error))
    return NULL;
  if (!validate (object, kind, type, error))
    return NULL;
  return message_new (object, kind, type);
}

/**
 * wtsp_message_parse:
 * @data: the text of one WebSocket message
 * @length: its length, or -1 if NUL-terminated
 * @error: where to say what is wrong with it
 *
 * Returns: (transfer full) (nullable): the message, or %NULL with @error set
 */
WtspMessage *
wtsp_message_parse (const gchar * data, gssize length, GError ** error)
{
  JsonParser *parser;
  JsonNode *root;
  WtspMessage *msg = NULL;
  GError *err = NULL;

  g_return_val_if_fail (data != NULL, NULL);

  if (length < 0)
    length = strlen (data);

  if (length > WTSP_DEFAULT_MAX_MESSAGE_SIZE) {
    g_set_error (error, WTSP_MESSAGE_ERROR, WTSP_MESSAGE_ERROR_TOO_LARGE,
        "message of %" G_GSSIZE_FORMAT " bytes is over the limit of %d",
        length, WTSP_DEFAULT_MAX_MESSAGE_SIZE);
    return NULL;
  }
  if (memchr (data, '\0', length) != NULL) {
    g_set_error_literal (error, WTSP_MESSAGE_ERROR,
        WTSP_MESSAGE_ERROR_INVALID_JSON, "message contains a NUL byte");
    return NULL;
  }
  if (!check_syntax (data, length, error))
    return NULL;

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, length, &err)) {
    g_set_error (error, WTSP_MESSAGE_ERROR, WTSP_MESSAGE_ERROR_INVALID_JSON,
        "message is not JSON: %s", err->message);
    g_clear_error (&err);
    goto out;
  }

  root = json_parser_get_root (parser);
  /* json-glib 1.6 takes empty or blank text as a document without root;
   * it is not JSON */
  if (root == NULL) {
    g_set_error_literal (error, WTSP_MESSAGE_ERROR,
        WTSP_MESSAGE_ERROR_INVALID_JSON, "message is empty");
    goto out;
  }
  if (!JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, WTSP_MESSAGE_ERROR, WTSP_MESSAGE_ERROR_NOT_OBJECT,
        "message is %s, not a JSON object", node_type_name (root));
    goto out;
  }
  if (!check_numbers (root, NULL, error))
    goto out;

  msg = wtsp_message_new_from_object (json_node_get_object (root), error);
  if (msg)
    msg->text = g_strndup (data, length);

out:
  g_object_unref (parser);
  return msg;
}

WtspMessage *
wtsp_message_ref (WtspMessage * msg)
{
  g_return_val_if_fail (msg != NULL, NULL);
  g_atomic_int_inc (&msg->refcount);
  return msg;
}

void
wtsp_message_unref (WtspMessage * msg)
{
  g_return_if_fail (msg != NULL);
  if (!g_atomic_int_dec_and_test (&msg->refcount))
    return;
  g_free (msg->type);
  g_free (msg->transaction);
  g_free (msg->call_id);
  g_free (msg->reason);
  g_free (msg->text);
  json_object_unref (msg->object);
  g_free (msg);
}

/**
 * wtsp_message_to_string:
 *
 * Returns: (transfer none): the message as compact JSON text; for a parsed
 *     message, the text exactly as it was received
 */
const gchar *
wtsp_message_to_string (WtspMessage * msg)
{
  gchar *text;

  g_return_val_if_fail (msg != NULL, NULL);

  /* The message is immutable, so at worst two threads make the same text */
  if (g_atomic_pointer_get (&msg->text) == NULL) {
    text = wtsp_object_to_string (msg->object);
    if (!g_atomic_pointer_compare_and_exchange (&msg->text, NULL, text))
      g_free (text);
  }
  return msg->text;
}

gboolean
wtsp_message_is_event (WtspMessage * msg, const gchar * type)
{
  return msg->kind == WTSP_MESSAGE_KIND_EVENT && g_str_equal (msg->type, type);
}

const gchar *
wtsp_message_get_string (WtspMessage * msg, const gchar * name)
{
  JsonNode *node = json_object_get_member (msg->object, name);

  if (node == NULL || node_type_flag (node) != T_STRING)
    return NULL;
  return json_node_get_string (node);
}

gint64
wtsp_message_get_int (WtspMessage * msg, const gchar * name,
    gint64 default_value)
{
  JsonNode *node = json_object_get_member (msg->object, name);

  if (node == NULL || !(node_type_flag (node) & T_INT))
    return default_value;
  return json_node_get_int (node);
}

JsonObject *
wtsp_message_get_object (WtspMessage * msg, const gchar * name)
{
  JsonNode *node = json_object_get_member (msg->object, name);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  return json_node_get_object (node);
}

/**
 * wtsp_message_get_jsep:
 * @type: (out) (optional): "offer", "answer" or "pranswer"
 * @sdp: (out) (optional): the SDP text
 *
 * Returns: %TRUE if the message carries a session description
 */
gboolean
wtsp_message_get_jsep (WtspMessage * msg, const gchar ** type,
    const gchar ** sdp)
{
  JsonObject *jsep = wtsp_message_get_object (msg, "jsep");

  if (jsep == NULL)
    return FALSE;
  if (type)
    *type = json_object_get_string_member (jsep, "type");
  if (sdp)
    *sdp = json_object_get_string_member (jsep, "sdp");
  return TRUE;
}

/**
 * wtsp_message_to_structure:
 * @name: the structure's name
 *
 * The message as named fields for a bus message: kind, type, line
 * (-1 = guest line; absent if the message has none), call-id,
 * transaction, code, reason, caller, callee where present, and json, the
 * whole message text.
 *
 * Returns: (transfer full): a new structure
 */
GstStructure *
wtsp_message_to_structure (WtspMessage * msg, const gchar * name)
{
  static const gchar *extra[] = { "caller", "callee", "number", "phrase" };
  GstStructure *s;
  guint i;

  s = gst_structure_new (name,
      "kind", G_TYPE_STRING, wtsp_message_kind_to_string (msg->kind),
      "type", G_TYPE_STRING, msg->type, NULL);
  if (msg->line != WTSP_LINE_NONE)
    gst_structure_set (s, "line", G_TYPE_INT, msg->line, NULL);
  if (msg->call_id)
    gst_structure_set (s, "call-id", G_TYPE_STRING, msg->call_id, NULL);
  if (msg->transaction)
    gst_structure_set (s, "transaction", G_TYPE_STRING, msg->transaction,
        NULL);
  if (json_object_has_member (msg->object, "code"))
    gst_structure_set (s, "code", G_TYPE_INT, msg->code, NULL);
  if (msg->reason)
    gst_structure_set (s, "reason", G_TYPE_STRING, msg->reason, NULL);
  for (i = 0; i < G_N_ELEMENTS (extra); i++) {
    const gchar *v = wtsp_message_get_string (msg, extra[i]);
    if (v)
      gst_structure_set (s, extra[i], G_TYPE_STRING, v, NULL);
  }
  gst_structure_set (s, "json", G_TYPE_STRING, wtsp_message_to_string (msg),
      NULL);
  return s;
}

/* Building */

void
wtsp_object_set_line (JsonObject * object, gint line)
{
  if (line == WTSP_LINE_NONE)
    json_object_remove_member (object, "line");
  else if (line == WTSP_LINE_GUEST)
    json_object_set_null_member (object, "line");
  else
    json_object_set_int_member (object, "line", line);
}

static JsonObject *
object_new (const gchar * key, const gchar * type, gint line,
    const gchar * call_id)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, key, type);
  wtsp_object_set_line (o, line);
  if (call_id)
    json_object_set_string_member (o, "call_id", call_id);
  return o;
}

/**
 * wtsp_request_new:
 * @type: the request type, e.g. "outgoing_call"
 * @line: a line number, %WTSP_LINE_GUEST or %WTSP_LINE_NONE
 * @call_id: (nullable): the call
 *
 * A request without its transaction: the session adds one when it sends it.
 *
 * Returns: (transfer full): a new JSON object
 */
JsonObject *
wtsp_request_new (const gchar * type, gint line, const gchar * call_id)
{
  return object_new ("request", type, line, call_id);
}

JsonObject *
wtsp_event_new (const gchar * type, gint line, const gchar * call_id)
{
  return object_new ("event", type, line, call_id);
}

JsonObject *
wtsp_response_new_ack (const gchar * transaction, gint line,
    const gchar * call_id)
{
  JsonObject *o = object_new ("response", "ack", line, call_id);

  json_object_set_string_member (o, "transaction", transaction);
  return o;
}

JsonObject *
wtsp_response_new_error (const gchar * transaction, gint line,
    const gchar * call_id, gint code, const gchar * reason)
{
  JsonObject *o = object_new ("response", "error", line, call_id);

  json_object_set_string_member (o, "transaction", transaction);
  json_object_set_int_member (o, "code", code);
  json_object_set_string_member (o, "reason", reason ? reason :
      wtsp_response_code_describe (code));
  return o;
}

JsonObject *
wtsp_jsep_new (const gchar * type, const gchar * sdp)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "type", type);
  json_object_set_string_member (o, "sdp", sdp);
  return o;
}

gchar *
wtsp_object_to_string (JsonObject * object)
{
  JsonNode *node = json_node_init_object (json_node_alloc (), object);
  gchar *text = json_to_string (node, FALSE);

  json_node_unref (node);
  return text;
}

static JsonNode *
value_to_node (const GValue * v, GError ** error);

static JsonObject *
structure_to_object (const GstStructure * s, GError ** error)
{
  JsonObject *o = json_object_new ();
  guint i, n = gst_structure_n_fields (s);

  for (i = 0; i < n; i++) {
    const gchar *name = gst_structure_nth_field_name (s, i);
    gchar *member = g_strdelimit (g_strdup (name), "-", '_');
    JsonNode *node = value_to_node (gst_structure_get_value (s, name), error);

    if (node == NULL) {
      g_prefix_error (error, "field \"%s\": ", name);
      g_free (member);
      json_object_unref (o);
      return NULL;
    }
    json_object_set_member (o, member, node);
    g_free (member);
  }
  return o;
}

static JsonNode *
value_to_node (const GValue * v, GError ** error)
{
  JsonNode *node = json_node_alloc ();
  GType t = G_VALUE_TYPE (v);

  /* json-glib crashes writing a string node that holds NULL, e.g. from
   * `call-id=(string)NULL`: send null */
  if (t == G_TYPE_STRING && g_value_get_string (v) == NULL)
    return json_node_init_null (node);
  if (t == G_TYPE_STRING)
    return json_node_init_string (node, g_value_get_string (v));
  if (t == G_TYPE_INT)
    return json_node_init_int (node, g_value_get_int (v));
  if (t == G_TYPE_UINT)
    return json_node_init_int (node, g_value_get_uint (v));
  if (t == G_TYPE_INT64)
    return json_node_init_int (node, g_value_get_int64 (v));
  if (t == G_TYPE_BOOLEAN)
    return json_node_init_boolean (node, g_value_get_boolean (v));
  if (t == G_TYPE_DOUBLE && isfinite (g_value_get_double (v)))
    return json_node_init_double (node, g_value_get_double (v));
  if (t == G_TYPE_DOUBLE) {
    json_node_unref (node);
    g_set_error (error, WTSP_MESSAGE_ERROR, WTSP_MESSAGE_ERROR_INVALID_VALUE,
        "%g cannot be sent as a JSON number", g_value_get_double (v));
    return NULL;
  }
  if (t == GST_TYPE_STRUCTURE) {
    JsonObject *o = structure_to_object (gst_value_get_structure (v), error);
    if (o) {
      json_node_take_object (json_node_init (node, JSON_NODE_OBJECT), o);
      return node;
    }
    json_node_unref (node);
    return NULL;
  }

  json_node_unref (node);
  g_set_error (error, WTSP_MESSAGE_ERROR, WTSP_MESSAGE_ERROR_WRONG_TYPE,
      "values of type %s cannot be sent as JSON", g_type_name (t));
  return NULL;
}

/**
 * wtsp_request_new_from_structure:
 * @s: a structure named after the request type, e.g.
 *     `hangup, line=(int)0, call-id=abc`
 *
 * Field names map to members with '-' replaced by '_'; nested structures
 * become objects (e.g. `jsep=(structure)"jsep,type=offer,sdp=..."`).
 * "line" -1 means the guest line (null).
 *
 * Returns: (transfer full) (nullable): the request without transaction
 */
JsonObject *
wtsp_request_new_from_structure (const GstStructure * s, GError ** error)
{
  JsonObject *o;
  gint line;

  /* every call_id of the protocol is a string: a request that names one
   * must give it, or no server could match it */
  if (gst_structure_has_field_typed (s, "call-id", G_TYPE_STRING)
      && gst_structure_get_string (s, "call-id") == NULL) {
    g_set_error (error, WTSP_MESSAGE_ERROR, WTSP_MESSAGE_ERROR_WRONG_TYPE,
        "%s request: member \"call_id\" must be a string, not null",
        gst_structure_get_name (s));
    return NULL;
  }
  o = structure_to_object (s, error);
  if (o == NULL)
    return NULL;
  json_object_set_string_member (o, "request", gst_structure_get_name (s));
  if (gst_structure_get_int (s, "line", &line) && line == WTSP_LINE_GUEST)
    json_object_set_null_member (o, "line");
  return o;
}

/* Codes, protocol.md §5 and §9 */

typedef struct
{
  gint first, last;
  const gchar *text;
} CodeRange;

static const CodeRange close_codes[] = {
  {1000, 1000, "normal closure"},
  {1001, 1001, "server going away"},
  {1006, 1006, "connection lost"},
  {1009, 1009, "message too big"},
  {1011, 1011, "server internal error"},
  {4101, 4101, "socket message error"},
  {4201, 4201, "session missed"},
  {4300, 4301, "application error"},
  {4302, 4302, "unregistered"},
  {4400, 4430, "controller error"},
  {4431, 4431, "controller attached (the session is held by another "
        "connection)"},
  {4432, 4432, "controller not attached"},
  {4441, 4441, "replaced by a forced connection"},
  {4501, 4501, "signaling message error"},
  {4502, 4502, "keepalive timeout"},
  {4600, 4609, "request error"},
  {4610, 4610, "request error: call id"},
};

const gchar *
wtsp_close_code_describe (gushort code)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (close_codes); i++)
    if (code >= close_codes[i].first && code <= close_codes[i].last)
      return close_codes[i].text;
  return "unknown close code";
}

/**
 * wtsp_close_code_is_transient:
 *
 * Returns: %TRUE if a client should reconnect after the server closed its
 *     connection with @code (protocol.md §9): the link, not the session,
 *     failed.
 */
gboolean
wtsp_close_code_is_transient (gushort code)
{
  switch (code) {
    case 0:                    /* no close frame at all */
    case 1000:
    case 1001:
    case 1006:
    case 1009:
    case 1011:
    case 1012:                 /* service restart */
    case 1013:                 /* try again later */
    case 4201:
    case 4431:                 /* our previous socket is still attached */
    case 4502:
      return TRUE;
    default:
      return FALSE;
  }
}

static const CodeRange response_codes[] = {
  {403, 403, "unauthorized"},
  {405, 405, "not allowed"},
  {450, 450, "transport error"},
  {452, 452, "missing request"},
  {453, 453, "unknown request"},
  {454, 454, "invalid JSON"},
  {455, 455, "invalid JSON object"},
  {456, 456, "missing mandatory element"},
  {457, 457, "invalid path"},
  {458, 458, "session not found"},
  {459, 459, "handle not found"},
  {460, 463, "plugin error"},
  {464, 464, "unsupported JSEP type"},
  {465, 465, "invalid SDP"},
  {466, 466, "invalid stream"},
  {467, 467, "invalid element type"},
  {468, 468, "session id in use"},
  {469, 469, "unexpected answer"},
  {470, 470, "token not found"},
  {471, 471, "wrong WebRTC state"},
  {472, 472, "not accepting new sessions"},
  {490, 490, "unknown error"},
};

const gchar *
wtsp_response_code_describe (gint code)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (response_codes); i++)
    if (code >= response_codes[i].first && code <= response_codes[i].last)
      return response_codes[i].text;
  return "unknown error";
}
