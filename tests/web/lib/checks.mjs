// checks.mjs — page checks shared by the #17 tests: no horizontal overflow
// at a width (with a screenshot for a person), an element inside the first
// screen, and axe-core's accessibility rules (serious and critical
// violations fail).  axe runs through DevTools evaluation, so the pages'
// Content-Security-Policy needs no exception.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { screenshot } from './browser.mjs';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Resizes to width×height, saves `name-width.png`, returns the overflow
 *  (document scroll width minus viewport width; 0 is right). */
export async function overflowAt(page, width, name, height = 800) {
  await page.setViewportSize({ width, height });
  await page.waitForTimeout(50);
  await screenshot(page, name + '-' + width);
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/** True when the element's top and at least its first 40 px lie in the
 *  viewport at scroll position 0. */
export async function inFirstScreen(page, selector) {
  await page.evaluate(() => window.scrollTo(0, 0));
  return page.$eval(selector, (e) => {
    const r = e.getBoundingClientRect();
    return r.top >= 0 && r.top + Math.min(40, r.height) <= window.innerHeight && r.height > 0;
  });
}

/** axe-core's serious and critical violations, as "rule: target" lines. */
export async function axeSerious(page) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(AXE);
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => v.id + ': ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | '));
}

/** Every element Tab reaches, in order, as short descriptions. */
export async function tabOrder(page, max = 600) {
  await page.evaluate(() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); });
  const seen = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const d = await page.evaluate(() => {
      const e = document.activeElement;
      if (!e || e === document.body || e.dataset.tabSeen) return null;
      e.dataset.tabSeen = '1';
      return (e.id ? '#' + e.id : e.tagName.toLowerCase()) + ':' + (e.textContent || e.value || '').trim().slice(0, 40);
    });
    if (!d) break;
    seen.push(d);
  }
  return seen;
}
