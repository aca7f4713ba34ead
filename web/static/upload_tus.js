// upload_tus.js — resumable uploads for the upload page: each chosen file
// goes to /api/uploads with the tus 1.0 protocol (docs/api.md "Resumable
// uploads") through the vendored tus-js-client (static/vendor/tus-js-client/,
// a classic script that sets window.tus).  The protocol is the client's; what
// this file adds around it:
//  * compression: each chunk is compressed on its own by the browser's
//    CompressionStream('gzip') into one gzip member and sent with
//    Content-Encoding: gzip, when the server says it takes such chunks.  The
//    server counts offsets in dump bytes, so a chunk cut off by a dropped
//    network is sent again from its start, never the whole file;
//  * one case upload id for the files of one submission, kept in
//    localStorage beside tus-js-client's own fingerprints, so choosing the
//    same files again after a reload (or a closed laptop lid) continues at
//    the server's offset;
//  * retries without end while the network is down ("paused — will
//    resume"), pause/resume by the user, and the numbers the progress line
//    shows: dump bytes acknowledged, bytes on the wire, speed, time left.

const CASE_PREFIX = 'dt-case:';
const FP_PREFIX = 'dt-tus/';
// tus-js-client's urlStorage keys are "tus::<fingerprint>::<random>".
const TUS_KEY_PREFIX = 'tus::' + FP_PREFIX;
// A request that moves no byte for this long is given up and sent again
// (a connection that died without an error: a sleeping laptop, a NAT).
const STALL_MS = 60000;
// Metadata over this (base64, all keys) goes the one-shot way: the server
// takes at most 4 KiB of Upload-Metadata.
export const TUS_META_LIMIT = 4000;

/** What the server offers for resumable uploads, or null (then the page
 *  sends the one-shot POST /api/dumps): {gzip, maxSize}. */
export async function tusServer() {
  if (typeof window.tus !== 'object' || !window.tus.isSupported) return null;
  let res;
  try {
    res = await fetch('/api/uploads', { method: 'OPTIONS', credentials: 'same-origin' });
  } catch { return null; }
  const versions = (res.headers.get('Tus-Version') || '').split(',').map((v) => v.trim());
  if (res.status !== 204 || !versions.includes('1.0.0')) return null;
  const enc = (res.headers.get('Dumptriage-Chunk-Encoding') || '').toLowerCase();
  return {
    gzip: enc.split(',').map((v) => v.trim()).includes('gzip') && typeof CompressionStream === 'function',
    maxSize: Number(res.headers.get('Tus-Max-Size')) || 0,
  };
}

function randomId() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function storage() {
  try { return window.localStorage; } catch { return null; }
}

/** The case upload of these files ([[role, File], …]): the id kept from an
 *  earlier, unfinished try with the very same files, else a new one. */
export function caseFor(entries) {
  const key = CASE_PREFIX + entries.map(([role, f]) => [role, f.name, f.size, f.lastModified].join(':')).join('|');
  const ls = storage();
  let rec = null;
  try { rec = JSON.parse((ls && ls.getItem(key)) || 'null'); } catch { rec = null; }
  const resumed = !!(rec && typeof rec.id === 'string' && /^[A-Za-z0-9_-]{8,64}$/.test(rec.id));
  if (!resumed) {
    rec = { id: randomId(), names: entries.map(([, f]) => f.name), bytes: entries.reduce((n, [, f]) => n + f.size, 0),
      started: Date.now() };
    try { if (ls) ls.setItem(key, JSON.stringify(rec)); } catch { /* private mode: no resume after a reload */ }
  }
  return { key, id: rec.id, resumed };
}

/** Unfinished case uploads this browser remembers: [{names, bytes, started}]. */
export function unfinishedCases() {
  const ls = storage();
  const out = [];
  if (!ls) return out;
  for (let i = 0; i < ls.length; i++) {
    const k = ls.key(i);
    if (!k || !k.startsWith(CASE_PREFIX)) continue;
    try {
      const rec = JSON.parse(ls.getItem(k));
      if (rec && Array.isArray(rec.names)) out.push(rec);
    } catch { /* not ours to mend */ }
  }
  return out;
}

/** Forgets a case upload and the client's stored upload URLs of its files. */
function forgetCase(c) {
  const ls = storage();
  if (!ls) return;
  const drop = [];
  for (let i = 0; i < ls.length; i++) {
    const k = ls.key(i);
    if (k === c.key || (k && k.startsWith(TUS_KEY_PREFIX + c.id + '/'))) drop.push(k);
  }
  for (const k of drop) ls.removeItem(k);
}

/** tus-js-client's file source, chunk by chunk: the raw slice, or that slice
 *  as one gzip member (the next chunk is compressed while this one is on
 *  the wire).  `seen` hears of every chunk handed out (start, raw, wire). */
class ChunkSource {
  constructor(file, gzip, chunkSize, seen) {
    this.file = file;
    this.size = file.size;
    this.gzip = gzip;
    this.chunkSize = chunkSize;
    this.seen = seen;
    this.ahead = null;
  }

  pack(start, end) {
    const raw = this.file.slice(start, end);
    if (!this.gzip) return Promise.resolve(raw);
    return new Response(raw.stream().pipeThrough(new CompressionStream('gzip'))).blob();
  }

  slice(start, end) {
    const a = this.ahead;
    const p = a && a.start === start && a.end === end ? a.p : this.pack(start, end);
    this.ahead = null;
    if (this.gzip && end < this.size) {
      const next = Math.min(this.size, end + this.chunkSize);
      this.ahead = { start: end, end: next, p: this.pack(end, next) };
      this.ahead.p.catch(() => {});
    }
    return p.then((value) => {
      this.seen(start, end - start, value.size);
      // With gzip the chunk's size is not its dump bytes: "done" is never
      // claimed, the server's offset ends the upload.
      return { value, done: !this.gzip && end >= this.size };
    });
  }

  close() { this.ahead = null; }
}

function httpStatus(err) {
  const r = err && err.originalResponse;
  return r ? r.getStatus() : 0;
}

function responseJSON(err) {
  try { return JSON.parse(err.originalResponse.getBody()); } catch { return null; }
}

/**
 * Sends the files of one case upload, one after the other.
 * opts: entries [[role, File]], fields {note, case_id, customer},
 *       gzip(role, file) → bool, chunkSize,
 *       onProgress({sent, total, wire, rawWire, speed, left}),
 *       onState('running' | 'network' | 'paused').
 * run() resolves with {id, view_url, status_url} of the upload the server
 * made of the finished case, or rejects with {status, body, message}.
 */
export class CaseUpload {
  constructor(opts) {
    this.o = opts;
    this.c = caseFor(opts.entries);
    this.total = opts.entries.reduce((n, [, f]) => n + f.size, 0);
    this.doneBytes = 0;      // files finished in this run
    this.file = null;        // the current file's counters
    this.wire = 0;           // bytes put on the wire by this page
    this.rawWire = 0;        // the dump bytes those stood for
    this.samples = [];
    this.first = null;
    this.up = null;
    this.userPaused = false;
    this.waiting = null;
    this.netTries = 0;
    this.urls = [];
    this.cancelled = false;
    this.moved = performance.now();
    this.watch = null;
    // The browser knows first that the network is gone: stop the request
    // in flight at once (its whole gzip members or raw bytes are kept by the
    // server) rather than wait for it to fail.
    this.onOffline = () => {
      if (!this.up || this.userPaused || this.cancelled || this.waiting) return;
      const up = this.up;
      up.abort(false).catch(() => {});
      this.waitForNetwork(up);
    };
  }

  /** Upload-Metadata bytes the first file would carry (keys, base64 values). */
  static metadataBytes(entries, fields) {
    const b64 = (v) => Math.ceil(new TextEncoder().encode(String(v || '')).length / 3) * 4;
    const longest = Math.max(0, ...entries.map(([, f]) => b64(f.name)));
    return 100 + longest + b64(fields.note) + b64(fields.case_id) + b64(fields.customer);
  }

  async run() {
    window.addEventListener('offline', this.onOffline);
    this.watch = setInterval(() => {
      if (!this.up || this.userPaused || this.cancelled || this.waiting) return;
      if (performance.now() - this.moved > STALL_MS) this.onOffline();
    }, 5000);
    try {
      return await this.runFiles();
    } finally {
      window.removeEventListener('offline', this.onOffline);
      clearInterval(this.watch);
      this.clearWait();
    }
  }

  async runFiles() {
    const { entries } = this.o;
    let last = null;
    for (let i = 0; i < entries.length; i++) {
      last = await this.one(entries[i], i === 0);
      this.doneBytes += entries[i][1].size;
      this.file = null;
    }
    let res = last.headers;
    if (!res.id && last.url) {
      const r = await fetch(last.url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      const j = r.ok ? await r.json() : null;
      if (j && typeof j.upload_id === 'string') res = { id: j.upload_id, view_url: j.view_url, status_url: j.status_url };
    }
    if (!res.id) throw { status: 0, body: null, message: 'the server did not say which upload the files became' };
    forgetCase(this.c);
    return res;
  }

  one([role, file], first) {
    const gzip = this.o.gzip(role, file);
    const f = { start: -1, base: -1, raw: 0, wire: 0, acked: 0, inflight: 0, gzip };
    this.file = f;
    const md = { filename: file.name, case_upload: this.c.id, files: String(this.o.entries.length) };
    if (role === 'user' || role === 'kernel') md.role = role;
    if (first) {
      // The case's text rides on its first file (the server takes it from there).
      if (this.o.fields.note) md.note = this.o.fields.note;
      if (this.o.fields.case_id) md.case = this.o.fields.case_id;
      if (this.o.fields.customer) md.customer = this.o.fields.customer;
    }
    return new Promise((resolve, reject) => {
      const up = new window.tus.Upload(file, {
        endpoint: '/api/uploads',
        chunkSize: this.o.chunkSize,
        metadata: md,
        retryDelays: [0, 1000, 3000, 5000],
        fingerprint: () => Promise.resolve(FP_PREFIX + this.c.id + '/' + role),
        storeFingerprintForResuming: true,
        removeFingerprintOnSuccess: false, // the case is forgotten as a whole, once finished
        fileReader: {
          openFile: (input, chunkSize) => Promise.resolve(new ChunkSource(input, gzip, chunkSize, (start, raw, wire) => {
            if (f.base < 0) { f.base = start; this.samples = []; } // a resumed file jumps to the server's offset
            f.start = start; f.raw = raw; f.wire = wire; f.inflight = 0;
          })),
        },
        onBeforeRequest: (req) => {
          if (gzip && req.getMethod() === 'PATCH') req.setHeader('Content-Encoding', 'gzip');
        },
        onShouldRetry: (err) => {
          const s = httpStatus(err);
          if (s !== 0 && s < 500 && s !== 409 && s !== 423) return false;
          if (s === 0 && !navigator.onLine) return false; // waits for the network below
          this.state('network');
          return true;
        },
        onProgress: (sent) => {
          this.moved = performance.now();
          if (f.start < 0 || !f.wire) return;
          const inChunk = Math.max(0, Math.min(f.wire, sent - f.start));
          f.inflight = inChunk;
          this.progress();
        },
        onChunkComplete: (_n, accepted) => {
          this.moved = performance.now();
          this.wire += f.wire;
          this.rawWire += f.raw;
          f.acked = accepted;
          f.inflight = 0;
          f.start = -1;
          this.netTries = 0;
          if (!this.userPaused) this.state('running');
          this.progress();
        },
        onSuccess: ({ lastResponse }) => {
          const h = (n) => (lastResponse && lastResponse.getHeader(n)) || '';
          this.urls.push(up.url);
          f.acked = file.size;
          resolve({ url: up.url, headers: { id: h('Dumptriage-Upload-Id'), view_url: h('Dumptriage-View-Url'),
            status_url: h('Dumptriage-Status-Url') } });
        },
        onError: (err) => {
          if (this.cancelled) return;
          const s = httpStatus(err);
          if (s === 0 || s >= 500 || s === 409 || s === 423) { this.waitForNetwork(up); return; }
          reject({ status: s, body: responseJSON(err), message: err && err.message });
        },
      });
      this.up = up;
      up.findPreviousUploads().then((prev) => {
        if (prev.length) up.resumeFromPreviousUpload(prev[0]);
        if (!this.userPaused) up.start();
      });
    });
  }

  /** The network (or the server) is gone: try again when the browser says
   *  it is back online, else every few seconds. */
  waitForNetwork(up) {
    this.state('network');
    this.clearWait();
    const again = () => {
      this.clearWait();
      if (this.userPaused || this.cancelled) return;
      this.moved = performance.now();
      up.start();
    };
    const onOnline = () => { this.clearWait(); this.waiting = { timer: setTimeout(again, 250), onOnline: null }; };
    window.addEventListener('online', onOnline);
    this.netTries++;
    this.waiting = { timer: setTimeout(again, navigator.onLine ? Math.min(30000, 2000 * this.netTries) : 15000), onOnline };
  }

  clearWait() {
    if (!this.waiting) return;
    clearTimeout(this.waiting.timer);
    if (this.waiting.onOnline) window.removeEventListener('online', this.waiting.onOnline);
    this.waiting = null;
  }

  pause() {
    this.userPaused = true;
    this.clearWait();
    if (this.up) this.up.abort(false);
    this.state('paused');
  }

  resume() {
    if (!this.userPaused) return;
    this.userPaused = false;
    this.moved = performance.now();
    this.state('running');
    if (this.up) this.up.start();
  }

  /** Stops and removes what the server holds of this case (termination). */
  async cancel() {
    this.cancelled = true;
    this.clearWait();
    const gone = [];
    if (this.up) gone.push(this.up.abort(true).catch(() => {}));
    for (const u of this.urls) gone.push(window.tus.Upload.terminate(u, {}).catch(() => {}));
    await Promise.all(gone);
    forgetCase(this.c);
  }

  state(s) {
    if (this.o.onState) this.o.onState(s);
  }

  progress() {
    const f = this.file;
    let sent = this.doneBytes;
    let wire = this.wire, rawWire = this.rawWire;
    if (f) {
      const inflightRaw = f.wire ? f.inflight * f.raw / f.wire : 0;
      sent += Math.max(f.acked, f.start >= 0 ? f.start + inflightRaw : f.acked);
      wire += f.inflight;
      rawWire += inflightRaw;
    }
    const now = performance.now();
    if (!this.samples.length) this.first = [now, sent];
    this.samples.push([now, sent]);
    while (this.samples.length > 2 && now - this.samples[0][0] > 5000) this.samples.shift();
    const [t0, b0] = this.samples[0];
    // Over the last five seconds; until there is more than a moment of
    // samples, since the first one (a fast link may be done by then).
    const [f0, fb] = this.first;
    const speed = now - t0 > 300 ? (sent - b0) / ((now - t0) / 1000) : now - f0 > 20 ? (sent - fb) / ((now - f0) / 1000) : 0;
    const left = speed > 0 ? (this.total - sent) / speed : NaN;
    if (this.o.onProgress) this.o.onProgress({ sent, total: this.total, wire, rawWire, speed, left });
  }
}
