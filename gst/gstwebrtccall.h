/* GStreamer WTSP call bin
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_WEBRTC_CALL_H__
#define __GST_WEBRTC_CALL_H__

#include <gst/gst.h>

G_BEGIN_DECLS

typedef enum
{
  GST_WEBRTC_CALL_STATE_IDLE,
  GST_WEBRTC_CALL_STATE_REGISTERED,
  GST_WEBRTC_CALL_STATE_CALLING,
  GST_WEBRTC_CALL_STATE_RINGING,
  GST_WEBRTC_CALL_STATE_PROGRESS,
  GST_WEBRTC_CALL_STATE_INCOMING,
  GST_WEBRTC_CALL_STATE_ACCEPTED,
  GST_WEBRTC_CALL_STATE_CONNECTED,
  GST_WEBRTC_CALL_STATE_HOLDING,
  GST_WEBRTC_CALL_STATE_HELD,
  GST_WEBRTC_CALL_STATE_HANGINGUP,
  GST_WEBRTC_CALL_STATE_ENDED,
} GstWebrtcCallState;

typedef enum
{
  GST_WEBRTC_CALL_HOLD_SENDONLY,
  GST_WEBRTC_CALL_HOLD_INACTIVE,
  GST_WEBRTC_CALL_HOLD_RECVONLY,
} GstWebrtcCallHoldDirection;

GType gst_webrtc_call_hold_direction_get_type (void);
#define GST_TYPE_WEBRTC_CALL_HOLD_DIRECTION \
  (gst_webrtc_call_hold_direction_get_type ())

GType gst_webrtc_call_state_get_type (void);
#define GST_TYPE_WEBRTC_CALL_STATE (gst_webrtc_call_state_get_type ())

#define GST_TYPE_WEBRTC_CALL (gst_webrtc_call_get_type ())
G_DECLARE_FINAL_TYPE (GstWebrtcCall, gst_webrtc_call, GST, WEBRTC_CALL,
    GstBin);

GST_ELEMENT_REGISTER_DECLARE (webrtccall);

G_END_DECLS

#endif /* __GST_WEBRTC_CALL_H__ */
