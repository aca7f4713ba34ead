// tus_upload.test.mjs — #18's browser side against the real server ($DT_BIN
// serve) in Chromium: the upload page sends a real dump (the Wine hello_block
// dump, 22 MB) through /api/uploads with tus over a throttled link,
//  * compressed in the browser, goes offline mid-way (context.setOffline),
//    says "paused — will resume", comes back and finishes;
//  * uncompressed, is reloaded mid-way, the same file is chosen again and
//    the upload continues; is paused and resumed by the user;
// two files of one case go as two tus uploads tied by one case upload id;
// and each time the server's own log ("tus_chunk" lines: what every PATCH
// brought, in dump bytes) shows the upload went on from the server's offset
// (no PATCH after the cut starts at 0; dump bytes received < 1.5× the file)
// and the stored file's SHA-256 is the dump's.  Where the server offers no
// tus endpoint the page falls back to the one-shot POST.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launch, watchedPage } from './lib/browser.mjs';
import { serverMissing, startServer, helloBlockDump, pairedCase, DATA } from './lib/real_server.mjs';

const missing = serverMissing();

/** The server's tus_chunk log lines from character `from` of its log on. */
function chunks(srv, from = 0) {
  return srv.log().slice(from).split('\n').filter((l) => l.includes('"event":"tus_chunk"')).map((l) => JSON.parse(l));
}

async function waitFor(what, fn, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Throttles the page's uploads to bytesPerSecond (DevTools network
 *  emulation); returns offline(on), which cuts the network — playwright's
 *  context.setOffline, and the same on this throttling session, whose
 *  conditions would otherwise keep the page online — and restores it. */
async function throttle(context, page, bytesPerSecond) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const conditions = (offline) => cdp.send('Network.emulateNetworkConditions', {
    offline, latency: offline ? 0 : 5, downloadThroughput: -1, uploadThroughput: offline ? -1 : bytesPerSecond,
  });
  await conditions(false);
  return async (on) => { await context.setOffline(on); await conditions(on); };
}

async function barShare(page) {
  return page.evaluate(() => { const b = document.querySelector('#bar'); return b.max ? b.value / b.max : 0; });
}

/** The stored files of the finished upload, from its status (view key). */
async function storedFiles(srv, page) {
  const view = new URL(await page.getAttribute('#view-link', 'href'));
  const id = view.pathname.split('/').pop();
  const st = await (await fetch(srv.origin + '/api/dumps/' + id + '?key=' + view.searchParams.get('key'))).json();
  return st.files;
}

async function storedFile(srv, page) {
  const files = await storedFiles(srv, page);
  assert.equal(files.length, 1, JSON.stringify(files));
  return files[0];
}

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('resumable uploads from the page', { skip: missing || false }, () => {
  let browser, srv, tmp, dump, size, sha;
  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'dt-web-tus-'));
    dump = helloBlockDump(tmp);
    size = statSync(dump).size;
    sha = createHash('sha256').update(readFileSync(dump)).digest('hex');
    srv = await startServer();
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await srv?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('compressed chunks, network lost mid-way: paused, resumed from the server offset, same SHA-256', async () => {
    const start = srv.log().length;
    const context = await browser.newContext();
    const page = await watchedPage(context);
    await page.goto(srv.origin + '/?tus_chunk=1048576');
    await page.waitForSelector('#compress-row:not([hidden])');
    assert.equal(await page.isChecked('#compress'), true, 'compression is on by default');
    // ~6.7 MB on the wire after gzip: about 5 s at 1.5 MB/s.
    const offline = await throttle(context, page, 1.5e6);
    await page.setInputFiles('#file-user', dump);
    await page.waitForSelector('.drop.has-file .ok-text');
    await page.click('#send');
    await waitFor('a third of the dump acknowledged', async () => (await barShare(page)) > 0.3);
    const progressText = await page.textContent('#progress-text');
    assert.match(progressText, /of 21\.8 MB \(\d+%\) — compressed \d+\.\d× \(.+ on the wire\) — .+\/s — about .+ left$/, progressText);
    const mark = srv.log().length;
    const before = chunks(srv, start);
    assert.ok(before.length >= 2 && before.every((c) => c.gzip), 'gzip chunks arrived before the cut');
    await offline(true);
    assert.equal(await page.evaluate(() => navigator.onLine), false);
    await page.waitForSelector('#progress[data-state=network]', { timeout: 15000 });
    assert.match(await page.textContent('#progress-text'), /paused, will resume/);
    await new Promise((r) => setTimeout(r, 1500));
    await offline(false);
    await page.waitForSelector('#result:not([hidden]), #message .error', { timeout: 60000 });
    assert.ok(await page.isVisible('#result'), 'upload failed: ' + (await page.textContent('#message')));
    const after = chunks(srv, mark);
    assert.ok(after.length >= 1, 'PATCHes after the network came back');
    assert.ok(after.every((c) => c.start > 0), 'no PATCH after the cut starts at 0: ' + JSON.stringify(after.map((c) => c.start)));
    const all = chunks(srv, start);
    const received = all.reduce((n, c) => n + c.received, 0);
    const kept = all.reduce((n, c) => n + c.kept, 0);
    assert.equal(kept, size, 'the chunks kept add up to the dump');
    assert.ok(received < 1.5 * size, `dump bytes received ${received} < 1.5 × ${size}`);
    const wire = all.reduce((n, c) => n + c.wire, 0);
    assert.ok(wire < size / 2, `compressed on the wire: ${wire} bytes for ${size}`);
    const f = await storedFile(srv, page);
    assert.equal(f.sha256, sha);
    assert.equal(f.size, size);
    assert.deepEqual(page.problems, []);
    assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('tus::') || k.startsWith('dt-case:')).length), 0,
      'a finished upload leaves nothing to resume');
    await context.close();
  });

  test('uncompressed, page reloaded mid-way: the same file chosen again continues at the server offset', async () => {
    const start = srv.log().length;
    const context = await browser.newContext();
    let page = await watchedPage(context);
    await page.goto(srv.origin + '/?tus_chunk=2097152');
    await page.waitForSelector('#compress-row:not([hidden])');
    await page.uncheck('#compress');
    await throttle(context, page, 4e6);
    await page.setInputFiles('#file-user', dump);
    await page.waitForSelector('.drop.has-file .ok-text');
    await page.click('#send');
    await waitFor('40% acknowledged', async () => (await barShare(page)) > 0.4);
    const mark = srv.log().length;
    const first = chunks(srv, start);
    assert.ok(first.length >= 3 && first.every((c) => !c.gzip));
    const ids = new Set(first.map((c) => c.id));
    assert.equal(ids.size, 1);
    await page.close();
    page = await watchedPage(context);
    await page.goto(srv.origin + '/?tus_chunk=2097152');
    await page.waitForSelector('#resume-hint:not([hidden])');
    assert.match(await page.textContent('#resume-hint'), /Not finished: hello_block\.dmp.*Choose the same file again/);
    await page.setInputFiles('#file-user', dump);
    await page.waitForSelector('.drop.has-file .ok-text');
    await page.click('#send');
    await page.waitForSelector('#result:not([hidden]), #message .error', { timeout: 60000 });
    assert.ok(await page.isVisible('#result'), 'upload failed: ' + (await page.textContent('#message')));
    const after = chunks(srv, mark);
    assert.ok(after.length >= 1);
    assert.ok(after.every((c) => ids.has(c.id)), 'the same tus upload continued');
    assert.ok(after.every((c) => c.start > 0), 'no PATCH after the reload starts at 0');
    const all = chunks(srv, start);
    assert.equal(all.reduce((n, c) => n + c.kept, 0), size);
    const received = all.reduce((n, c) => n + c.received, 0);
    assert.ok(received < 1.5 * size, `dump bytes received ${received} < 1.5 × ${size}`);
    const f = await storedFile(srv, page);
    assert.equal(f.sha256, sha);
    assert.deepEqual(page.problems, []);
    await context.close();
  });

  test('Pause stops sending, Resume continues at the server offset', async () => {
    const start = srv.log().length;
    const context = await browser.newContext();
    const page = await watchedPage(context);
    await page.goto(srv.origin + '/?tus_chunk=1048576');
    await page.waitForSelector('#compress-row:not([hidden])');
    await page.uncheck('#compress');
    await throttle(context, page, 4e6);
    await page.setInputFiles('#file-user', dump);
    await page.waitForSelector('.drop.has-file .ok-text');
    await page.click('#send');
    await waitFor('a fifth acknowledged', async () => (await barShare(page)) > 0.2);
    await page.click('#pause');
    await page.waitForSelector('#progress[data-state=paused]');
    assert.match(await page.textContent('#progress-text'), /^Paused — .* Press Resume to continue\.$/);
    assert.equal(await page.textContent('#pause'), 'Resume');
    await new Promise((r) => setTimeout(r, 500)); // the cut-off request's line
    const mark = srv.log().length;
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(chunks(srv, mark), [], 'nothing is sent while paused');
    await page.click('#pause');
    await page.waitForSelector('#result:not([hidden]), #message .error', { timeout: 60000 });
    assert.ok(await page.isVisible('#result'), 'upload failed: ' + (await page.textContent('#message')));
    const after = chunks(srv, mark);
    assert.ok(after.length >= 1 && after.every((c) => c.start > 0), 'resumed, not restarted');
    const all = chunks(srv, start);
    assert.equal(all.reduce((n, c) => n + c.kept, 0), size);
    assert.ok(all.reduce((n, c) => n + c.received, 0) < 1.5 * size);
    assert.equal((await storedFile(srv, page)).sha256, sha);
    assert.deepEqual(page.problems, []);
    await context.close();
  });

  test('a user and a kernel dump: two tus uploads tied by one case upload id become one upload', async () => {
    const pair = pairedCase(tmp);
    if (!pair) { assert.fail('tests/data has no paired case'); }
    const start = srv.log().length;
    const context = await browser.newContext();
    const page = await watchedPage(context);
    await page.goto(srv.origin + '/');
    await page.waitForSelector('#compress-row:not([hidden])');
    await page.setInputFiles('#file-user', pair.user);
    await page.setInputFiles('#file-kernel', pair.kernel);
    await page.waitForFunction(() => document.querySelectorAll('.drop.has-file .ok-text').length === 2);
    await page.fill('#case_id', 'CASE-TUS-2');
    await page.click('#send');
    await page.waitForSelector('#result:not([hidden]), #message .error', { timeout: 60000 });
    assert.ok(await page.isVisible('#result'), 'upload failed: ' + (await page.textContent('#message')));
    const ids = new Set(chunks(srv, start).map((c) => c.id));
    assert.equal(ids.size, 2, 'one tus upload per file');
    const files = await storedFiles(srv, page);
    const byRole = Object.fromEntries(files.map((f) => [f.role, f.sha256]));
    assert.deepEqual(byRole, { user: sha256(pair.user), kernel: sha256(pair.kernel) });
    assert.deepEqual(page.problems, []);
    await context.close();
  });

  test('no tus endpoint: the page falls back to the one-shot POST', async () => {
    const context = await browser.newContext();
    const page = await watchedPage(context);
    let options = 0, posts = 0;
    await page.route('**/api/uploads', (route) => {
      options++;
      return route.fulfill({ status: 404, contentType: 'application/json', body: '{"error":{"code":"not_found","message":"no"}}' });
    });
    page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/api/dumps')) posts++; });
    await page.goto(srv.origin + '/');
    const calc = path.join(DATA, 'user', 'rizin__calc.dmp');
    await page.setInputFiles('#file-user', calc);
    await page.waitForSelector('.drop.has-file .ok-text');
    await page.click('#send');
    await page.waitForSelector('#result:not([hidden]), #message .error', { timeout: 30000 });
    assert.ok(await page.isVisible('#result'), 'upload failed: ' + (await page.textContent('#message')));
    assert.ok(options >= 1, 'the page asked for the tus endpoint');
    assert.equal(posts, 1, 'one one-shot POST');
    assert.equal(await page.isHidden('#compress-row'), true);
    const f = await storedFile(srv, page);
    assert.equal(f.sha256, createHash('sha256').update(readFileSync(calc)).digest('hex'));
    await context.close();
  });
});
