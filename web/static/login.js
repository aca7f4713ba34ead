// login.js — the /login page: trades a staff token for the server's
// HttpOnly session cookie, then goes to the list.  The token is never
// stored by the page.

import { $ } from './dom.js';
import { postJSON, ApiError } from './api.js';

$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const err = $('#login-error');
  err.hidden = true;
  try {
    await postJSON('/api/login', { token: $('#token').value });
    location.assign('/list');
  } catch (x) {
    err.hidden = false;
    err.textContent = x instanceof ApiError && (x.info.status === 401 || x.info.status === 403)
      ? 'That token was not accepted.' : (x.info ? x.info.plain : String(x));
  }
});
