// Small DOM and time helpers shared by the pages. Text is always set as text (never parsed as
// HTML), so nothing a service returns can run as script.

// h('button', {class: 'x', onclick: fn}, 'Label', child...)
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      node.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      node.className = value;
    } else if (key === 'dataset') {
      Object.assign(node.dataset, value);
    } else if (value === true) {
      node.setAttribute(key, '');
    } else {
      node.setAttribute(key, String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// A labelled form control: field('Clinic', select) -> <label>Clinic <select></label>.
export function field(label, control) {
  if (!control.id) control.id = `f-${Math.random().toString(36).slice(2, 9)}`;
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control);
}

// The error of a call in plain words, next to what caused it: "<what> failed: <service message>".
export function errorBox(what, err) {
  const words = {
    PERMISSION_DENIED: 'not allowed',
    UNAUTHENTICATED: 'please log in again',
    FAILED_PRECONDITION: 'refused',
    INVALID_ARGUMENT: 'a value is not accepted',
    NOT_FOUND: 'not found',
    ABORTED: 'changed meanwhile; reload and try again',
    ALREADY_EXISTS: 'already exists',
    UNAVAILABLE: 'a service is unavailable; try again shortly',
    DEADLINE_EXCEEDED: 'took too long; try again',
    RESOURCE_EXHAUSTED: 'too many attempts or too large',
  };
  const kind = words[err.status] || 'failed';
  return h('div', { class: 'error', role: 'alert', dataset: { status: err.status || '', reason: err.reason || '' } },
    h('strong', {}, `${what}: ${kind}. `), err.message || String(err),
    err.reason ? h('span', { class: 'reason' }, ` (${err.reason})`) : null);
}

// Replaces the contents of `slot` with `nodes`.
export function show(slot, ...nodes) {
  slot.replaceChildren(...nodes.flat().filter((n) => n));
}

export function note(text) {
  return h('p', { class: 'note', role: 'status' }, text);
}

// Busy state for a button while `work` runs.
export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

// Offset (ms) of `zone` from UTC at instant `ms`.
function zoneOffset(ms, zone) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (t) => Number(parts.find((p) => p.type === t).value);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - ms;
}

// The UTC instant of clinic-local wall time `date` ('YYYY-MM-DD') `time` ('HH:MM') in `zone`
// (DST-correct: the offset is taken at the result).
export function zonedToUtc(date, time, zone) {
  const [y, m, d] = date.split('-').map(Number);
  const [hh, mm] = (time || '00:00').split(':').map(Number);
  const guess = Date.UTC(y, m - 1, d, hh, mm);
  let ms = guess - zoneOffset(guess, zone);
  ms = guess - zoneOffset(ms, zone);
  return new Date(ms);
}

// 'YYYY-MM-DD' of `date` (default now) in `zone`.
export function localDate(zone, date) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(date || new Date());
}

export function addDays(isoDate, days) {
  const [y, m, d] = isoDate.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

export function localDateMessage(isoDate) {
  const [year, month, day] = isoDate.split('-').map(Number);
  return { year, month, day };
}

// '10:30' (clinic-local) of a Timestamp string.
export function localTime(ts, zone) {
  if (!ts) return '';
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit' })
    .format(new Date(ts));
}

// 'Tue 1 Dec 10:30' (clinic-local).
export function localDateTime(ts, zone) {
  if (!ts) return '';
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: zone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit',
  }).format(new Date(ts));
}

// 'CONSULTATION' -> 'consultation', 'APPOINTMENT_STATUS_ARRIVED' -> 'arrived'.
export function words(enumName, prefix) {
  let s = String(enumName || '');
  if (prefix && s.startsWith(prefix)) s = s.slice(prefix.length);
  return s.toLowerCase().replace(/_/g, ' ');
}

// A <select> of `options` ([value, label]).
export function select(options, value, attrs) {
  const node = h('select', attrs || {}, options.map(([v, label]) => h('option', { value: v }, label)));
  if (value !== undefined) node.value = value;
  return node;
}

// A simple bar chart as SVG (no script, no external library): bars = [[label, value], ...].
export function barChart(title, bars) {
  const ns = 'http://www.w3.org/2000/svg';
  const width = 480;
  const rowHeight = 24;
  const max = Math.max(1, ...bars.map((b) => b[1]));
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${rowHeight * bars.length + 30}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${title}: ${bars.map((b) => `${b[0]} ${b[1]}`).join(', ')}`);
  svg.classList.add('chart');
  const heading = document.createElementNS(ns, 'text');
  heading.setAttribute('x', '0');
  heading.setAttribute('y', '16');
  heading.setAttribute('class', 'chart-title');
  heading.textContent = title;
  svg.append(heading);
  bars.forEach(([label, value], i) => {
    const y = 26 + i * rowHeight;
    const text = document.createElementNS(ns, 'text');
    text.setAttribute('x', '0');
    text.setAttribute('y', String(y + 15));
    text.textContent = label;
    const rect = document.createElementNS(ns, 'rect');
    rect.setAttribute('x', '200');
    rect.setAttribute('y', String(y + 3));
    rect.setAttribute('height', '16');
    rect.setAttribute('width', String(Math.max(2, (value / max) * (width - 250))));
    rect.setAttribute('class', 'bar');
    const count = document.createElementNS(ns, 'text');
    count.setAttribute('x', String(205 + (value / max) * (width - 250)));
    count.setAttribute('y', String(y + 15));
    count.textContent = String(value);
    svg.append(text, rect, count);
  });
  return svg;
}

// Starts a browser download of `blob` as `filename`.
export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, class: 'download-link' }, `Download ${filename}`);
  return a;
}

// Fetches every page of a List RPC: listAll(fetchPage, 'appointments').
export async function listAll(fetchPage, key) {
  const out = [];
  let pageToken = '';
  do {
    // eslint-disable-next-line no-await-in-loop
    const page = await fetchPage(pageToken);
    out.push(...(page[key] || []));
    pageToken = page.nextPageToken || '';
  } while (pageToken);
  return out;
}
