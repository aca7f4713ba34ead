// triage_view.js — turns one upload's status and its analyzer report into
// the triage page, in the order a support engineer reads it: what happened
// (verdict panel: crash, bugcheck or hang; captures labelled as such), the
// warnings, the thread to look at first, wait chains and deadlocks, the
// threads (grouped, filterable), then the reference tables (all threads,
// locks, pairing, modules).  The report is untrusted input: any field may
// be missing or of the wrong type, and every string is placed as text.  No
// fetching here except by the staff panels — triage.js fetches the report —
// so a test can render a fixture report directly.

import { el, str, arr, isObj, formatBytes, formatTime } from './dom.js';
import { hex, toBig } from './frames.js';
import { moduleIndex } from './stack_pair.js';
import { verdictPanel, bugcheckLabel } from './verdict_panel.js';
import { threadRecords, appModules, isAppFrame, anchor, tidKey, tidText } from './thread_model.js';
import { threadCard, threadsView, threadLink } from './thread_view.js';
import { threadTable, locksView, chainsView, modulesView } from './facts_view.js';
import { actionsBar } from './page_actions.js';
import { workflowPanel } from './workflow_panel.js';
import { seriesView } from './series_view.js';

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

/** A note longer than a few lines is shown folded, so it never pushes the
 *  verdict off the first screen. */
function noteNode(note) {
  if (!note) return '';
  const lines = note.split(/\r?\n/);
  if (note.length <= 240 && lines.length <= 3) return el('span', { class: 'note' }, note);
  const short = lines.slice(0, 2).join(' ').slice(0, 200);
  return el('details', { class: 'note' }, el('summary', null, short + '… (' + note.length + ' characters, show all)'), el('p', { class: 'note-full' }, note));
}

/** Header facts from the status record (may be null) and the report. */
export function renderHeader(status, report, opts = {}) {
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
  // A live kernel dump (procdump -mk: code 0 or LIVE_SYSTEM_DUMP 0x161) or
  // a forced one is a capture, not a crash: labelled so.
  const bl = bugcheckLabel(kern);
  const bugLabel = bl ? (bl.capture ? 'Capture' : 'Bugcheck') : 'Bugcheck';
  const bugText = bl ? bl.text : toBig(sum.bugcheck) === 0n ? '' : str(sum.bugcheck);
  const ci = isObj(user.crash_info) ? user.crash_info : null;
  const tidText = (t) => (typeof t === 'number' ? '0x' + t.toString(16) + ' (' + t + ')' : str(t));
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

  const facts = dl([
      ['Image', image],
      ['OS', [os, str(ksys.build) ? 'build ' + str(ksys.build) : ''].filter(Boolean).join(' — ')],
      ['CPU', [str(sys.cpu_arch), str(ksys.machine) && str(ksys.machine) !== str(sys.cpu_arch) ? str(ksys.machine) : '',
        str(sys.cpu_count) ? str(sys.cpu_count) + ' CPUs' : ''].filter(Boolean).join(', ')],
      ['Dumps', dumpKinds.join(', ')],
      ['Files', files],
      ['Times', times.length ? el('ul', { class: 'plain' }, times.map((t) => el('li', null, t))) : ''],
      [bugLabel, bugText],
      ['Exception', excText],
      ['Case', str(st.case_id)],
      ['Customer', str(st.customer)],
      ['Note', noteNode(str(st.note))],
    ]);
  // With a report the title goes first and these facts below the lead
  // thread (the verdict must be on the first screen); without one, together.
  if (opts.split) {
    return { title: el('h1', { id: 'summary-h', class: 'page-title' }, title),
      facts: el('section', { id: 'summary', class: 'panel summary', 'aria-labelledby': 'summary-facts-h' }, el('h2', { id: 'summary-facts-h' }, 'The dumps'), facts) };
  }
  return el('section', { id: 'summary', class: 'panel summary', 'aria-labelledby': 'summary-h' }, el('h1', { id: 'summary-h' }, title), facts);
}

/** How well the two dumps match (same process, same time) and which
 *  threads are only in one of them: a reader must know before trusting a
 *  pairing. */
function renderPairing(triage) {
  const checks = arr(triage.checks).filter(isObj);
  const unpaired = arr(triage.unpaired).filter(isObj);
  if (!checks.length && !unpaired.length) return null;
  const parts = [];
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

/** Every warning once: the top-level list repeats each section's warnings
 *  with the section's name in front ("user: …"), and the sections keep
 *  their own copies. */
export function uniqueWarnings(rep) {
  const user = isObj(rep.user) ? rep.user : {}, kern = isObj(rep.kernel) ? rep.kernel : {}, tri = isObj(rep.triage) ? rep.triage : {};
  const seen = new Set();
  const out = [];
  const add = (w, section) => {
    const text = isObj(w) ? str(w.message) || str(w.text) : str(w);
    if (!text) return;
    const bare = text.replace(/^(user|kernel|triage|series|symbols|analysis): /i, '');
    const key = bare.trim().toLowerCase();
    if (seen.has(key)) return;
    seen.add(key);
    const m = /^(user|kernel|triage|series|symbols): /i.exec(text);
    out.push({ section: m ? m[1].toLowerCase() : section, text: bare });
  };
  for (const w of arr(rep.warnings)) add(w, '');
  for (const [list, name] of [[user.warnings, 'user'], [kern.warnings, 'kernel'], [tri.warnings, 'triage']]) for (const w of arr(list)) add(w, name);
  const dump = isObj(kern.dump) ? kern.dump : null;
  if (dump && dump.truncated === true) add('the kernel dump is truncated' + (typeof dump.size === 'number' && typeof dump.expected_size === 'number' ? ' (' + formatBytes(dump.size) + ' of ' + formatBytes(dump.expected_size) + ')' : '') + ': what lies beyond its end is missing', 'kernel');
  const mem = isObj(user.memory) ? user.memory : null;
  if (mem && typeof mem.missing_bytes === 'number' && mem.missing_bytes > 0) add('the user dump is truncated: ' + formatBytes(mem.missing_bytes) + ' of its memory lie beyond the end of the file', 'user');
  return out;
}

function warningsBanner(list) {
  if (!list.length) return null;
  // Compact, so the verdict and the lead thread stay on the first screen:
  // three lines cut to one line each (whole on hover and focus), the rest folded.
  const shown = list.slice(0, 3);
  const more = list.slice(3, 500);
  return el('section', { id: 'warnings', class: 'banner warn', 'aria-labelledby': 'warnings-h' },
    el('h2', { id: 'warnings-h' }, list.length === 1 ? 'Warning: read this result with care' : list.length + ' warnings: read this result with care'),
    el('ul', { class: 'warnings' }, shown.map((w) => el('li', { class: 'cliptext', tabindex: '0', title: w.text }, w.section ? el('span', { class: 'wsec' }, w.section + ': ') : null, w.text))),
    more.length ? el('details', null, el('summary', null, more.length + ' more'), el('ul', { class: 'warnings' }, more.map((w) => el('li', null, w.text)))) : null);
}

function similarLink(sig) {
  if (!sig) return null;
  return el('p', { class: 'similar' }, el('a', { href: '/signature?s=' + encodeURIComponent(sig), id: 'similar-link' }, 'Similar hangs: all uploads with this signature'));
}

/** The whole report.  Returns a DocumentFragment; frag.reveal(tid) opens
 *  what hides a thread.  opts: {role, id} — staff get the actions and the
 *  workflow, and see the server's symbol paths. */
export function renderReport(status, report, opts = {}) {
  const rep = isObj(report) ? report : {};
  const user = isObj(rep.user) ? rep.user : {};
  const kern = isObj(rep.kernel) ? rep.kernel : {};
  const triage = isObj(rep.triage) ? rep.triage : null;
  const staff = opts.role === 'staff';
  const ctx = { modules: moduleIndex(user.modules, kern.drivers), isApp: isAppFrame(appModules(user)) };
  const records = threadRecords(rep);
  const names = new Map(records.filter((r) => r.name).map((r) => [tidKey(r.tid), r.name]));
  const frag = document.createDocumentFragment();
  const header = renderHeader(status, rep, { split: true });
  frag.append(header.title);

  const verdict = verdictPanel(rep, triage, (t) => threadLink(t, 'Thread ' + tidText(t) + (names.get(tidKey(t)) ? ' “' + names.get(tidKey(t)) + '”' : '')));
  frag.append(verdict.node);
  const sig = str(triage && triage.primary && triage.primary.signature) || str(triage && triage.signature);
  if (opts.role === 'staff' || opts.role === 'uploader') { const s = similarLink(sig); if (s) verdict.node.append(s); }
  // Several dumps of one hang: the series' verdict comes right after the
  // newest snapshot's (a thread that moved is not stuck).
  const series = seriesView(rep);
  if (series) frag.append(series);
  const banner = warningsBanner(uniqueWarnings(rep));
  if (banner) frag.append(banner);

  let leadTid = verdict.leadTid;
  const lead = leadTid !== undefined ? records.find((r) => tidKey(r.tid) === tidKey(leadTid)) : null;
  if (!lead) leadTid = undefined;
  if (lead) {
    frag.append(el('section', { id: 'lead', class: 'panel lead-panel', 'aria-labelledby': 'lead-h' },
      el('h2', { id: 'lead-h' }, verdict.kind === 'exception' ? 'Crashing thread' : verdict.kind === 'bugcheck' ? 'Thread at the bugcheck' : 'Primary thread'),
      threadCard(lead, ctx, { lead: true })));
  } else if (verdict.kind === 'bugcheck' && isObj(kern.bugcheck) && arr(kern.bugcheck.context_frames).length) {
    frag.append(el('section', { id: 'lead', class: 'panel lead-panel' }, el('h2', null, 'Stack at the bugcheck'),
      threadCard({ tid: 'bugcheck', name: '', state: '', stuck: false, verdict: '', explanation: '', wait: null, waitS: null, cpuMs: null,
        userFrames: [], kernelFrames: arr(kern.bugcheck.context_frames), syscall: null, irps: [], waitsOn: [], blocked: [] }, ctx, { id: false })));
  }
  frag.append(header.facts);
  if (!triage && records.length) {
    frag.append(el('p', { class: 'notice' }, 'The triage part of the analysis is not available: showing each thread’s stacks as found.'));
  } else if (!records.length) {
    frag.append(el('p', { class: 'notice' }, 'The report lists no threads: the analyzer found none it could read in these dumps.'));
  }
  if (staff && opts.id) frag.append(workflowPanel(opts.id));
  const actions = actionsBar(status, opts.role, opts.id || str(isObj(status) ? status.id : ''));
  if (actions) frag.append(actions);

  const chains = chainsView(rep, records);
  if (chains) frag.append(chains);
  if (triage) { const d = renderDeadlocks(triage, names); if (d) frag.append(d); }

  const view = threadsView(records.filter((r) => !r.kernelOnly), ctx, leadTid);
  frag.append(view.node);
  const kOnly = records.filter((r) => r.kernelOnly);
  if (kOnly.length) {
    const det = el('details', { open: records.length === kOnly.length ? true : null }, el('summary', null, el('h2', { id: 'kernel-threads-h' }, 'Kernel threads (' + kOnly.length + ')')));
    let built = false;
    const build = () => { if (!built) { built = true; det.append(...kOnly.slice(0, 2000).map((r) => threadCard(r, ctx))); } };
    if (det.open) build();
    det.addEventListener('toggle', () => { if (det.open) build(); });
    frag.append(el('section', { id: 'kernel-threads', class: 'panel', 'aria-labelledby': 'kernel-threads-h' }, det));
  }

  const table = threadTable(records);
  if (table) frag.append(table);
  if (records.length) frag.append(locksView(rep, records));
  const pairingNode = triage ? renderPairing(triage) : null;
  if (pairingNode) frag.append(pairingNode);
  const mods = modulesView(rep, staff);
  if (mods) frag.append(mods);
  frag.reveal = view.reveal;
  return frag;
}
