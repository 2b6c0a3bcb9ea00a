// Loads a greenbench report.html in headless Chromium and checks it:
//   - no console errors, no uncaught exceptions, no request that is not file:// (self-contained);
//   - the per-run table has one row per record of runs.jsonl;
//   - clicking a numeric and a text header sorts the rows (ascending, then descending);
//   - the model filter shows exactly that model's rows;
//   - every inline SVG figure is laid out with a non-zero size;
// then writes a full-page screenshot. Usage: node check.mjs REPORT.html RUNS.jsonl SHOT.png
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [html, runs, shot] = process.argv.slice(2);
if (!html || !runs || !shot) {
  console.error('usage: node check.mjs REPORT.html RUNS.jsonl SHOT.png');
  process.exit(2);
}
const records = readFileSync(runs, 'utf8').split('\n').filter((l) => l.trim() !== '');
const failures = [];
const fail = (m) => { failures.push(m); console.log(`FAIL: ${m}`); };
const ok = (m) => console.log(`ok: ${m}`);

// playwright starts Chromium with a fresh, empty temporary profile (--user-data-dir) and removes it.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (m) => { if (m.type() === 'error') fail(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => fail(`uncaught exception: ${e.message}`));
  page.on('request', (r) => { if (!r.url().startsWith('file:')) fail(`network request: ${r.url()}`); });
  await page.goto(pathToFileURL(resolve(html)).href, { waitUntil: 'load' });

  const rows = await page.locator('#runs tbody tr').count();
  if (rows === records.length) ok(`${rows} table rows = ${records.length} records`);
  else fail(`${rows} table rows, runs.jsonl has ${records.length} records`);

  const column = async (i) => page.$$eval('#runs tbody tr', (trs, i) =>
    trs.map((tr) => tr.cells[i].getAttribute('data-v')), i);
  const headers = await page.$$eval('#runs thead th', (ths) => ths.map((t) => [t.textContent, t.getAttribute('data-type')]));
  const sortedAs = (v, numeric, asc) => {
    const key = (x) => (numeric ? (x === '' ? NaN : parseFloat(x)) : x);
    for (let i = 1; i < v.length; i++) {
      const a = key(v[i - 1]), b = key(v[i]);
      if (numeric) {
        if (Number.isNaN(a) && !Number.isNaN(b)) return false; // absent values sort last
        if (Number.isNaN(a) || Number.isNaN(b)) continue;
        if (asc ? a > b : a < b) return false;
      } else if (asc ? a.localeCompare(b) > 0 : a.localeCompare(b) < 0) return false;
    }
    return true;
  };
  for (const want of ['train energy (Wh)', 'run id']) {
    const i = headers.findIndex((h) => h[0] === want);
    if (i < 0) { fail(`no column "${want}"`); continue; }
    const numeric = headers[i][1] === 'num';
    const th = page.locator('#runs thead th').nth(i);
    await th.click();
    const asc = await column(i);
    await th.click();
    const desc = await column(i);
    const distinct = new Set(asc).size;
    if (sortedAs(asc, numeric, true) && sortedAs(desc, numeric, false) && (distinct < 2 || asc.join() !== desc.join()))
      ok(`clicking "${want}" sorts ascending then descending`);
    else fail(`"${want}" not sorted by clicks: ${asc} / ${desc}`);
  }

  const models = [...new Set(records.map((l) => JSON.parse(l).spec.model))];
  const model = models[0];
  await page.selectOption('#filter-model', model);
  const visible = await page.locator('#runs tbody tr:not([hidden])').count();
  const expected = records.filter((l) => JSON.parse(l).spec.model === model).length;
  if (visible === expected) ok(`model filter "${model}" shows ${visible} rows`);
  else fail(`model filter "${model}" shows ${visible} rows, expected ${expected}`);
  await page.selectOption('#filter-model', '');

  const figs = await page.$$eval('figure svg', (s) => s.map((e) => e.getBoundingClientRect().width * e.getBoundingClientRect().height));
  if (figs.length > 0 && figs.every((a) => a > 0)) ok(`${figs.length} inline SVG figures laid out`);
  else fail(`inline figures: ${JSON.stringify(figs)}`);

  await page.screenshot({ path: shot, fullPage: true });
  ok(`screenshot ${shot}`);
} finally {
  await browser.close();
}
if (failures.length > 0) {
  console.log(`browser check FAILED (${failures.length})`);
  process.exit(1);
}
console.log('browser check PASSED');
