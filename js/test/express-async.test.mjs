// tenure/express over an AsyncSessionManager: the response waits for the asynchronous commit,
// requests on different sessions overlap, and store failures become 500s, never crashes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import express5 from 'express';
import express4 from 'express4';
import { AsyncSessionManager, SessionManager } from 'tenure';
import { session } from 'tenure/express';
import { asyncMemoryStore } from './async-store.mjs';

const SECRET = 'test-secret-0123456789-0123456789-abcdef';

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
  a.get('/later', (req, res) => {
    setTimeout(() => {
      req.session.views = (req.session.views ?? 0) + 1;
      res.json({ views: req.session.views });
    }, 5);
  });
  a.get('/saved', (req, res, next) => {
    req.session.views = (req.session.views ?? 0) + 1;
    req.session.save((err) => (err ? next(err) : res.json({ saved: true })));
  });
  a.get('/peek', (req, res) => res.json({ user: req.session.user ?? null }));
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
  return { base, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) };
}

function client(base) {
  let cookie = null;
  return {
    get cookie() { return cookie; },
    async get(p) {
      const res = await fetch(base + p, { headers: cookie ? { cookie: `sid=${cookie}` } : {} });
      const set = res.headers.get('set-cookie');
      if (set) {
        const v = set.split(';')[0].slice('sid='.length);
        cookie = v === '' ? null : v;
      }
      const text = await res.text();
      let body = text;
      try { body = JSON.parse(text); } catch { /* not JSON */ }
      return { status: res.status, body, headers: res.headers };
    },
  };
}

/** Collects unhandled rejections and uncaught exceptions while `f` runs (and a moment after). */
async function noStrayErrors(f) {
  const stray = [];
  const onRejection = (reason) => stray.push(['unhandledRejection', reason]);
  const onException = (err) => stray.push(['uncaughtException', err]);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  try {
    await f();
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  }
  assert.deepEqual(stray, [], 'no unhandled rejection or uncaught exception');
}

for (const [label, express] of [['express 5', express5], ['express 4', express4]]) {
  test(`${label} + async store: login regenerates, clients are isolated, logout clears`, async () => {
    const store = asyncMemoryStore();
    const m = new AsyncSessionManager({ store });
    const srv = await listen(app(express, m));
    try {
      const a = client(srv.base);
      const b = client(srv.base);
      const r = await a.get('/peek');
      assert.deepEqual(r.body, { user: null });
      assert.equal(r.headers.get('set-cookie'), null, 'no session for readers');
      assert.equal(store.data.size, 0, 'nothing stored for readers');
      assert.deepEqual((await a.get('/views')).body, { views: 1, user: null });
      assert.equal(store.data.size, 1, 'the draft was stored before the response');
      const before = a.cookie;
      await a.get('/login/ann');
      assert.notEqual(a.cookie, before, 'new id on login');
      assert.deepEqual((await a.get('/views')).body, { views: 1, user: 'ann' }, 'regenerate starts the data over (express-session)');
      assert.deepEqual((await a.get('/later')).body, { views: 2 });
      assert.deepEqual((await a.get('/saved')).body, { saved: true });
      assert.deepEqual((await b.get('/views')).body, { views: 1, user: null });
      const out = await a.get('/logout');
      assert.match(out.headers.get('set-cookie'), /Max-Age=0/);
      assert.equal(await m.count(), 1);
      const metrics = await m.metrics();
      assert.equal(metrics.createdTotal, 2);
      assert.equal(metrics.destroyedTotal, 1);
    } finally {
      await srv.close();
    }
  });

  test(`${label}: 5 concurrent requests on a 200 ms store take well under twice one request`, async (t) => {
    const store = asyncMemoryStore({ delay: () => 200 });
    const m = new AsyncSessionManager({ store });
    const srv = await listen(app(express, m));
    try {
      const clients = Array.from({ length: 5 }, () => client(srv.base));
      await Promise.all(clients.map((c) => c.get('/views'))); // each gets its session
      let t0 = performance.now();
      const one = await clients[0].get('/views');
      const single = performance.now() - t0;
      assert.equal(one.body.views, 2);
      t0 = performance.now();
      const five = await Promise.all(clients.map((c) => c.get('/views')));
      const concurrent = performance.now() - t0;
      assert.deepEqual(five.map((r) => r.body.views), [3, 2, 2, 2, 2]);
      const line = `${label}: 1 request ${single.toFixed(0)} ms, 5 concurrent ${concurrent.toFixed(0)} ms (store calls take 200 ms)`;
      t.diagnostic(line);
      console.log(line);
      assert.ok(single >= 400, 'one request waits for the store (open + commit)');
      assert.ok(concurrent < 1.5 * single, `5 concurrent (${concurrent} ms) vs 1 (${single} ms)`);
    } finally {
      await srv.close();
    }
  });

  test(`${label}: a store failing on commit gives a 500 and no stray errors (sync and setTimeout handlers, save callbacks)`, async () => {
    await noStrayErrors(async () => {
      let failing = false;
      const store = asyncMemoryStore({ fail: (method) => failing && method === 'replace' });
      const m = new AsyncSessionManager({ store });
      const a = app(express, m);
      const seen = [];
      a.use((err, req, res, next) => { seen.push(err); res.status(500).json({ error: err.code }); });
      const srv = await listen(a);
      const plain = app(express, m); // no error handler: Express's default 500
      const srv2 = await listen(plain);
      try {
        const c = client(srv.base);
        await c.get('/views');
        const id = (await m.list()).sessions[0].id;
        const stored = store.data.get(id);
        failing = true;
        for (const p of ['/views', '/later', '/saved']) {
          const r = await c.get(p);
          assert.equal(r.status, 500, p);
          // save(cb) hands the error to the handler, whose error response then tries the
          // end-of-request commit again: that fails too and Express's default 500 answers.
          if (p !== '/saved') assert.deepEqual(r.body, { error: 'TENURE_STORE_ERROR' }, p);
          assert.equal(r.headers.get('set-cookie'), null, `${p}: no cookie on a failed commit`);
        }
        assert.equal(seen.length, 3);
        assert.ok(seen.every((e) => e.code === 'TENURE_STORE_ERROR' && e.cause.message === 'replace: disk on fire'));
        assert.equal(store.data.get(id), stored, 'the stored record is unchanged');
        const r2 = await fetch(srv2.base + '/later', { headers: { cookie: `sid=${c.cookie}` } });
        assert.equal(r2.status, 500, 'the default error handler answers 500');
        failing = false;
        assert.equal((await c.get('/views')).body.views, 2, 'the failed requests changed nothing');
      } finally {
        await srv.close();
        await srv2.close();
      }
    });
  });
}

test('plain node:http with an async store: commit before end, failures answered 500 without stray errors', async (t) => {
  const logged = [];
  t.mock.method(console, 'error', (...args) => logged.push(args.map(String).join(' ')));
  await noStrayErrors(async () => {
    let failing = false;
    const store = asyncMemoryStore({ fail: (method) => failing && (method === 'replace' || method === 'insert') });
    const m = new AsyncSessionManager({ store });
    const mw = session({ secret: SECRET, manager: m, transport: 'header' });
    const srv = await listen((req, res) => mw(req, res, () => {
      if (req.url === '/token') {
        req.session.seen = true;
        res.end(JSON.stringify({ token: req.tenure.token() }));
      } else if (req.url === '/timer') {
        setTimeout(() => { res.write('{"n":'); res.end(`${req.tenure.increment('n')}}`); }, 5);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ n: req.tenure.increment('n') }));
      }
    }));
    // With a next(err) that takes the error, it gets it.
    const errs = [];
    const mw2 = session({ secret: SECRET, manager: m, transport: 'header' });
    const srv2 = await listen((req, res) => mw2(req, res, (err) => {
      if (err) { errs.push(err); res.statusCode = 503; res.end('down'); return; }
      res.end(String(req.tenure.increment('n')));
    }));
    try {
      const { token } = await (await fetch(srv.base + '/token')).json();
      const h = { authorization: `Bearer ${token}` };
      assert.equal((await (await fetch(srv.base + '/n', { headers: h })).json()).n, 1);
      assert.equal((await (await fetch(srv.base + '/timer', { headers: h })).json()).n, 2);
      failing = true;
      for (const p of ['/n', '/timer']) {
        const r = await fetch(srv.base + p, { headers: h });
        assert.equal(r.status, 500, p);
        assert.equal(await r.text(), 'Internal Server Error');
      }
      const r = await fetch(srv2.base + '/', { headers: h });
      assert.equal(r.status, 503);
      assert.equal(errs[0].code, 'TENURE_STORE_ERROR');
      const fresh = await fetch(srv.base + '/n'); // a new session: the draft's insert fails
      assert.equal(fresh.status, 500);
      failing = false;
      assert.equal((await (await fetch(srv.base + '/n', { headers: h })).json()).n, 3, 'failed requests changed nothing');
      assert.ok(logged.some((l) => /TENURE|disk on fire|session middleware error/.test(l)));
    } finally {
      await srv.close();
      await srv2.close();
    }
  });
});

test('the middleware picks the manager: async for async stores, sync otherwise', () => {
  const base = asyncMemoryStore(); // its methods return Promises but are not `async` functions
  assert.ok(session({ secret: SECRET, store: base }).manager instanceof SessionManager, 'undetectable without a mark');
  assert.ok(session({ secret: SECRET, store: { ...base, async: true } }).manager instanceof AsyncSessionManager);
  const declared = { ...base, async get(id) { return base.get(id); } };
  assert.ok(session({ secret: SECRET, store: declared }).manager instanceof AsyncSessionManager);
  assert.ok(session({ secret: SECRET, async: true }).manager instanceof AsyncSessionManager);
  assert.ok(session({ secret: SECRET }).manager instanceof SessionManager);
  assert.throws(() => session({ secret: SECRET, manager: {} }), { code: 'TENURE_INVALID_POLICY' });
});

test('a store failing on open: Express gets next(err), plain node:http a 500, nothing strays', async (t) => {
  t.mock.method(console, 'error', () => {});
  await noStrayErrors(async () => {
    let failing = false;
    const store = asyncMemoryStore({ fail: (method) => failing && method === 'get' });
    const m = new AsyncSessionManager({ store });
    const a = app(express5, m);
    const seen = [];
    a.use((err, req, res, next) => { seen.push(err); res.status(500).json({ error: err.code }); });
    const srv = await listen(a);
    let ran = 0;
    const mw = session({ secret: SECRET, manager: m, cookie: { secure: false } });
    const srv2 = await listen((req, res) => mw(req, res, () => { ran += 1; res.end(String(req.session.views ?? 0)); }));
    try {
      const c = client(srv.base);
      await c.get('/views');
      failing = true;
      const r = await c.get('/views');
      assert.equal(r.status, 500);
      assert.deepEqual(r.body, { error: 'TENURE_STORE_ERROR' });
      assert.equal(seen[0].cause.message, 'get: disk on fire');
      const r2 = await fetch(srv2.base + '/', { headers: { cookie: `sid=${c.cookie}` } });
      assert.equal(r2.status, 500);
      assert.equal(ran, 0, 'the handler never ran without its session');
    } finally {
      await srv.close();
      await srv2.close();
    }
  });
});
