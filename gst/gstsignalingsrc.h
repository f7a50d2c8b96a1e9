/* GStreamer WTSP signaling source
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_SIGNALING_SRC_H__
#define __GST_SIGNALING_SRC_H__

#include <gst/gst.h>
#include <gst/base/gstbasesrc.h>

G_BEGIN_DECLS

#define GST_TYPE_SIGNALING_SRC (gst_signaling_src_get_type ())
G_DECLARE_FINAL_TYPE (GstSignalingSrc, gst_signaling_src, GST,
    SIGNALING_SRC, GstBaseSrc);

GST_ELEMENT_REGISTER_DECLARE (signalingsrc);

G_END_DECLS

#endif /* __GST_SIGNALING_SRC_H__ */
