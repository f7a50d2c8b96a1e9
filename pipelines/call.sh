#!/bin/sh
# Calls NUMBER with the webcam and the microphone, shows and plays the far
# end. Hang up with Ctrl-C (the call is ended cleanly).
#   WTSP_SERVER=wss://core.example.com/signaling/v1 WTSP_TOKEN=... pipelines/call.sh 1002
set -eu
. "$(dirname "$0")/common.sh"
[ $# -ge 1 ] || { echo "usage: $0 NUMBER" >&2; exit 2; }

exec gst-launch-1.0 -e -m webrtccall name=call location="$WTSP_SERVER" \
  token-file="$(token_file)" number="$1" \
  $(video_source) ! call.video_sink \
  $(audio_source) ! call.audio_sink \
  call.video_src_0 ! queue ! videoconvert ! autovideosink \
  call.audio_src_0 ! queue ! audioconvert ! audioresample ! autoaudiosink
