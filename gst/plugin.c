/* GStreamer WTSP plugin: calls through a WebTrit Signaling Protocol server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstsignalingsrc.h"
#include "gstwebrtccall.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (signalingsrc, plugin);
  ret |= GST_ELEMENT_REGISTER (webrtccall, plugin);

  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, wtsp,
    "Audio/video calls through a WebTrit Signaling Protocol (WTSP) server",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
