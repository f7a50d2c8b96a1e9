/* WebTrit Signaling Protocol (WTSP): request/answer transactions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __WTSP_TRANSACTIONS_H__
#define __WTSP_TRANSACTIONS_H__

#include "wtspmessage.h"

G_BEGIN_DECLS

/* Values of the "result" field of a transaction's promise reply */
#define WTSP_RESULT_ACK          "ack"
#define WTSP_RESULT_ERROR        "error"
#define WTSP_RESULT_TIMEOUT      "timeout"
#define WTSP_RESULT_DISCONNECTED "disconnected"
#define WTSP_RESULT_INVALID      "invalid"

/* Name of the structure a transaction's promise is replied with */
#define WTSP_REPLY_NAME "wtsp-reply"

typedef struct _WtspTransactions WtspTransactions;

WtspTransactions *wtsp_transactions_new (GMainContext * context,
    GstObject * owner);
void wtsp_transactions_free (WtspTransactions * t);

gchar *wtsp_transactions_begin (WtspTransactions * t, JsonObject * request,
    GstPromise * promise, guint timeout_ms);
gboolean wtsp_transactions_complete (WtspTransactions * t,
    WtspMessage * answer);
void wtsp_transactions_fail_all (WtspTransactions * t, const gchar * result,
    const gchar * reason);
void wtsp_transactions_fail_sent (WtspTransactions * t, const gchar * result,
    const gchar * reason);
void wtsp_transactions_sent (WtspTransactions * t, const gchar * id);
guint wtsp_transactions_pending (WtspTransactions * t);
gboolean wtsp_transactions_has (WtspTransactions * t, const gchar * id);

void wtsp_promise_reply_failure (GstPromise * promise,
    const gchar * request, const gchar * result, const gchar * reason);
const gchar *wtsp_reply_get_result (const GstStructure * reply);

G_END_DECLS

#endif /* __WTSP_TRANSACTIONS_H__ */
