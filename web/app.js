// The Integrations page: sign-in, the tiles and their live updates. The logs and configure
// panels are in panels.js, the API and events in api.js.
import { api, token, whoami, followEvents } from './api.js';
import { STATUS, HEALTH, exact, relative, parseTime, count, summaryText, h } from './format.js';
import { openLogs, openConfigure } from './panels.js';

const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;

const state = {
  role: 'viewer',
  docs: new Map(),   // name -> status document (status --json)
  local: new Map(),  // name -> what this page knows beyond it: message, countdown, last run
  labels: new Map(), // connector kind -> its label ("Generic REST API"), from /api/v1/connectors
  events: null,
};

function local(name) {
  if (!state.local.has(name)) state.local.set(name, {});
  return state.local.get(name);
}

function announce(text) {
  $('announce').textContent = text;
}

let toastTimer = 0;
function toast(text) {
  const t = $('toast');
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 5000);
}

// ---- sign-in -------------------------------------------------------------------------------

function signedOut(message) {
  if (state.events) state.events.stop();
  state.events = null;
  token.clear();
  $('main').hidden = true;
  $('sign-out').hidden = true;
  $('who').textContent = '';
  $('token-error').textContent = message || '';
  $('token').value = '';
  if (!$('signin').open) $('signin').showModal();
  $('token').focus();
}

async function signIn(t) {
  token.set(t);
  try {
    const me = await whoami();
    state.role = me.role;
  } catch (e) {
    signedOut(e.status === 401 ? 'That token was not accepted.' : e.message);
    return;
  }
  $('signin').close();
  $('main').hidden = false;
  $('sign-out').hidden = false;
  $('who').textContent = state.role === 'admin' ? 'Administrator' : 'View only';
  await loadAll();
  startEvents();
}

const onUnauthorized = () => signedOut('Your session has ended: sign in again.');

// ---- data ----------------------------------------------------------------------------------

async function loadAll() {
  try {
    // Labels are a nicety: a service without them still lists its integrations.
    const kinds = await api('GET', '/api/v1/connectors', undefined, { onUnauthorized })
      .catch(() => ({ body: [] }));
    for (const k of kinds.body || []) state.labels.set(k.name, k.label);
    const { body } = await api('GET', '/api/v1/integrations', undefined, { onUnauthorized });
    state.docs.clear();
    for (const d of body || []) state.docs.set(d.name, d);
    renderAll();
  } catch (e) {
    if (e.status !== 401) toast(`Could not load integrations: ${e.message}`);
  }
}

async function refresh(name) {
  try {
    const { body } = await api('GET', `/api/v1/integrations/${enc(name)}`, undefined,
      { onUnauthorized });
    update(body);
  } catch (e) {
    if (e.status === 404) remove(name);
  }
}

function startEvents() {
  state.events = followEvents({
    onUnauthorized,
    onState: (s) => {
      $('live').dataset.state = s;
      $('live-text').textContent = s === 'live' ? 'Live' : 'Reconnecting…';
      if (s === 'live') loadAll();  // catch up on what changed while disconnected
    },
    onEvent: (name, data) => {
      if (name === 'status') update(data);
      else if (name === 'progress') progress(data);
      else if (name === 'removed') remove(data.name);
    },
  });
}

function update(doc) {
  if (!doc || !doc.name) return;
  // The events stream resends a document whenever any field moved, its `now` included: skip
  // the ones that changed nothing shown, a firm may have thousands of tiles.
  const l = local(doc.name);
  const shown = JSON.stringify({ ...doc, now: null });
  if (l.shown === shown && state.docs.has(doc.name)) return;
  l.shown = shown;
  const before = state.docs.get(doc.name);
  state.docs.set(doc.name, doc);
  if (before && before.status !== doc.status)
    announce(`${doc.name} is now ${STATUS[doc.status]?.label || doc.status}`);
  if (before && before.running && !doc.running) finished(doc, before);
  if (doc.running && doc.progress) l.lastRun = null;
  renderTile(doc);
  renderSummary();
}

function progress(p) {
  const doc = state.docs.get(p.name);
  if (!doc) return;
  doc.running = true;
  doc.progress = p;
  renderTile(doc);
}

// When a run ends the status document drops its progress: read the run's final record so the
// bars can show where it ended (100 % when every stream completed).
async function finished(doc, before) {
  const id = (before.progress && before.progress.run_id) || doc.last_run_id;
  if (!id) return;
  try {
    const { body } = await api('GET', `/api/v1/integrations/${enc(doc.name)}/runs/${id}`);
    local(doc.name).lastRun = body;
    const current = state.docs.get(doc.name);
    if (current && !current.running) renderTile(current);
    announce(`${doc.name}: sync ${body.status === 'ok' ? 'finished' : body.status || 'ended'}`);
  } catch { /* the tile keeps its status; the run is in the logs */ }
}

function remove(name) {
  state.docs.delete(name);
  state.local.delete(name);
  const li = document.querySelector(`li.tile[data-name="${CSS.escape(name)}"]`);
  if (li) li.remove();
  renderSummary();
}

// ---- actions -------------------------------------------------------------------------------

async function syncNow(name) {
  const l = local(name);
  try {
    const { status, body } = await api('POST', `/api/v1/integrations/${enc(name)}/sync`,
      undefined, { onUnauthorized });
    l.lastRun = null;
    l.message = status === 200 || (body && body.joined)
      ? { text: `A sync was already running: joined it (run ${body.run_id}).` }
      : { text: `Sync started (run ${body.run_id}).` };
    const doc = state.docs.get(name);
    if (doc && !doc.running) {
      doc.running = true;
      doc.progress = { run_id: body.run_id, streams: [], percent: null };
    }
  } catch (e) {
    if (e.status === 429 && e.retryAfter) {
      l.retryUntil = Date.now() + e.retryAfter * 1000;
      const why = e.message ? e.message[0].toUpperCase() + e.message.slice(1) : 'Manual sync limit reached';
      l.message = { text: why, hint: e.hint, bad: true };
    } else if (e.status === 403) {
      state.role = 'viewer';
      renderAll();
      return;
    } else {
      l.message = { text: e.message, hint: e.hint, bad: true };
    }
  }
  renderTile(state.docs.get(name));
}

async function toggle(name) {
  const doc = state.docs.get(name);
  const l = local(name);
  const action = doc.enabled ? 'disable' : 'enable';
  try {
    await api('POST', `/api/v1/integrations/${enc(name)}/${action}`, undefined, { onUnauthorized });
    l.message = { text: action === 'disable'
      ? 'Disabled: scheduled syncs stop; the settings are kept.'
      : 'Enabled: scheduled syncs resume.' };
  } catch (e) {
    l.message = { text: e.message, hint: e.hint, bad: true };
  }
  await refresh(name);
}

// ---- rendering -----------------------------------------------------------------------------

function visible(doc) {
  const q = $('search').value.trim().toLowerCase();
  const f = $('filter').value;
  return (!f || doc.status === f) && (!q || doc.name.toLowerCase().includes(q));
}

function renderSummary() {
  const docs = [...state.docs.values()];
  $('summary').textContent = docs.length ? summaryText(docs) : '';
  const shown = docs.filter(visible).length;
  const empty = $('empty');
  empty.hidden = shown > 0;
  empty.textContent = docs.length
    ? 'No integration matches the search and filter.'
    : 'No integrations yet. An administrator adds them with `ledgersync add` or the API.';
}

function renderAll() {
  const list = $('tiles');
  const names = [...state.docs.keys()].sort((a, b) => a.localeCompare(b));
  for (const li of [...list.children]) if (!state.docs.has(li.dataset.name)) li.remove();
  for (const name of names) renderTile(state.docs.get(name));
  // Keep the tiles in name order.
  for (const name of names) list.append(tileElement(name));
  renderSummary();
}

function tileElement(name) {
  let li = document.querySelector(`li.tile[data-name="${CSS.escape(name)}"]`);
  if (!li) {
    li = h('li', { class: 'tile', 'data-name': name });
    $('tiles').append(li);
  }
  return li;
}

function timeFact(label, iso, empty) {
  const ms = parseTime(iso);
  if (ms === null) return [h('dt', {}, label), h('dd', {}, empty)];
  return [h('dt', {}, label), h('dd', {},
    h('time', { datetime: iso, 'data-rel': ms }, relative(ms)), ' ',
    h('span', { class: 'exact' }, `(${exact(ms)})`))];
}

function bar(label, percent, done) {
  const known = typeof percent === 'number';
  const value = known ? Math.max(0, Math.min(100, Math.round(percent))) : null;
  return h('div', { class: 'bar-row' + (label === 'Overall' ? ' total' : '') },
    h('span', {}, label),
    h('div', {
      class: 'bar' + (done ? ' done' : '') + (known ? '' : ' indeterminate'),
      role: 'progressbar', 'aria-label': `${label} progress`, 'aria-valuemin': 0,
      'aria-valuemax': 100, 'aria-valuenow': value,
      'aria-valuetext': known ? `${value} %` : 'working',
    }, h('span', { style: known ? `width:${value}%` : null })),
    h('span', { class: 'pct' }, known ? `${value} %` : '…'));
}

const RUN_END = {
  ok: 'finished',
  error: 'finished, records set aside',
  failed: 'failed',
  cancelled: 'cancelled',
};

function progressBlock(doc, l) {
  if (doc.running && doc.progress) {
    const p = doc.progress;
    const streams = Array.isArray(p.streams) ? p.streams : [];
    const what = p.waiting ? `waiting: ${p.waiting}` : `${count(p.fetched || 0)} fetched`;
    return h('div', { class: 'progress', 'data-run': p.run_id },
      h('span', {}, `Syncing (run ${p.run_id}) · ${what}`),
      bar('Overall', p.percent, false),
      streams.map((s) => bar(s.name, s.percent, s.done)));
  }
  const r = l.lastRun;
  if (!r) return null;
  const streams = Array.isArray(r.streams) ? r.streams : [];
  const complete = streams.length > 0 && streams.every((s) => s.done);
  const overall = complete ? 100 : null;
  return h('div', { class: 'progress', 'data-run': r.run_id, 'data-finished': r.status },
    h('span', {}, `Run ${r.run_id} ${RUN_END[r.status] || r.status}` +
      ` · ${count(r.fetched || 0)} fetched`),
    bar('Overall', overall, complete),
    streams.map((s) => bar(s.name, s.done ? 100 : s.percent, s.done)));
}

// Pushes show only on integrations that have some to show: refused ones, or ones still to send.
function pushFacts(p) {
  if (!p || (!p.failed && !p.open)) return [];
  const parts = [];
  if (p.failed) parts.push(`${count(p.failed)} refused`);
  if (p.open) parts.push(`${count(p.open)} to send`);
  return [h('dt', {}, 'Pushes'), h('dd', { class: 'pushes' }, parts.join(', '))];
}

function renderTile(doc) {
  if (!doc) return;
  const li = tileElement(doc.name);
  const focused = li.contains(document.activeElement) ? document.activeElement.dataset.action : null;
  const l = local(doc.name);
  const st = STATUS[doc.status] || { label: doc.status, icon: '?' };
  const admin = state.role === 'admin';
  li.dataset.status = doc.status;
  li.hidden = !visible(doc);
  const titleId = `t-${doc.name}`;
  li.setAttribute('aria-labelledby', titleId);

  const facts = h('dl', { class: 'facts' },
    timeFact('Last sync', doc.last_sync, 'never'),
    doc.enabled ? timeFact('Next run', doc.next_run, doc.schedule === 'manual' ? 'manual only' : '—')
      : [h('dt', {}, 'Next run'), h('dd', {}, 'disabled')],
    h('dt', {}, 'Schedule'), h('dd', {}, doc.schedule || 'manual'),
    h('dt', {}, 'Set aside'), h('dd', { class: 'set-aside' },
      doc.set_aside ? `${count(doc.set_aside)} record${doc.set_aside === 1 ? '' : 's'}` : 'none'),
    ...pushFacts(doc.pushes));

  const err = doc.last_error;
  const wait = l.retryUntil && l.retryUntil > Date.now()
    ? Math.ceil((l.retryUntil - Date.now()) / 1000) : 0;
  const msgId = `m-${doc.name}`;
  li.replaceChildren(...[
    h('div', { class: 'tile-head' },
      h('div', { class: 'title' }, h('h2', { id: titleId }, doc.name),
        h('div', { class: 'connector' }, state.labels.get(doc.connector) || doc.connector)),
      h('div', {},
        h('span', { class: `badge ${doc.status}`, 'data-testid': 'badge' },
          h('span', { class: 'icon', 'aria-hidden': 'true' }, st.icon), st.label),
        h('div', { class: 'health' }, HEALTH[doc.health] || doc.health))),
    facts,
    doc.stale ? h('p', { class: 'stale', role: 'note' }, '⚠ Stale: no successful sync for longer ' +
      'than the schedule allows.') : null,
    doc.paused ? h('p', { class: 'stale' }, `Paused: ${doc.paused}`) : null,
    err ? h('p', { class: 'problem' }, h('strong', {}, `${err.category}: `), err.message,
      err.hint ? h('span', { class: 'hint' }, `What to do: ${err.hint}`) : null,
      // The error names the settings that fix it: the Configure panel, at the first of them.
      admin && err.action && err.action.op === 'configure' ? h('button', {
        type: 'button', class: 'link', 'data-action': 'fix',
        onclick: () => openConfigure(doc, ctx, (err.action.settings || [])[0]),
      }, 'Fix settings') : null) : null,
    progressBlock(doc, l),
    l.message ? h('p', { class: 'message' + (l.message.bad ? ' bad' : ''), id: msgId },
      l.message.text, l.message.hint ? h('span', { class: 'hint' }, l.message.hint) : null) : null,
    h('div', { class: 'actions' },
      admin ? h('button', {
        type: 'button', class: 'primary', 'data-action': 'sync', disabled: wait > 0 || !doc.enabled,
        'aria-describedby': l.message ? msgId : null, onclick: () => syncNow(doc.name),
        title: doc.enabled ? null : 'Enable the integration to sync it',
      }, wait > 0 ? `Sync now (${wait} s)` : 'Sync now') : null,
      h('button', { type: 'button', 'data-action': 'logs', onclick: () => openLogs(doc, ctx) },
        'Sync logs'),
      admin ? h('button', { type: 'button', 'data-action': 'configure',
        onclick: () => openConfigure(doc, ctx) }, 'Configure') : null,
      h('span', { class: 'grow' }),
      admin ? h('button', { type: 'button', class: 'switch', role: 'switch',
        'aria-checked': doc.enabled ? 'true' : 'false', 'data-action': 'toggle',
        'aria-label': `Enabled: ${doc.name}`, onclick: () => toggle(doc.name) },
      h('span', { class: 'track', 'aria-hidden': 'true' }), doc.enabled ? 'On' : 'Off') : null),
  ].filter(Boolean));
  if (focused) {
    const again = li.querySelector(`[data-action="${focused}"]`);
    if (again && !again.disabled) again.focus();
  }
}

// Live countdowns and relative times, without rebuilding more than needed.
function tick() {
  const now = Date.now();
  for (const [name, l] of state.local) {
    if (!l.retryUntil) continue;
    if (l.retryUntil <= now) {
      l.retryUntil = 0;
      l.message = null;
    }
    renderTile(state.docs.get(name));
  }
}

function tickRelative() {
  for (const t of document.querySelectorAll('time[data-rel]'))
    t.textContent = relative(Number(t.dataset.rel));
}

const ctx = {
  get role() { return state.role; },
  api: (m, p, b) => api(m, p, b, { onUnauthorized }),
  refresh,
  remove,
  syncNow,
  toast,
  announce,
  setMessage(name, message) { local(name).message = message; renderTile(state.docs.get(name)); },
  setRole(role) { state.role = role; renderAll(); },
};

// ---- boot ----------------------------------------------------------------------------------

$('signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const t = $('token').value.trim();
  if (!t) {
    $('token-error').textContent = 'Enter your access token.';
    return;
  }
  signIn(t).then(finishConnect);
});
$('signin').addEventListener('cancel', (e) => e.preventDefault());
$('sign-out').addEventListener('click', () => signedOut(''));
// Filtering hides tiles without rebuilding them: a firm may have thousands.
function applyFilter() {
  for (const li of $('tiles').children) {
    const doc = state.docs.get(li.dataset.name);
    li.hidden = !doc || !visible(doc);
  }
  renderSummary();
}
$('search').addEventListener('input', applyFilter);
$('filter').addEventListener('change', applyFilter);
setInterval(tick, 1000);
setInterval(tickRelative, 30000);

// Back from a vendor's sign-in (the Configure panel's Connect): the redirect carries the code
// and state; the service checks the state and exchanges the code. The URL is cleaned first so
// a reload does not send the code twice.
async function finishConnect() {
  const q = new URLSearchParams(window.location.search);
  const name = q.get('connect');
  if (!name) return;
  window.history.replaceState(null, '', window.location.pathname);
  if (q.get('error')) {
    toast(`Sign-in to ${name} failed: ${q.get('error_description') || q.get('error')}`);
    return;
  }
  try {
    await ctx.api('POST', `/api/v1/integrations/${enc(name)}/connect`,
      { step: 'finish', code: q.get('code') || '', state: q.get('state') || '' });
    toast(`${name} is connected.`);
    refresh(name);
  } catch (e) {
    toast(`Sign-in to ${name} failed: ${e.message}`);
  }
}

if (token.get()) signIn(token.get()).then(finishConnect);
else signedOut('');
