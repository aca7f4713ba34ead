// stack_pair.js — one thread's user stack beside its kernel stack, joined at
// the system call: the user frame that entered the kernel (ntdll!NtReadFile)
// sits on the same row as the kernel frame that serves it (nt!NtReadFile),
// so the reader sees one continuous stack bent in two.  Frames the dump
// writer itself put there (folded "snapshot" frames) are hidden behind a
// toggle; stack-scanned frames and modules without symbols are marked.

import { el, str, arr, isObj, breakable } from './dom.js';
import { frameText, sourceText, hex, moduleName, frameModule } from './frames.js';

/** Picks the syscall join when the analyzer did not: the first ntdll
 *  NtXxx/ZwXxx frame in user mode and the kernel frame nt!Nt<same name>. */
export function guessSyscall(userFrames, kernelFrames) {
  const user = arr(userFrames), kern = arr(kernelFrames);
  for (let u = 0; u < Math.min(user.length, 8); u++) {
    const f = user[u];
    if (!isObj(f) || frameModule(f).toLowerCase() !== 'ntdll') continue;
    const m = /^(?:Nt|Zw)(\w+)$/.exec(str(f.function));
    if (!m) continue;
    const k = kern.findIndex((kf) => isObj(kf) && /^(?:Nt|Zw)(\w+)$/.test(str(kf.function)) &&
      str(kf.function).slice(2) === m[1]);
    if (k >= 0) return { user_frame: u, kernel_frame: k, name: 'Nt' + m[1] };
  }
  return null;
}

/** Row alignment: [{u, k}] with frame indexes or -1 for an empty cell. */
export function alignRows(nUser, nKernel, syscall) {
  let uf = -1, kf = -1;
  if (isObj(syscall) && Number.isInteger(syscall.user_frame) && Number.isInteger(syscall.kernel_frame) &&
      syscall.user_frame >= 0 && syscall.user_frame < nUser && syscall.kernel_frame >= 0 && syscall.kernel_frame < nKernel) {
    uf = syscall.user_frame; kf = syscall.kernel_frame;
  }
  const padU = uf >= 0 ? Math.max(0, kf - uf) : 0;
  const padK = uf >= 0 ? Math.max(0, uf - kf) : 0;
  const n = Math.max(nUser + padU, nKernel + padK);
  const rows = [];
  for (let r = 0; r < n; r++) {
    const u = r - padU, k = r - padK;
    rows.push({ u: u >= 0 && u < nUser ? u : -1, k: k >= 0 && k < nKernel ? k : -1, syscall: uf >= 0 && u === uf });
  }
  return rows;
}

/** A lookup of module symbol status by lower-case file name. */
export function moduleIndex(...lists) {
  const map = new Map();
  for (const list of lists) {
    for (const m of arr(list)) {
      if (!isObj(m)) continue;
      const name = str(m.filename).split(/[\\/]/).pop().toLowerCase();
      if (name) map.set(name, m);
      const short = moduleName(m.filename).toLowerCase();
      if (short && !map.has(short)) map.set(short, m);
    }
  }
  return map;
}

function badge(cls, text, title) {
  return el('span', { class: 'badge ' + cls, title }, text);
}

/** The cells' content for one frame. */
export function frameNode(f, modules) {
  if (!isObj(f)) return null;
  const modKey = str(f.module).split(/[\\/]/).pop().toLowerCase();
  const mod = modules && (modules.get(modKey) || modules.get(frameModule(f).toLowerCase()));
  const src = sourceText(f);
  const call = el('span', { class: 'call', title: f.ip !== undefined ? 'ip ' + hex(f.ip) + (f.sp !== undefined ? '  sp ' + hex(f.sp) : '') : null },
    breakable(frameText(f)));
  return el('div', { class: 'frame' + (f.trust === 'scan' ? ' trust-scan' : '') + (f.folded ? ' folded' : '') },
    call,
    f.trust === 'scan' ? badge('scan', 'scan', 'Found by stack scanning: this frame may be a stale return address') : null,
    mod && mod.missing_symbols === true ? badge('nosym', 'no symbols', 'No symbols were found for ' + str(mod.filename)) : null,
    f.folded ? badge('fold', 'snapshot', str(f.fold_reason) || 'folded') : null,
    src ? el('div', { class: 'src' }, src) : null);
}

/** The side-by-side table.  With only one of the two stacks it is a single
 *  column; `syscall` may be null (then guessed, then top-aligned). */
export function stackPairTable({ userFrames, kernelFrames, syscall, modules, label, isApp }) {
  const user = arr(userFrames), kern = arr(kernelFrames);
  const hasUser = user.length > 0, hasKern = kern.length > 0;
  const join = hasUser && hasKern ? (isObj(syscall) ? syscall : guessSyscall(user, kern)) : null;
  const rows = alignRows(user.length, kern.length, join);
  const table = el('table', { class: 'stacks' + (hasUser && hasKern ? ' pair' : ' single'), 'aria-label': label || 'Stacks' });
  const head = el('tr', null);
  if (hasUser) head.append(el('th', { class: 'num', scope: 'col' }, '#'), el('th', { scope: 'col' }, 'User stack'));
  if (hasKern) head.append(el('th', { class: 'num', scope: 'col' }, '#'), el('th', { scope: 'col' }, 'Kernel stack'));
  table.append(el('thead', null, head));
  const body = el('tbody');
  table.append(body);

  const cells = (tr, idx, frames, side) => {
    const f = idx >= 0 ? frames[idx] : null;
    tr.append(el('td', { class: 'num ' + side }, idx >= 0 ? idx.toString(16).padStart(2, '0') : ''),
      el('td', { class: 'fr ' + side + (idx < 0 ? ' empty' : '') }, idx >= 0 ? frameNode(f, modules) : null));
  };

  const groups = [];
  const setFoldLabel = (g, open) => { g.btn.textContent = (open ? '▾ hide ' : '▸ show ') + g.rows.length + ' folded frame' + (g.rows.length > 1 ? 's' : '') + ' (' + g.reason + ')'; };
  let foldGroup = null;
  for (const row of rows) {
    const kf = row.k >= 0 ? kern[row.k] : null;
    const foldable = isObj(kf) && kf.folded === true && row.u < 0;
    if (foldable && !foldGroup) {
      const reason = str(kf.fold_reason) || 'folded';
      const btn = el('button', { type: 'button', class: 'linkish', 'aria-expanded': 'false' });
      foldGroup = { rows: [], btn, reason };
      groups.push(foldGroup);
      const group = foldGroup;
      btn.addEventListener('click', () => {
        const open = btn.getAttribute('aria-expanded') !== 'true';
        btn.setAttribute('aria-expanded', String(open));
        for (const r of group.rows) r.hidden = !open;
        setFoldLabel(group, open);
      });
      body.append(el('tr', { class: 'foldrow' }, el('td', { colspan: String((hasUser ? 2 : 0) + (hasKern ? 2 : 0)) }, btn)));
    } else if (!foldable) {
      foldGroup = null;
    }
    const tr = el('tr', { class: row.syscall ? 'syscall' : null });
    // Rows holding only a user frame outside the application's own modules
    // (system DLLs below the syscall) can be hidden per stack.
    if (isApp && row.k < 0 && row.u >= 0 && isObj(user[row.u]) && !isApp(user[row.u]) && !row.syscall) tr.classList.add('nonapp');
    if (hasUser) cells(tr, row.u, user, 'user');
    if (hasKern) cells(tr, row.k, kern, 'kernel');
    if (row.syscall) tr.setAttribute('title', 'System call' + (join && str(join.name) ? ': ' + str(join.name) : '') + ' — user mode enters the kernel here');
    if (foldable) { tr.hidden = true; tr.classList.add('folded-row'); foldGroup.rows.push(tr); }
    body.append(tr);
  }
  for (const g of groups) setFoldLabel(g, false);
  return table;
}
