#!/usr/bin/env node
// The chat load driver: N clients of one `duplex serve` room, half over the TCP chat port
// (one line per message, as nc or `duplex chat` speak it) and half over WebSocket /ws/chat
// (npm `ws`, pinned in tests/ws), exchange M messages. It checks that every client receives
// every message, in order per sender, and measures the fan-out latency: the time from a
// send to its receipt at each other client.
//
// Flow: connect every client (at most 50 connecting at a time), wait until each is in the
// room (TCP: "* you are NAME in ROOM"; WebSocket: "welcome"), then every client sends its
// share of the M messages, keeping at most --window of its own unconfirmed (its own message
// coming back is the confirmation, on both transports), so the run is a closed loop that
// keeps the server busy without queueing without bound. --rate R makes it an open loop
// instead: R messages a second in all, from the clients in turn (the window still caps each),
// which shows the latency at a load below saturation. It ends when every client has all M
// messages, or at --timeout (failure, with who misses what).
//
// A message's text is "L <sender> <seq> <send time in us>"; all clients live in this one
// process, so send and receive times come from one monotonic clock. The latency includes
// this process's own queueing (one node thread serves every client); the numbers are an
// upper bound of the server's.
//
// Several serve nodes that share one chat (serve --redis): --tcp and --ws take comma-separated
// lists, and client i of each kind connects to entry i modulo the list's length, so the
// clients are spread evenly over the nodes.
//
// Output: one JSON object on stdout (the summary, "ok": true/false); progress and errors
// on stderr. Exit 0 when every check passed, 1 otherwise, 2 for bad arguments.
//
//   node bench/chat/load.mjs --tcp 127.0.0.1:7000 --ws ws://127.0.0.1:8080/ws/chat \
//        --tcp-clients 100 --ws-clients 100 --messages 10000
import net from 'node:net';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tests/ws/package.json', import.meta.url));
let WebSocket;
try {
  WebSocket = require('ws');
} catch (e) {
  console.error('load.mjs: the npm ws package is missing; run: (cd tests/ws && npm ci)');
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    tcp: null, ws: null, tcpClients: 100, wsClients: 100, messages: 10000, window: 1,
    timeout: 120, rate: 0,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    const num = (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) usage(`${a} '${v}' must be a whole number`);
      return n;
    };
    if (a === '--tcp') o.tcp = next();
    else if (a === '--ws') o.ws = next();
    else if (a === '--tcp-clients') o.tcpClients = num(next());
    else if (a === '--ws-clients') o.wsClients = num(next());
    else if (a === '--messages') o.messages = num(next());
    else if (a === '--window') o.window = Math.max(1, num(next()));
    else if (a === '--timeout') o.timeout = num(next());
    else if (a === '--rate') o.rate = num(next());
    else if (a === '-h' || a === '--help') usage(null);
    else usage(`unknown argument '${a}'`);
  }
  if (o.tcpClients > 0 && !o.tcp) usage('--tcp HOST:PORT is needed for TCP clients');
  if (o.wsClients > 0 && !o.ws) usage('--ws URL is needed for WebSocket clients');
  if (o.tcpClients + o.wsClients < 1) usage('at least one client');
  return o;
}

// Entry i (modulo the length) of a comma-separated list of nodes' addresses.
function nodeOf(list, i) {
  const nodes = list.split(',');
  return nodes[i % nodes.length];
}

function usage(error) {
  const text = 'usage: load.mjs --tcp HOST:PORT[,...] --ws ws://HOST:PORT/ws/chat[,...] ' +
    '[--tcp-clients 100] [--ws-clients 100] [--messages 10000] [--window 1] [--rate 0] ' +
    '[--timeout 120]';
  if (error) {
    console.error(`load.mjs: ${error}\n${text}`);
    process.exit(2);
  }
  console.log(text);
  process.exit(0);
}

const opt = parseArgs(process.argv.slice(2));
const N = opt.tcpClients + opt.wsClients;
const M = opt.messages;
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

const latencies = new Float64Array(M * Math.max(N - 1, 1));
let latencyCount = 0;
let firstSend = 0;
let lastReceipt = 0;
let delivered = 0;       // deliveries (message x receiver) seen so far
const errors = [];
function fail(text) {
  if (errors.length < 20) errors.push(text);
}

class Client {
  constructor(index, kind) {
    this.index = index;
    this.kind = kind;
    this.name = `${kind === 'tcp' ? 't' : 'w'}${index}`;
    this.share = Math.floor(M / N) + (index < M % N ? 1 : 0);
    this.nextSeq = 0;         // next of our own to send
    this.confirmed = 0;       // our own that came back
    this.received = 0;        // every message of the run seen here
    this.expect = new Int32Array(N);  // per sender: the seq we expect next
    this.ready = false;
    this.closed = false;
  }

  // A message of the room arrived here: check it, time it, maybe send more.
  onText(text) {
    if (!text.startsWith('L ')) return;  // not ours (a history replay of another run, say)
    const [, s, q, t] = text.split(' ');
    const sender = Number(s), seq = Number(q), sent = Number(t);
    if (!(sender >= 0 && sender < N)) return fail(`${this.name}: bad message '${text}'`);
    if (seq !== this.expect[sender]) {
      fail(`${this.name}: from ${sender} got seq ${seq}, expected ${this.expect[sender]}`);
    }
    this.expect[sender] = seq + 1;
    this.received++;
    delivered++;
    const now = nowUs();
    lastReceipt = now;
    if (sender === this.index) {
      this.confirmed++;
      this.pump();
    } else if (latencyCount < latencies.length) {
      latencies[latencyCount++] = now - sent;
    }
    if (this.received === M) finishedClients++;
    if (finishedClients === N) done();
  }

  // Closed loop: send while fewer than --window of ours are unconfirmed. With --rate, the
  // ticker sends instead (sendOne), and the window only caps it.
  pump() {
    while (started && !opt.rate && this.canSend()) this.sendOne();
  }

  canSend() {
    return this.nextSeq < this.share && this.nextSeq - this.confirmed < opt.window;
  }

  sendOne() {
    const now = nowUs();
    if (!firstSend) firstSend = now;
    this.say(`L ${this.index} ${this.nextSeq++} ${now}`);
  }
}

class TcpClient extends Client {
  constructor(index) {
    super(index, 'tcp');
  }
  connect() {
    const [host, port] = splitHostPort(nodeOf(opt.tcp, this.index));
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host, port });
      this.sock = sock;
      sock.setNoDelay(true);
      sock.setEncoding('utf8');
      let pending = '';
      sock.on('connect', () => sock.write(`/nick ${this.name}\n`));
      sock.on('data', (chunk) => {
        pending += chunk;
        let nl;
        while ((nl = pending.indexOf('\n')) >= 0) {
          let line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (line.endsWith('\r')) line = line.slice(0, -1);
          this.onLine(line, resolve);
        }
      });
      sock.on('error', (e) => {
        if (!this.ready) reject(new Error(`${this.name}: ${e.message}`));
        else fail(`${this.name}: ${e.message}`);
      });
      sock.on('close', () => {
        this.closed = true;
        if (!finishing) fail(`${this.name}: the server closed the connection`);
      });
    });
  }
  onLine(line, resolve) {
    if (line.startsWith('[')) {
      // "[HH:MM:SS] name: text": the text is after the first ": " (names have no colon).
      const b = line.indexOf(': ');
      if (b > 0) this.onText(line.slice(b + 2));
    } else if (line.startsWith('* you are ') && !this.ready) {
      this.ready = true;
      resolve();
    } else if (line.startsWith('! ')) {
      fail(`${this.name}: server error: ${line}`);
    }
  }
  say(text) {
    this.sock.write(text + '\n');
  }
  close() {
    this.sock.end('/quit\n');
  }
}

class WsClient extends Client {
  constructor(index) {
    super(index, 'ws');
  }
  connect() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(nodeOf(opt.ws, this.index), { perMessageDeflate: false });
      this.ws = ws;
      ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', name: this.name })));
      ws.on('message', (data) => {
        let m;
        try {
          m = JSON.parse(data.toString());
        } catch {
          return fail(`${this.name}: a frame that is not JSON`);
        }
        if (m.type === 'message') this.onText(m.text);
        else if (m.type === 'welcome' && !this.ready) {
          this.ready = true;
          resolve();
        } else if (m.type === 'error') fail(`${this.name}: server error: ${m.message}`);
      });
      ws.on('error', (e) => {
        if (!this.ready) reject(new Error(`${this.name}: ${e.message}`));
        else fail(`${this.name}: ${e.message}`);
      });
      ws.on('close', () => {
        this.closed = true;
        if (!finishing) fail(`${this.name}: the server closed the WebSocket`);
      });
    });
  }
  say(text) {
    this.ws.send(JSON.stringify({ type: 'say', text }));
  }
  close() {
    this.ws.close(1000);
  }
}

function splitHostPort(text) {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text);
  if (!m) usage(`'${text}' is not HOST:PORT`);
  return [m[1], Number(m[2])];
}

let started = false;
let finishing = false;
let finishedClients = 0;
const clients = [];
for (let i = 0; i < N; i++) clients.push(i < opt.tcpClients ? new TcpClient(i) : new WsClient(i));

const deadline = setTimeout(() => {
  fail(`timed out after ${opt.timeout} s`);
  done();
}, opt.timeout * 1000);

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function done() {
  if (finishing) return;
  finishing = true;
  clearTimeout(deadline);
  for (const c of clients) {
    if (c.received !== M) fail(`${c.name}: received ${c.received} of ${M} messages`);
    for (let s = 0; s < N; s++) {
      if (c.expect[s] !== clients[s].share) {
        fail(`${c.name}: from ${clients[s].name} got ${c.expect[s]} of ${clients[s].share}`);
        break;
      }
    }
  }
  const lat = latencies.subarray(0, latencyCount).sort();
  const seconds = (lastReceipt - firstSend) / 1e6;
  const ms = (v) => (v === null ? null : Math.round(v) / 1000);
  const summary = {
    ok: errors.length === 0,
    tcp_clients: opt.tcpClients,
    ws_clients: opt.wsClients,
    messages: M,
    window: opt.window,
    rate: opt.rate,
    deliveries: delivered,
    seconds: Math.round(seconds * 1000) / 1000,
    messages_per_s: seconds > 0 ? Math.round(M / seconds) : null,
    deliveries_per_s: seconds > 0 ? Math.round(delivered / seconds) : null,
    fanout_ms: {
      p50: ms(percentile(lat, 50)),
      p90: ms(percentile(lat, 90)),
      p99: ms(percentile(lat, 99)),
      max: ms(lat.length ? lat[lat.length - 1] : null),
      samples: lat.length,
    },
    errors,
  };
  console.log(JSON.stringify(summary));
  for (const c of clients) {
    try {
      c.close();
    } catch {}
  }
  setTimeout(() => process.exit(summary.ok ? 0 : 1), 200).unref();
  process.exitCode = summary.ok ? 0 : 1;
}

async function main() {
  // Connect in waves, so that the listen backlog never overflows.
  const wave = 50;
  for (let i = 0; i < N; i += wave) {
    await Promise.all(clients.slice(i, i + wave).map((c) => c.connect()));
  }
  console.error(`load.mjs: ${N} clients in the room (${opt.tcpClients} tcp, ` +
    `${opt.wsClients} websocket); sending ${M} messages`);
  started = true;
  if (M === 0) return done();
  if (!opt.rate) {
    for (const c of clients) c.pump();
    return;
  }
  // Open loop: --rate messages a second in all, from the clients in turn, on a 10 ms tick.
  const t0 = nowUs();
  let sent = 0, next = 0;
  const ticker = setInterval(() => {
    const due = Math.min(M, Math.floor(((nowUs() - t0) / 1e6) * opt.rate));
    for (let tries = 0; sent < due && tries < N; ) {
      const c = clients[next];
      next = (next + 1) % N;
      if (c.canSend()) {
        c.sendOne();
        sent++;
        tries = 0;
      } else {
        tries++;
      }
    }
    if (sent >= M || finishing) clearInterval(ticker);
  }, 10);
}

main().catch((e) => {
  fail(`setup: ${e.message}`);
  done();
});
