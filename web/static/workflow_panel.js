// workflow_panel.js — the support team's record on the triage page (staff
// only): triage state, assignee, ticket reference and the comment thread,
// read and written through /api/dumps/{id}/workflow and /comments
// (docs/api.md, "Workflow").  Comment text is placed as text.

import { el, str, arr, isObj, setChildren, formatTime } from './dom.js';
import { getJSON } from './api.js';

export const STATES = [['new', 'New'], ['investigating', 'Investigating'], ['waiting_for_customer', 'Waiting for customer'], ['resolved', 'Resolved']];

function send(path, method, data) {
  return getJSON(path, { method, headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(data) });
}

function commentNode(c) {
  const who = isObj(c.author) ? str(c.author.name) || 'token ' + str(c.author.token_id) : 'deleted token';
  return el('li', { class: 'comment' }, el('div', { class: 'small muted' }, who + ' — ' + formatTime(c.created_at)), el('p', { class: 'ctext' }, str(c.text)));
}

export function workflowPanel(id) {
  const base = '/api/dumps/' + encodeURIComponent(id);
  const state = el('select', { id: 'wf-state' }, STATES.map(([v, t]) => el('option', { value: v }, t)));
  const assignee = el('input', { type: 'text', id: 'wf-assignee', maxlength: '200', autocomplete: 'off' });
  const ticket = el('input', { type: 'text', id: 'wf-ticket', maxlength: '200', autocomplete: 'off' });
  const save = el('button', { type: 'submit', class: 'primary', id: 'wf-save' }, 'Save');
  const saved = el('span', { class: 'muted small', role: 'status', 'aria-live': 'polite', id: 'wf-saved' });
  const list = el('ol', { class: 'comments', id: 'wf-comments' });
  const text = el('textarea', { id: 'wf-text', rows: '3', maxlength: '8000' });
  const add = el('button', { type: 'submit', id: 'wf-add' }, 'Add comment');
  const err = el('p', { class: 'error', role: 'alert', hidden: true });
  const show = (w) => {
    if (!isObj(w)) return;
    state.value = STATES.some(([v]) => v === w.state) ? w.state : 'new';
    assignee.value = str(w.assignee);
    ticket.value = str(w.ticket);
    saved.textContent = str(w.updated_at) ? 'Last changed ' + formatTime(w.updated_at) + (isObj(w.updated_by) && str(w.updated_by.name) ? ' by ' + str(w.updated_by.name) : '') : '';
    setChildren(list, arr(w.comments).filter(isObj).map(commentNode));
    if (!arr(w.comments).length) list.append(el('li', { class: 'muted' }, 'No comments yet.'));
  };
  const fail = (e) => { err.hidden = false; err.textContent = e && e.info ? e.info.plain + (e.info.message ? ' (' + e.info.message + ')' : '') : String(e); };
  const form = el('form', { class: 'wf-form', id: 'wf-form' },
    el('label', { for: 'wf-state' }, 'State'), state,
    el('label', { for: 'wf-assignee' }, 'Assignee'), assignee,
    el('label', { for: 'wf-ticket' }, 'Ticket'), ticket,
    el('span', null), el('span', { class: 'wf-save' }, save, ' ', saved));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.hidden = true;
    try { show(await send(base + '/workflow', 'PATCH', { state: state.value, assignee: assignee.value.trim(), ticket: ticket.value.trim() })); saved.textContent = 'Saved. ' + saved.textContent; }
    catch (x) { fail(x); }
  });
  const cform = el('form', { class: 'wf-comment', id: 'wf-comment-form' }, el('label', { for: 'wf-text' }, 'New comment'), text, el('div', null, add));
  cform.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.hidden = true;
    if (!text.value.trim()) { text.focus(); return; }
    try { show(await send(base + '/comments', 'POST', { text: text.value })); text.value = ''; }
    catch (x) { fail(x); }
  });
  const node = el('section', { id: 'workflow', class: 'panel', 'aria-labelledby': 'workflow-h' },
    el('h2', { id: 'workflow-h' }, 'Workflow'), form, err,
    el('h3', null, 'Comments'), list, cform);
  getJSON(base + '/workflow').then(show).catch(fail);
  return node;
}
