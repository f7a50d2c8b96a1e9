/* WebTrit Signaling Protocol (WTSP): the signaling settings
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __WTSP_SETTINGS_H__
#define __WTSP_SETTINGS_H__

#include "wtspsession.h"

G_BEGIN_DECLS

#define WTSP_DEFAULT_LOCATION NULL
#define WTSP_DEFAULT_FORCE FALSE
#define WTSP_DEFAULT_RECONNECT_FORCE TRUE
#define WTSP_DEFAULT_TLS_VALIDATION TRUE
#define WTSP_DEFAULT_CA_FILE NULL
#define WTSP_DEFAULT_TRANSACTION_TIMEOUT 10000
#define WTSP_DEFAULT_HANDSHAKE_TIMEOUT 10000
#define WTSP_DEFAULT_RECONNECT_DELAY_MIN 500
#define WTSP_DEFAULT_RECONNECT_DELAY_MAX 30000
#define WTSP_DEFAULT_MAX_RECONNECT_ATTEMPTS -1
/* WTSP_DEFAULT_MAX_MESSAGE_SIZE: wtspmessage.h */

guint wtsp_settings_install (GObjectClass * klass, guint first_id,
    gboolean with_state);

gboolean wtsp_settings_set_property (WtspSession * session,
    GParamSpec * pspec, const GValue * value);
gboolean wtsp_settings_get_property (WtspSession * session,
    GParamSpec * pspec, GValue * value);

const gchar *wtsp_settings_get_forwarded (GParamSpec * pspec);
const gchar *const *wtsp_settings_list (void);

G_END_DECLS

#endif /* __WTSP_SETTINGS_H__ */
