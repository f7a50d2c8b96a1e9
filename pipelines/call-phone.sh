#!/bin/sh
# Calls a phone number or SIP URI with the microphone only (phones rarely
# take video) and plays the far end, through a WTSP gateway in front of a
# PBX or SIP provider (docs/gateway.md). Hang up with Ctrl-C.
#   WTSP_SERVER=ws://127.0.0.1:8080/signaling/v1 WTSP_TOKEN=alice pipelines/call-phone.sh 1002
#   ... pipelines/call-phone.sh sip:bob@pbx.example.org
set -eu
. "$(dirname "$0")/common.sh"
[ $# -ge 1 ] || { echo "usage: $0 NUMBER|sip:URI" >&2; exit 2; }

exec gst-launch-1.0 -e -m webrtccall name=call location="$WTSP_SERVER" \
  token-file="$(token_file)" number="$1" \
  $(audio_source) ! call.audio_sink \
  call.audio_src_0 ! queue ! audioconvert ! audioresample ! autoaudiosink
