// list.js — the staff list: recent uploads with their status, verdict and
// triage state, filtered by search, status, triage state, assignee and
// signature — all kept in the page's URL, so a filtered view can be shared
// — and refreshed in place every few seconds: rows are updated one by one,
// only when they changed, so the reader's focus, text selection and scroll
// stay.  Long signatures, verdicts and failure reasons are cut to one line
// with the full text on hover and on keyboard focus.  Without a staff
// session it shows only the sign-in form: an uploader's view key opens one
// triage page, never this list.

import { $, el, setChildren, str, arr, isObj, formatBytes, formatAge, formatTime } from './dom.js';
import { getJSON, postJSON, ApiError } from './api.js';
import { setupNav } from './nav.js';

const REFRESH_MS = 4000;
const PAGE = 50;
const FILTERS = ['q', 'status', 'state', 'assignee', 'signature'];
const state = { q: '', status: '', state: '', assignee: '', signature: '', pages: 1, timer: 0, cursor: null };

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

/** The filters from the page's URL (?q=&status=&state=&assignee=&signature=). */
function readURL() {
  const p = new URLSearchParams(location.search);
  for (const k of FILTERS) state[k] = p.get(k) || '';
  $('#q').value = state.q;
  $('#status-filter').value = state.status;
  $('#state-filter').value = state.state;
  $('#assignee-filter').value = state.assignee;
  showSignature();
}

function writeURL() {
  const p = new URLSearchParams();
  for (const k of FILTERS) if (state[k]) p.set(k, state[k]);
  const url = location.pathname + (p.toString() ? '?' + p.toString() : '');
  if (url !== location.pathname + location.search) history.replaceState(null, '', url);
}

function query(cursor) {
  const p = new URLSearchParams();
  for (const k of FILTERS) if (state[k]) p.set(k, state[k]);
  if (cursor) p.set('cursor', cursor);
  p.set('limit', String(PAGE));
  return '/api/dumps?' + p.toString();
}

function itemSize(it) {
  if (typeof it.size === 'number') return it.size;
  return arr(it.files).filter(isObj).reduce((n, f) => n + (typeof f.size === 'number' ? f.size : 0), 0);
}

/** A cell cut to one line; the full text is its title and shows in full
 *  while the cell (focusable) has keyboard focus. */
function clipCell(text, cls, label) {
  if (!text) return el('td', { class: cls || null });
  return el('td', { class: 'clip' + (cls ? ' ' + cls : '') }, el('span', { class: 'cliptext', tabindex: '0', title: text, 'aria-label': label ? label + ': ' + text : null }, text));
}

const STATE_WORDS = { new: 'new', investigating: 'investigating', waiting_for_customer: 'waiting for customer', resolved: 'resolved' };

function row(it) {
  const sum = isObj(it.summary) ? it.summary : {};
  const wf = isObj(it.workflow) ? it.workflow : null;
  const id = str(it.id);
  const status = str(it.status);
  const sig = str(sum.signature);
  const bug = str(sum.bugcheck);
  const bugText = /^0x0+$/i.test(bug) ? '' : /^0x0*161$/i.test(bug) ? 'live capture' : bug ? 'bugcheck ' + bug : '';
  const sigCell = el('td', { class: 'clip mono small' });
  if (sig) {
    const btn = el('button', { type: 'button', class: 'linkish sig cliptext', title: sig, 'aria-label': 'Show only signature ' + sig }, sig);
    btn.addEventListener('click', () => setSignature(sig));
    sigCell.append(btn);
  }
  const tr = el('tr', { 'data-id': id, class: 'st-' + status.replace(/[^a-z]/g, '') },
    el('td', { 'data-label': 'Status' }, el('span', { class: 'badge status status-' + status.replace(/[^a-z]/g, '') }, status || '?'),
      status === 'failed' && str(it.error) ? el('div', { class: 'small error-text reason' }, el('span', { class: 'cliptext', tabindex: '0', title: str(it.error) }, str(it.error))) : null),
    el('td', { class: 'clip', 'data-label': 'Process' }, el('a', { href: '/triage/' + encodeURIComponent(id), title: str(sum.process) || null }, str(sum.process) || '(' + (id.slice(0, 12) || 'upload') + ')'),
      str(sum.pid) ? el('div', { class: 'small muted' }, 'pid ' + str(sum.pid)) : null),
    el('td', { 'data-label': 'Triage' }, wf ? el('span', { class: 'badge wf wf-' + str(wf.state).replace(/[^a-z_]/g, '') }, STATE_WORDS[str(wf.state)] || str(wf.state)) : '',
      wf && str(wf.assignee) ? el('div', { class: 'small muted clip' }, str(wf.assignee)) : null,
      wf && str(wf.ticket) ? el('div', { class: 'small muted clip' }, str(wf.ticket)) : null),
    clipCell([bugText, str(sum.verdict)].filter(Boolean).join(' — '), 'verdict-cell', 'Verdict'),
    sigCell,
    el('td', { class: 'clip', 'data-label': 'Case' }, str(it.case_id) ? el('span', { class: 'cliptext', tabindex: '0', title: str(it.case_id) }, str(it.case_id)) : '',
      str(it.customer) ? el('div', { class: 'small muted cliptext', title: str(it.customer) }, str(it.customer)) : null),
    el('td', { class: 'num', 'data-label': 'Size' }, formatBytes(itemSize(it))),
    el('td', { title: formatTime(it.created_at), 'data-label': 'Age' }, formatAge(it.created_at)));
  tr.dataset.sig = JSON.stringify([status, it.error, sum, wf, it.case_id, it.customer, itemSize(it)]);
  return tr;
}

/** Replaces the rows with `items`, touching only rows that changed (and
 *  refreshing ages in place), so focus and selection in the others stay. */
function updateRows(items) {
  const body = $('#uploads tbody');
  const old = new Map([...body.children].map((tr) => [tr.dataset.id, tr]));
  let prev = null;
  for (const it of items) {
    const fresh = row(it);
    let tr = old.get(fresh.dataset.id);
    if (tr && tr.dataset.sig === fresh.dataset.sig) {
      const age = tr.lastElementChild, nage = fresh.lastElementChild;
      if (age.textContent !== nage.textContent) age.textContent = nage.textContent;
    } else if (tr) {
      const focused = tr.contains(document.activeElement) ? document.activeElement : null;
      const sel = focused ? [...tr.querySelectorAll('a, button, [tabindex]')].indexOf(focused) : -1;
      tr.replaceWith(fresh);
      tr = fresh;
      if (sel >= 0) { const again = [...tr.querySelectorAll('a, button, [tabindex]')][sel]; if (again) again.focus(); }
    } else {
      tr = fresh;
    }
    old.delete(tr.dataset.id);
    const want = prev ? prev.nextElementSibling : body.firstElementChild;
    if (want !== tr) body.insertBefore(tr, want);
    prev = tr;
  }
  for (const tr of old.values()) tr.remove();
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
    updateRows(items);
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
    const list = $('#buckets');
    const key = JSON.stringify([items, state.signature]);
    if (list.dataset.key === key) return; // unchanged: keep focus where it is
    const focusedSig = list.contains(document.activeElement) ? document.activeElement.dataset.sig : null;
    list.dataset.key = key;
    setChildren(list, items.length ? items.map((b) => {
      const sig = str(b.signature);
      const btn = el('button', { type: 'button', class: 'bucket' + (sig === state.signature ? ' active' : ''), 'aria-pressed': String(sig === state.signature), 'data-sig': sig },
        el('span', { class: 'count' }, str(b.count)), el('code', { class: 'cliptext', title: sig }, sig || '(none)'),
        el('span', { class: 'small muted' }, 'last ' + formatAge(b.last_seen)));
      btn.addEventListener('click', () => setSignature(sig === state.signature ? '' : sig));
      return el('li', null, btn);
    }) : el('li', { class: 'muted' }, 'No signatures yet.'));
    if (focusedSig !== null) { const b = [...list.querySelectorAll('button')].find((x) => x.dataset.sig === focusedSig); if (b) b.focus(); }
  } catch { /* the list matters more than the buckets */ }
}

function showSignature() {
  const f = $('#sig-filter');
  f.hidden = !state.signature;
  f.querySelector('code').textContent = state.signature;
  f.querySelector('code').title = state.signature;
  $('#sig-page').href = '/signature?s=' + encodeURIComponent(state.signature);
}

function setFilter(k, v) {
  state[k] = v;
  state.pages = 1;
  writeURL();
  refresh();
}

function setSignature(sig) {
  state.signature = sig;
  showSignature();
  setFilter('signature', sig);
}

let typing = 0;
for (const [sel, key] of [['#q', 'q'], ['#assignee-filter', 'assignee']]) {
  $(sel).addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => setFilter(key, $(sel).value.trim()), 250);
  });
}
$('#status-filter').addEventListener('change', () => setFilter('status', $('#status-filter').value));
$('#state-filter').addEventListener('change', () => setFilter('state', $('#state-filter').value));
$('#filters').addEventListener('submit', (e) => { e.preventDefault(); setFilter('q', $('#q').value.trim()); });
$('#sig-clear').addEventListener('click', () => setSignature(''));
$('#more').addEventListener('click', () => { state.pages++; refresh(); });
window.addEventListener('popstate', () => { readURL(); refresh(); });

function start() {
  $('#login').hidden = true;
  $('#staff').hidden = false;
  readURL();
  refresh();
}

(async () => {
  const { role } = await setupNav();
  if (role === 'staff') start(); else showLogin();
})();
