// duplex dashboard, Capture page: live packets over WebSocket /ws/capture in Wireshark's three
// panes (the packet list, the layer tree of the selected packet, its bytes), and the --flow
// ladder drawn in SVG. Plain DOM; text from the wire goes in with textContent only.
const token = new URLSearchParams(location.search).get('token') || '';
const byId = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
const KEEP = 2000;        // packets kept in the page; older ones leave the list
const FLOW_ARROWS = 300;  // the last ones drawn in the ladder

// node('td', {className: 'num'}, 'text', child) ; text children become text nodes.
function node(tag, props = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'className' || k === 'textContent') n[k] = v;
    else if (k === 'dataset') Object.assign(n.dataset, v);
    else n.setAttribute(k, v);
  }
  n.append(...children.map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
  return n;
}

function svg(tag, attrs = {}, text) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  if (text !== undefined) n.textContent = text;
  return n;
}

const state = {
  ws: null,
  headings: {},
  packets: [],       // the messages kept, oldest first
  selected: null,    // the packet shown in the tree and hex panes
  firstTime: null,   // ms since the epoch of the first packet, for relative times
  flowQueued: false,
  counts: {captured: 0, sent: 0, left_out: 0, kernel_dropped: 0},
};

// --- interfaces and the reason a capture cannot run -----------------------------------------

async function loadInterfaces() {
  const headers = {Accept: 'application/json'};
  if (token) headers.Authorization = 'Bearer ' + token;
  const why = byId('capture-why-not');
  let data;
  try {
    const res = await fetch('/api/capture/interfaces', {headers, credentials: 'same-origin', cache: 'no-store'});
    data = await res.json().catch(() => null);
    if (!res.ok) throw new Error((data && (data.message || data.error)) || `${res.status} ${res.statusText}`);
  } catch (e) {
    why.textContent = e.message;
    why.dataset.cause = 'token';
    why.hidden = false;
    byId('capture-start').disabled = true;
    return;
  }
  const select = byId('capture-iface');
  const current = select.value;
  select.replaceChildren(...data.interfaces.map((i) => node('option', {value: i.name},
    i.name + (i.up ? '' : ' (down)') + (i.description ? ' — ' + i.description : ''))));
  select.value = current || (data.interfaces.find((i) => i.loopback) ? 'lo' : data.interfaces[0]?.name) || '';
  const rate = byId('capture-rate');
  rate.max = data.max_rate;
  if (!rate.value) rate.value = data.max_rate;
  why.hidden = data.cap_net_raw;
  why.textContent = data.why_not || '';
  why.dataset.cause = data.cap_net_raw ? '' : 'permission';
  byId('capture-start').disabled = !data.cap_net_raw || !!state.ws;
}

// --- the socket -------------------------------------------------------------------------------

function setRunning(running, status) {
  byId('capture-start').disabled = running;
  byId('capture-stop').disabled = !running;
  byId('capture-status').textContent = status;
  byId('capture-status').dataset.state = running ? 'capturing' : 'stopped';
}

function start() {
  stop();
  byId('capture-error').textContent = '';
  const q = new URLSearchParams({iface: byId('capture-iface').value});
  const filter = byId('capture-filter').value.trim();
  if (filter) q.set('filter', filter);
  if (byId('capture-rate').value) q.set('rate', byId('capture-rate').value);
  if (token) q.set('token', token);
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(`${scheme}//${location.host}/ws/capture?${q}`);
  state.ws = ws;
  state.packets = [];
  state.selected = null;
  state.firstTime = null;
  byId('capture-body').replaceChildren();
  byId('capture-tree').replaceChildren();
  byId('capture-hex').replaceChildren();
  byId('capture-flow').replaceChildren();
  state.counts = {captured: 0, sent: 0, left_out: 0, kernel_dropped: 0, interface_dropped: 0};
  showCounts(state.counts);
  setRunning(true, 'starting…');
  ws.addEventListener('message', (e) => {
    if (ws !== state.ws) return;
    const m = JSON.parse(e.data);
    if (m.type === 'packet') addPacket(m);
    else if (m.type === 'stats') showCounts(m);
    else if (m.type === 'started') {
      state.headings = m.headings || {};
      setRunning(true, `capturing on ${m.interface} (${m.link_type})` +
        (m.filter ? ` · filter ${m.filter}` : '') + ` · at most ${m.rate} packets a second shown`);
    } else if (m.type === 'error') {
      byId('capture-error').textContent = m.message;
      byId('capture-error').dataset.cause = m.cause;
    }
  });
  ws.addEventListener('close', (e) => {
    if (ws !== state.ws) return;
    state.ws = null;
    const why = byId('capture-error').textContent;
    setRunning(false, why ? 'stopped' : `stopped (the connection closed${e.code === 1000 ? '' : ', code ' + e.code})`);
  });
}

function stop() {
  if (!state.ws) return;
  const ws = state.ws;
  state.ws = null;
  ws.close(1000);
  setRunning(false, 'stopped');
}

function showCounts(m) {
  state.counts = {...state.counts, ...m};
  const set = (id, v) => { byId('capture-counts').querySelector(`[data-testid="${id}"]`).textContent = String(v ?? 0); };
  set('capture-captured', m.captured);
  set('capture-sent', m.sent);
  set('capture-left-out', m.left_out);
  set('capture-dropped', m.kernel_dropped + (m.interface_dropped || 0));
}

// --- the packet list --------------------------------------------------------------------------

// Seconds since the first packet, from the ISO time with its microseconds.
function relativeTime(iso) {
  const us = Number((iso.match(/\.(\d{6})Z$/) || [0, '0'])[1]);
  const ms = Date.parse(iso.replace(/\.\d+Z$/, 'Z')) + us / 1000;
  if (state.firstTime === null) state.firstTime = ms;
  return ((ms - state.firstTime) / 1000).toFixed(6);
}

function addPacket(m) {
  m.bytes = Uint8Array.from(atob(m.bytes), (c) => c.charCodeAt(0));
  // The counts move with each packet; the server's stats (every second) correct them.
  const c = state.counts;
  c.captured = Math.max(c.captured, m.number);
  c.sent += 1;
  c.left_out = c.captured - c.sent;
  showCounts(c);
  state.packets.push(m);
  const body = byId('capture-body');
  const row = node('tr', {tabindex: '0', 'data-testid': 'capture-packet', dataset: {number: m.number, protocol: m.protocol}},
    node('td', {className: 'num'}, m.number),
    node('td', {className: 'num mono'}, relativeTime(m.time)),
    node('td', {className: 'mono'}, m.source),
    node('td', {className: 'mono'}, m.destination),
    node('td', {}, m.protocol),
    node('td', {className: 'num'}, m.length),
    node('td', {className: 'mono packet-summary'}, m.summary));
  row.addEventListener('click', () => select(m, row));
  row.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); select(m, row); } });
  const list = body.parentElement.parentElement;
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  body.append(row);
  if (state.packets.length > KEEP) {
    state.packets.shift();
    body.firstElementChild.remove();
  }
  if (atBottom) list.scrollTop = list.scrollHeight;
  if (m.flow) queueFlow();
}

function select(m, row) {
  state.selected = m;
  for (const r of byId('capture-body').querySelectorAll('tr[aria-selected="true"]')) r.removeAttribute('aria-selected');
  row.setAttribute('aria-selected', 'true');
  showTree(m);
  showHex(m.bytes);
}

// --- the layer tree ---------------------------------------------------------------------------

function fieldItem(f) {
  const text = `${f.label}: ${f.value}` + (f.meaning ? ` (${f.meaning})` : '');
  const b = node('button', {type: 'button', className: 'field', 'data-testid': 'capture-field',
    dataset: {key: f.key, offset: f.offset, length: f.length}, title: f.key}, text);
  const li = node('li', {}, b);
  if (f.children && f.children.length) li.append(node('ul', {}, ...f.children.map(fieldItem)));
  return li;
}

function showTree(m) {
  const tree = byId('capture-tree');
  tree.replaceChildren(...m.layers.map((l) => {
    const heading = state.headings[l.layer] || `OSI ${l.osi}`;
    const head = node('button', {type: 'button', className: 'field layer', 'data-testid': 'capture-layer',
      dataset: {offset: l.offset, length: l.length, layer: l.layer}}, `${heading}: ${l.protocol}`);
    const box = node('details', {open: '', dataset: {protocol: l.protocol}}, node('summary', {}, head),
      node('ul', {}, ...l.fields.map(fieldItem)));
    if (l.problem) box.append(node('p', {className: 'error'}, `[${l.problem}]`));
    return box;
  }));
}

// A click on a field or a layer heading marks its bytes in the hex pane.
function onTreeClick(e) {
  const b = e.target.closest('button.field');
  if (!b) return;
  if (b.classList.contains('layer')) e.preventDefault();  // keep the layer open
  for (const s of byId('capture-tree').querySelectorAll('button.field.selected')) s.classList.remove('selected');
  b.classList.add('selected');
  highlight(Number(b.dataset.offset), Number(b.dataset.length));
}

// --- the hex pane -----------------------------------------------------------------------------

const hex2 = (v) => v.toString(16).padStart(2, '0');

function showHex(bytes) {
  const pane = byId('capture-hex');
  const rows = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const hex = [], ascii = [];
    for (let i = at; i < Math.min(at + 16, bytes.length); ++i) {
      hex.push(node('span', {className: 'b', dataset: {i}}, hex2(bytes[i])));
      if ((i - at) % 2 === 1) hex.push(' ');
      const c = bytes[i];
      ascii.push(node('span', {className: 'a', dataset: {i}}, c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.'));
    }
    rows.push(node('div', {className: 'row'}, node('span', {className: 'off'}, at.toString(16).padStart(4, '0')),
      node('span', {className: 'hex'}, ...hex), node('span', {className: 'ascii'}, ...ascii)));
  }
  pane.replaceChildren(...rows);
}

function highlight(offset, length) {
  const pane = byId('capture-hex');
  for (const s of pane.querySelectorAll('.hl')) s.classList.remove('hl');
  let first = null;
  for (let i = offset; i < offset + length; ++i) {
    for (const s of pane.querySelectorAll(`[data-i="${i}"]`)) {
      s.classList.add('hl');
      first = first || s;
    }
  }
  if (first) first.scrollIntoView({block: 'nearest'});
}

// --- the flow ladder in SVG (the --flow picture) ----------------------------------------------

function queueFlow() {
  if (state.flowQueued || !byId('capture-flow-box').open) return;
  state.flowQueued = true;
  requestAnimationFrame(() => { state.flowQueued = false; drawFlow(); });
}

function drawFlow() {
  const steps = state.packets.filter((p) => p.flow).slice(-FLOW_ARROWS);
  const box = byId('capture-flow');
  if (!steps.length) { box.replaceChildren(node('p', {className: 'status'}, 'no ARP or IP packets to draw yet')); return; }
  const hosts = [];
  for (const s of steps) for (const h of [s.flow.from, s.flow.to]) if (!hosts.includes(h)) hosts.push(h);
  const colW = 260, left = 90, top = 34, rowH = 26;
  const x = (h) => left + hosts.indexOf(h) * colW + colW / 2;
  const height = top + steps.length * rowH + 12;
  const root = svg('svg', {width: left + hosts.length * colW, height, 'data-testid': 'capture-flow-svg',
    role: 'img', 'aria-label': 'Flow: one column per host, one arrow per packet'});
  const defs = svg('defs');
  const marker = svg('marker', {id: 'flow-head', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse'});
  marker.append(svg('path', {d: 'M0,0 L10,5 L0,10 z', class: 'flow-head'}));
  defs.append(marker);
  root.append(defs, svg('text', {x: 4, y: 18, class: 'flow-host'}, 'time (s)'));
  for (const h of hosts) {
    root.append(svg('text', {x: x(h), y: 18, 'text-anchor': 'middle', class: 'flow-host'}, h),
      svg('line', {x1: x(h), y1: top - 8, x2: x(h), y2: height, class: 'flow-rail'}));
  }
  steps.forEach((s, i) => {
    const y = top + i * rowH + 16;
    root.append(svg('text', {x: 4, y, class: 'flow-time'}, relativeTime(s.time)));
    const g = svg('g', {class: 'flow-arrow', 'data-number': s.number});
    const x1 = x(s.flow.from), x2 = x(s.flow.to);
    if (x1 === x2) {  // to itself (loopback): a loop beside the rail
      g.append(svg('path', {d: `M${x1},${y - 8} h24 v10 h-22`, class: 'flow-line', 'marker-end': 'url(#flow-head)'}),
        svg('text', {x: x1 + 30, y: y - 2, class: 'flow-label'}, s.flow.label));
    } else {
      g.append(svg('line', {x1, y1: y, x2, y2: y, class: 'flow-line', 'marker-end': 'url(#flow-head)'}),
        svg('text', {x: (x1 + x2) / 2, y: y - 4, 'text-anchor': 'middle', class: 'flow-label'}, s.flow.label));
    }
    g.append(svg('title', {}, `#${s.number} ${s.summary}`));
    g.addEventListener('click', () => {
      const row = byId('capture-body').querySelector(`tr[data-number="${s.number}"]`);
      if (row) { select(s, row); row.scrollIntoView({block: 'nearest'}); }
    });
    root.append(g);
  });
  box.replaceChildren(root);
}

// --- start ------------------------------------------------------------------------------------

function setup() {
  byId('capture-form').addEventListener('submit', (e) => { e.preventDefault(); start(); });
  byId('capture-stop').addEventListener('click', stop);
  byId('capture-tree').addEventListener('click', onTreeClick);
  byId('capture-flow-box').addEventListener('toggle', () => { if (byId('capture-flow-box').open) drawFlow(); });
  // The list of interfaces is read when the page is shown (an interface may have come up).
  byId('tab-capture').addEventListener('click', loadInterfaces);
  window.addEventListener('hashchange', () => { if (location.hash === '#capture') loadInterfaces(); });
  if (location.hash === '#capture') loadInterfaces();
}

setup();
