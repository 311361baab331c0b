// The dashboard's Hosts page in headless Chromium (run by ctest as integration.browser_hosts,
// with DUPLEX set to the binary): the page opened with the token fills its target from the
// server (127.0.0.1 on loopback), scans 127.0.0.1 on ports the test chose (three with a
// listener of its own, three without) and the table shows exactly the listening ones, as
// badges of the 127.0.0.1 row. A page without the token is refused. Exits 77 (skipped; 1
// under CI=true) without playwright-core or chromium.
import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {artifactsDir, launch, prerequisites, recordPage, requireServe, startServe} from './lib.mjs';

const chromium = await prerequisites('hosts_test', ['DUPLEX']);
const duplex = process.env.DUPLEX;
requireServe('hosts_test', duplex);
const STEP_MS = 15_000;

let tmp, server, browser, page;
const listeners = [];
const pageLog = [];
const pageErrors = [];

function listen() {
  return new Promise((resolve, reject) => {
    const s = net.createServer((c) => c.destroy());
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'duplex-hosts-page-'));
  server = await startServe(duplex, tmp);
  browser = await launch(chromium);
  page = await browser.newPage({viewport: {width: 1280, height: 900}});
  recordPage(page, pageLog, pageErrors);
});

after(async () => {
  for (const s of listeners) s.close();
  if (browser) await browser.close();
  if (server) await server.serve.stop();
  if (tmp) fs.rmSync(tmp, {recursive: true, force: true});
  if (pageLog.length) console.error('the page logged:\n' + pageLog.join('\n'));
});

async function seen() {
  return page.locator('#page-hosts').innerText();
}

test('a scan of 127.0.0.1 lists exactly the listening ports, as they arrive', async () => {
  for (let i = 0; i < 3; ++i) listeners.push(await listen());
  const open = listeners.map((s) => s.address().port).sort((a, b) => a - b);
  const shut = [];
  for (let i = 0; i < 3; ++i) {  // bound a moment ago, closed: nothing listens there
    const s = await listen();
    shut.push(s.address().port);
    await new Promise((resolve) => s.close(resolve));
  }
  await page.goto(server.url + '#hosts');
  await page.click('#tab-hosts');
  // the default target comes from the server: the page came over loopback
  await page.waitForFunction(() => document.getElementById('hosts-targets').value === '127.0.0.1',
                             null, {timeout: STEP_MS})
    .catch(async () => assert.fail(`no default target; the page shows:\n${await seen()}`));
  await page.fill('#hosts-ports', [...open, ...shut].join(','));
  await page.click('#hosts-start');
  await page.locator('#hosts-table[data-state="done"]').waitFor({timeout: STEP_MS})
    .catch(async () => assert.fail(`the scan did not end; the page shows:\n${await seen()}`));
  assert.match(await page.innerText('#hosts-status'), /^done: 1 host\(s\) up, 3 open port\(s\)/);
  const rows = await page.locator('#hosts-body tr').evaluateAll((trs) => trs.map((tr) => ({
    host: tr.dataset.host,
    mac: tr.querySelector('[data-testid="hosts-mac"]').textContent,
    ports: [...tr.querySelectorAll('[data-testid="hosts-port"]')].map((b) => Number(b.dataset.port)),
  })));
  assert.deepEqual(rows, [{host: '127.0.0.1', mac: '—', ports: open}]);
  assert.equal(await page.getAttribute('#hosts-progress', 'value'),
               await page.getAttribute('#hosts-progress', 'max'));
  assert.equal(await page.innerText('#hosts-error'), '');
  assert.deepEqual(pageErrors, [], 'the page logged errors');
  await page.screenshot({path: path.join(artifactsDir(), 'hosts.png'), fullPage: true});
});

test('an address off this machine\'s subnets gets the server\'s error', async () => {
  await page.fill('#hosts-targets', '8.8.8.8');
  await page.fill('#hosts-ports', '53');
  await page.click('#hosts-start');
  await page.locator('#hosts-error', {hasText: "8.8.8.8 is outside this machine's subnets"})
    .waitFor({timeout: STEP_MS})
    .catch(async () => assert.fail(`no error; the page shows:\n${await seen()}`));
  assert.equal(await page.locator('#hosts-body tr').count(), 0);
});

test('without the token the page cannot scan', async () => {
  const bare = await browser.newPage();
  await bare.goto(server.base + '#hosts');
  await bare.fill('#hosts-targets', '127.0.0.1');
  await bare.fill('#hosts-ports', String(listeners[0].address().port));
  await bare.click('#hosts-start');
  await bare.locator('#hosts-error', {hasText: 'the WebSocket failed'}).waitFor({timeout: STEP_MS});
  assert.equal(await bare.locator('#hosts-body tr').count(), 0);
  await bare.close();
});
