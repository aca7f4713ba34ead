// bench_browser_upload.mjs — the upload page in headless Chromium sending the
// Wine dumps (tests/data/wine/*.dmp.gz, unpacked: what a customer's
// procdump writes) through tus over a link throttled to 20 Mbit/s upstream
// (DevTools network emulation), with "Compress in the browser" on and off
// (#18): wall time from the click to the result, and bytes on the wire from
// the server's tus_chunk log lines.
//   usage: DT_BIN=build/dumptriage node bench/bench_browser_upload.mjs [MBIT]
// Needs tests/web's node_modules (npm ci --prefix tests/web) and /usr/bin/chromium.
import { readdirSync, mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { launch } from '../tests/web/lib/browser.mjs';
import { startServer, DATA } from '../tests/web/lib/real_server.mjs';

const mbit = Number(process.argv[2] || 20);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dt-bench-browser-'));
const dumps = readdirSync(path.join(DATA, 'wine')).filter((f) => /^(hello_block|multi_hang|wait_chain)\.dmp\.gz$/.test(f)).map((f) => {
  const out = path.join(tmp, f.replace(/\.gz$/, ''));
  writeFileSync(out, gunzipSync(readFileSync(path.join(DATA, 'wine', f))));
  return out;
});
const srv = await startServer();
const browser = await launch();
console.log(`upstream ${mbit} Mbit/s; files: ${dumps.map((d) => path.basename(d)).join(', ')}`);
console.log('| file | size (MB) | compress | seconds | bytes on the wire | wire / size |');
console.log('|---|---:|---|---:|---:|---:|');
try {
  for (const dump of dumps) {
    for (const compress of [false, true]) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(srv.origin + '/');
      await page.waitForSelector('#compress-row:not([hidden])');
      if (!compress) await page.uncheck('#compress');
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: mbit * 1e6 / 8 });
      await page.setInputFiles('#file-user', dump);
      await page.waitForSelector('.drop.has-file .ok-text');
      const mark = srv.log().length;
      const t0 = Date.now();
      await page.click('#send');
      await page.waitForSelector('#result:not([hidden]), #message .error', { timeout: 600000 });
      const s = (Date.now() - t0) / 1000;
      if (!(await page.isVisible('#result'))) throw new Error('upload failed: ' + (await page.textContent('#message')));
      const wire = srv.log().slice(mark).split('\n').filter((l) => l.includes('"event":"tus_chunk"'))
        .reduce((n, l) => n + JSON.parse(l).wire, 0);
      const size = statSync(dump).size;
      console.log(`| ${path.basename(dump)} | ${(size / 1e6).toFixed(1)} | ${compress ? 'gzip' : 'no'} | ${s.toFixed(1)} | ${wire} | ${(wire / size).toFixed(2)} |`);
      await context.close();
    }
  }
} finally {
  await browser.close();
  await srv.stop();
  rmSync(tmp, { recursive: true, force: true });
}
