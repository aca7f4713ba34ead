// fake_site.mjs — serves web/ and a scripted stand-in of the dumptriage
// API to a browser context through Playwright request interception, with
// the real server's Content-Security-Policy.  Used where a page's own logic
// is under test with exact data (the hand-written fixture report, error
// replies the real server is hard to provoke into); the end-to-end tests in
// server.test.mjs use the real server instead.

import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './browser.mjs';

// localhost: a secure context (the clipboard API needs one); every request
// to it is answered here, none reaches the network.
export const ORIGIN = 'http://localhost:18080';
const WEB = path.join(REPO, 'web');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json' };
// The real server's policy (server/http.c), so a page that would break
// there breaks here too.
const HEADERS = { 'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;" +
  " object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'", 'X-Content-Type-Options': 'nosniff' };

export function fixture(name) {
  return JSON.parse(readFileSync(path.join(REPO, 'tests', 'web', 'fixtures', name), 'utf8'));
}

function staticFile(urlPath) {
  let file = null;
  if (urlPath === '/') file = 'index.html';
  else if (urlPath === '/list') file = 'list.html';
  else if (urlPath === '/login') file = 'login.html';
  else if (urlPath === '/signature') file = 'signature.html';
  else if (/^\/triage\/[^/]+$/.test(urlPath)) file = 'triage.html';
  else if (urlPath.startsWith('/static/') && !urlPath.includes('..')) file = urlPath.slice(1);
  if (!file) return null;
  const full = path.join(WEB, file);
  if (!existsSync(full)) return null;
  return { body: readFileSync(full), contentType: TYPES[path.extname(full)] || 'application/octet-stream' };
}

/** Installs the site on a context.  `api(request, url)` answers /api/*
 *  calls: return {status, json} or undefined for a 404.  `csp: false`
 *  serves without the policy, so a test can see injected script actually
 *  run (window.__xss) rather than only the policy blocking it. */
export async function installFakeSite(context, api, { csp = true } = {}) {
  const headers = csp ? HEADERS : { 'X-Content-Type-Options': HEADERS['X-Content-Type-Options'] };
  await context.route(ORIGIN + '/**', async (route) => {
    const req = route.request();
    const url = new URL(req.url());
    if (url.pathname.startsWith('/api/')) {
      const res = (await api(req, url)) || { status: 404, json: { error: { code: 'not_found', message: 'no such resource' } } };
      await route.fulfill({ status: res.status || 200, contentType: 'application/json', headers,
        body: JSON.stringify(res.json ?? null) });
      return;
    }
    const f = staticFile(url.pathname);
    if (!f) { await route.fulfill({ status: 404, contentType: 'text/plain', body: 'not found' }); return; }
    await route.fulfill({ status: 200, contentType: f.contentType, headers, body: f.body });
  });
}
