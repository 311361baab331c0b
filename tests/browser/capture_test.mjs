// The dashboard's Capture page in headless Chromium (run by ctest as
// integration.browser_capture, with DUPLEX set to the binary): a live capture on `lo` with a
// filter for a port this test listens on, an HTTP request to it, the packet seen arriving,
// its layer tree, and the bytes of one field marked in the hex pane, as Wireshark's three
// panes do. Needs root (a live capture); exits 77 (skipped; 1 under CI=true) without it,
// playwright-core, chromium, or a duplex with the serve command.
import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {exitSkipped} from '../prerequisites.mjs';
import {artifactsDir, launch, prerequisites, recordPage, requireServe, startServe} from './lib.mjs';

const chromium = await prerequisites('capture_test', ['DUPLEX']);
const duplex = process.env.DUPLEX;
requireServe('capture_test', duplex);
if (process.getuid() !== 0) exitSkipped('capture_test', 'a live capture needs root');
const STEP_MS = 10_000;
const PATH = '/seen-by-the-capture-page';

let tmp, server, browser, page, listener, port;
const pageLog = [];
const pageErrors = [];

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'duplex-capture-'));
  server = await startServe(duplex, tmp);
  // The peer whose traffic the page captures: a plain HTTP listener on a free port.
  listener = http.createServer((req, res) => res.end('ok\n'));
  await new Promise((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = listener.address().port;
  browser = await launch(chromium);
  page = await browser.newPage({viewport: {width: 1280, height: 1000}});
  recordPage(page, pageLog, pageErrors);
  await page.goto(server.url + '#capture');
});

after(async () => {
  if (browser) await browser.close();
  if (listener) listener.close();
  if (server) await server.serve.stop();
  if (tmp) fs.rmSync(tmp, {recursive: true, force: true});
  if (pageLog.length) console.error('the page logged:\n' + pageLog.join('\n'));
});

async function seen(selector) {
  return page.locator(selector).evaluateAll((nodes) => nodes.map((n) => n.innerText).join('\n'));
}

function request(p) {
  return new Promise((resolve, reject) => {
    http.get({host: '127.0.0.1', port, path: p, agent: false}, (res) => {
      res.resume();
      res.on('end', resolve);
    }).on('error', reject);
  });
}

test('a request made during a capture on lo arrives live; its port field marks exactly its bytes', async () => {
  await page.locator('#capture-iface option[value="lo"]').waitFor({state: 'attached', timeout: STEP_MS})
    .catch(async () => assert.fail(`no interface lo offered; the page shows:\n${await seen('#page-capture')}`));
  await page.selectOption('#capture-iface', 'lo');
  await page.fill('#capture-filter', `tcp port ${port}`);
  await page.click('#capture-start');
  await page.locator('#capture-status[data-state="capturing"]', {hasText: 'capturing on lo'})
    .waitFor({timeout: STEP_MS})
    .catch(async () => assert.fail(`the capture did not start; the page shows:\n${await seen('#page-capture')}`));

  await request(PATH);
  // The request's segment: the HTTP layer decoded from the payload.
  const row = page.locator('#capture-body tr[data-protocol="HTTP"]', {hasText: PATH}).first();
  await row.waitFor({timeout: STEP_MS})
    .catch(async () => assert.fail(`no HTTP packet for ${PATH}; the list shows:\n${await seen('#capture-body')}`));
  await row.click();

  // The tree heads each layer with its name in both models, as `duplex capture -V` does.
  const layers = await page.locator('#capture-tree [data-testid="capture-layer"]').allInnerTexts();
  assert.ok(layers.includes('L4 transport (OSI 4 / TCP-IP transport): TCP'), layers.join('\n'));
  assert.ok(layers.some((l) => /^L7 application .*: HTTP$/.test(l)), layers.join('\n'));

  // The TCP destination port: exactly its two bytes are marked, in hex and in ASCII.
  const field = page.locator('#capture-tree button[data-key="tcp.dstport"]');
  assert.equal(await field.innerText(), `Destination Port: ${port}`);
  await field.click();
  const marked = await page.locator('#capture-hex .hex .hl').allInnerTexts();
  assert.deepEqual(marked, [port.toString(16).padStart(4, '0').slice(0, 2), port.toString(16).padStart(4, '0').slice(2)]);
  assert.equal(await page.locator('#capture-hex .ascii .hl').count(), 2);
  // The marked bytes are where the field says it is.
  const offset = Number(await field.getAttribute('data-offset'));
  assert.deepEqual(await page.locator('#capture-hex .hex .hl').evaluateAll((n) => n.map((s) => Number(s.dataset.i))),
                   [offset, offset + 1]);

  // A click on the HTTP layer marks the whole request, which starts "GET /seen-...".
  await page.locator('#capture-tree [data-testid="capture-layer"]', {hasText: 'HTTP'}).click();
  const ascii = (await page.locator('#capture-hex .ascii .hl').allInnerTexts()).join('');
  assert.ok(ascii.startsWith(`GET ${PATH} HTTP/1.1`), ascii);
  await page.screenshot({path: path.join(artifactsDir(), 'capture.png'), fullPage: true});
});

test('the flow ladder draws the handshake in SVG, one arrow per packet', async () => {
  await page.click('#capture-flow-box summary');
  const svg = page.locator('#capture-flow svg');
  await svg.waitFor({timeout: STEP_MS});
  const labels = await svg.locator('.flow-label').allTextContents();
  assert.ok(labels.some((l) => l.includes(`\u2192${port} [SYN] seq=0`)), labels.join('\n'));
  assert.ok(labels.some((l) => l.includes(`${port}\u2192`) && l.includes('[SYN, ACK]')), labels.join('\n'));
  assert.equal(await svg.locator('.flow-arrow').count(), await page.locator('#capture-body tr').count());
});

test('the counts say how many packets the cap left out; Stop ends the capture', async () => {
  assert.equal(await page.locator('[data-testid="capture-left-out"]').innerText(), '0');
  await page.locator('[data-testid="capture-captured"]', {hasText: /^[1-9]/}).waitFor({timeout: STEP_MS});
  await page.click('#capture-stop');
  await page.locator('#capture-status[data-state="stopped"]').waitFor({timeout: STEP_MS});
  assert.equal(await page.locator('#capture-start').isDisabled(), false);
  assert.equal(await page.locator('#capture-stop').isDisabled(), true);
  assert.deepEqual(pageErrors, [], 'the page logged errors');
});

test('a page without the token says why it cannot capture', async () => {
  const context = await browser.newContext();  // no duplex_token cookie, no ?token=
  try {
    const other = await context.newPage();
    await other.goto(server.base + '#capture');
    const why = other.locator('#capture-why-not');
    await why.waitFor({state: 'visible', timeout: STEP_MS});
    assert.match(await why.innerText(), /capturing needs the token/);
    assert.equal(await other.locator('#capture-start').isDisabled(), true);
  } finally {
    await context.close();
  }
});
