// thread_model.js — one flat record per thread, read once from the report
// (the triage part when there is one, else the user threads paired with
// their kernel threads by id), so that grouping, filtering, the table and
// the cards all read the same facts.  Pure data, no DOM.
//
// CPU time: the triage thread's own figure when the analyzer gives one
// (`cpu_ms`, or `user_time_ms` + `kernel_time_ms`), else the user dump's
// ThreadInfoList times, else the kernel thread's KTHREAD tick counts × the
// tick length (the kernel report's wait_seconds / wait_ticks, else 15.625 ms).

import { str, arr, isObj } from './dom.js';
import { frameText, frameModule } from './frames.js';

export const tidKey = (t) => (typeof t === 'number' ? String(t) : str(t));
export const anchor = (t) => 't-' + tidKey(t).replace(/[^0-9A-Za-z_-]/g, '_');
export const tidText = (t) => (typeof t === 'number' && Number.isFinite(t) ? '0x' + t.toString(16) + ' (' + t + ')' : str(t));

const num = (v) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);

function tickMs(kThreads) {
  for (const k of kThreads) {
    const s = num(k.wait_seconds), t = num(k.wait_ticks);
    if (s && t) return (s * 1000) / t;
  }
  return 15.625;
}

function cpuOf(t, u, k, tick) {
  if (num(t.cpu_ms) !== null) return t.cpu_ms;
  const cpu = isObj(t.cpu) ? t.cpu : null;
  if (cpu && num(cpu.total_ms) !== null) return cpu.total_ms;
  if (cpu && num(cpu.ms) !== null) return cpu.ms;
  if (cpu && (num(cpu.user_ms) !== null || num(cpu.kernel_ms) !== null)) return (num(cpu.user_ms) || 0) + (num(cpu.kernel_ms) || 0);
  for (const s of [t, u]) {
    if (s && (num(s.user_time_ms) !== null || num(s.kernel_time_ms) !== null)) return (num(s.user_time_ms) || 0) + (num(s.kernel_time_ms) || 0);
  }
  if (k && (num(k.kernel_time) !== null || num(k.user_time) !== null)) return ((num(k.kernel_time) || 0) + (num(k.user_time) || 0)) * tick;
  return null;
}

/** Which modules are the application's own: the process image and
 *  anything not loaded from the Windows directory. */
export function appModules(user) {
  const set = new Set();
  for (const m of arr(user && user.modules).filter(isObj)) {
    const path = str(m.path) || str(m.filename);
    const sys = /^[a-z]:\\windows\\/i.test(path) || /\\windows\\(system32|syswow64|winsxs)\\/i.test(path) || /^\\systemroot\\/i.test(path);
    if (m.main === true || (!sys && path)) {
      const f = str(m.filename).toLowerCase();
      if (f) set.add(f);
      const short = f.replace(/\.[^.]*$/, '');
      if (short) set.add(short);
    }
  }
  return set;
}

export function isAppFrame(apps) {
  return (f) => {
    if (!isObj(f)) return false;
    const m = str(f.module).split(/[\\/]/).pop().toLowerCase();
    return apps.has(m) || apps.has(frameModule(f).toLowerCase());
  };
}

const RUNNING = new Set(['running', 'ready', 'standby', 'initialized', 'crashed']);

/** Records for every thread of the report, in the analyzer's order. */
export function threadRecords(rep) {
  const user = isObj(rep.user) ? rep.user : {};
  const kern = isObj(rep.kernel) ? rep.kernel : {};
  const triage = isObj(rep.triage) ? rep.triage : null;
  const userThreads = arr(user.threads).filter(isObj);
  const userByTid = new Map(userThreads.map((t) => [tidKey(t.thread_id), t]));
  const userPid = str(isObj(user.process) ? user.process.pid : '') || str(user.pid);
  const kThreads = arr(kern.threads).filter(isObj);
  const kByTid = new Map();
  for (const k of kThreads) {
    const key = tidKey(k.thread_id ?? k.tid);
    if (!kByTid.has(key) || (userPid && str(k.pid) === userPid)) kByTid.set(key, k);
  }
  const tick = tickMs(kThreads);
  const out = [];
  const make = (o) => {
    const stateText = str(o.state);
    const state = stateText.toLowerCase();
    const running = RUNNING.has(state);
    const wait = isObj(o.wait) && !running ? o.wait : null;
    const rec = {
      tid: o.tid, name: o.name || '', state, stateText, stuck: o.stuck === true, idle: o.idle === true,
      unknown: !o.stuck && !o.idle && (state === 'unknown' || state === ''),
      verdict: o.verdict || '', explanation: o.explanation || '', wait,
      waitS: wait && num(wait.seconds) !== null ? wait.seconds : null,
      cpuMs: o.cpuMs, userFrames: arr(o.userFrames), kernelFrames: arr(o.kernelFrames), syscall: o.syscall || null,
      irps: arr(o.irps).filter(isObj), waitsOn: arr(o.waitsOn), blocked: arr(o.blocked),
      top: o.top || frameText(arr(o.userFrames)[0]),
      ktop: o.ktop || frameText(arr(o.kernelFrames).find((f) => isObj(f) && f.folded !== true)),
      category: o.category || '',
    };
    rec.stackKey = rec.userFrames.map(frameText).join('<') + '|' + rec.kernelFrames.filter((f) => isObj(f) && f.folded !== true).map(frameText).join('<');
    const mods = new Set([...rec.userFrames, ...rec.kernelFrames].map((f) => frameModule(f).toLowerCase()).filter(Boolean));
    rec.search = [tidKey(rec.tid), typeof rec.tid === 'number' ? '0x' + rec.tid.toString(16) : '', rec.name, rec.state,
      rec.stuck ? 'stuck' : '', rec.idle ? 'idle' : '', rec.verdict, ...mods,
      ...rec.userFrames.map(frameText), ...rec.kernelFrames.map(frameText)].join('\n').toLowerCase();
    out.push(rec);
  };
  if (triage) {
    for (const t of arr(triage.threads).filter(isObj)) {
      const key = tidKey(t.thread_id);
      const u = userByTid.get(key), k = kByTid.get(key);
      const wait = isObj(t.wait) ? { ...t.wait } : {};
      if (num(wait.seconds) === null && k && num(k.wait_seconds) !== null) wait.seconds = k.wait_seconds;
      make({ tid: t.thread_id, name: str(u && u.thread_name) || str(t.thread_name), state: str(t.state), stuck: t.stuck, idle: t.idle,
        verdict: str(t.verdict), explanation: str(t.explanation) || str(t.idle_reason), wait,
        cpuMs: cpuOf(t, u, k, tick), userFrames: t.user_frames, kernelFrames: t.kernel_frames, syscall: t.syscall,
        irps: arr(t.irps).length ? t.irps : k && k.irps, waitsOn: t.waits_on, blocked: t.blocked_threads,
        top: str(t.blocking_frame), ktop: str(t.driver_frame) || str(t.kernel_wait_frame), category: str(t.category) });
    }
    return out;
  }
  const crashTid = isObj(user.crash_info) ? tidKey(user.crash_info.thread_id) : '';
  const used = new Set();
  for (const u of userThreads) {
    const key = tidKey(u.thread_id);
    const k = userPid ? kThreads.find((x) => tidKey(x.thread_id ?? x.tid) === key && str(x.pid) === userPid) : kByTid.get(key);
    if (k) used.add(k);
    const crashed = crashTid !== '' && key === crashTid;
    make({ tid: u.thread_id, name: str(u.thread_name), state: crashed ? 'crashed' : k ? str(k.state_name) || str(k.state) : '',
      wait: k ? { reason: str(k.wait_reason_name) || str(k.wait_reason), mode: k.wait_mode, alertable: k.alertable,
        seconds: num(k.wait_seconds) ?? num(k.wait_time_s) } : null,
      cpuMs: cpuOf({}, u, k, tick), userFrames: u.frames, kernelFrames: k ? k.frames : [], irps: k && k.irps });
  }
  for (const k of kThreads) {
    if (used.has(k)) continue;
    make({ tid: k.thread_id ?? k.tid, name: [str(k.image) || str(k.label), str(k.pid) ? 'pid ' + str(k.pid) : ''].filter(Boolean).join(', '),
      state: str(k.state_name) || str(k.state), kernelOnly: true,
      wait: { reason: str(k.wait_reason), mode: k.wait_mode, alertable: k.alertable, seconds: num(k.wait_seconds) },
      cpuMs: cpuOf({}, null, k, tick), kernelFrames: k.frames, irps: k.irps });
    out[out.length - 1].kernelOnly = true;
  }
  return out;
}

/** Threads with identical stacks together (WinDbg's !uniqstack), largest
 *  group first, keeping the analyzer's order among equals. */
export function groupByStack(records) {
  const map = new Map();
  for (const r of records) {
    const key = r.stackKey + '#' + (r.stuck ? 's' : r.idle ? 'i' : '');
    if (!map.has(key)) map.set(key, []);
    map.get(key).push(r);
  }
  return [...map.values()].sort((a, b) => b.length - a.length);
}
