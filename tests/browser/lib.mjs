// Shared by the browser tests: prerequisites (exit 77 = skipped, 1 under CI=true; see
// tests/prerequisites.mjs), child processes read line
// by line with deadlines, a terminal chat client, headless Chromium, and the artifacts dir.
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {exitSkipped} from '../prerequisites.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const DEADLINE_MS = 15_000;

// Exits 77 (ctest: skipped; 1 under CI=true) when a prerequisite is missing; returns
// playwright's chromium.
export async function prerequisites(name, needs = []) {
  const skip = (why) => exitSkipped(name, why);
  if (!fs.existsSync(path.join(here, 'node_modules', 'playwright-core'))) {
    skip('playwright-core is missing: run scripts/setup (npm ci in tests/browser)');
  }
  if (!fs.existsSync(CHROMIUM)) skip(`${CHROMIUM} is missing: run scripts/setup (apt chromium)`);
  for (const variable of needs) {
    if (!process.env[variable]) {
      console.error(`${name}: set ${variable} (ctest does)`);
      process.exit(2);
    }
  }
  const {chromium} = await import('playwright-core');
  return chromium;
}

// args: more Chromium flags (e.g. the one key to trust).
export async function launch(chromium, args = []) {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', ...args],
    timeout: 30_000,
  });
}

// Keeps what the page logs (for a failure's report) and its errors (which a test asserts
// are none) in the two arrays.
export function recordPage(page, pageLog, pageErrors) {
  page.on('console', (m) => {
    pageLog.push(`console.${m.type()}: ${m.text()}`);
    if (m.type() === 'error') pageErrors.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => {
    pageLog.push(`page error: ${e.message}`);
    pageErrors.push(`page error: ${e.message}`);
  });
}

// Where screenshots go: $DUPLEX_ARTIFACTS (ctest sets it under the build dir).
export function artifactsDir() {
  const dir = process.env.DUPLEX_ARTIFACTS || path.join(process.cwd(), 'artifacts');
  fs.mkdirSync(dir, {recursive: true});
  return dir;
}

// A child process whose stdout and stderr are kept, so that a test can wait for a line
// and a failure can print everything that was seen.
export class Child {
  constructor(label, command, args, options = {}) {
    this.label = label;
    this.output = '';
    this.exited = null;
    this.waiters = new Set();
    this.proc = spawn(command, args, {stdio: ['pipe', 'pipe', 'pipe'], ...options});
    const take = (d) => {
      this.output += d.toString();
      for (const w of this.waiters) w();
    };
    this.proc.stdout.on('data', take);
    this.proc.stderr.on('data', take);
    this.proc.on('exit', (code, signal) => {
      this.exited = {code, signal};
      for (const w of this.waiters) w();
    });
    this.proc.on('error', (e) => {
      this.output += `\n(${label} failed to start: ${e.message})\n`;
      this.exited = {code: null, signal: null};
      for (const w of this.waiters) w();
    });
    this.proc.stdin.on('error', () => {});  // the child may be gone before we write
  }

  // Resolves with the first match of `pattern` in the output after position `from`.
  waitFor(pattern, {from = 0, timeout = DEADLINE_MS, what = String(pattern)} = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.output.slice(from).match(pattern);
        if (m) {
          finish();
          resolve(m);
        } else if (this.exited) {
          finish();
          reject(new Error(`${this.label} exited (${JSON.stringify(this.exited)}) before ${what}; ` +
                           `it printed:\n${this.output}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${this.label}: ${what} not seen within ${timeout} ms; it printed:\n${this.output}`));
      }, timeout);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  send(line) {
    this.proc.stdin.write(line + '\n');
  }

  async stop() {
    if (this.exited) return;
    const gone = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}

// `duplex serve` on free ports with a fresh database (args: more options, e.g. --tls);
// resolves once its startup summary named the dashboard's URL and the chat port.
export async function startServe(duplex, dir, args = []) {
  const serve = new Child('duplex serve', duplex,
    ['serve', '--port', '0', '--chat-port', '0', '--discovery-port', '0',
     '--db', path.join(dir, 'chat.db'), ...args]);
  // "dashboard  http://127.0.0.1:PORT/?token=TOKEN" and "chat       tcp 127.0.0.1:PORT (...)"
  // (https:// and "tls" with --tls)
  const http = await serve.waitFor(/^dashboard\s+(https?:\/\/[^\s/]+:(\d+)\/\S*)$/m,
                                   {what: 'the dashboard URL'});
  const chat = await serve.waitFor(/^chat\s+(?:tcp|tls)\s+\S+:(\d+)\b/m, {what: 'the chat port'});
  const url = new URL(http[1]);
  return {serve, url: url.href, base: url.origin + '/', token: url.searchParams.get('token'),
          httpPort: Number(http[2]), chatPort: Number(chat[1])};
}

// Exits 77 (skipped; 1 under CI=true) when this duplex has no `serve` command yet.
export function requireServe(name, duplex) {
  const r = spawnSync(duplex, ['serve', '--help'], {encoding: 'utf8', timeout: 5000});
  if (r.status !== 0) exitSkipped(name, `${duplex} has no serve command`);
}

// `duplex chat 127.0.0.1:PORT --name NAME`, the terminal client; resolves once the server
// announced the name ("* guest-3 is now NAME").
// args: more options (e.g. --tls --pin SHA256).
export async function startTerminal(duplex, port, name, args = []) {
  const client = new Child(`duplex chat (${name})`, duplex,
                           ['chat', `127.0.0.1:${port}`, '--name', name, ...args]);
  await client.waitFor(new RegExp(`is now ${name}$`, 'm'), {what: `the name ${name} confirmed`});
  return client;
}
