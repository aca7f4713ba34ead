// facts_view.js — the reference tables of the triage page: all threads
// (with wait time and CPU time, sortable like !runaway), the locks view
// (every critical section / mutex / waited object with its owner and
// waiters, like !locks), the wait chains as readable paths, and the
// modules with their symbol status.  Symbol file paths are the server's
// own: only staff see them (a view-link holder sees the kind only).

import { el, str, arr, isObj, formatDuration, breakable } from './dom.js';
import { hex, frameModule } from './frames.js';
import { anchor, tidKey, tidText } from './thread_model.js';
import { threadLink, cpuText } from './thread_view.js';

function section(id, title, ...children) {
  return el('section', { id, class: 'panel', 'aria-labelledby': id + '-h' }, el('h2', { id: id + '-h' }, title), ...children);
}

function clip(text, cls) {
  return el('td', { class: 'clip' + (cls ? ' ' + cls : ''), title: text || null }, text);
}

/** All threads in one table; the sort buttons reorder rows in place. */
export function threadTable(records) {
  if (!records.length) return null;
  const rows = records.map((r, i) => {
    const tr = el('tr', { class: r.stuck ? 'stuck' : null, 'data-tid': tidKey(r.tid) },
      el('td', { class: 'mono nowrap' }, el('a', { href: '#' + anchor(r.tid) }, tidText(r.tid))),
      clip(r.name), el('td', { class: 'nowrap' }, r.stateText || r.state),
      el('td', null, r.stuck ? el('span', { class: 'badge stuck' }, 'stuck') : r.idle ? el('span', { class: 'badge idle' }, 'idle') : ''),
      clip(r.wait ? str(r.wait.reason) : ''), el('td', { class: 'num' }, r.waitS !== null ? formatDuration(r.waitS) : ''),
      el('td', { class: 'num' }, cpuText(r.cpuMs)),
      clip(r.top, 'mono'), clip(r.ktop, 'mono'), clip(r.verdict));
    tr.sortKeys = { order: i, wait: r.waitS ?? -1, cpu: r.cpuMs ?? -1 };
    return tr;
  });
  const body = el('tbody', null, rows);
  const sortBtn = (key, label) => {
    const b = el('button', { type: 'button', class: 'linkish sort', 'data-sort': key, 'aria-pressed': 'false' }, label);
    b.addEventListener('click', () => {
      const sorted = rows.slice().sort((a, c) => key === 'order' ? a.sortKeys.order - c.sortKeys.order : c.sortKeys[key] - a.sortKeys[key]);
      body.append(...sorted);
      for (const x of b.closest('table').querySelectorAll('button.sort')) x.setAttribute('aria-pressed', String(x === b));
    });
    return b;
  };
  const th = (label, cls) => el('th', { scope: 'col', class: cls || null }, label);
  return section('threads', 'All threads (' + records.length + ')',
    el('table', { class: 'grid threads-table' + (records.some((r) => r.ktop) ? '' : ' no-kernel') },
      el('colgroup', null, ['c-tid', 'c-name', 'c-state', 'c-flag', 'c-reason', 'c-wait', 'c-cpu', 'c-top', 'c-ktop', 'c-verdict'].map((c) => el('col', { class: c }))),
      el('thead', null, el('tr', null, el('th', { scope: 'col' }, sortBtn('order', 'Thread')), th('Name'), th('State'), th('', 'c-flag'), th('Wait reason'),
        el('th', { scope: 'col', class: 'num' }, sortBtn('wait', 'Waiting')), el('th', { scope: 'col', class: 'num' }, sortBtn('cpu', 'CPU')),
        th('User frame'), th('Kernel frame'), th('Verdict'))),
      body));
}

/** Locks and waited objects: from the triage threads' waits (owner from
 *  user memory for critical sections, mutant owners from the kernel), the
 *  deadlocks' lock lists, the wait graph when the analyzer gives one, and
 *  the kernel threads' wait objects. */
export function locksView(rep, records) {
  const triage = isObj(rep.triage) ? rep.triage : {};
  const kern = isObj(rep.kernel) ? rep.kernel : {};
  const locks = new Map();
  const lock = (obj, type) => {
    const key = (hex(obj) || str(obj)).toLowerCase();
    if (!key) return null;
    if (!locks.has(key)) locks.set(key, { object: key, type: '', owners: new Set(), waiters: new Set() });
    const l = locks.get(key);
    if (type && !l.type) l.type = type;
    return l;
  };
  const tids = new Set(records.map((r) => tidKey(r.tid)));
  for (const r of records) {
    const w = r.wait;
    if (w && (hex(w.object) || str(w.object))) {
      const l = lock(w.object, str(w.object_type) || (r.category === 'critical_section' ? 'critical section' : ''));
      l.waiters.add(tidKey(r.tid));
      if (w.owner_thread_id !== undefined && w.owner_thread_id !== null) l.owners.add(tidKey(w.owner_thread_id));
    }
    for (const x of r.waitsOn) {
      if (!isObj(x) || !(hex(x.object) || str(x.object))) continue;
      const l = lock(x.object, str(x.type) || str(x.object_type));
      l.waiters.add(tidKey(r.tid));
      if (x.owner_thread_id !== undefined && x.owner_thread_id !== null) l.owners.add(tidKey(x.owner_thread_id));
    }
  }
  for (const d of arr(triage.deadlocks).filter(isObj)) {
    for (const x of arr(d.locks).filter(isObj)) {
      const l = lock(x.waits_for, str(d.kind).replace(/_/g, ' '));
      if (!l) continue;
      l.waiters.add(tidKey(x.thread_id));
      if (x.owned_by !== undefined && x.owned_by !== null) l.owners.add(tidKey(x.owned_by));
      l.deadlock = true;
    }
  }
  // The analyzer's wait graph (docs/report.md): waits_for edges from a
  // thread node to an object node, owned_by / exit_of from the object to a thread.
  const g = isObj(triage.wait_graph) ? triage.wait_graph : null;
  const nodes = new Map(arr(g && g.nodes).filter(isObj).map((n) => [str(n.id), n]));
  const threadOf = (id) => { const n = nodes.get(str(id)); return n && n.thread_id !== undefined ? tidKey(n.thread_id) : (/^thread:(\d+)$/.exec(str(id)) || [])[1]; };
  const objLock = (id) => {
    const n = nodes.get(str(id)) || {};
    const l = lock(hex(n.object) || str(id), str(n.type) || str(n.kind));
    if (l && str(n.label)) l.label = str(n.label);
    return l;
  };
  for (const e of arr(g && g.edges).filter(isObj)) {
    if (str(e.kind) === 'waits_for') { const l = objLock(e.to); const t = threadOf(e.from); if (l && t) l.waiters.add(t); }
    else if (str(e.kind) === 'owned_by' || str(e.kind) === 'exit_of') { const l = objLock(e.from); const t = threadOf(e.to); if (l && t) l.owners.add(t); }
  }
  for (const k of arr(kern.threads).filter(isObj)) {
    if (!tids.has(tidKey(k.thread_id))) continue;
    for (const o of arr(k.wait_objects).filter(isObj)) {
      const l = lock(o.object, str(o.type));
      if (!l) continue;
      l.waiters.add(tidKey(k.thread_id));
      if (o.owner_thread_id !== undefined && o.owner_thread_id !== null) l.owners.add(tidKey(o.owner_thread_id));
    }
  }
  // A lock worth listing has an owner or more than one waiter (an event
  // one thread waits for is in that thread's card already).
  const list = [...locks.values()].filter((l) => l.owners.size || l.waiters.size > 1)
    .sort((a, b) => (b.deadlock ? 1 : 0) - (a.deadlock ? 1 : 0) || b.waiters.size - a.waiters.size);
  const tlinks = (set) => [...set].slice(0, 64).map((t, i) => [i ? ', ' : '', threadLink(/^\d+$/.test(t) ? Number(t) : t, tidText(/^\d+$/.test(t) ? Number(t) : t))]);
  return section('locks', 'Locks (' + list.length + ')', list.length
    ? el('table', { class: 'grid locks' },
      el('thead', null, el('tr', null, ...['Object', 'Kind', 'Owner', 'Waiters', ''].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', null, list.map((l) => el('tr', { class: l.deadlock ? 'stuck' : null },
        el('td', { class: 'mono' }, l.object, l.label ? el('div', { class: 'small muted' }, l.label) : null), el('td', null, l.type), el('td', null, l.owners.size ? tlinks(l.owners) : el('span', { class: 'muted' }, 'not known')),
        el('td', null, l.waiters.size + ': ', tlinks(l.waiters)), el('td', null, l.deadlock ? el('span', { class: 'badge stuck' }, 'deadlock') : '')))))
    : el('p', { class: 'muted' }, 'No thread waits on a lock with a known owner.'));
}

/** The words between two threads of an analyzer chain, from the link's
 *  kind (triage.chains[].steps[]) and the waited-on node's label in
 *  triage.wait_graph: "waits for mutex 0x34 `Local\cache` held by",
 *  "waits for the exit of", "waits for <ALPC message>, served by". */
function linkWords(link, nodes) {
  if (!isObj(link)) return '';
  const n = nodes.get(str(link.waits_for));
  // A node's label is "<object> (<state>)"; the state ("owned by 268")
  // would repeat what the link already says.
  let what = n ? str(n.label) : '';
  const state = n ? str(n.state) : '';
  if (state && what.endsWith(' (' + state + ')')) what = what.slice(0, -(state.length + 3));
  switch (str(link.kind)) {
    case 'exit_of': return ' waits for the exit of ';
    case 'served_by': return ' waits for ' + (what || 'an ALPC reply') + ', served by ';
    case 'owned_by': return ' waits for ' + (what || 'an object') + ' held by ';
    default: return '';
  }
}

/** Wait chains: the analyzer's triage.chains[] when present, else followed
 *  here from each stuck thread's wait owner.  Each chain reads
 *  "Thread A waits for <object> held by Thread B, which …". */
export function chainsView(rep, records) {
  const triage = isObj(rep.triage) ? rep.triage : {};
  const byTid = new Map(records.map((r) => [tidKey(r.tid), r]));
  const nodes = new Map(arr(isObj(triage.wait_graph) ? triage.wait_graph.nodes : null).filter(isObj).map((n) => [str(n.id), n]));
  let chains = arr(triage.chains).filter((c) => isObj(c) || Array.isArray(c)).map((c) => {
    const steps = Array.isArray(c) ? c : arr(c.threads).length > 1 ? c.threads : arr(c.steps).length ? c.steps : arr(c.links);
    return { steps: steps.map((s, i) => (isObj(s) ? s : { thread_id: s, link: isObj(c) && !Array.isArray(c) ? arr(c.steps)[i] : null })),
      cycle: isObj(c) && (c.cycle === true || str(c.kind) === 'cycle'),
      end: isObj(c) ? str(c.text) || str(c.ends_in) || str(c.description) || str(c.summary) : '' };
  }).filter((c) => c.steps.length > 1);
  if (!chains.length) {
    // Followed here: owner links between the threads' waits.
    const seen = new Set();
    for (const r of records.filter((x) => x.stuck)) {
      const steps = [];
      const visited = new Set();
      let cur = r;
      while (cur && !visited.has(tidKey(cur.tid)) && steps.length < 32) {
        visited.add(tidKey(cur.tid));
        const w = cur.wait;
        const owner = w && w.owner_thread_id !== undefined && w.owner_thread_id !== null ? tidKey(w.owner_thread_id) : '';
        steps.push({ thread_id: cur.tid, object: w ? w.object : null, object_type: w ? w.object_type : null, owner });
        cur = owner ? byTid.get(owner) : null;
      }
      if (steps.length > 1 && !seen.has(tidKey(steps[0].thread_id))) {
        steps.forEach((s) => seen.add(tidKey(s.thread_id)));
        chains.push({ steps, cycle: !!(cur && visited.has(tidKey(cur.tid))), end: '' });
      }
    }
  }
  if (!chains.length) return null;
  const rc = isObj(triage.root_cause) ? triage.root_cause : null;
  return section('chains', 'Wait chains (' + chains.length + ')',
    rc && rc.thread_id !== undefined ? el('p', { class: 'rootcause' }, el('strong', null, 'Root cause: '), threadLink(rc.thread_id, 'Thread ' + tidText(rc.thread_id)),
      typeof rc.blocked_count === 'number' ? ' blocks ' + rc.blocked_count + ' thread' + (rc.blocked_count === 1 ? '' : 's') : '', rc.cycle === true ? ' (in a cycle)' : '',
      str(rc.why) ? ' — ' + str(rc.why) : '') : null,
    el('ol', { class: 'chains' }, chains.slice(0, 100).map((c) => {
    const parts = [];
    c.steps.forEach((s, i) => {
      const tid = s.thread_id ?? s.thread ?? s.from;
      const r = byTid.get(tidKey(tid));
      parts.push(el('span', { class: 'cnode' }, threadLink(tid, 'Thread ' + tidText(tid)), r && r.name ? ' “' + r.name + '”' : ''));
      const obj = [str(s.object_type) || str(s.type), hex(s.object) || str(s.object)].filter(Boolean).join(' ');
      if (i < c.steps.length - 1) parts.push(el('span', { class: 'carrow' }, linkWords(s.link, nodes) || (obj ? ' waits for ' + obj + ' held by ' : ' → ')));
      else {
        const last = r ? (r.stuck ? r.verdict : r.state ? 'is ' + r.state + (r.top ? ' in ' + r.top : '') : '') : '';
        parts.push(el('span', { class: 'cend' }, c.cycle ? ' — which closes the cycle' : last ? ' — ' : '', c.cycle ? '' : breakable(last)));
      }
    });
    return el('li', { class: 'chain' }, parts, c.end ? el('div', { class: 'muted small' }, c.end) : null);
  })));
}

/** Symbol status words: PDB, Breakpad, exports only, none. */
function symbolStatus(m, named, staff) {
  const src = str(m.symbol_source);
  let kind = '';
  if (/^pdb:/i.test(src) || src === 'pdb') kind = 'PDB';
  else if (/^breakpad:/i.test(src) || src === 'breakpad') kind = 'Breakpad .sym';
  else if (src === 'exports') kind = 'exports only';
  else if (src === 'missing_symbols' || m.missing_symbols === true) kind = 'none';
  else if (m.loaded_symbols === true) kind = 'symbols';
  else if (named.has('pdb')) kind = 'PDB';
  else if (named.has('breakpad')) kind = 'Breakpad .sym';
  else if (named.has('exports')) kind = 'exports only';
  else if (named.has('named')) kind = 'names';
  const cls = kind === 'none' ? 'nosym' : kind === 'exports only' ? 'scan' : kind ? 'ok' : '';
  const path = src.includes(':') ? src.slice(src.indexOf(':') + 1) : '';
  return el('span', null, kind ? el('span', { class: 'badge ' + cls }, kind) : el('span', { class: 'muted', title: 'not looked up: no frame of this module was walked' }, 'not needed'),
    staff && path ? el('div', { class: 'mono small srcpath', title: path }, path) : null);
}

/** Symbol providers seen in frames, by lower-case module name. */
function providers(rep) {
  const map = new Map();
  const add = (f) => {
    if (!isObj(f)) return;
    const keys = [str(f.module).split(/[\\/]/).pop().toLowerCase(), frameModule(f).toLowerCase(), str(f.module_file).toLowerCase()].filter(Boolean);
    const p = str(f.symbol_provider) || (str(f.function) ? 'named' : '');
    if (!p) return;
    for (const k of keys) { if (!map.has(k)) map.set(k, new Set()); map.get(k).add(p); }
  };
  const user = isObj(rep.user) ? rep.user : {}, kern = isObj(rep.kernel) ? rep.kernel : {}, tri = isObj(rep.triage) ? rep.triage : {};
  for (const t of arr(user.threads).filter(isObj)) arr(t.frames).forEach(add);
  for (const t of arr(kern.threads).filter(isObj)) arr(t.frames).forEach(add);
  for (const t of arr(tri.threads).filter(isObj)) { arr(t.user_frames).forEach(add); arr(t.kernel_frames).forEach(add); }
  return map;
}

function moduleTable(id, title, modules, named, staff) {
  const list = arr(modules).filter(isObj);
  if (!list.length) return null;
  const none = new Set();
  const rows = list.map((m) => {
    const f = str(m.filename).toLowerCase();
    const p = named.get(f) || named.get(f.replace(/\.[^.]*$/, '')) || named.get(str(m.name).toLowerCase()) || none;
    return el('tr', { class: m.missing_symbols === true || str(m.symbol_source) === 'missing_symbols' ? 'missing' : null },
      el('td', { class: 'mono' }, hex(m.base_addr)), el('td', { class: 'mono' }, hex(m.end_addr)),
      el('td', { class: 'mname' }, breakable(str(m.filename))), el('td', null, str(m.version)),
      el('td', { class: 'mono small clipw', title: [str(m.debug_file), str(m.debug_id)].filter(Boolean).join(' ') || null }, breakable([str(m.debug_file), str(m.debug_id)].filter(Boolean).join(' '))),
      el('td', null, symbolStatus(m, p, staff)));
  });
  const missing = list.filter((m) => m.missing_symbols === true || str(m.symbol_source) === 'missing_symbols').length;
  return el('div', { class: 'modules', id },
    el('h3', null, title + ' (' + list.length + (missing ? ', ' + missing + ' without symbols' : '') + ')'),
    el('table', { class: 'grid modtable' },
      el('colgroup', null, ['c-addr', 'c-addr', 'c-mname', 'c-ver', 'c-dbg', 'c-sym'].map((c) => el('col', { class: c }))),
      el('thead', null, el('tr', null, ...['Base', 'End', 'Name', 'Version', 'Debug file / id', 'Symbols'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', null, rows)));
}

export function modulesView(rep, staff) {
  const user = isObj(rep.user) ? rep.user : {}, kern = isObj(rep.kernel) ? rep.kernel : {};
  const named = providers(rep);
  const mods = [moduleTable('user-modules', 'User modules', user.modules, named, staff), moduleTable('kernel-drivers', 'Kernel drivers', kern.drivers, named, staff)].filter(Boolean);
  return mods.length ? section('modules', 'Modules and symbols', mods) : null;
}
