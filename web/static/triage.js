// triage.js — the /triage/{id} page controller: reads the id from the path
// and the uploader's ?key=, follows the upload's status (queued → analyzing
// → done | failed) by polling, then fetches the report and hands it to
// triage_view.js.  Polling backs off and stops when the page is hidden.

import { $, el, setChildren, str, isObj } from './dom.js';
import { getJSON, withKey, sitePath, ApiError } from './api.js';
import { renderReport, renderHeader } from './triage_view.js';
import { setupNav } from './nav.js';

const parts = location.pathname.split('/').filter(Boolean);
const id = parts[0] === 'triage' && parts[1] ? decodeURIComponent(parts[1]) : '';
const statusBox = $('#status');
const reportBox = $('#report');
let delay = 1000;

const STATUS_TEXT = {
  queued: 'Queued — waiting for an analyzer.',
  analyzing: 'Analyzing the dumps…',
  done: 'Analysis done.',
  failed: 'Analysis failed.',
};

function showStatus(st, extra) {
  const s = str(st.status);
  const raw = withKey(sitePath(st.report_url, '/api/dumps/' + encodeURIComponent(id) + '/report'));
  setChildren(statusBox,
    el('span', { class: 'badge status status-' + s.replace(/[^a-z]/g, '') }, s || 'unknown'), ' ',
    el('span', { class: 'status-text' }, STATUS_TEXT[s] || ''),
    s === 'failed' && str(st.error) ? el('span', { class: 'error-text' }, ' Reason: ' + str(st.error)) : null,
    extra || null,
    s === 'done' ? el('a', { class: 'raw', href: raw, type: 'application/json' }, 'Raw JSON') : null,
    s === 'queued' || s === 'analyzing' ? el('span', { class: 'spinner', 'aria-hidden': 'true' }) : null);
  statusBox.dataset.status = s;
}

function showError(err) {
  const info = err instanceof ApiError ? err.info : { plain: String(err && err.message || err), message: '' };
  setChildren(statusBox, el('p', { class: 'error', role: 'alert' }, info.plain, info.message ? el('span', { class: 'detail' }, ' (' + info.message + ')') : null));
  statusBox.dataset.status = 'error';
}

async function poll() {
  if (!id) { showError(new Error('No upload id in the address.')); return; }
  let st;
  try {
    st = await getJSON(withKey('/api/dumps/' + encodeURIComponent(id)));
  } catch (e) {
    showError(e);
    if (e instanceof ApiError && (e.info.status === 0 || e.info.code === 'busy')) later();
    return;
  }
  if (!isObj(st)) { showError(new Error('The server sent an unreadable status.')); return; }
  const s = str(st.status);
  if (s === 'done') {
    showStatus(st);
    try {
      const report = await getJSON(withKey(sitePath(st.report_url, '/api/dumps/' + encodeURIComponent(id) + '/report')));
      const me = await nav;
      const t0 = performance.now();
      const frag = renderReport(st, report, { role: me.role, id });
      reveal = frag.reveal || reveal;
      setChildren(reportBox, frag);
      void reportBox.offsetHeight; // layout included in the figure
      reportBox.dataset.renderMs = String(Math.round(performance.now() - t0));
      document.title = ($('#summary-h') ? $('#summary-h').textContent : 'Triage') + ' — dumptriage';
      reportBox.dataset.rendered = 'report';
      if (location.hash) goTo(location.hash.slice(1));
    } catch (e) { showError(e); }
    return;
  }
  showStatus(st);
  setChildren(reportBox, renderHeader(st, null));
  reportBox.dataset.rendered = 'status';
  if (s === 'queued' || s === 'analyzing') later();
}

function later() {
  setTimeout(() => {
    if (document.hidden) { document.addEventListener('visibilitychange', poll, { once: true }); return; }
    poll();
  }, delay);
  delay = Math.min(delay * 1.5, 10000);
}

/** A thread permalink (#t-36) may point into a closed group: open it. */
let reveal = () => null;
function goTo(hashId) {
  const m = /^t-(.+)$/.exec(hashId);
  const t = (m ? reveal(/^\d+$/.test(m[1]) ? Number(m[1]) : m[1]) : null) || document.getElementById(hashId);
  if (!t) return;
  t.scrollIntoView();
  for (const x of document.querySelectorAll('.targeted')) x.classList.remove('targeted');
  t.classList.add('targeted');
}
window.addEventListener('hashchange', () => goTo(location.hash.slice(1)));

const nav = setupNav();
poll();
