#!/usr/bin/env node
/* Browser harness: a real Chromium as the far end of a WTSP call.
 *
 * CLI (stdout: one JSON line per state change, then one summary line):
 *
 *   node harness.js --server ws://10.99.0.1:PORT/signaling/v1 --token bob \
 *       --answer [--codec VP8|H264] [--duration 6] [--expect-frames 30]
 *   node harness.js --server ... --token alice --call NUMBER [--codec ...] \
 *       [--duration 6] [--expect-frames 30] [--hangup-after 4]
 *
 * DTMF: --send-dtmf TONES (insertDTMF on the audio sender 1 s after ICE
 * connected), --expect-dtmf-negotiated (telephone-event in both SDPs),
 * --expect-dtmf TONES (the keys decoded from the telephone-event packets
 * Chromium received, read by an RTCRtpScriptTransform).
 *
 * `node harness.js --help` lists every option. Exit status: 0 when every
 * expectation held, 1 when one did not, 2 on an error or the overall
 * timeout, 64 on a usage error.
 *
 * As a module:
 *
 *   const {BrowserPhone} = require('./harness');
 *   const phone = await BrowserPhone.launch({loopback: false});
 *   phone.on('report', r => ...);      // everything the page reports
 *   await phone.connect('ws://...', 'alice');
 *   await phone.call('bob', {codec: 'VP8'});
 *   await phone.waitFor(r => r.kind === 'media' && r.what === 'first-frame');
 *   console.log(await phone.stats());
 *   await phone.hangup();
 *   await phone.close();
 *
 * Never downloads a browser: Chromium is /usr/bin/chromium (--chromium or
 * $CHROMIUM to change it).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
'use strict';

process.env.PUPPETEER_SKIP_DOWNLOAD = '1';

const EventEmitter = require('events');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');

const DEFAULT_CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PAGE_FILES = {
  '/page.html': 'text/html; charset=utf-8',
  '/wtsp-client.js': 'text/javascript; charset=utf-8',
};

const sleep = ms => new Promise(r => setTimeout(r, ms));

/* insertDTMF's, and webrtccall's defaults */
const DTMF_DURATION = 100;
const DTMF_GAP = 70;
/* RTCDTMFSender: a ',' pauses 2 s */
const DTMF_PAUSE_MS = 2000;
/* --expect-dtmf: audio frames that must come after the last DTMF packet */
const AUDIO_AFTER_DTMF = 50;

const EXIT_OK = 0;
const EXIT_FAIL = 1;
const EXIT_ERROR = 2;
const EXIT_USAGE = 64;

function loadPuppeteer() {
  try {
    return require('puppeteer-core');
  } catch (err) {
    throw new Error('puppeteer-core is not installed: run ' +
        '"PUPPETEER_SKIP_DOWNLOAD=1 npm ci" in ' + __dirname);
  }
}

/* Tokens are secrets: never print one */
function redact(text) {
  return String(text).replace(/([?&]token=)[^&\s'"]*/g, '$1***');
}

/* The flags of shared/testing.md */
function chromiumArgs(options) {
  const o = options || {};
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--user-data-dir=' + o.userDataDir,
    '--use-fake-ui-for-media-stream',
    /* its camera runs at 20 frames a second unless told otherwise */
    '--use-fake-device-for-media-stream' + (o.fps ? '=fps=' + o.fps : ''),
    '--autoplay-policy=no-user-gesture-required',
  ];
  if (o.loopback)
    args.push('--allow-loopback-in-peer-connection');
  return args.concat(o.extraArgs || [], ['about:blank']);
}

/* Serves page.html and wtsp-client.js on 127.0.0.1 (a secure context, as
 * getUserMedia wants), nothing else. Resolves with {url, close()}. */
function startPageServer(options) {
  const o = Object.assign({host: '127.0.0.1', port: 0, dir: __dirname},
      options || {});
  const server = http.createServer((req, res) => {
    let file = new URL(req.url, 'http://x').pathname;
    if (file === '/')
      file = '/page.html';
    const type = PAGE_FILES[file];
    if (req.method !== 'GET' || !type) {
      res.writeHead(404, {'Content-Type': 'text/plain'});
      res.end('not found\n');
      return;
    }
    fs.readFile(path.join(o.dir, file), (err, data) => {
      if (err) {
        res.writeHead(500, {'Content-Type': 'text/plain'});
        res.end(String(err) + '\n');
        return;
      }
      res.writeHead(200, {'Content-Type': type, 'Cache-Control': 'no-store'});
      res.end(data);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      const {address, port} = server.address();
      resolve({
        url: 'http://' + address + ':' + port,
        close: () => new Promise(r => server.close(() => r())),
        server,
      });
    });
  });
}

/* What a browser cannot tell (its WebSocket only says 1006): how the
 * server answers the upgrade. Resolves with a short text. */
function probeUpgrade(url, token) {
  return new Promise(resolve => {
    let u;
    try {
      u = new URL(url);
    } catch (err) {
      resolve('bad URL');
      return;
    }
    u.searchParams.set('token', token);
    u.searchParams.set('force', 'false');
    const secure = u.protocol === 'wss:';
    const lib = secure ? require('https') : http;
    const req = lib.request({
      host: u.hostname, port: u.port || (secure ? 443 : 80),
      path: u.pathname + u.search, method: 'GET', timeout: 3000,
      headers: {Connection: 'Upgrade', Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'd3RzcC1oYXJuZXNzLXByb2Jl',
        'Sec-WebSocket-Protocol': 'webtrit-protocol'},
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve('the server accepts the upgrade (101) when asked directly');
    });
    req.on('response', res => {
      res.resume();
      resolve('the server answers the upgrade with HTTP ' + res.statusCode +
          (res.statusCode === 401 ? ' (token refused)' : ''));
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 3 s')));
    req.on('error', err => resolve('cannot reach the server: ' +
        (err.code || err.message)));
    req.end();
  });
}

/* One Chromium, one page, one WTSP session */
class BrowserPhone extends EventEmitter {
  /* options: chromium (path), loopback, fps (of the fake camera, default
   * 30; 0: Chromium's own 20), extraArgs, verbose, label,
   * pageServer (shared with other phones; else one of its own),
   * launchTimeout (ms) */
  static async launch(options) {
    const phone = new BrowserPhone(options);
    try {
      await phone._launch();
    } catch (err) {
      await phone.close();
      throw err;
    }
    return phone;
  }

  constructor(options) {
    super();
    this.options = Object.assign({chromium: DEFAULT_CHROMIUM, loopback: false,
      fps: 30, extraArgs: [], verbose: false, label: 'phone',
      launchTimeout: 30000},
    options || {});
    this.history = [];
    this.browser = null;
    this.page = null;
    this.userDataDir = null;
    this.pageServer = this.options.pageServer || null;
    this._ownPageServer = !this.pageServer;
    this.version = null;
    this._closed = false;
  }

  _debug(text) {
    if (this.options.verbose)
      process.stderr.write('[' + this.options.label + '] ' + redact(text) +
          '\n');
  }

  async _launch() {
    const puppeteer = loadPuppeteer();
    if (!fs.existsSync(this.options.chromium))
      throw new Error(this.options.chromium + ' not found (apt-get install ' +
          'chromium)');
    if (!this.pageServer)
      this.pageServer = await startPageServer();
    this.userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wtsp-chromium-'));
    const args = chromiumArgs({userDataDir: this.userDataDir,
      loopback: this.options.loopback, fps: this.options.fps,
      extraArgs: this.options.extraArgs});
    this._debug('launching ' + this.options.chromium + ' ' + args.join(' '));
    this.browser = await puppeteer.launch({
      executablePath: this.options.chromium,
      args,
      ignoreDefaultArgs: true,
      headless: true,
      pipe: true,
      dumpio: this.options.verbose,
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      timeout: this.options.launchTimeout,
      protocolTimeout: 30000,
    });
    this.version = await this.browser.version();
    this.browser.on('disconnected', () => {
      if (!this._closed)
        this._report({kind: 'browser', disconnected: true});
    });
    const pages = await this.browser.pages();
    this.page = pages[0] || await this.browser.newPage();
    this.page.on('console', msg => this._debug('console.' + msg.type() +
        ': ' + msg.text()));
    this.page.on('pageerror', err => {
      process.stderr.write('[' + this.options.label + '] page error: ' +
          redact(err.message) + '\n');
      this._report({kind: 'page-error', message: err.message});
    });
    await this.page.exposeFunction('wtspReport', r => this._report(r));
    await this.page.goto(this.pageServer.url + '/page.html',
        {waitUntil: 'load', timeout: 15000});
    await this.page.waitForFunction('window.wtsp !== undefined',
        {timeout: 10000});
  }

  _report(r) {
    this.history.push(r);
    if (r.kind === 'log')
      this._debug('wtsp ' + r.level + ': ' + r.text);
    else if (r.kind === 'event')
      this._debug('<- ' + JSON.stringify(r.message));
    this.emit('report', r);
  }

  /* Resolves with the first report, from history index @from on, for
   * which @pred is true; rejects after @timeoutMs */
  waitFor(pred, timeoutMs, from) {
    for (let i = from || 0; i < this.history.length; i++)
      if (pred(this.history[i]))
        return Promise.resolve(this.history[i]);
    return new Promise((resolve, reject) => {
      let timer = null;
      const on = r => {
        if (!pred(r))
          return;
        this.off('report', on);
        if (timer)
          clearTimeout(timer);
        resolve(r);
      };
      this.on('report', on);
      if (timeoutMs !== undefined && timeoutMs !== Infinity)
        timer = setTimeout(() => {
          this.off('report', on);
          reject(new Error('timed out after ' + timeoutMs + ' ms'));
        }, timeoutMs);
    });
  }

  _eval(fn, ...args) {
    return this.page.evaluate(fn, ...args).catch(err => {
      throw new Error(redact(err.message.split('\n')[0]));
    });
  }

  async connect(url, token, options) {
    try {
      return await this._eval((u, t, o) => window.wtsp.connect(u, t, o), url,
          token, options || {});
    } catch (err) {
      if (/before the state handshake: 1006/.test(err.message))
        err.message += ' (' + await probeUpgrade(url, token) + ')';
      throw err;
    }
  }
  call(number, options) {
    return this._eval((n, o) => window.wtsp.call(n, o), number, options || {});
  }
  answer(options) {
    return this._eval(o => window.wtsp.answer(o), options || {});
  }
  decline(code) {
    return this._eval(c => window.wtsp.decline(c), code || 0);
  }
  hangup() {
    return this._eval(() => window.wtsp.hangup());
  }
  stats() {
    return this._eval(() => window.wtsp.stats());
  }
  summary() {
    return this._eval(() => window.wtsp.summary());
  }
  videoCodecs() {
    return this._eval(() => window.wtsp.videoCodecs());
  }
  sendDtmf(tones, duration, gap) {
    return this._eval((t, d, g) => window.wtsp.sendDtmf(t, d, g), tones,
        duration, gap);
  }
  telephoneEvents() {
    return this._eval(() => window.wtsp.telephoneEvents());
  }
  dtmfReceived() {
    return this._eval(() => window.wtsp.dtmfReceived());
  }

  async close() {
    if (this._closed)
      return;
    this._closed = true;
    if (this.page) {
      /* a clean 1000 close for the server, rather than 1001 going away */
      await this.page.evaluate(() => window.wtsp && window.wtsp.close(1000,
          'bye')).catch(() => {});
      await sleep(100);
    }
    if (this.browser) {
      const proc = this.browser.process();
      const timer = setTimeout(() => {
        try {
          proc && proc.kill('SIGKILL');
        } catch (e) { /* gone */ }
      }, 3000);
      try {
        await this.browser.close();
      } catch (err) {
        try {
          proc && proc.kill('SIGKILL');
        } catch (e) { /* gone */ }
      }
      clearTimeout(timer);
    }
    if (this.pageServer && this._ownPageServer)
      await this.pageServer.close();
    this._removeProfile();
  }

  /* the profile, and the /tmp/org.chromium.Chromium.XXXXXX directory of
   * its singleton socket (left behind when Chromium is killed) */
  _removeProfile() {
    if (!this.userDataDir)
      return;
    try {
      const socket = fs.readlinkSync(path.join(this.userDataDir,
          'SingletonSocket'));
      const dir = path.dirname(socket);
      if (/\/org\.chromium\.Chromium\.[^/]+$/.test(dir))
        fs.rmSync(dir, {recursive: true, force: true});
    } catch (e) { /* none */ }
    fs.rmSync(this.userDataDir, {recursive: true, force: true});
    this.userDataDir = null;
  }

  /* for a process that must die now */
  killNow() {
    try {
      const proc = this.browser && this.browser.process();
      if (proc)
        proc.kill('SIGKILL');
    } catch (e) { /* gone */ }
    try {
      this._removeProfile();
    } catch (e) { /* best effort */ }
  }
}

/* Command line */

const USAGE = `usage: node harness.js --server URL (--token T | --token-file F)
         (--answer | --decline | --call NUMBER) [options]

  --server URL          ws(s)://HOST:PORT[/tenant/T]/signaling/v1
  --token T             session token (--token-file F reads it from a file)
  --answer              wait for an incoming call and answer it
  --decline             wait for an incoming call and decline it
  --decline-code N      SIP code of the decline (default: the server's, 603)
  --call NUMBER         call NUMBER
  --codec C             force the video codec: VP8, H264 (VP9, AV1)
  --audio-only          no video (getUserMedia audio only)
  --fps N               frame rate of the fake camera (default 30; 0 leaves
                        Chromium's own, 20)
  --bundle-policy P     balanced (Chromium's default) | max-bundle | max-compat
  --answer-delay S      ring S seconds before answering (default 0)
  --duration S          stay S seconds in the call once accepted (default 6)
  --hangup-after S      hang up S seconds after accepted (default: at the
                        end of --duration)
  --no-hangup           at the end of --duration, leave without hanging up
                        (the far end is expected to have hung up)
  --expect-frames N     decoded video frames needed (default 1; 0 = no check)
  --expect-audio N      audio packets received needed (default 1)
  --expect-hangup CODE  the call must end with this hangup code (486, 603,
                        404, ...); media checks then default to 0
  --expect-setup-ms MS  call start to first frame within MS
  --send-dtmf TONES     1 s after ICE connected, insertDTMF(TONES) on the
                        audio sender (0-9 * # A-D, ',' a 2 s pause); every
                        tone must be played (tonechange events)
  --dtmf-duration MS    of each tone (default 100)
  --dtmf-gap MS         between tones (default 70)
  --expect-dtmf-negotiated  telephone-event in the audio m-line of both the
                        local and the remote SDP (checked 1 s after ICE
                        connected; the rtpmap lines are printed)
  --expect-dtmf TONES   the keys decoded from the telephone-event packets
                        received (RTCRtpScriptTransform on the audio
                        receiver) must be TONES, in order, and >= 50 audio
                        frames must come after the last of those packets
  --timeout S           overall bound on the run (default 60)
  --no-prewarm          open the fake camera/mic at call time, not at connect
                        (adds their ~300 ms to the call setup)
  --loopback            --allow-loopback-in-peer-connection
  --chromium PATH       default /usr/bin/chromium ($CHROMIUM)
  --chromium-arg ARG    one more Chromium flag (repeatable)
  --verbose             Chromium, page and WTSP logs on stderr
`;

function parseArgs(argv) {
  const o = {duration: 6, timeout: 60, answerDelay: 0, fps: 30,
    chromiumArgs: [],
    verbose: false, loopback: false, prewarm: true};
  const numeric = {'--duration': 'duration', '--hangup-after': 'hangupAfter',
    '--expect-frames': 'expectFrames', '--expect-audio': 'expectAudio',
    '--expect-hangup': 'expectHangup', '--timeout': 'timeout',
    '--answer-delay': 'answerDelay', '--decline-code': 'declineCode',
    '--expect-setup-ms': 'expectSetupMs', '--fps': 'fps',
    '--dtmf-duration': 'dtmfDuration', '--dtmf-gap': 'dtmfGap'};
  const strings = {'--server': 'server', '--token': 'token',
    '--token-file': 'tokenFile', '--call': 'call', '--codec': 'codec',
    '--bundle-policy': 'bundlePolicy', '--chromium': 'chromium',
    '--send-dtmf': 'sendDtmf', '--expect-dtmf': 'expectDtmf'};
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let value;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      value = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const next = () => {
      if (value !== undefined)
        return value;
      if (i + 1 >= argv.length)
        throw new Error(a + ' needs a value');
      return argv[++i];
    };
    if (a in numeric) {
      const v = Number(next());
      if (!Number.isFinite(v) || v < 0)
        throw new Error(a + ': not a number');
      o[numeric[a]] = v;
    } else if (a in strings) {
      o[strings[a]] = next();
    } else if (a === '--answer') {
      o.mode = 'answer';
    } else if (a === '--decline') {
      o.mode = 'decline';
    } else if (a === '--audio-only') {
      o.audioOnly = true;
    } else if (a === '--no-prewarm') {
      o.prewarm = false;
    } else if (a === '--no-hangup') {
      o.noHangup = true;
    } else if (a === '--expect-dtmf-negotiated') {
      o.expectDtmfNegotiated = true;
    } else if (a === '--loopback') {
      o.loopback = true;
    } else if (a === '--chromium-arg') {
      o.chromiumArgs.push(next());
    } else if (a === '--verbose' || a === '-v') {
      o.verbose = true;
    } else if (a === '--help' || a === '-h') {
      o.help = true;
    } else {
      throw new Error('unknown argument ' + a);
    }
  }
  if (o.help)
    return o;
  if (o.call !== undefined) {
    if (o.mode)
      throw new Error('--call and --' + o.mode + ' exclude each other');
    o.mode = 'call';
  }
  if (!o.mode)
    throw new Error('one of --answer, --decline, --call NUMBER is needed');
  if (!o.server)
    throw new Error('--server is needed');
  if (o.tokenFile !== undefined)
    o.token = fs.readFileSync(o.tokenFile, 'utf8').trim();
  if (!o.token)
    throw new Error('--token or --token-file is needed');
  for (const k of ['sendDtmf', 'expectDtmf'])
    if (o[k] !== undefined) {
      if (!/^[0-9*#A-D,]+$/i.test(o[k]))
        throw new Error('--' + (k === 'sendDtmf' ? 'send' : 'expect') +
            '-dtmf: only 0-9 * # A-D and ","');
      o[k] = o[k].toUpperCase();
    }
  if (o.expectDtmf !== undefined)
    o.expectDtmf = o.expectDtmf.replace(/,/g, '');
  if (o.dtmfDuration === undefined)
    o.dtmfDuration = DTMF_DURATION;
  if (o.dtmfGap === undefined)
    o.dtmfGap = DTMF_GAP;
  if (o.codec) {
    o.codec = o.codec.toUpperCase();
    if (o.audioOnly)
      throw new Error('--codec and --audio-only exclude each other');
  }
  const mediaDefault = o.expectHangup !== undefined || o.mode === 'decline' ?
      0 : 1;
  if (o.expectFrames === undefined)
    o.expectFrames = o.audioOnly ? 0 : mediaDefault;
  if (o.expectAudio === undefined)
    o.expectAudio = mediaDefault;
  return o;
}

/* What --send-dtmf and --expect-dtmf-negotiated do once the call is
 * accepted: 1 s after ICE connected, the SDP check, then insertDTMF and
 * its tonechange events until the last (tone ''). Resolves when done;
 * what did not hold goes to @failures. */
async function dtmfStep(o, phone, ended, summary, failures, print) {
  if (o.sendDtmf === undefined && !o.expectDtmfNegotiated)
    return;
  try {
    const first = await Promise.race([phone.waitFor(r => r.kind === 'media' &&
        (r.what === 'ice-connected' || r.what === 'ice-failed')),
    phone.waitFor(ended)]);
    if (first.kind !== 'media' || first.what !== 'ice-connected') {
      failures.push('DTMF: the call ' + (first.kind === 'media' ?
        'failed ICE' : 'ended') + ' before ICE connected');
      return;
    }
    await sleep(1000);
    if (phone.history.some(ended)) {
      failures.push('DTMF: the call ended within 1 s of ICE connected');
      return;
    }
    if (o.expectDtmfNegotiated) {
      const te = await phone.telephoneEvents();
      const lines = d => d ? d.events.map(e => e.line) : [];
      summary.telephoneEvents = {local: lines(te.local),
        remote: lines(te.remote), localCodec: te.local && te.local.codec,
        remoteCodec: te.remote && te.remote.codec,
        canInsertDTMF: te.canInsertDTMF};
      print(Object.assign({dtmf: 'negotiated'}, summary.telephoneEvents));
      for (const side of ['local', 'remote'])
        if (!te[side])
          failures.push('no ' + side + ' description');
        else if (te[side].events.length === 0)
          failures.push('no telephone-event in the ' + side + ' SDP\'s ' +
              'audio m-line (its codec: ' + te[side].codec + ')');
    }
    if (o.sendDtmf !== undefined) {
      const from = phone.history.length;
      const r = await phone.sendDtmf(o.sendDtmf, o.dtmfDuration, o.dtmfGap);
      summary.dtmfSent = o.sendDtmf;
      print({dtmf: 'sent', tones: o.sendDtmf, duration: o.dtmfDuration,
        gap: o.dtmfGap, toneBuffer: r.toneBuffer});
      const keys = o.sendDtmf.replace(/,/g, '').length;
      const pauses = o.sendDtmf.length - keys;
      const bound = keys * (o.dtmfDuration + o.dtmfGap) +
          pauses * DTMF_PAUSE_MS + 3000;
      const done = await Promise.race([phone.waitFor(x => x.kind === 'dtmf' &&
          x.what === 'tonechange' && x.tone === '', undefined, from),
      phone.waitFor(ended, undefined, from), sleep(bound).then(() => null)]);
      const played = phone.history.slice(from).filter(x => x.kind ===
          'dtmf' && x.what === 'tonechange' && x.tone !== '')
          .map(x => x.tone).join('');
      if (!done || done.kind !== 'dtmf')
        failures.push('insertDTMF("' + o.sendDtmf + '"): tonechange ' +
            'played "' + played + '" and no end (tone "") ' +
            (done ? 'before the call ended' : 'within ' + bound + ' ms'));
      else if (played !== o.sendDtmf)
        failures.push('insertDTMF("' + o.sendDtmf + '"): tonechange ' +
            'played "' + played + '"');
    }
  } catch (err) {
    failures.push('DTMF: ' + redact(err.message || String(err)));
  }
}

/* --expect-dtmf: the keys Chromium's RTCRtpScriptTransform read */
function checkDtmfReceived(o, got, summary, failures) {
  if (!got) {
    failures.push('DTMF: nothing read (no audio track came)');
    return;
  }
  summary.dtmfReceived = got.keys.map(k => k.tone + ' (' + k.duration +
      ' ms' + (k.end ? '' : ', no end packet') + ')').join(' ');
  summary.dtmfPackets = got.packets;
  summary.audioFramesAfterDtmf = got.audioFramesAfterDtmf;
  if (got.error) {
    failures.push('DTMF: cannot read the packets: ' + got.error);
    return;
  }
  if (got.tones !== o.expectDtmf)
    failures.push('DTMF received "' + got.tones + '" (' + got.packets +
        ' telephone-event packets), expected "' + o.expectDtmf + '"');
  else if (!(got.audioFramesAfterDtmf >= AUDIO_AFTER_DTMF))
    failures.push('after the last telephone-event packet only ' +
        got.audioFramesAfterDtmf + ' audio frames came (< ' +
        AUDIO_AFTER_DTMF + '): the audio did not go on');
}

/* One run of the CLI; @out(object) prints a line. Resolves with
 * {summary, code}. */
async function run(o, out, hooks) {
  const t0 = Date.now();
  const role = o.mode === 'call' ? 'caller' : 'callee';
  const summary = {result: 'fail', role, framesDecoded: 0,
    audioPacketsReceived: 0, framesSent: 0, codec: null, setupMs: null,
    hangup: null, error: null};
  const failures = [];
  let phone = null;
  let lastCallState = null;
  const print = obj => out(Object.assign(obj, {t: Date.now() - t0}));

  const finishStats = s => {
    if (!s)
      return;
    summary.framesDecoded = s.framesDecoded;
    summary.audioPacketsReceived = s.audioPacketsReceived;
    summary.framesSent = s.framesSent;
    summary.codec = s.codec || s.codecSent;
    summary.codecReceived = s.codec;
    summary.codecSent = s.codecSent;
    summary.codecFmtp = s.codecFmtp;
    summary.audioCodec = s.audioCodec;
    summary.frameSize = s.frameWidth ? s.frameWidth + 'x' + s.frameHeight :
        null;
    summary.selectedPair = s.selectedPair;
  };

  try {
    phone = await BrowserPhone.launch({chromium: o.chromium ||
        DEFAULT_CHROMIUM, loopback: o.loopback, fps: o.fps,
      extraArgs: o.chromiumArgs,
      verbose: o.verbose, label: o.token ? role : 'phone'});
    if (hooks)
      hooks.phone = phone;
    summary.chromium = phone.version;

    /* what the page says, as it happens */
    phone.on('report', r => {
      if (r.kind === 'call-state') {
        lastCallState = r;
        const line = {state: r.state, callMs: r.ms};
        for (const k of ['code', 'reason', 'caller', 'callee', 'offer',
          'direction'])
          if (r[k] !== undefined && !(k === 'direction' &&
              r.state !== 'updating_call'))
            line[k] = r[k];
        print(line);
      } else if (r.kind === 'media') {
        const line = {media: r.what, callMs: r.ms};
        if (r.codec)
          line.codec = r.codec;
        print(line);
      } else if (r.kind === 'dtmf') {
        const line = {dtmf: r.what, tone: r.tone, callMs: r.ms};
        if (r.duration !== undefined)
          line.duration = r.duration;
        if (r.pt !== undefined)
          line.pt = r.pt;
        print(line);
      } else if (r.kind === 'close') {
        print({state: 'disconnected', code: r.code, reason: r.reason});
      } else if (r.kind === 'page-error') {
        print({state: 'page-error', error: r.message});
      }
    });

    const hello = await phone.connect(o.server, o.token, o.prewarm ?
      {prepareMedia: {audio: true, video: !o.audioOnly}} : {});
    print({state: 'ready', lines: hello.lines, keepaliveInterval:
      hello.keepaliveInterval, chromium: phone.version});

    const callOptions = {video: !o.audioOnly, audio: true, codec: o.codec,
      readTelephoneEvents: o.expectDtmf !== undefined};
    if (o.bundlePolicy)
      callOptions.bundlePolicy = o.bundlePolicy;

    let callStartIndex = 0;
    const ended = r => r.kind === 'call-state' && r.state === 'hangup';
    if (o.mode === 'call') {
      callStartIndex = phone.history.length;
      await phone.call(o.call, callOptions);
    } else {
      await phone.waitFor(r => r.kind === 'call-state' &&
          r.state === 'incoming');
      if (o.mode === 'decline') {
        await sleep(o.answerDelay * 1000);
        await phone.decline(o.declineCode);
      } else {
        await sleep(o.answerDelay * 1000);
        /* the far end may have given up meanwhile */
        if (!phone.history.some(ended))
          await phone.answer(callOptions);
      }
    }

    /* accepted, or over */
    const first = await phone.waitFor(r => r.kind === 'call-state' &&
        (r.state === 'accepted' || r.state === 'hangup'), undefined,
        callStartIndex);
    if (first.state === 'accepted') {
      const stay = Math.min(o.duration, o.hangupAfter !== undefined ?
          o.hangupAfter : Infinity) * 1000;
      const dtmf = dtmfStep(o, phone, ended, summary, failures, print);
      await Promise.race([sleep(stay), phone.waitFor(ended)]);
      await dtmf;
      finishStats(await phone.stats());
      const over = phone.history.some(ended);
      if (!over && !o.noHangup) {
        try {
          await phone.hangup();
        } catch (err) {
          /* the far end's hangup crossing ours */
          if (!/459/.test(err.message))
            throw err;
        }
        await phone.waitFor(ended, 3000).catch(() => {});
      }
    }
    const info = await phone.summary();
    if (info) {
      finishStats(info.stats);
      summary.hangup = info.hangup;
      summary.timings = info.timings;
      summary.setupMs = info.timings[o.audioOnly ? 'first-audio' :
        'first-frame'];
      if (summary.setupMs === undefined)
        summary.setupMs = null;
      summary.mdns = info.mdns;
      summary.localCandidates = info.localCandidates.map(c => c.address +
          ' ' + c.protocol + ' ' + c.type);
    }

    /* expectations */
    const accepted = info && 'accepted' in info.timings;
    if (o.expectHangup !== undefined) {
      if (!summary.hangup || summary.hangup.code !== o.expectHangup)
        failures.push('hangup code ' + (summary.hangup ?
          summary.hangup.code : 'none') + ', expected ' + o.expectHangup);
    } else if (!accepted) {
      failures.push('the call was not accepted' + (summary.hangup ?
        ' (hangup ' + summary.hangup.code + ' ' + summary.hangup.reason + ')' :
        ''));
    }
    if (summary.framesDecoded < o.expectFrames)
      failures.push('framesDecoded ' + summary.framesDecoded + ' < ' +
          o.expectFrames);
    if (summary.audioPacketsReceived < o.expectAudio)
      failures.push('audioPacketsReceived ' + summary.audioPacketsReceived +
          ' < ' + o.expectAudio);
    if (o.codec && summary.framesDecoded > 0 &&
        (summary.codecReceived || '').toUpperCase() !== o.codec)
      failures.push('received video codec ' + summary.codecReceived +
          ', expected ' + o.codec);
    if (o.codec && summary.framesSent > 0 &&
        (summary.codecSent || '').toUpperCase() !== o.codec)
      failures.push('sent video codec ' + summary.codecSent + ', expected ' +
          o.codec);
    if (o.expectSetupMs !== undefined && !(summary.setupMs <= o.expectSetupMs))
      failures.push('setup ' + summary.setupMs + ' ms > ' + o.expectSetupMs);
    if (summary.mdns)
      failures.push('mDNS (.local) candidates: ' +
          summary.localCandidates.join(', '));
    if (o.sendDtmf !== undefined && info)
      summary.toneChanges = info.toneChanges.map(t => t.tone || '(end)')
          .join(' ');
    if (o.expectDtmf !== undefined)
      checkDtmfReceived(o, info && info.dtmfReceived, summary, failures);
  } catch (err) {
    summary.error = redact(err.message || String(err));
  }
  if (failures.length)
    summary.failures = failures;
  summary.result = !summary.error && failures.length === 0 ? 'ok' : 'fail';
  if (phone)
    await phone.close().catch(() => {});
  return {summary, code: summary.error ? EXIT_ERROR :
    summary.result === 'ok' ? EXIT_OK : EXIT_FAIL};
}

async function main(argv) {
  let o;
  try {
    o = parseArgs(argv);
  } catch (err) {
    process.stderr.write('harness: ' + err.message + '\n' + USAGE);
    return EXIT_USAGE;
  }
  if (o.help) {
    process.stdout.write(USAGE);
    return EXIT_OK;
  }
  const out = obj => process.stdout.write(JSON.stringify(obj) + '\n');
  const hooks = {phone: null};
  let done = false;

  /* A bounded lifetime, whatever happens */
  const abort = (error, code) => {
    if (done)
      return;
    done = true;
    out({result: 'fail', role: o.mode === 'call' ? 'caller' : 'callee',
      error});
    if (hooks.phone)
      hooks.phone.killNow();
    process.exit(code);
  };
  const timer = setTimeout(() => abort('overall timeout after ' + o.timeout +
      ' s', EXIT_ERROR), o.timeout * 1000);
  process.on('SIGTERM', () => abort('killed by SIGTERM', 143));
  process.on('SIGINT', () => abort('interrupted (SIGINT)', 130));
  process.on('exit', () => {
    if (hooks.phone)
      hooks.phone.killNow();
  });

  const {summary, code} = await run(o, out, hooks);
  clearTimeout(timer);
  if (done)
    return code;
  done = true;
  out(summary);
  return code;
}

module.exports = {BrowserPhone, startPageServer, chromiumArgs, parseArgs, run,
  probeUpgrade,
  redact, DEFAULT_CHROMIUM};

if (require.main === module)
  main(process.argv.slice(2)).then(code => process.exit(code), err => {
    process.stdout.write(JSON.stringify({result: 'fail',
      error: redact(err.message)}) + '\n');
    process.exit(EXIT_ERROR);
  });
