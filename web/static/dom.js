// dom.js — the only way these pages put text on screen.  Every string that
// comes from a dump, an upload form or the server goes through textContent
// (never innerHTML), so a thread named "<img onerror=…>" stays text.  Also
// the small formatters (bytes, ages, durations) the three pages share.

/** el('td', {class: 'x', title: t}, child, 'text', …) — builds an element.
 *  Attributes are set with setAttribute (values are strings, never markup);
 *  children may be nodes, strings (become text nodes), arrays, null/undefined. */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = String(v);
      else if (k === 'text') node.textContent = String(v);
      else if (k === 'hidden') node.hidden = true;
      else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else if (c instanceof Node) node.appendChild(c);
    else node.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces all children of node. */
export function setChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export function $(sel, root = document) { return root.querySelector(sel); }

/** A value from JSON shown as text: strings as they are, numbers as numbers,
 *  anything else (objects, arrays) not at all — a malformed report must not
 *  print "[object Object]". */
export function str(v) {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return '';
}

export function isObj(v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }
export function arr(v) { return Array.isArray(v) ? v : []; }

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];
/** 1536 → "1.5 KB" (binary multiples, the way file managers show dump sizes). */
export function formatBytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return '';
  let i = 0;
  while (n >= 1024 && i < UNITS.length - 1) { n /= 1024; i++; }
  return (i === 0 ? String(n) : n.toFixed(n >= 100 ? 0 : 1)) + ' ' + UNITS[i];
}

/** Seconds → "42 s", "3 min 5 s", "2 h 10 min", "3 d 4 h". */
export function formatDuration(s) {
  if (typeof s !== 'number' || !Number.isFinite(s) || s < 0) return '';
  s = Math.round(s);
  if (s < 60) return s + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return m + ' min' + (s % 60 ? ' ' + (s % 60) + ' s' : '');
  const h = Math.floor(m / 60);
  if (h < 48) return h + ' h' + (m % 60 ? ' ' + (m % 60) + ' min' : '');
  return Math.floor(h / 24) + ' d' + (h % 24 ? ' ' + (h % 24) + ' h' : '');
}

/** Parses a server or report time: ISO-8601 text or Unix seconds. */
export function parseTime(v) {
  if (typeof v === 'number' && Number.isFinite(v)) return new Date(v * 1000);
  if (typeof v === 'string' && v) {
    const d = new Date(/^\d+$/.test(v) ? Number(v) * 1000 : v);
    if (!Number.isNaN(d.getTime())) return d;
  }
  return null;
}

/** "5 min ago" for a time; '' when unknown. */
export function formatAge(v, now = Date.now()) {
  const d = parseTime(v);
  if (!d) return '';
  const s = (now - d.getTime()) / 1000;
  return s < 5 ? 'just now' : formatDuration(s) + ' ago';
}

/** A time shown in UTC, the zone dump tools and support tickets use. */
export function formatTime(v) {
  const d = parseTime(v);
  if (!d) return str(v);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** Text with line-break opportunities (<wbr>) only after the separators of
 *  Windows names — `!`, `::`, `\`, `/`, `+`, `(`, `,` and before `←` — so
 *  `ntdll!RtlEnterCriticalSection+0x91` wraps at `!` or `+`, never inside
 *  a word (CSS alone either never wraps such a token or breaks it anywhere). */
export function breakable(text) {
  const s = str(text);
  const frag = document.createDocumentFragment();
  const parts = s.split(/(?<=!|::|\\|\/|\+|\(|,|\|)/);
  parts.forEach((p, i) => {
    if (i) frag.appendChild(document.createElement('wbr'));
    frag.appendChild(document.createTextNode(p));
  });
  return frag;
}

/** Length of a string in UTF-8 bytes (the server's text limits count bytes). */
export function utf8Bytes(s) {
  return new TextEncoder().encode(str(s)).length;
}
