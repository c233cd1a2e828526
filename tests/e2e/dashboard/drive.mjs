// Drives refgate's dashboard in Debian's chromium as a marketer would and
// prints what it saw as JSON; test_dashboard.py checks it against the
// scenario it made. Environment: REFGATE_ADMIN (http://host:port),
// REFGATE_TOKEN, REFERRER (the referrer page to open), NEW_CODE (created and
// disabled through the page), OUT_DIR (screenshots, the downloaded CSV),
// CHROMIUM (the browser binary).
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const env = (k) => {
  if (!process.env[k]) throw new Error(k + ' is not set');
  return process.env[k];
};
const admin = env('REFGATE_ADMIN'), token = env('REFGATE_TOKEN'), out = env('OUT_DIR');
const referrer = env('REFERRER'), newCode = env('NEW_CODE');
const seen = { console: [], pageErrors: [] };

// Every row of a table as its cells' text.
const rows = (page, id) => page.$$eval(`#${id} tbody tr`, (trs) =>
  trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
// Once the page `name` is drawn: the one before may hold the same selector.
const ready = (page, name, selector) =>
  page.waitForSelector(`main[data-page="${name}"][aria-busy="false"] ${selector}`);
const shot = (page, name) => page.screenshot({ path: join(out, name), fullPage: true });

async function overview(page) {
  await page.goto(admin + '/dashboard');
  await page.waitForSelector('#login');
  await shot(page, 'dashboard-login.png');
  // A wrong token is refused, and says so.
  await page.fill('#token', 'not-the-token');
  await page.click('#login button[type=submit]');
  await page.waitForFunction(() => document.getElementById('error').textContent.includes('refused'));
  seen.wrongToken = await page.textContent('#error');
  await page.fill('#token', token);
  await page.click('#login button[type=submit]');
  await ready(page, 'overview', '#referrers');
  seen.cards = Object.fromEntries(await page.$$eval('.card', (cs) =>
    cs.map((c) => [c.dataset.metric, c.querySelector('.value').textContent])));
  seen.charts = await page.$$eval('figure.chart', (fs) => Object.fromEntries(fs.map((f) => [f.id,
    [...f.querySelectorAll('polyline')].map((_, k) => [...f.querySelectorAll('circle.s' + k)]
      .map((c) => [c.dataset.day, Number(c.dataset.value)]))])));
  seen.referrers = await rows(page, 'referrers');
  seen.channels = await rows(page, 'channels');
  seen.images = await page.$$eval('main img', (is) => is.length);
  await shot(page, 'dashboard-overview.png');
  // Sorting: a click on Referrer sorts by it, ascending; a second, descending.
  await page.click('#referrers th[data-key=referrer_id] button');
  seen.sortedAscending = (await rows(page, 'referrers')).map((r) => r[0]);
  await page.click('#referrers th[data-key=referrer_id] button');
  seen.sortedDescending = (await rows(page, 'referrers')).map((r) => r[0]);
}

async function referrerPage(page) {
  await page.click(`#referrers a[href="#/referrer/${referrer}"]`);
  await ready(page, 'referrer', '#codes');
  seen.referrerId = await page.textContent('#referrer-id');
  seen.codes = await rows(page, 'codes');
  seen.referrerEvents = await rows(page, 'events');
  // The QR code, fetched with the token and shown as a blob: image.
  await page.click('#codes tbody tr:first-child button[data-action=qr]');
  const qr = await page.waitForSelector('img.qr');
  await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, qr);
  seen.qr = await qr.evaluate((img) => ({ src: img.src.slice(0, 5), width: img.naturalWidth }));
  await shot(page, 'dashboard-referrer.png');
  // Create a code through the form, then disable it from its row.
  await page.fill('#create-code input[name=code]', newCode);
  await page.fill('#create-code input[name=campaign]', 'winter');
  await page.click('#create-code button[type=submit]');
  const row = `#codes tbody tr:has(td:text-is("${newCode}"))`;
  await ready(page, 'referrer', row);
  seen.created = (await rows(page, 'codes')).find((r) => r[0] === newCode);
  await page.click(`${row} button[data-action=disable]`);
  await ready(page, 'referrer', `${row} .status-disabled`);
  seen.disabled = (await rows(page, 'codes')).find((r) => r[0] === newCode);
}

async function eventsAndBalances(page) {
  await page.click('nav a[href="#/events"]');
  await ready(page, 'events', '#events');
  seen.events = await rows(page, 'events');
  await shot(page, 'dashboard-events.png');
  await page.click('nav a[href="#/balances"]');
  await ready(page, 'balances', '#balances');
  seen.balances = await rows(page, 'balances');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
  const path = join(out, 'downloaded-rewards.csv');
  await download.saveAs(path);
  seen.downloadName = download.suggestedFilename();
  seen.csv = readFileSync(path, 'utf8');
  await shot(page, 'dashboard-balances.png');
}

const browser = await chromium.launch({ executablePath: env('CHROMIUM'), args: ['--no-sandbox'] });
try {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('console', (m) => seen.console.push(m.type() + ': ' + m.text()));
  page.on('pageerror', (e) => seen.pageErrors.push(String(e)));
  page.on('dialog', (d) => d.accept());
  page.setDefaultTimeout(30000);
  await overview(page);
  await referrerPage(page);
  await eventsAndBalances(page);
  // Did any injected markup run? The page never sets these itself.
  seen.xss = await page.evaluate(() => [window.__xss, window.__xss2]);
  // The policy's Trusted Types: a string assigned to an HTML sink throws
  // (and says so on the console, which is no longer recorded from here).
  page.removeAllListeners('console');
  seen.htmlSink = await page.evaluate(() => {
    try {
      document.createElement('div').innerHTML = '<b>x</b>';
      return 'allowed';
    } catch (e) {
      return e.name;
    }
  });
  // The page's money format, for currencies of 2, 0, 3 and 4 minor digits.
  seen.money = await page.evaluate(() => [['EUR', -123456], ['JPY', 1234567], ['KWD', 1005],
    ['CLF', 12345678], ['EUR', 5], ['EUR', 0]].map(([c, v]) => (setCurrency(c), money(v))));
  seen.tokenStorage = await page.evaluate(() => [Object.keys(sessionStorage), Object.keys(localStorage)]);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen));
