// Issue 6: headless Chromium opens a WebSocket from a page that duplex served (run by ctest
// as integration.browser_websocket, with DUPLEX and WS_ECHO_SERVER set). The page
// (tests/browser/pages/ws.html) comes from `duplex http serve`; its socket goes to
// tests/ws/ws_echo_server, duplex's WebSocket server. The browser is the real peer: its
// handshake, its masking, its close handshake.
// Exits 77 (skipped; 1 under CI=true) without playwright-core (npm ci in tests/browser) or
// chromium.
import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {Child, launch, prerequisites} from './lib.mjs';

const chromium = await prerequisites('websocket_test', ['DUPLEX', 'WS_ECHO_SERVER']);
const pages = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pages');

let http, echo, browser, page;
const pageLog = [];

before(async () => {
  http = new Child('duplex http serve', process.env.DUPLEX, ['http', 'serve', pages, '--port', '0', '--bind', '127.0.0.1']);
  const [, httpPort] = await http.waitFor(/http:\/\/127\.0\.0\.1:(\d+)/, {what: 'the listening URL'});
  echo = new Child('ws_echo_server', process.env.WS_ECHO_SERVER, ['--port', '0', '--bind', '127.0.0.1']);
  const [, echoPort] = await echo.waitFor(/listening on 127\.0\.0\.1:(\d+)/, {what: 'the listening line'});
  browser = await launch(chromium);
  page = await browser.newPage();
  page.on('console', (m) => pageLog.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => pageLog.push(`page error: ${e.message}`));
  const response = await page.goto(`http://127.0.0.1:${httpPort}/ws.html?ws=ws://127.0.0.1:${echoPort}/echo`);
  assert.equal(response.status(), 200, 'duplex http serve returned the test page');
});

after(async () => {
  if (browser) await browser.close();
  for (const c of [echo, http]) if (c) await c.stop();
  if (pageLog.length) console.error('the page logged:\n' + pageLog.join('\n'));
});

const exchange = (messages, code, reason) =>
  page.evaluate(([m, c, r]) => window.wsTest(m, c, r), [messages, code, reason]);

test('text messages come back in order, UTF-8 intact', async () => {
  const sent = ['hello', 'zwei', 'κόσμε', '👋 from Chromium', ''];
  const got = await exchange(sent);
  assert.deepEqual(got.received, sent);
  assert.deepEqual([got.close.code, got.close.clean], [1000, true], 'a clean close with 1000');
});

test('a binary message comes back byte for byte', async () => {
  const bytes = Array.from({length: 256}, (_, i) => i);
  const got = await exchange([bytes]);
  assert.deepEqual(got.received, [bytes]);
});

test('a 200 KB text message (64-bit frame length) comes back whole', async () => {
  const big = 'x'.repeat(200_000) + 'end';
  const got = await exchange([big]);
  assert.equal(got.received.length, 1, 'one reply');
  assert.equal(got.received[0].length, big.length);
  assert.equal(got.received[0], big);
});

test('the close code the page sends is echoed back in a clean close', async () => {
  const got = await exchange(['bye'], 4000, 'app code');
  assert.deepEqual(got.received, ['bye']);
  assert.deepEqual([got.close.code, got.close.clean], [4000, true], 'a clean close with 4000');
});

test('the page shows what it received', async () => {
  await exchange(['shown']);
  assert.equal(await page.locator('#state').innerText(), 'closed 1000');
  assert.match(await page.locator('#log').innerText(), /received text 5/);
});
