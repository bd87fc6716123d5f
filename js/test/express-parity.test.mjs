// express-session's behaviours, through tenure/express, over real HTTP on Express 5,
// Express 4 and plain node:http. Each test names the express-session test (test/session.js)
// or README example it mirrors; the tests are ours, written from those behaviours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import util from 'node:util';
import express5 from 'express';
import express4 from 'express4';
import flash from 'connect-flash';
import { SessionManager, ManualClock } from 'tenure';
import { session } from 'tenure/express';

const SECRET = 'parity-secret-0123456789-0123456789-abc';
const MIN = 60 * 1000;
const DAY = 24 * 60 * MIN;

// A store that counts its writes (the conditional store protocol over a Map).
function countingStore() {
  const m = new Map();
  const ver = (b) => JSON.parse(new TextDecoder().decode(b)).version;
  const store = {
    writes: 0,
    data: m,
    get: (id) => m.get(id) ?? null,
    insert: (id, b) => { store.writes += 1; return m.has(id) ? false : (m.set(id, b), true); },
    replace: (id, b, expected) => { store.writes += 1; return m.has(id) && ver(m.get(id)) === Number(expected) ? (m.set(id, b), true) : false; },
    delete: (id) => m.delete(id),
    ids: () => [...m.keys()],
  };
  return store;
}
const record = (store, id) => JSON.parse(new TextDecoder().decode(store.data.get(id)));

// A server running `handler` behind the middleware on one of the three hosts.
async function serve(kind, options, handler, { before, trustProxy } = {}) {
  const mw = session({ secret: SECRET, cookie: { secure: false }, ...options });
  let listener;
  if (kind === 'node:http') {
    listener = (req, res) => {
      if (before) before(req, res, () => {});
      mw(req, res, (err) => {
        if (err) { res.statusCode = 500; res.end(String(err.message)); return; }
        handler(req, res, (e) => { res.statusCode = 500; res.end(String(e && e.message)); });
      });
    };
  } else {
    const app = (kind === 'express 4' ? express4 : express5)();
    if (trustProxy) app.set('trust proxy', true);
    if (before) app.use(before);
    app.use(mw);
    app.use(handler);
    // eslint-disable-next-line no-unused-vars
    app.use((err, req, res, next) => { res.statusCode = 500; res.end(String(err.message)); });
    listener = app;
  }
  const server = http.createServer(listener);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  let jar = null;
  const get = async (path = '/', headers = {}) => {
    const res = await fetch(base + path, { headers: jar ? { cookie: jar, ...headers } : headers });
    const set = res.headers.getSetCookie();
    const mine = set.find((c) => c.startsWith(`${options.name ?? 'sid'}=`));
    if (mine) jar = /Max-Age=0/.test(mine) ? null : mine.split(';')[0];
    return { status: res.status, text: await res.text(), setCookie: mine ?? null, all: set, headers: res.headers };
  };
  return {
    mw, get, close: () => new Promise((r) => server.close(r)),
    get jar() { return jar; }, set jar(v) { jar = v; },
  };
}

const KINDS = ['express 5', 'express 4', 'node:http'];
// A manager call's answer, now (SessionManager) or when it comes (AsyncSessionManager).
const then = (x, f) => (x && typeof x.then === 'function' ? x.then(f) : f(x));
const idOf = (setCookie) => decodeURIComponent(setCookie.split(';')[0].split('=')[1]).slice(2).split('.')[0];

for (const [kind, mode] of KINDS.flatMap((k) => [[k, 'sync'], [k, 'async']])) {
  const t = (name, fn) => test(`${kind} (${mode} manager): ${name}`, fn);
  const serveKind = (k, options, ...rest) => serve(k, mode === 'async' ? { async: true, ...options } : options, ...rest);

  t('README "views" counter: nested changes persist (req.session.views[path] = n)', async () => {
    const s = await serveKind(kind, {}, (req, res) => {
      req.session.views ??= {};
      req.session.views[req.url] = (req.session.views[req.url] ?? 0) + 1;
      res.end(String(req.session.views[req.url]));
    });
    try {
      assert.equal((await s.get('/a')).text, '1');
      assert.equal((await s.get('/a')).text, '2');
      assert.equal((await s.get('/b')).text, '1');
      assert.equal((await s.get('/a')).text, '3');
    } finally { await s.close(); }
  });

  t('nested arrays persist (req.session.cart.push(item)); "req.session should persist"', async () => {
    const s = await serveKind(kind, {}, (req, res) => {
      req.session.cart ??= [];
      req.session.cart.push({ item: req.session.cart.length });
      res.end(JSON.stringify(req.session.cart));
    });
    try {
      await s.get();
      await s.get();
      assert.deepEqual(JSON.parse((await s.get()).text), [{ item: 0 }, { item: 1 }, { item: 2 }]);
    } finally { await s.close(); }
  });

  t('"saveUninitialized option should force save of uninitialized session"', async () => {
    const store = countingStore();
    const s = await serveKind(kind, { saveUninitialized: true, store }, (req, res) => res.end('ok'));
    try {
      const r = await s.get();
      assert.ok(r.setCookie, 'a cookie for the empty session');
      assert.equal(store.data.size, 1);
    } finally { await s.close(); }
  });

  t('"saveUninitialized option should prevent save of uninitialized session"', async () => {
    const store = countingStore();
    const s = await serveKind(kind, { saveUninitialized: false, store }, (req, res) => res.end(String(req.session.id.length)));
    try {
      const r = await s.get();
      assert.equal(r.text, '22', 'req.session.id exists for a new session');
      assert.equal(r.setCookie, null);
      assert.equal(store.data.size, 0);
    } finally { await s.close(); }
  });

  t('a new session is written once per request ("should have saved session" with one store write)', async () => {
    const store = countingStore();
    const s = await serveKind(kind, { store }, (req, res) => {
      req.session.a = (req.session.a ?? 0) + 1;
      req.session.b = { c: [1] };
      req.session.b.c.push(2);
      res.end('ok');
    });
    try {
      await s.get();
      assert.equal(store.writes, 1);
      await s.get();
      assert.equal(store.writes, 2, 'a changed session: one more write');
    } finally { await s.close(); }
  });

  t('"should only set-cookie when modified": a changed session with cookie.maxAge re-sends its cookie', async () => {
    const s = await serveKind(kind, { cookie: { secure: false, maxAge: MIN } }, (req, res) => {
      if (req.url === '/change') req.session.n = (req.session.n ?? 0) + 1;
      res.end(String(req.session.n));
    });
    try {
      assert.ok((await s.get('/change')).setCookie);
      assert.equal((await s.get('/read')).setCookie, null, 'unchanged: no cookie');
      const again = await s.get('/change');
      assert.match(again.setCookie, /Max-Age=60/);
      assert.equal(again.text, '2');
    } finally { await s.close(); }
  });

  t('"should not have enumerable methods": String(), template literals, hasOwnProperty, JSON and inspect see the data only', async () => {
    const s = await serveKind(kind, {}, (req, res) => {
      req.session.foo = 'foo';
      req.session.bar = 'bar';
      res.end(JSON.stringify({
        string: String(req.session), template: `${req.session}`, own: req.session.hasOwnProperty('foo'),
        keys: Object.keys(req.session).sort(), json: JSON.parse(JSON.stringify(req.session)),
        inspect: util.inspect(req.session), hasSave: typeof req.session.save,
      }));
    });
    try {
      const b = JSON.parse((await s.get()).text);
      assert.equal(b.string, '[object Object]');
      assert.equal(b.template, '[object Object]');
      assert.equal(b.own, true);
      assert.deepEqual(b.keys, ['bar', 'foo']);
      assert.deepEqual(b.json, { foo: 'foo', bar: 'bar' });
      assert.equal(b.inspect, "{ foo: 'foo', bar: 'bar' }");
      assert.equal(b.hasSave, 'function');
    } finally { await s.close(); }
  });

  t('no reserved data keys: req.session.token, .flash, .increment are data; connect-flash works', async () => {
    const s = await serveKind(kind, {}, (req, res) => {
      if (req.url === '/set') {
        req.session.token = 'csrf-123';
        req.session.increment = 5;
        req.flash('info', 'saved');
        res.end('ok');
        return;
      }
      res.end(JSON.stringify({ token: req.session.token, increment: req.session.increment, info: req.flash('info'), again: req.flash('info') }));
    }, { before: (req, res, next) => flash()(req, res, next) });
    try {
      await s.get('/set');
      assert.deepEqual(JSON.parse((await s.get('/read')).text), { token: 'csrf-123', increment: 5, info: ['saved'], again: [] });
    } finally { await s.close(); }
  });

  t('"should preserve cookies set in writeHead": res.writeHead(200, {"Set-Cookie": ...}) keeps the session cookie', async () => {
    const s = await serveKind(kind, {}, (req, res) => {
      req.session.n = 1;
      res.writeHead(200, { 'Set-Cookie': 'previous=cookieValue; Path=/' });
      res.end();
    });
    try {
      const r = await s.get();
      assert.equal(r.all[0], 'previous=cookieValue; Path=/');
      assert.ok(r.setCookie, 'and the session cookie');
    } finally { await s.close(); }
  });

  t('setting then deleting a key leaves no record', async () => {
    const store = countingStore();
    const s = await serveKind(kind, { store }, (req, res) => {
      req.session.tmp = 1;
      delete req.session.tmp;
      res.end('ok');
    });
    try {
      const r = await s.get();
      assert.equal(r.setCookie, null);
      assert.equal(store.data.size, 0);
      assert.equal(store.writes, 0);
    } finally { await s.close(); }
  });

  t('"req.session.id / req.sessionID": the same id, the one in the cookie', async () => {
    const s = await serveKind(kind, {}, (req, res) => {
      req.session.n = 1;
      res.end(JSON.stringify([req.sessionID, req.session.id]));
    });
    try {
      const r = await s.get();
      const [a, b] = JSON.parse(r.text);
      assert.equal(a, b);
      assert.equal(idOf(r.setCookie), a);
    } finally { await s.close(); }
  });

  t('".cookie .maxAge should modify cookie expires when changed": "remember me" for 30 days, on the server too', async () => {
    const clock = new ManualClock(1_000_000);
    const s = await serveKind(kind, { clock, absoluteTimeout: 60 * DAY }, (req, res) => {
      if (req.url === '/login') {
        req.session.user = 'ann';
        req.session.cookie.maxAge = 30 * DAY;
      }
      res.end(String(req.session.user));
    });
    try {
      const r = await s.get('/login');
      assert.match(r.setCookie, new RegExp(`Max-Age=${30 * 24 * 3600}`));
      clock.advance(10 * DAY); // far beyond the default 30 idle minutes
      assert.equal((await s.get('/')).text, 'ann');
    } finally { await s.close(); }
  });

  t('".reload() should reload session from store"', async () => {
    const s = await serveKind(kind, {}, (req, res, next) => {
      if (req.url === '/set') { req.session.n = 1; res.end('ok'); return; }
      req.session.n = 99; // discarded by the reload
      const m = req.tenure.manager;
      then(m.open(req.session.id), (other) => {
        other.set('n', 2);
        then(m.commit(other), () => req.session.reload((err) => {
          if (err) return next(err);
          res.end(String(req.session.n));
        }));
      });
    });
    try {
      await s.get('/set');
      assert.equal((await s.get('/reload')).text, '2');
    } finally { await s.close(); }
  });

  t('".reload() should error is session missing"', async () => {
    const s = await serveKind(kind, {}, (req, res, next) => {
      if (req.url === '/set') { req.session.n = 1; res.end('ok'); return; }
      then(req.tenure.manager.destroy(req.session.id), () => req.session.reload((err) => (err ? next(err) : res.end('reloaded'))));
    });
    try {
      await s.get('/set');
      const r = await s.get('/reload');
      assert.equal(r.status, 500);
      assert.match(r.text, /failed to load session/);
    } finally { await s.close(); }
  });

  t('".save() should save session to store" and "should prevent end-of-request save"', async () => {
    const store = countingStore();
    const s = await serveKind(kind, { store }, (req, res, next) => {
      req.session.hit = true;
      req.session.save((err) => {
        if (err) return next(err);
        res.end(store.data.has(req.session.id) ? 'stored' : 'empty');
      });
    });
    try {
      assert.equal((await s.get()).text, 'stored');
      assert.equal(store.writes, 1, 'no second write at the end');
    } finally { await s.close(); }
  });

  t('".touch() should reset session expiration"', async () => {
    const clock = new ManualClock(0);
    const s = await serveKind(kind, { clock, cookie: { secure: false, maxAge: MIN } }, (req, res) => {
      req.session.n = 1;
      const before = req.session.cookie.maxAge;
      clock.advance(1000);
      const aged = req.session.cookie.maxAge;
      req.session.touch();
      res.end(JSON.stringify([before, aged, req.session.cookie.maxAge]));
    });
    try {
      assert.deepEqual(JSON.parse((await s.get()).text), [MIN, MIN - 1000, MIN]);
    } finally { await s.close(); }
  });

  t('".regenerate() should destroy/replace the previous session"', async () => {
    const store = countingStore();
    const s = await serveKind(kind, { store }, (req, res, next) => {
      if (req.url === '/set') { req.session.hit = 1; res.end(req.session.id); return; }
      const old = req.session.id;
      req.session.regenerate((err) => {
        if (err) return next(err);
        res.end(JSON.stringify({ old, id: req.session.id, hit: req.session.hit ?? null }));
      });
    });
    try {
      const first = (await s.get('/set')).text;
      const r = await s.get('/regen');
      const b = JSON.parse(r.text);
      assert.equal(b.old, first);
      assert.notEqual(b.id, first);
      assert.equal(b.hit, null, 'a new, empty session');
      assert.equal(idOf(r.setCookie), b.id);
      assert.ok(!store.data.has(first), 'the old record is gone');
    } finally { await s.close(); }
  });

  t('".destroy() should destroy the previous session" (and the cookie is cleared)', async () => {
    const store = countingStore();
    const s = await serveKind(kind, { store }, (req, res, next) => {
      if (req.url === '/set') { req.session.hit = 1; res.end('ok'); return; }
      req.session.destroy((err) => (err ? next(err) : res.end(String(req.session))));
    });
    try {
      await s.get('/set');
      assert.equal(store.data.size, 1);
      const r = await s.get('/destroy');
      assert.equal(r.text, 'undefined', 'req.session is gone');
      assert.match(r.setCookie, /Max-Age=0/);
      assert.equal(store.data.size, 0);
    } finally { await s.close(); }
  });

  t('"secure set to auto, proxy true: should set secure when X-Forwarded-Proto is https"', async () => {
    const s = await serveKind(kind, { proxy: true, cookie: { secure: 'auto' } }, (req, res) => { req.session.n = 1; res.end(); });
    try {
      assert.match((await s.get('/', { 'x-forwarded-proto': 'https' })).setCookie, /; Secure/);
      s.jar = null;
      assert.doesNotMatch((await s.get('/', { 'x-forwarded-proto': 'http' })).setCookie, /Secure/);
    } finally { await s.close(); }
  });

  t('"secure set to auto, proxy false: should not set secure when X-Forwarded-Proto is https"', async () => {
    const s = await serveKind(kind, { proxy: false, cookie: { secure: 'auto' } }, (req, res) => { req.session.n = 1; res.end(); });
    try {
      assert.doesNotMatch((await s.get('/', { 'x-forwarded-proto': 'https' })).setCookie, /Secure/);
    } finally { await s.close(); }
  });

  t('".cookie .secure should not set-cookie when insecure" (a Secure cookie never goes over plain HTTP)', async () => {
    const s = await serveKind(kind, { cookie: { secure: true } }, (req, res) => { req.session.n = 1; res.end('ok'); });
    try {
      const r = await s.get();
      assert.equal(r.setCookie, null);
      assert.equal(r.status, 200);
    } finally { await s.close(); }
  });

  t('"unset option should allow destroy on req.session = null"', async () => {
    const store = countingStore();
    const s = await serveKind(kind, { unset: 'destroy', store }, (req, res) => {
      if (req.url === '/set') req.session.n = 1;
      else req.session = null;
      res.end('ok');
    });
    try {
      await s.get('/set');
      assert.equal(store.data.size, 1);
      await s.get('/unset');
      assert.equal(store.data.size, 0);
    } finally { await s.close(); }
  });

  t('"unset option should default to keep"', async () => {
    const store = countingStore();
    const s = await serveKind(kind, { store }, (req, res) => {
      if (req.url === '/set') req.session.n = 1;
      else { req.session.n = 2; req.session = null; }
      res.end('ok');
    });
    try {
      const first = await s.get('/set');
      await s.get('/unset');
      assert.equal(store.data.size, 1);
      assert.equal(record(store, idOf(first.setCookie)).data.n, 1, 'kept, the request\'s changes ignored');
    } finally { await s.close(); }
  });

  t('"cookie option when path set to /foo/bar": no session outside the path', async () => {
    const s = await serveKind(kind, { cookie: { secure: false, path: '/foo/bar' } }, (req, res) => {
      if (req.session) req.session.n = 1;
      res.end(String(Boolean(req.session)));
    });
    try {
      const root = await s.get('/');
      assert.equal(root.text, 'false');
      assert.equal(root.setCookie, null);
      const inside = await s.get('/foo/bar/baz');
      assert.equal(inside.text, 'true');
      assert.match(inside.setCookie, /Path=\/foo\/bar/);
    } finally { await s.close(); }
  });

  t('"rolling option should force cookie on unmodified session"', async () => {
    const s = await serveKind(kind, { rolling: true }, (req, res) => {
      if (req.url === '/set') req.session.n = 1;
      res.end('ok');
    });
    try {
      await s.get('/set');
      assert.ok((await s.get('/')).setCookie);
    } finally { await s.close(); }
  });

  t('values are stored as JSON, as express-session does: a Date comes back as its ISO string', async () => {
    const when = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
    const s = await serveKind(kind, {}, (req, res) => {
      if (req.url === '/set') { req.session.when = when; req.session.nested = { at: when }; res.end(typeof req.session.when); return; }
      res.end(JSON.stringify([req.session.when, req.session.nested.at]));
    });
    try {
      assert.equal((await s.get('/set')).text, 'object', 'a Date for the rest of the request');
      assert.deepEqual(JSON.parse((await s.get('/')).text), [when.toISOString(), when.toISOString()]);
    } finally { await s.close(); }
  });

  t('a value tenure refuses fails the request loudly, naming the key, and nothing is stored', async () => {
    const store = countingStore();
    const s = await serveKind(kind, { store }, (req, res) => {
      req.session.ok = 1;
      req.session.bad = Number.NaN;
      res.end('ok');
    });
    try {
      const r = await s.get();
      assert.equal(r.status, 500);
      assert.match(r.text, /bad/);
      assert.equal(store.data.size, 0);
    } finally { await s.close(); }
  });

  t('"name option should set the cookie name" (and "key option should allow overriding")', async () => {
    for (const o of [{ name: 'session_id' }, { key: 'session_id' }]) {
      const s = await serveKind(kind, { ...o, name: undefined, ...o }, (req, res) => { req.session.n = 1; res.end(); });
      try {
        const r = await s.get();
        assert.ok(r.all.some((c) => c.startsWith('session_id=s%3A')), JSON.stringify(r.all));
      } finally { await s.close(); }
    }
  });
}

test('"proxy option when unspecified should use req.secure": Express\'s trust proxy decides', async () => {
  for (const [trustProxy, secure] of [[true, true], [false, false]]) {
    const s = await serve('express 5', { cookie: { secure: 'auto' } }, (req, res) => { req.session.n = 1; res.end(); }, { trustProxy });
    try {
      const c = (await s.get('/', { 'x-forwarded-proto': 'https' })).setCookie;
      assert.equal(/; Secure/.test(c), secure, c);
    } finally { await s.close(); }
  }
});

test('options are checked at start-up: express-session\'s accepted with their meaning, nonsense refused by name', () => {
  const ok = (o) => session({ secret: SECRET, ...o });
  ok({ resave: true, saveUninitialized: true, rolling: false, proxy: true, unset: 'keep', cookie: { secure: 'auto', sameSite: true } });
  ok({ resave: false, proxy: false, unset: 'destroy', cookie: { sameSite: false, maxAge: null } });
  const refused = (o, re) => assert.throws(() => session({ secret: SECRET, ...o }), (e) => e.code === 'TENURE_INVALID_POLICY' && re.test(e.message), JSON.stringify(o));
  refused({ resave: 'yes' }, /resave must be true or false, not "yes"/);
  refused({ proxy: 'true' }, /proxy must be true/);
  refused({ cookie: { secure: 'false' } }, /cookie.secure must be true, false or 'auto', not "false"/);
  refused({ unset: 'drop' }, /unset option must be "destroy" or "keep"/);
  refused({ saveUninitialized: 'false' }, /saveUninitialized must be true or false/);
  refused({ rolling: 1 }, /rolling must be true or false/);
  refused({ genid: () => 'x' }, /genid option must be left out/);
  refused({ cookie: () => ({}) }, /cookie as a function/);
  refused({ cookie: { expires: new Date() } }, /cookie.expires/);
  refused({ cookie: { maxage: 1000 } }, /unknown cookie option "maxage"/);
  refused({ cookie: { sameSite: 'auto' } }, /sameSite 'auto'/);
  refused({ secret: [] }, /secret option array must contain one or more strings/);
  const expressSessionStore = { get(sid, cb) { cb(null, null); }, set(sid, s, cb) { cb(); }, destroy(sid, cb) { cb(); } };
  refused({ store: expressSessionStore }, /express-session store/);
  refused({ idelTimeout: 5 }, /idelTimeout/);
});

test('one lifetime: a made manager lives as long as the cookie; a given one that would not is refused', () => {
  const mw = session({ secret: SECRET, cookie: { maxAge: 30 * DAY } });
  assert.equal(mw.manager.idleTimeout, 30 * DAY);
  assert.equal(mw.manager.absoluteTimeout, 30 * DAY);
  const explicit = session({ secret: SECRET, cookie: { maxAge: MIN }, idleTimeout: 2 * MIN });
  assert.equal(explicit.manager.idleTimeout, 2 * MIN);
  assert.throws(() => session({ secret: SECRET, cookie: { maxAge: 30 * DAY }, manager: new SessionManager({ idleTimeout: 30 * MIN }) }),
    (e) => e.code === 'TENURE_INVALID_POLICY' && /2592000000 ms/.test(e.message) && /1800000 ms/.test(e.message));
  assert.throws(() => session({ secret: SECRET, cookie: { maxAge: 30 * DAY }, idleTimeout: 30 * MIN }), (e) => e.code === 'TENURE_INVALID_POLICY');
  assert.throws(() => session({ secret: SECRET, cookie: { maxAge: 30 * DAY }, absoluteTimeout: DAY }), (e) => /outlives the manager's absolute timeout/.test(e.message));
});

test('a "remember me" longer than the absolute timeout is refused when set, naming both', async () => {
  const s = await serve('express 5', {}, (req, res, next) => {
    try {
      req.session.cookie.maxAge = 365 * DAY;
      res.end('set');
    } catch (e) { next(e); }
  });
  try {
    const r = await s.get();
    assert.equal(r.status, 500);
    assert.match(r.text, /31536000000 ms outlives the manager's absolute timeout \(43200000 ms\)/);
  } finally { await s.close(); }
});
