// The Integrations page's plain logic under node's own test runner (node --test): the
// server-sent-events parser, the schedule preview and the summary line. Times are fixed
// instants, never the clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser } from '../web/api.js';
import { nextRuns, parseSchedule, spreadOffsetMs } from '../web/schedule.js';

const iso = (ms) => new Date(ms).toISOString();

test('SSE frames split across chunks, CRLF, comments and multi-line data', () => {
  const frames = [];
  const p = new SseParser((f) => frames.push(f));
  p.push(': heartbeat\n\nevent: status\nda');
  p.push('ta: {"name":"a"}\r');
  p.push('\n\r\nevent: progress\ndata: {"x":\ndata: 1}\n\n');
  p.push('data: plain\n\n');
  p.push('event: removed\ndata: {"name":"b"}\n');  // not finished: no blank line yet
  assert.deepEqual(frames, [
    { event: 'status', data: '{"name":"a"}' },
    { event: 'progress', data: '{"x":\n1}' },
    { event: 'message', data: 'plain' },
  ]);
  p.push('\n');
  assert.deepEqual(frames[3], { event: 'removed', data: '{"name":"b"}' });
});

test('schedules the page can preview, and those it leaves to the server', () => {
  assert.deepEqual(parseSchedule('every 15m'), { kind: 'every', intervalMs: 900000 });
  assert.equal(parseSchedule('manual').kind, 'manual');
  assert.equal(parseSchedule('weekly mon,thu 06:00 UTC').days.join(), '1,4');
  assert.equal(parseSchedule('daily 06:00').zone, 'UTC');
  for (const s of ['cron 0 6 * * *', 'daily 25:00', 'every 0m', 'every 5x', 'weekly xyz 06:00',
    'daily 06:00 Mars/Olympus', 'daily 06:00 UTC extra'])
    assert.equal(parseSchedule(s), null, s);
  assert.equal(nextRuns('cron 0 6 * * *', 'a', 0), null);
  assert.deepEqual(nextRuns('manual', 'a', 0), []);
});

test('the spread offset is FNV-1a of the name within min(period / 10, 5 min)', () => {
  // FNV-1a 64 of "shop" is 0x... ; taken modulo the window as schedule::spread_offset does.
  let h = 1469598103934665603n;
  for (const c of Buffer.from('shop')) h = ((h ^ BigInt(c)) * 1099511628211n) % 2n ** 64n;
  assert.equal(spreadOffsetMs(parseSchedule('daily 06:00'), 'shop'), Number(h % 300000n));
  assert.equal(spreadOffsetMs(parseSchedule('every 1m'), 'shop'), Number(h % 6000n));
});

test('every N: multiples of N after now, shifted by the offset', () => {
  const off = spreadOffsetMs(parseSchedule('every 15m'), 'a');
  const from = Date.UTC(2026, 10, 25, 18, 40) + off;
  assert.deepEqual(nextRuns('every 15m', 'a', from, 2).map(iso),
    [iso(Date.UTC(2026, 10, 25, 18, 45) + off), iso(Date.UTC(2026, 10, 25, 19, 0) + off)]);
});

test('daily and weekly fire at the wall time of their zone, across DST', () => {
  const off = spreadOffsetMs(parseSchedule('daily 06:00 Europe/London'), 'a');
  // 2026-10-25: London leaves summer time (06:00 BST = 05:00 UTC before, 06:00 UTC after).
  assert.deepEqual(nextRuns('daily 06:00 Europe/London', 'a', Date.UTC(2026, 9, 23, 12), 3).map(iso),
    [Date.UTC(2026, 9, 24, 5), Date.UTC(2026, 9, 25, 6), Date.UTC(2026, 9, 26, 6)]
      .map((t) => iso(t + off)));
  // 01:30 happens twice that night: the first (BST) one.
  const off2 = spreadOffsetMs(parseSchedule('daily 01:30 Europe/London'), 'a');
  assert.equal(iso(nextRuns('daily 01:30 Europe/London', 'a', Date.UTC(2026, 9, 24, 12))[0]),
    iso(Date.UTC(2026, 9, 25, 0, 30) + off2));
  // 2026-11-25 is a Wednesday: the next Monday and Thursday 06:00 in New York (UTC-5).
  const off3 = spreadOffsetMs(parseSchedule('weekly mon,thu 06:00 America/New_York'), 'a');
  assert.deepEqual(
    nextRuns('weekly mon,thu 06:00 America/New_York', 'a', Date.UTC(2026, 10, 25, 12), 2).map(iso),
    [Date.UTC(2026, 10, 26, 11), Date.UTC(2026, 10, 30, 11)].map((t) => iso(t + off3)));
});

test('a time skipped by DST is left to the server', () => {
  // 2026-03-29 01:30 does not exist in London.
  assert.equal(nextRuns('daily 01:30 Europe/London', 'zz', Date.UTC(2026, 2, 28, 12), 1), null);
});

test('the summary line counts the statuses present, active always first', async () => {
  const { summaryText } = await import('../web/format.js');
  const docs = [...Array(41).fill({ status: 'active' }), { status: 'error' }, { status: 'error' },
    { status: 'disconnected', running: true }];
  assert.equal(summaryText(docs), '41 active · 2 error · 1 disconnected · 1 syncing');
  assert.equal(summaryText([{ status: 'disabled' }]), '0 active · 1 disabled');
});
