// verdict_panel.js — the first thing on the triage page: what happened.
// A crash leads with its exception (type, address, faulting module and the
// crashing thread's registers, like WinDbg's .ecxr); a bugcheck with its
// name, decoded parameters and the faulting driver frame; a live or forced
// kernel dump (LIVE_SYSTEM_DUMP 0x161, MANUALLY_INITIATED_CRASH) is a
// capture, not a crash, and the hang verdict leads.  The page only reads
// what the report decided (triage.crash, triage.primary); the bugcheck
// parameter names are documentation (Microsoft's bug check reference).

import { el, str, arr, isObj } from './dom.js';
import { hex, toBig } from './frames.js';

/** Bugchecks that mean "someone asked for a dump", not "the system died". */
const CAPTURES = new Map([
  [0x161n, 'LIVE_SYSTEM_DUMP'], [0xe2n, 'MANUALLY_INITIATED_CRASH'], [0xdeaddeadn, 'MANUALLY_INITIATED_CRASH1'],
  [0x1c8n, 'MANUALLY_INITIATED_POWER_BUTTON_HOLD'], [0x15fn, 'CONNECTED_STANDBY_WATCHDOG_TIMEOUT_LIVEDUMP'],
  [0x1b8n, 'MINICALL_ATTEMPT_TO_UNWIND_FROM_LIVE_DUMP'],
]);

/** Parameter meanings of the common bugchecks (the _M variants, code |
 *  0x10000000, mean the same). */
const PARAMS = new Map([
  [0x0an, ['memory referenced', 'IRQL', 'operation (0 read, 1 write, 8 execute)', 'address that referenced memory']],
  [0xd1n, ['memory referenced', 'IRQL', 'operation (0 read, 1 write, 8 execute)', 'address that referenced memory']],
  [0x1en, ['exception code', 'address of the exception', 'parameter 0 of the exception', 'parameter 1 of the exception']],
  [0x7en, ['exception code', 'address of the exception', 'exception record', 'context record']],
  [0x8en, ['exception code', 'address of the exception', 'trap frame', 'reserved']],
  [0x3bn, ['exception code', 'address of the exception', 'context record', 'reserved']],
  [0x50n, ['memory referenced', 'operation (0 read, 1 write, 2 execute)', 'address that referenced memory', 'type of read']],
  [0x9fn, ['subcode (3: a device object blocked an IRP too long)', 'physical device object', 'nt!TRIAGE_9F_POWER / functional device object', 'blocked IRP']],
  [0xefn, ['process object', 'trigger', 'reserved', 'reserved']],
  [0x133n, ['subcode (0: a single DPC ran too long, 1: the system spent too long at DISPATCH_LEVEL)', 'time (ticks)', 'limit (ticks)', 'extra data']],
  [0x139n, ['kind of corruption (3: LIST_ENTRY)', 'trap frame', 'exception record', 'reserved']],
  [0x1an, ['subtype', 'detail', 'detail', 'detail']],
  [0xc2n, ['kind of bad pool request', 'detail', 'detail', 'detail']],
  [0x19n, ['kind of pool corruption', 'detail', 'detail', 'detail']],
  [0xf4n, ['object type (3: process, 6: thread)', 'object', 'image name', 'message']],
]);

const EXCEPTIONS = new Map([
  [0xc0000005n, 'access violation'], [0xc0000409n, 'stack buffer overrun / fail fast'], [0x80000003n, 'breakpoint'],
  [0xc00000fdn, 'stack overflow'], [0xc0000094n, 'integer divide by zero'], [0xc000001dn, 'illegal instruction'],
  [0xc0000374n, 'heap corruption'], [0xe06d7363n, 'C++ exception'], [0xc0000006n, 'in-page error'],
]);

/** {code: BigInt, name, capture: bool} of the kernel part's bugcheck, or null. */
export function bugcheckOf(kern) {
  const b = isObj(kern) && isObj(kern.bugcheck) ? kern.bugcheck : null;
  if (!b) return null;
  const code = toBig(b.code);
  if (code === null) return null;
  const base = code & 0x0fffffffn;
  // A procdump -mk dump of a running system says code 0: nothing happened.
  if (code === 0n) return { code, base: 0n, name: str(b.name) || 'LIVE_SYSTEM_DUMP', capture: true, live: true, params: [] };
  return { code, base, name: str(b.name) || CAPTURES.get(code) || '', capture: CAPTURES.has(code), params: arr(b.parameters), live: code === 0x161n };
}

/** "0x1000007E" as WinDbg prints bugcheck codes. */
export function codeText(code) {
  return '0x' + code.toString(16).toUpperCase().padStart(8, '0');
}

/** The words for the header and the list: "Capture: LIVE_SYSTEM_DUMP (0x161)" or "Bugcheck 0x…". */
export function bugcheckLabel(kern) {
  const b = bugcheckOf(kern);
  if (!b) return null;
  return { capture: b.capture, text: (b.capture ? 'capture — ' : '') + [b.code ? codeText(b.code) : '', b.name].filter(Boolean).join(' ') };
}

function paramTable(b) {
  const names = PARAMS.get(b.base) || [];
  const params = b.params.slice(0, 4);
  if (!params.length) return null;
  return el('table', { class: 'grid params' },
    el('thead', null, el('tr', null, el('th', { scope: 'col' }, 'Parameter'), el('th', { scope: 'col' }, 'Value'), el('th', { scope: 'col' }, 'Meaning'))),
    el('tbody', null, params.map((p, i) => {
      let meaning = names[i] || '';
      const v = toBig(p);
      if (meaning.startsWith('exception code') && v !== null) {
        const e = EXCEPTIONS.get(v & 0xffffffffn);
        if (e) meaning += ': ' + e;
      }
      return el('tr', null, el('td', null, String(i + 1)), el('td', { class: 'mono' }, hex(p) || str(p)), el('td', null, meaning));
    })));
}

/** Registers as .ecxr prints them, in the usual order. */
function registerBlock(regs) {
  if (!isObj(regs)) return null;
  const order = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rip', 'rsp', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'eflags',
    'eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'eip', 'esp', 'ebp', 'pc', 'sp', 'lr', 'fp', 'cpsr'];
  const names = order.filter((n) => n in regs).concat(Object.keys(regs).filter((n) => !order.includes(n) && /^x\d+$/.test(n)));
  if (!names.length) return null;
  const wide = names.some((n) => { const v = toBig(regs[n]); return v !== null && v > 0xffffffffn; });
  const text = names.map((n) => n + '=' + (toBig(regs[n]) ?? 0n).toString(16).padStart(wide && n !== 'eflags' ? 16 : 8, '0'));
  const lines = [];
  for (let i = 0; i < text.length; i += 3) lines.push(text.slice(i, i + 3).join(' '));
  return el('pre', { class: 'registers', 'aria-label': 'Registers of the crashing thread' }, lines.join('\n'));
}

/** The verdict panel: {node, leadTid, kind} where leadTid is the thread to
 *  show right below it (crashing or primary), kind 'exception' | 'bugcheck' | 'hang' | 'none'. */
export function verdictPanel(rep, triage, link) {
  const user = isObj(rep.user) ? rep.user : {};
  const kern = isObj(rep.kernel) ? rep.kernel : {};
  const t = isObj(triage) ? triage : {};
  const crash = isObj(t.crash) ? t.crash : null;
  const ci = isObj(user.crash_info) ? user.crash_info : null;
  const bug = bugcheckOf(kern);
  const primary = isObj(t.primary) ? t.primary : null;
  const sig = str(primary && primary.signature) || str(t.signature);
  const sigRow = sig ? el('p', { class: 'sigline' }, el('span', { class: 'muted' }, 'Signature '), el('code', { class: 'signature' }, sig)) : null;
  const capture = bug && bug.capture
    ? el('p', { class: 'capture' }, el('span', { class: 'badge capture' }, 'capture'), ' ',
      bug.code ? 'Kernel dump taken on request — ' + [codeText(bug.code), bug.name].filter(Boolean).join(' ') + ': not a crash.'
        : 'Live kernel dump (procdump -mk): taken from a running system, not a crash.')
    : null;

  const kind = crash ? (str(crash.kind) === 'bugcheck' ? 'bugcheck' : 'exception')
    : ci && !triage ? 'exception' : bug && !bug.capture && !triage ? 'bugcheck' : primary ? 'hang' : 'none';

  const head = (title, cls) => [el('h2', { id: 'primary-h' }, title), el('span', { class: 'badge kind ' + cls }, cls)];
  let body = [];
  let leadTid;
  if (kind === 'exception') {
    const c = crash || {};
    const type = str(c.type) || str(ci && ci.type);
    const code = toBig(c.code ?? (ci && ci.code));
    const module = str(ci && ci.module);
    leadTid = c.thread_id ?? (ci && ci.thread_id);
    const regsThread = ci ? arr(user.threads).filter(isObj).find((u) => u.thread_id === leadTid) : null;
    body = [
      el('p', { class: 'verdict big' }, (type || 'Exception') + (code !== null && EXCEPTIONS.has(code) ? ' — ' + EXCEPTIONS.get(code) : '')),
      el('dl', { class: 'facts tight' },
        code !== null ? el('div', null, el('dt', null, 'Code'), el('dd', { class: 'mono' }, '0x' + code.toString(16).padStart(8, '0'))) : null,
        hex(ci && ci.instruction) ? el('div', null, el('dt', null, 'Instruction'), el('dd', { class: 'mono' }, hex(ci.instruction))) : null,
        hex(c.address ?? (ci && ci.address)) ? el('div', null, el('dt', null, /ACCESS_VIOLATION|IN_PAGE/.test(type) ? 'Data address' : 'Address'), el('dd', { class: 'mono' }, hex(c.address ?? ci.address))) : null,
        module || str(c.top_frame) ? el('div', null, el('dt', null, 'Faulting'), el('dd', { class: 'mono' }, str(c.top_frame) || module)) : null,
        str(c.first_app_frame) && str(c.first_app_frame) !== str(c.top_frame) ? el('div', null, el('dt', null, 'First app frame'), el('dd', { class: 'mono' }, str(c.first_app_frame))) : null,
        leadTid !== undefined ? el('div', null, el('dt', null, 'Thread'), el('dd', null, link(leadTid))) : null,
        str(ci && ci.assertion) ? el('div', null, el('dt', null, 'Assertion'), el('dd', null, str(ci.assertion))) : null),
      registerBlock(regsThread && regsThread.registers)];
  } else if (kind === 'bugcheck') {
    const c = crash || {};
    const code = toBig(c.code) ?? (bug ? bug.code : null);
    const b = bug || { base: code === null ? 0n : code & 0x0fffffffn, params: arr(c.parameters) };
    if (!b.params.length) b.params = arr(c.parameters);
    leadTid = c.thread_id;
    body = [
      el('p', { class: 'verdict big' }, [str(c.name) || (bug && bug.name) || 'Bugcheck', code !== null ? '(' + codeText(code) + ')' : ''].filter(Boolean).join(' ')),
      el('dl', { class: 'facts tight' },
        str(c.faulting_module) ? el('div', null, el('dt', null, 'Faulting'), el('dd', { class: 'mono' }, str(c.faulting_module))) : null,
        str(c.driver_frame) ? el('div', null, el('dt', null, 'Driver frame'), el('dd', { class: 'mono' }, str(c.driver_frame))) : null,
        leadTid !== undefined ? el('div', null, el('dt', null, 'Thread'), el('dd', null, link(leadTid))) : null),
      paramTable(b)];
  } else if (kind === 'hang') {
    leadTid = primary.thread_id;
    body = [el('p', { class: 'verdict big' }, str(primary.verdict) || 'No verdict'),
      str(primary.explanation) ? el('p', { class: 'explanation' }, str(primary.explanation)) : null,
      leadTid !== undefined ? el('p', { class: 'leadline' }, 'Primary thread: ', link(leadTid)) : null];
  } else {
    body = [el('p', { class: 'verdict big' }, triage ? 'No thread was judged stuck.' : 'No verdict: the report has no triage part.')];
  }
  const title = { exception: 'Crash', bugcheck: 'Bugcheck', hang: 'Hang verdict', none: 'Verdict' }[kind];
  const node = el('section', { id: 'primary', class: 'panel primary verdict-' + kind, 'aria-labelledby': 'primary-h' },
    el('div', { class: 'panel-head' }, ...head(title, kind === 'none' ? 'no verdict' : kind)), capture, ...body, sigRow);
  return { node, leadTid, kind, capture: !!(bug && bug.capture) };
}
