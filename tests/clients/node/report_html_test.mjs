// `relaytap report --format html` in a real headless browser (Debian's chromium via
// playwright-core): the page renders, makes no request but for itself, runs no script, draws its
// charts at a non-zero size with marks in them, and shows the given ids.
//   node report_html_test.mjs <report.html> [--timeline-events N,N,...] [id ...]
// --timeline-events: how many events each failed realtime session has before its failure, in the
// report's order (`relaytap report --format json`): one timeline each, with that many marks.
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.RT_CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function usage(msg) {
  console.error(`report_html_test: ${msg}\nusage: report_html_test.mjs <report.html> [--timeline-events N,...] [id ...]`);
  process.exit(2);
}

const argv = process.argv.slice(2);
if (argv.length < 1) usage('no report given');
const file = resolve(argv[0]);
if (!existsSync(file)) usage(`${file}: no such file`);
let events = [];
const ids = [];
for (let i = 1; i < argv.length; i++) {
  if (argv[i] === '--timeline-events') {
    events = (argv[++i] ?? '').split(',').filter((x) => x !== '').map(Number);
    if (!events.every((n) => Number.isInteger(n) && n >= 0)) usage('--timeline-events wants counts');
  } else {
    ids.push(argv[i]);
  }
}
if (!existsSync(CHROMIUM)) usage(`${CHROMIUM} missing (apt-get install chromium)`);

// Whatever happens, the test ends within a minute.
const watchdog = setTimeout(() => {
  console.error('FAIL: the browser test took longer than 60 s');
  process.exit(1);
}, 60_000);

const failures = [];
const fail = (msg) => failures.push(msg);
const url = pathToFileURL(file).href;
const profile = mkdtempSync(join(tmpdir(), 'relaytap-chromium-'));
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30_000,
    offline: true, serviceWorkers: 'block',
  });
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  const response = await page.goto(url, { waitUntil: 'load', timeout: 15_000 });
  if (!response || !response.ok()) fail(`loading ${url} failed`);

  const seen = await page.evaluate(() => {
    const box = (el) => { const r = el.getBoundingClientRect(); return [r.width, r.height]; };
    const chart = (svg) => {
      const marks = [...svg.querySelectorAll('.mark')];
      return {
        id: svg.id, size: box(svg), marks: marks.length,
        drawn: marks.filter((m) => { const [w, h] = box(m); return w > 0 && h > 0; }).length,
        title: svg.querySelector('title')?.textContent ?? '',
      };
    };
    return {
      title: document.title,
      scripts: document.scripts.length,
      charts: [...document.querySelectorAll('svg')].map(chart),
      text: document.body.innerText,
    };
  });

  for (const r of requests) if (r !== url) fail(`the page requested ${r}`);
  for (const p of problems) fail(p);
  if (seen.title !== 'relaytap incident report') fail(`title is "${seen.title}"`);
  if (seen.scripts !== 0) fail(`${seen.scripts} script elements`);
  const byId = new Map(seen.charts.map((c) => [c.id, c]));
  // The store has attempts with latencies, so both charts have bars; a timeline has one mark
  // per event.
  const wanted = [['chart-attempts', -1], ['chart-latency', -1]];
  events.forEach((n, i) => wanted.push([`timeline-${i + 1}`, n]));
  for (const [id, marks] of wanted) {
    const c = byId.get(id);
    if (!c) { fail(`no <svg id="${id}">`); continue; }
    const [w, h] = c.size;
    console.log(`${id}: ${w.toFixed(0)}x${h.toFixed(0)} px, ${c.marks} marks (${c.drawn} drawn) - ${c.title}`);
    if (!(w > 0 && h > 0)) fail(`${id} renders at ${w}x${h}`);
    if (marks < 0 && (c.marks === 0 || c.drawn === 0)) fail(`${id} has no marks drawn`);
    if (marks >= 0 && (c.marks !== marks || c.drawn !== marks)) {
      fail(`${id} has ${c.marks} marks (${c.drawn} drawn), expected ${marks}`);
    }
    if (!c.title) fail(`${id} has no <title>`);
  }
  const found = seen.charts.filter((c) => c.id.startsWith('timeline-')).length;
  if (found !== events.length) fail(`expected ${events.length} timelines, found ${found}`);
  for (const id of ids) {
    if (!seen.text.includes(id)) fail(`id ${id} is not on the page`);
  }
  console.log(`${requests.length} request(s); ${ids.length} ids checked on the page`);
} catch (e) {
  fail(`browser: ${e.message}`);
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
  clearTimeout(watchdog);
}

if (failures.length) {
  for (const f of failures) console.error(`FAIL: ${f}`);
  process.exit(1);
}
console.log('report html renders in chromium: OK');
