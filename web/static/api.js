// api.js — talking to the dumptriage server: JSON requests, the uploader's
// view key carried on every call, and server errors turned into sentences a
// customer understands (the API's error codes are for programs).

/** The ?key= of this page's URL (uploaders' capability), or ''. */
export function viewKey() {
  return new URLSearchParams(location.search).get('key') || '';
}

/** Appends ?key= (or &key=) to an API path when the page has a key. */
export function withKey(path, key = viewKey()) {
  if (!key) return path;
  return path + (path.includes('?') ? '&' : '?') + 'key=' + encodeURIComponent(key);
}

/** A server-given link used only when it is a path on this site (never a
 *  javascript: or another origin's URL); otherwise `fallback`. */
export function sitePath(p, fallback) {
  return typeof p === 'string' && /^\/(?![\/\\])/.test(p) ? p : fallback;
}

const PLAIN = {
  too_large: 'The file is larger than this server accepts.',
  unsupported_media_type: 'That file is not a format dumptriage reads. Send a Windows user-mode dump (.dmp, MDMP), a kernel dump (.Kernel.dmp, MEMORY.DMP, a triage dump), or one .zip/.tar/.7z archive holding them.',
  bad_request: 'The server could not read the request.',
  unauthorized: 'You need to sign in (staff) or use the view link you were given.',
  forbidden: 'This link does not give access to that page.',
  not_found: 'Nothing was found here — the link may be wrong or the upload was deleted.',
  busy: 'The server is busy right now. Please try again in a minute.',
  insufficient_storage: 'The server is out of storage space. Please tell the support engineer; your file was not kept.',
};

const BY_STATUS = { 400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found',
  413: 'too_large', 415: 'unsupported_media_type', 429: 'busy', 503: 'busy', 507: 'insufficient_storage' };

/** An error from a response: {code, message, plain, status}.  `plain` is
 *  the sentence to show; the server's own message is kept as detail. */
export function describeError(status, body) {
  const e = body && typeof body === 'object' && body.error && typeof body.error === 'object' ? body.error : {};
  const code = typeof e.code === 'string' ? e.code : (BY_STATUS[status] || (status >= 500 ? 'server' : 'unknown'));
  const message = typeof e.message === 'string' ? e.message : '';
  let plain = PLAIN[code];
  if (!plain) {
    plain = status === 0 ? 'The connection to the server was lost. Check the network and try again.'
      : status >= 500 ? 'The server had a problem (HTTP ' + status + '). Please try again later.'
        : 'The request failed (HTTP ' + status + ').';
  }
  return { code, message, plain, status };
}

export class ApiError extends Error {
  constructor(info) { super(info.plain); this.info = info; }
}

/** fetch + JSON; throws ApiError with a plain sentence on any failure. */
export async function getJSON(path, options = {}) {
  let res;
  try {
    res = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' }, ...options });
  } catch {
    throw new ApiError(describeError(0, null));
  }
  let body = null;
  try { body = await res.json(); } catch { body = null; }
  if (!res.ok) throw new ApiError(describeError(res.status, body));
  return body;
}

export function postJSON(path, data) {
  return getJSON(path, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(data) });
}
