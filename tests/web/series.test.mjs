// series.test.mjs — the triage page of a series (issue #16) with the real
// server: the real Wine series (tests/data/wine/series) is uploaded as its
// first snapshot, then the two later ones are added through
// POST /api/dumps/{id}/snapshots; the page shows the series verdict, one
// timeline row per thread with a cell per snapshot (change, state, top
// frame, CPU used in between), the series states the analyzer gave (the
// busy loop spinning, the worker progressing, the deadlocked pair not
// moving and stuck), the state and text filters, axe clean, and no
// horizontal overflow at 800 and 1280 px.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { launch, watchedPage } from './lib/browser.mjs';
import { serverMissing, startServer, DATA } from './lib/real_server.mjs';
import { overflowAt, axeSerious } from './lib/checks.mjs';

const missing = serverMissing();
const SERIES = path.join(DATA, 'wine', 'series');

describe('a series on the triage page', { skip: missing || false }, () => {
  let browser, server;
  before(async () => {
    server = await startServer(['--symbols', path.join(SERIES, 'bin')]);
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const auth = () => ({ Authorization: 'Bearer ' + server.token });
  function form(n) {
    const f = new FormData();
    f.append('user', new Blob([readFileSync(path.join(SERIES, 'series_hang.' + n + '.dmp.gz'))]), 'series_hang.' + n + '.dmp.gz');
    return f;
  }
  async function waitDone(id) {
    for (let i = 0; i < 1800; i++) {
      const s = await (await fetch(server.origin + '/api/dumps/' + id, { headers: auth() })).json();
      if (s.status === 'done' || s.status === 'failed') return s;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('analysis did not end');
  }

  test('snapshots added later, the timeline and its filters', { timeout: 240000 }, async () => {
    const first = await (await fetch(server.origin + '/api/dumps', { method: 'POST', headers: auth(), body: form(1) })).json();
    assert.equal((await waitDone(first.id)).status, 'done');
    for (const n of [2, 3]) {
      const r = await fetch(server.origin + '/api/dumps/' + first.id + '/snapshots', { method: 'POST', headers: auth(), body: form(n) });
      assert.equal(r.status, 202, 'snapshot ' + n + ' added: ' + (await r.text()));
      assert.equal((await waitDone(first.id)).status, 'done');
    }

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await watchedPage(context);
    await page.goto(server.origin + first.view_url);
    await page.waitForSelector('#report[data-rendered="report"]', { timeout: 60000 });
    assert.match(await page.textContent('#series-h'), /3 snapshots/);
    assert.match(await page.textContent('#series-summary'), /^3 snapshots over 24 s: .*spinning/);
    // Snapshots are listed by the names they were uploaded under, never a server path.
    assert.deepEqual(await page.locator('#series .series-snaps .snap-file').evaluateAll((l) => l.map((x) => x.textContent.trim())),
      ['series_hang.1.dmp.gz', 'series_hang.2.dmp.gz', 'series_hang.3.dmp.gz']);
    assert.doesNotMatch(await page.textContent('#series'), /\/(blobs|tmp)\//);
    // The series comes before the threads, right after the verdict.
    assert.ok(await page.$eval('#series', (s) => !!(s.compareDocumentPosition(document.querySelector('#threads-view')) & Node.DOCUMENT_POSITION_FOLLOWING)));

    const state = (name) => page.$eval(`#series-threads article:has(h3 a:text-matches("“${name}”"))`, (a) => a.dataset.state);
    assert.equal(await state('spinner'), 'spinning');
    assert.equal(await state('progress'), 'progressing');
    const spinner = page.locator('#series-threads article[data-state="spinning"]').first();
    assert.equal(await spinner.locator('.timeline > li').count(), 3, 'one cell per snapshot');
    assert.deepEqual(await spinner.locator('.timeline > li').evaluateAll((l) => l.map((x) => x.dataset.change)), ['first', 'spinning', 'spinning']);
    assert.match(await spinner.locator('.timeline > li').nth(1).textContent(), /CPU \d+(\.\d)? s in 10(\.0)? s/);
    const stuck = page.locator('#series-threads article[data-state="not_moved"]:has(.badge.stuck)');
    assert.ok(await stuck.count() >= 2, 'the deadlocked pair did not move and is stuck');
    assert.deepEqual(await stuck.first().locator('.timeline > li').evaluateAll((l) => l.map((x) => x.dataset.change)), ['first', 'same', 'same']);

    const total = await page.locator('#series-threads article').count();
    await page.selectOption('#series-state', 'spinning');
    assert.equal(await page.textContent('#series-count'), '1 of ' + total + ' threads match');
    assert.equal(await page.locator('#series-threads article:visible').count(), 1);
    await page.selectOption('#series-state', '');
    await page.fill('#series-filter', 'progress');
    await page.waitForFunction(() => /threads match/.test(document.querySelector('#series-count').textContent));
    assert.equal(await page.locator('#series-threads article:visible[data-state="progressing"]').count(), 1);
    await page.fill('#series-filter', '');
    await page.waitForFunction(() => document.querySelector('#series-count').textContent === '');

    assert.deepEqual(await axeSerious(page), [], 'axe: series on the triage page');
    for (const w of [800, 1280]) assert.equal(await overflowAt(page, w, 'series'), 0, 'no horizontal overflow at ' + w + ' px');
    await context.close();
  });
});
