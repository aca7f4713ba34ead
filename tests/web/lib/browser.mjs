// browser.mjs — launching Debian's Chromium for the page tests, and the
// checks every page gets: no CSP violation, no page error, no dialog (an
// alert() would mean injected script ran), and a screenshot saved under
// tests/web/artifacts/ for a person to look at.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_TESTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = path.resolve(WEB_TESTS, '..', '..');
export const ARTIFACTS = path.join(WEB_TESTS, 'artifacts');

export async function launch() {
  // playwright-core gives every launch a fresh temporary user-data-dir.
  return chromium.launch({
    executablePath: process.env.DT_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page that records what must never happen on our pages. */
export async function watchedPage(context) {
  const page = await context.newPage();
  page.setDefaultTimeout(Number(process.env.DT_WEB_TIMEOUT_MS || 10000));
  const problems = [];
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('dialog', async (d) => { problems.push('dialog opened: ' + d.message()); await d.dismiss(); });
  page.on('console', (m) => {
    const t = m.text();
    if (/Content Security Policy|Refused to/i.test(t)) problems.push('CSP: ' + t);
    else if (m.type() === 'error' && !/Failed to load resource/.test(t)) problems.push('console error: ' + t);
  });
  page.problems = problems;
  return page;
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name + '.png');
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
