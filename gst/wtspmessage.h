/* WebTrit Signaling Protocol (WTSP): messages
 *
 * Parsing, validation and building of the JSON messages described in
 * docs/protocol-mapping.md (a summary of the WTSP documentation).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __WTSP_MESSAGE_H__
#define __WTSP_MESSAGE_H__

#include <gst/gst.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The WebSocket sub-protocol every connection must ask for */
#define WTSP_SUBPROTOCOL "webtrit-protocol"

/* Largest message we accept from a peer, in bytes */
#define WTSP_DEFAULT_MAX_MESSAGE_SIZE (1024 * 1024)

/* Values of WtspMessage.line besides a line number */
#define WTSP_LINE_NONE  (-2)    /* no "line" member */
#define WTSP_LINE_GUEST (-1)    /* "line": null, the guest line */

typedef enum
{
  WTSP_MESSAGE_KIND_STATE,      /* "handshake": "state" */
  WTSP_MESSAGE_KIND_KEEPALIVE,  /* "handshake": "keepalive" */
  WTSP_MESSAGE_KIND_REQUEST,    /* "request": TYPE */
  WTSP_MESSAGE_KIND_RESPONSE,   /* "response": "ack" | "error" */
  WTSP_MESSAGE_KIND_EVENT,      /* "event": TYPE */
} WtspMessageKind;

#define WTSP_MESSAGE_ERROR (wtsp_message_error_quark ())
GQuark wtsp_message_error_quark (void);

typedef enum
{
  WTSP_MESSAGE_ERROR_INVALID_JSON,      /* not JSON at all */
  WTSP_MESSAGE_ERROR_NOT_OBJECT,        /* JSON, but not an object */
  WTSP_MESSAGE_ERROR_UNKNOWN_KIND,      /* no handshake/request/response/event key */
  WTSP_MESSAGE_ERROR_MISSING_FIELD,     /* a required member is absent */
  WTSP_MESSAGE_ERROR_WRONG_TYPE,        /* a member has the wrong JSON type */
  WTSP_MESSAGE_ERROR_INVALID_VALUE,     /* right type, impossible value */
  WTSP_MESSAGE_ERROR_TOO_LARGE,         /* over the size limit */
} WtspMessageError;

/**
 * WtspMessage:
 * @kind: which of the four kinds of message this is
 * @type: the value of the kind's key: "state", "keepalive", the request
 *     type, "ack" / "error", or the event type
 * @transaction: (nullable): the "transaction" member
 * @line: the line number, %WTSP_LINE_GUEST for null, %WTSP_LINE_NONE if absent
 * @call_id: (nullable): the "call_id" member
 * @code: the "code" member, 0 if absent
 * @reason: (nullable): the "reason" member
 * @object: the whole message; unknown members are kept here untouched
 *
 * A validated WTSP message. Immutable once made, reference counted, safe
 * to pass between threads.
 */
typedef struct _WtspMessage
{
  WtspMessageKind kind;
  gchar *type;
  gchar *transaction;
  gint line;
  gchar *call_id;
  gint code;
  gchar *reason;
  JsonObject *object;

  /*< private >*/
  gint refcount;
  gchar *text;
} WtspMessage;

GType wtsp_message_get_type (void);
#define WTSP_TYPE_MESSAGE (wtsp_message_get_type ())

WtspMessage *wtsp_message_parse (const gchar * data, gssize length,
    GError ** error);
WtspMessage *wtsp_message_new_from_object (JsonObject * object,
    GError ** error);
WtspMessage *wtsp_message_ref (WtspMessage * msg);
void wtsp_message_unref (WtspMessage * msg);

const gchar *wtsp_message_to_string (WtspMessage * msg);
const gchar *wtsp_message_kind_to_string (WtspMessageKind kind);

gboolean wtsp_message_is_event (WtspMessage * msg, const gchar * type);

/* Typed access to members the validator has checked */
const gchar *wtsp_message_get_string (WtspMessage * msg, const gchar * name);
gint64 wtsp_message_get_int (WtspMessage * msg, const gchar * name,
    gint64 default_value);
JsonObject *wtsp_message_get_object (WtspMessage * msg, const gchar * name);
gboolean wtsp_message_get_jsep (WtspMessage * msg, const gchar ** type,
    const gchar ** sdp);

GstStructure *wtsp_message_to_structure (WtspMessage * msg,
    const gchar * name);

/* Building messages to send */
JsonObject *wtsp_request_new (const gchar * type, gint line,
    const gchar * call_id);
JsonObject *wtsp_request_new_from_structure (const GstStructure * s,
    GError ** error);
JsonObject *wtsp_jsep_new (const gchar * type, const gchar * sdp);
JsonObject *wtsp_event_new (const gchar * type, gint line,
    const gchar * call_id);
JsonObject *wtsp_response_new_ack (const gchar * transaction, gint line,
    const gchar * call_id);
JsonObject *wtsp_response_new_error (const gchar * transaction, gint line,
    const gchar * call_id, gint code, const gchar * reason);
void wtsp_object_set_line (JsonObject * object, gint line);
gchar *wtsp_object_to_string (JsonObject * object);

/* Codes */
const gchar *wtsp_close_code_describe (gushort code);
gboolean wtsp_close_code_is_transient (gushort code);
const gchar *wtsp_response_code_describe (gint code);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WtspMessage, wtsp_message_unref);

G_END_DECLS

#endif /* __WTSP_MESSAGE_H__ */
