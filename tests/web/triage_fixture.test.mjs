// triage_fixture.test.mjs — the triage page rendering the hand-written
// fixture report (fixtures/report_hang.json, the shape the analyzer's report
// contract promises): side-by-side stacks joined at the system call,
// verdicts, deadlock cycle, marks for scanned frames and modules without
// symbols, folded snapshot frames, idle threads collapsed, copy-as-text,
// hostile strings shown as text, and the fallback without a triage part.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { launch, watchedPage, screenshot, ARTIFACTS } from './lib/browser.mjs';
import { installFakeSite, fixture, ORIGIN } from './lib/fake_site.mjs';
import { hostilize, hostileStrings, assertInert, missingText } from './lib/hostile.mjs';

const XSS = '<img src=x onerror=alert(1)>';
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function openTriage({ report, status, width = 1280, role = 'uploader', csp = true }) {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const seen = [];
  await installFakeSite(context, (req, url) => {
    seen.push(url.pathname + url.search);
    if (url.pathname === '/api/me') return { json: { role } };
    if (url.pathname === '/api/dumps/fixture0001') return { json: status };
    if (url.pathname === '/api/dumps/fixture0001/report') return { json: report };
    return undefined;
  }, { csp });
  const page = await watchedPage(context);
  await page.goto(ORIGIN + '/triage/fixture0001?key=k3y');
  await page.waitForSelector('#report[data-rendered=report]');
  return { context, page, seen };
}

/** The side-by-side rows of one thread's table as [userText, kernelText]. */
async function rows(page, tid) {
  return page.$$eval(`article[data-tid="${tid}"] table.stacks tbody tr:not(.foldrow)`, (trs) => trs.map((tr) => {
    const fr = tr.querySelectorAll('td.fr');
    return { user: fr[0]?.querySelector('.call')?.textContent ?? '', kernel: fr[1]?.querySelector('.call')?.textContent ?? '',
      syscall: tr.classList.contains('syscall'), hidden: tr.hidden };
  }));
}

test('stuck thread: user stack beside kernel stack, joined at the system call', async () => {
  const { context, page, seen } = await openTriage({ report: fixture('report_hang.json'), status: fixture('status_done.json') });
  assert.ok(seen.every((s) => s === '/api/me' || s.includes('key=k3y')), 'the view key goes with every API call: ' + seen.join(' '));
  assert.equal(await page.textContent('#summary-h'), 'hello_block.exe (pid 7312)');
  assert.match(await page.textContent('#summary'), /build 19041\.1\.amd64fre/);
  assert.match(await page.textContent('#summary'), /kernel triage \(procdump -mk\)/);
  assert.match(await page.textContent('#primary .verdict'), /^waiting 3 min in NtReadFile ← ReadFile on a console handle/);

  // The primary thread comes right under the verdict; the other stuck
  // threads follow in the report's order; the idle one is not among them.
  assert.deepEqual(await page.$$eval('#lead article.thread', (a) => a.map((x) => x.dataset.tid)), ['36']);
  const stuck = await page.$$eval('#stuck article.thread', (a) => a.map((x) => x.dataset.tid));
  assert.deepEqual(stuck, ['44', '48']);

  const main = await rows(page, 36);
  const sys = main.filter((r) => r.syscall);
  assert.equal(sys.length, 1, 'exactly one system-call row');
  assert.equal(sys[0].user, 'ntdll!NtReadFile+0x14');
  assert.equal(sys[0].kernel, 'nt!NtReadFile+0x6a3');
  // Above the syscall row only kernel frames (the kernel is deeper), below it
  // the callers: KERNELBASE!ReadFile beside nt!KiSystemServiceCopyEnd.
  const at = main.indexOf(sys[0]);
  assert.equal(at, 6);
  assert.ok(main.slice(0, at).every((r) => r.user === '' && r.kernel.startsWith('nt!')));
  assert.equal(main[at + 1].user, 'KERNELBASE!ReadFile+0x73');
  assert.equal(main[at + 1].kernel, 'nt!KiSystemServiceCopyEnd+0x25');
  assert.equal(main[0].kernel, 'nt!KiSwapContext+0x76');
  assert.equal(await page.textContent('article[data-tid="36"] .verdict'),
    'waiting 3 min in NtReadFile ← ReadFile on a console handle, Executive, not alertable');
  assert.match(await page.textContent('article[data-tid="36"] .facts'), /Waiting for3 min 7 s/);
  assert.match(await page.textContent('article[data-tid="36"] .src'), /hello_block\.c @ 27/);

  await screenshot(page, 'triage-fixture-1280');
  await page.setViewportSize({ width: 1920, height: 1080 });
  await screenshot(page, 'triage-fixture-1920');
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('deadlock cycle, folded snapshot frames, scan frames and missing symbols are shown', async () => {
  const { context, page } = await openTriage({ report: fixture('report_hang.json'), status: fixture('status_done.json') });
  const cycle = await page.$$eval('#deadlocks .cycle .node a', (a) => a.map((x) => x.textContent));
  assert.deepEqual(cycle, ['Thread 0x2c (44)', 'Thread 0x30 (48)', 'Thread 0x2c (44)']);
  assert.deepEqual(await page.$$eval('#deadlocks .cycle .arrow', (a) => a.map((x) => x.textContent)),
    ['waits for 0x7ff6a0a3c0a0, held by →', 'waits for 0x7ff6a0a3c0c8, held by →']);
  assert.match(await page.textContent('article[data-tid="44"] .facts'), /OwnerThread 0x30 \(48\)/);
  assert.match(await page.textContent('article[data-tid="44"] .explanation'), /held by thread 48/);

  // The pairing checks say whether the two dumps belong together.
  const checks = await page.$$eval('#pairing table.checks tbody tr', (trs) => trs.map((tr) => [tr.cells[0].textContent, tr.cells[1].textContent]));
  assert.deepEqual(checks, [['pid', 'match'], ['image', 'match'], ['process create time', 'match'], ['dump time', 'differs']]);
  assert.match(await page.textContent('#pairing .unpaired summary'), /^1 thread in only one dump$/);

  // Thread 44's kernel stack starts with 3 frames the dump writer caused: folded.
  const r44 = await rows(page, 44);
  assert.deepEqual(r44.slice(0, 3).map((r) => [r.kernel, r.hidden]), [
    ['nt!DbgkpLkmdSnapThreadInContext+0x1f', true], ['nt!KiDeliverApc+0x2a1', true], ['nt!KiApcInterrupt+0x2f0', true]]);
  const toggle = page.locator('article[data-tid="44"] tr.foldrow button');
  assert.equal(await toggle.textContent(), '▸ show 3 folded frames (dump snapshot)');
  await toggle.focus();
  await page.keyboard.press('Enter');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  assert.ok((await rows(page, 44)).every((r) => !r.hidden));
  const sys44 = (await rows(page, 44)).find((r) => r.syscall);
  assert.deepEqual([sys44.user, sys44.kernel], ['ntdll!NtWaitForAlertByThreadId+0x14', 'nt!NtWaitForAlertByThreadId+0x30']);

  // A stack-scanned frame in a module without symbols: both marked.
  const scan = page.locator('article[data-tid="48"] .frame.trust-scan');
  assert.equal(await scan.count(), 1);
  assert.equal(await scan.locator('.call').textContent(), 'dfpipe+0x1d2e');
  assert.equal(await scan.locator('.badge.scan').textContent(), 'scan');
  assert.equal(await scan.locator('.badge.nosym').textContent(), 'no symbols');
  assert.match(await page.textContent('#user-modules h3'), /User modules \(5, 1 without symbols\)/);
  assert.match(await page.textContent('#kernel-drivers h3'), /Kernel drivers \(2, 1 without symbols\)/);

  // Idle threads are collapsed; all threads are in the table.
  assert.equal(await page.$eval('#idle details', (d) => d.open), false);
  assert.equal(await page.locator('#threads tbody tr').count(), 4);
  assert.equal(await page.locator('#threads tbody tr.stuck').count(), 3);
  await screenshot(page, 'triage-fixture-details');
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('copy as text gives a WinDbg k listing, kernel frames then user frames', async () => {
  const { context, page } = await openTriage({ report: fixture('report_hang.json'), status: fixture('status_done.json') });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ORIGIN });
  await page.click('article[data-tid="36"] button.copy');
  const text = await page.evaluate(() => navigator.clipboard.readText());
  const lines = text.split('\n');
  assert.equal(lines[0], 'Thread 0x24 (36) “main” [waiting]');
  assert.match(lines[2], /^ # Child-SP +RetAddr +Call Site$/);
  assert.equal(lines[3], '00 ffffd20d`1e8ef0f0 fffff805`618fa0d0 nt!KiSwapContext+0x76');
  assert.equal(lines[9], '06 ffffd20d`1e8ef540 fffff805`61a13ab5 nt!NtReadFile+0x6a3');
  assert.equal(lines[10], '07 ffffd20d`1e8ef7a0 00007ffb`1c58d0e4 nt!KiSystemServiceCopyEnd+0x25');
  assert.equal(lines[11], '08 000000a1`f6bff7a8 00007ffb`19a3f8a3 ntdll!NtReadFile+0x14');
  assert.match(lines[13], /^0a .* hello_block!df_read_stdin\+0x3b \[C:\\build\\hello_block\.c @ 27\]$/);
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('strings from the dump and the upload form are text, never markup', async () => {
  const status = fixture('status_done.json');
  const { context, page } = await openTriage({ report: fixture('report_hang.json'), status });
  await page.click('#idle summary');
  await page.click('#idle details.tgroup summary');
  assert.equal(await page.textContent('article[data-tid="52"] .tname'), XSS);
  assert.match(await page.textContent('#summary'), /Hangs at start-up\. <img src=x onerror=alert\(1\)>/);
  assert.match(await page.textContent('#summary'), /Contoso <b>Ltd<\/b>/);
  assert.equal(await page.locator('img').count(), 0, 'no <img> element was created from data');
  assert.equal(await page.locator('#summary b').count(), 0);
  await page.waitForTimeout(200);
  assert.deepEqual(page.problems, [], 'no dialog, no CSP violation, no error');
  // Every hostile string in the two fixtures (frames, modules, verdicts,
  // explanations, signatures, wait facts, warnings, case, file names, …).
  const hostileIn = [...hostileStrings(fixture('report_hang.json'), 'R'), ...hostileStrings(status, 'S')];
  assert.ok(hostileIn.length >= 30, 'the fixtures carry hostile strings in many fields: ' + hostileIn.length);
  await assertInert(page);
  assert.deepEqual((await missingText(page, 'body', hostileIn, shownAs)).filter((p) => !notShown(p, true)), [], 'each is shown whole, as text');
  assert.ok((await rows(page, 36)).some((r) => r.user === 'hello_block!<img src=x onerror="window.__xss=1">main+0x41'), 'a frame\'s function is text');
  await context.close();
});

test('without a triage part each user thread still shows its stacks, paired by thread id', async () => {
  const report = fixture('report_hang.json');
  delete report.triage;
  const { context, page } = await openTriage({ report, status: fixture('status_done.json') });
  assert.match(await page.textContent('.notice'), /triage part of the analysis is not available/);
  const tids = await page.$$eval('#threads tbody tr', (a) => a.map((x) => x.dataset.tid));
  assert.deepEqual(tids, ['36', '44', '48', '52']);
  assert.deepEqual(await page.$$eval('#threads-view article.thread', (a) => a.map((x) => x.dataset.tid)).then((t) => t.sort()), ['36', '44', '48', '52']);
  // The page finds the join itself: ntdll!NtReadFile beside nt!NtReadFile.
  const sys = (await rows(page, 36)).find((r) => r.syscall);
  assert.deepEqual([sys.user, sys.kernel], ['ntdll!NtReadFile+0x14', 'nt!NtReadFile+0x6a3']);
  assert.equal(await page.locator('#threads tbody tr').count(), 4);
  await screenshot(page, 'triage-fixture-no-triage');
  assert.deepEqual(page.problems, []);
  // The raw parts' hostile frame, module and name strings are text here too.
  const hostileIn = [...hostileStrings(report, 'R'), ...hostileStrings(fixture('status_done.json'), 'S')];
  await assertInert(page, '(no triage)');
  assert.deepEqual((await missingText(page, 'body', hostileIn, shownAs)).filter((p) => !notShown(p, false)), [], 'each is shown whole, as text');
  await context.close();
});

test('a malformed report renders what it can and breaks nothing', async () => {
  const report = { schema_version: 1, user: { threads: [{ thread_id: { x: 1 }, thread_name: ['a'], frames: [null, 5, { ip: 'zz', module: 7 }, { ip: '0x401000' }] }, 'junk'], modules: 'no' },
    kernel: { bugcheck: { code: 0xe2, name: 'MANUALLY_INITIATED_CRASH', parameters: [0, '0x1', {}] }, threads: {} }, triage: null };
  const { context, page } = await openTriage({ report, status: { id: 'fixture0001', status: 'done', files: 'x', summary: null } });
  // A forced dump is a capture, not a crash.
  assert.match(await page.textContent('#summary'), /Capture\s*capture — 0x000000E2 MANUALLY_INITIATED_CRASH/);
  assert.match(await page.textContent('#primary .capture'), /Kernel dump taken on request — 0x000000E2 MANUALLY_INITIATED_CRASH: not a crash/);
  for (let round = 0; round < 3; round++) for (const d of await page.$$('#report details:not([open]) > summary')) await d.click();
  assert.ok((await page.textContent('#threads-view')).includes('0x401000'));
  assert.deepEqual(page.problems, []);
  await context.close();
});

// Every string field of the report and of the status record hostile at
// once (addresses and offsets stay numbers so the stacks still line up).
// Nothing may run or become an element, and each string the page shows
// must be there whole, as text.
const ADDRESS_KEYS = new Set(['ip', 'sp', 'module_offset', 'function_offset', 'base_addr', 'end_addr', 'waits_for', 'code', 'object']);
const STATUS_KEEP = new Set(['id', 'status', 'report_url']);

async function renderHostile({ withTriage, csp = true }) {
  const report = fixture('report_hang.json');
  const status = fixture('status_done.json');
  if (!withTriage) delete report.triage;
  const replaced = [...hostilize(report, { keep: ADDRESS_KEYS, prefix: 'R' }), ...hostilize(status, { keep: STATUS_KEEP, prefix: 'S' })];
  status.report_url = 'javascript:window.__xss=7'; // a link the page builds from a reply: only a path on this site is used
  const { context, page } = await openTriage({ report, status, csp });
  // Open every collapsed part (groups appear inside opened parts) so nothing
  // is judged unseen for being folded.
  for (let round = 0; round < 4; round++) for (const d of await page.$$('#report details:not([open]) > summary')) await d.click();
  for (const b of await page.$$('#report tr.foldrow button')) await b.click();
  return { context, page, replaced };
}

/** Strings the page is not meant to show as text, by path, each with its
 *  reason; everything else must appear whole. */
const NOT_SHOWN = [
  /\.code_id$/, /\.sha256$/, //                         not columns of the page
  /\.trust$/, //                                          decides the "scan" mark, is not text itself
  /\.fold_reason$/, //                                    a badge's tooltip (the fold toggle's label only on a syscall-aligned stack)
  /^S\.summary\./, //                                     the report's own values are shown instead
  /\.symbol_source$/, //                                  a kind is shown (PDB, exports only, none); the server path only to staff
];
const NOT_SHOWN_WITH_TRIAGE = [
  /^R\.(user|kernel)\.threads\[\d+\]\.frames\[/, //       the triage part's frames are shown instead
  /^R\.kernel\.threads\[/, //                             the triage part's thread facts are shown instead
  /^R\.triage\.threads\[\d+\]\.(user|kernel)_frames\[\d+\]\.(module|function|file)$/, // shown through the frame's `display`
  /^R\.triage\.threads\[\d+\]\.(thread_name|category|sources\[\d+\]|state_source)$/, // names come from the user part
  /^R\.triage\.threads\[\d+\]\.syscall\./, //             the syscall row's tooltip
  /^R\.triage\.(primary\.thread_name|process\.image|signature)$/, // the user part's image, the primary's own signature
];
const NOT_SHOWN_WITHOUT_TRIAGE = [
  /^R\.kernel\.threads\[\d+\]\.image$/, //                 shown only for kernel threads of other processes
];
function notShown(path, withTriage) {
  return [...NOT_SHOWN, ...(withTriage ? NOT_SHOWN_WITH_TRIAGE : NOT_SHOWN_WITHOUT_TRIAGE)].some((re) => re.test(path));
}
/** What the page makes of a value it transforms on purpose. */
function shownAs(path, text) {
  if (/^R\.triage\.(checks\[\d+\]\.check|deadlocks\[\d+\]\.kind)$/.test(path)) return text.replace(/_/g, ' '); // "process_create_time" → "process create time"
  if (/^R\.(user|kernel)\.threads\[\d+\]\.frames\[\d+\]\.module$/.test(path)) return text.replace(/\.[^.\\/]*$/, ''); // module!function: no extension
  return text;
}

// The third run is served without the Content-Security-Policy: the page
// itself, not only the policy, must keep the strings inert.
for (const [withTriage, csp] of [[true, true], [false, true], [true, false]]) {
  test(`every string field hostile (${withTriage ? 'triage part' : 'no triage part'}${csp ? '' : ', no CSP'}): shown as text, nothing runs`, async () => {
    const { context, page, replaced } = await renderHostile({ withTriage, csp });
    await assertInert(page, (withTriage ? '(triage' : '(no triage') + (csp ? ')' : ', no CSP)'));
    const missing = (await missingText(page, 'body', replaced, shownAs)).filter((p) => !notShown(p, withTriage));
    assert.deepEqual(missing, [], 'every hostile string the page shows is there whole, as text');
    // Viewport only: a 4000-character unbroken name makes the page tens of
    // thousands of pixels wide, too large for a full-page shot.
    mkdirSync(ARTIFACTS, { recursive: true });
    if (csp) await page.screenshot({ path: path.join(ARTIFACTS, (withTriage ? 'triage-hostile' : 'triage-hostile-no-triage') + '.png') });
    await context.close();
  });
}
