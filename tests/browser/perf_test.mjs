// The dashboard's Perf page in headless Chromium (run by ctest as integration.browser_perf,
// with DUPLEX set to the binary): a 2-second TCP test from the page against a local
// `duplex perf -s`, drawn live by uPlot (embedded at /vendor/uplot.esm.js, nothing from a
// CDN); the test waits until every chart has drawn its points and the results table is
// filled. Exits 77 (skipped; 1 under CI=true) without playwright-core or chromium.
import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {artifactsDir, Child, launch, prerequisites, recordPage, requireServe, startServe} from './lib.mjs';

const chromium = await prerequisites('perf_test', ['DUPLEX']);
const duplex = process.env.DUPLEX;
requireServe('perf_test', duplex);
const STEP_MS = 15_000;

let tmp, server, perf, perfPort, browser, page;
const pageLog = [];
const pageErrors = [];
const requests = [];

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'duplex-perf-page-'));
  server = await startServe(duplex, tmp);
  perf = new Child('duplex perf -s', duplex, ['perf', '-s', '-p', '0', '-B', '127.0.0.1']);
  perfPort = Number((await perf.waitFor(/\(port (\d+)\)/, {what: 'perf -s listening'}))[1]);
  browser = await launch(chromium);
  page = await browser.newPage({viewport: {width: 1280, height: 1400}});
  page.on('request', (r) => requests.push(r.url()));
  recordPage(page, pageLog, pageErrors);
  await page.goto(server.url + '#perf');
});

after(async () => {
  if (browser) await browser.close();
  if (perf) perf.proc.kill();
  if (server) await server.serve.stop();
  if (tmp) fs.rmSync(tmp, {recursive: true, force: true});
  if (pageLog.length) console.error('the page logged:\n' + pageLog.join('\n'));
});

async function seen(selector) {
  return page.locator(selector).evaluateAll((nodes) => nodes.map((n) => n.innerText).join('\n'));
}

test('a 2-second TCP test draws its intervals live and ends with the results', async () => {
  await page.fill('#perf-host', '127.0.0.1');
  await page.fill('#perf-port', String(perfPort));
  await page.selectOption('#perf-proto', 'tcp');
  await page.fill('#perf-time', '2');
  await page.click('#perf-start');
  await page.locator('#perf-status', {hasText: /^running: TCP to 127\.0\.0\.1/}).waitFor({timeout: STEP_MS})
    .catch(async () => assert.fail(`the test did not start; the page shows:\n${await seen('#page-perf')}`));
  // uPlot's own data: two intervals in every chart, then the end.
  await page.waitForFunction(() => window.duplexPerf && window.duplexPerf.points('throughput') === 2,
                             null, {timeout: STEP_MS})
    .catch(async () => assert.fail(`the chart did not get 2 points; the page shows:\n${await seen('#page-perf')}`));
  await page.locator('#perf-results[data-state="done"]').waitFor({timeout: STEP_MS})
    .catch(async () => assert.fail(`no results; the page shows:\n${await seen('#page-perf')}`));
  assert.equal(await page.innerText('#perf-status'), 'done');
  assert.equal(await page.innerText('#perf-intervals'), '2');
  const charted = await page.evaluate(() => {
    const out = {};
    for (const id of ['throughput', 'cwnd', 'rtt', 'retransmits', 'loss']) {
      const u = window.duplexPerf.chart(id);
      out[id] = {x: u.data[0].length, y: u.data[1], canvas: [u.ctx.canvas.width, u.ctx.canvas.height]};
    }
    return out;
  });
  for (const [id, c] of Object.entries(charted)) {
    assert.equal(c.x, 2, id);
    assert.ok(c.canvas[0] > 0 && c.canvas[1] > 0, `${id}: canvas ${c.canvas}`);
  }
  assert.ok(charted.throughput.y.every((v) => v > 0), String(charted.throughput.y));
  assert.ok(charted.cwnd.y.every((v) => v > 0), String(charted.cwnd.y));
  assert.ok(charted.rtt.y.every((v) => v > 0), String(charted.rtt.y));
  assert.deepEqual(charted.loss.y, [null, null], 'TCP has no UDP loss: a gap, not 0');
  // The canvas has ink: some pixel of the throughput chart is not blank.
  const inked = await page.evaluate(() => {
    const c = window.duplexPerf.chart('throughput').ctx;
    const {width, height} = c.canvas;
    const px = c.getImageData(0, 0, width, height).data;
    for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) return true;
    return false;
  });
  assert.ok(inked, 'the throughput canvas is blank');
  assert.equal(await page.innerText('[data-testid="perf-result-result"]'), 'done');
  assert.match(await page.innerText('[data-testid="perf-result-sent"]'), /^[1-9][\d,.\s]* bytes$/);
  assert.match(await page.innerText('[data-testid="perf-result-receiver-rate"]'), /Mbit\/s$/);
  // uPlot came from this server, nothing from elsewhere.
  const origin = new URL(server.base).origin;
  assert.ok(requests.some((u) => u.startsWith(origin + '/vendor/uplot.esm.js')), requests.join('\n'));
  assert.deepEqual(requests.filter((u) => !u.startsWith(origin) && !u.startsWith('ws://' + new URL(server.base).host)), []);
  assert.deepEqual(pageErrors, [], 'the page logged errors');
  await page.screenshot({path: path.join(artifactsDir(), 'perf.png'), fullPage: true});
});

test('Watch shows a CLI run that reports to serve (--report-to), live', async () => {
  await page.click('#perf-watch');
  await page.locator('#perf-status', {hasText: /^watching: waiting/}).waitFor({timeout: STEP_MS});
  const cli = new Child('duplex perf -c --report-to', duplex,
    ['perf', '-c', '127.0.0.1', '-p', String(perfPort), '-t', '2', '-u', '-R', '-b', '20M',
     '--report-to', server.base, '--token', server.token]);
  await page.locator('#perf-status', {hasText: /^watching a CLI run: UDP to 127\.0\.0\.1/})
    .waitFor({timeout: STEP_MS})
    .catch(async () => assert.fail(`the run was not shown; the page shows:\n${await seen('#page-perf')}\n${cli.output}`));
  await page.waitForFunction(() => window.duplexPerf.points('loss') === 2, null, {timeout: STEP_MS});
  await page.locator('#perf-results[data-state="done"]').waitFor({timeout: STEP_MS})
    .catch(async () => assert.fail(`no results; the page shows:\n${await seen('#page-perf')}\n${cli.output}`));
  const loss = await page.evaluate(() => window.duplexPerf.chart('loss').data[1]);
  assert.ok(loss.every((v) => typeof v === 'number' && v >= 0), String(loss));
  assert.match(await page.innerText('[data-testid="perf-result-UDP-datagrams"]'), /^[1-9]/);
  await page.click('#perf-stop');
});

test('absurd input gets one line from the server', async () => {
  await page.fill('#perf-time', '600');
  await page.evaluate(() => document.getElementById('perf-time').removeAttribute('max'));
  await page.click('#perf-start');
  await page.locator('#perf-error', {hasText: 'time=600 must be a whole number of seconds from 1 to 60'})
    .waitFor({timeout: STEP_MS});
});
