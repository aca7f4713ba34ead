// nav.js — the top bar's links that depend on who is looking: staff see
// the list and a sign-out button; uploaders (view-key holders) see only
// the upload page, since the list is not theirs to read.

import { getJSON, postJSON } from './api.js';

/** Resolves to /api/me's answer, {role: 'staff'|'uploader'|'anonymous'|'',
 *  upload_open}, with role '' when the server could not say. */
export async function setupNav() {
  let me = {};
  try { me = (await getJSON('/api/me')) || {}; } catch { me = {}; }
  const role = typeof me.role === 'string' ? me.role : '';
  const staff = role === 'staff';
  for (const a of document.querySelectorAll('[data-staff-only]')) a.hidden = !staff;
  const out = document.getElementById('logout');
  if (out) {
    out.hidden = !staff;
    out.addEventListener('click', async () => {
      try { await postJSON('/api/logout', {}); } catch { /* already out */ }
      location.reload();
    });
  }
  return { role, upload_open: me.upload_open !== false };
}
