/* webrtccall: the codecs a call can use, and the branches that carry them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __WEBRTCCALL_CODECS_H__
#define __WEBRTCCALL_CODECS_H__

#include <gst/gst.h>
#include <gst/sdp/sdp.h>

G_BEGIN_DECLS

typedef struct
{
  const gchar *media;           /* "video" or "audio" */
  const gchar *name;            /* RTP encoding name, upper case */
  gint pt;                      /* payload type we offer */
  gint clock_rate;
  const gchar *rtp_fields;      /* extra caps fields for the offer, or NULL */
  const gchar *encoded_caps;    /* what the encoder gives, e.g. video/x-vp8 */
  const gchar *const *encoders; /* launch fragments, first available wins */
  const gchar *pre_encoder;     /* conversion before the encoder */
  const gchar *payloader;
  const gchar *depayloader;
  const gchar *parser;          /* after the depayloader, or NULL */
  const gchar *const *decoders;
} WebrtcCallCodec;

const WebrtcCallCodec *webrtc_call_codec_find (const gchar * name);

GstCaps *webrtc_call_codecs_offer_caps (const gchar * media,
    const gchar * preferences, GError ** error);

const WebrtcCallCodec *webrtc_call_codecs_choose (const GstSDPMedia * media,
    const gchar * preferences, gint * pt, GstCaps ** caps);

const WebrtcCallCodec *webrtc_call_codecs_negotiated (const GstSDPMedia *
    media, gint * pt);

GstElement *webrtc_call_codec_make_sender (const WebrtcCallCodec * codec,
    gint pt, guint32 ssrc, const GstCaps * input, gboolean stereo,
    gint dtmf_pt, gint dtmf_rate, GError ** error);

gboolean webrtc_call_codec_can_mute (GstElement * sender);
gboolean webrtc_call_codec_set_muted (GstElement * sender, gboolean muted);

gboolean webrtc_call_codecs_dtmf_usable (void);

gint webrtc_call_codecs_dtmf_pt (const GstSDPMedia * media, gint clock_rate,
    gint * dtmf_rate);

GstElement *webrtc_call_codec_make_receiver (const WebrtcCallCodec * codec,
    gboolean encoded, GError ** error);

G_END_DECLS

#endif /* __WEBRTCCALL_CODECS_H__ */
