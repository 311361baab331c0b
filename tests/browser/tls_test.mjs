// The dashboard of `duplex serve --tls` in headless Chromium (run by ctest as
// integration.browser_tls, with DUPLEX set to the binary): the page over HTTPS and its chat
// over WSS, both ways with a `duplex chat --tls --pin` client. The certificate is made here
// by openssl (ECDSA P-256, SAN IP:127.0.0.1); Chromium trusts exactly its key
// (--ignore-certificate-errors-spki-list with the SPKI's SHA-256), no certificate error is
// ignored, and a browser without that flag is refused the page. Everything is on 127.0.0.1.
// Exits 77 (skipped; 1 under CI=true) without playwright-core, chromium, openssl, or a
// duplex with the serve command.
import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync, spawnSync} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {exitSkipped} from '../prerequisites.mjs';
import {launch, prerequisites, recordPage, requireServe, startServe, startTerminal} from './lib.mjs';

const chromium = await prerequisites('tls_test', ['DUPLEX']);
const duplex = process.env.DUPLEX;
requireServe('tls_test', duplex);
if (spawnSync('openssl', ['version']).status !== 0) exitSkipped('tls_test', 'openssl is missing');
const STEP_MS = 10_000;

let tmp, server, browser, page, fingerprint;
const children = [];
const pageLog = [];
const pageErrors = [];
const sockets = [];  // the URLs of the WebSockets the page opened

// The certificate's key as Chromium's flag names it: base64 of SHA-256 over the DER SPKI.
function spkiHash(cert) {
  const pem = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-pubkey']);
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], {input: pem});
  return crypto.createHash('sha256').update(der).digest('base64');
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'duplex-browser-tls-'));
  const cert = path.join(tmp, 'cert.pem');
  const key = path.join(tmp, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-days', '2', '-subj', '/CN=duplex-test', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', key, '-out', cert], {stdio: 'ignore'});
  fingerprint = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-fingerprint', '-sha256'],
                             {encoding: 'utf8'}).trim().split('=')[1];
  server = await startServe(duplex, tmp, ['--tls', '--cert', cert, '--key', key]);
  children.push(server.serve);
  browser = await launch(chromium, [`--ignore-certificate-errors-spki-list=${spkiHash(cert)}`]);
  page = await browser.newPage({viewport: {width: 1280, height: 800}});
  recordPage(page, pageLog, pageErrors);
  page.on('websocket', (ws) => sockets.push(ws.url()));
});

after(async () => {
  if (browser) await browser.close();
  for (const c of children.reverse()) await c.stop();
  if (tmp) fs.rmSync(tmp, {recursive: true, force: true});
  if (pageLog.length) console.error('the page logged:\n' + pageLog.join('\n'));
});

async function seen(selector) {
  return page.locator(selector).evaluateAll((nodes) => nodes.map((n) => n.innerText).join('\n'));
}

test('a browser that does not trust the key is refused the page', async () => {
  const other = await launch(chromium);
  try {
    const p = await other.newPage();
    await assert.rejects(p.goto(server.url), /net::ERR_CERT_AUTHORITY_INVALID/);
  } finally {
    await other.close();
  }
});

test('the page loads over https:// and its chat connects over wss://', async () => {
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+\/\?token=/);
  const response = await page.goto(server.url);
  assert.equal(response.status(), 200);
  assert.equal(await page.evaluate(() => location.protocol), 'https:');
  assert.equal((await response.securityDetails())?.subjectName, 'duplex-test');
  await page.click('#tab-chat');
  await page.locator('#chat-status[data-state="connected"]').waitFor({timeout: STEP_MS})
    .catch(async () => assert.fail(`the chat did not connect; the page shows:\n${await seen('#page-chat')}`));
  const chat = `wss://127.0.0.1:${server.httpPort}/ws/chat`;
  assert.ok(sockets.some((u) => u === chat || u.startsWith(chat + '?')), sockets.join('\n'));
});

test('a message from the page reaches a duplex chat --tls --pin client, and one back', async () => {
  const terminal = await startTerminal(duplex, server.chatPort, 'term-tls', ['--tls', '--pin', fingerprint]);
  children.push(terminal);
  const from = terminal.output.length;
  await page.fill('#chat-name', 'web-tls');
  await page.click('#chat-name-set');
  await page.locator('#chat-current-name', {hasText: 'web-tls'}).waitFor({timeout: STEP_MS});
  const out = `hello over wss ${Date.now()}`;
  await page.fill('#chat-input', out);
  await page.click('#chat-send');
  await page.locator('#chat-log li[data-state="acked"]', {hasText: out}).waitFor({timeout: STEP_MS})
    .catch(async () => assert.fail(`no acknowledgement in the page; the log shows:\n${await seen('#chat-log')}`));
  await terminal.waitFor(new RegExp(`web-tls.*${out}`), {from, what: `"${out}" from web-tls`});

  const back = `hello over tls ${Date.now()}`;
  terminal.send(back);
  await page.locator('#chat-log li[data-name="term-tls"]', {hasText: back}).waitFor({timeout: STEP_MS})
    .catch(async () => assert.fail(`"${back}" did not appear; the log shows:\n${await seen('#chat-log')}`));
  assert.deepEqual(pageErrors, [], 'the page logged errors');
});
