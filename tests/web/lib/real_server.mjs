// real_server.mjs — starts the real `dumptriage serve` ($DT_BIN) on a free
// loopback port with a throw-away data directory and this tree's web/, for
// the end-to-end browser tests; stops it (by its pid) afterwards.  Also the
// test inputs made from tests/data: an unpacked Wine hang dump and a user
// dump whose thread name is hostile markup.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './browser.mjs';

export const BIN = process.env.DT_BIN || path.join(REPO, 'build', 'dumptriage');
export const DATA = process.env.DT_TEST_DATA || path.join(REPO, 'tests', 'data');

/** '' when `dumptriage serve` can run here, else why not (a skip reason). */
export function serverMissing() {
  if (!existsSync(BIN)) return 'no dumptriage binary at ' + BIN;
  const r = spawnSync(BIN, ['serve', '--help'], { encoding: 'utf8', timeout: 10000 });
  return r.status === 0 ? '' : 'this dumptriage has no working `serve` command yet';
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** extra: more `serve` arguments (e.g. ['--symbols', dir]). */
export async function startServer(extra = []) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dt-web-'));
  const port = await freePort();
  const token = 'staff-' + Math.random().toString(16).slice(2) + Math.random().toString(16).slice(2);
  const child = spawn(BIN, ['serve', '--listen', '127.0.0.1:' + port, '--data-dir', path.join(dir, 'data'),
    '--web-dir', path.join(REPO, 'web'), '--admin-token', token, '--workers', '2', '--analysis-timeout', '120',
  ].concat(process.env.DT_ANALYZER ? ['--analyzer', process.env.DT_ANALYZER] : [], extra),
  { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const origin = 'http://127.0.0.1:' + port;
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error('server exited: ' + log);
    try { if ((await fetch(origin + '/healthz')).ok) break; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
    if (i === 99) throw new Error('server did not start: ' + log);
  }
  return {
    origin, token, dir, log: () => log,
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10000);
        await gone;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The Wine hang dump (one thread blocked in ReadFile on stdin), unpacked:
 *  22 MB, large enough for the upload progress to show. */
export function helloBlockDump(dir) {
  const out = path.join(dir, 'hello_block.dmp');
  if (!existsSync(out)) writeFileSync(out, gunzipSync(readFileSync(path.join(DATA, 'wine', 'hello_block.dmp.gz'))));
  return out;
}

/** The Wine multi_hang dump, unpacked: seven named threads, two of them in
 *  a critical-section deadlock. */
export function multiHangDump(dir) {
  const out = path.join(dir, 'multi_hang.dmp');
  if (!existsSync(out)) writeFileSync(out, gunzipSync(readFileSync(path.join(DATA, 'wine', 'multi_hang.dmp.gz'))));
  return out;
}

/** The Wine wait_chain dump, unpacked: a critical section links cyc-A (272)
 *  to its owner cyc-B (268), which waits on a handle (wine/logs/wait_chain.out). */
export function waitChainDump(dir) {
  const out = path.join(dir, 'wait_chain.dmp');
  if (!existsSync(out)) writeFileSync(out, gunzipSync(readFileSync(path.join(DATA, 'wine', 'wait_chain.dmp.gz'))));
  return out;
}

export const XSS_NAME = '<img src=x onerror=alert(1)>';

/** breakpad__thread_name_list.dmp with one thread renamed to XSS_NAME: the
 *  new MINIDUMP_STRING is appended at the end of the file and that thread's
 *  name RVA in the ThreadNames stream (type 24) points to it. */
export function hostileNameDump(dir) {
  const d = readFileSync(path.join(DATA, 'user', 'breakpad__thread_name_list.dmp'));
  const streams = d.readUInt32LE(8), dirRva = d.readUInt32LE(12);
  let patched = false;
  for (let i = 0; i < streams; i++) {
    const e = dirRva + 12 * i;
    if (d.readUInt32LE(e) !== 24) continue;
    const rva = d.readUInt32LE(e + 8);
    const count = d.readUInt32LE(rva);
    if (count < 1) break;
    // MINIDUMP_THREAD_NAME { ULONG32 ThreadId; RVA64 RvaOfThreadName; } — the last one.
    d.writeBigUInt64LE(BigInt(d.length), rva + 4 + 12 * (count - 1) + 4);
    patched = true;
  }
  if (!patched) throw new Error('no ThreadNames stream to patch');
  const name = Buffer.from(XSS_NAME, 'utf16le');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(name.length);
  const out = path.join(dir, 'hostile_thread_name.dmp');
  writeFileSync(out, Buffer.concat([d, len, name, Buffer.alloc(2)]));
  return out;
}

function unpacked(file, dir) {
  if (!file.endsWith('.gz')) return file;
  const out = path.join(dir, 'paired-' + path.basename(file, '.gz'));
  if (!existsSync(out)) writeFileSync(out, gunzipSync(readFileSync(file)));
  return out;
}

/** A paired user + kernel dump of one hung process: tests/data/paired/ (a
 *  file whose name says "kernel" and one that does not; hello_block's real
 *  user dump with a synthesized procdump -mk kernel dump) when the corpus
 *  has one; else the Wine hello_block dump (pid 32, its thread 36 in ReadFile)
 *  with the synthetic procdump -mk style triage dump the kernel track made
 *  for the same pid and tid (tests/fuzz/seeds/fuzz_kdump/synth_triage.dmp).
 *  null when neither is there. */
export function pairedCase(dir) {
  const pd = path.join(DATA, 'paired');
  if (existsSync(pd)) {
    const files = readdirSync(pd).filter((f) => /\.dmp(\.gz)?$/i.test(f));
    const kernel = files.find((f) => /kernel/i.test(f));
    const user = files.find((f) => !/kernel/i.test(f));
    // Sent unpacked: the server takes a gzip part as an archive, and an
    // archive may not come with separate dump parts.
    if (kernel && user) return { user: unpacked(path.join(pd, user), dir), kernel: unpacked(path.join(pd, kernel), dir) };
  }
  const synth = path.join(REPO, 'tests', 'fuzz', 'seeds', 'fuzz_kdump', 'synth_triage.dmp');
  return existsSync(synth) ? { user: helloBlockDump(dir), kernel: synth } : null;
}
