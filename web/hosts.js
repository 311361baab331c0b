// duplex dashboard, Hosts page: a TCP connect scan of this machine's subnets, run by the
// serve process (/ws/scan, docs/api.md). The server speaks first with a default target (the
// subnet of the address this page came from); the page sends one request per connection and
// fills the table as hosts and open ports arrive. Text from the server goes in with
// textContent only.
const token = new URLSearchParams(location.search).get('token') || '';
const byId = (id) => document.getElementById(id);

const state = {ws: null, rows: new Map(), scanning: false};

function setStatus(text) { byId('hosts-status').textContent = text; }
function setError(text) { byId('hosts-error').textContent = text; }

function socketUrl() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/ws/scan` + (token ? '?token=' + encodeURIComponent(token) : '');
}

function cell(text, testid) {
  const td = document.createElement('td');
  td.textContent = text;
  if (testid) td.dataset.testid = testid;
  return td;
}

// The table row of a host, made on its first message.
function row(host) {
  let r = state.rows.get(host);
  if (r) return r;
  const tr = document.createElement('tr');
  tr.dataset.host = host;
  tr.dataset.testid = 'hosts-row';
  const ports = cell('', 'hosts-ports-cell');
  tr.append(cell(host, 'hosts-address'), cell('—', 'hosts-mac'), cell('—', 'hosts-vendor'), ports);
  byId('hosts-body').append(tr);
  r = {tr, mac: tr.children[1], vendor: tr.children[2], ports};
  state.rows.set(host, r);
  return r;
}

function addPort(m) {
  const r = row(m.host);
  const badge = document.createElement('span');
  badge.className = 'badge';
  badge.dataset.port = String(m.port);
  badge.dataset.testid = 'hosts-port';
  badge.textContent = String(m.port);
  if (m.service) {
    const name = document.createElement('small');
    name.textContent = m.service;
    badge.append(name);
  }
  // ascending port order, whatever order they come in
  const after = [...r.ports.children].find((b) => Number(b.dataset.port) > m.port);
  r.ports.insertBefore(badge, after || null);
}

function onMessage(m) {
  switch (m.type) {
    case 'ready':
      if (!byId('hosts-targets').value) byId('hosts-targets').value = m.targets;
      return;
    case 'started':
      setStatus(`scanning ${m.targets}: ${m.addresses} address(es), ${m.ports} port(s) each`);
      byId('hosts-progress').max = m.addresses * m.ports || 1;
      byId('hosts-progress').value = 0;
      return;
    case 'host': {
      const r = row(m.host);
      r.mac.textContent = m.mac || '—';
      r.vendor.textContent = m.vendor || '—';
      return;
    }
    case 'port': addPort(m); return;
    case 'progress':
      byId('hosts-progress').max = m.total || 1;
      byId('hosts-progress').value = m.done;
      return;
    case 'done':
      state.scanning = false;
      byId('hosts-progress').value = byId('hosts-progress').max;
      setStatus(`done: ${m.hosts_up} host(s) up, ${m.ports_open} open port(s), ` +
                `${m.seconds.toFixed(1)} s`);
      byId('hosts-table').dataset.state = 'done';
      return;
    case 'error':
      state.scanning = false;
      setError(m.message);
      setStatus('refused');
      return;
    default:
  }
}

// Opens a socket; `request` (or null: only the default target) goes once the server is ready.
function open(request) {
  close();
  const ws = new WebSocket(socketUrl());
  state.ws = ws;
  ws.onmessage = (e) => {
    let m;
    try { m = JSON.parse(e.data); } catch (err) { setError(String(err)); return; }
    onMessage(m);
    if (m.type !== 'ready') return;
    if (request) {
      ws.send(JSON.stringify(request));
    } else {
      ws.close();
    }
  };
  ws.onerror = () => {
    if (request) setError(byId('hosts-error').textContent || 'the WebSocket failed: is the token in the URL (?token=...)?');
  };
  ws.onclose = () => {
    if (state.ws !== ws) return;
    state.ws = null;
    buttons(false);
    if (state.scanning) setStatus('stopped');
    state.scanning = false;
  };
}

function close() {
  if (!state.ws) return;
  const ws = state.ws;
  state.ws = null;
  ws.close();
}

function buttons(scanning) {
  byId('hosts-start').disabled = scanning;
  byId('hosts-stop').disabled = !scanning;
}

function start(e) {
  e.preventDefault();
  setError('');
  state.rows.clear();
  byId('hosts-body').replaceChildren();
  delete byId('hosts-table').dataset.state;
  setStatus('starting');
  state.scanning = true;
  buttons(true);
  open({targets: byId('hosts-targets').value.trim(), ports: byId('hosts-ports').value.trim()});
}

byId('hosts-form').addEventListener('submit', start);
byId('hosts-stop').addEventListener('click', () => {
  close();
  buttons(false);
  if (state.scanning) setStatus('stopped');
  state.scanning = false;
});
// The default target comes from the server: ask for it once the page is first shown.
let asked = false;
function askDefault() {
  if (asked || byId('page-hosts').hidden) return;
  asked = true;
  if (!byId('hosts-targets').value) open(null);
}
window.addEventListener('hashchange', askDefault);
askDefault();
document.addEventListener('DOMContentLoaded', askDefault);
