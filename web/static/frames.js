// frames.js — how one stack frame reads, the way Windows engineers read it:
// `module!function+0x1a`, else `module+0x1234`, else the bare address; and
// a whole thread as WinDbg `k` text for pasting into a ticket.  Pure
// functions (no DOM), so the same text is on screen and in the clipboard.

import { str, arr, isObj } from './dom.js';

/** A report number or hex string → BigInt, or null.  Addresses are 64-bit,
 *  beyond a JS number's precision, so the report may give them as strings. */
export function toBig(v) {
  try {
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return BigInt(Math.floor(v));
    if (typeof v === 'string') {
      const s = v.trim();
      if (/^0x[0-9a-f]{1,16}$/i.test(s)) return BigInt(s);
      if (/^[0-9]{1,20}$/.test(s)) return BigInt(s);
    }
  } catch { /* not a number */ }
  return null;
}

/** "0x1a" for offsets (lower-case, no padding), '' when absent. */
export function hex(v) {
  const b = toBig(v);
  return b === null ? '' : '0x' + b.toString(16);
}

/** WinDbg's 64-bit address style: 00007ffb`1234abcd (or 8 digits for 32-bit). */
export function windbgAddr(v, bits = 64) {
  const b = toBig(v);
  if (b === null) return bits === 64 ? '????????`????????' : '????????';
  const h = b.toString(16).padStart(bits === 64 ? 16 : 8, '0');
  return bits === 64 ? h.slice(0, -8) + '`' + h.slice(-8) : h;
}

/** Module name as WinDbg shows it, from a module path or file name.  The
 *  analyzer decides module identity (analyzer/base/module.c) and puts the
 *  result in each frame's `module_short`, which frameModule prefers; this
 *  is the fallback for stored reports written before that key, and for
 *  module lists, whose entries carry only a file name.  Same rule: file
 *  name without path or extension, the kernel image `nt`, the HAL `hal`. */
export function moduleName(m) {
  let s = str(m);
  if (!s) return '';
  s = s.split(/[\\/]/).pop();
  const dot = s.lastIndexOf('.');
  if (dot > 0) s = s.slice(0, dot);
  if (/^nt(oskrnl|krnlmp|krnlpa|krpamp|krla57)$/i.test(s)) return 'nt';
  return /^hal(|acpi|aacpi|apic|macpi|mps|sp)$/i.test(s) ? 'hal' : s;
}

/** The module part of a frame's `module!function`: the analyzer's
 *  `module_short` when the report has it. */
export function frameModule(f) {
  if (!isObj(f)) return '';
  return str(f.module_short) || moduleName(f.module);
}

/** The call-site text of a frame: ntdll!NtReadFile+0x14. */
export function frameText(f) {
  if (!isObj(f)) return '';
  // The analyzer's own rendering, when it gives one, is what its verdicts
  // and signatures quote: show the same text.
  if (typeof f.display === 'string' && f.display) return f.display;
  const mod = frameModule(f);
  const fn = str(f.function);
  if (fn) {
    const off = hex(f.function_offset);
    return (mod ? mod + '!' : '') + fn + (off && off !== '0x0' ? '+' + off : '');
  }
  if (mod) {
    const off = hex(f.module_offset);
    return mod + (off ? '+' + off : '');
  }
  return hex(f.ip) || '??';
}

/** "file.c @ 42" when the frame has a source line. */
export function sourceText(f) {
  if (!isObj(f) || !str(f.file)) return '';
  const line = str(f.line);
  return str(f.file) + (line ? ' @ ' + line : '');
}

/** True when addresses in this stack need 64 bits. */
export function is64(frames) {
  return arr(frames).some((f) => { const b = isObj(f) ? toBig(f.ip) : null; return b !== null && b > 0xffffffffn; });
}

/** WinDbg `k`-style lines for a list of frames (innermost first). */
export function kLines(frames, startIndex = 0) {
  const list = arr(frames).filter(isObj);
  const bits = is64(list) ? 64 : 32;
  const w = bits === 64 ? 17 : 8;
  const lines = [' # ' + 'Child-SP'.padEnd(w) + ' ' + 'RetAddr'.padEnd(w) + ' Call Site'];
  list.forEach((f, i) => {
    const next = list[i + 1];
    const num = (startIndex + i).toString(16).padStart(2, '0');
    const src = sourceText(f);
    lines.push(num + ' ' + windbgAddr(f.sp, bits) + ' ' + (next ? windbgAddr(next.ip, bits) : windbgAddr(null, bits).replace(/\?/g, '0')) +
      ' ' + frameText(f) + (src ? ' [' + src + ']' : '') + (f.trust === 'scan' ? '  (scan)' : ''));
  });
  return lines;
}

/** The text behind a thread's "Copy as text" button: a header, then one
 *  combined `k` listing — kernel frames first, then the user frames from
 *  the system call outwards, as a kernel debugger shows a thread in a
 *  syscall — or each stack on its own when they were not paired. */
export function threadText({ title, verdict, userFrames, kernelFrames, syscall }) {
  const out = [];
  if (title) out.push(title);
  if (verdict) out.push(verdict);
  const user = arr(userFrames).filter(isObj);
  const kern = arr(kernelFrames).filter(isObj);
  const uf = isObj(syscall) && Number.isInteger(syscall.user_frame) ? syscall.user_frame : -1;
  if (kern.length && user.length && uf >= 0 && uf < user.length) {
    const all = kern.concat(user.slice(uf));
    out.push(...kLines(all));
  } else {
    if (kern.length) { out.push('Kernel stack:'); out.push(...kLines(kern)); }
    if (user.length) { out.push('User stack:'); out.push(...kLines(user)); }
  }
  return out.join('\n') + '\n';
}
