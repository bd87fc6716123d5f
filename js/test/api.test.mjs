import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import {
  SessionManager, ManualClock, FileStore, signCookie, unsignCookie, unsignCookieIndex,
  findSessionId, encodeUriComponent, buildSetCookie, checkSecrets, parseBearer, recordVersion,
} from 'tenure';

const require = createRequire(import.meta.url);
const VECTOR = 's:apple.D8Y+pkTAmeR0PobOhY4G97PRW+j7bUnP/5m6/On1MCU';

test('ESM import and CJS require give the same API', () => {
  const cjs = require('tenure');
  assert.equal(cjs.SessionManager, SessionManager);
  assert.equal(typeof require('tenure/express').session, 'function');
});

test('values round-trip exactly', () => {
  const m = new SessionManager();
  const s = m.create({ principal: 'ann' });
  const values = {
    str: 'héllo 😀', int: -42, float: 1.5, big: 2n ** 62n, min: -(2n ** 63n), t: true, n: null,
    bytes: new Uint8Array([0, 255]), list: [1, 'two', [3.5]], obj: { a: { b: null }, $b: 'not bytes' },
    map: new Map([['k', 1]]),
  };
  for (const [k, v] of Object.entries(values)) s.set(k, v);
  m.commit(s);
  const o = m.open(s.id).toObject();
  assert.equal(o.str, values.str);
  assert.equal(o.int, -42);
  assert.equal(o.float, 1.5);
  assert.equal(o.big, 2n ** 62n);
  assert.equal(o.min, -(2n ** 63n));
  assert.deepEqual(o.bytes, new Uint8Array([0, 255]));
  assert.deepEqual(o.list, [1, 'two', [3.5]]);
  assert.deepEqual(o.obj, { a: { b: null }, $b: 'not bytes' });
  assert.deepEqual(o.map, { k: 1 });
  assert.equal(o.t, true);
  assert.equal(o.n, null);
});

test('refused values name the key and change nothing', () => {
  const m = new SessionManager();
  const s = m.create();
  s.set('keep', 1);
  m.commit(s);
  const cyclic = [];
  cyclic.push(cyclic);
  const cases = [
    [NaN, 'TENURE_INVALID_VALUE'], [Infinity, 'TENURE_INVALID_VALUE'], [() => 1, 'TENURE_INVALID_VALUE'],
    [Symbol('s'), 'TENURE_INVALID_VALUE'], [new Date(), 'TENURE_INVALID_VALUE'], [new Set([1]), 'TENURE_INVALID_VALUE'],
    [2n ** 64n, 'TENURE_LIMIT_EXCEEDED'], [cyclic, 'TENURE_LIMIT_EXCEEDED'], [{ a: new (class X {})() }, 'TENURE_INVALID_VALUE'],
  ];
  for (const [value, code] of cases) {
    assert.throws(() => s.set('bad', value), (e) => e.code === code && e.message.includes('bad'), String(code));
  }
  assert.deepEqual(s.keys(), ['keep']);
  assert.equal(s.modified, false);
  assert.throws(() => s.set('x'.repeat(300), 1), { code: 'TENURE_LIMIT_EXCEEDED' });
  s.set('text', 'x');
  assert.throws(() => s.increment('text'), { code: 'TENURE_INVALID_VALUE' });
  s.set('max', 2n ** 63n - 1n);
  assert.throws(() => s.increment('max'), /overflow/);
  assert.equal(s.increment('n', 5), 5);
});

test('concurrent copies merge, gone sessions stay gone', () => {
  const m = new SessionManager();
  const id = m.create().id;
  const a = m.open(id);
  const b = m.open(id);
  a.set('a', 1); a.increment('hits');
  b.set('b', 2); b.increment('hits');
  m.commit(a);
  m.commit(b);
  assert.deepEqual(m.peek(id).toObject(), { a: 1, b: 2, hits: 2 });
  const c = m.open(id);
  c.set('late', true);
  assert.equal(m.destroy(id), true);
  assert.throws(() => m.commit(c), { code: 'TENURE_SESSION_GONE' });
  assert.equal(m.peek(id), null);
});

test('expiry, events, metrics and perSession with a ManualClock', () => {
  const clock = new ManualClock(1_000_000);
  const m = new SessionManager({ clock, idleTimeout: 60_000, absoluteTimeout: null });
  const seen = [];
  for (const e of ['created', 'expired', 'destroyed']) m.on(e, (id) => seen.push([e, id]));
  m.on('regenerated', (o, n) => seen.push(['regenerated', o, n]));
  const carts = m.perSession(() => []);
  const s = m.create();
  carts(s).push('item1');
  const first = s.id;
  m.regenerate(s);
  assert.deepEqual(carts(s), ['item1'], 'the object follows a plain regenerate');
  assert.equal(s.expiresAt, 1_000_000 + 60_000);
  clock.advance(59_999);
  assert.ok(m.peek(s.id));
  clock.advance(1);
  assert.equal(m.open(s.id), null);
  assert.equal(carts.size(), 0, 'dropped with the session');
  assert.deepEqual(seen, [['created', first], ['regenerated', first, s.id], ['expired', s.id]]);
  const x = m.metrics();
  assert.equal(x.createdTotal, 1);
  assert.equal(x.expiredTotal, 1);
  assert.equal(x.maxAliveMs, 60_000);
  assert.throws(() => m.on('nope', () => {}), { code: 'TENURE_INVALID_VALUE' });
  assert.throws(() => new SessionManager({ idleTimeout: 0 }), { code: 'TENURE_INVALID_POLICY' });
  assert.throws(() => new SessionManager({ idBytes: 8 }), { code: 'TENURE_INVALID_POLICY' });
  const auto = new SessionManager({ autoSweep: 10 });
  assert.ok(auto._timer);
  auto.close();
  assert.equal(auto._timer, null);
});

test('export and import survive a restart', () => {
  const clock = new ManualClock(0);
  const m = new SessionManager({ clock });
  const s = m.create({ data: { k: new Uint8Array([7]) } });
  const blob = m.export();
  assert.ok(blob instanceof Uint8Array);
  const fresh = new SessionManager({ clock });
  assert.equal(fresh.import(blob), 1);
  assert.deepEqual(fresh.open(s.id).get('k'), new Uint8Array([7]));
  assert.throws(() => fresh.import(new TextEncoder().encode('garbage')), { code: 'TENURE_DECODE_ERROR' });
});

test('a store that throws gives TENURE_STORE_ERROR with the cause, and loses nothing', () => {
  const data = new Map();
  let fail = false;
  const store = {
    get: (id) => data.get(id) ?? null,
    insert: (id, bytes) => { if (fail) throw new Error('disk on fire'); if (data.has(id)) return false; data.set(id, bytes); return true; },
    replace: (id, bytes, expected) => {
      if (fail) throw new Error('disk on fire');
      if (!data.has(id) || recordVersion(data.get(id)) !== expected) return false;
      data.set(id, bytes);
      return true;
    },
    delete: (id, expected) => (expected === undefined || recordVersion(data.get(id)) === expected) && data.delete(id),
    ids: () => [...data.keys()],
  };
  const m = new SessionManager({ store });
  const s = m.create({ data: { k: 1 } });
  const before = new Map(data);
  fail = true;
  s.set('k', 2);
  assert.throws(() => m.commit(s), (e) => e.code === 'TENURE_STORE_ERROR' && /disk on fire/.test(e.message) && e.cause.message === 'disk on fire');
  assert.deepEqual(data, before);
  assert.equal(s.modified, true);
  fail = false;
  m.commit(s);
  assert.equal(m.open(s.id).get('k'), 2);
  assert.throws(() => new SessionManager({ store: {} }), { code: 'TENURE_INVALID_POLICY' });
  const { insert, ...noInsert } = store;
  assert.throws(() => new SessionManager({ store: noInsert }), (e) => e.code === 'TENURE_INVALID_POLICY' && /insert\(\)/.test(e.message));
  const legacy = { get: store.get, set: () => {}, delete: store.delete, ids: store.ids };
  assert.throws(() => new SessionManager({ store: legacy }), (e) => e.code === 'TENURE_INVALID_POLICY' && /insert\(\)/.test(e.message));
  void insert;
});

test('FileStore: one file per session, corrupt files reported and skipped', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenure-js-'));
  const clock = new ManualClock(0);
  const m = new SessionManager({ store: new FileStore(dir), clock });
  const s = m.create({ principal: 'ann', data: { n: 1 } });
  const file = path.join(dir, `${s.id}.json`);
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).data.n, 1);
  const bad = 'B'.repeat(22);
  fs.writeFileSync(path.join(dir, `${bad}.json`), '{broken');
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'ignored');
  assert.throws(() => m.open(bad), (e) => e.code === 'TENURE_STORE_ERROR' && e.message.includes(bad));
  assert.equal(m.sessionsOf('ann').length, 1);
  clock.advance(31 * 60 * 1000);
  assert.equal(m.sweep(), 1);
  assert.equal(fs.existsSync(file), false);
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
  fs.rmSync(dir, { recursive: true });
});

test('cookie helpers are the core\'s', () => {
  assert.equal(signCookie('apple', 'keyboard cat'), VECTOR);
  assert.equal(unsignCookie(VECTOR, ['new', 'keyboard cat']), 'apple');
  assert.deepEqual(unsignCookieIndex(VECTOR, ['new', 'keyboard cat']), ['apple', 1]);
  assert.equal(unsignCookie(VECTOR.replace('D8Y', 'D8Z'), 'keyboard cat'), null);
  const id = 'A'.repeat(22);
  const header = `sid=forged; sid=${encodeUriComponent(signCookie(id, 'k'))}`;
  assert.deepEqual(findSessionId(header, 'sid', ['k']), [id, 0]);
  assert.equal(buildSetCookie('v', { maxAge: 60_000, now: 0 }),
    'sid=v; Max-Age=60; Path=/; Expires=Thu, 01 Jan 1970 00:01:00 GMT; HttpOnly; SameSite=Lax; Secure');
  assert.throws(() => buildSetCookie('v', { name: '__Host-x', secure: false }), { code: 'TENURE_INVALID_VALUE' });
  assert.throws(() => checkSecrets(['short']), { code: 'TENURE_INVALID_POLICY' });
  assert.equal(parseBearer('Bearer abc'), 'abc');
});

test('no Rust panic reaches JS: hostile input everywhere ends as values or Errors', () => {
  const m = new SessionManager();
  for (const id of ['', 'x'.repeat(100_000), '\u0000', '../../etc/passwd', 'é'.repeat(30)]) {
    assert.equal(m.open(id), null);
    assert.equal(m.destroy(id), false);
  }
  assert.equal(m.open(42), null);
  assert.throws(() => m.import(new Uint8Array(100_000).fill(91)), { code: 'TENURE_DECODE_ERROR' });
  assert.equal(unsignCookie('s:' + '.'.repeat(5000), 'k'), null);
  const s = m.create();
  let deep = [];
  for (let i = 0; i < 10_000; i++) deep = [deep];
  assert.throws(() => s.set('deep', deep), { code: 'TENURE_LIMIT_EXCEEDED' });
  assert.throws(() => s.set(42, 1), { code: 'TENURE_INVALID_VALUE' });
  // The module still works after all that.
  s.set('ok', 1);
  m.commit(s);
  assert.equal(m.open(s.id).get('ok'), 1);
});

test('a throwing listener neither fails the operation nor silences other listeners or events', (t) => {
  const logged = [];
  t.mock.method(console, 'error', (...args) => logged.push(args.join(' ')));
  const clock = new ManualClock(0);
  const m = new SessionManager({ clock, idleTimeout: 1_000, absoluteTimeout: null });
  const seen = [];
  m.on('created', () => { throw new Error('listener bug'); });
  m.on('created', (id) => seen.push(['created', id]));
  m.on('expired', (id) => seen.push(['expired', id]));
  const a = m.create();
  const b = m.create();
  assert.ok(m.peek(a.id) && m.peek(b.id), 'both sessions were stored');
  clock.advance(1_000);
  assert.equal(m.sweep(), 2, 'the sweep reports its count despite the listener');
  assert.deepEqual(seen.slice(0, 2), [['created', a.id], ['created', b.id]]);
  assert.deepEqual(seen.slice(2).map(([e, id]) => `${e} ${id}`).sort(), [`expired ${a.id}`, `expired ${b.id}`].sort());
  assert.equal(logged.length, 2);
  assert.match(logged[0], /'created' listener threw.*listener bug/);
});
