// The Integrations page in real headless Chromium (Debian's), driven by playwright-core, against
// a real service set up by tests/browser.sh. Each scenario is asserted; screenshots at desktop
// (1280x800) and phone (375x812) width go to $LEDGERSYNC_ARTEFACTS. Waits are on what the page
// shows (bounded), never fixed sleeps, except where the point is to watch time pass.
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const require = createRequire(path.join(root, 'tools/npm/'));
const { chromium } = require('playwright-core');

const env = (k) => {
  if (!process.env[k]) throw new Error(`tests/browser.mjs: ${k} is not set (run tests/browser.sh)`);
  return process.env[k];
};
const base = env('LEDGERSYNC_URL');
const adminToken = env('ADMIN_TOKEN');
const viewerToken = env('VIEWER_TOKEN');
const sandbox = env('SANDBOX_URL');
const artefacts = path.resolve(process.env.LEDGERSYNC_ARTEFACTS || path.join(root, 'build/artefacts'));
mkdirSync(artefacts, { recursive: true });
const WAIT = 30000;

let pass = 0;
let fail = 0;
const shots = [];
async function check(what, fn) {
  try {
    await fn();
    pass += 1;
    console.log(`ok   - ${what}`);
  } catch (e) {
    fail += 1;
    console.log(`FAIL - ${what}: ${String(e.message).split('\n').slice(0, 4).join(' | ')}`);
  }
}
function expect(cond, message) {
  if (!cond) throw new Error(message);
}
async function shot(page, name) {
  const file = path.join(artefacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  shots.push(file);
}
// A failed scenario must not leave a modal open over the next one.
const closeDialogs = (page) => page.evaluate(() => {
  for (const d of document.querySelectorAll('dialog[open]')) if (d.id !== 'signin') d.close();
});
const tile = (page, name) => page.locator(`li.tile[data-name="${name}"]`);

async function signIn(page, token) {
  await page.goto(base + '/');
  await page.locator('#token').fill(token);
  await page.locator('#signin-submit').click();
  await page.locator('li.tile').first().waitFor({ timeout: WAIT });
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
try {
  const desktop = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await desktop.newPage();
  page.on('pageerror', (e) => console.log(`page error: ${e.message}`));

  await check('an admin signs in and sees a tile per integration and the summary', async () => {
    await signIn(page, adminToken);
    for (const n of ['arrears', 'bank-feed', 'books', 'payroll'])
      await tile(page, n).waitFor({ timeout: WAIT });
    await page.locator('#summary', { hasText: /\d+ active · / }).waitFor({ timeout: WAIT });
    await page.locator('#live[data-state="live"]').waitFor({ timeout: WAIT });
    const badge = tile(page, 'arrears').locator('[data-testid="badge"]');
    expect(/Error/.test(await badge.innerText()), 'arrears (records set aside) shows Error');
    expect((await tile(page, 'arrears').innerText()).includes('2 records'), 'set-aside count shown');
    expect((await tile(page, 'arrears').locator('.connector').innerText()) === 'Generic REST API',
      'the tile names its connector by its label');
    const bad = tile(page, 'bank-feed').locator('[data-testid="badge"]');
    expect(/Disconnected/.test(await bad.innerText()), 'bank-feed (refused key) shows Disconnected');
    expect(/\(.*\d{1,2}:\d{2}.*\)/.test(await tile(page, 'arrears').locator('dd').first().innerText()),
      'last sync is shown relative and exact');
  });
  await shot(page, 'desktop-overview');

  await check('search by name and filter by status', async () => {
    await page.locator('#search').fill('book');
    expect(await page.locator('li.tile:visible').count() === 1, 'one tile matches "book"');
    await page.locator('#search').fill('');
    await page.locator('#filter').selectOption('disconnected');
    expect(await page.locator('li.tile:visible').count() === 1, 'one disconnected tile');
    await page.locator('#filter').selectOption('');
  });

  await check('Sync now: the run starts, a second press joins it, the bar reaches 100 %', async () => {
    // Slow upstream pages so the run lasts long enough to watch.
    await fetch(`${sandbox}/_sandbox/fault?kind=slow&count=16&delay_ms=400`, { method: 'POST' });
    const t = tile(page, 'books');
    await t.locator('[data-action="sync"]').click();
    await t.locator('.message', { hasText: /Sync started \(run \d+\)/ }).waitFor({ timeout: WAIT });
    await t.locator('.progress[data-run]').waitFor({ timeout: WAIT });
    await t.locator('[data-action="sync"]').click();
    await t.locator('.message', { hasText: /joined it/ }).waitFor({ timeout: WAIT });
    await t.locator('.bar-row.total [role="progressbar"][aria-valuenow]').first()
      .waitFor({ timeout: WAIT });
    await shot(page, 'desktop-sync-progress');
    await t.locator('.progress[data-finished] .bar-row.total [aria-valuenow="100"]')
      .waitFor({ timeout: 60000 });
    expect((await t.locator('.progress').innerText()).includes('100 %'), 'the bar reads 100 %');
  });

  await check('pressing Sync now twice quickly when the allowance is used shows a countdown', async () => {
    const button = tile(page, 'books').locator('[data-action="sync"]');
    await button.evaluate((b) => { b.click(); b.click(); });
    await tile(page, 'books').locator('[data-action="sync"]:disabled', { hasText: /\(\d+ s\)/ })
      .waitFor({ timeout: WAIT });
    const first = Number((await button.innerText()).match(/\((\d+) s\)/)[1]);
    await page.waitForTimeout(2200);  // the point: the countdown moves on its own
    const later = Number((await button.innerText()).match(/\((\d+) s\)/)[1]);
    expect(later < first, `the countdown goes down (${first} -> ${later})`);
    await shot(page, 'desktop-rate-limited');
    expect(await tile(page, 'books').locator('.message.bad', { hasText: /limit/ }).count() === 1,
      'the tile says the manual sync limit is reached');
  });

  await check('the toggle disables an integration and the badge says Disabled', async () => {
    const t = tile(page, 'payroll');
    await t.locator('[data-action="toggle"]').click();
    await t.locator('[data-testid="badge"]', { hasText: 'Disabled' }).waitFor({ timeout: WAIT });
    expect(await t.locator('[data-action="toggle"]').getAttribute('aria-checked') === 'false',
      'the switch is off');
  });

  await check('Sync logs: events with errors highlighted, a run filter, set-aside records', async () => {
    await tile(page, 'arrears').locator('[data-action="logs"]').click();
    await page.locator('#logs[open]').waitFor({ timeout: WAIT });
    await page.locator('#logs-list li').first().waitFor({ timeout: WAIT });
    const error = page.locator('#logs-list li.error').first();
    await error.waitFor({ timeout: WAIT });
    expect(/validation: .*What to do: \S+/s.test(await error.innerText()),
      'an error is highlighted with its category and hint');
    const aside = page.locator('#aside-list li.aside');
    await aside.first().waitFor({ timeout: WAIT });
    expect(await aside.count() === 2, `two set-aside records (got ${await aside.count()})`);
    expect(/payments .* lacks \S+/.test(await aside.first().innerText()),
      'a set-aside record says what it lacks');
    await aside.first().locator('summary').click();
    expect(await aside.first().locator('pre').isVisible(), 'the record as received opens');
    const runs = page.locator('#logs-run option');
    expect(await runs.count() >= 2, 'runs are listed for the filter');
    const run = await runs.nth(1).getAttribute('value');
    await page.locator('#logs-run').selectOption(run);
    await page.waitForFunction((r) => {
      const items = [...document.querySelectorAll('#logs-list li')];
      return items.length > 0 && items.every((li) => li.textContent.includes(`run ${r}`));
    }, run, { timeout: WAIT });
    await shot(page, 'desktop-logs');
    await page.keyboard.press('Escape');
    await page.locator('#logs').waitFor({ state: 'hidden', timeout: WAIT });
  });
  await closeDialogs(page);

  await check('Configure: a bad schedule is refused beside the field; a good one saves', async () => {
    await tile(page, 'arrears').locator('[data-action="configure"]').click();
    await page.locator('#configure[open]').waitFor({ timeout: WAIT });
    await page.locator('#cfg-base-url').waitFor();
    await page.waitForFunction(() => document.querySelector('#cfg-base-url').value !== '');
    expect(/[•]+\w{4}$/.test(await page.locator('#cfg-api-key').getAttribute('placeholder')),
      'the API key shows only its last 4 characters');
    expect(await page.locator('#cfg-api-key').getAttribute('type') === 'password', 'key is masked');
    await page.locator('#cfg-schedule').fill('every 5x');
    await page.locator('#cfg-save').click();
    await page.locator('#cfg-schedule[aria-invalid="true"]').waitFor({ timeout: WAIT });
    expect((await page.locator('#cfg-schedule-error').innerText()).length > 5, 'message beside it');
    await page.locator('#cfg-schedule').fill('daily 06:00 Europe/London');
    expect(await page.locator('#cfg-preview-list li').count() === 5, 'five next runs previewed');
    const first = await page.locator('#cfg-preview-list li').first().getAttribute('data-ms');
    await shot(page, 'desktop-configure');
    await page.locator('#cfg-save').click();
    await page.locator('#configure').waitFor({ state: 'hidden', timeout: WAIT });
    await tile(page, 'arrears').locator('dd', { hasText: 'daily 06:00 Europe/London' })
      .waitFor({ timeout: WAIT });
    // The page's preview is the service's own next run, to the millisecond.
    await tile(page, 'arrears').locator(`time[data-rel="${first}"]`).waitFor({ timeout: WAIT });
  });
  await closeDialogs(page);

  await check('"Run integration after saving" starts a sync once saved', async () => {
    await tile(page, 'arrears').locator('[data-action="configure"]').click();
    await page.locator('#configure[open]').waitFor({ timeout: WAIT });
    await page.waitForFunction(() => document.querySelector('#cfg-base-url').value !== '');
    await page.locator('#cfg-run-after').click();
    expect(await page.locator('#cfg-run-after').getAttribute('aria-checked') === 'true', 'on');
    await page.locator('#cfg-save').click();
    await page.locator('#configure').waitFor({ state: 'hidden', timeout: WAIT });
    await tile(page, 'arrears').locator('.message', { hasText: /Sync started \(run \d+\)/ })
      .waitFor({ timeout: WAIT });
  });
  await closeDialogs(page);

  await check('a refused key offers "Fix settings", which opens Configure at the API key', async () => {
    await tile(page, 'bank-feed').locator('[data-action="fix"]').click();
    await page.locator('#configure[open]').waitFor({ timeout: WAIT });
    // The focus moves once the saved settings have been read into the panel.
    await page.waitForFunction(() => document.activeElement &&
      document.activeElement.id === 'cfg-api-key', null, { timeout: WAIT });
    await page.locator('#cfg-cancel').click();
  });
  await closeDialogs(page);

  await check('Test connection with a bad key shows the failure and its hint', async () => {
    await tile(page, 'bank-feed').locator('[data-action="configure"]').click();
    await page.locator('#configure[open]').waitFor({ timeout: WAIT });
    await page.locator('#cfg-test').click();
    const out = page.locator('#cfg-test-result.bad');
    await out.waitFor({ timeout: WAIT });
    const text = await out.innerText();
    expect(/Connection failed/.test(text) && /What to do: .+/.test(text), `hint shown: ${text}`);
    await page.locator('#cfg-cancel').click();
  });
  await closeDialogs(page);

  // Connect…: the sandbox's authorization server plays the vendor. What the page receives is
  // kept, to show the refresh token (the sandbox's start "rt_") never reaches it.
  const received = [];
  page.on('response', async (r) => {
    if (!r.url().startsWith(base)) return;
    try { received.push(await r.text()); } catch { /* a redirect or an aborted body */ }
  });
  const refreshToken = /rt_[A-Za-z0-9_-]{8,}/;
  const connectCrm = async () => {
    await tile(page, 'crm').locator('[data-action="configure"]').click();
    await page.locator('#configure[open]').waitFor({ timeout: WAIT });
    await page.locator('#cfg-connect').waitFor({ state: 'visible', timeout: WAIT });
    await page.locator('#cfg-connect').click();
  };

  await check('Connect…: a sign-in the vendor refuses (access_denied) shows its message', async () => {
    // Not signed in, a sync finds no grant: Disconnected.
    await tile(page, 'crm').locator('[data-action="sync"]').click();
    await tile(page, 'crm').locator('[data-testid="badge"]', { hasText: 'Disconnected' })
      .waitFor({ timeout: WAIT });
    // The vendor's answer when the user declines: back to the redirect URI with the error.
    await page.route(/\/oauth\/authorize\?/, async (route) => {
      const asked = new URL(route.request().url());
      const back = new URL(asked.searchParams.get('redirect_uri'));
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', 'The user declined access');
      back.searchParams.set('state', asked.searchParams.get('state'));
      await route.fulfill({ status: 302, headers: { location: back.href } });
    });
    try {
      await connectCrm();
      await page.locator('#toast', { hasText: 'Sign-in to crm failed: The user declined access' })
        .waitFor({ timeout: WAIT });
    } finally {
      await page.unroute(/\/oauth\/authorize\?/);
    }
    expect(!page.url().includes('error='), `the URL is cleaned (${page.url()})`);
    expect(/Disconnected/.test(await tile(page, 'crm').locator('[data-testid="badge"]').innerText()),
      'still Disconnected');
  });
  await closeDialogs(page);

  await check('Connect…: the vendor sends the browser back, the page finishes the sign-in', async () => {
    await connectCrm();
    await page.locator('#toast', { hasText: 'crm is connected.' }).waitFor({ timeout: WAIT });
    expect(!/[?&](code|state)=/.test(page.url()), `the code leaves the URL (${page.url()})`);
    // Signed in and not yet synced since: waiting for its first sync, no error to show.
    await tile(page, 'crm').locator('[data-testid="badge"]', { hasText: 'Pending' })
      .waitFor({ timeout: WAIT });
    const text = await tile(page, 'crm').innerText();
    expect(/Not yet synced/.test(text), `health says not yet synced (${text})`);
    expect(!/Error|Disconnected|Warning/.test(text), `no error, nor a warning (${text})`);
    expect(await tile(page, 'crm').locator('.problem').count() === 0, 'no problem shown');
    await shot(page, 'desktop-connected');
    await tile(page, 'crm').locator('[data-action="sync"]').click();
    // The sync succeeds with the new grant: a last successful sync (its two invalid payments
    // set aside make it Error, not Disconnected).
    await page.waitForFunction(() => {
      const dd = document.querySelector('li.tile[data-name="crm"] dd');
      return dd && !/never/.test(dd.textContent);
    }, null, { timeout: 60000 });
    await tile(page, 'crm').locator('[data-testid="badge"]', { hasText: /Active|Error/ })
      .waitFor({ timeout: WAIT });
    expect(!/Disconnected/.test(await tile(page, 'crm').innerText()), 'no longer Disconnected');
    await tile(page, 'crm').locator('[data-action="configure"]').click();
    await page.locator('#configure[open]').waitFor({ timeout: WAIT });
    await page.waitForFunction(() => document.querySelector('#cfg-base-url').value !== '');
    const html = await page.content();
    expect(!refreshToken.test(html), 'the refresh token is not in the page');
    const leaked = received.filter((t) => refreshToken.test(t));
    expect(received.length > 0 && leaked.length === 0,
      `no answer the page received carries it (${leaked.length} of ${received.length} do)`);
    await page.locator('#cfg-cancel').click();
  });
  await closeDialogs(page);

  const phone = await browser.newContext({ viewport: { width: 375, height: 812 }, isMobile: true });
  const small = await phone.newPage();
  await check('the page fits a phone (375 px): no sideways scrolling', async () => {
    await signIn(small, adminToken);
    const wide = await small.evaluate(() => document.documentElement.scrollWidth);
    expect(wide <= 375, `page is ${wide} px wide`);
  });
  await shot(small, 'phone-overview');
  await tile(small, 'arrears').locator('[data-action="configure"]').click();
  await small.locator('#configure[open]').waitFor({ timeout: WAIT });
  await shot(small, 'phone-configure');

  const viewerContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const viewer = await viewerContext.newPage();
  await check('a viewer sees the tiles and logs but no configure, toggle, sync or remove', async () => {
    await signIn(viewer, viewerToken);
    await viewer.locator('#who', { hasText: 'View only' }).waitFor({ timeout: WAIT });
    const controls = viewer.locator('[data-action="configure"], [data-action="toggle"], ' +
      '[data-action="sync"]');
    expect(await controls.count() === 0, 'no change controls');
    expect(await viewer.locator('[data-action="logs"]').count() >= 4, 'logs are there');
  });
  await shot(viewer, 'desktop-viewer');
  const viewerPhone = await (await browser.newContext({ viewport: { width: 375, height: 812 } }))
    .newPage();
  await signIn(viewerPhone, viewerToken);
  await shot(viewerPhone, 'phone-viewer');

  await check('keyboard: Tab reaches the search box and a tile button with a visible focus ring',
    async () => {
      await page.goto(base + '/');
      await page.locator('li.tile').first().waitFor({ timeout: WAIT });
      let found = false;
      for (let i = 0; i < 12 && !found; ++i) {
        await page.keyboard.press('Tab');
        found = await page.evaluate(() => document.activeElement?.dataset.action === 'sync' &&
          getComputedStyle(document.activeElement).outlineStyle !== 'none');
      }
      expect(found, 'a Sync now button took the focus, outlined');
    });
} finally {
  await browser.close();
}
console.log(`screenshots:\n${shots.map((s) => `  ${s}`).join('\n')}`);
console.log(`${pass} passed, ${fail} failed`);
process.exit(fail === 0 && pass > 0 ? 0 : 1);
