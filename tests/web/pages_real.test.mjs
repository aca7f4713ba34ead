// pages_real.test.mjs — #17's points against the real server ($DT_BIN serve)
// in Chromium: a 47-thread crash dump (crashdump-mcp electron.dmp) leads
// with its exception and the crashing thread, groups its 46 unknown
// threads, filters; a kernel bugcheck (rizin triage_x64, 0x1000007E) leads
// with its decoded bugcheck; a procdump -mk pair is labelled a capture;
// screenshots at 800, 1280 and 1920 px without horizontal overflow and the
// verdict inside the first screen at 1280×800; the staff workflow panel
// writes through the API; the list keeps filters in the URL; the signature
// page draws its chart; axe-core finds no serious violation on any page;
// the triage page's actions are reachable with Tab.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { launch, watchedPage } from './lib/browser.mjs';
import { startServer, serverMissing, DATA, pairedCase } from './lib/real_server.mjs';
import { overflowAt, inFirstScreen, axeSerious, tabOrder } from './lib/checks.mjs';

const missing = serverMissing();
let browser, srv;
const ids = {};

async function upload(parts) {
  const form = new FormData();
  for (const [name, file] of parts) form.append(name, new Blob([readFileSync(file)]), path.basename(file));
  const res = await fetch(srv.origin + '/api/dumps', { method: 'POST', body: form, headers: { Authorization: 'Bearer ' + srv.token } });
  assert.equal(res.status, 202, 'upload of ' + parts.map((p) => p[1]).join(', '));
  const body = await res.json();
  for (let i = 0; i < 600; i++) {
    const st = await (await fetch(srv.origin + '/api/dumps/' + body.id, { headers: { Authorization: 'Bearer ' + srv.token } })).json();
    if (st.status === 'done') return body.id;
    if (st.status === 'failed') throw new Error('analysis failed: ' + st.error);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('analysis did not finish');
}

async function staffPage(width = 1280, height = 800) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await watchedPage(context);
  await page.goto(srv.origin + '/login');
  await page.fill('#token', srv.token);
  await page.press('#token', 'Enter');
  await page.waitForURL(/\/list/);
  return { context, page };
}

async function openTriage(page, id) {
  await page.goto(srv.origin + '/triage/' + id);
  await page.waitForSelector('#report[data-rendered=report]');
}

before(async () => {
  if (missing) return;
  browser = await launch();
  srv = await startServer();
  ids.crash = await upload([['user', path.join(DATA, 'user', 'crashdump-mcp__electron.dmp')]]);
  ids.bugcheck = await upload([['kernel', path.join(DATA, 'kernel', 'rizin__triage_x64.dmp')]]);
  const pair = pairedCase(srv.dir);
  if (pair) ids.paired = await upload([['user', pair.user], ['kernel', pair.kernel]]);
});
after(async () => { await browser?.close(); await srv?.stop(); });

test('47-thread crash dump: exception verdict and crashing thread first, threads grouped and filterable, fits every width', { skip: missing || false }, async () => {
  const { context, page } = await staffPage();
  await openTriage(page, ids.crash);
  assert.match(await page.textContent('#primary h2'), /^Crash$/);
  assert.match(await page.textContent('#primary .verdict'), /^EXCEPTION_ACCESS_VIOLATION_WRITE — access violation/);
  assert.match(await page.textContent('#primary pre.registers'), /rip=00007ff6e7ce5e10/);
  assert.equal(await page.getAttribute('#lead article.thread', 'data-tid'), '22280');
  assert.ok(await inFirstScreen(page, '#primary .verdict'), 'the verdict is on the first screen at 1280×800');
  assert.ok(await inFirstScreen(page, '#lead article.thread'), 'the crashing thread starts on the first screen');
  // The analyzer names this dump's 6 idle pool workers (syscall names from the
  // stub bytes): they sit collapsed behind a count, grouped by identical stacks.
  assert.equal(await page.$eval('#idle details.quiet', (d) => d.open), false);
  assert.match(await page.textContent('#idle summary'), /\(6 idle\)/);
  await page.click('#idle summary');
  // The groups are built on the toggle event, which runs after the click returns.
  await page.waitForSelector('#idle details.tgroup');
  const groups = await page.$$eval('#idle details.tgroup', (d) => d.map((x) => Number(x.dataset.size)));
  assert.equal(groups.reduce((a, b) => a + b, 0), 6);
  // The waiting threads share groups too (11 wait in NtRemoveIoCompletion
  // under one wetype_tip_core frame): fewer groups than threads.
  const waiting = await page.$$eval('#stuck details.tgroup', (d) => d.map((x) => Number(x.dataset.size)));
  assert.ok(waiting.some((n) => n > 1) && waiting.length < waiting.reduce((a, b) => a + b, 0),
            'identical stacks share a group: ' + waiting.join(','));
  // The filter finds threads by name.
  await page.fill('#thread-filter', 'V8Worker');
  await page.waitForFunction(() => /threads match/.test(document.querySelector('#filter-count').textContent));
  assert.match(await page.textContent('#filter-count'), /^4 of 47 threads match$/);
  assert.equal(await page.locator('#threads tbody tr:not([hidden])').count(), 4);
  await page.fill('#thread-filter', '');
  // A permalink into a closed group opens it.
  await page.goto(srv.origin + '/triage/' + ids.crash + '#t-22880');
  await page.waitForSelector('#report[data-rendered=report]');
  assert.ok(await page.$eval('#t-22880', (a) => a.closest('details').open));
  for (const w of [800, 1280, 1920]) assert.equal(await overflowAt(page, w, 'real-crash'), 0, 'no horizontal overflow at ' + w + ' px');
  await page.setViewportSize({ width: 1280, height: 800 });
  assert.deepEqual(await axeSerious(page), [], 'axe: triage page');
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('bugcheck 0x1000007E: decoded verdict panel, faulting driver; a -mk pair is a capture', { skip: missing || false }, async () => {
  const { context, page } = await staffPage();
  await openTriage(page, ids.bugcheck);
  assert.match(await page.textContent('#primary h2'), /^Bugcheck$/);
  assert.match(await page.textContent('#primary .verdict'), /SYSTEM_THREAD_EXCEPTION_NOT_HANDLED.*\(0x1000007E\)/);
  const params = await page.$$eval('#primary table.params tbody tr', (t) => t.map((r) => r.cells[2].textContent));
  assert.equal(params[0], 'exception code: access violation');
  assert.match(await page.textContent('#primary'), /Faulting\s*amdppm\.sys\+0x334c/);
  assert.ok(await inFirstScreen(page, '#primary .verdict'));
  // The running thread at the bugcheck shows no wait facts.
  assert.equal(await page.locator('#lead article.thread dt', { hasText: 'Wait reason' }).count(), 0);
  for (const w of [800, 1280, 1920]) assert.equal(await overflowAt(page, w, 'real-bugcheck'), 0, 'no horizontal overflow at ' + w + ' px');
  if (ids.paired) {
    await openTriage(page, ids.paired);
    assert.match(await page.textContent('#primary .capture'), /capture/);
    assert.match(await page.textContent('#summary'), /Capture/);
    assert.doesNotMatch(await page.textContent('#summary'), /Bugcheck/);
    assert.match(await page.textContent('#primary h2'), /^Hang verdict$/);
  }
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('workflow: staff set state, assignee, ticket and comment on the page; the list filters by them in the URL', { skip: missing || false }, async () => {
  const { context, page } = await staffPage();
  await openTriage(page, ids.crash);
  await page.waitForSelector('#wf-comments li');
  await page.selectOption('#wf-state', 'investigating');
  await page.fill('#wf-assignee', 'Dana');
  await page.fill('#wf-ticket', 'SR-17');
  await page.click('#wf-save');
  await page.waitForFunction(() => /Saved/.test(document.querySelector('#wf-saved').textContent));
  await page.fill('#wf-text', 'looked at it: <b>null</b> write');
  await page.click('#wf-add');
  await page.waitForSelector('#wf-comments li.comment');
  assert.equal(await page.textContent('#wf-comments .ctext'), 'looked at it: <b>null</b> write');
  const w = await (await fetch(srv.origin + '/api/dumps/' + ids.crash + '/workflow', { headers: { Authorization: 'Bearer ' + srv.token } })).json();
  assert.deepEqual([w.state, w.assignee, w.ticket, w.comments.length], ['investigating', 'Dana', 'SR-17', 1]);
  // The actions are reachable with Tab (from the top of a fresh page).
  await openTriage(page, ids.crash);
  await page.waitForSelector('#wf-comments li.comment');
  const order = await tabOrder(page);
  for (const want of ['#wf-state', '#wf-save', '#wf-add', '#act-reanalyze', '#act-symbols', '#act-delete', '#thread-filter']) {
    assert.ok(order.some((d) => d.startsWith(want + ':')), want + ' is reachable by Tab: ' + order.slice(0, 30).join(' , '));
  }
  assert.ok(order.some((d) => /^a:Download user dump/.test(d)));
  // The list: filter by triage state, kept in the URL.
  await page.goto(srv.origin + '/list?state=investigating');
  await page.waitForSelector('#uploads tbody tr');
  assert.equal(await page.locator('#uploads tbody tr').count(), 1);
  assert.equal(await page.$eval('#state-filter', (s) => s.value), 'investigating');
  assert.match(await page.textContent('#uploads tbody tr'), /investigating.*Dana/);
  await page.selectOption('#status-filter', 'done');
  await page.waitForFunction(() => location.search.includes('status=done'));
  assert.match(page.url(), /state=investigating/);
  for (const w of [800, 1280, 1920]) assert.equal(await overflowAt(page, w, 'real-list'), 0, 'list: no horizontal overflow at ' + w + ' px');
  await page.setViewportSize({ width: 1280, height: 800 });
  assert.deepEqual(await axeSerious(page), [], 'axe: list page');
  // The signature page from the triage page's link.
  await openTriage(page, ids.crash);
  await page.click('#similar-link');
  await page.waitForSelector('body[data-rendered=yes]');
  assert.equal(await page.locator('svg.daychart rect.bar').count(), 1);
  assert.equal(await page.locator('#uploads tbody tr').count(), 1);
  assert.equal(await overflowAt(page, 800, 'real-signature'), 0);
  assert.deepEqual(await axeSerious(page), [], 'axe: signature page');
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('upload page and view-link holders: limits shown and checked, no server paths, no staff actions; axe clean', { skip: missing || false }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await watchedPage(context);
  await page.goto(srv.origin + '/');
  await page.waitForFunction(() => /2048 bytes/.test(document.querySelector('#limits').textContent));
  await page.setInputFiles('#file-user', path.join(DATA, 'user', 'crashdump-mcp__electron.dmp'));
  await page.fill('#note', 'é'.repeat(1100)); // 2200 bytes in UTF-8
  await page.click('#send');
  assert.match(await page.textContent('#message'), /2200 bytes long; the server takes at most 2048/);
  assert.equal(await page.isVisible('#progress'), false, 'nothing was sent');
  // A kernel dump in the user box: a sentence and a button that moves it.
  await page.setInputFiles('#file-user', path.join(DATA, 'kernel', 'rizin__triage_x64.dmp'));
  await page.waitForSelector('.drop[data-role=user] .wrongbox');
  assert.match(await page.textContent('.drop[data-role=user] .wrongbox'), /looks like a kernel dump, not a user-mode dump/);
  await page.click('.drop[data-role=user] button.swap');
  await page.waitForFunction(() => /rizin__triage_x64/.test(document.querySelector('.drop[data-role=kernel] .chosen').textContent));
  assert.equal(await page.textContent('.drop[data-role=user] .chosen'), '');
  for (const w of [800, 1280, 1920]) assert.equal(await overflowAt(page, w, 'real-upload'), 0);
  assert.deepEqual(await axeSerious(page), [], 'axe: upload page');
  // A view-link holder: no symbol paths, no staff actions, downloads offered.
  const st = await (await fetch(srv.origin + '/api/dumps/' + ids.bugcheck, { headers: { Authorization: 'Bearer ' + srv.token } })).json();
  await page.goto(srv.origin + st.view_url);
  await page.waitForSelector('#report[data-rendered=report]');
  assert.equal(await page.locator('#act-reanalyze, #act-delete, #workflow').count(), 0);
  assert.equal(await page.locator('#actions a', { hasText: 'Download kernel dump' }).count(), 1);
  assert.doesNotMatch(await page.textContent('#modules'), /symbols[\\/]|\.pdb\//);
  assert.deepEqual(await axeSerious(page), [], 'axe: triage page (view link)');
  assert.deepEqual(page.problems, []);
  await context.close();
});
