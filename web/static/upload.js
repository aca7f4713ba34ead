// upload.js — the upload page: pick or drop a user dump and a kernel dump
// (or one archive), send them resumably with tus (upload_tus.js: chunked,
// compressed in the browser, continued after a dropped network or a reload)
// or, where the server has no tus endpoint, in one multipart POST with
// XMLHttpRequest (fetch has no upload progress); show bytes / speed / time
// left, turn server errors into plain sentences, then follow the job's
// status until the analysis is done or failed.

import { $, el, setChildren, str, isObj, formatBytes, formatDuration, utf8Bytes } from './dom.js';
import { describeError, getJSON, postJSON, sitePath } from './api.js';
import { setupNav } from './nav.js';
import { tusServer, CaseUpload, unfinishedCases, TUS_META_LIMIT } from './upload_tus.js';

const form = $('#upload-form');
const chosen = { user: null, kernel: null, file: null };
const inputs = { user: $('#file-user'), kernel: $('#file-kernel'), file: $('#file-archive') };
let xhr = null;
let resumable = null; // the CaseUpload in progress
const sniffed = {};   // role → what sniff() said of the chosen file
// Resumable uploads when the server offers them (null: one-shot POST).
const tusInfo = tusServer();
// Chunk size of resumable uploads: 16 MiB; ?tus_chunk=BYTES for tests.
const CHUNK = (() => {
  const v = Number(new URLSearchParams(location.search).get('tus_chunk'));
  return Number.isInteger(v) && v >= 65536 && v <= (256 << 20) ? v : 16 << 20;
})();
// Already compressed: gzip in the browser would only cost time.
const NO_GZIP = new Set(['compressed', 'archive']);

/** What a file's first bytes say it is. */
export async function sniff(file) {
  let b;
  try { b = new Uint8Array(await file.slice(0, 264).arrayBuffer()); } catch { return { kind: 'unreadable' }; }
  const at = (off, s) => s.split('').every((c, i) => b[off + i] === c.charCodeAt(0));
  if (at(0, 'MDMP')) return { kind: 'user', label: 'user-mode minidump' };
  if (at(0, 'PAGEDU64') || at(0, 'PAGEDUMP')) return { kind: 'kernel', label: 'kernel dump' };
  if (b[0] === 0x50 && b[1] === 0x4b && b[2] === 3 && b[3] === 4) return { kind: 'archive', label: 'zip archive' };
  if (b[0] === 0x37 && b[1] === 0x7a && b[2] === 0xbc && b[3] === 0xaf) return { kind: 'archive', label: '7z archive' };
  if (at(0, 'MSCF')) return { kind: 'archive', label: 'cab archive' };
  if (at(257, 'ustar')) return { kind: 'archive', label: 'tar archive' };
  if (b[0] === 0x1f && b[1] === 0x8b) return { kind: 'compressed', label: 'gzip-compressed' };
  if (b[0] === 0xfd && at(1, '7zXZ')) return { kind: 'compressed', label: 'xz-compressed' };
  if (at(0, 'BZh')) return { kind: 'compressed', label: 'bzip2-compressed' };
  return { kind: 'unknown', label: 'not a dump format dumptriage knows' };
}

const EXPECT = { user: ['user', 'compressed'], kernel: ['kernel', 'compressed'], file: ['archive', 'compressed'] };
const BOX = { user: 'user-mode dump', kernel: 'kernel dump', file: 'archive' };
const HOME = { user: 'user', kernel: 'kernel', archive: 'file' };
// What the server takes (GET /api/me "limits"; upload.c's text limit by default).
const limits = { text: 2048, part: 0, request: 0 };

/** Bytes a text field takes in the multipart body: browsers send a
 *  textarea's line breaks as CR LF. */
function fieldBytes(v) {
  return utf8Bytes(str(v).replace(/\r?\n/g, '\r\n'));
}

async function choose(role, file) {
  chosen[role] = file;
  // Either separate dumps or one archive: choosing one kind clears the other.
  if (file && role === 'file') { for (const r of ['user', 'kernel']) clearChoice(r); }
  if (file && role !== 'file') clearChoice('file');
  const zone = inputs[role].closest('.drop');
  const out = zone.querySelector('.chosen');
  zone.classList.toggle('has-file', !!file);
  if (!file) { setChildren(out); return; }
  const s = await sniff(file);
  if (chosen[role] !== file) return;
  sniffed[role] = s.label === 'tar archive' ? 'tar' : s.kind;
  const wrong = !EXPECT[role].includes(s.kind);
  zone.classList.toggle('warn', wrong);
  const remove = el('button', { type: 'button', class: 'linkish', 'aria-label': 'Remove ' + file.name }, 'remove');
  remove.addEventListener('click', () => { clearChoice(role); inputs[role].focus(); });
  // A file in the wrong box: say so in a sentence, and offer to move it
  // where its content says it belongs.
  let advice = null;
  if (wrong) {
    const home = HOME[s.kind];
    const move = home && home !== role
      ? el('button', { type: 'button', class: 'swap', 'data-to': home }, 'Move it to the ' + BOX[home] + ' box') : null;
    if (move) move.addEventListener('click', () => moveFile(role, home));
    advice = el('p', { class: 'wrongbox', role: 'alert' },
      s.kind === 'unknown' || s.kind === 'unreadable'
        ? 'This file does not look like a dump or an archive dumptriage reads; the server will refuse it.'
        : 'This looks like a ' + s.label + ', not a ' + BOX[role] + '. ', move);
  }
  const tooBig = limits.part && file.size > limits.part;
  setChildren(out, el('span', { class: 'fname' }, file.name), ' — ', formatBytes(file.size), ' — ',
    el('span', { class: wrong ? 'warn-text' : 'ok-text' }, s.label), ' ', remove, advice,
    tooBig ? el('p', { class: 'wrongbox', role: 'alert' }, 'This file is larger than the server accepts (' + formatBytes(limits.part) + ' per file).') : null);
}

/** Moves the chosen file of one box into another (the other box's file,
 *  if any, goes the other way). */
function moveFile(from, to) {
  const a = chosen[from], b = to === 'file' ? null : chosen[to];
  if (!a) return;
  clearChoice(from);
  choose(to, a);
  if (b && from !== 'file') choose(from, b);
  inputs[to].focus();
}

function clearChoice(role) {
  chosen[role] = null;
  inputs[role].value = '';
  const zone = inputs[role].closest('.drop');
  zone.classList.remove('has-file', 'warn');
  setChildren(zone.querySelector('.chosen'));
}

for (const [role, input] of Object.entries(inputs)) {
  input.addEventListener('change', () => choose(role, input.files && input.files[0] ? input.files[0] : null));
  const zone = input.closest('.drop');
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    const f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
    if (!f) return;
    try { input.files = e.dataTransfer.files; } catch { /* older browsers: keep our own copy */ }
    choose(role, f);
  });
}
// A file dropped outside the boxes would make the browser navigate away.
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => e.preventDefault());

function message(kind, ...children) {
  setChildren($('#message'), children.length ? el('p', { class: kind }, ...children) : null);
}

function busy(on) {
  $('#send').disabled = on;
  $('#cancel').hidden = !on;
  if (!on) $('#pause').hidden = true;
  for (const i of form.querySelectorAll('input, textarea')) i.disabled = on;
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  message();
  if (!chosen.user && !chosen.kernel && !chosen.file) {
    message('error', 'Choose the dumps first: a user-mode dump and a kernel dump, or one archive holding them.');
    inputs.user.focus();
    return;
  }
  // The server's limits, checked before a byte is sent.
  for (const name of ['note', 'case_id', 'customer']) {
    const n = fieldBytes(form.elements[name].value);
    if (n > limits.text) {
      message('error', 'The ' + (name === 'case_id' ? 'case id' : name) + ' is ' + n + ' bytes long; the server takes at most ' + limits.text + '. Please shorten it.');
      form.elements[name].focus();
      return;
    }
  }
  const roles = ['user', 'kernel', 'file'].filter((r) => chosen[r]);
  const big = roles.find((r) => limits.part && chosen[r].size > limits.part);
  if (big) {
    message('error', chosen[big].name + ' is ' + formatBytes(chosen[big].size) + '; the server takes files up to ' + formatBytes(limits.part) + '.');
    inputs[big].focus();
    return;
  }
  const sum = roles.reduce((n, r) => n + chosen[r].size, 0);
  if (limits.request && sum > limits.request) {
    message('error', 'Together the files are ' + formatBytes(sum) + '; the server takes up to ' + formatBytes(limits.request) + ' in one upload.');
    return;
  }
  const fields = { note: form.elements.note.value, case_id: form.elements.case_id.value, customer: form.elements.customer.value };
  const entries = roles.map((r) => [r, chosen[r]]);
  $('#send').disabled = true;
  const tus = await tusInfo;
  $('#send').disabled = false;
  if (tus && CaseUpload.metadataBytes(entries, fields) <= TUS_META_LIMIT) {
    sendResumable(entries, fields, tus);
    return;
  }
  const data = new FormData();
  // Text fields first, so the server has them before the large file parts.
  for (const name of ['note', 'case_id', 'customer']) data.append(name, form.elements[name].value);
  for (const role of ['user', 'kernel', 'file']) if (chosen[role]) data.append(role, chosen[role], chosen[role].name);
  send(data);
});

$('#cancel').addEventListener('click', async () => {
  if (xhr) xhr.abort();
  if (resumable) {
    const r = resumable;
    resumable = null;
    await r.cancel();
    busy(false);
    $('#progress').hidden = true;
    message('muted', 'Upload cancelled; what the server had received of it was removed.');
  }
});

$('#pause').addEventListener('click', () => {
  if (!resumable) return;
  const p = $('#pause');
  if (p.getAttribute('aria-pressed') === 'true') resumable.resume(); else resumable.pause();
});

/** Sends the files with tus (upload_tus.js): chunk by chunk, compressed
 *  when the server takes gzip chunks and the box is ticked, continued after
 *  a dropped network, a pause or (same files chosen again) a reload. */
function sendResumable(entries, fields, tus) {
  const box = $('#progress'), bar = $('#bar'), text = $('#progress-text'), pause = $('#pause');
  const compress = tus.gzip && $('#compress').checked;
  box.hidden = false;
  bar.value = 0;
  text.textContent = 'Starting…';
  busy(true);
  pause.hidden = false;
  let state = 'running', last = null;
  const show = () => {
    box.dataset.state = state;
    pause.textContent = state === 'paused' ? 'Resume' : 'Pause';
    pause.setAttribute('aria-pressed', String(state === 'paused'));
    if (!last) { text.textContent = state === 'network' ? 'Cannot reach the server — will try again…' : 'Starting…'; return; }
    const { sent, total, wire, rawWire, speed, left } = last;
    bar.max = total || 1;
    bar.value = sent;
    const of = formatBytes(sent) + ' of ' + formatBytes(total) + ' (' + Math.floor(100 * sent / (total || 1)) + '%)';
    const ratio = wire > 0 && rawWire > wire * 1.05 ? 'compressed ' + (rawWire / wire).toFixed(1) + '× (' + formatBytes(wire) + ' on the wire)' : '';
    if (state === 'network') text.textContent = 'Connection lost — paused, will resume when the network is back. ' + of + ' received by the server.';
    else if (state === 'paused') text.textContent = 'Paused — ' + of + ' sent. Press Resume to continue.';
    else if (sent >= total) text.textContent = formatBytes(total) + ' sent' + (ratio ? ' (' + ratio + ')' : '') + ' — the server is storing the files…';
    // Until a speed is measured the line keeps its last words ("Starting…").
    else if (speed > 0) text.textContent = of + (ratio ? ' — ' + ratio : '') + ' — ' + formatBytes(speed) + '/s' +
      (Number.isFinite(left) ? ' — about ' + formatDuration(Math.max(1, left)) + ' left' : '');
  };
  const up = new CaseUpload({
    entries, fields, chunkSize: CHUNK,
    gzip: (role) => compress && !NO_GZIP.has(sniffed[role]),
    onProgress: (p) => { last = p; show(); },
    onState: (s) => { state = s; show(); },
  });
  resumable = up;
  if (up.c.resumed) text.textContent = 'Continuing the earlier upload of these files…';
  up.run().then((res) => {
    if (resumable !== up) return;
    resumable = null;
    pause.hidden = true;
    busy(false);
    box.hidden = true;
    $('#resume-hint').hidden = true;
    done({ ...res, status: 'queued' });
  }, (err) => {
    if (resumable !== up) return;
    resumable = null;
    pause.hidden = true;
    busy(false);
    failed(describeError(err.status || 0, err.body));
  });
}

// An upload this browser did not finish (closed tab, reload): say how to continue it.
{
  const open = unfinishedCases();
  if (open.length) {
    const hint = $('#resume-hint');
    hint.textContent = 'Not finished: ' + open.map((c) => c.names.join(' + ') + ' (' + formatBytes(c.bytes) + ')').join('; ') +
      '. Choose the same file' + (open.some((c) => c.names.length > 1) ? 's' : '') + ' again and press Upload: it continues where it stopped.';
    hint.hidden = false;
  }
}
tusInfo.then((t) => { if (t && t.gzip) $('#compress-row').hidden = false; });

function send(data) {
  const total = ['user', 'kernel', 'file'].reduce((n, r) => n + (chosen[r] ? chosen[r].size : 0), 0);
  const box = $('#progress'), bar = $('#bar'), text = $('#progress-text');
  box.hidden = false;
  bar.value = 0;
  text.textContent = 'Starting…';
  busy(true);
  const samples = []; // [time ms, bytes] over the last few seconds, for a steady speed
  const started = performance.now();
  xhr = new XMLHttpRequest();
  xhr.open('POST', '/api/dumps');
  xhr.responseType = 'text';
  xhr.setRequestHeader('Accept', 'application/json');
  xhr.upload.addEventListener('progress', (ev) => {
    const now = performance.now();
    const whole = ev.lengthComputable && ev.total ? ev.total : total;
    samples.push([now, ev.loaded]);
    while (samples.length > 2 && now - samples[0][0] > 3000) samples.shift();
    const [t0, b0] = samples[0];
    const speed = now - t0 > 200 ? (ev.loaded - b0) / ((now - t0) / 1000) : ev.loaded / Math.max((now - started) / 1000, 0.001);
    bar.max = whole || 1;
    bar.value = ev.loaded;
    const left = speed > 0 && whole ? (whole - ev.loaded) / speed : NaN;
    text.textContent = formatBytes(ev.loaded) + ' of ' + formatBytes(whole) + ' (' + Math.floor(100 * ev.loaded / (whole || 1)) + '%)' +
      (speed > 0 ? ' — ' + formatBytes(speed) + '/s' : '') + (Number.isFinite(left) && ev.loaded < whole ? ' — about ' + formatDuration(Math.max(1, left)) + ' left' : '');
  });
  xhr.upload.addEventListener('load', () => { text.textContent = formatBytes(total) + ' sent — the server is storing the files…'; bar.value = bar.max; });
  xhr.addEventListener('load', () => {
    busy(false);
    let body = null;
    try { body = JSON.parse(xhr.responseText); } catch { body = null; }
    if (xhr.status >= 200 && xhr.status < 300 && isObj(body)) { box.hidden = true; done(body); return; }
    failed(describeError(xhr.status, body));
  });
  xhr.addEventListener('error', () => { busy(false); failed(describeError(0, null)); });
  xhr.addEventListener('abort', () => { busy(false); box.hidden = true; message('muted', 'Upload cancelled.'); });
  xhr.send(data);
}

function failed(info) {
  $('#progress').hidden = true;
  message('error', info.plain, info.message && info.message !== info.plain ? el('span', { class: 'detail' }, ' Server said: ' + info.message) : null);
  $('#message').dataset.code = info.code;
}

function done(res) {
  form.hidden = true;
  const result = $('#result');
  result.hidden = false;
  const view = new URL(sitePath(res.view_url, '/triage/' + encodeURIComponent(str(res.id))), location.href).href;
  const link = $('#view-link');
  link.href = view;
  link.textContent = view;
  $('#reused').hidden = res.reused !== true;
  $('#copy-link').addEventListener('click', async () => {
    try { await navigator.clipboard.writeText(view); $('#copy-link').textContent = 'Copied'; } catch { $('#copy-link').textContent = 'Select the link to copy it'; }
  });
  // Move focus to the result so keyboard and screen-reader users land on the link.
  result.setAttribute('tabindex', '-1');
  result.focus();
  follow(sitePath(res.status_url, '/api/dumps/' + encodeURIComponent(str(res.id))), str(res.status) || 'queued', 1000);
}

function showJob(status, detail) {
  const badge = $('#job-status');
  badge.textContent = status;
  badge.className = 'badge status status-' + status.replace(/[^a-z]/g, '');
  setChildren($('#job-detail'), detail || null);
}

async function follow(url, status, delay, note) {
  const view = $('#view-link').href;
  if (status === 'done') { showJob('done', el('a', { href: view }, 'Open the triage page')); return; }
  if (status === 'failed') return;
  showJob(status, note || (status === 'queued' ? 'waiting for an analyzer…' : 'analyzing the dumps…'));
  setTimeout(async () => {
    try {
      const st = await getJSON(url);
      const s = str(st && st.status) || status;
      if (s === 'failed') { showJob('failed', 'Reason: ' + (str(st.error) || 'unknown')); return; }
      follow(url, s, Math.min(delay * 1.3, 5000));
    } catch (e) {
      follow(url, status, Math.min(delay * 2, 10000), (e.info ? e.info.plain : 'Cannot reach the server.') + ' Retrying…');
    }
  }, delay);
}

$('#again').addEventListener('click', () => location.reload());

// A server in token mode (--upload-auth token) takes uploads only from a
// signed-in uploader or staff member: offer the sign-in first.
$('#token-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    await postJSON('/api/login', { token: $('#upload-token').value });
    location.reload();
  } catch (x) {
    message('error', x.info && (x.info.status === 401 || x.info.status === 403) ? 'That token was not accepted.' : (x.info ? x.info.plain : String(x)));
  }
});
function noteCount() {
  const n = fieldBytes($('#note').value);
  const c = $('#note-count');
  c.textContent = n + ' of ' + limits.text + ' bytes';
  c.classList.toggle('warn-text', n > limits.text);
}
$('#note').addEventListener('input', noteCount);
getJSON('/api/me').then((me) => {
  const l = isObj(me) && isObj(me.limits) ? me.limits : {};
  if (typeof l.text_field_bytes === 'number' && l.text_field_bytes > 0) limits.text = l.text_field_bytes;
  if (typeof l.max_part_size === 'number') limits.part = l.max_part_size;
  if (typeof l.max_request_size === 'number') limits.request = l.max_request_size;
  $('#note').maxLength = limits.text;
  $('#limits').textContent = 'Limits: ' + [limits.part ? 'files up to ' + formatBytes(limits.part) + ' each' : '',
    limits.request ? formatBytes(limits.request) + ' per upload' : '', 'note, case id and customer up to ' + limits.text + ' bytes each'].filter(Boolean).join('; ') + '.';
  noteCount();
}).catch(() => noteCount());
setupNav().then((me) => {
  if (!me.upload_open && (me.role === 'anonymous' || me.role === '')) {
    $('#need-token').hidden = false;
    form.hidden = true;
  }
});
