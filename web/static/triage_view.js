// triage_view.js — turns one upload's status and its analyzer report into
// the triage page: header, primary verdict, deadlock cycles, stuck threads
// (user stack beside kernel stack), the other threads, the all-threads
// table, modules/drivers with symbol status, warnings.  The report is
// untrusted input: any field may be missing or of the wrong type, and every
// string is placed as text.  No fetching here — triage.js does that — so a
// test can render a fixture report directly.

import { el, str, arr, isObj, formatBytes, formatDuration, formatTime } from './dom.js';
import { frameText, hex, threadText, toBig } from './frames.js';
import { stackPairTable, moduleIndex } from './stack_pair.js';

const toBigOr0 = (v) => toBig(v) ?? 0n;
const tidText = (t) => (typeof t === 'number' && Number.isFinite(t) ? '0x' + t.toString(16) + ' (' + t + ')' : str(t));
const tidKey = (t) => (typeof t === 'number' ? String(t) : str(t));
const anchor = (t) => 't-' + tidKey(t).replace(/[^0-9A-Za-z_-]/g, '_');

function section(id, title, ...children) {
  return el('section', { id, class: 'panel', 'aria-labelledby': id + '-h' }, el('h2', { id: id + '-h' }, title), ...children);
}

function dl(pairs) {
  const list = el('dl', { class: 'facts' });
  for (const [k, v] of pairs) {
    if (v === '' || v === null || v === undefined || (Array.isArray(v) && !v.length)) continue;
    list.append(el('div', null, el('dt', null, k), el('dd', null, v)));
  }
  return list;
}

/** Header facts from the status record (may be null) and the report. */
export function renderHeader(status, report) {
  const st = isObj(status) ? status : {};
  const rep = isObj(report) ? report : {};
  const user = isObj(rep.user) ? rep.user : {};
  const kern = isObj(rep.kernel) ? rep.kernel : {};
  const sum = isObj(st.summary) ? st.summary : {};
  const proc = isObj(user.process) ? user.process : {};
  const sys = isObj(user.system_info) ? user.system_info : {};
  const ksys = isObj(kern.system) ? kern.system : {};
  const image = str(proc.image);
  const processName = image ? image.split(/[\\/]/).pop() : str(sum.process);
  const pid = str(proc.pid) || str(user.pid) || str(sum.pid);
  const firstFile = arr(st.files).filter(isObj).map((f) => str(f.name)).find(Boolean) || '';
  const title = (processName || firstFile || 'Dump') + (pid ? ' (pid ' + pid + ')' : '');

  const files = arr(st.files).filter(isObj).map((f) => el('div', { class: 'file' },
    el('span', { class: 'role' }, str(f.role)), ' ', el('span', { class: 'kind' }, str(f.kind)), ' ',
    el('span', { class: 'fname' }, str(f.name)), ' ', el('span', { class: 'size' }, formatBytes(f.size))));
  const dumpKinds = [];
  if (Object.keys(user).length) dumpKinds.push('user-mode minidump');
  const kdump = isObj(kern.dump) ? kern.dump : {};
  if (str(kdump.type_name)) dumpKinds.push('kernel: ' + str(kdump.type_name) + (kdump.live_dump === true ? ' (live dump)' : '') + (kdump.truncated === true ? ', truncated' : ''));
  else if (Object.keys(kern).length) dumpKinds.push('kernel dump');

  const os = [str(sys.os), str(sys.os_ver)].filter(Boolean).join(' ');
  // A live kernel dump (procdump -mk) carries bugcheck code 0: no crash, no line.
  const bug = isObj(kern.bugcheck) && (toBigOr0(kern.bugcheck.code) !== 0n || str(kern.bugcheck.name)) ? kern.bugcheck : null;
  const bugText = bug ? [hex(bug.code) ? '0x' + hex(bug.code).slice(2).toUpperCase().padStart(8, '0') : '', str(bug.name),
    arr(bug.parameters).length ? '(' + arr(bug.parameters).map(hex).join(', ') + ')' : ''].filter(Boolean).join(' ')
    : toBig(sum.bugcheck) === 0n ? '' : str(sum.bugcheck);
  const ci = isObj(user.crash_info) ? user.crash_info : null;
  const excText = ci ? [str(ci.type), hex(ci.code) ? 'code ' + hex(ci.code) : '', hex(ci.address) ? 'at ' + hex(ci.address) : '',
    ci.thread_id !== undefined ? 'thread ' + tidText(ci.thread_id) : ''].filter(Boolean).join(' ') : '';
  const times = [];
  if (str(proc.create_time)) times.push('process started ' + formatTime(proc.create_time));
  const udump = isObj(user.dump) ? user.dump : {};
  for (const [label, v] of [['user dump written', udump.time || user.dump_time], ['kernel dump written', ksys.system_time || kdump.time]]) {
    if (str(v)) times.push(label + ' ' + formatTime(v));
  }
  if (str(ksys.uptime)) times.push('system up ' + str(ksys.uptime));
  if (str(st.created_at)) times.push('uploaded ' + formatTime(st.created_at));

  const head = el('section', { id: 'summary', class: 'panel summary', 'aria-labelledby': 'summary-h' },
    el('h1', { id: 'summary-h' }, title),
    dl([
      ['Image', image],
      ['OS', [os, str(ksys.build) ? 'build ' + str(ksys.build) : ''].filter(Boolean).join(' — ')],
      ['CPU', [str(sys.cpu_arch), str(ksys.machine) && str(ksys.machine) !== str(sys.cpu_arch) ? str(ksys.machine) : '',
        str(sys.cpu_count) ? str(sys.cpu_count) + ' CPUs' : ''].filter(Boolean).join(', ')],
      ['Dumps', dumpKinds.join(', ')],
      ['Files', files],
      ['Times', times.length ? el('ul', { class: 'plain' }, times.map((t) => el('li', null, t))) : ''],
      ['Bugcheck', bugText],
      ['Exception', excText],
      ['Case', str(st.case_id)],
      ['Customer', str(st.customer)],
      ['Note', str(st.note)],
    ]));
  return head;
}

/** The primary verdict call-out. */
function renderPrimary(triage) {
  const p = isObj(triage.primary) ? triage.primary : null;
  if (!p) return null;
  return el('section', { id: 'primary', class: 'panel primary', 'aria-labelledby': 'primary-h' },
    el('h2', { id: 'primary-h' }, 'Verdict'),
    el('p', { class: 'verdict big' }, str(p.verdict) || 'No verdict'),
    str(p.explanation) ? el('p', { class: 'explanation' }, str(p.explanation)) : null,
    dl([['Thread', p.thread_id !== undefined ? el('a', { href: '#' + anchor(p.thread_id) }, tidText(p.thread_id)) : ''],
      ['Signature', str(p.signature) || str(triage.signature) ? el('code', { class: 'signature' }, str(p.signature) || str(triage.signature)) : '']]));
}

/** How well the two dumps match (same process, same time) and which
 *  threads are only in one of them: a reader must know before trusting a
 *  pairing. */
function renderPairing(triage) {
  const checks = arr(triage.checks).filter(isObj);
  const unpaired = arr(triage.unpaired).filter(isObj);
  const crash = isObj(triage.crash) ? triage.crash : null;
  if (!checks.length && !unpaired.length && !crash) return null;
  const parts = [];
  if (crash) {
    parts.push(el('p', { class: 'crash' }, el('strong', null, str(crash.kind) === 'bugcheck' ? 'Bugcheck ' : 'Exception '),
      [hex(crash.code), str(crash.name), str(crash.type)].filter(Boolean).join(' '),
      crash.thread_id !== undefined ? [' on ', el('a', { href: '#' + anchor(crash.thread_id) }, 'thread ' + tidText(crash.thread_id))] : null,
      str(crash.top_frame) || str(crash.driver_frame) ? [' at ', el('code', null, str(crash.driver_frame) || str(crash.top_frame))] : null));
  }
  if (checks.length) {
    parts.push(el('table', { class: 'grid checks' },
      el('thead', null, el('tr', null, ...['Check', '', 'User dump', 'Kernel dump', 'Note'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', null, checks.map((c) => el('tr', { class: c.ok === false ? 'bad' : null },
        el('td', null, str(c.check).replace(/_/g, ' ')),
        el('td', null, el('span', { class: 'badge ' + (c.ok === true ? 'ok' : 'nosym') }, c.ok === true ? 'match' : 'differs')),
        el('td', { class: 'mono' }, str(c.user)), el('td', { class: 'mono' }, str(c.kernel)), el('td', null, str(c.note)))))));
  }
  if (unpaired.length) {
    parts.push(el('details', { class: 'unpaired' }, el('summary', null, unpaired.length + ' thread' + (unpaired.length > 1 ? 's' : '') + ' in only one dump'),
      el('ul', null, unpaired.slice(0, 500).map((u) => el('li', null, 'Thread ' + tidText(u.thread_id) + ' only in the ' + str(u.only_in) + ' dump' + (str(u.reason) ? ': ' + str(u.reason) : ''))))));
  }
  return section('pairing', triage.paired === false ? 'Dumps (not paired)' : 'Pairing of the two dumps', parts);
}

/** Deadlock cycles as a ring of thread chips: A → B → A. */
function renderDeadlocks(triage, names) {
  const cycles = arr(triage.deadlocks).filter(isObj);
  if (!cycles.length) return null;
  return section('deadlocks', 'Deadlocks', ...cycles.map((c) => {
    const tids = arr(c.threads).slice(0, 64);
    const locks = new Map(arr(c.locks).filter(isObj).map((l) => [tidKey(l.thread_id), l]));
    const chain = el('ol', { class: 'cycle', 'aria-label': 'Wait cycle' });
    tids.concat(tids.length ? [tids[0]] : []).forEach((t, i) => {
      if (i) {
        const l = locks.get(tidKey(tids[i - 1]));
        const lock = l && hex(l.waits_for) ? ' ' + hex(l.waits_for) + ', held by' : '';
        chain.append(el('li', { class: 'arrow' }, 'waits for' + lock + ' →'));
      }
      const name = names.get(tidKey(t));
      chain.append(el('li', { class: 'node' }, el('a', { href: '#' + anchor(t) }, 'Thread ' + tidText(t)), name ? el('span', { class: 'tname' }, ' ' + name) : null));
    });
    return el('div', { class: 'deadlock' }, el('p', null, el('strong', null, (str(c.kind) || 'lock').replace(/_/g, ' ')), ' cycle of ' + tids.length + ' threads'), chain,
      str(c.description) ? el('p', { class: 'muted small' }, str(c.description)) : null);
  }));
}

function waitFacts(w) {
  if (!isObj(w)) return null;
  return dl([
    ['Wait reason', str(w.reason)], ['Mode', str(w.mode)],
    ['Alertable', typeof w.alertable === 'boolean' ? (w.alertable ? 'yes' : 'no') : ''],
    ['Waiting for', typeof w.seconds === 'number' ? formatDuration(w.seconds) : ''],
    ['Object', [str(w.object_type), hex(w.object) || str(w.object)].filter(Boolean).join(' ')],
    ['Owner', w.owner_thread_id !== undefined && w.owner_thread_id !== null ? el('a', { href: '#' + anchor(w.owner_thread_id) }, 'Thread ' + tidText(w.owner_thread_id)) : ''],
  ]);
}

/** A thread card: title, verdict, wait facts, copy button, stacks. */
export function threadCard({ tid, name, state, verdict, explanation, stuck, wait, userFrames, kernelFrames, syscall, modules }) {
  const title = 'Thread ' + tidText(tid) + (name ? ' “' + name + '”' : '');
  const copyBtn = el('button', { type: 'button', class: 'copy' }, 'Copy as text');
  const text = threadText({ title: title + (state ? ' [' + state + ']' : ''), verdict, userFrames, kernelFrames, syscall });
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
  return el('article', { class: 'thread' + (stuck ? ' stuck' : ''), id: anchor(tid), 'data-tid': tidKey(tid) },
    el('header', { class: 'thread-head' },
      el('h3', null, el('span', { class: 'tid' }, 'Thread ' + tidText(tid)), name ? el('span', { class: 'tname' }, name) : null,
        state ? el('span', { class: 'badge state state-' + state.toLowerCase().replace(/[^a-z]/g, '') }, state) : null,
        stuck ? el('span', { class: 'badge stuck' }, 'stuck') : null),
      copyBtn),
    manual,
    verdict ? el('p', { class: 'verdict' }, verdict) : null,
    explanation ? el('p', { class: 'explanation muted' }, explanation) : null,
    waitFacts(wait),
    (arr(userFrames).length || arr(kernelFrames).length)
      ? stackPairTable({ userFrames, kernelFrames, syscall, modules, label: title + ' stacks' })
      : el('p', { class: 'muted' }, 'No stack frames.'));
}

function moduleTable(id, title, modules) {
  const list = arr(modules).filter(isObj);
  if (!list.length) return null;
  const status = (m) => m.loaded_symbols === true ? el('span', { class: 'badge ok' }, 'symbols' + (str(m.symbol_source) ? ' (' + str(m.symbol_source) + ')' : ''))
    : m.missing_symbols === true ? el('span', { class: 'badge nosym' }, 'missing') : el('span', { class: 'muted' }, '—');
  const rows = list.map((m) => el('tr', { class: m.missing_symbols === true ? 'missing' : null },
    el('td', { class: 'mono' }, hex(m.base_addr)), el('td', { class: 'mono' }, hex(m.end_addr)),
    el('td', { class: 'mname' }, str(m.filename)), el('td', null, str(m.version)),
    el('td', { class: 'mono small' }, [str(m.debug_file), str(m.debug_id)].filter(Boolean).join(' ')), el('td', null, status(m))));
  const missing = list.filter((m) => m.missing_symbols === true).length;
  return el('div', { class: 'modules', id },
    el('h3', null, title + ' (' + list.length + (missing ? ', ' + missing + ' without symbols' : '') + ')'),
    el('div', { class: 'scroll' }, el('table', { class: 'grid' },
      el('thead', null, el('tr', null, ...['Base', 'End', 'Name', 'Version', 'Debug file / id', 'Symbols'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', null, rows))));
}

/** A kernel thread's state and wait, from the kernel part's names (the
 *  numbers are KTHREAD_STATE / KWAIT_REASON, shown only without a name). */
function kernelFacts(k) {
  const state = (str(k.state_name) || str(k.state)).toLowerCase();
  const wait = { reason: str(k.wait_reason_name) || str(k.wait_reason), mode: k.wait_mode, alertable: k.alertable,
    seconds: typeof k.wait_time_s === 'number' ? k.wait_time_s : undefined };
  return { state, wait };
}

/** The whole report.  Returns a DocumentFragment. */
export function renderReport(status, report) {
  const rep = isObj(report) ? report : {};
  const user = isObj(rep.user) ? rep.user : {};
  const kern = isObj(rep.kernel) ? rep.kernel : {};
  const triage = isObj(rep.triage) ? rep.triage : null;
  const modules = moduleIndex(user.modules, kern.drivers);
  const frag = document.createDocumentFragment();
  frag.append(renderHeader(status, rep));

  const userThreads = arr(user.threads).filter(isObj);
  const names = new Map(userThreads.filter((t) => str(t.thread_name)).map((t) => [tidKey(t.thread_id), str(t.thread_name)]));
  const userByTid = new Map(userThreads.map((t) => [tidKey(t.thread_id), t]));
  const userPid = str(isObj(user.process) ? user.process.pid : '') || str(user.pid);
  const kThreads = arr(kern.threads).filter(isObj);
  const kByTid = new Map(kThreads.filter((k) => !userPid || str(k.pid) === userPid).map((k) => [tidKey(k.thread_id ?? k.tid), k]));

  const allRows = [];
  if (triage) {
    for (const t of arr(triage.threads).filter(isObj)) {
      if (str(t.thread_name) && !names.has(tidKey(t.thread_id))) names.set(tidKey(t.thread_id), str(t.thread_name));
    }
    const primary = renderPrimary(triage);
    if (primary) frag.append(primary);
    const dead = renderDeadlocks(triage, names);
    if (dead) frag.append(dead);
    const tts = arr(triage.threads).filter(isObj);
    const card = (t) => threadCard({ tid: t.thread_id, name: names.get(tidKey(t.thread_id)), state: str(t.state),
      verdict: str(t.verdict), explanation: str(t.explanation) || str(t.idle_reason), stuck: t.stuck === true, wait: t.wait, userFrames: t.user_frames, kernelFrames: t.kernel_frames,
      syscall: t.syscall, modules });
    const stuck = tts.filter((t) => t.stuck === true);
    const idle = tts.filter((t) => t.stuck !== true && t.idle === true);
    const other = tts.filter((t) => t.stuck !== true && t.idle !== true);
    frag.append(section('stuck', 'Stuck threads (' + stuck.length + ')',
      stuck.length ? stuck.map(card) : el('p', { class: 'muted' }, 'No thread was judged stuck.')));
    if (other.length) frag.append(section('other', 'Other threads (' + other.length + ')', other.map(card)));
    if (idle.length) {
      frag.append(el('section', { id: 'idle', class: 'panel' },
        el('details', null, el('summary', null, el('h2', null, 'Idle threads (' + idle.length + ')')), idle.map(card))));
    }
    for (const t of tts) {
      const w = isObj(t.wait) ? t.wait : {};
      allRows.push({ tid: t.thread_id, name: names.get(tidKey(t.thread_id)), state: str(t.state),
        stuck: t.stuck === true ? 'stuck' : t.idle === true ? 'idle' : '', reason: str(w.reason),
        secs: typeof w.seconds === 'number' ? formatDuration(w.seconds) : '',
        top: str(t.blocking_frame) || frameText(arr(t.user_frames)[0]),
        ktop: str(t.driver_frame) || str(t.kernel_wait_frame) || frameText(arr(t.kernel_frames).find((f) => isObj(f) && f.folded !== true)),
        verdict: str(t.verdict) });
    }
  } else {
    // No triage yet: every user thread with its stacks, paired with its
    // kernel thread by thread id when the kernel dump has it.
    const cards = [];
    const used = new Set();
    // The thread that raised the dump's exception comes first.
    const crashTid = isObj(user.crash_info) ? tidKey(user.crash_info.thread_id) : '';
    const ordered = crashTid ? [...userThreads.filter((t) => tidKey(t.thread_id) === crashTid), ...userThreads.filter((t) => tidKey(t.thread_id) !== crashTid)] : userThreads;
    for (const t of ordered) {
      const crashed = crashTid !== '' && tidKey(t.thread_id) === crashTid;
      const k = kByTid.get(tidKey(t.thread_id));
      if (k) used.add(k);
      const kf = k ? kernelFacts(k) : null;
      cards.push(threadCard({ tid: t.thread_id, name: str(t.thread_name), state: crashed ? 'crashed' : kf ? kf.state : '',
        verdict: '', stuck: false, wait: kf ? kf.wait : null,
        userFrames: t.frames, kernelFrames: k ? k.frames : [], syscall: null, modules }));
      allRows.push({ tid: t.thread_id, name: str(t.thread_name), state: crashed ? 'crashed' : kf ? kf.state : '', stuck: '',
        reason: kf ? kf.wait.reason : '', secs: kf && kf.wait.seconds !== undefined ? formatDuration(kf.wait.seconds) : '',
        top: frameText(arr(t.frames)[0]), ktop: k ? frameText(arr(k.frames)[0]) : '', verdict: '' });
    }
    frag.append(el('p', { class: 'notice' }, userThreads.length || kThreads.length
      ? 'The triage part of the analysis is not available: showing each thread’s stacks as found.'
      : 'The report lists no threads: the analyzer found none it could read in these dumps.'));
    if (cards.length) frag.append(section('user-threads', 'Threads (' + cards.length + ')', cards));
    const rest = kThreads.filter((k) => !used.has(k)).slice(0, 2000);
    if (rest.length) {
      frag.append(el('section', { id: 'kernel-threads', class: 'panel' }, el('details', { open: userThreads.length ? null : true },
        el('summary', null, el('h2', null, 'Kernel threads (' + rest.length + ')')),
        rest.map((k) => threadCard({ tid: k.thread_id ?? k.tid, name: [str(k.image) || str(k.label), str(k.pid) ? 'pid ' + str(k.pid) : ''].filter(Boolean).join(', '),
          state: kernelFacts(k).state, verdict: '', stuck: false, wait: kernelFacts(k).wait,
          userFrames: [], kernelFrames: k.frames, syscall: null, modules })))));
    }
  }

  const pairingNode = triage ? renderPairing(triage) : null;
  if (pairingNode) frag.append(pairingNode);
  if (allRows.length) {
    frag.append(section('threads', 'All threads (' + allRows.length + ')', el('div', { class: 'scroll' }, el('table', { class: 'grid threads-table' },
      el('thead', null, el('tr', null, ...['Thread', 'Name', 'State', '', 'Wait reason', 'Waiting', 'User frame', 'Kernel frame', 'Verdict'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', null, allRows.map((r) => el('tr', { class: r.stuck === 'stuck' ? 'stuck' : null },
        el('td', { class: 'mono' }, el('a', { href: '#' + anchor(r.tid) }, tidText(r.tid))), el('td', null, r.name || ''),
        el('td', null, r.state), el('td', null, r.stuck ? el('span', { class: 'badge ' + r.stuck }, r.stuck) : ''),
        el('td', null, r.reason), el('td', null, r.secs),
        el('td', { class: 'mono' }, r.top), el('td', { class: 'mono' }, r.ktop),
        el('td', null, r.verdict))))))));
  }

  const mods = [moduleTable('user-modules', 'User modules', user.modules), moduleTable('kernel-drivers', 'Kernel drivers', kern.drivers)].filter(Boolean);
  if (mods.length) frag.append(section('modules', 'Modules and symbols', mods));

  const warnings = [...arr(rep.warnings), ...arr(user.warnings), ...arr(kern.warnings), ...arr(triage && triage.warnings)].map((w) => (isObj(w) ? str(w.message) || str(w.text) : str(w))).filter(Boolean);
  if (warnings.length) frag.append(section('warnings', 'Warnings (' + warnings.length + ')', el('ul', { class: 'warnings' }, warnings.slice(0, 500).map((w) => el('li', null, w)))));
  return frag;
}
