#!/bin/sh
# Waits for a call, answers it, shows the far end in a window and plays
# its sound; sends the webcam and the microphone. Ends with the call.
#   WTSP_SERVER=ws://127.0.0.1:8080/signaling/v1 WTSP_TOKEN=bob pipelines/answer.sh
set -eu
. "$(dirname "$0")/common.sh"

exec gst-launch-1.0 -e -m webrtccall name=call location="$WTSP_SERVER" \
  token-file="$(token_file)" auto-answer=true \
  $(video_source) ! call.video_sink \
  $(audio_source) ! call.audio_sink \
  call.video_src_0 ! queue ! videoconvert ! autovideosink \
  call.audio_src_0 ! queue ! audioconvert ! audioresample ! autoaudiosink
