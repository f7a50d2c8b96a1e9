/* WebTrit Signaling Protocol (WTSP): request/answer transactions
 *
 * Every request carries a unique "transaction"; the server settles it with
 * an "ack" or "error" response (a keepalive with its echo). Answers come
 * in any order, or late, after the timeout; a late one is logged and
 * ignored. Each transaction owns a GstPromise that is always replied to,
 * exactly once: with the answer, on timeout, or when the link drops.
 * A request that waits for the link (wtsp_transactions_begin() without
 * wtsp_transactions_sent()) survives a link that drops: only the
 * requests sent on it are lost with it (wtsp_transactions_fail_sent()).
 *
 * Used only from the session's own thread (its GMainContext).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "wtsptransactions.h"

GST_DEBUG_CATEGORY_STATIC (wtsp_transactions_debug);
#define GST_CAT_DEFAULT wtsp_transactions_debug

/* How many timed-out ids to remember, to tell a late answer from junk */
#define EXPIRED_MEMORY 64

struct _WtspTransactions
{
  GMainContext *context;
  GstObject *owner;             /* for log lines only, not a reference */
  guint64 counter;
  GHashTable *pending;          /* id -> Transaction */
  GQueue expired;               /* ids that timed out, newest last */
};

typedef struct
{
  WtspTransactions *t;
  gchar *id;
  gchar *request;               /* request type, for replies and logs */
  gint line;
  GstPromise *promise;
  GSource *timeout;
  gint64 started;
  gboolean sent;                /* FALSE while it waits for the link */
} Transaction;

/* gst_clear_promise() is 1.24 */
static void
clear_promise (GstPromise ** promise)
{
  if (*promise) {
    gst_promise_unref (*promise);
    *promise = NULL;
  }
}

static void
transaction_free (Transaction * tr)
{
  if (tr->timeout) {
    g_source_destroy (tr->timeout);
    g_source_unref (tr->timeout);
  }
  /* Never leave a caller waiting, whatever path freed us */
  if (tr->promise) {
    wtsp_promise_reply_failure (tr->promise, tr->request,
        WTSP_RESULT_DISCONNECTED, "the session was closed");
    gst_promise_unref (tr->promise);
  }
  g_free (tr->id);
  g_free (tr->request);
  g_free (tr);
}

WtspTransactions *
wtsp_transactions_new (GMainContext * context, GstObject * owner)
{
  WtspTransactions *t = g_new0 (WtspTransactions, 1);
  static gsize init = 0;

  if (g_once_init_enter (&init)) {
    GST_DEBUG_CATEGORY_INIT (wtsp_transactions_debug, "wtsptransactions", 0,
        "WTSP transactions");
    g_once_init_leave (&init, 1);
  }

  t->context = g_main_context_ref (context);
  t->owner = owner;
  t->pending = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) transaction_free);
  g_queue_init (&t->expired);
  return t;
}

void
wtsp_transactions_free (WtspTransactions * t)
{
  wtsp_transactions_fail_all (t, WTSP_RESULT_DISCONNECTED,
      "the session was closed");
  g_hash_table_unref (t->pending);
  g_queue_clear_full (&t->expired, g_free);
  g_main_context_unref (t->context);
  g_free (t);
}

/**
 * wtsp_promise_reply_failure:
 * @promise: (nullable): the promise to reply to
 * @request: (nullable): the request type
 * @result: one of the WTSP_RESULT_* strings
 * @reason: a sentence saying what happened
 */
void
wtsp_promise_reply_failure (GstPromise * promise, const gchar * request,
    const gchar * result, const gchar * reason)
{
  if (promise == NULL)
    return;
  gst_promise_reply (promise, gst_structure_new (WTSP_REPLY_NAME,
          "result", G_TYPE_STRING, result,
          "request", G_TYPE_STRING, request ? request : "",
          "reason", G_TYPE_STRING, reason, NULL));
}

/**
 * wtsp_reply_get_result:
 * @reply: (nullable): what a transaction's promise was replied with
 *
 * Returns: the "result" field, or "invalid" if @reply is not a WTSP reply
 */
const gchar *
wtsp_reply_get_result (const GstStructure * reply)
{
  const gchar *result;

  if (reply == NULL || !gst_structure_has_name (reply, WTSP_REPLY_NAME))
    return WTSP_RESULT_INVALID;
  result = gst_structure_get_string (reply, "result");
  return result ? result : WTSP_RESULT_INVALID;
}

static void
remember_expired (WtspTransactions * t, const gchar * id)
{
  g_queue_push_tail (&t->expired, g_strdup (id));
  if (t->expired.length > EXPIRED_MEMORY)
    g_free (g_queue_pop_head (&t->expired));
}

static gboolean
on_timeout (gpointer user_data)
{
  Transaction *tr = user_data;
  WtspTransactions *t = tr->t;
  gchar *reason;

  /* Out of the table before replying: the promise's change func may well
   * start or fail other transactions */
  g_hash_table_steal (t->pending, tr->id);
  remember_expired (t, tr->id);
  g_source_unref (tr->timeout);
  tr->timeout = NULL;

  GST_WARNING_OBJECT (t->owner, "%s %s: no answer within %" G_GINT64_FORMAT
      " ms", tr->request, tr->id,
      (g_get_monotonic_time () - tr->started) / 1000);

  if (tr->sent)
    reason = g_strdup_printf ("the server did not answer %s (%s) in time",
        tr->request, tr->id);
  else
    reason = g_strdup_printf ("%s (%s) was never sent: the signaling link "
        "was down for all of its %" G_GINT64_FORMAT " ms", tr->request,
        tr->id, (g_get_monotonic_time () - tr->started) / 1000);
  wtsp_promise_reply_failure (tr->promise, tr->request, WTSP_RESULT_TIMEOUT,
      reason);
  g_free (reason);
  clear_promise (&tr->promise);
  transaction_free (tr);
  return G_SOURCE_REMOVE;
}

/**
 * wtsp_transactions_begin:
 * @request: a request or keepalive without "transaction": one is added
 * @promise: (nullable): replied to with a "wtsp-reply" structure
 * @timeout_ms: how long to wait for the answer
 *
 * Returns: (transfer full): the transaction id now set in @request
 */
gchar *
wtsp_transactions_begin (WtspTransactions * t, JsonObject * request,
    GstPromise * promise, guint timeout_ms)
{
  Transaction *tr = g_new0 (Transaction, 1);
  const gchar *type;

  type = json_object_get_string_member_with_default (request, "request",
      NULL);
  if (type == NULL)
    type = json_object_get_string_member_with_default (request, "handshake",
        "request");

  tr->t = t;
  tr->id = g_strdup_printf ("transaction-%" G_GUINT64_FORMAT, ++t->counter);
  tr->request = g_strdup (type);
  tr->line = json_object_get_int_member_with_default (request, "line",
      WTSP_LINE_NONE);
  tr->promise = promise ? gst_promise_ref (promise) : NULL;
  tr->started = g_get_monotonic_time ();
  tr->timeout = g_timeout_source_new (timeout_ms);
  g_source_set_callback (tr->timeout, on_timeout, tr, NULL);
  g_source_attach (tr->timeout, t->context);

  json_object_set_string_member (request, "transaction", tr->id);
  g_hash_table_insert (t->pending, tr->id, tr);
  return g_strdup (tr->id);
}

/**
 * wtsp_transactions_complete:
 * @answer: a response or keepalive echo
 *
 * Returns: %TRUE if @answer settled a pending transaction; %FALSE if it
 *     is late (the transaction timed out) or answers nothing we asked
 */
gboolean
wtsp_transactions_complete (WtspTransactions * t, WtspMessage * answer)
{
  Transaction *tr;
  GstStructure *reply;
  const gchar *result;

  tr = answer->transaction ? g_hash_table_lookup (t->pending,
      answer->transaction) : NULL;
  if (tr == NULL) {
    if (answer->transaction && g_queue_find_custom (&t->expired,
            answer->transaction, (GCompareFunc) g_strcmp0))
      GST_INFO_OBJECT (t->owner, "late answer to %s after its timeout: "
          "ignored", answer->transaction);
    else
      GST_INFO_OBJECT (t->owner, "answer to unknown transaction %s: ignored",
          GST_STR_NULL (answer->transaction));
    return FALSE;
  }

  if (answer->kind == WTSP_MESSAGE_KIND_RESPONSE)
    result = g_str_equal (answer->type, "ack") ? WTSP_RESULT_ACK :
        WTSP_RESULT_ERROR;
  else
    result = WTSP_RESULT_ACK;   /* keepalive echo */

  GST_LOG_OBJECT (t->owner, "%s %s: %s in %" G_GINT64_FORMAT " us",
      tr->request, tr->id, result, g_get_monotonic_time () - tr->started);

  reply = gst_structure_new (WTSP_REPLY_NAME,
      "result", G_TYPE_STRING, result,
      "request", G_TYPE_STRING, tr->request,
      "transaction", G_TYPE_STRING, tr->id,
      "response", G_TYPE_STRING, wtsp_message_to_string (answer), NULL);
  if (answer->line != WTSP_LINE_NONE)
    gst_structure_set (reply, "line", G_TYPE_INT, answer->line, NULL);
  if (answer->call_id)
    gst_structure_set (reply, "call-id", G_TYPE_STRING, answer->call_id,
        NULL);
  if (g_str_equal (result, WTSP_RESULT_ERROR)) {
    gst_structure_set (reply, "code", G_TYPE_INT, answer->code,
        "reason", G_TYPE_STRING, answer->reason ? answer->reason :
        wtsp_response_code_describe (answer->code), NULL);
  }

  g_hash_table_steal (t->pending, tr->id);
  if (tr->promise) {
    gst_promise_reply (tr->promise, reply);
    clear_promise (&tr->promise);
  } else {
    gst_structure_free (reply);
  }
  transaction_free (tr);
  return TRUE;
}

static void
fail_matching (WtspTransactions * t, gboolean sent_only, const gchar * result,
    const gchar * reason)
{
  GHashTableIter iter;
  GList *failed = NULL, *l;
  Transaction *tr;

  /* Out of the table first: replying may begin new transactions */
  g_hash_table_iter_init (&iter, t->pending);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & tr)) {
    if (sent_only && !tr->sent)
      continue;
    g_hash_table_iter_steal (&iter);
    failed = g_list_prepend (failed, tr);
  }

  for (l = failed; l; l = l->next) {
    tr = l->data;
    GST_DEBUG_OBJECT (t->owner, "%s %s: %s", tr->request, tr->id, result);
    wtsp_promise_reply_failure (tr->promise, tr->request, result, reason);
    clear_promise (&tr->promise);
    transaction_free (tr);
  }
  g_list_free (failed);
}

/* Every pending transaction fails with @result: the session stops */
void
wtsp_transactions_fail_all (WtspTransactions * t, const gchar * result,
    const gchar * reason)
{
  fail_matching (t, FALSE, result, reason);
}

/* The transactions sent on a link that dropped fail with @result; those
 * that still wait for a link are kept */
void
wtsp_transactions_fail_sent (WtspTransactions * t, const gchar * result,
    const gchar * reason)
{
  fail_matching (t, TRUE, result, reason);
}

/* @id was sent on the link: it is lost if the link drops */
void
wtsp_transactions_sent (WtspTransactions * t, const gchar * id)
{
  Transaction *tr = g_hash_table_lookup (t->pending, id);

  if (tr)
    tr->sent = TRUE;
}

guint
wtsp_transactions_pending (WtspTransactions * t)
{
  return g_hash_table_size (t->pending);
}

gboolean
wtsp_transactions_has (WtspTransactions * t, const gchar * id)
{
  return g_hash_table_contains (t->pending, id);
}
