// server.test.mjs — end to end with the real server ($DT_BIN serve): upload
// real dumps through the upload page's file inputs, watch the progress line
// and the live status, open the triage page from the returned view link,
// check hostile strings (note, case id, customer, file name, thread name) stay text, check the view link does not open
// the list, sign in as staff.  What the analyzer reports for these real
// dumps (thread 36's ReadFile, the thread names, the deadlock, the paired
// NtReadFile) is asserted, not looked for: a report that loses it fails.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launch, watchedPage, screenshot } from './lib/browser.mjs';
import { serverMissing, startServer, helloBlockDump, hostileNameDump, multiHangDump, pairedCase, waitChainDump, XSS_NAME } from './lib/real_server.mjs';

const missing = serverMissing();

describe('with the real server', { skip: missing || false }, () => {
  let browser, server, tmp;
  const uploaded = {};
  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'dt-web-in-'));
    server = await startServer();
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** Uploads files through the page; returns {page, context, view, statuses, progress}. */
  async function uploadThroughPage(files, { note = '', caseId = '', customer = '' } = {}) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await watchedPage(context);
    await page.goto(server.origin + '/');
    for (const [role, file] of Object.entries(files)) {
      await page.setInputFiles({ user: '#file-user', kernel: '#file-kernel', file: '#file-archive' }[role], file);
    }
    await page.waitForSelector('.drop.has-file .ok-text');
    if (caseId) await page.fill('#case_id', caseId);
    if (customer) await page.fill('#customer', customer);
    if (note) await page.fill('#note', note);
    await page.evaluate(() => {
      window.dtSeen = { progress: [], status: [] };
      const watch = (sel, into) => new MutationObserver(() => {
        const t = document.querySelector(sel).textContent;
        if (t && into[into.length - 1] !== t) into.push(t);
      }).observe(document.querySelector(sel), { childList: true, characterData: true, subtree: true });
      watch('#progress-text', window.dtSeen.progress);
      watch('#job-status', window.dtSeen.status);
    });
    await page.click('#send');
    await page.waitForSelector('#result:not([hidden]), #message .error', { timeout: 60000 });
    if (!(await page.isVisible('#result'))) assert.fail('upload refused: ' + (await page.textContent('#message')));
    await page.waitForFunction(() => ['done', 'failed'].includes(document.querySelector('#job-status').textContent), null, { timeout: 180000 });
    const seen = await page.evaluate(() => window.dtSeen);
    const view = await page.getAttribute('#view-link', 'href');
    return { context, page, view, statuses: seen.status, progress: seen.progress };
  }

  async function openTriage(context, view) {
    const page = await watchedPage(context);
    await page.goto(view);
    await page.waitForSelector('#report[data-rendered=report]', { timeout: 30000 });
    const url = new URL(view);
    const id = url.pathname.split('/')[2];
    const report = await page.evaluate(async ([i, k]) => (await fetch('/api/dumps/' + i + '/report?key=' + k)).json(), [id, url.searchParams.get('key')]);
    return { page, report, id };
  }

  test('a real hang dump uploaded through the page: progress, live status, triage page', async () => {
    const { context, page, view, statuses, progress } = await uploadThroughPage({ user: helloBlockDump(tmp) },
      { caseId: 'CASE-E2E', note: 'console app hangs at start' });
    assert.match(view, new RegExp('^' + server.origin + '/triage/[0-9a-f]+\\?key=.+'));
    // Progress: bytes of the whole, then the hand-over to the server.
    assert.ok(progress.some((t) => / — [\d.]+ [KMG]?B\/s/.test(t)), 'speed shown: ' + progress.join(' | '));
    // Lines before the end also say how long is left.
    assert.ok(progress.filter((t) => /\((\d|[1-9]\d)%\)/.test(t)).every((t) => / — about .+ left$/.test(t)), progress.join(' | '));
    assert.ok(progress.some((t) => / of 21\.8 MB \(\d+%\)/.test(t)), 'progress line: ' + progress.join(' | '));
    assert.ok(progress.some((t) => /^21\.8 MB sent/.test(t)), 'progress line: ' + progress.join(' | '));
    // Live status: it went from queued/analyzing to done, without reload.
    assert.equal(statuses[statuses.length - 1], 'done', 'statuses: ' + statuses.join(' → ') + '\n' + server.log());
    assert.ok(statuses.length >= 2 || statuses[0] === 'done');
    await screenshot(page, 'real-upload-done');
    assert.deepEqual(page.problems, []);

    await page.click('#job-detail a');
    await page.waitForSelector('#report[data-rendered=report]', { timeout: 30000 });
    assert.equal(await page.getAttribute('#status', 'data-status'), 'done');
    assert.equal(await page.isVisible('nav a[href="/list"]'), false, 'an uploader is not offered the list');
    assert.match(await page.textContent('#summary'), /CASE-E2E/);
    assert.match(await page.textContent('#summary'), /hello_block\.dmp/);
    const raw = await page.getAttribute('.statusbar a.raw', 'href');
    const { report } = await openTriage(context, view);
    assert.equal(typeof report, 'object');
    assert.ok(raw.includes('key='), 'the raw JSON link carries the view key');
    uploaded.hello = view;
    await screenshot(page, 'real-triage-hello_block');

    // Thread 36 (the only one) is shown with every frame the report gives
    // it, and the ReadFile it waits in.
    const t36 = (report?.user?.threads || []).find((t) => t.thread_id === 36);
    assert.ok(t36, 'the report has thread 36');
    const calls = await page.$$eval('article[data-tid="36"] table.stacks td.fr.user .call', (c) => c.map((x) => x.textContent));
    assert.equal(calls.length, t36.frames.length);
    assert.match(calls[0], /^ntdll[!+]/);
    assert.ok(t36.frames.some((f) => /ReadFile/.test(f.function || '')), 'the report names ReadFile in thread 36');
    assert.ok(calls.some((c) => /ReadFile/.test(c)), calls.join('\n'));
    assert.deepEqual(page.problems, []);
    await context.close();
  });

  // The analyzer's chain on the page: each thread a link to its card, each
  // link named by its kind and the object waited on, the root cause first.
  test('a real wait chain: the path with its critical section, thread links and the root cause', async () => {
    const { context, view, statuses } = await uploadThroughPage({ user: waitChainDump(tmp) });
    assert.equal(statuses[statuses.length - 1], 'done', server.log());
    const { page, report } = await openTriage(context, view);
    const chains = report.triage.chains;
    assert.equal(chains.length, 1);
    assert.equal(chains[0].text, '272 cyc-A waits for critical section 0x14000c120 owned by 268 (cyc-B) → 268 cyc-B waits for object 0x70');
    assert.match(await page.textContent('#chains .rootcause'), /^Root cause: Thread 0x10c \(268\) blocks 1 thread — 1 thread waits on thread 268 \(cyc-B\), which waits for object 0x70$/);
    const li = '#chains li.chain';
    assert.deepEqual(await page.$$eval(li + ' .cnode', (n) => n.map((x) => x.textContent)), ['Thread 0x110 (272) “cyc-A”', 'Thread 0x10c (268) “cyc-B”']);
    assert.deepEqual(await page.$$eval(li + ' .carrow', (n) => n.map((x) => x.textContent)), [' waits for critical section 0x14000c120 held by ']);
    assert.deepEqual(await page.$$eval(li + ' .cnode a', (a) => a.map((x) => x.getAttribute('href'))), ['#t-272', '#t-268']);
    // The links lead to the threads' cards.
    for (const tid of [272, 268]) assert.equal(await page.locator('#t-' + tid).count(), 1, 'card of thread ' + tid);
    assert.deepEqual(page.problems, []);
    await context.close();
  });

  // Hostile strings in every field a client controls end to end: the note,
  // the case id, the customer, the file name (sent as the multipart part's
  // filename) and a thread name inside the dump.  Each must come back as the
  // same text, and none may become an element.
  const HOSTILE = {
    caseId: 'CASE-"><svg onload=alert(2)>',
    customer: "ACME</td><script>alert(3)</script>",
    file: "<img src=y onerror=alert(4)>'.dmp", // a " would be sent as %22 (HTML's multipart encoding)
  };
  test('a thread named <img src=x onerror=alert(1)> in a real dump is shown as text and runs nothing', async () => {
    const dump = path.join(tmp, HOSTILE.file);
    copyFileSync(hostileNameDump(tmp), dump);
    const { context, page, view, statuses } = await uploadThroughPage({ user: dump },
      { note: XSS_NAME, caseId: HOSTILE.caseId, customer: HOSTILE.customer });
    assert.equal(statuses[statuses.length - 1], 'done');
    const { page: tp, report } = await openTriage(context, view);
    await tp.waitForTimeout(300);
    const summary = await tp.textContent('#summary');
    assert.ok(summary.includes(XSS_NAME), 'the note is shown as text: ' + summary);
    assert.ok(summary.includes(HOSTILE.caseId), 'the case id is shown as text: ' + summary);
    assert.ok(summary.includes(HOSTILE.customer), 'the customer is shown as text: ' + summary);
    const fnames = await tp.$$eval('.fname', (els) => els.map((e) => e.textContent));
    assert.deepEqual(fnames, [HOSTILE.file], 'the file name is shown as text');
    assert.equal(await tp.locator('#summary svg, #summary script, #summary img').count(), 0);
    const names = (report?.user?.threads || []).map((t) => t.thread_name);
    assert.ok(names.includes(XSS_NAME), 'the report has the hostile thread name: ' + names.join(', '));
    await tp.evaluate(() => { for (const d of document.querySelectorAll('details')) d.open = true; });
    const shown = await tp.$$eval('.tname', (els) => els.map((e) => e.textContent));
    assert.ok(shown.includes(XSS_NAME), 'thread name shown: ' + shown.join(', '));
    assert.equal(await tp.locator('img').count(), 0);
    await screenshot(tp, 'real-triage-hostile-name');
    assert.deepEqual(tp.problems, [], 'no dialog, no CSP violation, no error');
    assert.deepEqual(page.problems, []);
    await context.close();
  });

  test('a real deadlock (Wine multi_hang) is drawn as a cycle of named threads', async () => {
    const { context, view, statuses } = await uploadThroughPage({ user: multiHangDump(tmp) }, { caseId: 'CASE-DEADLOCK' });
    assert.equal(statuses[statuses.length - 1], 'done');
    const { page, report } = await openTriage(context, view);
    await screenshot(page, 'real-triage-multi_hang');
    assert.deepEqual(page.problems, []);
    const dl = report?.triage?.deadlocks;
    assert.ok(Array.isArray(dl) && dl.length > 0, 'the analyzer reports the deadlock: ' + JSON.stringify(dl));
    const names = new Map((report.triage.threads || []).map((x) => [x.thread_id, x.thread_name]));
    const nodes = await page.$$eval('#deadlocks .cycle .node', (n) => n.map((x) => x.textContent));
    const want = [...dl[0].threads, dl[0].threads[0]].map((tid) => 'Thread 0x' + tid.toString(16) + ' (' + tid + ')' + (names.get(tid) ? ' ' + names.get(tid) : ''));
    assert.deepEqual(nodes, want);
    // Stuck threads first, in the analyzer's order (primary first); idle ones collapsed.
    const stuck = await page.$$eval('#lead article.thread, #stuck article.thread', (a) => a.map((x) => Number(x.dataset.tid)));
    assert.deepEqual(stuck, report.triage.threads.filter((x) => x.stuck).map((x) => x.thread_id));
    assert.equal(stuck[0], report.triage.primary.thread_id);
    assert.equal(await page.textContent(`article[data-tid="${stuck[0]}"] .verdict`), report.triage.primary.verdict);
    await context.close();
  });

  test('a file that is not a dump is refused by the server with a plain sentence', async () => {
    const context = await browser.newContext();
    const page = await watchedPage(context);
    await page.goto(server.origin + '/');
    await page.setInputFiles('#file-user', { name: 'notes.dmp', mimeType: 'application/octet-stream', buffer: Buffer.from('these are not the bytes of a dump\n'.repeat(100)) });
    await page.click('#send');
    await page.waitForSelector('#message .error', { timeout: 30000 });
    const text = await page.textContent('#message');
    assert.match(text, /^That file is not a format dumptriage reads\./, text);
    assert.equal(await page.isVisible('#result'), false);
    await context.close();
  });

  test('the uploader\'s view link cannot reach the list', async () => {
    assert.ok(uploaded.hello, 'needs the first upload');
    const context = await browser.newContext();
    const page = await watchedPage(context);
    await page.goto(uploaded.hello);
    await page.waitForSelector('#report[data-rendered=report]');
    const key = new URL(uploaded.hello).searchParams.get('key');
    await page.goto(server.origin + '/list?key=' + encodeURIComponent(key));
    await page.waitForSelector('#login:not([hidden])');
    assert.equal(await page.isVisible('#staff'), false);
    assert.equal(await page.locator('#uploads tbody tr').count(), 0);
    const api = await page.evaluate(async (k) => {
      const r = await fetch('/api/dumps?key=' + encodeURIComponent(k));
      return { status: r.status, body: await r.json().catch(() => null) };
    }, key);
    assert.ok(api.status === 401 || api.status === 403, 'list API refused: ' + JSON.stringify(api));
    assert.ok(!JSON.stringify(api.body).includes('items'));
    await screenshot(page, 'real-list-as-uploader');
    await context.close();
  });

  test('staff sign in and see every upload in the list, updated live', async () => {
    const context = await browser.newContext({ viewport: { width: 1920, height: 1000 } });
    const page = await watchedPage(context);
    await page.goto(server.origin + '/login');
    await page.fill('#token', 'not-the-token');
    await page.press('#token', 'Enter');
    await page.waitForSelector('#login-error:not([hidden])');
    await page.fill('#token', server.token);
    await page.press('#token', 'Enter');
    await page.waitForURL(server.origin + '/list');
    await page.waitForSelector('#uploads tbody tr');
    assert.ok(await page.locator('#uploads tbody tr').count() >= 2);
    assert.match(await page.textContent('#uploads'), /CASE-E2E/);
    const listText = await page.textContent('#uploads');
    assert.ok(listText.includes(HOSTILE.caseId), 'the hostile case id is listed as text: ' + listText);
    assert.equal(await page.locator('#uploads svg, #uploads script, #uploads img').count(), 0, 'no element from a field');
    await page.fill('#q', 'CASE-E2E');
    await page.waitForFunction(() => document.querySelectorAll('#uploads tbody tr').length === 1, null, { timeout: 15000 });
    await page.click('#uploads tbody tr td:nth-child(2) a');
    await page.waitForSelector('#report[data-rendered=report]');
    assert.equal(await page.isVisible('nav a[href="/list"]'), true, 'staff get the list link');
    await page.goto(server.origin + '/list');
    await page.waitForSelector('#uploads tbody tr');
    await screenshot(page, 'real-list-staff');
    assert.deepEqual(page.problems, []);
    await context.close();
  });

  test('paired user + kernel dumps: triage joins ntdll!…ReadFile to nt!NtReadFile and gives the verdict', async () => {
    const pair = pairedCase(tmp);
    assert.ok(pair, 'a paired case in the corpus (tests/data/paired)');
    const { context, view, statuses } = await uploadThroughPage({ user: pair.user, kernel: pair.kernel }, { caseId: 'CASE-PAIR' });
    assert.equal(statuses[statuses.length - 1], 'done');
    const { page, report } = await openTriage(context, view);
    await screenshot(page, 'real-triage-paired');
    assert.deepEqual(page.problems, []);
    assert.match(await page.textContent('#summary'), /user-mode minidump, kernel: /);

    // The analyzer paired the threads and joined them at the syscall.
    assert.ok(report && typeof report.triage === 'object' && report.triage, 'the report has a triage part');
    const stuck = (report.triage.threads || []).filter((x) => x.stuck && x.syscall && Number.isInteger(x.syscall.user_frame) && Number.isInteger(x.syscall.kernel_frame));
    assert.ok(stuck.length, 'a stuck thread with its system call');
    const row = await page.$eval(`article[data-tid="${stuck[0].thread_id}"] table.stacks tr.syscall`,
      (tr) => [...tr.querySelectorAll('td.fr .call')].map((c) => c.textContent));
    const named = stuck[0].kernel_frames.some((f) => f.function === 'NtReadFile');
    assert.ok(named, 'the kernel stack names NtReadFile: ' + JSON.stringify(stuck[0].kernel_frames.map((f) => f.function)));
    assert.match(row[0], /^ntdll!(Nt|Zw)ReadFile\+0x/);
    assert.match(row[1], /^nt!NtReadFile\+0x/);
    assert.ok((await page.textContent('#primary .verdict')).length > 0);
    assert.equal(await page.textContent('#primary .verdict'), report.triage.primary.verdict);
    await context.close();
  });
});

test('the real-server tests ran or say why not', () => {
  if (missing) console.log('# skipped end-to-end tests: ' + missing);
});
