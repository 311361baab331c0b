// duplex's WebSocket server against a real peer, the npm `ws` client (run by ctest as
// integration.ws_echo, with WS_ECHO_SERVER set to tests/ws/ws_echo_server). Each case opens
// its own connection to 127.0.0.1 and is bounded by a 10-second deadline; a raw TCP socket
// plays the client for the frames `ws` refuses to send (bad close codes, unmasked frames).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import {exitSkipped} from '../prerequisites.mjs';

const require = createRequire(import.meta.url);
let WebSocket;
try {
  WebSocket = require('ws');
} catch {
  exitSkipped('echo_test', 'the npm ws package is missing: run scripts/setup (npm ci in tests/ws)');
}

const server = process.env.WS_ECHO_SERVER;
if (!server) {
  console.error('echo_test: set WS_ECHO_SERVER to the ws_echo_server binary');
  process.exit(2);
}
const MAX_MESSAGE = 1 << 20;
const CASE_DEADLINE_MS = 10_000;

function startServer() {
  const child = spawn(server, ['--port', '0', '--max-message', String(MAX_MESSAGE)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (\S+):(\d+)/);
      if (m) resolve({ child, port: Number(m[2]) });
    });
    child.on('exit', (code) => reject(new Error(`ws_echo_server exited with ${code}: ${out}`)));
  });
}

const { child, port } = await startServer();
const url = `ws://127.0.0.1:${port}/echo`;

function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function nextMessage(ws) {
  return new Promise((resolve, reject) => {
    ws.once('message', (data, isBinary) => resolve({ data, isBinary }));
    ws.once('close', (code) => reject(new Error(`closed with ${code} before a message`)));
  });
}

function closed(ws) {
  return new Promise((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

// A raw client: handshake by hand, then frames we build ourselves.
function rawClient() {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const key = crypto.randomBytes(16).toString('base64');
    let buf = Buffer.alloc(0);
    sock.on('error', reject);
    sock.on('connect', () => {
      sock.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
                 `Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`);
    });
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.off('data', onData);
      const head = buf.subarray(0, end).toString();
      if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`no upgrade: ${head}`));
      resolve({ sock, rest: buf.subarray(end + 4) });
    };
    sock.on('data', onData);
  });
}

function maskedFrame(opcode, payload, { fin = true, mask = true } = {}) {
  const key = crypto.randomBytes(4);
  const len = payload.length;
  assert.ok(len < 126, 'raw frames here stay short');
  const head = Buffer.from([(fin ? 0x80 : 0) | opcode, (mask ? 0x80 : 0) | len]);
  if (!mask) return Buffer.concat([head, payload]);
  const body = Buffer.from(payload.map((b, i) => b ^ key[i % 4]));
  return Buffer.concat([head, key, body]);
}

// Reads frames from the server until a Close; returns its code (1005 when it has none).
function closeCodeFrom({ sock, rest }) {
  return new Promise((resolve, reject) => {
    let buf = rest;
    const parse = () => {
      while (buf.length >= 2) {
        const opcode = buf[0] & 0x0f;
        const len = buf[1] & 0x7f;
        assert.ok(len < 126 && (buf[1] & 0x80) === 0, 'server frames are short and unmasked');
        if (buf.length < 2 + len) return;
        const payload = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        if (opcode === 0x8) return resolve(len >= 2 ? payload.readUInt16BE(0) : 1005);
      }
    };
    sock.on('data', (d) => { buf = Buffer.concat([buf, d]); parse(); });
    sock.on('end', () => reject(new Error('connection ended without a Close frame')));
    parse();
  });
}

const cases = [];
const test = (name, fn) => cases.push({ name, fn });

test('text message is echoed as text', async () => {
  const ws = await open();
  const text = 'héllo wörld € 😀';
  ws.send(text);
  const { data, isBinary } = await nextMessage(ws);
  assert.equal(isBinary, false);
  assert.equal(data.toString(), text);
  ws.close(1000);
});

test('binary message of 100000 bytes is echoed byte for byte', async () => {
  const ws = await open();
  const payload = crypto.randomBytes(100000);
  ws.send(payload);
  const { data, isBinary } = await nextMessage(ws);
  assert.equal(isBinary, true);
  assert.ok(Buffer.compare(data, payload) === 0);
  ws.close(1000);
});

test('fragmented text message comes back as one message', async () => {
  const ws = await open();
  ws.send('frag', { fin: false });
  ws.send('men', { fin: false });
  ws.send('ted', { fin: true });
  const { data } = await nextMessage(ws);
  assert.equal(data.toString(), 'fragmented');
  ws.close(1000);
});

test('code point split across fragments is valid text', async () => {
  const ws = await open();
  const euro = Buffer.from('€');
  ws.send(euro.subarray(0, 1), { fin: false, binary: false });
  ws.send(euro.subarray(1), { fin: true, binary: false });
  const { data, isBinary } = await nextMessage(ws);
  assert.equal(isBinary, false);
  assert.equal(data.toString(), '€');
  ws.close(1000);
});

test('ping is answered with a pong carrying its payload', async () => {
  const ws = await open();
  const pong = new Promise((resolve) => ws.once('pong', resolve));
  ws.ping(Buffer.from('probe'));
  assert.equal((await pong).toString(), 'probe');
  ws.close(1000);
});

for (const [code, reason] of [[1000, 'done'], [1001, 'going away'], [4000, 'app code']]) {
  test(`close ${code} is echoed with the same code`, async () => {
    const ws = await open();
    const done = closed(ws);
    ws.close(code, reason);
    assert.equal((await done).code, code);
  });
}

test('invalid UTF-8 in a text message ends with close code 1007', async () => {
  const ws = await open();
  const done = closed(ws);
  ws.send(Buffer.from([0x6f, 0x6b, 0xff]), { binary: false });
  assert.equal((await done).code, 1007);
});

test('surrogate in a later fragment ends with close code 1007', async () => {
  const ws = await open();
  const done = closed(ws);
  ws.send('ok', { fin: false });
  ws.send(Buffer.from([0xed, 0xa0, 0x80]), { fin: true, binary: false });
  assert.equal((await done).code, 1007);
});

test('message at the size limit is echoed', async () => {
  const ws = await open();
  const payload = crypto.randomBytes(MAX_MESSAGE);
  ws.send(payload);
  const { data } = await nextMessage(ws);
  assert.equal(data.length, MAX_MESSAGE);
  ws.close(1000);
});

test('message one byte over the limit ends with close code 1009', async () => {
  const ws = await open();
  const done = closed(ws);
  ws.send(Buffer.alloc(MAX_MESSAGE + 1));
  assert.equal((await done).code, 1009);
});

test('close code 1005 on the wire ends with close code 1002', async () => {
  const raw = await rawClient();
  raw.sock.write(maskedFrame(0x8, Buffer.from([0x03, 0xed])));
  assert.equal(await closeCodeFrom(raw), 1002);
  raw.sock.destroy();
});

test('unmasked client frame ends with close code 1002', async () => {
  const raw = await rawClient();
  raw.sock.write(maskedFrame(0x1, Buffer.from('x'), { mask: false }));
  assert.equal(await closeCodeFrom(raw), 1002);
  raw.sock.destroy();
});

test('handshake with version 8 is refused with 426 and our version', async () => {
  const reply = await new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => {
      sock.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
                 'Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    });
    let out = '';
    sock.on('data', (d) => { out += d; });
    sock.on('end', () => { sock.destroy(); resolve(out); });
    sock.on('error', reject);
  });
  assert.ok(reply.startsWith('HTTP/1.1 426 '), reply);
  assert.match(reply, /\r\nSec-WebSocket-Version: 13\r\n/);
});

let failed = 0;
for (const { name, fn } of cases) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no outcome in ${CASE_DEADLINE_MS} ms`)),
                       CASE_DEADLINE_MS);
  });
  try {
    await Promise.race([fn(), deadline]);
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.message}`);
  } finally {
    clearTimeout(timer);
  }
}
child.kill('SIGTERM');
console.log(`${cases.length - failed}/${cases.length} cases passed`);
process.exit(failed ? 1 : 0);
