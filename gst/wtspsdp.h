/* WebTrit Signaling Protocol (WTSP): SDP and id helpers
 *
 * Shared by the call element and the reference server, so that both read
 * an SDP and a trickled candidate the same way.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __WTSP_SDP_H__
#define __WTSP_SDP_H__

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Length of a call_id the reference clients make (protocol.md §6) */
#define WTSP_CALL_ID_LENGTH 24

gboolean wtsp_sdp_media_has_attribute (const GstSDPMedia * media,
    const gchar * key);
gboolean wtsp_sdp_media_rejected (const GstSDPMedia * media);
gboolean wtsp_sdp_fingerprint_to_media (GstSDPMessage * sdp);
gboolean wtsp_sdp_clean_rejected (GstSDPMessage * sdp);
gboolean wtsp_sdp_unclash_rejected (GstSDPMessage * sdp);
gboolean wtsp_sdp_inactivate_foreign (GstSDPMessage * sdp,
    const GstSDPMessage * reference, gboolean answer);
gboolean wtsp_sdp_answer_telephone_events (GstSDPMessage * answer,
    const GstSDPMessage * offer);
extern const gchar *const wtsp_sdp_directions[];
void wtsp_sdp_media_set_direction (GstSDPMedia * media,
    const gchar * direction);
void wtsp_sdp_set_direction (GstSDPMessage * sdp, const gchar * direction);

gint wtsp_sdp_mline_for_mid (const GstSDPMessage * sdp, const gchar * mid);
const gchar *wtsp_sdp_mid_for_mline (const GstSDPMessage * sdp, guint mline);

gint wtsp_sdp_candidate_mline (const GstSDPMessage * sdp,
    JsonObject * candidate);

gchar *wtsp_random_id (guint length);

G_END_DECLS

#endif /* __WTSP_SDP_H__ */
