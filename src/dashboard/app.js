// refgate's dashboard (SPEC §7): one page over the admin API, served from
// inside the binary. Every value reaches the page as text (el() appends
// strings as text nodes; nothing is ever assigned to innerHTML), and links
// take only http(s) URLs, so visitor-supplied UTM values cannot run.
'use strict';

const TOKEN_KEY = 'refgate.token';
const RANGE_KEY = 'refgate.range';
const DAY_MS = 86400000;

// The currency of every amount (each answer says it) and the range shown.
const state = { currency: 'EUR', digits: 2, range: null };

// ---- DOM -----------------------------------------------------------------

// el('td', {class: 'num'}, 'text', child, ...): attributes, then children
// (strings become text nodes; null and false are skipped).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  return put(e, children);
}

// Appends children to e as el() does; returns e.
function put(e, ...children) {
  for (const c of children.flat(Infinity)) {
    if (c !== null && c !== undefined && c !== false) e.append(c);
  }
  return e;
}

function svg(tag, attrs, ...children) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  for (const c of children) e.append(c);
  return e;
}

// A link only to an http(s) URL; anything else is shown as text.
function link(url, text) {
  return /^https?:\/\//i.test(url || '')
    ? el('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, text || url)
    : (text || url || '');
}

function showError(message) {
  const p = document.getElementById('error');
  p.textContent = message || '';
  p.hidden = !message;
}

// ---- formats -------------------------------------------------------------

const count = (n) => Number(n || 0).toLocaleString('en-US');

// Minor units as the currency's major units, by integer arithmetic.
function money(minor) {
  const d = state.digits;
  const digits = String(Math.abs(minor || 0)).padStart(d + 1, '0');
  const whole = digits.slice(0, digits.length - d).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (minor < 0 ? '-' : '') + whole + (d ? '.' + digits.slice(-d) : '') + ' ' + state.currency;
}

// ISO 4217's minor units where they are not 2 (browsers' own tables differ
// from it for some currencies; the amounts refgate keeps follow ISO).
const MINOR_DIGITS = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0,
  UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3, CLF: 4, UYW: 4,
};

function setCurrency(code) {
  if (!code) return;
  state.currency = code;
  state.digits = MINOR_DIGITS[code] ?? 2;
}

const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
const percent = (x) => (100 * (x || 0)).toFixed(1) + '%';

// ---- API -----------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super((e.message || 'HTTP ' + status) + (e.field ? ' (' + e.field + ')' : ''));
    this.status = status;
  }
}

async function api(method, path, body) {
  const headers = { Authorization: 'Bearer ' + sessionStorage.getItem(TOKEN_KEY) };
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  if (r.status === 401) {
    logout('The token was refused.');
    throw new ApiError(401, null);
  }
  if (r.status === 204) return null;
  const json = (r.headers.get('Content-Type') || '').includes('json');
  const data = json ? await r.json() : await r.blob();
  if (!r.ok) throw new ApiError(r.status, json ? data : null);
  return data;
}

const q = encodeURIComponent;
const rangeQuery = () => 'from=' + q(state.range.from) + '&to=' + q(state.range.to);

// ---- range and session ---------------------------------------------------

function range() {
  const saved = JSON.parse(sessionStorage.getItem(RANGE_KEY) || 'null');
  if (saved) return saved;
  const to = Date.now();
  return { from: isoDay(to - 29 * DAY_MS), to: isoDay(to) };
}

function logout(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  render().then(() => showError(message));
}

function loginView(main) {
  const input = el('input', { type: 'password', id: 'token', autocomplete: 'off', required: '' });
  const form = el('form', { class: 'login', id: 'login' },
    el('h2', {}, 'Sign in'),
    el('label', { for: 'token' }, 'Admin token'), input,
    el('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    el('p', { class: 'note' }, 'Kept in this tab only (session storage).'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    showError('');
    render();
  });
  main.append(form);
}

// ---- widgets -------------------------------------------------------------

function cards(items) {
  return el('div', { class: 'cards' }, items.map(([label, value, id]) =>
    el('div', { class: 'card', 'data-metric': id },
      el('div', { class: 'label' }, label), el('div', { class: 'value' }, value))));
}

// A line chart of one or two series over days: [{name, values}], one value
// per day. Each point has a <title> with its day and value.
function chart(id, title, days, series, fmt) {
  const W = 340, H = 150, L = 52, R = 8, T = 8, B = 20;
  const axis = (v) => fmt(v).replace(' ' + state.currency, '');
  const values = series.flatMap((s) => s.values);
  const max = Math.max(1, ...values), min = Math.min(0, ...values);  // refunds can go below 0
  const x = (i) => L + (days.length < 2 ? (W - L - R) / 2 : (i * (W - L - R)) / (days.length - 1));
  const y = (v) => T + (H - T - B) * ((max - v) / (max - min));
  const plot = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title },
    svg('line', { class: 'axis', x1: L, y1: y(0), x2: W - R, y2: y(0) }),
    svg('line', { class: 'axis', x1: L, y1: y(max), x2: W - R, y2: y(max) }),
    svg('text', { x: L - 4, y: y(max) + 3, 'text-anchor': 'end' }, axis(max)),
    svg('text', { x: L - 4, y: y(0) + 3, 'text-anchor': 'end' }, axis(0)));
  if (min < 0) plot.append(svg('text', { x: L - 4, y: y(min) + 3, 'text-anchor': 'end' }, axis(min)));
  plot.append(
    svg('text', { x: L, y: H - 4 }, days[0] || ''),
    svg('text', { x: W - R, y: H - 4, 'text-anchor': 'end' }, days[days.length - 1] || ''));
  series.forEach((s, k) => {
    const points = s.values.map((v, i) => x(i) + ',' + y(v)).join(' ');
    plot.append(svg('polyline', { class: 's' + k, points }));
    s.values.forEach((v, i) => plot.append(
      svg('circle', { class: 's' + k, cx: x(i), cy: y(v), r: 2.5, 'data-day': days[i], 'data-value': v },
        svg('title', {}, days[i] + ': ' + fmt(v) + ' ' + s.name))));
  });
  return el('figure', { class: 'chart', id },
    el('figcaption', {}, title, ' ',
      el('span', { class: 'legend' }, series.map((s, k) => el('span', { class: 'k' + k }, ' ● ' + s.name)))),
    plot);
}

// Every day of the range with its row from `byDay` (keyed by date), or zeros.
function everyDay(byDay) {
  const rows = new Map(byDay.map((d) => [d.date, d]));
  const out = [];
  const { from, to } = state.range;
  for (let t = Date.parse(from); t <= Date.parse(to); t += DAY_MS) {
    out.push(rows.get(isoDay(t)) || { date: isoDay(t) });
  }
  return out;
}

function charts(byDay, withEvents) {
  const days = everyDay(byDay);
  const dates = days.map((d) => d.date);
  const v = (k) => days.map((d) => d[k] || 0);
  const list = [
    chart('chart-clicks', 'Clicks and unique visitors', dates,
      [{ name: 'clicks', values: v('clicks') }, { name: 'unique visitors', values: v('unique_visitors') }], count),
    chart('chart-conversions', 'Conversions', dates,
      [{ name: 'conversions', values: v('conversions') }].concat(
        withEvents ? [{ name: 'leads', values: v('leads') }] : []), count),
    chart('chart-money', withEvents ? 'Revenue and rewards' : 'Revenue', dates,
      [{ name: 'revenue', values: v('revenue_minor') }].concat(
        withEvents ? [{ name: 'rewards', values: v('reward_minor') }] : []), money),
  ];
  return el('div', { class: 'charts' }, list);
}

// A table sorted by clicking a column's header. columns: [{key, label,
// num, show(row) -> text or node}].
function table(id, columns, rows, sortKey) {
  let key = sortKey, dir = -1;
  const body = el('tbody');
  const heads = columns.map((c) => el('th', { class: c.num ? 'num' : '', 'data-key': c.key },
    c.sortable === false ? c.label : el('button', { type: 'button', onclick: () => {
      dir = key === c.key ? -dir : (c.num ? -1 : 1);
      key = c.key;
      fill();
    } }, c.label)));
  function fill() {
    const sorted = rows.slice();
    if (key) {
      sorted.sort((a, b) => {
        const x = a[key] ?? '', y = b[key] ?? '';
        return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * dir;
      });
    }
    heads.forEach((h, i) => h.setAttribute('aria-sort',
      columns[i].key !== key ? 'none' : dir > 0 ? 'ascending' : 'descending'));
    body.replaceChildren(...sorted.map((r) => el('tr', {}, columns.map((c) =>
      el('td', { class: c.num ? 'num' : '' }, c.show ? c.show(r) : String(r[c.key] ?? ''))))));
    if (!sorted.length) body.append(el('tr', {}, el('td', { class: 'empty', colspan: columns.length }, 'Nothing in this range.')));
  }
  fill();
  return el('table', { id }, el('thead', {}, el('tr', {}, heads)), body);
}

const num = (key, label, fmt = count) => ({ key, label, num: true, show: (r) => fmt(r[key] || 0) });

const orDash = (key) => (r) => r[key] || '—';
const channelColumns = [
  { key: 'utm_source', label: 'Source', show: orDash('utm_source') },
  { key: 'utm_medium', label: 'Medium', show: orDash('utm_medium') },
  { key: 'utm_campaign', label: 'Campaign', show: orDash('utm_campaign') },
  num('clicks', 'Clicks'), num('unique_visitors', 'Unique visitors'),
];

function totals(s, withEvents) {
  return cards([
    ['Clicks', count(s.clicks), 'clicks'],
    ['Unique visitors', count(s.unique_visitors), 'unique_visitors'],
    ['Conversions', count(s.conversions), 'conversions'],
    ['Revenue', money(s.revenue_minor), 'revenue_minor'],
    ['Rewards', money(s.reward_minor), 'reward_minor'],
    ['Leads', count(s.leads), 'leads'],
    withEvents ? ['Unattributed events', count(s.unattributed), 'unattributed'] : ['Conversion rate', percent(s.conversion_rate), 'conversion_rate'],
    ['Bot clicks', count(s.bot_clicks), 'bot_clicks'],
  ]);
}

// ---- pages ---------------------------------------------------------------

async function overview(main) {
  const s = await api('GET', '/api/v1/stats?' + rangeQuery());
  setCurrency(s.currency);
  const referrerLink = (r) => el('a', { href: '#/referrer/' + q(r.referrer_id) }, r.referrer_id);
  put(main,
    totals(s, true), charts(s.by_day, true),
    el('h2', {}, 'Top referrers'),
    table('referrers', [
      { key: 'referrer_id', label: 'Referrer', show: referrerLink },
      num('clicks', 'Clicks'), num('unique_visitors', 'Unique visitors'),
      num('conversions', 'Conversions'), num('revenue_minor', 'Revenue', money),
      num('leads', 'Leads'), num('reward_minor', 'Rewards', money),
    ], s.by_referrer, 'clicks'),
    el('h2', {}, 'Channels'),
    table('channels', channelColumns, s.by_channel, 'clicks'));
}

function codeActions(c, reload) {
  const qr = el('span');
  const act = async (fn) => {
    try {
      await fn();
      await reload();
    } catch (e) {
      showError(e.message);
    }
  };
  const next = c.status === 'active' ? 'disabled' : 'active';
  return el('span', { class: 'actions' },
    el('button', { type: 'button', 'data-action': next === 'disabled' ? 'disable' : 'enable',
      onclick: () => act(() => api('PATCH', '/api/v1/codes/' + q(c.code), { status: next })) },
    next === 'disabled' ? 'Disable' : 'Enable'),
    el('button', { type: 'button', class: 'danger', 'data-action': 'delete', onclick: () => {
      if (confirm('Delete ' + c.code + '? Its link will answer 410 Gone for good.')) {
        act(() => api('DELETE', '/api/v1/codes/' + q(c.code)));
      }
    } }, 'Delete'),
    el('button', { type: 'button', 'data-action': 'qr', onclick: async () => {
      if (qr.firstChild) {
        URL.revokeObjectURL(qr.firstChild.src);
        return qr.replaceChildren();
      }
      try {
        const blob = await api('GET', '/api/v1/codes/' + q(c.code) + '/qr?format=svg&size=256');
        qr.replaceChildren(el('img', { class: 'qr', alt: 'QR code for ' + c.short_url, src: URL.createObjectURL(blob) }));
      } catch (e) {
        showError(e.message);
      }
    } }, 'QR'),
    qr);
}

function createForm(referrer, reload) {
  const field = (name, label, placeholder) => el('label', {}, label,
    el('input', { name, placeholder, autocomplete: 'off' }));
  const form = el('form', { class: 'create', id: 'create-code' },
    field('code', 'Code (blank: generated)', 'spring-anna'),
    field('target_url', 'Target URL (blank: default)', 'https://'),
    field('campaign', 'Campaign', ''),
    el('button', { type: 'submit', class: 'primary' }, 'Create code'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { referrer_id: referrer };
    for (const k of ['code', 'target_url', 'campaign']) {
      const v = form.elements[k].value.trim();
      if (v) body[k] = v;
    }
    try {
      await api('POST', '/api/v1/codes', body);
      showError('');
      await reload();
    } catch (e) {
      showError(e.message);
    }
  });
  return form;
}

async function referrerPage(main, referrer) {
  const events = eventsList('&referrer_id=' + q(referrer));
  const [s, list] = await Promise.all([
    api('GET', '/api/v1/referrers/' + q(referrer) + '/stats?' + rangeQuery()),
    api('GET', '/api/v1/codes?limit=1000&referrer_id=' + q(referrer)),
    events.more()]);
  setCurrency(s.currency);
  const byCode = new Map(s.by_code.map((c) => [c.code, c]));
  const rows = list.codes.map((c) => Object.assign({}, byCode.get(c.code) || {}, c));
  const reload = () => render();
  put(main,
    el('h2', {}, 'Referrer ', el('span', { id: 'referrer-id' }, referrer)),
    totals(s, false), charts(s.by_day, false),
    el('h2', {}, 'Codes'),
    createForm(referrer, reload),
    table('codes', [
      { key: 'code', label: 'Code' },
      { key: 'short_url', label: 'Short link', show: (c) => link(c.short_url) },
      { key: 'status', label: 'Status', show: (c) => el('span', { class: 'status-' + c.status }, c.status) },
      { key: 'campaign', label: 'Campaign' },
      { key: 'target_url', label: 'Target', show: (c) => link(c.target_url) },
      num('clicks', 'Clicks'), num('unique_visitors', 'Unique'), num('conversions', 'Conversions'),
      num('revenue_minor', 'Revenue', money),
      { key: 'actions', label: '', sortable: false, show: (c) => codeActions(c, reload) },
    ], rows, 'clicks'),
    list.next_cursor ? el('p', { class: 'note' }, 'Showing the first 1,000 codes.') : null,
    el('h2', {}, 'Channels'),
    table('referrer-channels', channelColumns, s.by_channel, 'clicks'),
    el('h2', {}, 'Events'),
    eventsTable(events));
}

// The events of the range shown (and of `filter`'s referrer), a page at a
// time (GET /api/v1/events): more() loads the next page once.
function eventsList(filter) {
  const path = '/api/v1/events?limit=200&' + rangeQuery() + filter;
  const list = { rows: [], next: null };
  list.more = async () => {
    const page = await api('GET', path + (list.next ? '&cursor=' + q(list.next) : ''));
    setCurrency(page.currency);
    list.rows = list.rows.concat(page.events);
    list.next = page.next_cursor;
  };
  return list;
}

const eventColumns = [
  { key: 'occurred_at', label: 'Occurred' },
  { key: 'event_id', label: 'Event' },
  { key: 'type', label: 'Type' },
  { key: 'amount_minor', label: 'Amount', num: true,
    show: (e) => (e.type === 'lead' ? '—' : money(e.amount_minor)) },  // a lead has no amount
  { key: 'status', label: 'Status', show: (e) => el('span', { class: 'status-' + e.status }, e.status) },
  { key: 'referrer_id', label: 'Referrer' },
  { key: 'code', label: 'Code' },
  { key: 'method', label: 'Method' },
  num('reward_minor', 'Reward', money),
  { key: 'reason', label: 'Reason' },
  { key: 'customer_id', label: 'Customer' },
];

// The events loaded so far, with their attribution's fields as columns.
function eventsTable(events) {
  const box = el('div');
  const more = async (ev) => {
    ev.target.disabled = true;  // one page at a time
    try {
      await events.more();
      draw();
    } catch (e) {
      showError(e.message);
      ev.target.disabled = false;
    }
  };
  const draw = () => {
    const rows = events.rows.map((e) => Object.assign({}, e, e.attribution || {}));
    box.replaceChildren();
    put(box, table('events', eventColumns, rows, 'occurred_at'),
      events.next ? el('button', { type: 'button', class: 'more', onclick: more }, 'Load more') : null,
      el('p', { class: 'note' }, 'Events appear here once a compaction run has decided them.'));
  };
  draw();
  return box;
}

async function eventsPage(main) {
  const events = eventsList('');
  await events.more();
  put(main, el('h2', {}, 'Events'), eventsTable(events));
}

async function balancesPage(main) {
  const b = await api('GET', '/api/v1/rewards');
  setCurrency(b.currency);
  const download = el('button', { type: 'button', id: 'download-csv', onclick: async () => {
    try {
      const blob = await api('GET', '/api/v1/rewards.csv');
      const a = el('a', { href: URL.createObjectURL(blob), download: 'rewards.csv' });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href));  // once the click's download has begun
    } catch (e) {
      showError(e.message);
    }
  } }, 'Download CSV');
  put(main,
    el('h2', {}, 'Balances ', download),
    table('balances', [
      { key: 'referrer_id', label: 'Referrer', show: (r) => el('a', { href: '#/referrer/' + q(r.referrer_id) }, r.referrer_id) },
      num('leads', 'Leads'), num('sales', 'Sales'), num('revenue_minor', 'Revenue', money),
      num('refunded_minor', 'Refunded', money), num('reward_minor', 'Rewards', money),
      num('payable_minor', 'Payable', money), num('paid_minor', 'Paid', money),
      num('balance_minor', 'Balance', money),
    ], b.referrers, 'balance_minor'),
    el('p', { class: 'note' }, 'Payable: rewards whose hold has passed, by the log\'s clock; balance: payable less paid.'));
}

// ---- routing -------------------------------------------------------------

let renders = 0;

// Draws the page the hash names into a new view, shown once it is complete
// and only if no later render started meanwhile.
async function render() {
  const gen = ++renders;
  const main = document.getElementById('main');
  const view = el('div');
  const signedIn = !!sessionStorage.getItem(TOKEN_KEY);
  for (const id of ['nav', 'range', 'logout']) document.getElementById(id).hidden = !signedIn;
  main.setAttribute('aria-busy', 'true');
  let name = 'login', error = null;
  if (signedIn) {
    [name, error] = await page(view);
  } else {
    loginView(view);
  }
  if (gen !== renders) return;
  if (error) showError(error);
  main.replaceChildren(view);
  main.dataset.page = name;  // what is shown, for tests to wait on
  main.setAttribute('aria-busy', 'false');
  const token = document.getElementById('token');
  if (token) token.focus();
}

// Draws the page the hash names; returns its name and the error that
// stopped it, if one did.
async function page(view) {
  state.range = range();  // once, so that every part of the page shows the same days
  document.getElementById('from').value = state.range.from;
  document.getElementById('to').value = state.range.to;
  const hash = location.hash.replace(/^#\/?/, '');
  for (const a of document.querySelectorAll('nav a')) {
    a.classList.toggle('here', a.getAttribute('href') === '#/' + hash.split('/')[0]);
  }
  const name = hash.startsWith('referrer/') ? 'referrer'
    : hash === 'events' || hash === 'balances' ? hash : 'overview';
  try {
    if (name === 'referrer') await referrerPage(view, decodeURIComponent(hash.slice(9)));
    else if (name === 'events') await eventsPage(view);
    else if (name === 'balances') await balancesPage(view);
    else await overview(view);
  } catch (e) {
    return [name, e.status === 401 ? null : e.message];
  }
  return [name, null];
}

document.getElementById('range').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const from = document.getElementById('from').value, to = document.getElementById('to').value;
  sessionStorage.setItem(RANGE_KEY, JSON.stringify({ from, to }));
  showError('');
  render();
});
document.getElementById('logout').addEventListener('click', () => logout(''));
window.addEventListener('hashchange', () => {
  showError('');
  render();
});
render();
