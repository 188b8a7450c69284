// Talking to /api/v1: the bearer token (kept in sessionStorage: this tab only), JSON requests,
// the role, and server-sent events read with fetch() because EventSource cannot send headers.

const TOKEN_KEY = 'ledgersync.token';

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) || '',
  set: (t) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || '';
    this.hint = e.hint || '';
    this.retryAfter = retryAfter;
  }
}

// Resolves {status, body}; rejects with ApiError for any status >= 400. A 401 also calls
// onUnauthorized so the page can ask for a token again.
export async function api(method, path, body, { onUnauthorized } = {}) {
  const headers = { Authorization: `Bearer ${token.get()}` };
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (res.status >= 400) {
    const retry = parseInt(res.headers.get('Retry-After') || '', 10);
    const err = new ApiError(res.status, json, Number.isFinite(retry) ? retry : 0);
    if (res.status === 401 && onUnauthorized) onUnauthorized(err);
    throw err;
  }
  return { status: res.status, body: json };
}

// 'admin' or 'viewer'. GET /api/v1/whoami when the service has it; otherwise an admin-only
// route with a body every handler refuses (a JSON array where an object is required): the role
// check comes first, so a viewer gets 403 and an admin 400, and nothing is ever changed.
export async function whoami() {
  try {
    const { body } = await api('GET', '/api/v1/whoami');
    if (body && (body.role === 'admin' || body.role === 'viewer')) return body;
  } catch (e) {
    if (e.status === 401) throw e;
  }
  try {
    await api('POST', '/api/v1/integrations', '[]');
    return { role: 'admin' };
  } catch (e) {
    if (e.status === 401) throw e;
    return { role: e.status === 403 ? 'viewer' : 'admin' };
  }
}

// Splits a text/event-stream into {event, data} frames (the WHATWG rules that matter here:
// lines end in \n, \r\n or \r; a blank line ends a frame; ':' starts a comment; several
// data: lines join with \n; the event name defaults to 'message'). Feed chunks with push().
export class SseParser {
  constructor(onFrame) {
    this.onFrame = onFrame;
    this.buf = '';
    this.event = '';
    this.data = [];
  }
  push(chunk) {
    this.buf += chunk;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) break;
      // A lone \r at the end of a chunk may be the first half of \r\n: wait for more.
      if (m[0] === '\r' && m.index === this.buf.length - 1) break;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      this.line(line);
    }
  }
  line(line) {
    if (line === '') {
      if (this.data.length) this.onFrame({ event: this.event || 'message', data: this.data.join('\n') });
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
  }
}

// Follows /api/v1/events until stop() is called, reconnecting with a growing pause (1 s up to
// 30 s). onEvent(name, data) gets parsed JSON; onState('live'|'down') says whether it is connected.
export function followEvents({ onEvent, onState, onUnauthorized }) {
  let stopped = false;
  let controller = null;
  let pause = 1000;
  async function run() {
    while (!stopped) {
      controller = new AbortController();
      try {
        const res = await fetch('/api/v1/events', {
          headers: { Authorization: `Bearer ${token.get()}`, Accept: 'text/event-stream' },
          signal: controller.signal,
        });
        if (res.status === 401) {
          onUnauthorized && onUnauthorized();
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        onState('live');
        pause = 1000;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        const parser = new SseParser(({ event, data }) => {
          let parsed = null;
          try { parsed = JSON.parse(data); } catch { return; }
          onEvent(event, parsed);
        });
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.push(value);
        }
      } catch (e) {
        if (stopped) return;
      }
      if (stopped) return;
      onState('down');
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 30000);
    }
  }
  run();
  return { stop() { stopped = true; if (controller) controller.abort(); } };
}
