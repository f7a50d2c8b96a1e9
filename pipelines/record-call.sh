#!/bin/sh
# Answers the next call and records it to FILE.mkv without transcoding
# (encoded-output=true: the far end's VP8/H264 and Opus go straight into
# the muxer). The file is finished when the call ends.
#   WTSP_TOKEN=recorder pipelines/record-call.sh call.mkv
set -eu
. "$(dirname "$0")/common.sh"
out=${1:-call.mkv}

exec gst-launch-1.0 -e -m webrtccall name=call location="$WTSP_SERVER" \
  token-file="$(token_file)" auto-answer=true encoded-output=true \
  call.video_src_0 ! queue ! mux.video_0 \
  call.audio_src_0 ! queue ! mux.audio_0 \
  matroskamux name=mux ! filesink location="$out"
