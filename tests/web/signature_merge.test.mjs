// signature_merge.test.mjs — #19: the signature page of a bucket that was
// merged when symbols arrived, against the real server in Chromium.  The
// Wine hello_block dump is uploaded without its PDB (signature A ends in
// the bare module); staff upload hello_block.pdb, the re-analysis moves the
// upload to B (…|hello_block!df_read_stdin|…).  Opening the old page
// /signature?s=A follows the server's 307: the page shows B, says A was
// merged into it, lists the upload, and B's facts name A under "Merged
// from"; axe finds no serious violation, no horizontal overflow at 800 px.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { launch, watchedPage } from './lib/browser.mjs';
import { startServer, serverMissing, DATA } from './lib/real_server.mjs';
import { overflowAt, axeSerious } from './lib/checks.mjs';

const missing = serverMissing();
const A = 'hang|kernelbase!readfile|hello_block|-|-';
const B = 'hang|kernelbase!readfile|hello_block!df_read_stdin|-|-';
let browser, srv, id;

const auth = () => ({ Authorization: 'Bearer ' + srv.token });
async function status(upload) {
  return (await (await fetch(srv.origin + '/api/dumps/' + upload, { headers: auth() })).json());
}
async function waitDone(upload) {
  for (let i = 0; i < 1200; i++) {
    const st = await status(upload);
    if (st.status === 'done') return st;
    if (st.status === 'failed') throw new Error('analysis failed: ' + st.error);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('analysis did not finish');
}

before(async () => {
  if (missing) return;
  // only the server's own symbol store: nothing from this environment
  delete process.env.DUMPTRIAGE_SYMBOL_PATH;
  delete process.env._NT_SYMBOL_PATH;
  process.env.DUMPTRIAGE_SYMBOL_OFFLINE = '1';
  browser = await launch();
  srv = await startServer();
  const form = new FormData();
  form.append('user', new Blob([readFileSync(path.join(DATA, 'wine', 'hello_block.dmp.gz'))]), 'hello_block.dmp.gz');
  const res = await fetch(srv.origin + '/api/dumps', { method: 'POST', body: form, headers: auth() });
  assert.equal(res.status, 202);
  id = (await res.json()).id;
  assert.equal((await waitDone(id)).summary.signature, A);
  const sym = await fetch(srv.origin + '/api/symbols?name=hello_block.pdb', { method: 'POST', headers: auth(),
    body: readFileSync(path.join(DATA, 'wine', 'bin', 'clang', 'hello_block.pdb')) });
  assert.equal(sym.status, 201);
  assert.equal((await sym.json()).reports_queued, 1);
  assert.equal((await waitDone(id)).summary.signature, B);
});
after(async () => { await browser?.close(); await srv?.stop(); });

test('the old signature page shows the bucket it was merged into', { skip: missing || false }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await watchedPage(context);
  await page.goto(srv.origin + '/login');
  await page.fill('#token', srv.token);
  await page.press('#token', 'Enter');
  await page.waitForURL(/\/list/);
  await page.goto(srv.origin + '/signature?s=' + encodeURIComponent(A));
  await page.waitForSelector('body[data-rendered=yes]');
  assert.equal(await page.textContent('#sig'), B);
  assert.equal(new URL(page.url()).searchParams.get('s'), B, 'the address now names the bucket shown');
  assert.match(await page.textContent('#merged-note'), /^Merged: hang\|kernelbase!readfile\|hello_block\|-\|- is an earlier signature/);
  assert.match(await page.textContent('#merged-from'), /hello_block\|-\|- — 1 upload, when symbols arrived/);
  assert.equal(await page.locator('#uploads tbody tr').count(), 1);
  assert.equal(await page.getAttribute('#uploads tbody tr', 'data-id'), id);
  assert.equal(await page.locator('svg.daychart rect.bar').count(), 1);
  assert.equal(await overflowAt(page, 800, 'signature-merged'), 0);
  await page.setViewportSize({ width: 1280, height: 800 });
  assert.deepEqual(await axeSerious(page), [], 'axe: merged signature page');
  // The new bucket's own page: no note, the same "Merged from".
  await page.goto(srv.origin + '/signature?s=' + encodeURIComponent(B));
  await page.waitForSelector('body[data-rendered=yes]');
  assert.equal(await page.locator('#merged-note').count(), 0);
  assert.equal(await page.locator('#merged-from').count(), 1);
  assert.deepEqual(page.problems, []);
  await context.close();
});
