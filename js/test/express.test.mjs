import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import express5 from 'express';
import express4 from 'express4';
import { SessionManager, ManualClock, signCookie, encodeUriComponent, recordVersion } from 'tenure';
import { session } from 'tenure/express';

const SECRET = 'test-secret-0123456789-0123456789-abcdef';
const OLD = 'old-secret-0123456789-0123456789-abcdef';

function app(express, manager, options = {}) {
  const a = express();
  a.use(session({ secret: SECRET, manager, cookie: { secure: false }, ...options }));
  // As with express-session: regenerate gives a new id and empty data; the user is set in
  // its callback.
  a.get('/login/:user', (req, res, next) => {
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.user = req.params.user;
      res.json({ ok: true });
    });
  });
  a.get('/views', (req, res) => {
    req.session.views = (req.session.views ?? 0) + 1;
    res.json({ views: req.session.views, user: req.session.user ?? null });
  });
  a.get('/peek', (req, res) => res.json({ user: req.session.user ?? null }));
  a.get('/incr', (req, res) => {
    const n = req.tenure.increment('n');
    res.json({ n });
  });
  a.get('/logout', (req, res) => {
    req.session.destroy();
    res.json({ ok: true });
  });
  return a;
}

async function listen(handler) {
  const server = http.createServer(handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  return { base, close: () => new Promise((r) => server.close(r)) };
}

function client(base) {
  let cookie = null;
  return {
    get cookie() { return cookie; },
    set cookie(v) { cookie = v; },
    async get(p, headers = {}) {
      const res = await fetch(base + p, { headers: cookie ? { cookie: `sid=${cookie}`, ...headers } : headers });
      const set = res.headers.get('set-cookie');
      if (set) {
        const v = set.split(';')[0].slice('sid='.length);
        cookie = v === '' ? null : v;
      }
      return { status: res.status, body: await res.json().catch(() => null), headers: res.headers };
    },
  };
}

for (const [label, express] of [['express 5', express5], ['express 4', express4]]) {
  test(`${label}: login regenerates, clients are isolated, logout clears`, async () => {
    const m = new SessionManager();
    const srv = await listen(app(express, m));
    try {
      const a = client(srv.base);
      const b = client(srv.base);
      const r = await a.get('/peek');
      assert.deepEqual(r.body, { user: null });
      assert.equal(r.headers.get('set-cookie'), null, 'no session for readers (saveUninitialized: false)');
      assert.match(r.headers.get('vary'), /Cookie/);
      await a.get('/views');
      const before = a.cookie;
      await a.get('/login/ann');
      assert.notEqual(a.cookie, before, 'new id on login');
      assert.deepEqual((await a.get('/views')).body, { views: 1, user: 'ann' }, 'regenerate starts the data over (express-session)');
      assert.deepEqual((await b.get('/views')).body, { views: 1, user: null });
      const out = await a.get('/logout');
      assert.match(out.headers.get('set-cookie'), /Max-Age=0/);
      assert.equal(m.count(), 1);
    } finally {
      await srv.close();
    }
  });
}

test('tampered, unknown and expired cookies get a fresh session, never an error', async () => {
  const clock = new ManualClock(1_000_000);
  const m = new SessionManager({ clock, idleTimeout: 60_000 });
  const srv = await listen(app(express5, m));
  try {
    const a = client(srv.base);
    await a.get('/login/ann');
    const good = a.cookie;
    for (const bad of [good.slice(0, -3) + 'xyz', 's%3Aforged.sig', encodeUriComponent(signCookie('A'.repeat(22), SECRET))]) {
      const c = client(srv.base);
      c.cookie = bad;
      const r = await c.get('/views');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { views: 1, user: null });
    }
    clock.advance(60_000);
    assert.deepEqual((await a.get('/views')).body, { views: 1, user: null });
  } finally {
    await srv.close();
  }
});

test('secret rotation: an old cookie is accepted and re-signed with the newest secret', async () => {
  const m = new SessionManager();
  const old = await listen(app(express5, m, { secret: OLD }));
  const fresh = await listen(app(express5, m, { secret: [SECRET, OLD] }));
  try {
    const a = client(old.base);
    await a.get('/login/ann');
    const cookie = a.cookie;
    const b = client(fresh.base);
    b.cookie = cookie;
    const r = await b.get('/views');
    assert.equal(r.body.user, 'ann');
    assert.ok(b.cookie && b.cookie !== cookie, 're-signed');
    assert.ok(decodeURIComponent(b.cookie).startsWith('s:'));
  } finally {
    await old.close();
    await fresh.close();
  }
});

test('50 concurrent requests increment one counter exactly 50 times', async () => {
  const m = new SessionManager();
  const srv = await listen(app(express5, m));
  try {
    const a = client(srv.base);
    await a.get('/views');
    await Promise.all(Array.from({ length: 50 }, () => a.get('/incr')));
    const id = m.list().sessions[0].id;
    assert.equal(m.peek(id).get('n'), 50);
  } finally {
    await srv.close();
  }
});

test('a store failure mid-request reaches next(err) before anything is sent', async () => {
  const data = new Map();
  let fail = false;
  const store = {
    get: (id) => data.get(id) ?? null,
    insert: (id, b) => { if (fail) throw new Error('disk on fire'); if (data.has(id)) return false; data.set(id, b); return true; },
    replace: (id, b, expected) => {
      if (fail) throw new Error('disk on fire');
      if (recordVersion(data.get(id) ?? '') !== expected) return false;
      data.set(id, b);
      return true;
    },
    delete: (id, expected) => (expected === undefined || recordVersion(data.get(id) ?? '') === expected) && data.delete(id),
    ids: () => [...data.keys()],
  };
  const m = new SessionManager({ store });
  const a = app(express5, m);
  let seen = null;
  a.use((err, req, res, next) => { seen = err; res.status(500).json({ error: err.code }); });
  const srv = await listen(a);
  try {
    const c = client(srv.base);
    await c.get('/views');
    fail = true;
    const r = await c.get('/views');
    assert.equal(r.status, 500);
    assert.equal(seen.code, 'TENURE_STORE_ERROR');
    fail = false;
    assert.equal((await c.get('/views')).body.views, 2, 'the failed request changed nothing');
  } finally {
    await srv.close();
  }
});

test('plain node:http and Bearer transport', async () => {
  const m = new SessionManager();
  const mw = session({ secret: SECRET, manager: m, transport: 'header' });
  const srv = await listen((req, res) => mw(req, res, () => {
    if (req.url === '/token') {
      req.session.seen = true;
      res.end(JSON.stringify({ token: req.tenure.token() }));
    } else {
      res.end(JSON.stringify({ n: req.tenure.increment('n') }));
    }
  }));
  try {
    const first = await fetch(srv.base + '/token');
    const { token } = await first.json();
    assert.equal(first.headers.get('set-cookie'), null, 'header transport never sets cookies');
    const h = { authorization: `Bearer ${token}` };
    const r = await fetch(srv.base + '/n', { headers: h });
    assert.equal((await r.json()).n, 1);
    // The core's rule: with header transport the response depends on Authorization only
    // (this middleware used to send `Vary: Cookie, Authorization`).
    assert.equal(r.headers.get('vary'), 'Authorization');
    assert.equal((await (await fetch(srv.base + '/n', { headers: h })).json()).n, 2);
    assert.throws(() => session({ secret: 'short' }), { code: 'TENURE_INVALID_POLICY' });
  } finally {
    await srv.close();
  }
});

test('a new session written to and emptied again in one request is not stored (sync and async)', async () => {
  for (const async of [false, true]) {
    const mw = session({ secret: SECRET, cookie: { secure: false }, async });
    const srv = await listen((req, res) => mw(req, res, () => {
      req.session.tmp = 1;
      delete req.session.tmp;
      res.end('ok');
    }));
    try {
      const r = await fetch(srv.base + '/');
      assert.equal(r.headers.get('set-cookie'), null, `no cookie (async: ${async})`);
      assert.equal(r.headers.get('vary'), 'Cookie', 'the handler looked at the session');
      assert.equal(await mw.manager.count(), 0, `nothing stored (async: ${async})`);
    } finally {
      await srv.close();
    }
  }
});

test('both transports: Vary names both headers; a token client is not handed a cookie', async () => {
  const m = new SessionManager();
  const mw = session({ secret: SECRET, manager: m, transport: 'both', cookie: { secure: false } });
  const srv = await listen((req, res) => mw(req, res, () => {
    res.end(JSON.stringify({ n: req.tenure.increment('n'), token: req.tenure.token() }));
  }));
  try {
    const first = await fetch(srv.base + '/');
    assert.equal(first.headers.get('vary'), 'Cookie, Authorization');
    assert.match(first.headers.get('set-cookie'), /^sid=s%3A/);
    const { token } = await first.json();
    const r = await fetch(srv.base + '/', { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await r.json()).n, 2);
    assert.equal(r.headers.get('set-cookie'), null);
    assert.equal(r.headers.get('vary'), 'Cookie, Authorization');
  } finally {
    await srv.close();
  }
});
