// signature.js — the page of one hang signature (/signature?s=…): first and
// last seen, how many uploads per day as a small bar chart (SVG built with
// DOM calls: no framework, no inline style), and every upload with it,
// newest first.  Data: /api/signatures/detail and /api/dumps?signature=.
// A bucket whose uploads moved when symbols arrived (docs/triage.md) answers
// with the bucket they are in now (a 307 that fetch follows): the page then
// shows that one and says so; a bucket lists the signatures merged into it.

import { $, el, setChildren, str, arr, isObj, formatAge, formatTime } from './dom.js';
import { getJSON } from './api.js';
import { setupNav } from './nav.js';

let sig = new URLSearchParams(location.search).get('s') || '';
const SVG = 'http://www.w3.org/2000/svg';
let cursor = null;

function svg(tag, attrs, ...kids) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
  for (const k of kids) n.append(k);
  return n;
}

/** Bars for the days from the first to the last upload (at most 120, the
 *  most recent), gaps as empty days; a text table says the same for screen
 *  readers. */
export function dayChart(days) {
  const list = arr(days).filter(isObj).filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(str(d.day)));
  if (!list.length) return el('p', { class: 'muted' }, 'No uploads.');
  const byDay = new Map(list.map((d) => [str(d.day), Number(d.count) || 0]));
  const start = new Date(str(list[0].day) + 'T00:00:00Z'), end = new Date(str(list[list.length - 1].day) + 'T00:00:00Z');
  const all = [];
  for (let t = end.getTime(); t >= start.getTime() && all.length < 120; t -= 86400000) all.unshift(new Date(t).toISOString().slice(0, 10));
  const max = Math.max(1, ...all.map((d) => byDay.get(d) || 0));
  const W = Math.max(all.length * 14, 140), H = 90;
  const bw = W / all.length;
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H + 16}`, class: 'daychart', role: 'img', 'aria-labelledby': 'chart-caption' });
  all.forEach((d, i) => {
    const n = byDay.get(d) || 0;
    const h = n ? Math.max(2, (n / max) * H) : 0;
    const bar = svg('rect', { x: (i * bw + 1).toFixed(1), y: (H - h).toFixed(1), width: Math.max(1, bw - 2).toFixed(1), height: h.toFixed(1), class: 'bar', 'data-day': d, 'data-count': n });
    bar.append(svg('title', {}, d + ': ' + n));
    chart.append(bar);
  });
  chart.append(svg('text', { x: 0, y: H + 13, class: 'axis' }, all[0]), svg('text', { x: W, y: H + 13, class: 'axis', 'text-anchor': 'end' }, all[all.length - 1]));
  const table = el('table', { class: 'sr-only' }, el('tbody', null, list.map((d) => el('tr', null, el('th', { scope: 'row' }, str(d.day)), el('td', null, str(d.count))))));
  return el('div', { class: 'chart-scroll' }, chart, table);
}

function row(it) {
  const sum = isObj(it.summary) ? it.summary : {};
  const w = isObj(it.workflow) ? it.workflow : {};
  const id = str(it.id);
  return el('tr', { 'data-id': id },
    el('td', null, el('span', { class: 'badge status status-' + str(it.status).replace(/[^a-z]/g, '') }, str(it.status) || '?')),
    el('td', { class: 'clip', title: str(sum.process) || null }, el('a', { href: '/triage/' + encodeURIComponent(id) }, str(sum.process) || id.slice(0, 12))),
    el('td', null, str(w.state).replace(/_/g, ' '), str(w.assignee) ? el('div', { class: 'small muted' }, str(w.assignee)) : null),
    el('td', { class: 'clip', title: str(sum.verdict) || null }, str(sum.verdict)),
    el('td', { class: 'clip', title: [str(it.case_id), str(it.customer)].filter(Boolean).join(' — ') || null }, str(it.case_id)),
    el('td', { title: formatTime(it.created_at) }, formatAge(it.created_at)));
}

async function loadUploads(more) {
  const p = new URLSearchParams({ signature: sig, limit: '100' });
  if (more && cursor) p.set('cursor', cursor);
  const res = await getJSON('/api/dumps?' + p.toString());
  const items = arr(res && res.items).filter(isObj);
  cursor = res && typeof res.next_cursor === 'string' && res.next_cursor ? res.next_cursor : null;
  const body = $('#uploads tbody');
  if (!more) setChildren(body);
  body.append(...items.map(row));
  $('#more').hidden = !cursor;
  $('#sig-uploads').hidden = false;
}

async function main() {
  await setupNav();
  $('#sig').textContent = sig || '(no signature given)';
  if (!sig) return;
  document.title = 'Signature ' + sig.slice(0, 60) + ' — dumptriage';
  try {
    const d = await getJSON('/api/signatures/detail?signature=' + encodeURIComponent(sig));
    if (str(d.signature) && str(d.signature) !== sig) {
      const asked = sig;
      sig = str(d.signature);
      $('#sig').textContent = sig;
      history.replaceState(null, '', '/signature?s=' + encodeURIComponent(sig));
      setChildren($('#message'), el('p', { class: 'notice', id: 'merged-note' }, 'Merged: ', el('code', null, asked),
        ' is an earlier signature of these uploads — they were analysed again (with symbols that arrived later) and now have this one.'));
    }
    const from = arr(d.merged_from).filter(isObj).filter((m) => str(m.signature));
    setChildren($('#sig-facts'), [['Uploads', str(d.count)], ['First seen', formatTime(d.first_seen)], ['Last seen', formatTime(d.last_seen) + (str(d.last_seen) ? ' (' + formatAge(d.last_seen) + ')' : '')]]
      .map(([k, v]) => el('div', null, el('dt', null, k), el('dd', null, v)))
      .concat(from.length ? [el('div', { id: 'merged-from' }, el('dt', null, 'Merged from'), el('dd', null, from.map((m) =>
        el('div', null, el('code', { class: 'signature' }, str(m.signature)), ' — ' + str(m.uploads) + ' upload' + (Number(m.uploads) === 1 ? '' : 's') +
          (str(m.kind) === 'symbols' ? ', when symbols arrived' : ', on re-analysis')))))] : []));
    setChildren($('#chart'), dayChart(d.days));
    $('#sig-summary').hidden = false;
    await loadUploads(false);
    document.body.dataset.rendered = 'yes';
  } catch (e) {
    setChildren($('#message'), el('p', { class: 'error' }, e.info ? e.info.plain : String(e)));
    document.body.dataset.rendered = 'error';
  }
}
$('#more').addEventListener('click', () => loadUploads(true));
main();
