// page_actions.js — what a reader can do from the triage page, each
// through the same API a script would use, and offered only to whom the
// server allows it (docs/api.md): download the original files (anyone who
// can see the upload), re-analyse, upload symbols then re-analyse, delete
// (staff).  The server still checks every call; hiding a button is only
// courtesy.  Destructive actions ask for a second click, not a dialog.

import { el, str, arr, isObj, formatBytes } from './dom.js';
import { getJSON, withKey } from './api.js';

function post(path, options = {}) {
  return getJSON(path, { method: 'POST', headers: { Accept: 'application/json' }, ...options });
}

/** The actions bar.  status: the upload object; role: /api/me's role. */
export function actionsBar(status, role, id) {
  const st = isObj(status) ? status : {};
  const base = '/api/dumps/' + encodeURIComponent(id);
  const files = arr(st.files).filter(isObj).filter((f) => ['user', 'kernel', 'archive'].includes(str(f.role)));
  const msg = el('p', { class: 'action-msg', role: 'status', 'aria-live': 'polite' });
  const say = (kind, text) => { msg.className = 'action-msg ' + kind; msg.textContent = text; };
  const downloads = files.map((f) => f.purged === true
    ? el('span', { class: 'muted' }, str(f.role) + ' file deleted by retention')
    : el('a', { class: 'button', href: withKey(base + '/files/' + encodeURIComponent(str(f.role))), download: str(f.name) || null },
      'Download ' + str(f.role) + ' dump' + (typeof f.size === 'number' ? ' (' + formatBytes(f.size) + ')' : '')));
  const staff = role === 'staff';
  const items = [...downloads];
  if (staff) {
    const re = el('button', { type: 'button', id: 'act-reanalyze' }, 'Re-analyse');
    re.addEventListener('click', async () => {
      re.disabled = true;
      try { await post(base + '/reanalyze'); say('ok-text', 'Queued for a new analysis; this page follows it.'); setTimeout(() => location.reload(), 1200); }
      catch (e) { say('error-text', e.info ? e.info.plain + (e.info.message ? ' (' + e.info.message + ')' : '') : String(e)); re.disabled = false; }
    });
    const symInput = el('input', { type: 'file', id: 'act-symbols', multiple: true, accept: '.pdb,.sym,.dll,.exe,.sys,.zip,.7z,.tar,.gz,.xz' });
    const symLabel = el('label', { for: 'act-symbols' }, 'Upload symbols (PDB, PE, .sym), then re-analyse:');
    symInput.addEventListener('change', async () => {
      const list = [...(symInput.files || [])].slice(0, 8);
      if (!list.length) return;
      const data = new FormData();
      list.forEach((f, i) => data.append('file' + (i || ''), f, f.name));
      say('muted', 'Sending ' + list.length + ' file' + (list.length > 1 ? 's' : '') + '…');
      try {
        const res = await post('/api/symbols', { body: data });
        const stored = arr(res && res.stored).length, skipped = arr(res && res.skipped).filter(isObj);
        say('ok-text', stored + ' symbol file' + (stored === 1 ? '' : 's') + ' stored' + (skipped.length ? '; skipped: ' + skipped.map((s) => str(s.name) + ' (' + str(s.reason) + ')').join(', ') : '') + '. Re-analysing…');
        await post(base + '/reanalyze').catch(() => null);
        setTimeout(() => location.reload(), 1200);
      } catch (e) { say('error-text', e.info ? e.info.plain + (e.info.message ? ' (' + e.info.message + ')' : '') : String(e)); }
      symInput.value = '';
    });
    const del = el('button', { type: 'button', id: 'act-delete', class: 'danger' }, 'Delete upload');
    let armed = 0;
    del.addEventListener('click', async () => {
      if (!armed) {
        armed = setTimeout(() => { armed = 0; del.textContent = 'Delete upload'; }, 5000);
        del.textContent = 'Click again to delete for good';
        return;
      }
      clearTimeout(armed);
      del.disabled = true;
      try {
        await getJSON(base, { method: 'DELETE', headers: { Accept: 'application/json' } });
        say('ok-text', 'Deleted.');
        setTimeout(() => location.assign('/list'), 800);
      } catch (e) { say('error-text', e.info ? e.info.plain : String(e)); del.disabled = false; }
    });
    items.push(re, el('span', { class: 'filepick' }, symLabel, symInput), del);
  }
  if (!items.length) return null;
  return el('section', { id: 'actions', class: 'panel actions-bar', 'aria-label': 'Actions' }, el('div', { class: 'action-row' }, items), msg);
}

