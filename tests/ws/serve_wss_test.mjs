// `duplex serve --tls`'s chat WebSocket over wss, against the npm `ws` client (run by ctest
// as integration.ws_serve_wss, with DUPLEX set). The certificate is made here by openssl for
// 127.0.0.1 and given to the client as its only CA: the client checks it, nothing is
// ignored. Everything is on 127.0.0.1 and bounded by a deadline.
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {exitSkipped} from '../prerequisites.mjs';

const require = createRequire(import.meta.url);
let WebSocket;
try {
  WebSocket = require('ws');
} catch {
  exitSkipped('serve_wss_test', 'the npm ws package is missing: run scripts/setup (npm ci in tests/ws)');
}
const duplex = process.env.DUPLEX;
if (!duplex) {
  console.error('serve_wss_test: set DUPLEX to the duplex binary');
  process.exit(2);
}
const DEADLINE_MS = 20_000;
setTimeout(() => {
  console.error('serve_wss_test: deadline passed');
  process.exit(1);
}, DEADLINE_MS).unref();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duplex-wss-'));
const cert = path.join(dir, 'cert.pem');
const key = path.join(dir, 'key.pem');
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
  '-nodes', '-days', '2', '-subj', '/CN=duplex-test', '-addext', 'subjectAltName=IP:127.0.0.1',
  '-keyout', key, '-out', cert], { stdio: 'ignore' });

const child = spawn(duplex, ['serve', '--tls', '--cert', cert, '--key', key, '--port', '0',
  '--chat-port', '0', '--no-discovery', '--db', path.join(dir, 'chat.db')],
  { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve, reject) => {
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
    const m = out.match(/dashboard {2}https:\/\/127\.0\.0\.1:(\d+)\//);
    if (m) resolve(Number(m[1]));
  });
  child.on('exit', (code) => reject(new Error(`duplex serve exited with ${code}: ${out}`)));
});

function messages(ws) {
  const queue = [];
  const waiters = [];
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    const w = waiters.findIndex((x) => x.match(msg));
    if (w >= 0) waiters.splice(w, 1)[0].resolve(msg);
    else queue.push(msg);
  });
  return (match) => {
    const i = queue.findIndex(match);
    if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]);
    return new Promise((resolve) => waiters.push({ match, resolve }));
  };
}

try {
  // Trusting the certificate: wss works.
  const ws = new WebSocket(`wss://127.0.0.1:${port}/ws/chat`, { ca: fs.readFileSync(cert) });
  const next = messages(ws);
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const welcome = await next((m) => m.type === 'welcome');
  ws.send(JSON.stringify({ type: 'say', text: 'hello over wss', client_id: 'c1' }));
  await next((m) => m.type === 'ack' && m.client_id === 'c1');
  const echoed = await next((m) => m.type === 'message' && m.text === 'hello over wss');
  assert.equal(echoed.name, welcome.name);
  ws.close();

  // Without it, the client refuses the self-signed certificate: it was checked above.
  const refused = new WebSocket(`wss://127.0.0.1:${port}/ws/chat`);
  const err = await new Promise((resolve) => {
    refused.once('open', () => resolve(null));
    refused.once('error', resolve);
  });
  assert.ok(err, 'a client that does not trust the certificate must not connect');
  console.log('serve_wss_test: ok');
} finally {
  child.kill('SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
}
