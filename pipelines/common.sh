# Shared by the pipelines/*.sh scripts: plugin path, token file, and
# sources that fall back to test patterns when there is no webcam or mic.
here=$(cd "$(dirname "$0")/.." && pwd)
export GST_PLUGIN_PATH="$here/build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"

: "${WTSP_SERVER:=ws://127.0.0.1:8080/signaling/v1}"

# The token goes through a file: GStreamer logs launch lines at debug level
token_file() {
  if [ -n "${WTSP_TOKEN_FILE:-}" ]; then
    echo "$WTSP_TOKEN_FILE"
  elif [ -n "${WTSP_TOKEN:-}" ]; then
    f=$(mktemp); chmod 600 "$f"; printf '%s' "$WTSP_TOKEN" > "$f"; echo "$f"
  else
    echo "Set WTSP_TOKEN or WTSP_TOKEN_FILE (the session token)" >&2
    exit 2
  fi
}

video_source() {
  if [ -e "${WTSP_VIDEO_DEVICE:-/dev/video0}" ]; then
    echo "v4l2src device=${WTSP_VIDEO_DEVICE:-/dev/video0} ! queue"
  else
    echo "No webcam: using a test pattern" >&2
    echo "videotestsrc is-live=true pattern=ball ! video/x-raw,format=YUY2,width=640,height=480,framerate=30/1"
  fi
}

audio_source() {
  if gst-inspect-1.0 pulsesrc >/dev/null 2>&1 && pactl info >/dev/null 2>&1; then
    echo "pulsesrc ! queue"
  elif [ -e /dev/snd/pcmC0D0c ]; then
    echo "alsasrc ! queue"
  else
    echo "No microphone: using a test tone" >&2
    echo "audiotestsrc is-live=true wave=ticks ! audio/x-raw,format=S16LE,rate=48000,channels=1"
  fi
}
