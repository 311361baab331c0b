// duplex dashboard. Plain JavaScript, no framework. Everything taken from the server is put
// into the page with textContent or attributes, never parsed as HTML.
'use strict';

const token = new URLSearchParams(location.search).get('token') || '';

// --- small helpers ---------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

// el('td', {className: 'num', title: 'x'}, 'text', child...) : text children become text nodes.
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue;
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key in node && typeof value !== 'string') node[key] = value;
    else if (key === 'className' || key === 'textContent') node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// fetch with the token; resolves to the parsed JSON, rejects with ApiError carrying the
// server's own error message when there is one.
async function api(path, options = {}) {
  const headers = {Accept: 'application/json', ...(options.headers || {})};
  if (token) headers.Authorization = 'Bearer ' + token;
  let body = options.body;
  if (body !== undefined && typeof body !== 'string') {
    body = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(path, {method: options.method || 'GET', headers, body,
                                 credentials: 'same-origin', cache: 'no-store'});
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const why = (data && (data.message || data.error)) || text.trim() || res.statusText;
    throw new ApiError(res.status, `${res.status}: ${why}`);
  }
  return data;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  return q.toString();
}

function formatBytes(n) {
  if (typeof n !== 'number') return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; ++i; }
  return (i === 0 ? String(n) : n.toFixed(1)) + ' ' + units[i];
}

function formatAge(seconds) {
  if (typeof seconds !== 'number') return '';
  const s = Math.floor(seconds);
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
}

function formatRtt(us) {
  if (typeof us !== 'number') return '';
  return us >= 10000 ? (us / 1000).toFixed(0) + ' ms' : (us / 1000).toFixed(2) + ' ms';
}

function showError(id, error) {
  $(id).textContent = error ? (error.message || String(error)) : '';
}

// A <dl> of every field of a JSON object, in the server's order; each <dd> carries
// data-field so tests and users can pick one out.
function fillKeyValues(dl, object) {
  dl.replaceChildren();
  for (const [key, value] of Object.entries(object || {})) {
    if (value === null || value === undefined) continue;
    const shown = typeof value === 'object' ? JSON.stringify(value) : String(value);
    dl.append(el('dt', {}, key.replaceAll('_', ' ')),
              el('dd', {dataset: {field: key}, 'data-testid': 'field-' + key}, shown));
  }
}

// --- tabs --------------------------------------------------------------------------------

// Every page has its tab in the nav (data-page) and its section (page-NAME).
const pages = [...document.querySelectorAll('.tabs [data-page]')].map((b) => b.dataset.page);
const onShow = {};

function showPage(name) {
  if (!pages.includes(name)) name = 'connections';
  for (const p of pages) {
    const selected = p === name;
    $('tab-' + p).setAttribute('aria-selected', String(selected));
    $('tab-' + p).tabIndex = selected ? 0 : -1;
    $('page-' + p).hidden = !selected;
  }
  if (onShow[name]) onShow[name]();
}

function setupTabs() {
  const tabs = pages.map((p) => $('tab-' + p));
  tabs.forEach((tab, i) => {
    tab.addEventListener('click', () => { location.hash = tab.dataset.page; });
    tab.addEventListener('keydown', (e) => {  // arrow keys move between tabs (WAI-ARIA)
      const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
      if (!step) return;
      const next = tabs[(i + step + tabs.length) % tabs.length];
      next.focus();
      location.hash = next.dataset.page;
    });
  });
  window.addEventListener('hashchange', () => showPage(location.hash.slice(1)));
  showPage(location.hash.slice(1));
}

// --- server summary ----------------------------------------------------------------------

// Where the chat keeps its messages: the SQLite file, or the Redis that several serve nodes
// share, whether it answers now, and which nodes share it.
function historySummary(h) {
  if (h.kind !== 'redis') return 'history ' + h.where;
  const state = h.connected ? 'connected' : 'unreachable: ' + (h.error || '?') + '; posts are refused';
  const others = h.nodes.length === 1 ? '1 other node' : h.nodes.length + ' other nodes';
  const names = h.nodes.length ? ' (' + h.nodes.join(', ') + ')' : '';
  return `history ${h.where} (${state}) · node ${h.node} · ${others}${names}`;
}

async function loadSummary() {
  try {
    const s = await api('/api/status');
    const parts = [];
    if (s.version) parts.push('version ' + s.version);
    if (s.http) parts.push('dashboard ' + s.http);
    if (s.chat) parts.push('chat ' + s.chat);
    if (s.discovery_port) parts.push('discovery UDP ' + s.discovery_port);
    if (s.history) parts.push(historySummary(s.history));
    parts.push(s.token_required
      ? 'token required'
      : 'loopback only; the token is needed to edit neighbours, capture, scan and run perf');
    if (typeof s.uptime_s === 'number') parts.push('up ' + formatAge(s.uptime_s));
    $('server-summary').textContent = parts.join(' · ');
  } catch (e) {
    $('server-summary').textContent = e.status === 401
      ? 'not authorised: open the URL with ?token= that duplex serve printed'
      : '';
  }
}

// --- connections ---------------------------------------------------------------------------

const connections = {timer: null, busy: false};

function connectionRow(c) {
  const chat = c.chat_name ? c.chat_name + (c.chat_room ? ' in ' + c.chat_room : '') : '';
  // The AND of each address with the interface's mask, shown on hover.
  const subnet = c.subnet;
  const how = subnet
    ? `${subnet.interface}: ${subnet.prefix} (mask ${subnet.mask})\nserver: ${subnet.local_and}\npeer:   ${subnet.peer_and}`
    : 'no interface holds the local address';
  return el('tr', {dataset: {id: c.id ?? '', protocol: c.protocol ?? '', chatName: c.chat_name ?? ''},
                   'data-testid': 'connection-row'},
    el('td', {'data-testid': 'connection-protocol'}, c.protocol ?? ''),
    el('td', {className: 'mono'}, c.local ?? ''),
    el('td', {className: 'mono', 'data-testid': 'connection-remote'}, c.remote ?? ''),
    el('td', {'data-testid': 'connection-chat'}, chat),
    el('td', {className: 'num'}, formatBytes(c.bytes_in)),
    el('td', {className: 'num'}, formatBytes(c.bytes_out)),
    el('td', {className: 'num'}, formatAge(c.age_s)),
    el('td', {className: 'num', title: typeof c.rttvar_us === 'number' ? `variation ${formatRtt(c.rttvar_us)}` : undefined},
       formatRtt(c.rtt_us)),
    el('td', {className: 'num', title: typeof c.retransmits === 'number' ? `${c.retransmits} retransmitted` : undefined},
       c.cwnd ?? ''),
    el('td', {className: 'mono', title: c.mac_note || undefined}, c.mac || (c.mac_note ? '—' : '')),
    el('td', {title: c.mac_note || undefined}, c.vendor || ''),
    el('td', {className: c.same_subnet ? 'yes' : 'no', title: how, 'data-testid': 'connection-subnet'},
       c.same_subnet ? 'yes' : 'no'));
}

async function refreshConnections() {
  if (connections.busy) return;
  connections.busy = true;
  try {
    const data = await api('/api/connections');
    const list = (data && data.connections) || [];
    const body = $('connections-body');
    if (list.length === 0) {
      body.replaceChildren(el('tr', {}, el('td', {colSpan: 12, className: 'empty'}, 'no connections')));
    } else {
      body.replaceChildren(...list.map(connectionRow));
    }
    $('connections-status').textContent =
      `${list.length} connection${list.length === 1 ? '' : 's'}, updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    $('connections-status').textContent = 'cannot list connections: ' + e.message;
  } finally {
    connections.busy = false;
  }
}

onShow.connections = () => refreshConnections();

function setupConnections() {
  // Every second while the page is shown and the tab is visible.
  connections.timer = setInterval(() => {
    if (!document.hidden && !$('page-connections').hidden) refreshConnections();
  }, 1000);
}

// --- address tools ------------------------------------------------------------------------

function setupTools() {
  $('ip-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    showError('ip-error', null);
    $('ip-result').replaceChildren();
    try {
      const r = await api('/api/ip?' + query({q: $('ip-input').value.trim()}));
      fillKeyValues($('ip-result'), Array.isArray(r) ? r[0] : r);
    } catch (err) { showError('ip-error', err); }
  });

  $('same-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    showError('same-error', null);
    const out = $('same-result');
    out.replaceChildren();
    try {
      const r = await api('/api/ip/same?' + query({a: $('same-a').value.trim(), b: $('same-b').value.trim(),
                                                   mask: $('same-mask').value.trim()}));
      out.append(el('p', {className: r.same_subnet ? 'yes' : 'no', 'data-testid': 'same-verdict',
                          title: (r.steps || []).join('\n') || undefined},
                    r.same_subnet ? `Same subnet: ${r.network}` : 'Different subnets'));
      out.append(el('pre', {className: 'mono', 'data-testid': 'same-steps'}, (r.steps || []).join('\n')));
      const table = el('table', {},
        el('thead', {}, el('tr', {}, el('th', {}, 'address'), el('th', {}, 'AND mask'), el('th', {}, 'network'))));
      const tbody = el('tbody');
      for (const a of r.addresses || []) {
        tbody.append(el('tr', {},
          el('td', {className: 'mono'}, a.address),
          el('td', {className: 'mono', title: `${a.binary}\nAND ${r.mask_binary}\n= ${a.network_binary}`},
             r.mask || ''),
          el('td', {className: 'mono'}, a.network)));
      }
      table.append(tbody);
      out.append(table);
    } catch (err) { showError('same-error', err); }
  });

  $('split-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    showError('split-error', null);
    const table = $('split-result');
    table.replaceChildren();
    const mode = document.querySelector('input[name="split-mode"]:checked').value;
    try {
      const r = await api('/api/ip/split?' + query({q: $('split-prefix').value.trim(),
                                                    [mode]: $('split-value').value.trim()}));
      const rows = r.subnets || [];
      const columns = rows.length ? Object.keys(rows[0]) : [];
      table.append(el('thead', {}, el('tr', {}, ...columns.map((c) => el('th', {scope: 'col'}, c.replaceAll('_', ' '))))));
      const tbody = el('tbody');
      for (const row of rows) {
        tbody.append(el('tr', {'data-testid': 'split-row'},
          ...columns.map((c) => el('td', {className: 'mono'}, row[c] ?? ''))));
      }
      table.append(tbody);
    } catch (err) { showError('split-error', err); }
  });

  $('mac-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    showError('mac-error', null);
    $('mac-vendor').textContent = '';
    $('mac-result').replaceChildren();
    try {
      const r = await api('/api/mac?' + query({q: $('mac-input').value.trim()}));
      $('mac-vendor').textContent = r.vendor ? r.vendor : 'no registered vendor';
      fillKeyValues($('mac-result'), r);
    } catch (err) { showError('mac-error', err); }
  });
}

// --- neighbours ----------------------------------------------------------------------------

const neighbours = {canEdit: false};

function neighbourRow(n) {
  const states = Array.isArray(n.state) ? n.state : [];
  let action = '';
  if (neighbours.canEdit && states.includes('PERMANENT')) {
    action = el('button', {type: 'button', className: 'small', 'data-testid': 'neighbour-delete',
                           'aria-label': `Delete ${n.ip} on ${n.dev}`}, 'Delete');
    action.addEventListener('click', () => deleteNeighbour(n));
  }
  return el('tr', {'data-testid': 'neighbour-row', dataset: {ip: n.ip ?? '', dev: n.dev ?? ''}},
    el('td', {className: 'mono'}, n.ip ?? ''),
    el('td', {className: 'mono'}, n.mac ?? ''),
    el('td', {}, n.vendor ?? ''),
    el('td', {}, n.dev ?? ''),
    el('td', {}, [...states, ...(n.router ? ['router'] : [])].join(' ')),
    el('td', {}, action));
}

async function refreshNeighbours() {
  showError('neighbours-error', null);
  try {
    const data = await api('/api/neighbours');
    const list = (data && data.neighbours) || [];
    neighbours.canEdit = Boolean(data && data.can_edit);
    const why = $('neighbours-why-not');
    why.hidden = neighbours.canEdit;
    why.textContent = neighbours.canEdit ? ''
      : 'Adding and deleting entries is not allowed: ' + ((data && data.why_not) || 'the server did not say why');
    for (const id of ['neighbour-ip', 'neighbour-mac', 'neighbour-dev', 'neighbour-add']) {
      $(id).disabled = !neighbours.canEdit;
    }
    const body = $('neighbours-body');
    if (list.length === 0) {
      body.replaceChildren(el('tr', {}, el('td', {colSpan: 6, className: 'empty'}, 'no neighbours')));
    } else {
      body.replaceChildren(...list.map(neighbourRow));
    }
  } catch (e) { showError('neighbours-error', e); }
}

async function deleteNeighbour(n) {
  showError('neighbours-error', null);
  try {
    await api('/api/neighbours?' + query({ip: n.ip, dev: n.dev}), {method: 'DELETE'});
  } catch (e) { showError('neighbours-error', e); }
  refreshNeighbours();
}

onShow.neighbours = () => refreshNeighbours();

function setupNeighbours() {
  $('neighbours-refresh').addEventListener('click', refreshNeighbours);
  $('neighbour-add-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    showError('neighbours-error', null);
    try {
      await api('/api/neighbours', {method: 'POST', body: {
        ip: $('neighbour-ip').value.trim(), mac: $('neighbour-mac').value.trim(),
        dev: $('neighbour-dev').value.trim()}});
      $('neighbour-ip').value = '';
      $('neighbour-mac').value = '';
    } catch (err) { showError('neighbours-error', err); }
    refreshNeighbours();
  });
}

// --- chat -----------------------------------------------------------------------------------

const chat = {
  ws: null, name: '', room: '', nextClientId: 1, pending: new Map(), retry: 0, timer: null,
  wanted: {name: localStorage.getItem('duplex.name') || '', room: localStorage.getItem('duplex.room') || ''},
};

function chatUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  // Browsers cannot set headers on a WebSocket: the cookie or ?token= carries the token.
  return `${scheme}//${location.host}/ws/chat${token ? '?' + query({token}) : ''}`;
}

function timeOf(ms) {
  return typeof ms === 'number' ? new Date(ms).toISOString().slice(11, 19) : '';
}

function messageItem(m) {
  return el('li', {'data-testid': 'chat-message', dataset: {id: m.id ?? '', name: m.name ?? '', via: m.via ?? ''}},
    el('time', {className: 'time', dateTime: typeof m.ts === 'number' ? new Date(m.ts).toISOString() : undefined},
       timeOf(m.ts)),
    el('span', {className: 'name'}, m.name ?? ''),
    el('span', {className: 'text', 'data-testid': 'chat-text'}, m.text ?? ''),
    el('span', {className: 'via'}, m.via ? 'via ' + m.via : ''));
}

function appendToLog(item) {
  const log = $('chat-log');
  const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
  log.append(item);
  while (log.children.length > 500) log.firstElementChild.remove();
  if (atBottom) log.scrollTop = log.scrollHeight;
}

function chatNote(kind, text) {
  appendToLog(el('li', {className: kind, 'data-testid': 'chat-' + kind}, text));
}

function setChatConnected(connected) {
  $('chat-input').disabled = !connected;
  $('chat-send').disabled = !connected;
}

function sendChat(object) {
  if (chat.ws && chat.ws.readyState === WebSocket.OPEN) {
    chat.ws.send(JSON.stringify(object));
    return true;
  }
  return false;
}

function onChatMessage(event) {
  let m;
  try { m = JSON.parse(event.data); } catch { return; }
  switch (m.type) {
    case 'welcome':
      chat.name = m.name; chat.room = m.room;
      $('chat-current-name').textContent = m.name;
      $('chat-current-room').textContent = m.room;
      $('chat-name').value = m.name;
      $('chat-room').value = m.room;
      $('chat-status').textContent = `connected · ${m.online ?? '?'} online`;
      $('chat-status').dataset.state = 'connected';
      loadRooms();
      break;
    case 'history':
      $('chat-log').replaceChildren(...(m.messages || []).map(messageItem));
      $('chat-log').scrollTop = $('chat-log').scrollHeight;
      chat.room = m.room ?? chat.room;
      $('chat-current-room').textContent = chat.room;
      break;
    case 'ack': {
      // The message is committed: the pending line becomes the stored one.
      const li = chat.pending.get(m.client_id);
      if (li) {
        chat.pending.delete(m.client_id);
        li.dataset.state = 'acked';
        li.dataset.id = m.id;
        li.querySelector('.ack').textContent = '✓ stored #' + m.id;
        li.querySelector('.ack').title = 'acknowledged: committed to the history';
      }
      break;
    }
    case 'message': {
      // Our own message was shown when sent and marked on its ack; not shown twice.
      const mine = document.querySelector(`#chat-log li[data-state="acked"][data-id="${Number(m.id)}"]`);
      if (mine) {
        mine.querySelector('.time').textContent = timeOf(m.ts);
      } else if (m.room === undefined || m.room === chat.room) {
        appendToLog(messageItem(m));
      }
      break;
    }
    case 'notice': {
      chatNote('notice', m.text ?? '');
      // A rename is announced as "OLD is now NEW"; ours changes the name we show.
      const renamed = /^(\S+) is now (\S+)$/.exec(m.text || '');
      if (renamed && renamed[1] === chat.name) {
        chat.name = renamed[2];
        $('chat-current-name').textContent = chat.name;
      }
      loadRooms();
      break;
    }
    case 'error':
      chatNote('error', m.message ?? 'error');
      break;
  }
}

function connectChat() {
  clearTimeout(chat.timer);
  const ws = new WebSocket(chatUrl());
  chat.ws = ws;
  $('chat-status').textContent = 'connecting…';
  $('chat-status').dataset.state = 'connecting';
  ws.addEventListener('open', () => {
    chat.retry = 0;
    setChatConnected(true);
    const hello = {type: 'hello'};
    if (chat.wanted.name) hello.name = chat.wanted.name;
    if (chat.wanted.room) hello.room = chat.wanted.room;
    ws.send(JSON.stringify(hello));
  });
  ws.addEventListener('message', onChatMessage);
  ws.addEventListener('close', (e) => {
    if (chat.ws !== ws) return;
    setChatConnected(false);
    for (const li of chat.pending.values()) {
      li.dataset.state = 'lost';
      li.querySelector('.ack').textContent = 'not acknowledged';
    }
    chat.pending.clear();
    const delay = Math.min(30000, 1000 * 2 ** chat.retry++);
    $('chat-status').textContent =
      `disconnected (${e.code}${e.reason ? ' ' + e.reason : ''}); retrying in ${Math.round(delay / 1000)} s`;
    $('chat-status').dataset.state = 'disconnected';
    chat.timer = setTimeout(connectChat, delay);
  });
}

async function loadRooms() {
  try {
    const data = await api('/api/chat/rooms');
    const rooms = (data && data.rooms) || [];
    const list = $('chat-rooms');
    list.replaceChildren(...rooms.map((r) => {
      const b = el('button', {type: 'button', dataset: {room: r.name}},
                   `${r.name} (${r.online ?? 0} online)`);
      b.addEventListener('click', () => joinRoom(r.name));
      return el('li', {}, b);
    }));
    $('chat-room-list').replaceChildren(...rooms.map((r) => el('option', {value: r.name})));
    const here = rooms.find((r) => r.name === chat.room);
    if (here && chat.ws && chat.ws.readyState === WebSocket.OPEN) {
      $('chat-status').textContent = `connected · ${here.online} online in ${here.name}`;
    }
  } catch {
    // the room list is a convenience; the chat works without it
  }
}

function joinRoom(room) {
  if (!room || room === chat.room) return;
  chat.wanted.room = room;
  localStorage.setItem('duplex.room', room);
  sendChat({type: 'join', room});
}

function setupChat() {
  $('chat-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('chat-input').value;
    if (!text.trim()) return;
    const clientId = 'c' + chat.nextClientId++;
    if (!sendChat({type: 'say', text, client_id: clientId})) return;
    const li = el('li', {'data-testid': 'chat-message', dataset: {state: 'pending', name: chat.name, clientId}},
      el('time', {className: 'time'}, ''),
      el('span', {className: 'name'}, chat.name),
      el('span', {className: 'text', 'data-testid': 'chat-text'}, text),
      el('span', {className: 'ack', 'data-testid': 'chat-ack'}, 'sending…'));
    chat.pending.set(clientId, li);
    appendToLog(li);
    $('chat-log').scrollTop = $('chat-log').scrollHeight;
    $('chat-input').value = '';
  });
  $('chat-name-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $('chat-name').value.trim();
    if (!name) return;
    chat.wanted.name = name;
    localStorage.setItem('duplex.name', name);
    sendChat({type: 'nick', name});
  });
  $('chat-room-form').addEventListener('submit', (e) => {
    e.preventDefault();
    joinRoom($('chat-room').value.trim());
  });
  connectChat();
}

// --- start ------------------------------------------------------------------------------------

document.addEventListener('DOMContentLoaded', () => {
  setupTools();
  setupNeighbours();
  setupConnections();
  setupTabs();
  setupChat();
  loadSummary();
  // Again every 5 s: uptime, and with Redis whether it answers and which nodes share it.
  setInterval(loadSummary, 5000);
});
