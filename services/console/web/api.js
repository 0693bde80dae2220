// The console's one way to reach the suite: the gateway's HTTP/JSON API (services/console/gateway.h).
// Every RPC is POST /api/<package.Service>/<Method> with the request message as JSON; the session
// is an HttpOnly cookie this script never sees, and every POST carries the session's CSRF token.

let csrfToken = '';

// A failed call: the service's own status, message and structured details.
export class ApiError extends Error {
  constructor(body, httpStatus) {
    const e = (body && body.error) || {};
    super(e.message || `request failed (HTTP ${httpStatus})`);
    this.httpStatus = httpStatus;
    this.status = e.status || 'UNKNOWN';
    this.details = e.details || [];
    const info = this.details.find((d) => (d['@type'] || '').endsWith('google.rpc.ErrorInfo'));
    this.reason = info ? info.reason : '';
    const bad = this.details.find((d) => (d['@type'] || '').endsWith('google.rpc.BadRequest'));
    this.fields = bad ? bad.fieldViolations.map((v) => v.field) : [];
  }
}

async function post(path, body) {
  const headers = { 'Content-Type': 'application/json' };
  if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
  return fetch(path, {
    method: 'POST', headers, body: JSON.stringify(body || {}), credentials: 'same-origin',
  });
}

async function parse(response) {
  let body = {};
  try {
    body = await response.json();
  } catch (e) {
    body = {};
  }
  if (!response.ok) throw new ApiError(body, response.status);
  return body;
}

// Logs in; the cookie is set by the gateway. Returns the LoginResponse (without the token).
export async function login(username, password) {
  const body = await parse(await post('/api/login', { username, password }));
  csrfToken = body.csrfToken;
  return body.login;
}

// The current session (WhoAmI) or null when not logged in.
export async function session() {
  const response = await fetch('/api/session', { credentials: 'same-origin' });
  if (response.status === 401) return null;
  const body = await parse(response);
  csrfToken = body.csrfToken;
  return body.whoami;
}

// Ends the session in every service.
export async function logout() {
  const body = await parse(await post('/api/logout', {}));
  csrfToken = '';
  return body;
}

// One unary RPC: call('smp.scheduling.v1.SchedulingService/GetAppointment', {id}).
export async function call(rpc, request) {
  return parse(await post(`/api/${rpc}`, request));
}

// A fresh request id for a mutating RPC (idempotent retries reuse it).
export function requestId() {
  return crypto.randomUUID();
}

// One server-streaming RPC read as Server-Sent Events. onMessage(json) for each message; resolves
// at the end of the stream, rejects with an ApiError when it fails. `signal` aborts it.
export async function stream(rpc, request, onMessage, signal) {
  const response = await fetch(`/api/${rpc}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken },
    body: JSON.stringify(request || {}),
    credentials: 'same-origin',
    signal,
  });
  if (!response.ok) await parse(response);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new ApiError({ error: { message: 'the stream ended early' } }, 502);
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (!data) continue;  // a keepalive comment
      const json = JSON.parse(data);
      if (event === 'message') onMessage(json);
      else if (event === 'end') return;
      else if (event === 'error') throw new ApiError(json, json.error ? json.error.code : 500);
    }
  }
}
