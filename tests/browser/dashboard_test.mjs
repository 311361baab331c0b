// The dashboard of `duplex serve` in headless Chromium (run by ctest as
// integration.browser_dashboard, with DUPLEX set to the binary). One server with a fresh
// SQLite file and one browser for the file; each test states one behaviour a user sees.
// Exits 77 (skipped; 1 under CI=true) without playwright-core (npm ci in tests/browser),
// chromium, or a duplex with the serve command.
import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {artifactsDir, launch, prerequisites, requireServe, startServe, startTerminal} from './lib.mjs';

const chromium = await prerequisites('dashboard_test', ['DUPLEX']);
const duplex = process.env.DUPLEX;
requireServe('dashboard_test', duplex);
const STEP_MS = 10_000;  // each wait in the page

let tmp, server, browser, page;
const children = [];
const pageLog = [];
// Script errors and console errors of the page: a dashboard that throws is broken, however
// good its screenshot looks, so any of them fails the run.
const pageErrors = [];
// The one failed request a test provokes on purpose (the calculator's 400 for a bad address):
// the browser's "Failed to load resource" line for exactly that URL is expected.
let expectedFailure = null;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'duplex-browser-'));
  server = await startServe(duplex, tmp);
  children.push(server.serve);
  browser = await launch(chromium);
  page = await browser.newPage({viewport: {width: 1280, height: 800}});
  page.on('console', (m) => {
    pageLog.push(`console.${m.type()}: ${m.text()}`);
    if (m.type() !== 'error') return;
    const url = m.location().url || '';
    if (expectedFailure && url.endsWith(expectedFailure) && /^Failed to load resource/.test(m.text())) {
      expectedFailure = null;
      return;
    }
    pageErrors.push(`console.error: ${m.text()} (${url})`);
  });
  page.on('pageerror', (e) => {
    pageLog.push(`page error: ${e.message}`);
    pageErrors.push(`page error: ${e.message}`);
  });
  await page.goto(server.url);
});

after(async () => {
  if (browser) await browser.close();
  for (const c of children.reverse()) await c.stop();
  if (tmp) fs.rmSync(tmp, {recursive: true, force: true});
  if (pageLog.length) console.error('the page logged:\n' + pageLog.join('\n'));
});

// What the page shows in `selector`, for failure messages.
async function seen(selector) {
  return page.locator(selector).evaluateAll((nodes) => nodes.map((n) => n.innerText).join('\n'));
}

async function openTab(name) {
  await page.click(`#tab-${name}`);
  await page.locator(`#page-${name}`).waitFor({state: 'visible', timeout: STEP_MS});
}

test('the header says what the token guards on loopback, not that none is needed', async () => {
  const summary = page.locator('#server-summary');
  try {
    await page.waitForFunction(() => /loopback only/.test(document.getElementById('server-summary').textContent), null, {timeout: STEP_MS});
  } catch {
    assert.fail(`the header never named the access; it showed: ${await summary.innerText()}`);
  }
  const text = await summary.innerText();
  assert.match(text, /the token is needed to edit neighbours, capture, scan and run perf/);
  assert.doesNotMatch(text, /no token needed/);
  // Where the chat keeps its messages: this server's SQLite file.
  assert.match(text, /history \/\S+\.db/);
});

test('a terminal chat client started by the test is listed among the connections', async () => {
  const terminal = await startTerminal(duplex, server.chatPort, 'term-list');
  children.push(terminal);
  await openTab('connections');
  const row = page.locator('#connections-body tr[data-protocol="chat"][data-chat-name="term-list"]');
  try {
    await row.waitFor({timeout: STEP_MS});
  } catch {
    assert.fail(`no chat connection named term-list in the table; it showed:\n${await seen('#connections-table')}`);
  }
  assert.match(await row.locator('[data-testid="connection-remote"]').innerText(), /^127\.0\.0\.1:\d+$/);
  assert.match(await row.locator('[data-testid="connection-chat"]').innerText(), /term-list in lobby/);
  // Loopback peer: same subnet, with the AND on hover.
  const subnet = row.locator('[data-testid="connection-subnet"]');
  assert.equal(await subnet.innerText(), 'yes');
  assert.match(await subnet.getAttribute('title'), /127\.0\.0\.1 AND 255\.0\.0\.0 = 127\.0\.0\.0/);
});

test('a message sent from the page is acknowledged and read in the terminal client', async () => {
  const terminal = await startTerminal(duplex, server.chatPort, 'term-read');
  children.push(terminal);
  const from = terminal.output.length;
  await openTab('chat');
  await page.locator('#chat-status[data-state="connected"]').waitFor({timeout: STEP_MS});
  await page.fill('#chat-name', 'web-writer');
  await page.click('#chat-name-set');
  await page.locator('#chat-current-name', {hasText: 'web-writer'}).waitFor({timeout: STEP_MS})
    .catch(async () => assert.fail(`the name did not change; the page shows: ${await seen('#page-chat')}`));
  const text = `hello from the browser ${Date.now()}`;
  await page.fill('#chat-input', text);
  await page.click('#chat-send');
  const mine = page.locator('#chat-log li[data-state="acked"]', {hasText: text});
  await mine.waitFor({timeout: STEP_MS})
    .catch(async () => assert.fail(`no acknowledgement in the page; the log shows:\n${await seen('#chat-log')}`));
  await terminal.waitFor(new RegExp(`web-writer.*${text}`), {from, what: `"${text}" from web-writer`});
});

test('a line typed in the terminal client appears in the page', async () => {
  const terminal = await startTerminal(duplex, server.chatPort, 'term-write');
  children.push(terminal);
  await openTab('chat');
  await page.locator('#chat-status[data-state="connected"]').waitFor({timeout: STEP_MS});
  const text = `hello from the terminal ${Date.now()}`;
  terminal.send(text);
  const item = page.locator('#chat-log li[data-name="term-write"]', {hasText: text});
  await item.waitFor({timeout: STEP_MS})
    .catch(async () => assert.fail(`"${text}" did not appear; the log shows:\n${await seen('#chat-log')}`));
  assert.equal(await item.getAttribute('data-via'), 'tcp');
});

test('markup in a chat message is shown as text, never run', async () => {
  const terminal = await startTerminal(duplex, server.chatPort, 'term-markup');
  children.push(terminal);
  await openTab('chat');
  const text = `<img src=x onerror="window.injected=1"><b>bold</b> ${Date.now()}`;
  terminal.send(text);
  const item = page.locator('#chat-log li[data-name="term-markup"]');
  await item.waitFor({timeout: STEP_MS})
    .catch(async () => assert.fail(`the message did not appear; the log shows:\n${await seen('#chat-log')}`));
  assert.equal(await item.locator('[data-testid="chat-text"]').innerText(), text);
  assert.equal(await page.locator('#chat-log img, #chat-log b').count(), 0, 'no element made from the text');
  assert.equal(await page.evaluate(() => window.injected), undefined);
});

test('the page runs no inline script (script-src \'self\'), and needs none', async () => {
  // The dashboard's own script ran (it selects a tab), and none of its work was refused.
  assert.equal(await page.locator('[role="tab"][aria-selected="true"]').count(), 1);
  const refused = pageLog.filter((line) => line.includes('Content Security Policy'));
  assert.deepEqual(refused, [], 'the page broke its own policy');
  // An inline script added to the page is refused by the policy, not run (on a page of its
  // own, so that the refusal does not enter the main page's log).
  const probe = await browser.newPage();
  try {
    await probe.goto(server.url);
    const ran = await probe.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.inlineScriptRan = 1';
      document.body.append(script);
      return window.inlineScriptRan === 1;
    });
    assert.equal(ran, false, 'an inline script ran despite the Content-Security-Policy');
  } finally {
    await probe.close();
  }
});

test('the page sends the token of its URL as Authorization: Bearer', async () => {
  assert.ok(server.token, `duplex serve printed no token in ${server.url}`);
  const request = page.waitForRequest((r) => r.url().includes('/api/connections'), {timeout: STEP_MS});
  await openTab('connections');
  assert.equal((await request).headers().authorization, `Bearer ${server.token}`);
});

test('the address tools compute a subnet: 192.168.1.10/26', async () => {
  await openTab('tools');
  await page.fill('#ip-input', '192.168.1.10/26');
  await page.click('#ip-submit');
  const field = (name) => page.locator(`#ip-result dd[data-field="${name}"]`);
  await field('network').waitFor({timeout: STEP_MS})
    .catch(async () => assert.fail(`no result; the form shows:\n${await seen('#ip-form')}`));
  assert.equal(await field('network').innerText(), '192.168.1.0');
  assert.equal(await field('broadcast').innerText(), '192.168.1.63');
  assert.equal(await field('mask').innerText(), '255.255.255.192');
  assert.equal(await field('host_count').innerText(), '62');
});

test('a bad address shows the calculator\'s own error', async () => {
  await openTab('tools');
  await page.fill('#ip-input', '300.1.1.1');
  expectedFailure = '/api/ip?q=300.1.1.1';
  await page.click('#ip-submit');
  const error = page.locator('#ip-error');
  await page.locator('#ip-error:not(:empty)').waitFor({timeout: STEP_MS});
  assert.match(await error.innerText(), /^400: .*300\.1\.1\.1/);
  assert.equal(await page.locator('#ip-result dd').count(), 0);
});

test('without the token, the neighbours page says editing needs it and offers no form', async () => {
  // A fresh context has no duplex_token cookie; the URL carries no ?token=.
  const context = await browser.newContext();
  try {
    const other = await context.newPage();
    await other.goto(server.base + '#neighbours');
    const why = other.locator('#neighbours-why-not');
    await why.waitFor({state: 'visible', timeout: STEP_MS}).catch(async () =>
      assert.fail(`no reason shown; the page shows:\n${await other.locator('#page-neighbours').innerText()}`));
    assert.match(await why.innerText(), /^Adding and deleting entries is not allowed: .*token/);
    assert.equal(await other.locator('#neighbour-add').isDisabled(), true);
  } finally {
    await context.close();
  }
});

test('a screenshot of the dashboard is kept as a test artifact', async () => {
  await openTab('connections');
  await page.locator('#connections-body tr[data-testid="connection-row"]').first().waitFor({timeout: STEP_MS});
  const file = path.join(artifactsDir(), 'dashboard.png');
  fs.rmSync(file, {force: true});
  await page.screenshot({path: file, fullPage: true});
  const png = fs.readFileSync(file);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG signature');
  assert.ok(png.length > 10_000, `${file} is only ${png.length} bytes`);
  await openTab('chat');
  await page.screenshot({path: path.join(artifactsDir(), 'dashboard-chat.png'), fullPage: true});
  console.log(`screenshots: ${file}, dashboard-chat.png`);
  assert.deepEqual(pageErrors, [], 'the page raised errors while the screenshots were taken');
});

// Last, so that it covers every test above.
test('the page raised no script error and logged no console error in the whole run', () => {
  assert.deepEqual(pageErrors, []);
});
