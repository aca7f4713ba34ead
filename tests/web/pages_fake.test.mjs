// pages_fake.test.mjs — the upload and list pages against a scripted API:
// what is sent (multipart parts and fields), the progress line, the plain
// sentences for each server error, the live status after an upload, the
// staff list's filters, signature buckets and in-place refresh, and that
// without a staff session the list shows only the sign-in form.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, watchedPage, screenshot } from './lib/browser.mjs';
import { installFakeSite, fixture, ORIGIN } from './lib/fake_site.mjs';
import { hostile, hostilize, hostileStrings, assertInert, missingText, XSS_IMG } from './lib/hostile.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const MDMP = Buffer.concat([Buffer.from('MDMP\x93\xa7\0\0', 'latin1'), Buffer.alloc(300000, 7)]);
const KDMP = Buffer.concat([Buffer.from('PAGEDU64', 'latin1'), Buffer.alloc(200000, 1)]);

async function uploadPage(api, width = 1280) {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  await installFakeSite(context, api);
  const page = await watchedPage(context);
  await page.goto(ORIGIN + '/');
  return { context, page };
}

test('upload: both dumps sent as multipart parts, then the view link and live status', async () => {
  let posted = null;
  let polls = 0;
  const { context, page } = await uploadPage(async (req, url) => {
    if (url.pathname === '/api/me') return { json: { role: 'uploader' } };
    if (url.pathname === '/api/dumps' && req.method() === 'POST') {
      posted = req.postDataBuffer().toString('latin1');
      await new Promise((r) => setTimeout(r, 300));
      return { status: 202, json: { id: 'u1', status: 'queued', status_url: '/api/dumps/u1?key=abc', view_url: '/triage/u1?key=abc', reused: false } };
    }
    if (url.pathname === '/api/dumps/u1' && url.searchParams.get('key') === 'abc') {
      polls++;
      return { json: { id: 'u1', status: polls < 2 ? 'queued' : polls < 3 ? 'analyzing' : 'done' } };
    }
    return undefined;
  });
  await page.setInputFiles('#file-user', { name: 'app.dmp', mimeType: 'application/octet-stream', buffer: MDMP });
  await page.setInputFiles('#file-kernel', { name: 'app.Kernel.dmp', mimeType: 'application/octet-stream', buffer: KDMP });
  await page.waitForSelector('.drop[data-role=kernel] .ok-text');
  assert.match(await page.textContent('.drop[data-role=user] .chosen'), /app\.dmp — 293 KB — user-mode minidump/);
  assert.match(await page.textContent('.drop[data-role=kernel] .chosen'), /kernel dump/);
  await page.fill('#case_id', 'CASE-1');
  await page.fill('#note', 'hangs on start');
  await screenshot(page, 'upload-chosen');
  await page.click('#send');
  await page.waitForSelector('#result:not([hidden])');
  for (const part of ['name="user"; filename="app.dmp"', 'name="kernel"; filename="app.Kernel.dmp"', 'name="case_id"', 'name="note"']) {
    assert.ok(posted.includes(part), 'multipart has ' + part);
  }
  assert.ok(posted.indexOf('name="note"') < posted.indexOf('name="user"'), 'fields come before the file parts');
  assert.ok(posted.includes('MDMP') && posted.includes('PAGEDU64'));
  assert.equal(await page.getAttribute('#view-link', 'href'), ORIGIN + '/triage/u1?key=abc');
  const seen = new Set();
  for (let i = 0; i < 100 && !seen.has('done'); i++) {
    seen.add(await page.textContent('#job-status'));
    await page.waitForTimeout(100);
  }
  assert.deepEqual([...seen], ['queued', 'analyzing', 'done']);
  assert.equal(await page.textContent('#job-detail a'), 'Open the triage page');
  await screenshot(page, 'upload-done');
  assert.deepEqual(page.problems, []);
  await context.close();
});

for (const [status, code, expect] of [
  [413, 'too_large', /larger than this server accepts/],
  [415, 'unsupported_media_type', /not a format dumptriage reads/],
  [503, 'busy', /server is busy right now/],
  [507, 'insufficient_storage', /out of storage space/],
  [413, null, /larger than this server accepts/],
]) {
  test(`upload error ${status} ${code ?? '(no JSON body)'} reads as a plain sentence`, async () => {
    const { context, page } = await uploadPage((req, url) => {
      if (url.pathname === '/api/dumps' && req.method() === 'POST') {
        return { status, json: code ? { error: { code, message: 'detail from server' } } : null };
      }
      return undefined;
    });
    await page.setInputFiles('#file-archive', { name: 'both.zip', mimeType: 'application/zip', buffer: Buffer.from('PK\x03\x04rest', 'latin1') });
    await page.click('#send');
    await page.waitForSelector('#message .error');
    assert.match(await page.textContent('#message'), expect);
    assert.equal(await page.isVisible('#upload-form'), true, 'the form stays for another try');
    assert.equal(await page.isEnabled('#send'), true);
    if (code === 'too_large') await screenshot(page, 'upload-error');
    await context.close();
  });
}

test('upload: links from the reply are used only when they are paths on this site', async () => {
  const { context, page } = await uploadPage((req, url) => {
    if (url.pathname === '/api/dumps' && req.method() === 'POST') {
      return { status: 202, json: { id: 'ab12', status: 'done', status_url: 'https://elsewhere.example/x', view_url: 'javascript:alert(1)' } };
    }
    return undefined;
  });
  await page.setInputFiles('#file-user', { name: 'a.dmp', mimeType: 'application/octet-stream', buffer: MDMP });
  await page.click('#send');
  await page.waitForSelector('#result:not([hidden])');
  assert.equal(await page.getAttribute('#view-link', 'href'), ORIGIN + '/triage/ab12');
  await page.click('#view-link').catch(() => {});
  assert.deepEqual(page.problems.filter((p) => p.startsWith('dialog')), []);
  await context.close();
});

test('upload: nothing chosen is refused before sending; a non-dump is flagged', async () => {
  let posts = 0;
  const { context, page } = await uploadPage((req, url) => { if (req.method() === 'POST') posts++; return undefined; });
  await page.click('#send');
  assert.match(await page.textContent('#message'), /Choose the dumps first/);
  await page.setInputFiles('#file-user', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await page.waitForSelector('.drop[data-role=user] .warn-text');
  assert.match(await page.textContent('.drop[data-role=user] .chosen'), /not a dump format dumptriage knows/);
  // Choosing an archive replaces the separate dumps: one or the other.
  await page.setInputFiles('#file-archive', { name: 'b.zip', mimeType: 'application/zip', buffer: Buffer.from('PK\x03\x04', 'latin1') });
  await page.waitForSelector('.drop[data-role=file] .ok-text');
  assert.equal(await page.textContent('.drop[data-role=user] .chosen'), '');
  assert.equal(posts, 0);
  await context.close();
});

test('upload: a server in token mode asks for the upload token first', async () => {
  let signedIn = false;
  const { context, page } = await uploadPage((req, url) => {
    if (url.pathname === '/api/me') return { json: { role: signedIn ? 'uploader' : 'anonymous', upload_open: false } };
    if (url.pathname === '/api/login') {
      signedIn = JSON.parse(req.postData()).token === 'up-123';
      return signedIn ? { json: { role: 'uploader' } } : { status: 401, json: { error: { code: 'unauthorized', message: 'bad' } } };
    }
    return undefined;
  });
  await page.waitForSelector('#need-token:not([hidden])');
  assert.equal(await page.isVisible('#upload-form'), false);
  await page.fill('#upload-token', 'nope');
  await page.press('#upload-token', 'Enter');
  await page.waitForSelector('#message .error');
  assert.match(await page.textContent('#message'), /not accepted/);
  await page.fill('#upload-token', 'up-123');
  await page.press('#upload-token', 'Enter');
  await page.waitForLoadState('load');
  await page.waitForFunction(() => document.querySelector('#need-token').hidden && !document.querySelector('#upload-form').hidden);
  assert.equal(await page.isVisible('#upload-form'), true);
  await context.close();
});

test('upload page is keyboard reachable in a sensible order', async () => {
  const { context, page } = await uploadPage(() => undefined);
  const order = [];
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    order.push(await page.evaluate(() => document.activeElement.id || document.activeElement.textContent.trim()));
  }
  const want = ['file-user', 'file-kernel', 'file-archive', 'case_id', 'customer', 'note', 'send'];
  const got = order.filter((x) => want.includes(x));
  assert.deepEqual(got, want);
  await context.close();
});

function listApi(state) {
  return (req, url) => {
    state.calls.push(url.pathname + url.search);
    if (url.pathname === '/api/me') return { json: { role: state.staff ? 'staff' : 'uploader' } };
    if (url.pathname === '/api/login') {
      const ok = JSON.parse(req.postData() || '{}').token === 'sekrit';
      if (ok) state.staff = true;
      return ok ? { json: { role: 'staff' } } : { status: 401, json: { error: { code: 'unauthorized', message: 'bad token' } } };
    }
    if (!state.staff) return { status: 401, json: { error: { code: 'unauthorized', message: 'staff only' } } };
    if (url.pathname === '/api/dumps') {
      const q = url.searchParams.get('q') || '', sig = url.searchParams.get('signature') || '';
      return { json: { items: state.items.filter((it) => (!q || JSON.stringify(it).includes(q)) && (!sig || it.summary?.signature === sig)), next_cursor: null } };
    }
    if (url.pathname === '/api/signatures') return { json: { items: state.signatures } };
    return undefined;
  };
}

test('list: an uploader sees only the sign-in form; staff sign in and get the live list', async () => {
  const done = fixture('status_done.json');
  const state = { staff: false, calls: [], signatures: [
    { signature: done.summary.signature, count: 3, first_seen: '2026-11-20T10:00:00Z', last_seen: '2026-11-29T23:45:12Z' },
    { signature: 'hang|NtWaitForAlertByThreadId|RtlEnterCriticalSection', count: 1, first_seen: '2026-11-28T10:00:00Z', last_seen: '2026-11-28T10:00:00Z' }],
  items: [done, { id: 'f2', status: 'failed', error: 'analyzer timed out after 300 s ' + XSS_IMG, created_at: new Date(Date.now() - 7200e3).toISOString(),
    case_id: 'CASE-9', customer: '\u202EContoso "><script>window.__xss=2</script>', files: [{ role: 'user', size: 5e9 }], summary: { process: 'big.exe', pid: 1 } }] };
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await installFakeSite(context, listApi(state));
  const page = await watchedPage(context);
  await page.goto(ORIGIN + '/list');
  await page.waitForSelector('#login:not([hidden])');
  assert.equal(await page.isVisible('#staff'), false);
  assert.equal(await page.isVisible('nav a[href="/list"]'), false);
  assert.ok(!state.calls.some((c) => c.startsWith('/api/dumps')), 'no list request without staff');
  await screenshot(page, 'list-login');

  await page.fill('#token', 'wrong');
  await page.press('#token', 'Enter');
  await page.waitForSelector('#login-error:text("not accepted")');
  await page.fill('#token', 'sekrit');
  await page.press('#token', 'Enter');
  await page.waitForSelector('#uploads tbody tr');
  assert.equal(await page.locator('#uploads tbody tr').count(), 2);
  const first = await page.$$eval('#uploads tbody tr:first-child td', (tds) => tds.map((t) => t.textContent));
  assert.equal(first[0], 'done');
  assert.equal(first[1], 'hello_block.exepid 7312');
  assert.match(first[3], /^waiting 3 min in NtReadFile/);
  assert.equal(first[6], '22.8 MB');
  assert.match(await page.textContent('#uploads tbody tr:nth-child(2)'), /failed.*analyzer timed out.*big\.exe.*4\.7 GB.*2 h ago/);
  assert.equal(await page.getAttribute('#uploads tbody tr:first-child td:nth-child(2) a', 'href'), '/triage/fixture0001');
  await page.waitForSelector('#buckets li');
  assert.match(await page.textContent('#buckets li:first-child'), /^3hang\|NtReadFile/);

  // Live: a new upload appears without a reload.
  state.items.unshift({ id: 'n3', status: 'queued', created_at: new Date().toISOString(), files: [{ size: 1024 }], summary: {} });
  await page.waitForSelector('#uploads tbody tr[data-id=n3]', { timeout: 10000 });
  await screenshot(page, 'list-staff');

  // Search and signature filters go to the server.
  await page.fill('#q', 'big.exe');
  await page.waitForFunction(() => document.querySelectorAll('#uploads tbody tr').length === 1);
  assert.ok(state.calls.some((c) => c.startsWith('/api/dumps?') && c.includes('q=big.exe')));
  await page.fill('#q', '');
  await page.click('#buckets li:first-child button');
  await page.waitForFunction(() => document.querySelectorAll('#uploads tbody tr').length === 1);
  assert.ok(state.calls.some((c) => c.includes('signature=hang%7CNtReadFile')));
  assert.equal(await page.isVisible('#sig-filter'), true);
  assert.deepEqual(page.problems, []);
  // The hostile case id, verdict, signature, customer and error are text.
  assert.equal(await page.textContent('#sig-filter code'), done.summary.signature);
  await page.click('#buckets li:first-child button'); // the same bucket again: filter off
  await page.waitForFunction(() => document.querySelectorAll('#uploads tbody tr').length === 3);
  const hostileIn = hostileStrings({ items: state.items.map((it) => ({ ...it, files: undefined, note: undefined })) /* not list columns */, signatures: state.signatures }, 'L');
  assert.ok(hostileIn.length >= 5, 'hostile strings in the list: ' + hostileIn.map((h) => h.path).join(' '));
  assert.deepEqual(await missingText(page, 'main', hostileIn), [], 'each is shown whole, as text');
  await assertInert(page, '(list)');
  await context.close();
});

test('list: every string field of the uploads and the signature buckets hostile — text, nothing runs', async () => {
  const done = fixture('status_done.json');
  const failedItem = { id: 'f2', status: 'failed', error: 'timed out', created_at: '2026-11-29T20:00:00Z', case_id: 'CASE-9', customer: 'Fabrikam',
    files: [{ role: 'user', size: 5e9, name: 'big.dmp' }], summary: { process: 'big.exe', pid: 1, bugcheck: 'MANUALLY_INITIATED_CRASH', verdict: 'v', signature: 's' } };
  const signatures = [{ signature: 'hang|NtReadFile', count: 3, first_seen: '2026-11-20T10:00:00Z', last_seen: '2026-11-29T23:45:12Z' }, { signature: 'crash|x', count: '7' }];
  const keep = new Set(['id', 'status', 'created_at', 'first_seen', 'last_seen', 'report_url']);
  const replaced = [...hostilize(done, { keep, prefix: 'D' }), ...hostilize(failedItem, { keep, prefix: 'F' }), ...hostilize(signatures, { keep, prefix: 'B' })];
  // Each upload's signature is also a bucket, so clicking it filters to that row.
  signatures.push({ signature: failedItem.summary.signature, count: 1, last_seen: '2026-11-29T20:00:00Z' });
  done.id = 'javascript:window.__xss=8'; // becomes part of a link: must stay a path on this site
  const state = { staff: true, calls: [], signatures, items: [done, failedItem] };
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await installFakeSite(context, listApi(state));
  const page = await watchedPage(context);
  await page.goto(ORIGIN + '/list');
  await page.waitForSelector('#uploads tbody tr');
  await page.waitForSelector('#buckets li button');
  assert.equal(await page.locator('#uploads tbody tr').count(), 2);
  assert.equal(await page.getAttribute('#uploads tbody tr:first-child td:nth-child(2) a', 'href'), '/triage/javascript%3Awindow.__xss%3D8');
  // Not list columns: files, the note, a done upload's error.
  const notShown = (p) => /\.files\[\d+\]\.|^[DF]\.note$|^D\.error$/.test(p);
  assert.deepEqual((await missingText(page, 'main', replaced)).filter((p) => !notShown(p)), [], 'each is shown whole, as text');
  await page.click('#uploads tbody tr:nth-child(2) button.sig');
  await page.waitForFunction(() => document.querySelectorAll('#uploads tbody tr').length === 1);
  assert.equal(await page.textContent('#sig-filter code'), failedItem.summary.signature);
  await page.screenshot({ path: new URL('./artifacts/list-hostile.png', import.meta.url).pathname });
  await assertInert(page, '(list)');
  await context.close();
});

test('upload: hostile file names, form fields, server messages and failure reasons are text', async () => {
  const names = { user: hostile('u', 0) + '.dmp', kernel: '\u202Epmd.' + hostile('k', 1), file: hostile('a', 2) };
  const serverMsg = hostile('m', 3);
  const reason = hostile('r', 4) + ' ' + hostile('r2', 5);
  let posted = null;
  let fail = true;
  const { context, page } = await uploadPage((req, url) => {
    if (url.pathname === '/api/dumps' && req.method() === 'POST') {
      posted = req.postDataBuffer().toString('utf8');
      if (fail) { fail = false; return { status: 415, json: { error: { code: 'unsupported_media_type', message: serverMsg } } }; }
      return { status: 202, json: { id: 'h1', status: 'queued', status_url: '/api/dumps/h1', view_url: 'javascript:window.__xss=9' } };
    }
    if (url.pathname === '/api/dumps/h1') return { json: { id: 'h1', status: 'failed', error: reason } };
    return undefined;
  });
  await page.setInputFiles('#file-user', { name: names.user, mimeType: 'application/octet-stream', buffer: MDMP });
  await page.setInputFiles('#file-kernel', { name: names.kernel, mimeType: 'application/octet-stream', buffer: KDMP });
  await page.waitForSelector('.drop[data-role=kernel] .ok-text');
  assert.equal(await page.textContent('.drop[data-role=user] .fname'), names.user);
  assert.equal(await page.textContent('.drop[data-role=kernel] .fname'), names.kernel);
  await page.setInputFiles('#file-archive', { name: names.file, mimeType: 'application/zip', buffer: Buffer.from('PK\x03\x04', 'latin1') });
  await page.waitForSelector('.drop[data-role=file] .ok-text');
  assert.equal(await page.textContent('.drop[data-role=file] .fname'), names.file);
  await page.setInputFiles('#file-archive', []);
  await page.setInputFiles('#file-user', { name: names.user, mimeType: 'application/octet-stream', buffer: MDMP });
  await page.setInputFiles('#file-kernel', { name: names.kernel, mimeType: 'application/octet-stream', buffer: KDMP });
  await page.waitForSelector('.drop[data-role=kernel] .ok-text');
  for (const [id, v] of [['#case_id', hostile('c', 1)], ['#customer', hostile('cu', 3)], ['#note', hostile('n', 0)]]) await page.fill(id, v);
  await page.click('#send');
  await page.waitForSelector('#message .error');
  assert.ok((await page.textContent('#message')).includes(' Server said: ' + serverMsg), 'the server\'s message is text');
  await assertInert(page, '(upload error)');
  await page.click('#send');
  await page.waitForSelector('#result:not([hidden])');
  assert.ok(posted.includes('filename="' + names.user.replace(/"/g, '%22') + '"'), 'the hostile file name is sent as the part\'s filename');
  assert.equal(await page.getAttribute('#view-link', 'href'), ORIGIN + '/triage/h1');
  await page.waitForFunction(() => document.querySelector('#job-status').textContent === 'failed');
  assert.equal(await page.textContent('#job-detail'), 'Reason: ' + reason);
  await assertInert(page, '(upload failed)');
  await context.close();
});
