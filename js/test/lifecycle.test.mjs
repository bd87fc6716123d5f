// Runs the request-lifecycle vectors (tests/conformance/lifecycle, format in
// tests/conformance/README.md) through the npm package's WebConfig, the same decisions the
// Rust runner (crates/tenure/tests/lifecycle.rs) and the Python one check; then the
// decisions a request can drive end to end through the Express middleware.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as api from 'tenure';
import { session } from 'tenure/express';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../tests/conformance/lifecycle');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

function config(c) {
  const cookie = {};
  const o = c.cookie ?? {};
  if (o.name !== undefined) cookie.name = o.name;
  if (o.secure !== undefined) cookie.secure = o.secure;
  if (o.http_only !== undefined) cookie.httpOnly = o.http_only;
  if (o.same_site !== undefined) cookie.sameSite = o.same_site;
  return {
    secrets: c.secrets, transport: c.transport ?? 'cookie', cookie, maxAge: c.max_age ?? null,
    rolling: c.rolling ?? false, saveUninitialized: c.save_uninitialized ?? false,
  };
}

function cookieHeader(item, name, secrets) {
  if (typeof item === 'string') return item;
  return `${name}=${api.encodeUriComponent(api.signCookie(item[name], secrets[item.secret]))}`;
}

function authorization(item, secrets) {
  if (typeof item === 'string') return item;
  return `${item.scheme ?? 'Bearer '}${api.signToken(item.bearer, secrets[item.secret])}`;
}

function foundJson(i) {
  const why = i.why === 'rejected' ? { rejected: { bearer: i.rejectedBearer, cookie: i.rejectedCookie } } : i.why;
  const out = { id: i.id, had_cookie: i.hadCookie, why };
  if (i.id !== null) { out.source = i.source; out.secret_index = i.secretIndex; }
  return out;
}

function expectedSetCookie(exp, name, secrets) {
  const sc = exp.set_cookie;
  if (sc === null) return null;
  if ('raw' in sc) return sc.raw;
  return `${name}=${api.encodeUriComponent(api.signCookie(sc.id, secrets[0]))}; ${sc.attributes}`;
}

function request(c, name, secrets) {
  const req = c.request ?? {};
  return {
    cookies: (req.cookies ?? []).map((x) => cookieHeader(x, name, secrets)),
    authorization: req.authorization == null ? null : authorization(req.authorization, secrets),
  };
}

test('there are lifecycle vectors', () => assert.ok(files.length >= 4));

for (const f of files) {
  const doc = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  const secrets = doc.config.secrets;
  const web = new api.WebConfig(config(doc.config));
  const name = web.cookieName;
  for (const c of doc.cases) {
    test(`${f} / ${c.name}`, () => {
      const { cookies, authorization: auth } = request(c, name, secrets);
      const incoming = web.find(cookies, auth);
      const got = foundJson(incoming);
      for (const [k, v] of Object.entries(c.find ?? {})) {
        assert.deepEqual(got[k], v, `find.${k}`);
      }
      if (!c.outcome) return;
      const o = c.outcome;
      const h = web.respond(incoming, { accessed: o.accessed, ending: o.ending, id: o.id, refresh: o.refresh ?? false }, c.now ?? 0);
      assert.equal(h.vary, c.response.vary, 'vary');
      assert.equal(h.reason, c.response.reason, 'reason');
      assert.equal(h.setCookie, expectedSetCookie(c.response, name, secrets), 'set_cookie');
      // respondHeaders (the middleware's one call per response) decides the same: the
      // Set-Cookie value, '' for Vary alone, undefined for neither.
      const answer = web.respondHeaders(incoming, o.accessed, o.ending, o.id, false, o.refresh ?? false,
        c.now ?? 0, doc.config.max_age ?? null, true, false);
      assert.equal(answer === undefined ? null : web.vary, c.response.vary, 'respondHeaders: vary');
      assert.equal(answer || null, expectedSetCookie(c.response, name, secrets), 'respondHeaders: set_cookie');
    });
  }
  test(`${f} / keep_new`, () => {
    for (const k of doc.keep_new ?? []) assert.equal(web.keepNew(k.initialized), k.expect, `keep_new(${k.initialized})`);
  });
}

// End to end: the vectors whose outcome a handler can produce, through the Express
// middleware (sync and async managers), with the vector's sessions in the store under
// their ids and a manual clock at the vector's `now`.
function record(id, now) {
  return new TextEncoder().encode(JSON.stringify({
    v: 1, id, created: now, accessed: now, idle: null, absolute: null, principal: null, version: 1, data: { n: 1 },
  }));
}

function storeWith(ids, now, isAsync) {
  const m = new Map(ids.map((id) => [id, record(id, now)]));
  const ver = (b) => JSON.parse(new TextDecoder().decode(b)).version;
  const sync = {
    get: (id) => m.get(id) ?? null,
    insert: (id, b) => (m.has(id) ? false : (m.set(id, b), true)),
    replace: (id, b, expected) => (m.has(id) && ver(m.get(id)) === Number(expected) ? (m.set(id, b), true) : false),
    delete: (id) => m.delete(id),
    ids: () => [...m.keys()],
  };
  if (!isAsync) return { store: sync, m };
  const store = { async: true };
  for (const k of Object.keys(sync)) store[k] = async (...a) => sync[k](...a);
  return { store, m };
}

function handlerFor(o, mw) {
  return (req, res) => {
    const s = req.session;
    const done = () => res.end('ok');
    switch (o.ending) {
      case 'no_session':
        if (o.accessed) void s.anything;
        return done();
      case 'kept':
        if (o.accessed) void s.n;
        return done();
      case 'created':
        s.n = 2;
        return done();
      case 'regenerated':
        s.n = 2;
        return s.regenerate(() => done());
      case 'destroyed':
        return s.destroy(() => done());
      case 'gone': {
        s.n = 3;
        const r = mw.manager.destroy(s.id); // another request logs everyone out meanwhile
        return r && typeof r.then === 'function' ? r.then(done) : done();
      }
      default:
        throw new Error(`ending ${o.ending}`);
    }
  };
}

async function drive(doc, c, isAsync) {
  const secrets = doc.config.secrets;
  const cfg = config(doc.config);
  const clock = new api.ManualClock(c.now ?? 0);
  const { store } = storeWith(['AAAAAAAAAAAAAAAAAAAAAA', 'BBBBBBBBBBBBBBBBBBBBBB'], c.now ?? 0, isAsync);
  const mw = session({
    secret: secrets, name: cfg.cookie.name, cookie: { ...cfg.cookie, ...(cfg.maxAge === null ? {} : { maxAge: cfg.maxAge }) },
    transport: cfg.transport, rolling: cfg.rolling, saveUninitialized: cfg.saveUninitialized, store, clock,
    idleTimeout: null, absoluteTimeout: null,
  });
  const name = mw.web.cookieName;
  const { cookies, authorization: auth } = request(c, name, secrets);
  const handler = handlerFor(c.outcome, mw);
  const server = http.createServer((req, res) => mw(req, res, (err) => {
    if (err) { res.statusCode = 500; res.end(String(err)); return; }
    handler(req, res);
  }));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const headers = {};
    if (cookies.length) headers.cookie = cookies.join('; ');
    if (auth !== null) headers.authorization = auth;
    const res = await fetch(`http://127.0.0.1:${server.address().port}/`, { headers });
    assert.equal(res.status, 200, await res.clone().text());
    const setCookies = res.headers.getSetCookie();
    const exp = c.response;
    assert.equal(res.headers.get('vary'), exp.vary, 'vary');
    if (exp.set_cookie === null) {
      assert.deepEqual(setCookies, [], 'no Set-Cookie');
    } else {
      assert.equal(setCookies.length, 1, 'one Set-Cookie');
      let want = expectedSetCookie(exp, name, secrets);
      if (exp.reason === 'created' || exp.reason === 'regenerated') {
        // A new id is minted by the manager: compare everything but the id.
        const m = /^[^=]+=s%3A([A-Za-z0-9_-]+)\./.exec(setCookies[0]);
        assert.ok(m, setCookies[0]);
        want = expectedSetCookie({ set_cookie: { ...exp.set_cookie, id: m[1] } }, name, secrets);
        assert.ok(!['AAAAAAAAAAAAAAAAAAAAAA', 'BBBBBBBBBBBBBBBBBBBBBB'].includes(m[1]), 'a freshly minted id');
      }
      assert.equal(setCookies[0], want, 'set_cookie');
    }
  } finally {
    server.close();
  }
}

// What a handler can't express through req.session: 'refresh' (Express has no such call)
// and outcomes naming an id the request did not open.
const drivable = (c) => {
  const o = c.outcome;
  if (!o || o.refresh) return false;
  const opened = c.find ? c.find.id : undefined;
  if (o.ending === 'kept') return opened === o.id;
  if (o.ending === 'gone' || o.ending === 'regenerated') return Boolean(opened);
  if (o.ending === 'created') return !opened;
  return true;
};

for (const f of files) {
  const doc = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  for (const c of doc.cases.filter(drivable)) {
    test(`${f} / ${c.name} (Express, SessionManager)`, () => drive(doc, c, false));
    test(`${f} / ${c.name} (Express, AsyncSessionManager)`, () => drive(doc, c, true));
  }
}

test('bad arguments are clear errors, not panics', () => {
  const good = { secrets: ['x'.repeat(32)] };
  const code = (fn, c, re) => assert.throws(fn, (e) => e.code === `TENURE_${c}` && re.test(e.message));
  code(() => new api.WebConfig({ secrets: ['short'] }), 'INVALID_POLICY', /32/);
  code(() => new api.WebConfig({ ...good, transport: 'cookies' }), 'INVALID_POLICY', /transport/);
  code(() => new api.WebConfig({ ...good, cookie: { name: '__Host-sid', secure: false } }), 'INVALID_VALUE', /__Host-/);
  code(() => new api.WebConfig({ ...good, cookie: { sameSite: 'sometimes' } }), 'INVALID_VALUE', /sameSite/);
  code(() => new api.WebConfig({ ...good, maxAge: -1 }), 'INVALID_POLICY', /maxAge/);
  code(() => new api.WebConfig(), 'INVALID_POLICY', /options/);
  const web = new api.WebConfig(good);
  code(() => web.find(42, null), 'INVALID_VALUE', /cookieHeaders/);
  code(() => web.find(['a=1', 7], null), 'INVALID_VALUE', /cookieHeaders/);
  code(() => web.find(null, 5), 'INVALID_VALUE', /authorization/);
  const none = web.find(null);
  code(() => web.respond(none, { accessed: true, ending: 'vanished' }, 0), 'INVALID_VALUE', /vanished/);
  code(() => web.respond(none, { accessed: true, ending: 'created' }, 0), 'INVALID_VALUE', /outcome\.id/);
  code(() => web.respond(none, { accessed: 'yes', ending: 'no_session' }, 0), 'INVALID_VALUE', /outcome\.accessed/);
  code(() => web.respond(none, { accessed: true, ending: 'no_session' }, -5), 'INVALID_VALUE', /now/);
  code(() => web.respond(none, { accessed: true, ending: 'created', id: 'A'.repeat(5000) }, 0), 'LIMIT_EXCEEDED', /./);
  code(() => web.respondWithMaxAge(none, { accessed: true, ending: 'no_session' }, 0, 'soon'), 'INVALID_VALUE', /maxAge/);
  const ends = (ending, id, now = 0, maxAge = null) => () => web.respondHeaders(none, true, ending, id, false, false, now, maxAge, true, false);
  code(ends('vanished'), 'INVALID_VALUE', /vanished/);
  code(ends('created'), 'INVALID_VALUE', /id is needed/);
  code(ends('no_session', undefined, -5), 'INVALID_VALUE', /now/);
  code(ends('no_session', undefined, 0, 1.5), 'INVALID_VALUE', /maxAge/);
  code(ends('created', 'A'.repeat(5000)), 'LIMIT_EXCEEDED', /./);
  // The wasm instance is still healthy afterwards.
  assert.equal(web.respond(none, { accessed: true, ending: 'no_session' }, 0).vary, 'Cookie');
});

test('respondHeaders: a changed kept session gets its cookie again only when the cookie has a lifetime', () => {
  const secrets = ['x'.repeat(32)];
  const web = new api.WebConfig({ secrets, cookie: { secure: false } });
  const id = new api.SessionManager().create().id;
  const incoming = web.find(`sid=${api.encodeUriComponent(api.signCookie(id, secrets[0]))}`, null);
  assert.equal(incoming.id, id);
  const kept = (accessed, changed, lifetimeChanged, maxAge) => web.respondHeaders(incoming, accessed, 'kept', id, changed, lifetimeChanged, 1000, maxAge, true, false);
  assert.equal(kept(false, false, false, null), undefined, 'untouched: no header');
  assert.equal(kept(true, false, false, 60_000), '', 'looked at: Vary alone');
  assert.equal(kept(true, true, false, null), '', 'changed, browser-session cookie: nothing to push forward');
  assert.match(kept(true, true, false, 60_000), /^sid=s%3A.*Max-Age=60/, 'changed, with a lifetime: sent again');
  assert.match(kept(false, false, true, 5_000), /Max-Age=5/, 'its lifetime changed: sent again');
  assert.equal(web.vary, 'Cookie');
  assert.equal(new api.WebConfig({ secrets, transport: 'both' }).vary, 'Cookie, Authorization');
});

test('keepNewSession asks the core: data, flash messages or a principal', () => {
  const m = new api.SessionManager();
  const web = new api.WebConfig({ secrets: ['x'.repeat(32)] });
  const empty = m.draft();
  assert.equal(web.keepNewSession(empty), false);
  assert.equal(new api.WebConfig({ secrets: ['x'.repeat(32)], saveUninitialized: true }).keepNewSession(empty), true);
  const flashed = m.draft();
  flashed.flash('info', 'hi');
  assert.equal(web.keepNewSession(flashed), true, 'a flash message is something to keep');
  assert.equal(web.keepNewSession(m.draft({ principal: 'ann' })), true);
  const emptied = m.draft();
  emptied.set('k', 1);
  emptied.delete('k');
  assert.equal(web.keepNewSession(emptied), false);
});

test('one lifetime: the cookie max age sets the server timeouts an adapter builds with', () => {
  const day = 24 * 60 * 60 * 1000;
  const secrets = ['x'.repeat(32)];
  assert.deepEqual(new api.WebConfig({ secrets }).serverTimeouts(), { idleTimeout: 30 * 60 * 1000, absoluteTimeout: 12 * 60 * 60 * 1000 });
  const month = new api.WebConfig({ secrets, maxAge: 30 * day });
  assert.deepEqual(month.serverTimeouts(), { idleTimeout: 30 * day, absoluteTimeout: 30 * day });
  month.checkTimeouts(30 * day);
  month.checkTimeouts(null);
  assert.throws(() => month.checkTimeouts(30 * 60 * 1000), (e) => e.code === 'TENURE_INVALID_POLICY' && /2592000000 ms/.test(e.message) && /1800000 ms/.test(e.message));
  assert.throws(() => month.checkTimeouts('long'), (e) => e.code === 'TENURE_INVALID_POLICY');
});
