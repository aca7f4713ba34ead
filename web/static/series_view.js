// series_view.js — the triage page's series panel: several dumps of one
// hang compared thread by thread (docs/report.md "series", docs/web.md).
// First the series verdict (summary and primary thread), then one row per
// thread: its series state (did not move / spinning / progressing / idle /
// appeared / exited) and a timeline with one cell per snapshot — what
// changed since the previous one (same / changed / spinning), the thread's
// state there, its top frame and the CPU it used in between.  A filter
// (text over id, name, state and frames, and the series state) works like
// the threads filter.  The report is untrusted: every field may be missing,
// every string is placed as text.

import { el, str, arr, isObj } from './dom.js';
import { threadLink } from './thread_view.js';
import { tidText } from './thread_model.js';

const STATE_TEXT = {
  not_moved: 'did not move', spinning: 'spinning', progressing: 'progressing', idle: 'idle',
  appeared: 'appeared', exited: 'exited', single: 'in one snapshot',
};
const CHANGE_TEXT = { first: 'first', appeared: 'appeared', same: 'same', spinning: 'spinning', changed: 'changed' };

function seconds(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '';
  const s = ms / 1000;
  return s < 10 ? s.toFixed(1) + ' s' : Math.round(s) + ' s';
}

function snapshotCell(snap, k, header) {
  const head = el('div', { class: 'snap-h' }, 'Snapshot ' + (k + 1), header ? el('span', { class: 'muted' }, ' ' + header) : null);
  if (!isObj(snap)) return el('li', { class: 'snap absent' }, head, el('div', { class: 'muted' }, 'not in this snapshot'));
  const change = str(snap.change);
  const cpu = seconds(snap.cpu_ms_delta);
  const wall = typeof snap.seconds_since_previous === 'number' ? seconds(snap.seconds_since_previous * 1000) : '';
  const ch = isObj(snap.changed) ? snap.changed : null;
  return el('li', { class: 'snap change-' + change.replace(/[^a-z_]/g, ''), 'data-change': change },
    head,
    el('div', null, el('span', { class: 'badge chg' }, CHANGE_TEXT[change] || change || '?'),
      str(snap.state) ? el('span', { class: 'muted' }, ' ' + str(snap.state)) : null,
      snap.stuck === true ? el('span', { class: 'badge stuck' }, 'stuck') : null),
    str(snap.top_frame) ? el('div', { class: 'mono small cliptext', tabindex: '0', title: str(snap.top_frame) }, str(snap.top_frame)) : null,
    cpu ? el('div', { class: 'small' }, 'CPU ' + cpu + (wall ? ' in ' + wall : '') + (str(snap.cpu_source) === 'kernel' ? ' (kernel times)' : '')) : null,
    ch && (str(ch.before) || str(ch.after)) ? el('div', { class: 'small cliptext', title: str(ch.before) + ' → ' + str(ch.after) }, str(ch.before) + ' → ' + str(ch.after)) : null);
}

function threadRow(t, snaps) {
  const state = str(t.state);
  const name = str(t.thread_name);
  const label = 'Thread ' + tidText(t.thread_id) + (name ? ' “' + name + '”' : '');
  const cpu = seconds(t.cpu_ms);
  const row = el('article', { class: 'series-thread state-' + state.replace(/[^a-z_]/g, ''), 'data-state': state, 'data-tid': str(t.thread_id) },
    el('h3', null, threadLink(t.thread_id, label), ' ',
      el('span', { class: 'badge series-state' + (t.stuck === true ? ' stuck' : state === 'idle' ? ' idle' : '') }, STATE_TEXT[state] || state || '?')),
    str(t.verdict) ? el('p', { class: 'verdict-line' }, str(t.verdict)) : null,
    cpu && typeof t.cpu_seconds_of === 'number' ? el('p', { class: 'small muted' }, 'Used ' + cpu + ' of CPU in ' + seconds(t.cpu_seconds_of * 1000)) : null,
    el('ol', { class: 'timeline', 'aria-label': label + ' across the snapshots' },
      arr(t.snapshots).map((s, k) => snapshotCell(s, k, isObj(snaps[k]) && typeof snaps[k].seconds === 'number' ? '+' + snaps[k].seconds + ' s' : ''))));
  row.search = [str(t.thread_id), tidText(t.thread_id), name, state, STATE_TEXT[state] || '', str(t.verdict),
    ...arr(t.snapshots).filter(isObj).map((s) => str(s.top_frame))].join(' ').toLowerCase();
  return row;
}

/** The series panel, or null when the report holds no series. */
export function seriesView(rep) {
  const series = isObj(rep) && isObj(rep.series) ? rep.series : null;
  if (!series) return null;
  const snaps = arr(series.snapshots);
  const v = isObj(series.verdicts) ? series.verdicts : {};
  const threads = arr(series.threads).filter(isObj).slice(0, 2000);
  const rows = threads.map((t) => threadRow(t, snaps));

  // file / kernel_file: the names the files were uploaded under (the server
  // never stores its own paths in a report); only the last path element is
  // shown, as a CLI report names files by their paths.
  const base = (p) => str(p).split(/[\\/]/).pop();
  const files = el('ol', { class: 'series-snaps small' }, snaps.filter(isObj).map((s) => el('li', null,
    (typeof s.seconds === 'number' ? '+' + s.seconds + ' s ' : '') + str(s.time) + ' ',
    str(s.file) ? el('span', { class: 'snap-file' }, base(s.file) + (str(s.kernel_file) ? ' + ' + base(s.kernel_file) : '') + ' ') : null,
    el('span', { class: 'badge' + (str(s.status) === 'ok' ? ' ok' : ' scan') }, str(s.status) || '?'),
    str(s.error) ? el('span', { class: 'muted' }, ' ' + str(s.error)) : null)));
  const prim = isObj(v.primary) ? v.primary : null;

  const text = el('input', { type: 'search', id: 'series-filter', placeholder: 'id, name, state or function', autocomplete: 'off' });
  const pick = el('select', { id: 'series-state' }, el('option', { value: '' }, 'every state'),
    Object.entries(STATE_TEXT).map(([k, label]) => el('option', { value: k }, label)));
  const count = el('span', { id: 'series-count', class: 'muted', 'aria-live': 'polite' });
  const list = el('div', { id: 'series-threads' }, rows.length ? rows : el('p', { class: 'muted' }, 'The series lists no threads.'));
  function apply() {
    const words = text.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const want = pick.value;
    let n = 0;
    for (const r of rows) {
      const hit = (!want || r.dataset.state === want) && words.every((w) => r.search.includes(w));
      r.hidden = !hit;
      n += hit;
    }
    count.textContent = words.length || want ? n + ' of ' + rows.length + ' threads match' : '';
  }
  let timer = 0;
  text.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(apply, 120); });
  pick.addEventListener('change', apply);

  return el('section', { id: 'series', class: 'panel', 'aria-labelledby': 'series-h' },
    el('h2', { id: 'series-h' }, 'Series: ' + (typeof series.snapshot_count === 'number' ? series.snapshot_count : snaps.length) + ' snapshots of one hang'),
    str(v.summary) ? el('p', { id: 'series-summary', class: 'verdict-line' }, str(v.summary)) : null,
    prim ? el('p', { id: 'series-primary' }, 'Primary: ', threadLink(prim.thread_id, 'Thread ' + tidText(prim.thread_id) + (str(prim.thread_name) ? ' “' + str(prim.thread_name) + '”' : '')),
      ' — ' + str(prim.verdict)) : null,
    el('details', null, el('summary', null, 'Snapshots'), files),
    el('div', { class: 'filterbar', role: 'search' },
      el('label', { for: 'series-filter' }, 'Filter series threads'), text,
      el('label', { for: 'series-state' }, 'Series state'), pick, count),
    list);
}
