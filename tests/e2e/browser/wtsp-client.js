/* A small WTSP (WebTrit Signaling Protocol) client for the browser.
 *
 * Written from shared/protocol.md; the far end of the end-to-end tests of
 * our GStreamer elements. One WtspClient is one session (one WebSocket);
 * it holds WtspCall objects, one per line in use.
 *
 *   const client = new WtspClient('ws://10.99.0.1:8080/signaling/v1', 'bob');
 *   client.on('event', e => ...);            // every server event
 *   client.on('call-state', e => ...);       // {callId, state, ...}
 *   await client.connect();                  // resolves with the state handshake
 *   const call = await client.call('alice', {video: true, codec: 'VP8'});
 *   ...
 *   await call.hangup();
 *
 * Incoming calls: client.on('incoming', call => call.answer({codec: 'H264'}))
 * or call.decline().
 *
 * Emitted (client.on(type, fn)): 'log' {level, text}, 'message' (every parsed
 * server message), 'event' (server events), 'state' (the state handshake),
 * 'incoming' (a WtspCall), 'call-state' {callId, line, state, ...},
 * 'media' {callId, what, ms}, 'dtmf' {callId, what, tone, ms, ...},
 * 'close' {code, reason, wasClean}.
 *
 * DTMF: call.sendDtmf('123#', 100, 70) is RTCDTMFSender.insertDTMF on the
 * audio sender ('dtmf' what 'tonechange' for each tone it plays, tone ''
 * when done); call.telephoneEvents() the telephone-event rtpmap lines of
 * both descriptions. With the call option readTelephoneEvents, an
 * RTCRtpScriptTransform on the audio receiver reads the RFC 4733 packets
 * that come and decodes the keys ('dtmf' what 'received' per key, at its
 * first end packet; call.dtmfReceived()): a browser has no API telling
 * what DTMF it received.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
(function (global) {
  'use strict';

  const SUBPROTOCOL = 'webtrit-protocol';
  const TRANSACTION_TIMEOUT_MS = 10000;
  const CALL_ID_LENGTH = 24;
  const STATS_FAST_MS = 50;      /* until the first frame / audio packet */
  const STATS_SLOW_MS = 500;

  function now() {
    return performance.now();
  }

  function randomId(length) {
    const chars =
        'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    const bytes = new Uint8Array(length);
    crypto.getRandomValues(bytes);
    let id = '';
    for (const b of bytes)
      id += chars[b % chars.length];
    return id;
  }

  function isObject(v) {
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  }

  /* "candidate:1 1 udp 2122260223 10.99.0.1 40196 typ host ..." */
  function parseCandidate(line) {
    if (typeof line !== 'string')
      return null;
    const text = line.replace(/^a=/, '').replace(/^candidate:/, '');
    const f = text.trim().split(/\s+/);
    if (f.length < 8)
      return null;
    const typ = f.indexOf('typ');
    return {
      protocol: f[2].toLowerCase(),
      address: f[4],
      port: Number(f[5]),
      type: typ >= 0 ? f[typ + 1] : undefined,
    };
  }

  /* a=mid values of an SDP, in m-line order */
  function sdpMids(sdp) {
    const mids = [];
    let index = -1;
    for (const line of sdp.split(/\r?\n/)) {
      if (line.startsWith('m=')) {
        index++;
        mids[index] = null;
      } else if (index >= 0 && line.startsWith('a=mid:')) {
        mids[index] = line.slice(6).trim();
      }
    }
    return mids;
  }

  /* a=candidate lines of an SDP (the --no-trickle way) */
  function sdpCandidates(sdp) {
    return sdp.split(/\r?\n/).filter(l => l.startsWith('a=candidate:'))
        .map(l => parseCandidate(l)).filter(Boolean);
  }

  /* The audio m-line of an SDP: {formats, rtpmap: {pt: 'NAME/RATE'}} */
  function sdpAudio(sdp) {
    let audio = null;
    for (const line of (sdp || '').split(/\r?\n/)) {
      if (line.startsWith('m=')) {
        if (audio)
          break;
        if (line.startsWith('m=audio '))
          audio = {formats: line.trim().split(/\s+/).slice(3).map(Number),
            rtpmap: {}};
      } else if (audio) {
        const m = /^a=rtpmap:(\d+) (.+)$/.exec(line.trim());
        if (m)
          audio.rtpmap[m[1]] = m[2];
      }
    }
    return audio;
  }

  /* RFC 4733 in the audio m-line of an SDP: [{pt, rate, line}] for the
   * payload types it lists with an a=rtpmap telephone-event; and its first
   * codec ('opus/48000/2') */
  function sdpTelephoneEvents(sdp) {
    const audio = sdpAudio(sdp);
    if (!audio)
      return {events: [], codec: null};
    const events = [];
    for (const pt of audio.formats) {
      const map = audio.rtpmap[pt] || '';
      const m = /^telephone-event\/(\d+)/i.exec(map);
      if (m)
        events.push({pt, rate: Number(m[1]),
          line: 'a=rtpmap:' + pt + ' ' + map});
    }
    const first = audio.formats.length ? audio.rtpmap[audio.formats[0]] : null;
    return {events, codec: first || null};
  }

  const DTMF_KEYS = '0123456789*#ABCD';

  /* The worker of the RTCRtpScriptTransform on an audio receiver: every
   * frame goes on unchanged; telephone-event ones (by mimeType, or by the
   * payload types it is given) are posted with their payload, the others
   * counted (posted every 10) */
  const DTMF_READER = `'use strict';
  onrtctransform = e => {
    const t = e.transformer;
    const pts = (t.options && t.options.pts) || [];
    let audio = 0;
    t.readable.pipeThrough(new TransformStream({
      transform(frame, controller) {
        const m = frame.getMetadata();
        const mime = String(m.mimeType || '').toLowerCase();
        if (mime.endsWith('/telephone-event') || pts.includes(m.payloadType)) {
          const b = new Uint8Array(frame.data);
          postMessage({pt: m.payloadType, mime, ts: m.rtpTimestamp,
            seq: m.sequenceNumber, payload: Array.from(b.slice(0, 4)),
            audio});
        } else if (++audio % 10 === 0) {
          postMessage({audio});
        }
        controller.enqueue(frame);
      },
    })).pipeTo(t.writable).catch(() => {});
  };`;

  /* the fake devices: 640x480, 30 frames a second (their default is 20) */
  function mediaConstraints(audio, video) {
    return {audio, video: video ? {width: 640, height: 480, frameRate: 30} :
      false};
  }

  class WtspError extends Error {
    constructor(message, fields) {
      super(message);
      this.name = 'WtspError';
      Object.assign(this, fields || {});
    }
  }

  class Emitter {
    constructor() {
      this._handlers = new Map();
    }
    on(type, fn) {
      if (!this._handlers.has(type))
        this._handlers.set(type, []);
      this._handlers.get(type).push(fn);
      return this;
    }
    off(type, fn) {
      const list = this._handlers.get(type) || [];
      const i = list.indexOf(fn);
      if (i >= 0)
        list.splice(i, 1);
      return this;
    }
    emit(type, detail) {
      for (const fn of (this._handlers.get(type) || []).slice()) {
        try {
          fn(detail);
        } catch (e) {
          console.error('wtsp: handler of "' + type + '" threw', e);
        }
      }
    }
  }

  /* Codec preferences: only @codec (VP8, VP9, H264, AV1...) and the
   * helpers that go with any codec (rtx, red, ulpfec, flexfec) */
  function applyCodecPreferences(pc, codec) {
    if (!codec)
      return;
    const transceiver = pc.getTransceivers().find(t =>
        (t.sender.track && t.sender.track.kind === 'video') ||
        (t.receiver.track && t.receiver.track.kind === 'video'));
    if (!transceiver)
      throw new WtspError('codec ' + codec + ' asked for, but no video');
    if (!('setCodecPreferences' in transceiver))
      throw new WtspError('this browser has no setCodecPreferences');
    const caps = RTCRtpReceiver.getCapabilities('video').codecs;
    const wanted = 'video/' + codec.toLowerCase();
    const chosen = caps.filter(c => c.mimeType.toLowerCase() === wanted);
    if (chosen.length === 0)
      throw new WtspError('video codec ' + codec + ' not supported here (' +
          [...new Set(caps.map(c => c.mimeType))].join(', ') + ')');
    const helpers = caps.filter(c => /\/(rtx|red|ulpfec|flexfec-03)$/i
        .test(c.mimeType));
    transceiver.setCodecPreferences(chosen.concat(helpers));
  }

  /* One call on one line */
  class WtspCall extends Emitter {
    constructor(client, fields) {
      super();
      this.client = client;
      this.line = fields.line;
      this.callId = fields.callId;
      this.direction = fields.direction;     /* 'outgoing' | 'incoming' */
      this.number = fields.number;           /* the far end */
      this.caller = fields.caller;
      this.callee = fields.callee;
      this.remoteOffer = fields.offer || null;   /* incoming_call jsep */
      this.state = 'new';
      this.t0 = now();
      this.timings = {};
      this.pc = null;
      this.localStream = null;
      this.remoteStream = new MediaStream();
      this.pendingCandidates = [];
      this.remoteEnded = false;
      this.localCandidates = [];
      this.remoteCandidates = [];
      this.hangupInfo = null;
      this.lastStats = null;
      this.options = {};
      this.ended = false;
      this._statsTimer = null;
      this._localSet = null;       /* setLocalDescription of our offer */
      /* DTMF */
      this.dtmfSender = null;      /* the RTCDTMFSender we listen to */
      this.toneChanges = [];       /* {tone, ms}: tonechange events */
      this.dtmfReader = null;      /* {worker, error}: readTelephoneEvents */
      this.dtmfKeys = [];          /* decoded: {tone, duration, end, ms} */
      this.dtmfPackets = 0;        /* telephone-event packets read */
      this.audioFrames = 0;        /* other audio frames (±10) */
      this.audioAtLastDtmf = null; /* audioFrames at the last of them */
    }

    _log(level, text) {
      this.client._log(level, '[' + this.callId + '] ' + text);
    }

    _setState(state, extra) {
      this.state = state;
      const ms = Math.round(now() - this.t0);
      if (!(state in this.timings))
        this.timings[state] = ms;
      const detail = Object.assign({callId: this.callId, line: this.line,
        direction: this.direction, state, ms}, extra || {});
      this.emit('state', detail);
      this.client.emit('call-state', detail);
    }

    _media(what, extra) {
      if (what in this.timings)
        return;
      const ms = Math.round(now() - this.t0);
      this.timings[what] = ms;
      this.client.emit('media', Object.assign({callId: this.callId, what, ms},
          extra || {}));
    }

    _request(type, fields) {
      return this.client.request(type, Object.assign({line: this.line,
        call_id: this.callId}, fields || {}));
    }

    async _setupMedia(options) {
      this.options = Object.assign({audio: true, video: true}, options || {});
      const o = this.options;
      if (o.audio || o.video) {
        /* Before the RTCPeerConnection: with the media permission granted
         * (--use-fake-ui-for-media-stream) Chromium gathers real addresses
         * rather than mDNS .local names */
        this.localStream = await this.client._localMedia(!!o.audio, !!o.video);
      }
      const config = {iceServers: o.iceServers || []};
      if (o.bundlePolicy)
        config.bundlePolicy = o.bundlePolicy;
      if (o.iceTransportPolicy)
        config.iceTransportPolicy = o.iceTransportPolicy;
      const pc = this.pc = new RTCPeerConnection(config);

      pc.addEventListener('icecandidate', e => this._onLocalCandidate(e));
      pc.addEventListener('track', e => {
        if (o.readTelephoneEvents && e.track.kind === 'audio')
          this._readTelephoneEvents(e.receiver);
        this.remoteStream.addTrack(e.track);
        this.emit('track', {track: e.track, stream: this.remoteStream});
        this.client.emit('track', {callId: this.callId, kind: e.track.kind,
          stream: this.remoteStream});
      });
      pc.addEventListener('connectionstatechange', () => {
        const s = pc.connectionState;
        this._log('debug', 'connection state ' + s);
        if (s === 'connected')
          this._media('ice-connected');
        if (s === 'failed')
          this._media('ice-failed');
      });
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete')
          this._media('gathered', {candidates: this.localCandidates.length});
      });
      this._startStats();
      return pc;
    }

    /* readTelephoneEvents: the script transform on the audio receiver, set
     * in the track event (setRemoteDescription: before any packet) */
    _readTelephoneEvents(receiver) {
      if (this.dtmfReader)
        return;
      this.dtmfReader = {worker: null, error: null};
      if (typeof RTCRtpScriptTransform !== 'function') {
        this.dtmfReader.error = 'this browser has no RTCRtpScriptTransform';
        return;
      }
      const pts = sdpTelephoneEvents(this.pc.remoteDescription &&
          this.pc.remoteDescription.sdp).events.map(e => e.pt);
      const url = URL.createObjectURL(new Blob([DTMF_READER],
          {type: 'text/javascript'}));
      const worker = new Worker(url);
      URL.revokeObjectURL(url);
      worker.onmessage = e => this._onDtmfPacket(e.data);
      worker.onerror = e => {
        this.dtmfReader.error = 'reader worker: ' + (e.message || 'error');
      };
      this.dtmfReader.worker = worker;
      receiver.transform = new RTCRtpScriptTransform(worker, {pts});
    }

    /* The clock rate of a telephone-event payload type, from whichever
     * description has it */
    _telephoneEventRate(pt) {
      for (const d of [this.pc.localDescription, this.pc.remoteDescription]) {
        const e = d && sdpTelephoneEvents(d.sdp).events.find(x => x.pt === pt);
        if (e)
          return e.rate;
      }
      return null;
    }

    /* One RFC 4733 packet: event, E bit, volume, duration; one key per
     * RTP timestamp */
    _onDtmfPacket(m) {
      if (m.payload === undefined) {
        this.audioFrames = Math.max(this.audioFrames, m.audio);
        return;
      }
      this.dtmfPackets++;
      this.audioAtLastDtmf = m.audio;
      this.audioFrames = Math.max(this.audioFrames, m.audio);
      if (m.payload.length < 4)
        return;
      const [event, flags, hi, lo] = m.payload;
      const rate = this._telephoneEventRate(m.pt);
      const ms = Math.round(now() - this.t0);
      let key = this.dtmfKeys.find(k => k.ts === m.ts);
      if (!key) {
        key = {ts: m.ts, pt: m.pt, rate, event,
          tone: DTMF_KEYS[event] || 'event' + event, duration: 0, end: false,
          ms};
        this.dtmfKeys.push(key);
      }
      if (rate)
        key.duration = Math.max(key.duration,
            Math.round(((hi << 8) | lo) * 1000 / rate));
      if ((flags & 0x80) && !key.end) {
        key.end = true;
        this.client.emit('dtmf', {callId: this.callId, what: 'received',
          tone: key.tone, duration: key.duration, pt: m.pt, rate, ms});
      }
    }

    /* The keys read so far, and the figures around them */
    dtmfReceived() {
      return {
        reading: !!(this.dtmfReader && this.dtmfReader.worker),
        error: this.dtmfReader ? this.dtmfReader.error : null,
        keys: this.dtmfKeys.map(k => ({tone: k.tone, duration: k.duration,
          end: k.end, pt: k.pt, ms: k.ms})),
        tones: this.dtmfKeys.map(k => k.tone).join(''),
        packets: this.dtmfPackets,
        audioFramesAfterDtmf: this.audioAtLastDtmf === null ? null :
            this.audioFrames - this.audioAtLastDtmf,
      };
    }

    /* telephone-event in both descriptions, and whether Chromium would send
     * DTMF (RTCDTMFSender.canInsertDTMF) */
    telephoneEvents() {
      const local = this.pc && this.pc.localDescription;
      const remote = this.pc && this.pc.remoteDescription;
      const sender = this._audioSender();
      return {
        local: local ? sdpTelephoneEvents(local.sdp) : null,
        remote: remote ? sdpTelephoneEvents(remote.sdp) : null,
        canInsertDTMF: !!(sender && sender.dtmf && sender.dtmf.canInsertDTMF),
      };
    }

    _audioSender() {
      return this.pc ? this.pc.getSenders().find(s => s.track &&
          s.track.kind === 'audio') || null : null;
    }

    /* RTCDTMFSender.insertDTMF(tones, duration, gap) on the audio sender;
     * resolves with its toneBuffer */
    sendDtmf(tones, duration, gap) {
      const sender = this._audioSender();
      if (!sender)
        throw new WtspError('no audio sender to send DTMF with');
      if (!sender.dtmf)
        throw new WtspError('the audio sender has no RTCDTMFSender');
      if (!sender.dtmf.canInsertDTMF)
        throw new WtspError('canInsertDTMF is false: telephone-event not ' +
            'negotiated, or the audio is not sent');
      if (this.dtmfSender !== sender.dtmf) {
        this.dtmfSender = sender.dtmf;
        sender.dtmf.addEventListener('tonechange', e => {
          const ms = Math.round(now() - this.t0);
          this.toneChanges.push({tone: e.tone, ms});
          this.client.emit('dtmf', {callId: this.callId, what: 'tonechange',
            tone: e.tone, ms});
        });
      }
      sender.dtmf.insertDTMF(tones, duration, gap);
      return {toneBuffer: sender.dtmf.toneBuffer};
    }

    _addLocalTracks() {
      if (!this.localStream)
        return;
      for (const track of this.localStream.getTracks())
        this.pc.addTrack(track, this.localStream);
    }

    _onLocalCandidate(e) {
      const c = e.candidate;
      if (this.ended)
        return;
      let candidate;
      if (c === null) {
        candidate = {completed: true};
      } else if (!c.candidate) {
        return;   /* Chromium's per-section end marker: our null covers it */
      } else {
        candidate = {candidate: c.candidate, sdpMid: c.sdpMid,
          sdpMLineIndex: c.sdpMLineIndex};
        const p = parseCandidate(c.candidate);
        if (p)
          this.localCandidates.push(p);
      }
      this._request('ice_trickle', {candidate}).catch(err =>
          this._log('warning', 'ice_trickle refused: ' + err.message));
    }

    /* A remote candidate, from an ice_trickle event */
    _onRemoteCandidate(candidate) {
      if (candidate === null || candidate === undefined ||
          (isObject(candidate) && candidate.completed)) {
        this.pendingCandidates.push(null);
      } else if (isObject(candidate) && typeof candidate.candidate === 'string') {
        this.pendingCandidates.push(candidate);
        const p = parseCandidate(candidate.candidate);
        if (p)
          this.remoteCandidates.push(p);
      } else {
        this._log('warning', 'malformed ice_trickle candidate dropped: ' +
            JSON.stringify(candidate));
        return;
      }
      if (this.pc && this.pc.remoteDescription)
        this._flushCandidates();
    }

    /* sdpMid only, sdpMLineIndex only, an a= prefix: as RTCPeerConnection
     * takes it. The m-line index comes from the remote SDP. */
    _candidateInit(candidate) {
      const mids = sdpMids(this.pc.remoteDescription.sdp);
      const line = candidate.candidate.replace(/^a=/, '');
      let mid = typeof candidate.sdpMid === 'string' ? candidate.sdpMid : null;
      let index = Number.isInteger(candidate.sdpMLineIndex) ?
          candidate.sdpMLineIndex : null;
      if (mid !== null && mids.indexOf(mid) >= 0) {
        index = mids.indexOf(mid);
      } else if (index !== null && index >= 0 && index < mids.length) {
        mid = mids[index];
      } else {
        this._log('warning', 'candidate with unknown mid ' + mid +
            ' / index ' + index + ': given to m-line 0');
        index = 0;
        mid = mids[0];
      }
      return {candidate: line, sdpMid: mid, sdpMLineIndex: index};
    }

    _flushCandidates() {
      const list = this.pendingCandidates;
      this.pendingCandidates = [];
      for (const candidate of list) {
        if (candidate === null) {
          this.remoteEnded = true;
          this.pc.addIceCandidate().catch(err =>
              this._log('debug', 'end of candidates: ' + err.message));
          continue;
        }
        if (candidate.candidate === '')
          continue;
        let init;
        try {
          init = this._candidateInit(candidate);
        } catch (err) {
          this._log('warning', 'candidate dropped: ' + err.message);
          continue;
        }
        this.pc.addIceCandidate(init).catch(err =>
            this._log('warning', 'addIceCandidate(' + init.candidate +
                ') failed: ' + err.message));
      }
    }

    async _setRemote(jsep) {
      /* an answer that comes quicker than our own setLocalDescription */
      if (jsep.type === 'answer' && this._localSet)
        await this._localSet;
      await this.pc.setRemoteDescription({type: jsep.type, sdp: jsep.sdp});
      for (const p of sdpCandidates(jsep.sdp))
        this.remoteCandidates.push(Object.assign({inSdp: true}, p));
      this._flushCandidates();
    }

    /* Outgoing: offer, outgoing_call first, then the local description */
    async _start(number, options) {
      this.number = number;
      const pc = await this._setupMedia(options);
      this._addLocalTracks();
      if (!this.localStream || this.options.video === false) {
        /* still receive video if asked: recvonly */
        if (this.options.receiveVideo)
          pc.addTransceiver('video', {direction: 'recvonly'});
      }
      applyCodecPreferences(pc, this.options.codec);
      const offer = await pc.createOffer();
      const fields = {number, jsep: {type: 'offer', sdp: offer.sdp}};
      if (this.options.referId)
        fields.refer_id = this.options.referId;
      const ack = this._request('outgoing_call', fields);
      this._setState('offering');
      this._localSet = pc.setLocalDescription(offer);
      await this._localSet;
      try {
        await ack;
      } catch (err) {
        this._end({code: err.code || 0, reason: 'outgoing_call refused: ' +
            err.message});
        throw err;
      }
    }

    /* Incoming: answer the offer of incoming_call, or make ours when it had
     * none (offerless: the answer comes in `accepted`) */
    async answer(options) {
      if (this.direction !== 'incoming' || this.pc)
        throw new WtspError('nothing to answer');
      const pc = await this._setupMedia(options);
      this._setState('answering');
      let description, ack;
      if (this.remoteOffer) {
        await this._setRemote(this.remoteOffer);
        this._addLocalTracks();
        applyCodecPreferences(pc, this.options.codec);
        description = await pc.createAnswer();
        ack = this._request('accept', {jsep: {type: 'answer',
          sdp: description.sdp}});
      } else {
        this._addLocalTracks();
        applyCodecPreferences(pc, this.options.codec);
        description = await pc.createOffer();
        ack = this._request('accept', {jsep: {type: 'offer',
          sdp: description.sdp}});
      }
      this._localSet = pc.setLocalDescription(description);
      await this._localSet;
      await ack;
    }

    decline(code) {
      const fields = code ? {code} : {};
      return this._request('decline', fields);
    }

    hangup() {
      if (this.ended)
        return Promise.resolve(null);
      return this._request('hangup');
    }

    /* Events of this call's line */
    async _onEvent(msg) {
      const type = msg.event;
      try {
        switch (type) {
          case 'calling':
          case 'ringing':
          case 'proceeding':
          case 'accepting':
          case 'hangingup':
          case 'holding':
          case 'resuming':
          case 'updating':
          case 'transferring':
            this._setState(type, msg.code !== undefined ? {code: msg.code} : {});
            break;
          case 'declining':
            this._setState(type, {code: msg.code});
            break;
          case 'progress':
            if (isObject(msg.jsep) && msg.jsep.type === 'answer' &&
                !this.pc.remoteDescription)
              await this._setRemote(msg.jsep);
            this._setState('progress');
            break;
          case 'accepted':
            if (isObject(msg.jsep) && msg.jsep.type === 'answer' &&
                this.pc && !this.pc.remoteDescription)
              await this._setRemote(msg.jsep);
            this._setState('accepted');
            break;
          case 'updated':
            if (isObject(msg.jsep) && msg.jsep.type === 'answer')
              await this._setRemote(msg.jsep);
            this._setState('updated');
            break;
          case 'updating_call':
            await this._onUpdatingCall(msg);
            break;
          case 'ice_trickle':
            this._onRemoteCandidate(msg.candidate);
            break;
          case 'hangup':
            await this._end({code: msg.code, reason: msg.reason});
            break;
          case 'error':
            this._log('warning', 'call error ' + msg.code + ' ' + msg.reason);
            this._setState('error', {code: msg.code, reason: msg.reason});
            break;
          default:
            break;
        }
      } catch (err) {
        this._log('error', type + ': ' + err.message);
        this._setState('error', {reason: String(err.message || err)});
      }
    }

    /* A re-INVITE from the far side: answer its offer, if it has one */
    async _onUpdatingCall(msg) {
      this._setState('updating_call', {direction: msg.direction});
      if (!isObject(msg.jsep) || msg.jsep.type !== 'offer' || !this.pc)
        return;
      await this.pc.setRemoteDescription({type: 'offer', sdp: msg.jsep.sdp});
      for (const p of sdpCandidates(msg.jsep.sdp))
        this.remoteCandidates.push(Object.assign({inSdp: true}, p));
      /* candidates trickled before the offer came were held until now */
      this._flushCandidates();
      const answer = await this.pc.createAnswer();
      await this.pc.setLocalDescription(answer);
      await this._request('accept', {jsep: {type: 'answer', sdp: answer.sdp}});
    }

    async _end(info) {
      if (this.ended)
        return;
      this.ended = true;
      this.hangupInfo = info;
      try {
        if (this.pc && this.pc.connectionState !== 'closed')
          await this.stats();       /* the last figures, before close */
      } catch (err) { /* keep the previous sample */ }
      this._stopStats();
      if (this.pc)
        this.pc.close();
      if (this.dtmfReader && this.dtmfReader.worker)
        this.dtmfReader.worker.terminate();
      if (this.localStream)
        this.localStream.getTracks().forEach(t => t.stop());
      this.client._removeCall(this);
      this._setState('hangup', {code: info.code, reason: info.reason});
    }

    /* Statistics: the figures the tests check, from getStats() */
    async stats() {
      if (!this.pc)
        return this.lastStats;
      const report = await this.pc.getStats();
      const byId = new Map();
      report.forEach(s => byId.set(s.id, s));
      const codecOf = s => {
        const c = s && s.codecId && byId.get(s.codecId);
        return c ? c.mimeType.replace(/^(audio|video)\//, '') : null;
      };
      const r = {
        framesDecoded: 0, framesReceived: 0, videoPacketsReceived: 0,
        frameWidth: null, frameHeight: null, framesPerSecond: null,
        audioPacketsReceived: 0, audioSamplesReceived: 0,
        framesSent: 0, framesEncoded: 0, audioPacketsSent: 0,
        codec: null, codecFmtp: null, codecSent: null, audioCodec: null,
        audioCodecSent: null,
        selectedPair: null,
      };
      let transport = null;
      report.forEach(s => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') {
          r.framesDecoded += s.framesDecoded || 0;
          r.framesReceived += s.framesReceived || 0;
          r.videoPacketsReceived += s.packetsReceived || 0;
          r.frameWidth = s.frameWidth || r.frameWidth;
          r.frameHeight = s.frameHeight || r.frameHeight;
          r.framesPerSecond = s.framesPerSecond || r.framesPerSecond;
          r.codec = codecOf(s) || r.codec;
          const c = s.codecId && byId.get(s.codecId);
          if (c && c.sdpFmtpLine)
            r.codecFmtp = c.sdpFmtpLine;
        } else if (s.type === 'inbound-rtp' && s.kind === 'audio') {
          r.audioPacketsReceived += s.packetsReceived || 0;
          r.audioSamplesReceived += s.totalSamplesReceived || 0;
          r.audioCodec = codecOf(s) || r.audioCodec;
        } else if (s.type === 'outbound-rtp' && s.kind === 'video') {
          r.framesSent += s.framesSent || 0;
          r.framesEncoded += s.framesEncoded || 0;
          r.codecSent = codecOf(s) || r.codecSent;
        } else if (s.type === 'outbound-rtp' && s.kind === 'audio') {
          r.audioPacketsSent += s.packetsSent || 0;
          r.audioCodecSent = codecOf(s) || r.audioCodecSent;
        } else if (s.type === 'transport' && s.selectedCandidatePairId) {
          transport = s;
        }
      });
      const pair = transport && byId.get(transport.selectedCandidatePairId);
      if (pair) {
        const l = byId.get(pair.localCandidateId);
        const rc = byId.get(pair.remoteCandidateId);
        const side = c => c && {address: c.address, port: c.port,
          protocol: c.protocol, type: c.candidateType};
        r.selectedPair = {local: side(l), remote: side(rc)};
      }
      if (r.framesDecoded > 0)
        this._media('first-frame', {codec: r.codec});
      if (r.audioPacketsReceived > 0)
        this._media('first-audio', {codec: r.audioCodec});
      this.lastStats = r;
      return r;
    }

    _startStats() {
      const tick = async () => {
        this._statsTimer = null;
        if (this.ended || !this.pc)
          return;
        try {
          await this.stats();
        } catch (err) { /* closed under us */ }
        if (this.ended)
          return;
        const fast = !('first-frame' in this.timings &&
            'first-audio' in this.timings) &&
            (this.options.video !== false || !('first-audio' in this.timings));
        this._statsTimer = setTimeout(tick, fast ? STATS_FAST_MS :
            STATS_SLOW_MS);
      };
      this._statsTimer = setTimeout(tick, STATS_FAST_MS);
    }

    _stopStats() {
      if (this._statsTimer)
        clearTimeout(this._statsTimer);
      this._statsTimer = null;
    }

    summary() {
      const has = (list, f) => list.some(f);
      return {
        callId: this.callId, line: this.line, direction: this.direction,
        number: this.number, state: this.state, timings: this.timings,
        hangup: this.hangupInfo, stats: this.lastStats,
        localCandidates: this.localCandidates,
        remoteCandidates: this.remoteCandidates,
        mdns: has(this.localCandidates.concat(this.remoteCandidates),
            c => /\.local$/i.test(c.address)),
        toneChanges: this.toneChanges,
        dtmfReceived: this.dtmfReader ? this.dtmfReceived() : null,
      };
    }
  }

  /* One WTSP session */
  class WtspClient extends Emitter {
    /* @url: ws(s)://HOST[:PORT][/tenant/T]/signaling/v1 */
    constructor(url, token, options) {
      super();
      this.options = Object.assign({force: false,
        transactionTimeout: TRANSACTION_TIMEOUT_MS}, options || {});
      const u = new URL(url);
      u.searchParams.set('token', token);
      u.searchParams.set('force', this.options.force ? 'true' : 'false');
      this._url = u.toString();
      this.ws = null;
      this.handshake = null;       /* the state handshake */
      this.lines = [];             /* our view: null or a WtspCall */
      this.calls = new Map();      /* call_id -> WtspCall */
      this.pending = new Map();    /* transaction -> {resolve, reject, timer} */
      this._seq = 0;
      this._keepaliveTimer = null;
      this.closed = false;
      this.closeInfo = null;
    }

    _log(level, text) {
      this.emit('log', {level, text});
      if (this.options.console !== false) {
        const fn = level === 'error' ? console.error :
            level === 'warning' ? console.warn : console.log;
        fn('wtsp ' + level + ': ' + text);
      }
    }

    /* Resolves with the state handshake; rejects if the socket closes first */
    connect() {
      return new Promise((resolve, reject) => {
        let settled = false;
        const ws = this.ws = new WebSocket(this._url, SUBPROTOCOL);
        this._onStateHandshake = msg => {
          if (settled)
            return;
          settled = true;
          resolve(msg);
        };
        ws.addEventListener('open', () => {
          this._log('debug', 'socket open, protocol "' + ws.protocol +
              '"; waiting for the state handshake');
        });
        ws.addEventListener('message', e => this._onFrame(e.data));
        ws.addEventListener('close', e => {
          this._onClose(e.code, e.reason, e.wasClean);
          if (!settled) {
            settled = true;
            reject(new WtspError(('closed before the state handshake: ' +
                e.code + ' ' + (e.reason || '')).trim(), {code: e.code,
              reason: e.reason}));
          }
        });
        ws.addEventListener('error', () => {
          this._log('warning', 'socket error');
        });
      });
    }

    /* getUserMedia once, ahead of the calls (opening the fake devices
     * takes ~300 ms): calls then use clones of these tracks */
    async prepareMedia(audio, video) {
      this.preparedStream = await navigator.mediaDevices.getUserMedia(
          mediaConstraints(audio !== false, video !== false));
      return this.preparedStream;
    }

    async _localMedia(audio, video) {
      const ready = this.preparedStream;
      if (ready) {
        const tracks = ready.getTracks().filter(t => t.readyState === 'live' &&
            ((t.kind === 'audio' && audio) || (t.kind === 'video' && video)));
        if (tracks.length === (audio ? 1 : 0) + (video ? 1 : 0))
          return new MediaStream(tracks.map(t => t.clone()));
      }
      return navigator.mediaDevices.getUserMedia(mediaConstraints(audio,
          video));
    }

    close(code, reason) {
      if (this.ws && this.ws.readyState <= WebSocket.OPEN)
        this.ws.close(code || 1000, reason || '');
    }

    _send(object) {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN)
        throw new WtspError('not connected');
      if (!this.handshake)
        throw new WtspError('nothing may be sent before the state handshake');
      this.ws.send(JSON.stringify(object));
    }

    _transaction(object) {
      const transaction = 'transaction-' + (++this._seq);
      object.transaction = transaction;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          this.pending.delete(transaction);
          reject(new WtspError((object.request || object.handshake) +
              ' (' + transaction + '): no answer in ' +
              this.options.transactionTimeout + ' ms', {timeout: true}));
        }, this.options.transactionTimeout);
        this.pending.set(transaction, {resolve, reject, timer,
          what: object.request || object.handshake});
        try {
          this._send(object);
        } catch (err) {
          clearTimeout(timer);
          this.pending.delete(transaction);
          reject(err);
        }
      });
    }

    /* A request; resolves with the ack, rejects with the error response
     * (err.code, err.reason), a timeout or a disconnect */
    request(type, fields) {
      const object = Object.assign({request: type}, fields || {});
      const p = this._transaction(object);
      this._scheduleKeepalive();
      return p;
    }

    _scheduleKeepalive() {
      if (this._keepaliveTimer)
        clearTimeout(this._keepaliveTimer);
      this._keepaliveTimer = null;
      const interval = this.handshake && this.handshake.keepalive_interval;
      if (this.closed || !(interval > 0))
        return;
      this._keepaliveTimer = setTimeout(() => {
        this._keepaliveTimer = null;
        this._transaction({handshake: 'keepalive'}).then(() => {
          this._scheduleKeepalive();
        }, err => {
          if (this.closed)
            return;
          this._log('error', 'keepalive failed: ' + err.message +
              '; closing');
          this.close(4000, 'keepalive timeout');
        });
      }, interval);
    }

    _onFrame(data) {
      if (typeof data !== 'string') {
        this._log('warning', 'binary frame dropped');
        return;
      }
      let msg;
      try {
        msg = JSON.parse(data);
      } catch (err) {
        this._log('warning', 'not JSON, dropped: ' + data.slice(0, 200));
        return;
      }
      if (!isObject(msg)) {
        this._log('warning', 'not a JSON object, dropped: ' +
            data.slice(0, 200));
        return;
      }
      this.emit('message', msg);

      if (typeof msg.handshake === 'string') {
        this._onHandshake(msg);
      } else if (typeof msg.response === 'string') {
        this._onResponse(msg);
      } else if (typeof msg.event === 'string') {
        if (!this.handshake)
          this._log('warning', 'event "' + msg.event +
              '" before the state handshake');
        this._onEvent(msg);
      } else {
        this._log('warning', 'unknown message kind, dropped: ' +
            data.slice(0, 200));
      }
    }

    _onHandshake(msg) {
      if (msg.handshake === 'state') {
        const first = !this.handshake;
        this.handshake = msg;
        const n = Array.isArray(msg.lines) ? msg.lines.length : 0;
        if (first)
          this.lines = new Array(n).fill(null);
        this.emit('state', msg);
        this._scheduleKeepalive();
        if (first && this._onStateHandshake)
          this._onStateHandshake(msg);
      } else if (msg.handshake === 'keepalive') {
        this._settle(msg, true);
      } else {
        this._log('warning', 'unknown handshake "' + msg.handshake + '"');
      }
    }

    _settle(msg, ok) {
      const p = this.pending.get(msg.transaction);
      if (!p) {
        this._log('warning', 'late or unknown answer to ' +
            msg.transaction + ' ignored');
        return;
      }
      this.pending.delete(msg.transaction);
      clearTimeout(p.timer);
      if (ok) {
        p.resolve(msg);
      } else {
        p.reject(new WtspError(p.what + ' refused: ' + msg.code + ' ' +
            (msg.reason || ''), {code: msg.code, reason: msg.reason,
          response: msg}));
      }
    }

    _onResponse(msg) {
      if (msg.response === 'ack')
        this._settle(msg, true);
      else if (msg.response === 'error')
        this._settle(msg, false);
      else
        this._log('warning', 'unknown response "' + msg.response + '"');
    }

    _onEvent(msg) {
      this.emit('event', msg);
      const type = msg.event;

      if (type === 'incoming_call') {
        this._onIncomingCall(msg);
        return;
      }
      if (type === 'missed_call') {
        this.emit('missed-call', msg);
        return;
      }
      let call = typeof msg.call_id === 'string' ? this.calls.get(msg.call_id)
          : null;
      /* line events (ice_trickle may come without call_id) */
      if (!call && Number.isInteger(msg.line) && msg.line >= 0 &&
          msg.call_id === undefined)
        call = this.lines[msg.line] || null;
      if (call) {
        call._onEvent(msg);
        return;
      }
      if (['registering', 'registered', 'registration_failed',
        'unregistering', 'unregistered'].includes(type)) {
        this.emit('registration', msg);
      } else if (msg.call_id !== undefined) {
        this._log('debug', 'event "' + type + '" for no call of ours (' +
            msg.call_id + ')');
      }
    }

    _onIncomingCall(msg) {
      const line = msg.line;
      if (!Number.isInteger(line) || typeof msg.call_id !== 'string') {
        this._log('warning', 'incoming_call without line/call_id, dropped');
        return;
      }
      const offer = isObject(msg.jsep) && msg.jsep.type === 'offer' &&
          typeof msg.jsep.sdp === 'string' ? msg.jsep : null;
      const call = new WtspCall(this, {line, callId: msg.call_id,
        direction: 'incoming', number: msg.caller, caller: msg.caller,
        callee: msg.callee, offer});
      this.calls.set(call.callId, call);
      if (line >= 0 && line < this.lines.length)
        this.lines[line] = call;
      call._setState('incoming', {caller: msg.caller, callee: msg.callee,
        callerDisplayName: msg.caller_display_name, offer: !!offer});
      this.emit('incoming', call);
    }

    _removeCall(call) {
      this.calls.delete(call.callId);
      if (this.lines[call.line] === call)
        this.lines[call.line] = null;
    }

    /* A line busy in the state handshake holds a call of an earlier
     * connection: not ours to use */
    _freeLine() {
      const server = (this.handshake && this.handshake.lines) || [];
      for (let i = 0; i < this.lines.length; i++)
        if (this.lines[i] === null && !server[i])
          return i;
      return -1;
    }

    /* Outgoing call; resolves once outgoing_call is acked */
    async call(number, options) {
      const line = this._freeLine();
      if (line < 0)
        throw new WtspError('no free line');
      const call = new WtspCall(this, {line, callId: randomId(CALL_ID_LENGTH),
        direction: 'outgoing', number});
      this.calls.set(call.callId, call);
      this.lines[line] = call;
      try {
        await call._start(number, options);
      } catch (err) {
        if (!call.ended)
          call._end({code: err.code || 0, reason: String(err.message)});
        throw err;
      }
      return call;
    }

    _onClose(code, reason, wasClean) {
      this.closed = true;
      this.closeInfo = {code, reason, wasClean};
      if (this._keepaliveTimer)
        clearTimeout(this._keepaliveTimer);
      this._keepaliveTimer = null;
      for (const [t, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new WtspError(p.what + ' (' + t + '): disconnected (' +
            code + ')', {disconnected: true}));
      }
      this.pending.clear();
      this._log(code === 1000 ? 'debug' : 'warning', 'socket closed: ' +
          code + ' ' + (reason || ''));
      this.emit('close', {code, reason, wasClean});
    }
  }

  const api = {WtspClient, WtspCall, WtspError, applyCodecPreferences,
    parseCandidate, sdpMids, sdpTelephoneEvents};
  Object.assign(global, api);
  if (typeof module !== 'undefined' && module.exports)
    module.exports = api;
})(typeof window !== 'undefined' ? window : globalThis);
