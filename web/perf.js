// duplex dashboard, Perf page: a `duplex perf` test run by the serve process (/ws/perf), or a
// CLI run that reports to it (`duplex perf -c HOST --report-to URL --token T`; /ws/perf?watch=1),
// drawn live with uPlot (web/vendor/, pinned by tools/web-vendor): throughput, cwnd, RTT with
// rttvar, retransmissions, UDP loss and jitter per interval; a results table at the end.
// Text from the server goes in with textContent only.
import uPlot from '/vendor/uplot.esm.js';

const token = new URLSearchParams(location.search).get('token') || '';
const byId = (id) => document.getElementById(id);

// One chart per quantity; each series reads one field of the interval messages.
const CHARTS = [
  {id: 'throughput', title: 'Throughput (Mbit/s)', series: [['Mbit/s', 'mbps', '#2563eb']]},
  {id: 'cwnd', title: 'Congestion window (KiB)', series: [['cwnd KiB', 'cwnd', '#16a34a', 1 / 1024]]},
  {id: 'rtt', title: 'RTT (ms)', series: [['RTT', 'rtt_ms', '#9333ea'], ['rttvar', 'rttvar_ms', '#c084fc']]},
  {id: 'retransmits', title: 'Retransmissions', series: [['retransmits', 'retransmits', '#dc2626']]},
  {id: 'loss', title: 'UDP loss (%) and jitter (ms)', series: [['loss %', 'loss_percent', '#ea580c'], ['jitter ms', 'jitter_ms', '#0891b2']]},
];

const state = {ws: null, charts: {}, data: {}, run: null, time: 0};

function chartWidth() {
  const w = byId('perf-charts').clientWidth;
  return Math.max(280, Math.min(560, (w || 600) - 16));
}

// Empty charts for a new run.
function resetCharts() {
  const box = byId('perf-charts');
  for (const c of Object.values(state.charts)) c.destroy();
  box.replaceChildren();
  state.charts = {};
  state.data = {};
  for (const spec of CHARTS) {
    const holder = document.createElement('div');
    holder.className = 'perf-chart';
    holder.dataset.testid = 'perf-chart-' + spec.id;
    box.append(holder);
    state.data[spec.id] = [[], ...spec.series.map(() => [])];
    state.charts[spec.id] = new uPlot({
      title: spec.title,
      width: chartWidth(),
      height: 180,
      // x from 0 to the test's length, so that the line grows across the chart
      scales: {x: {time: false, range: (u, min, max) => [0, Math.max(max || 0, state.time || 1)]}},
      axes: [{label: 'seconds'}, {size: 70}],
      series: [{label: 's'}, ...spec.series.map(([label, , stroke]) => ({label, stroke, width: 2, spanGaps: false}))],
    }, state.data[spec.id], holder);
  }
  byId('perf-results').replaceChildren();
}

function addInterval(m) {
  for (const spec of CHARTS) {
    const d = state.data[spec.id];
    d[0].push(m.end);
    spec.series.forEach(([, key, , scale], i) => {
      const v = m[key];
      d[i + 1].push(typeof v === 'number' ? v * (scale || 1) : null);  // null: a gap, not 0
    });
    state.charts[spec.id].setData(d);
  }
  byId('perf-intervals').textContent = String(state.data.throughput[0].length);
}

function fmt(v, digits = 2) {
  return typeof v === 'number' ? v.toLocaleString(undefined, {maximumFractionDigits: digits}) : '—';
}

function showEnd(m) {
  const rows = [
    ['result', m.ok ? 'done' : 'failed: ' + (m.error || '')],
    ['seconds', fmt(m.seconds)],
    ['sent', fmt(m.sent_bytes, 0) + ' bytes'],
    ['received', fmt(m.received_bytes, 0) + ' bytes'],
    ['sender rate', fmt(m.sent_mbps) + ' Mbit/s'],
    ['receiver rate', fmt(m.received_mbps) + ' Mbit/s'],
    ['retransmissions', fmt(m.retransmits, 0)],
    ['UDP datagrams', fmt(m.packets, 0)],
    ['UDP lost', m.lost === undefined ? '—' : `${fmt(m.lost, 0)} (${fmt(m.loss_percent)} %)`],
    ['UDP jitter', m.jitter_ms === undefined ? '—' : fmt(m.jitter_ms, 3) + ' ms'],
  ];
  const table = byId('perf-results');
  table.replaceChildren(...rows.map(([k, v]) => {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = k;
    const td = document.createElement('td');
    td.textContent = v;
    td.dataset.testid = 'perf-result-' + k.replaceAll(' ', '-');
    tr.append(th, td);
    return tr;
  }));
  table.dataset.state = m.ok ? 'done' : 'failed';
}

function setStatus(text) { byId('perf-status').textContent = text; }

function onMessage(m) {
  if (m.type === 'error') {
    byId('perf-error').textContent = m.message;
    return;
  }
  if (m.type === 'watching') { setStatus('watching: waiting for a CLI run (duplex perf -c HOST --report-to ...)'); return; }
  if (m.type === 'started') {
    state.run = m.run;
    state.time = m.time;
    resetCharts();
    setStatus(`${m.source === 'cli' ? 'watching a CLI run' : 'running'}: ${m.protocol} to ${m.host} port ${m.port}` +
              `${m.reverse ? ', reverse' : ''}, ${m.streams} stream(s), ${m.time} s`);
    return;
  }
  if (m.run !== state.run) return;  // another run's message
  if (m.type === 'interval') addInterval(m);
  if (m.type === 'end') {
    showEnd(m);
    setStatus(m.ok ? 'done' : 'failed');
  }
}

function open(path) {
  stop();
  byId('perf-error').textContent = '';
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(`${proto}//${location.host}${path}`);
  state.ws = ws;
  byId('perf-stop').disabled = false;
  byId('perf-start').disabled = true;
  ws.onmessage = (e) => { try { onMessage(JSON.parse(e.data)); } catch (err) { byId('perf-error').textContent = String(err); } };
  ws.onerror = () => { byId('perf-error').textContent ||= 'the WebSocket failed: is the token in the URL (?token=...)?'; };
  ws.onclose = () => {
    if (state.ws !== ws) return;
    state.ws = null;
    byId('perf-stop').disabled = true;
    byId('perf-start').disabled = false;
    if (byId('perf-status').textContent.startsWith('running') || byId('perf-status').textContent.startsWith('watching'))
      setStatus('stopped');
  };
}

function stop() {
  if (state.ws) {
    const ws = state.ws;
    state.ws = null;
    ws.close();
    byId('perf-stop').disabled = true;
    byId('perf-start').disabled = false;
  }
}

function start(e) {
  e.preventDefault();
  const q = new URLSearchParams();
  for (const [key, id] of [['host', 'perf-host'], ['port', 'perf-port'], ['time', 'perf-time'],
                           ['rate', 'perf-rate'], ['streams', 'perf-streams']]) {
    const v = byId(id).value.trim();
    if (v) q.set(key, v);
  }
  q.set('proto', byId('perf-proto').value);
  if (byId('perf-reverse').checked) q.set('reverse', '1');
  if (token) q.set('token', token);
  setStatus('starting');
  open('/ws/perf?' + q.toString());
}

function watch() {
  const q = new URLSearchParams({watch: '1'});
  if (token) q.set('token', token);
  open('/ws/perf?' + q.toString());
}

byId('perf-form').addEventListener('submit', start);
byId('perf-stop').addEventListener('click', () => { stop(); setStatus('stopped'); });
byId('perf-watch').addEventListener('click', watch);

// For tests and the curious: the points drawn so far, chart by chart.
window.duplexPerf = {points: (id) => (state.data[id] ? state.data[id][0].length : 0),
                     chart: (id) => state.charts[id]};
