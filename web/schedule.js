// Schedule previews in the browser, mirroring config/schedule.cpp for the forms it is sure of:
// "every N(s|m|h|d)", "daily HH:MM [ZONE]", "weekly DAY[,DAY] HH:MM [ZONE]", plus each
// integration's spread offset (FNV-1a of its name, within min(period / 10, 5 min)). Anything
// else ("cron ...", an unknown zone, a typo) returns null and the page shows the server's
// next_run instead. Pure functions: tests/web_logic.test.mjs runs them under node.

const MINUTE = 60000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const DAY_NAMES = {
  sunday: 0, monday: 1, tuesday: 2, wednesday: 3, thursday: 4, friday: 5, saturday: 6,
};

function dayValue(word) {
  const w = word.toLowerCase();
  if (/^[0-7]$/.test(w)) return Number(w) % 7;
  const short = DAYS.indexOf(w);
  if (short >= 0) return short;
  return w in DAY_NAMES ? DAY_NAMES[w] : -1;
}

function validZone(zone) {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

// {kind: 'manual'|'every'|'daily'|'weekly', intervalMs, hour, minute, days, zone}, or null
// when the preview cannot be computed here.
export function parseSchedule(spec) {
  const words = String(spec || '').trim().split(/\s+/).filter(Boolean);
  if (!words.length) return { kind: 'manual' };
  const head = words[0].toLowerCase();
  if ((head === 'manual' || head === 'none') && words.length === 1) return { kind: 'manual' };
  if (head === 'every' && words.length === 2) {
    const m = /^(\d+)([smhd])$/.exec(words[1]);
    if (!m || Number(m[1]) <= 0) return null;
    const unit = { s: 1000, m: MINUTE, h: HOUR, d: DAY }[m[2]];
    return { kind: 'every', intervalMs: Number(m[1]) * unit };
  }
  if (head === 'daily' || head === 'weekly') {
    const at = head === 'daily' ? 1 : 2;
    if (words.length <= at || words.length > at + 2) return null;
    let days = [];
    if (head === 'weekly') {
      days = words[1].split(',').map(dayValue);
      if (days.some((d) => d < 0)) return null;
    }
    const t = /^(\d{1,2}):(\d{2})$/.exec(words[at]);
    if (!t || Number(t[1]) > 23 || Number(t[2]) > 59) return null;
    const zone = words[at + 1] || 'UTC';
    if (!validZone(zone)) return null;
    return { kind: head, hour: Number(t[1]), minute: Number(t[2]), days, zone };
  }
  return null;
}

function periodMs(s) {
  if (s.kind === 'every') return s.intervalMs;
  if (s.kind === 'daily') return DAY;
  const set = [...new Set(s.days)].sort((a, b) => a - b);
  let longest = 0;
  for (let i = 1; i < set.length; ++i) longest = Math.max(longest, set[i] - set[i - 1]);
  longest = Math.max(longest, set[0] + 7 - set[set.length - 1]);
  return longest * DAY;
}

// The service spreads integrations on one schedule over a small window so they do not all
// start at once (schedule::spread_offset).
export function spreadOffsetMs(s, name) {
  const window = Math.min(Math.floor(periodMs(s) / 10), 5 * MINUTE);
  if (window <= 0) return 0;
  let h = 1469598103934665603n;
  for (const byte of new TextEncoder().encode(name)) {
    h = ((h ^ BigInt(byte)) * 1099511628211n) & 0xffffffffffffffffn;
  }
  return Number(h % BigInt(window));
}

// Offset of `zone` from UTC at instant `ms`, in ms (positive east of Greenwich).
function zoneOffsetMs(zone, ms) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
    hour: 'numeric', minute: 'numeric', second: 'numeric',
  }).formatToParts(new Date(ms));
  const v = {};
  for (const p of parts) v[p.type] = Number(p.value);
  const asUtc = Date.UTC(v.year, v.month - 1, v.day, v.hour, v.minute, v.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

// The instant of local wall time y-m-d h:mi in `zone`; a time skipped by a DST change maps to
// the transition and a repeated one to its first occurrence (date::choose::earliest); null for
// a skipped time, which the page leaves to the server.
function localToUtc(zone, y, mo, d, h, mi) {
  const wall = Date.UTC(y, mo, d, h, mi);
  const before = wall - zoneOffsetMs(zone, wall - DAY);
  const after = wall - zoneOffsetMs(zone, wall + DAY);
  const candidates = [before, after].filter((t) => t + zoneOffsetMs(zone, t) === wall);
  return candidates.length ? Math.min(...candidates) : null;
}

function localDate(zone, ms) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, year: 'numeric', month: 'numeric', day: 'numeric',
  }).formatToParts(new Date(ms));
  const v = {};
  for (const p of parts) v[p.type] = Number(p.value);
  return { y: v.year, m: v.month - 1, d: v.day };
}

function nextAfter(s, after) {
  if (s.kind === 'every') {
    const n = s.intervalMs;
    return (Math.floor(after / n) + 1) * n;
  }
  const start = localDate(s.zone, after);
  for (let i = 0; i < 15; ++i) {
    const day = new Date(Date.UTC(start.y, start.m, start.d + i));
    if (s.kind === 'weekly' && !s.days.includes(day.getUTCDay())) continue;
    const t = localToUtc(s.zone, day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(),
      s.hour, s.minute);
    if (t === null) return null;
    if (t > after) return t;
  }
  return null;
}

// The next `count` fires after `fromMs` for integration `name`: an array of epoch ms, [] for
// manual, or null when only the server can tell.
export function nextRuns(spec, name, fromMs, count = 5) {
  const s = parseSchedule(spec);
  if (!s) return null;
  if (s.kind === 'manual') return [];
  const offset = spreadOffsetMs(s, name);
  const out = [];
  let t = fromMs;
  while (out.length < count) {
    const n = nextAfter(s, t - offset);
    if (n === null) return null;
    t = n + offset;
    out.push(t);
  }
  return out;
}
