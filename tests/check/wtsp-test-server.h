/* Test fixture: the reference signaling server, run for real
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __WTSP_TEST_SERVER_H__
#define __WTSP_TEST_SERVER_H__

#include <gio/gio.h>
#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct
{
  GSubprocess *proc;
  gchar **args;                 /* extra arguments given at start */
  guint port;
  gchar *url;                   /* ws://HOST:PORT/signaling/v1, as the
                                 * server says: HOST is 127.0.0.1 unless
                                 * args has --host */
  gchar *host;                  /* HOST of url (no [] around IPv6) */
} WtspTestServer;

/* Starts tests/server/signaling-server (path in $WTSP_SIGNALING_SERVER)
 * on a free port with the given extra arguments, NULL-terminated, and
 * waits until it listens. Pass "--host", "10.99.0.1" to listen on another
 * address than 127.0.0.1 (inside tests/e2e/netns.sh): url and host follow
 * the address the server reports. */
WtspTestServer *wtsp_test_server_start (const gchar * first_arg, ...)
    G_GNUC_NULL_TERMINATED;
WtspTestServer *wtsp_test_server_startv (const gchar * const *args);

/* Like wtsp_test_server_startv(), but a server that exits instead of
 * listening (an option this build does not know or does not implement
 * yet) is no failure: returns NULL, and its own message is on stderr. */
WtspTestServer *wtsp_test_server_try_startv (const gchar * const *args);

/* SIGKILL: the sockets drop without a close frame, like a crash */
void wtsp_test_server_kill (WtspTestServer * server);

/* Starts it again, same port and arguments, after kill */
void wtsp_test_server_restart (WtspTestServer * server);

/* SIGTERM and wait */
void wtsp_test_server_free (WtspTestServer * server);

/* Waits for an element message named @name whose string field @field is
 * @value (any value if NULL); other messages are dropped, except that an
 * ERROR fails the test unless @name is NULL and... see the .c. Returns
 * the message (unref it) or NULL on timeout. */
GstMessage *wtsp_test_wait_element (GstBus * bus, const gchar * name,
    const gchar * field, const gchar * value, guint timeout_ms);

/* Waits for a message of @type (WARNING, ERROR, ...) from anyone */
GstMessage *wtsp_test_wait_type (GstBus * bus, GstMessageType type,
    guint timeout_ms);

/* Error or warning text of @msg, for assertions (free it) */
gchar *wtsp_test_message_text (GstMessage * msg);

/* Runs a request action signal on @element and waits for the reply */
GstStructure *wtsp_test_request (GstElement * element, const gchar * json,
    guint timeout_ms);

/* A TCP proxy in front of a server, to cut the signaling link while the
 * server and the far end stay up. Listens on @host (port chosen), and
 * forwards every connection to @host:@port; url is the server's with the
 * proxy's port. */
typedef struct _WtspTestProxy WtspTestProxy;

WtspTestProxy *wtsp_test_proxy_new (WtspTestServer * server);
const gchar *wtsp_test_proxy_get_url (WtspTestProxy * proxy);
/* Drops every connection (no close frame, as a lost link) and refuses new
 * ones (accepts, then drops them at once) for @down_ms ms */
void wtsp_test_proxy_cut (WtspTestProxy * proxy, guint down_ms);
/* Connections dropped by cut() so far, and connections taken in all */
guint wtsp_test_proxy_get_accepted (WtspTestProxy * proxy);
void wtsp_test_proxy_free (WtspTestProxy * proxy);

G_END_DECLS

#endif /* __WTSP_TEST_SERVER_H__ */
