// hostile.mjs — strings a dump, an upload form or a server reply may carry
// that must stay text on every page: markup that runs script when parsed
// as HTML (sets window.__xss), `javascript:` URLs, right-to-left override,
// very long values, and unusual but valid UTF-8.  `hostilize` puts a
// distinct one in every string field of a JSON value; `assertInert` and
// `missingText` check a rendered page.

import assert from 'node:assert/strict';

export const XSS_IMG = '<img src=x onerror="window.__xss=1">';

// Each payload carries a tag so every field's text is distinct and findable.
// Payload 0 has no '.', '/' or '\\': module names pass through the page's
// file-name-to-module rule (frames.js moduleName) unchanged.
export const PAYLOADS = [
  (t) => `<img src=x onerror="window['__xss']=1">${t}`,
  (t) => `"><script>window.__xss=2</script>${t}`,
  (t) => `javascript:window.__xss=3//${t}`,
  (t) => `\u202Eexe.${t}\u202C<svg onload="window.__xss=4"></svg>`,
  (t) => `${t}<b onmouseover="window.__xss=5">` + 'W'.repeat(4000) + '</b>',
  (t) => `Ã©\uFEFF\u200B${t}\u{1F4A3}e\u0301\uFFFD\u0000\u{10FFFD}<iframe src="javascript:window.__xss=6"></iframe>`,
];

export function hostile(tag, i = 0) { return PAYLOADS[i % PAYLOADS.length](tag); }

/** Replaces, in place, every string value in `value` (objects and arrays,
 *  any depth) whose key is not in `keep` with a distinct hostile string.
 *  Keys in `moduleKeys` get payload 0 (see above).  Returns the list of
 *  {path, text} replaced. */
export function hostilize(value, { keep = new Set(), moduleKeys = new Set(['module']), prefix = 'H' } = {}) {
  const out = [];
  let n = 0;
  const walk = (node, path) => {
    if (Array.isArray(node)) { node.forEach((v, i) => { if (typeof v === 'string') { node[i] = next(path + '[' + i + ']', ''); } else walk(v, path + '[' + i + ']'); }); return; }
    if (node === null || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (typeof v === 'string') { if (!keep.has(k)) node[k] = next(path + '.' + k, k); } else walk(v, path + '.' + k);
    }
  };
  const next = (path, key) => {
    const tag = `${prefix}${n}x`;
    const text = moduleKeys.has(key) ? hostile(tag, 0) : hostile(tag, n);
    n++;
    out.push({ path, text });
    return text;
  };
  walk(value, prefix);
  return out;
}

/** The strings in a JSON value that look hostile (markup, a javascript:
 *  URL, a direction override, more than 1000 characters), as {path, text}
 *  with the same paths `hostilize` gives. */
export function hostileStrings(value, prefix = 'H') {
  const out = [];
  const bad = (s) => /[<>]|javascript:|\u202E/i.test(s) || s.length > 1000;
  const walk = (node, path) => {
    if (typeof node === 'string') { if (bad(node)) out.push({ path, text: node }); return; }
    if (Array.isArray(node)) { node.forEach((v, i) => walk(v, path + '[' + i + ']')); return; }
    if (node === null || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) walk(v, path + '.' + k);
  };
  walk(value, prefix);
  return out;
}

/** After rendering: no payload ran, no element came from data (the pages'
 *  own markup has no img/script/iframe/svg/object/embed in <body>), no
 *  event-handler attribute or javascript: link exists, nothing was
 *  reported (dialog, CSP violation, page error). */
export async function assertInert(page, what = '') {
  await page.waitForTimeout(250); // an <img onerror> fires after its load fails
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'no injected script ran ' + what);
  const found = await page.evaluate(() => {
    const bad = [...document.body.querySelectorAll('img, script, iframe, svg, object, embed, b, style, link')].map((e) => e.outerHTML.slice(0, 80));
    for (const e of document.body.querySelectorAll('*')) {
      for (const a of e.attributes) {
        if (/^on/i.test(a.name)) bad.push(e.tagName + ' ' + a.name);
        if ((a.name === 'href' || a.name === 'src') && /^\s*javascript:/i.test(a.value)) bad.push(e.tagName + ' ' + a.name + '=' + a.value.slice(0, 40));
      }
    }
    return bad;
  });
  assert.deepEqual(found, [], 'no element or attribute made from data ' + what);
  assert.deepEqual(page.problems, [], 'no dialog, CSP violation or page error ' + what);
}

/** The replaced strings that do not appear, whole, as text of `selector`;
 *  `shownAs(path, text)` gives the form the page shows a value in when it
 *  transforms it (e.g. lower-cases it), else the text itself. */
export async function missingText(page, selector, replaced, shownAs = (p, t) => t) {
  const text = await page.$eval(selector, (n) => n.textContent);
  return replaced.filter((r) => !text.includes(shownAs(r.path, r.text))).map((r) => r.path);
}
