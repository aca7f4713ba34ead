// thread_view.js — threads on the triage page, built to stay readable and
// fast for processes with hundreds of threads: a card per thread (verdict,
// wait facts, IRPs, copy as text, permalink, the paired stacks with system
// frames collapsible), threads with identical stacks in one expandable
// group (like !uniqstack), idle and unknown threads behind a count, and a
// filter over id, name, state, module and function.  Stacks inside closed
// groups are built only when opened.

import { el, str, arr, isObj, formatDuration } from './dom.js';
import { frameText, threadText, hex } from './frames.js';
import { stackPairTable } from './stack_pair.js';
import { anchor, tidKey, tidText, groupByStack } from './thread_model.js';

export function threadLink(tid, label) {
  return el('a', { href: '#' + anchor(tid), class: 'tlink' }, label || 'Thread ' + tidText(tid));
}

export function cpuText(ms) {
  if (typeof ms !== 'number') return '';
  return ms < 1000 ? Math.round(ms) + ' ms' : ms < 60000 ? (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s' : formatDuration(ms / 1000);
}

function dl(pairs, cls) {
  const list = el('dl', { class: 'facts' + (cls ? ' ' + cls : '') });
  for (const [k, v] of pairs) {
    if (v === '' || v === null || v === undefined || (Array.isArray(v) && !v.length)) continue;
    list.append(el('div', null, el('dt', null, k), el('dd', null, v)));
  }
  return list;
}

/** One entry of waits_on[] / blocked_threads[]: a thread id or an object. */
function waitTarget(w) {
  if (typeof w === 'number') return threadLink(w);
  if (!isObj(w)) return str(w);
  const owner = w.owner_thread_id ?? w.thread_id;
  return el('span', { class: 'wtarget' }, str(w.label) || [str(w.type) || str(w.object_type) || str(w.kind), hex(w.object) || str(w.object) || str(w.node)].filter(Boolean).join(' '),
    owner !== undefined && owner !== null ? [' held by ', threadLink(owner)] : null);
}

function waitFacts(r) {
  const w = r.wait;
  const owner = w && w.owner_thread_id !== undefined && w.owner_thread_id !== null ? threadLink(w.owner_thread_id) : '';
  return dl([
    ['Wait reason', w ? str(w.reason) : ''], ['Mode', w ? str(w.mode) : ''],
    ['Alertable', w && typeof w.alertable === 'boolean' ? (w.alertable ? 'yes' : 'no') : ''],
    ['Waiting for', r.waitS !== null ? formatDuration(r.waitS) : ''],
    ['Object', w ? [str(w.object_type), hex(w.object) || str(w.object)].filter(Boolean).join(' ') : ''],
    ['Owner', owner],
    ['Waits on', r.waitsOn.length ? r.waitsOn.slice(0, 32).map((x, i) => [i ? ', ' : '', waitTarget(x)]) : ''],
    ['Blocks', r.blocked.length ? r.blocked.slice(0, 64).map((x, i) => [i ? ', ' : '', waitTarget(x)]) : ''],
    ['CPU time', cpuText(r.cpuMs)],
  ]);
}

function irpList(irps) {
  if (!irps.length) return null;
  return el('div', { class: 'irps' }, el('h4', null, 'Pending I/O (' + irps.length + ' IRP' + (irps.length > 1 ? 's' : '') + ')'),
    el('ul', null, irps.slice(0, 64).map((i) => {
      const code = isObj(i.code) ? [str(i.code.value), str(i.code.name) ? '(' + str(i.code.name) + ')' : ''].filter(Boolean).join(' ') : '';
      const file = isObj(i.file) ? str(i.file.name) || hex(i.file.object) : '';
      const dev = isObj(i.device) ? [str(i.device.type_name) || str(i.device.type), hex(i.device.object)].filter(Boolean).join(' ') : '';
      const drv = isObj(i.driver) ? str(i.driver.name) || hex(i.driver.object) : str(i.driver);
      return el('li', { class: 'mono small' }, ['IRP ' + (hex(i.irp) || '?'), str(i.major), code].filter(Boolean).join(' '),
        file ? ' — file ' + file : '', dev ? ' — device ' + dev : '', drv ? ' — driver ' + drv : '',
        i.cancel === true ? el('span', { class: 'badge stuck' }, 'cancelled') : null);
    })));
}

/** A thread card.  ctx: {modules, isApp}. */
export function threadCard(r, ctx, { id = true, lead = false } = {}) {
  const title = 'Thread ' + tidText(r.tid) + (r.name ? ' “' + r.name + '”' : '');
  const copyBtn = el('button', { type: 'button', class: 'copy' }, 'Copy as text');
  const text = threadText({ title: title + (r.state ? ' [' + (r.stateText || r.state) + ']' : ''), verdict: r.verdict, userFrames: r.userFrames, kernelFrames: r.kernelFrames, syscall: r.syscall });
  // The clipboard API exists only in secure contexts (https, localhost);
  // elsewhere the text is shown selected, for Ctrl+C.
  const manual = el('textarea', { class: 'copytext', readonly: true, rows: '8', 'aria-label': 'Stack as text', hidden: true }, text);
  copyBtn.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      copyBtn.textContent = 'Copied';
      setTimeout(() => { copyBtn.textContent = 'Copy as text'; }, 2000);
    } catch {
      manual.hidden = false;
      manual.focus();
      manual.select();
    }
  });
  copyBtn.dataset.copyText = text;
  const hasStacks = r.userFrames.length || r.kernelFrames.length;
  const table = hasStacks ? stackPairTable({ userFrames: r.userFrames, kernelFrames: r.kernelFrames, syscall: r.syscall, modules: ctx.modules,
    label: title + ' stacks', isApp: ctx.isApp }) : null;
  const nonapp = table ? table.querySelectorAll('tr.nonapp') : [];
  let sysBtn = null;
  if (nonapp.length) {
    sysBtn = el('button', { type: 'button', class: 'linkish sysframes', 'aria-expanded': 'true' }, 'Hide ' + nonapp.length + ' system frame' + (nonapp.length > 1 ? 's' : ''));
    sysBtn.addEventListener('click', () => {
      const show = sysBtn.getAttribute('aria-expanded') !== 'true';
      sysBtn.setAttribute('aria-expanded', String(show));
      for (const tr of nonapp) tr.hidden = !show;
      sysBtn.textContent = (show ? 'Hide ' : 'Show ') + nonapp.length + ' system frame' + (nonapp.length > 1 ? 's' : '');
    });
  }
  const perma = el('a', { class: 'permalink', href: '#' + anchor(r.tid), 'aria-label': 'Permalink to thread ' + tidText(r.tid), title: 'Link to this thread' }, '#');
  return el('article', { class: 'thread' + (r.stuck ? ' stuck' : '') + (lead ? ' lead-thread' : ''), id: id ? anchor(r.tid) : null, 'data-tid': tidKey(r.tid) },
    el('header', { class: 'thread-head' },
      el('h3', null, el('span', { class: 'tid' }, 'Thread ' + tidText(r.tid)), r.name ? el('span', { class: 'tname' }, r.name) : null,
        r.state ? el('span', { class: 'badge state state-' + r.state.replace(/[^a-z]/g, '') }, r.stateText || r.state) : null,
        r.stuck ? el('span', { class: 'badge stuck' }, 'stuck') : null),
      el('span', { class: 'thread-actions' }, sysBtn, perma, copyBtn)),
    manual,
    r.verdict ? el('p', { class: 'verdict' }, r.verdict) : null,
    r.explanation ? el('p', { class: 'explanation muted' }, r.explanation) : null,
    waitFacts(r),
    irpList(r.irps),
    table || el('p', { class: 'muted' }, 'No stack frames.'));
}

/** Summary words of a stack: its first three frames. */
function stackWords(r) {
  const frames = (r.userFrames.length ? r.userFrames : r.kernelFrames).filter((f) => isObj(f) && f.folded !== true).slice(0, 3).map(frameText);
  return frames.join(' ← ') || 'no stack';
}

/** A group of threads with identical stacks: a <details> whose summary
 *  says "12 threads — ntdll!… ← …", with every thread as a link (the
 *  permalink target) and the shared stack built when first opened. */
function groupNode(g, ctx) {
  const first = g[0];
  const states = [...new Set(g.map((r) => r.state).filter(Boolean))];
  const body = el('div', { class: 'group-body' });
  const det = el('details', { class: 'tgroup', 'data-size': String(g.length) },
    el('summary', null, el('span', { class: 'gcount' }, g.length + ' thread' + (g.length > 1 ? 's' : '')), ' — ',
      el('span', { class: 'gstack mono' }, stackWords(first)),
      states.map((s) => el('span', { class: 'badge state state-' + s.replace(/[^a-z]/g, '') }, s)),
      first.stuck ? el('span', { class: 'badge stuck' }, 'stuck') : null),
    el('ul', { class: 'members' }, g.map((r) => el('li', null, el('a', { id: anchor(r.tid), href: '#' + anchor(r.tid), class: 'chip', 'data-tid': tidKey(r.tid) },
      tidText(r.tid) + (r.name ? ' ' + r.name : '') + (r.cpuMs !== null && r.cpuMs >= 1 ? ' · CPU ' + cpuText(r.cpuMs) : ''))))),
    body);
  let built = false;
  det.addEventListener('toggle', () => {
    if (!det.open || built) return;
    built = true;
    body.append(el('p', { class: 'muted small' }, g.length > 1 ? 'The stack below is thread ' + tidText(first.tid) + '’s; all ' + g.length + ' have the same frames.' : ''),
      threadCard(first, ctx, { id: false }));
  });
  return det;
}

/** A list of records: single threads as cards (the first `eager` of them
 *  built now), groups as <details>. */
function renderRecords(records, ctx, { eager = 20, collapsed = false } = {}) {
  const out = [];
  let cards = 0;
  for (const g of groupByStack(records)) {
    if (g.length === 1 && !collapsed && cards < eager) { out.push(threadCard(g[0], ctx)); cards++; }
    else out.push(groupNode(g, ctx));
  }
  return out;
}

function section(id, title, ...children) {
  return el('section', { id, class: 'panel', 'aria-labelledby': id + '-h' }, el('h2', { id: id + '-h' }, title), ...children);
}

/** The threads part of the page: lead thread excluded (it is shown under
 *  the verdict).  Returns {node, reveal(tid)} — reveal opens whatever hides
 *  a thread's anchor (a closed group or the idle section). */
export function threadsView(records, ctx, leadTid) {
  const rest = records.filter((r) => leadTid === undefined || tidKey(r.tid) !== tidKey(leadTid));
  const stuck = rest.filter((r) => r.stuck);
  const quiet = rest.filter((r) => !r.stuck && (r.idle || r.unknown));
  const other = rest.filter((r) => !r.stuck && !r.idle && !r.unknown);

  const filter = el('input', { type: 'search', id: 'thread-filter', placeholder: 'id, name, state, module or function', autocomplete: 'off' });
  const count = el('span', { id: 'filter-count', class: 'muted', 'aria-live': 'polite' });
  const results = el('div', { id: 'filter-results', hidden: true });
  const sections = el('div', { id: 'thread-sections' });
  if (stuck.length) sections.append(section('stuck', 'Stuck threads (' + stuck.length + ')', renderRecords(stuck, ctx)));
  if (other.length) sections.append(section('other', 'Other threads (' + other.length + ')', renderRecords(other, ctx, { eager: 10 })));
  if (quiet.length) {
    const idleN = quiet.filter((r) => r.idle).length, unkN = quiet.length - idleN;
    const words = [idleN ? idleN + ' idle' : '', unkN ? unkN + ' unknown' : ''].filter(Boolean).join(', ');
    const det = el('details', { class: 'quiet' }, el('summary', null, el('h2', { id: 'idle-h' }, 'Idle and unknown threads (' + words + ')')));
    let built = false;
    const build = () => { if (!built) { built = true; det.append(...renderRecords(quiet, ctx, { collapsed: true })); } };
    det.addEventListener('toggle', () => { if (det.open) build(); });
    det.build = build;
    sections.append(el('section', { id: 'idle', class: 'panel', 'aria-labelledby': 'idle-h' }, det));
  }
  if (!stuck.length && !other.length && !quiet.length && !records.length) sections.append(el('p', { class: 'muted' }, 'The report lists no threads.'));

  let timer = 0;
  filter.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => apply(filter.value), 120);
  });
  function apply(q) {
    const words = q.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const table = document.querySelectorAll('#threads tbody tr');
    if (!words.length) {
      results.hidden = true; results.replaceChildren(); sections.hidden = false; count.textContent = '';
      for (const tr of table) tr.hidden = false;
      return;
    }
    const hit = records.filter((r) => words.every((w) => r.search.includes(w)));
    const keys = new Set(hit.map((r) => tidKey(r.tid)));
    for (const tr of table) tr.hidden = !keys.has(tr.dataset.tid);
    count.textContent = hit.length + ' of ' + records.length + ' threads match';
    sections.hidden = true;
    results.hidden = false;
    results.replaceChildren(...(hit.length ? renderRecords(hit.slice(0, 300), { ...ctx }, { eager: 10 }).map((n) => { for (const a of n.querySelectorAll('[id]')) a.removeAttribute('id'); if (n.id) n.removeAttribute('id'); return n; })
      : [el('p', { class: 'muted' }, 'No thread matches.')]));
  }

  const node = el('div', { id: 'threads-view' },
    el('div', { class: 'panel filterbar', role: 'search' }, el('label', { for: 'thread-filter' }, 'Filter threads'), filter, count),
    results, sections);
  function reveal(tid) {
    const idle = sections.querySelector('#idle details');
    if (!document.getElementById(anchor(tid)) && idle && idle.build) { idle.build(); }
    const target = document.getElementById(anchor(tid));
    if (!target) return null;
    if (filter.value) { filter.value = ''; apply(''); }
    for (let p = target.parentElement; p; p = p.parentElement) if (p.tagName === 'DETAILS') p.open = true;
    return target;
  }
  return { node, reveal };
}
