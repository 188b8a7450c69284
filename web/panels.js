// The Sync logs and Configure panels of one integration (modal dialogs: Escape closes them and
// focus returns to the button that opened them).
import { STATUS, exact, short, parseTime, viewerZone, h } from './format.js';
import { nextRuns } from './schedule.js';

const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;

let current = null;  // {doc, ctx} of the open panel

// Tiles are rebuilt by live updates while a panel is open, so the button that opened it may be
// gone when it closes: give the focus to its successor.
function returnFocus(name, action) {
  const b = document.querySelector(`li.tile[data-name="${CSS.escape(name)}"] [data-action="${action}"]`);
  if (b) b.focus();
}
$('logs').addEventListener('close', () => current && returnFocus(current.doc.name, 'logs'));
$('configure').addEventListener('close', () => current && returnFocus(current.doc.name, 'configure'));

// ---- Sync logs -----------------------------------------------------------------------------

function logItem(ev) {
  const ms = parseTime(ev.at);
  const level = ev.level || 'info';
  return h('li', { class: level },
    h('time', { datetime: ev.at || '' }, ms === null ? '' : exact(ms)),
    h('span', { class: 'lvl' }, level),
    h('div', {},
      ev.category && ev.category !== 'none' ? h('span', { class: 'cat' }, `${ev.category}: `) : null,
      ev.message || ev.event || '',
      ev.run_id ? h('span', { class: 'exact' }, ` · run ${ev.run_id}`) : null,
      ev.hint ? h('div', { class: 'hint' }, `What to do: ${ev.hint}`) : null));
}

async function loadLogs() {
  const { doc, ctx } = current;
  const run = $('logs-run').value;
  const errorsOnly = $('logs-errors').checked;
  const q = new URLSearchParams({ limit: '200' });
  if (run) q.set('run', run);
  if (errorsOnly) q.set('level', 'error');
  const list = $('logs-list');
  const status = $('logs-status');
  try {
    const { body } = await ctx.api('GET', `/api/v1/integrations/${enc(doc.name)}/logs?${q}`);
    let events = Array.isArray(body) ? body : (body && body.events) || [];
    // Filtered here as well, so the panel is right whatever the service filtered.
    if (run) events = events.filter((e) => String(e.run_id || '') === run);
    if (errorsOnly) events = events.filter((e) => e.level === 'error');
    // Newest first, whichever order the service sent (equal times: the later entry first).
    events = events.map((e, i) => [e, i])
      .sort(([a, i], [b, j]) => (b.at || '').localeCompare(a.at || '') || j - i)
      .map(([e]) => e);
    list.replaceChildren(...events.map(logItem));
    status.hidden = events.length > 0;
    status.textContent = 'No log events match.';
  } catch (e) {
    status.hidden = false;
    status.textContent = `Could not load the log: ${e.message}`;
  }
}

// Runs for the filter, newest first: from GET .../runs, or, when the service cannot list them,
// from the run ids the log mentions.
async function loadRuns() {
  const { doc, ctx } = current;
  const select = $('logs-run');
  select.replaceChildren(h('option', { value: '' }, 'All runs'));
  let runs = [];
  try {
    const { body } = await ctx.api('GET', `/api/v1/integrations/${enc(doc.name)}/runs?limit=20`);
    runs = Array.isArray(body) ? body : (body && body.runs) || [];
  } catch {
    try {
      const { body } = await ctx.api('GET', `/api/v1/integrations/${enc(doc.name)}/logs?limit=500`);
      const seen = new Map();
      for (const e of Array.isArray(body) ? body : []) {
        if (!e.run_id) continue;
        const r = seen.get(e.run_id) || { run_id: e.run_id };
        if (e.event === 'run_started' || !r.started) r.started = e.at;
        const outcome = /^run \d+ (\w+)/.exec(e.message || '');  // "run 3 error: 6000 fetched…"
        if (e.event === 'run_finished' && outcome) r.status = outcome[1];
        seen.set(e.run_id, r);
      }
      runs = [...seen.values()].sort((a, b) => b.run_id - a.run_id);
    } catch { /* the log still shows every run */ }
  }
  for (const r of runs) {
    const ms = parseTime(r.started);
    select.append(h('option', { value: r.run_id },
      [`Run ${r.run_id}`, r.status, ms === null ? '' : short(ms)].filter(Boolean).join(' · ')));
  }
}

const record = (e) => (e.record !== undefined ? e.record : e.body);

async function loadSetAside() {
  const { doc, ctx } = current;
  const list = $('aside-list');
  try {
    const { body } = await ctx.api('GET', `/api/v1/integrations/${enc(doc.name)}/set-aside`);
    const entries = (body && body.set_aside) || [];
    if (!entries.length) {
      list.replaceChildren(h('li', {}, 'None: every record had its required fields.'));
      return;
    }
    list.replaceChildren(...entries.map((e) => h('li', { class: 'aside' },
      h('div', {}, h('strong', {}, `${e.stream} ${e.id}`), ' lacks ',
        h('strong', { class: 'missing' }, (e.missing || []).map((m) => m.replace(/^\//, '')).join(', '))),
      e.last_seen ? h('div', { class: 'exact' }, `last seen ${exact(parseTime(e.last_seen))}`) : null,
      record(e) !== undefined ? h('details', {}, h('summary', {}, 'Record as received'),
        h('pre', {}, JSON.stringify(record(e), null, 2))) : null)));
  } catch (e) {
    list.replaceChildren(h('li', {}, `Could not load set-aside records: ${e.message}`));
  }
}

async function loadPushes() {
  const { doc, ctx } = current;
  const list = $('pushes-list');
  try {
    const base = `/api/v1/integrations/${enc(doc.name)}/pushes?limit=100&status=`;
    const [failed, conflict] = await Promise.all(
      ['failed', 'conflict'].map((s) => ctx.api('GET', base + s)));
    const items = [...((failed.body && failed.body.items) || []),
      ...((conflict.body && conflict.body.items) || [])].sort((a, b) => a.seq - b.seq);
    if (!items.length) {
      list.replaceChildren(h('li', {}, 'None: the vendor took every pushed record.'));
      return;
    }
    list.replaceChildren(...items.map((it) => h('li', { class: 'aside', 'data-seq': it.seq },
      h('div', {}, h('strong', {}, `${it.entity} ${it.external_id}`), ` ${it.op} · `,
        h('strong', { class: 'missing' }, it.status === 'conflict' ? 'changed at the vendor' : 'refused')),
      it.message ? h('div', {}, it.message) : null,
      (it.errors || []).length ? h('ul', {}, it.errors.map((e) =>
        h('li', {}, `${e.field || 'record'}: ${e.message}`))) : null,
      it.hint ? h('div', { class: 'help' }, it.hint) : null,
      it.updated ? h('div', { class: 'exact' }, `item ${it.seq} · ${exact(parseTime(it.updated))}`) : null)));
  } catch (e) {
    list.replaceChildren(h('li', {}, `Could not load pushes: ${e.message}`));
  }
}

export async function openLogs(doc, ctx) {
  current = { doc, ctx };
  $('logs-title').textContent = `Sync logs · ${doc.name}`;
  $('logs-list').replaceChildren();
  $('logs-errors').checked = false;
  $('logs').showModal();
  await loadRuns();
  await Promise.all([loadLogs(), loadSetAside(), loadPushes()]);
}

$('logs-run').addEventListener('change', loadLogs);
$('logs-errors').addEventListener('change', loadLogs);
for (const b of document.querySelectorAll('[data-close]'))
  b.addEventListener('click', () => b.closest('dialog').close());

// ---- Configure -----------------------------------------------------------------------------

const FIELDS = ['base_url', 'api_key', 'schedule'];
const fieldInput = (f) => $(`cfg-${f.replace('_', '-')}`);
const fieldError = (f) => $(`cfg-${f.replace('_', '-')}-error`);
let saved = {};  // the settings as loaded, to send only what changed

function clearErrors() {
  for (const f of FIELDS) {
    fieldError(f).textContent = '';
    fieldInput(f).removeAttribute('aria-invalid');
  }
  $('cfg-error').hidden = true;
}

// The API's 400 message names what is wrong; put it beside that field when it is one of ours.
function fieldOf(message) {
  const m = message.toLowerCase();
  if (/schedule|interval|cron|time zone|bad day|bad time|'every|'daily|'weekly/.test(m)) return 'schedule';
  if (/api.?key|credential/.test(m)) return 'api_key';
  if (/url|scheme|host|base/.test(m)) return 'base_url';
  return null;
}

function showError(e) {
  const f = e.status === 400 ? fieldOf(e.message) : null;
  const text = e.hint ? `${e.message} — ${e.hint}` : e.message;
  if (f) {
    fieldError(f).textContent = text;
    fieldInput(f).setAttribute('aria-invalid', 'true');
    fieldInput(f).focus();
  } else {
    $('cfg-error').textContent = text;
    $('cfg-error').hidden = false;
  }
}

function renderPreview() {
  const { doc } = current;
  const spec = $('cfg-schedule').value.trim();
  const title = $('cfg-preview-title');
  const list = $('cfg-preview-list');
  const runs = nextRuns(spec, doc.name, Date.now(), 5);
  const zone = viewerZone();
  if (runs && runs.length) {
    title.textContent = `Next runs in your time zone (${zone}):`;
    list.replaceChildren(...runs.map((ms) => h('li', { 'data-ms': ms }, short(ms))));
  } else if (runs) {
    title.textContent = 'Manual: runs only when someone presses Sync now.';
    list.replaceChildren();
  } else if (spec === (saved.schedule || '') && parseTime(doc.next_run) !== null) {
    title.textContent = `Next run (from the service), in your time zone (${zone}):`;
    list.replaceChildren(h('li', {}, short(parseTime(doc.next_run))));
  } else {
    title.textContent = 'The service checks this schedule when you save; the next run shows on ' +
      'the tile afterwards.';
    list.replaceChildren();
  }
}

// The Configure panel's field for a setting an error names (api_key, base_url, schedule).
const FIELD_OF = { api_key: 'cfg-api-key', base_url: 'cfg-base-url', schedule: 'cfg-schedule' };

export async function openConfigure(doc, ctx, focusSetting) {
  current = { doc, ctx };
  clearErrors();
  const st = STATUS[doc.status] || { label: doc.status, icon: '?' };
  $('cfg-title').textContent = `Configure · ${doc.name}`;
  const badge = $('cfg-badge');
  badge.className = `badge ${doc.status}`;
  badge.replaceChildren(h('span', { class: 'icon', 'aria-hidden': 'true' }, st.icon), st.label);
  $('cfg-test-result').hidden = true;
  $('cfg-connect').hidden = true;
  $('cfg-run-after').setAttribute('aria-checked', 'false');
  $('cfg-api-key').value = '';
  $('cfg-base-url').value = '';
  $('cfg-schedule').value = doc.schedule || '';
  saved = { schedule: doc.schedule || '' };
  $('configure').showModal();
  try {
    const { body } = await ctx.api('GET', `/api/v1/integrations/${enc(doc.name)}/config`);
    const c = (body && body.config) || {};
    saved = { base_url: c.base_url || '', schedule: c.schedule || '' };
    $('cfg-base-url').value = saved.base_url;
    $('cfg-schedule').value = saved.schedule;
    const last4 = String(c.api_key_hint || '').replace(/^[^A-Za-z0-9]+/, '').slice(-4);
    $('cfg-api-key').placeholder = last4 ? `••••••••${last4}` : 'not set';
    $('cfg-api-key-help').textContent = last4
      ? `The saved key ends in ${last4}. Leave empty to keep it.`
      : 'No key saved.';
    // Kinds that sign in with OAuth (rest only with settings.oauth) get the Connect button.
    const kind = await ctx.api('GET', `/api/v1/connectors/${enc(c.connector || 'rest')}`);
    const flow = kind.body && kind.body.oauth;
    $('cfg-connect').hidden =
      !(flow && (!flow.optional || (c.settings && c.settings.oauth === true)));
  } catch (e) {
    showError(e);
  }
  renderPreview();
  const field = FIELD_OF[focusSetting];
  if (field) $(field).focus();
}

function changes() {
  const out = {};
  const url = $('cfg-base-url').value.trim();
  const key = $('cfg-api-key').value;
  const schedule = $('cfg-schedule').value.trim();
  if (url !== saved.base_url) out.base_url = url;
  if (key) out.api_key = key;
  if (schedule !== saved.schedule) out.schedule = schedule;
  return out;
}

async function save(e) {
  e.preventDefault();
  const { doc, ctx } = current;
  clearErrors();
  const body = changes();
  const run = $('cfg-run-after').getAttribute('aria-checked') === 'true';
  if (!body.base_url && $('cfg-base-url').value.trim() === '') {
    showError({ status: 400, message: 'the API base URL is required' });
    return;
  }
  if (!Object.keys(body).length && !run) {
    $('configure').close();
    return;
  }
  const button = $('cfg-save');
  button.disabled = true;
  try {
    // PATCH's body is the settings themselves, so "run after saving" is a sync request once
    // the save succeeded.
    if (Object.keys(body).length)
      await ctx.api('PATCH', `/api/v1/integrations/${enc(doc.name)}`, body);
    $('configure').close();
    ctx.setMessage(doc.name, { text: 'Settings saved.' });
    if (run) await ctx.syncNow(doc.name);
    ctx.refresh(doc.name);
  } catch (err) {
    if (err.status === 403) ctx.setRole('viewer');
    showError(err);
  } finally {
    button.disabled = false;
  }
}

async function testConnection() {
  const { doc, ctx } = current;
  const out = $('cfg-test-result');
  const dirty = Object.keys(changes()).length > 0;
  out.hidden = false;
  out.className = 'message';
  out.textContent = 'Testing the saved settings…';
  try {
    const { body } = await ctx.api('POST', `/api/v1/integrations/${enc(doc.name)}/test`);
    out.textContent = (body && body.message) || 'Connected.';
    if (dirty) out.append(h('span', { class: 'hint' }, 'This tested the saved settings: save to test your changes.'));
  } catch (e) {
    out.className = 'message bad';
    out.replaceChildren(...[h('strong', {}, 'Connection failed: '), e.message,
      e.hint ? h('span', { class: 'hint' }, `What to do: ${e.hint}`) : null,
      dirty ? h('span', { class: 'hint' }, 'This tested the saved settings, not your unsaved changes.')
        : null].filter(Boolean));
  }
  ctx.refresh(doc.name);
}

// Signs in with the vendor in this tab: the service makes the PKCE verifier and keeps it; the
// vendor sends the browser back to this page (a loopback address, as RFC 8252 asks), which
// finishes the sign-in (app.js).
async function connectOAuth() {
  const { doc, ctx } = current;
  const back = new URL(window.location.pathname, window.location.origin);
  back.searchParams.set('connect', doc.name);
  try {
    const { body } = await ctx.api('POST', `/api/v1/integrations/${enc(doc.name)}/connect`,
      { step: 'begin', redirect_uri: back.href });
    window.location.assign(body.authorize_url);
  } catch (e) {
    showError(e);
  }
}

async function removeIntegration() {
  const { doc, ctx } = current;
  if (!window.confirm(`Remove ${doc.name} and all its synced data? This cannot be undone.`)) return;
  try {
    await ctx.api('DELETE', `/api/v1/integrations/${enc(doc.name)}`);
    $('configure').close();
    ctx.remove(doc.name);
    ctx.toast(`${doc.name} removed.`);
  } catch (e) {
    showError(e);
  }
}

$('cfg-form').addEventListener('submit', save);
$('cfg-cancel').addEventListener('click', () => $('configure').close());
$('cfg-test').addEventListener('click', testConnection);
$('cfg-connect').addEventListener('click', connectOAuth);
$('cfg-remove').addEventListener('click', removeIntegration);
$('cfg-schedule').addEventListener('input', () => {
  fieldError('schedule').textContent = '';
  $('cfg-schedule').removeAttribute('aria-invalid');
  renderPreview();
});
$('cfg-run-after').addEventListener('click', (e) => {
  const b = e.currentTarget;
  b.setAttribute('aria-checked', b.getAttribute('aria-checked') === 'true' ? 'false' : 'true');
});
