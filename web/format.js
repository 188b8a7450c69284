// Words and times for the page: every time is shown in the viewer's own time zone, relative
// ("12 minutes ago") and exact ("25 Nov 2026, 18:03 GMT").

export const STATUS = {
  active: { label: 'Active', icon: '✓' },
  error: { label: 'Error', icon: '!' },
  disconnected: { label: 'Disconnected', icon: '✕' },
  disabled: { label: 'Disabled', icon: '–' },
  pending: { label: 'Pending', icon: '…' },
};

export const HEALTH = {
  healthy: 'Healthy',
  warning: 'Warning',
  failure: 'Failure',
  off: 'Off',
  unknown: 'Not yet synced',
};

const exactFmt = new Intl.DateTimeFormat(undefined, {
  day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
  timeZoneName: 'short',
});
// This year's dates go without the year: tiles are dense.
const exactThisYearFmt = new Intl.DateTimeFormat(undefined, {
  day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
});
const shortFmt = new Intl.DateTimeFormat(undefined, {
  weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit',
  timeZoneName: 'short',
});
const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export function exact(ms) {
  const d = new Date(ms);
  const thisYear = d.getFullYear() === new Date().getFullYear();
  return (thisYear ? exactThisYearFmt : exactFmt).format(d);
}

export function short(ms) {
  return shortFmt.format(new Date(ms));
}

export function relative(ms, now = Date.now()) {
  const s = Math.round((ms - now) / 1000);
  const a = Math.abs(s);
  if (a < 45) return s <= 0 ? 'just now' : 'in a few seconds';
  if (a < 45 * 60) return rtf.format(Math.round(s / 60), 'minute');
  if (a < 22 * 3600) return rtf.format(Math.round(s / 3600), 'hour');
  return rtf.format(Math.round(s / 86400), 'day');
}

export function parseTime(iso) {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

export function count(n) {
  return new Intl.NumberFormat().format(n);
}

export function viewerZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
}

// "41 active · 2 error · 1 disconnected": the statuses present, in a fixed order.
export function summaryText(docs) {
  const counts = {};
  for (const d of docs) counts[d.status] = (counts[d.status] || 0) + 1;
  const parts = Object.keys(STATUS)
    .filter((k) => counts[k] || k === 'active')
    .map((k) => `${counts[k] || 0} ${k}`);
  const running = docs.filter((d) => d.running).length;
  if (running) parts.push(`${running} syncing`);
  return parts.join(' · ');
}

// Tiny element builder: h('p', {class: 'x', onclick: f}, 'text', child).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}
