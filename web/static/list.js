// list.js — the staff list: recent uploads with their status and verdict,
// filtered by status, free-text search and signature bucket, refreshed in
// place every few seconds (no reload, the reader's scroll and focus stay).
// Without a staff session it shows only the sign-in form: an uploader's
// view key opens one triage page, never this list.

import { $, el, setChildren, str, arr, isObj, formatBytes, formatAge, formatTime } from './dom.js';
import { getJSON, postJSON, ApiError } from './api.js';
import { setupNav } from './nav.js';

const REFRESH_MS = 4000;
const PAGE = 50;
const state = { q: '', status: '', signature: '', pages: 1, timer: 0, cursor: null };

function message(kind, text) {
  setChildren($('#message'), text ? el('p', { class: kind }, text) : null);
}

function showLogin() {
  $('#login').hidden = false;
  $('#staff').hidden = true;
  $('#token').focus();
}

$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('#login-error').hidden = true;
  try {
    await postJSON('/api/login', { token: $('#token').value });
    $('#token').value = '';
    await setupNav();
    start();
  } catch (err) {
    $('#login-error').hidden = false;
    $('#login-error').textContent = err instanceof ApiError && (err.info.status === 401 || err.info.status === 403)
      ? 'That token was not accepted.' : (err.info ? err.info.plain : String(err));
  }
});

function query(cursor) {
  const p = new URLSearchParams();
  if (state.status) p.set('status', state.status);
  if (state.q) p.set('q', state.q);
  if (state.signature) p.set('signature', state.signature);
  if (cursor) p.set('cursor', cursor);
  p.set('limit', String(PAGE));
  return '/api/dumps?' + p.toString();
}

function itemSize(it) {
  if (typeof it.size === 'number') return it.size;
  return arr(it.files).filter(isObj).reduce((n, f) => n + (typeof f.size === 'number' ? f.size : 0), 0);
}

function row(it) {
  const sum = isObj(it.summary) ? it.summary : {};
  const id = str(it.id);
  const status = str(it.status);
  const sig = str(sum.signature);
  const sigBtn = sig ? el('button', { type: 'button', class: 'linkish sig', title: 'Show only this signature' }, sig) : '';
  if (sigBtn) sigBtn.addEventListener('click', () => setSignature(sig));
  return el('tr', { 'data-id': id, class: 'st-' + status.replace(/[^a-z]/g, '') },
    el('td', null, el('span', { class: 'badge status status-' + status.replace(/[^a-z]/g, '') }, status || '?'),
      status === 'failed' && str(it.error) ? el('div', { class: 'small error-text' }, str(it.error)) : null),
    el('td', null, el('a', { href: '/triage/' + encodeURIComponent(id) }, str(sum.process) || '(' + (id.slice(0, 12) || 'upload') + ')')),
    el('td', { class: 'mono' }, str(sum.pid)),
    el('td', { class: 'mono' }, /^0x0+$/i.test(str(sum.bugcheck)) ? '' : str(sum.bugcheck)),
    el('td', { class: 'verdict-cell' }, str(sum.verdict)),
    el('td', { class: 'mono small' }, sigBtn),
    el('td', null, str(it.case_id), str(it.customer) ? el('div', { class: 'small muted' }, str(it.customer)) : null),
    el('td', { class: 'num' }, formatBytes(itemSize(it))),
    el('td', { title: formatTime(it.created_at) }, formatAge(it.created_at)));
}

async function refresh() {
  clearTimeout(state.timer);
  try {
    let items = [];
    let cursor = null;
    for (let p = 0; p < state.pages; p++) {
      const res = await getJSON(query(cursor));
      items = items.concat(arr(res && res.items).filter(isObj));
      cursor = res && typeof res.next_cursor === 'string' && res.next_cursor ? res.next_cursor : null;
      if (!cursor) break;
    }
    state.cursor = cursor;
    setChildren($('#uploads tbody'), items.map(row));
    $('#empty').hidden = items.length > 0;
    $('#more').hidden = !cursor;
    $('#live').textContent = 'Updated ' + new Date().toLocaleTimeString();
    message();
    refreshBuckets();
  } catch (e) {
    if (e instanceof ApiError && (e.info.status === 401 || e.info.status === 403)) { showLogin(); return; }
    message('error', e.info ? e.info.plain : String(e));
  }
  state.timer = setTimeout(() => { if (!document.hidden) refresh(); else document.addEventListener('visibilitychange', refresh, { once: true }); }, REFRESH_MS);
}

async function refreshBuckets() {
  try {
    const res = await getJSON('/api/signatures');
    const items = arr(res && res.items).filter(isObj).slice(0, 200);
    setChildren($('#buckets'), items.length ? items.map((b) => {
      const sig = str(b.signature);
      const btn = el('button', { type: 'button', class: 'bucket' + (sig === state.signature ? ' active' : ''), 'aria-pressed': String(sig === state.signature) },
        el('span', { class: 'count' }, str(b.count)), el('code', null, sig || '(none)'),
        el('span', { class: 'small muted' }, 'last ' + formatAge(b.last_seen)));
      btn.addEventListener('click', () => setSignature(sig === state.signature ? '' : sig));
      return el('li', null, btn);
    }) : el('li', { class: 'muted' }, 'No signatures yet.'));
  } catch { /* the list matters more than the buckets */ }
}

function setSignature(sig) {
  state.signature = sig;
  state.pages = 1;
  const f = $('#sig-filter');
  f.hidden = !sig;
  f.querySelector('code').textContent = sig;
  refresh();
}

let typing = 0;
$('#q').addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(() => { state.q = $('#q').value.trim(); state.pages = 1; refresh(); }, 250);
});
$('#status-filter').addEventListener('change', () => { state.status = $('#status-filter').value; state.pages = 1; refresh(); });
$('#filters').addEventListener('submit', (e) => { e.preventDefault(); state.q = $('#q').value.trim(); refresh(); });
$('#sig-clear').addEventListener('click', () => setSignature(''));
$('#more').addEventListener('click', () => { state.pages++; refresh(); });

function start() {
  $('#login').hidden = true;
  $('#staff').hidden = false;
  refresh();
}

(async () => {
  const { role } = await setupNav();
  if (role === 'staff' || role === 'admin') start(); else showLogin();
})();
