// The trader's page: plain JavaScript over the engine's public API (docs/API.md), no framework,
// no build step. Reports arrive on one WebSocket subscribed to the account; REST is used for the
// order list at start, admin checks, the kill switch and routing decisions. Every value from the
// server is written with textContent, never as markup.
'use strict';

const $ = (id) => document.getElementById(id);
const OPEN = new Set(['NEW', 'ROUTED', 'PARTIALLY_FILLED', 'PENDING_CANCEL', 'PENDING_REPLACE']);

const state = {
  token: null,
  ws: null,
  admin: false,
  /** Blotter rows by key: 'o<orderId>' once the engine numbered the order, 'c<clOrdId>' before. */
  rows: new Map(),
  positions: new Map(),
  seq: 0,
  reconnectMs: 500,
  heartbeat: null,
  loggedOut: true,
};

function newClOrdId(prefix) {
  state.seq += 1;
  return `${prefix}-${Date.now().toString(36)}-${state.seq}`;
}

async function api(method, path, body) {
  const init = { method, headers: { Authorization: `Bearer ${state.token}` } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  let json = null;
  try {
    json = await res.json();
  } catch {
    json = null;
  }
  return { status: res.status, json };
}

function setConn(text, on) {
  const el = $('conn');
  el.textContent = text;
  el.className = `pill ${on ? 'on' : 'off'}`;
}

function cell(tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text === null || text === undefined ? '' : String(text);
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

// ---------------------------------------------------------------------------------------------
// Log in and out
// ---------------------------------------------------------------------------------------------

async function login(token) {
  state.token = token;
  $('login-error').textContent = '';
  let check;
  try {
    check = await api('GET', '/v1/positions');
  } catch (err) {
    $('login-error').textContent = `cannot reach the engine: ${err.message}`;
    return;
  }
  if (check.status !== 200) {
    $('login-error').textContent = check.status === 401 ? 'This API key is not valid.' : `Login failed (HTTP ${check.status}).`;
    state.token = null;
    return;
  }
  sessionStorage.setItem('oms-token', token);
  state.loggedOut = false;
  state.admin = (await api('GET', '/v1/admin/kill-switch')).status === 200;
  $('admin').hidden = !state.admin;
  $('login').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = false;
  for (const p of check.json.positions || []) showPosition(p);
  await loadOrders();
  if (state.admin) await loadKillSwitch();
  connect();
}

function logout() {
  state.loggedOut = true;
  sessionStorage.removeItem('oms-token');
  if (state.ws) state.ws.close(1000, 'logout');
  state.ws = null;
  state.token = null;
  state.rows.clear();
  state.positions.clear();
  for (const id of ['blotter', 'fills', 'positions']) $(id).tBodies[0].replaceChildren();
  $('app').hidden = true;
  $('login').hidden = false;
  $('logout').hidden = true;
  $('who').textContent = '';
  setConn('disconnected', false);
}

async function loadOrders() {
  const r = await api('GET', '/v1/orders?limit=200');
  if (r.status !== 200) return;
  // Newest first from the server: insert oldest first so the newest ends on top.
  for (const o of r.json.orders.slice().reverse()) showReport(o);
}

// ---------------------------------------------------------------------------------------------
// WebSocket
// ---------------------------------------------------------------------------------------------

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${scheme}://${location.host}/v1/ws?token=${encodeURIComponent(state.token)}`);
  state.ws = ws;
  setConn('connecting', false);
  ws.onmessage = (e) => {
    if (typeof e.data !== 'string') return;
    let m;
    try {
      m = JSON.parse(e.data);
    } catch {
      return;
    }
    onMessage(m);
  };
  ws.onclose = () => {
    if (state.ws !== ws) return;
    clearInterval(state.heartbeat);
    setConn('disconnected', false);
    if (!state.loggedOut) {
      setTimeout(() => { if (!state.loggedOut) connect(); }, state.reconnectMs);
      state.reconnectMs = Math.min(state.reconnectMs * 2, 5000);
    }
  };
}

function send(m) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) {
    $('ticket-msg').textContent = 'Not connected: the order was not sent.';
    return false;
  }
  state.ws.send(JSON.stringify(m));
  return true;
}

function onMessage(m) {
  switch (m.type) {
    case 'hello':
      state.reconnectMs = 500;
      setConn('connected', true);
      $('who').textContent = `account ${m.accountId}${state.admin ? ' (admin)' : ''}`;
      send({ type: 'subscribe' });
      send({ type: 'positions' });
      clearInterval(state.heartbeat);
      state.heartbeat = setInterval(() => send({ type: 'heartbeat' }), 30_000);
      return;
    case 'ack':
    case 'execution':
    case 'reject':
    case 'cancelReject':
      showReport(m);
      if (m.type === 'execution' && m.lastQty > 0) showFill(m);
      if (m.type === 'reject' || m.type === 'cancelReject') $('ticket-msg').textContent = `${m.clOrdId}: ${m.reasonName}${m.text ? ` (${m.text})` : ''}`;
      return;
    case 'position':
      showPosition(m);
      return;
    case 'positions':
      for (const p of m.positions) showPosition(p);
      return;
    case 'error':
      $('ticket-msg').textContent = `${m.reasonName}: ${m.text || ''}`;
      return;
    default:
      return; // subscribed, heartbeat
  }
}

// ---------------------------------------------------------------------------------------------
// Blotter, fills, positions
// ---------------------------------------------------------------------------------------------

function rowFor(m) {
  const byId = m.orderId > 0 ? `o${m.orderId}` : null;
  const byCl = `c${m.clOrdId}`;
  let tr = byId ? state.rows.get(byId) : undefined;
  if (!tr && m.clOrdId) {
    // The order as sent, before the engine numbered it (or a replace's old ClOrdID).
    tr = state.rows.get(byCl) || (m.origClOrdId ? state.rows.get(`c${m.origClOrdId}`) : undefined);
    if (tr && byId) {
      state.rows.delete(tr.dataset.key);
      tr.dataset.key = byId;
      state.rows.set(byId, tr);
    }
  }
  if (!tr) {
    tr = document.createElement('tr');
    tr.dataset.key = byId || byCl;
    state.rows.set(tr.dataset.key, tr);
    $('blotter').tBodies[0].prepend(tr);
  }
  return tr;
}

function showReport(m) {
  if (m.type === 'cancelReject') {
    const tr = m.orderId > 0 ? state.rows.get(`o${m.orderId}`) : undefined;
    if (tr) tr.title = `cancel/replace refused: ${m.reasonName}`;
    return;
  }
  const tr = rowFor(m);
  tr.replaceChildren();
  tr.dataset.status = m.status;
  tr.dataset.clOrdId = m.clOrdId;
  cell(tr, m.clOrdId);
  cell(tr, m.orderId > 0 ? m.orderId : '');
  cell(tr, m.symbol);
  cell(tr, m.side, m.side === 'BUY' ? 'buy' : 'sell');
  cell(tr, m.qty, 'num');
  cell(tr, m.price ?? 'MKT', 'num');
  cell(tr, m.cumQty ?? 0, 'num');
  cell(tr, m.avgPx ?? '', 'num');
  const st = cell(tr, m.type === 'reject' ? `REJECTED ${m.reasonName || ''}` : m.status, `status s-${m.status || 'REJECTED'}`);
  st.dataset.testid = 'status';
  cell(tr, m.venue || tr.dataset.venue || '');
  if (m.venue) tr.dataset.venue = m.venue;
  const actions = document.createElement('td');
  if (m.orderId > 0 && OPEN.has(m.status)) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = 'Cancel';
    b.dataset.testid = 'cancel';
    b.addEventListener('click', () => send({ type: 'cancel', clOrdId: newClOrdId('x'), orderId: m.orderId }));
    actions.appendChild(b);
  }
  if (m.orderId > 0) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = 'Route';
    b.dataset.testid = 'route-btn';
    b.addEventListener('click', () => void showRoute(m.orderId));
    actions.appendChild(b);
  }
  tr.appendChild(actions);
}

function showFill(m) {
  const tr = document.createElement('tr');
  cell(tr, new Date().toLocaleTimeString());
  cell(tr, m.clOrdId);
  cell(tr, m.symbol);
  cell(tr, m.side, m.side === 'BUY' ? 'buy' : 'sell');
  cell(tr, m.lastQty, 'num');
  cell(tr, m.lastPx, 'num');
  cell(tr, m.venue || '');
  const body = $('fills').tBodies[0];
  body.prepend(tr);
  while (body.rows.length > 500) body.deleteRow(body.rows.length - 1);
}

function showPosition(p) {
  let tr = state.positions.get(p.symbol);
  if (!tr) {
    tr = document.createElement('tr');
    state.positions.set(p.symbol, tr);
    $('positions').tBodies[0].appendChild(tr);
  }
  tr.replaceChildren();
  cell(tr, p.symbol);
  cell(tr, p.qty, 'num');
  cell(tr, p.avgPx ?? '', 'num');
  cell(tr, p.realizedPnl ?? '', `num ${pnlClass(p.realizedPnl)}`);
  // Unrealized P&L appears when the engine marks positions (a mark price); otherwise a dash.
  cell(tr, p.unrealizedPnl ?? '—', `num ${pnlClass(p.unrealizedPnl)}`);
}

function pnlClass(v) {
  if (v === undefined || v === null) return '';
  return String(v).startsWith('-') ? 'neg' : String(v) === '0' ? '' : 'pos';
}

// ---------------------------------------------------------------------------------------------
// Routing decision
// ---------------------------------------------------------------------------------------------

async function showRoute(orderId) {
  const box = $('route');
  $('route-order').textContent = `(order ${orderId})`;
  box.replaceChildren(note('Loading...'));
  let r;
  try {
    r = await api('GET', `/v1/orders/${orderId}/route`);
  } catch (err) {
    box.replaceChildren(note(`Routing decision not available: ${err.message}`, 'error'));
    return;
  }
  if (r.status === 404) {
    const why = r.json && r.json.reasonName ? ` (${r.json.reasonName})` : '';
    box.replaceChildren(note(`Routing decision not available for order ${orderId}${why}.`, 'na'));
    return;
  }
  if (r.status !== 200 || !r.json) {
    box.replaceChildren(note(`Routing decision not available (HTTP ${r.status}).`, 'error'));
    return;
  }
  box.replaceChildren(...renderDecision(r.json));
}

function note(text, cls) {
  const p = document.createElement('p');
  p.textContent = text;
  p.className = cls || 'muted';
  if (cls === 'na') p.dataset.testid = 'route-na';
  return p;
}

/**
 * GET /v1/orders/{id}/route answers {orderId, decisions: [{step, decidedAt, mode, weights,
 * venues: [{venue, eligible, excluded, features, scores}], chosenRoutes, ...}]}: one table of
 * venues and their scores per decision. Any other shape is shown generically.
 */
function renderDecision(doc) {
  if (!Array.isArray(doc.decisions)) return renderGeneric(doc);
  const out = [];
  for (const d of doc.decisions) {
    const h = document.createElement('p');
    const w = d.weights || {};
    h.textContent = `Step ${d.step} at ${d.decidedAt}: ${d.mode}, routed ${d.routedQty ?? ''}${d.reason ? `, ${d.reason}` : ''}; weights price ${w.price} latency ${w.latency} fill ${w.fillprob} fee ${w.fee}`;
    out.push(h);
    if (!Array.isArray(d.venues)) continue;
    const routed = new Map((d.chosenRoutes || []).map((r) => [r.venue, r.qty]));
    const rows = d.venues.map((v) => {
      const f = v.features || {};
      const sc = v.scores || {};
      return {
        venue: v.venue,
        eligible: v.eligible ? 'yes' : `no: ${v.excluded}`,
        price: f.price, latencyUs: f.latencyUs, fillProb: f.fillProbability, feeBps: f.feeBps,
        'score price': sc.price, 'score latency': sc.latency, 'score fill': sc.fillprob, 'score fee': sc.fee, 'score total': sc.total,
        routedQty: routed.get(v.venue) ?? '',
      };
    });
    const table = tableOf(rows);
    table.dataset.testid = 'route-venues';
    out.push(table);
  }
  return out;
}

/** Scalars as a list; the first array of objects as a table. */
function renderGeneric(doc) {
  const out = [];
  const dl = document.createElement('dl');
  let table = null;
  for (const [k, v] of Object.entries(doc)) {
    if (Array.isArray(v) && v.length > 0 && typeof v[0] === 'object' && table === null) {
      table = tableOf(v);
    } else {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = typeof v === 'object' ? JSON.stringify(v) : String(v);
      dl.append(dt, dd);
    }
  }
  out.push(dl);
  if (table) out.push(table);
  return out;
}

function tableOf(rows) {
  const keys = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  const table = document.createElement('table');
  const head = table.createTHead().insertRow();
  for (const k of keys) {
    const th = document.createElement('th');
    th.textContent = k;
    head.appendChild(th);
  }
  const body = table.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    for (const k of keys) cell(tr, typeof r[k] === 'object' && r[k] !== null ? JSON.stringify(r[k]) : r[k]);
  }
  return table;
}

// ---------------------------------------------------------------------------------------------
// Kill switch (admin)
// ---------------------------------------------------------------------------------------------

async function loadKillSwitch() {
  const r = await api('GET', '/v1/admin/kill-switch');
  const ul = $('kill-active');
  ul.replaceChildren();
  if (r.status !== 200) return;
  for (const a of r.json.active || []) {
    const li = document.createElement('li');
    li.textContent = `${a.account}: ${a.mode}${a.changedBy ? ` (by ${a.changedBy})` : ''}`;
    ul.appendChild(li);
  }
  if (ul.children.length === 0) ul.appendChild(Object.assign(document.createElement('li'), { textContent: 'No account is halted or reduce-only.' }));
}

async function setKillSwitch(mode) {
  const account = $('k-account').value.trim();
  if (mode === 'HALTED' && !confirm(`Halt ${account}? Open orders will be canceled at the venues.`)) return;
  const r = await api('POST', '/v1/admin/kill-switch', { account, mode });
  $('kill-msg').textContent = r.status === 200 ? `${account} is now ${mode}.` : `Refused: ${(r.json && (r.json.text || r.json.reasonName)) || `HTTP ${r.status}`}`;
  await loadKillSwitch();
}

// ---------------------------------------------------------------------------------------------
// Wiring
// ---------------------------------------------------------------------------------------------

function onTicket(e) {
  e.preventDefault();
  const ordType = $('t-type').value;
  const qty = Number($('t-qty').value);
  const m = {
    type: 'new',
    clOrdId: newClOrdId('w'),
    symbol: $('t-symbol').value.trim().toUpperCase(),
    side: $('t-side').value,
    qty,
    ordType,
    tif: $('t-tif').value,
  };
  if (ordType === 'LIMIT') m.price = $('t-price').value.trim();
  if (send(m)) {
    $('ticket-msg').textContent = `Sent ${m.clOrdId}.`;
    // Shown at once as pending; the ack (or reject) replaces it.
    showReport({ type: 'pending', clOrdId: m.clOrdId, orderId: 0, symbol: m.symbol, side: m.side, qty, price: m.price ?? null, cumQty: 0, avgPx: null, status: 'SENT' });
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void login($('token').value.trim());
  });
  $('logout').addEventListener('click', logout);
  $('ticket').addEventListener('submit', onTicket);
  $('t-type').addEventListener('change', () => { $('t-price').disabled = $('t-type').value === 'MARKET'; });
  for (const b of document.querySelectorAll('#kill-form button')) b.addEventListener('click', () => void setKillSwitch(b.dataset.mode));
  const saved = sessionStorage.getItem('oms-token');
  if (saved) void login(saved);
});
