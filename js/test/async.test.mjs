// AsyncSessionManager over asynchronous stores: interleaved operations in one event loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncSessionManager, SessionManager, ManualClock, recordVersion } from 'tenure';
import { asyncMemoryStore } from './async-store.mjs';

test('200 concurrent open → increment → commit on one session count exactly 200', async () => {
  const store = asyncMemoryStore();
  const m = new AsyncSessionManager({ store });
  const s = await m.create();
  await Promise.all(Array.from({ length: 200 }, async () => {
    const x = await m.open(s.id);
    x.increment('n');
    await m.commit(x);
  }));
  const after = await m.peek(s.id);
  assert.equal(after.get('n'), 200);
  assert.ok(after.version > 1);
  assert.equal(recordVersion(store.data.get(s.id)), after.version);
  assert.equal((await m.metrics()).createdTotal, 1);
});

test('a destroy racing 50 concurrent commits wins: the session never comes back', async () => {
  const store = asyncMemoryStore();
  const m = new AsyncSessionManager({ store });
  const s = await m.create({ data: { n: 0 } });
  const copies = await Promise.all(Array.from({ length: 50 }, () => m.open(s.id)));
  assert.ok(copies.every((c) => c !== null));
  const results = [];
  let destroyedAt = null;
  const commits = copies.map(async (c, i) => {
    c.increment('n');
    c.set(`k${i}`, i);
    try {
      await m.commit(c);
      results.push({ i, ok: true, afterDestroy: destroyedAt !== null });
    } catch (e) {
      results.push({ i, code: e.code, afterDestroy: destroyedAt !== null });
    }
  });
  const destroy = (async () => {
    await new Promise((r) => setTimeout(r, 2));
    const gone = await m.destroy(s.id);
    destroyedAt = results.length;
    return gone;
  })();
  const [gone] = await Promise.all([destroy, ...commits]);
  assert.equal(gone, true);
  assert.equal(store.data.has(s.id), false, 'no record after the race');
  assert.equal(await m.peek(s.id), null);
  // Every commit that ended after the destroy was refused, and nothing else failed.
  for (const r of results) {
    if (r.afterDestroy) assert.equal(r.code, 'TENURE_SESSION_GONE', `commit ${r.i}`);
    else assert.ok(r.ok || r.code === 'TENURE_SESSION_GONE', `commit ${r.i}: ${r.code}`);
  }
  // Later commits of any copy are refused too, and the store stays empty.
  const late = await Promise.allSettled(copies.slice(0, 10).map((c) => { c.set('late', 1); return m.commit(c); }));
  assert.ok(late.every((r) => r.status === 'rejected' && r.reason.code === 'TENURE_SESSION_GONE'));
  assert.equal(store.data.size, 0);
  assert.equal((await m.metrics()).destroyedTotal, 1);
});

test('a store that rejects gives TENURE_STORE_ERROR with the cause; stored record and session unchanged', async () => {
  let failing = null;
  const store = asyncMemoryStore({ fail: (method) => method === failing });
  const m = new AsyncSessionManager({ store });
  const s = await m.create({ data: { k: 1 } });
  const before = store.data.get(s.id);
  failing = 'replace';
  s.set('k', 2);
  await assert.rejects(m.commit(s), (e) => e.code === 'TENURE_STORE_ERROR'
    && /replace: disk on fire/.test(e.message) && e.cause instanceof Error && e.cause.message === 'replace: disk on fire');
  assert.equal(store.data.get(s.id), before, 'the stored bytes are the same object');
  assert.equal(s.modified, true, 'the pending change is kept');
  assert.equal(s.get('k'), 2);
  failing = 'get';
  await assert.rejects(m.open(s.id), (e) => e.code === 'TENURE_STORE_ERROR' && e.cause.message === 'get: disk on fire');
  // A synchronous throw from a store method is a rejection too.
  const throwing = { ...asyncMemoryStore(), get() { throw new TypeError('sync boom'); } };
  const m2 = new AsyncSessionManager({ store: throwing });
  await assert.rejects(m2.open('A'.repeat(22)), (e) => e.code === 'TENURE_STORE_ERROR' && e.cause instanceof TypeError);
  failing = null;
  await m.commit(s);
  assert.equal((await m.open(s.id)).get('k'), 2);
});

test('store answers of the wrong shape are TENURE_STORE_ERRORs naming the method', async () => {
  const base = asyncMemoryStore();
  const cases = [
    [{ get: async () => 42 }, /store\.get must return .*Uint8Array, a string or null/],
    [{ get: async () => null, insert: async () => 'yes' }, /store\.insert must return .*boolean/],
    [{ get: async () => null, insert: async () => undefined }, /store\.insert must return .*boolean, not undefined/],
    [{ ids: async () => ['a', 7] }, /store\.ids must return .*array of strings/],
    [{ ids: async () => 'abc' }, /store\.ids must return .*array of strings/],
  ];
  for (const [override, pattern] of cases) {
    const m = new AsyncSessionManager({ store: { ...base, ...override } });
    const run = override.ids ? m.count() : override.insert ? m.create() : m.open('A'.repeat(22));
    await assert.rejects(run, (e) => e.code === 'TENURE_STORE_ERROR' && pattern.test(e.message), String(pattern));
  }
  assert.throws(() => new AsyncSessionManager({ store: { get() {}, set() {}, delete() {}, ids() {} } }),
    (e) => e.code === 'TENURE_INVALID_POLICY' && /insert\(\)/.test(e.message));
});

test('commit keeps changes made while it was in flight', async () => {
  const store = asyncMemoryStore({ delay: () => 5 });
  const m = new AsyncSessionManager({ store });
  const s = await m.create();
  s.set('a', 1);
  const pending = m.commit(s);
  s.set('b', 2); // made after the commit began
  await pending;
  assert.equal(s.get('a'), 1);
  assert.equal(s.get('b'), 2);
  assert.equal(s.modified, true, 'b is still to be committed');
  assert.equal((await m.peek(s.id)).get('b'), undefined);
  await m.commit(s);
  assert.deepEqual((await m.peek(s.id)).toObject(), { a: 1, b: 2 });
  assert.equal(s.modified, false);
});

test('every operation, events, metrics and perSession, on an async store and in memory', async () => {
  for (const store of [asyncMemoryStore(), undefined]) {
    const clock = new ManualClock(1_000_000);
    const m = new AsyncSessionManager({ store, clock, idleTimeout: 60_000, absoluteTimeout: null });
    const seen = [];
    for (const e of ['created', 'expired', 'destroyed']) m.on(e, (id) => seen.push([e, id]));
    m.on('regenerated', (a, b) => seen.push(['regenerated', a, b]));
    const carts = m.perSession(() => []);
    const s = await m.create({ principal: 'ann', data: { x: 1 } });
    carts(s).push('item');
    const first = s.id;
    await m.regenerate(s);
    assert.notEqual(s.id, first);
    assert.deepEqual(carts(s), ['item']);
    assert.equal(await m.peek(first), null);
    const t = await m.create({ principal: 'ann' });
    assert.equal((await m.sessionsOf('ann')).length, 2);
    assert.equal((await m.list(null, 10)).sessions.length, 2);
    assert.equal(await m.count(), 2);
    assert.equal(await m.nextDeadline(), 1_000_000 + 60_000);
    const blob = await m.export();
    assert.equal(await m.destroyAllOf('ann', t.id), 1);
    assert.equal(await m.destroy(t.id), true);
    assert.equal(await m.destroy(t.id), false);
    assert.equal(await m.import(blob), 2);
    clock.advance(60_000);
    assert.equal(await m.sweep(), 2);
    assert.equal(await m.open(s.id), null);
    assert.equal(carts.size(), 0);
    const x = await m.metrics();
    assert.equal(x.createdTotal, 2);
    assert.equal(x.destroyedTotal, 2);
    assert.equal(x.expiredTotal, 2);
    assert.equal(x.active, 0);
    assert.deepEqual(seen.slice(0, 3), [['created', first], ['regenerated', first, s.id], ['created', t.id]]);
    assert.equal(seen.filter(([e]) => e === 'expired').length, 2);
    const d = m.draft({ data: { y: 2 } });
    assert.equal(await m.peek(d.id), null, 'a draft is not stored');
    await m.insertDraft(d);
    assert.equal((await m.peek(d.id)).get('y'), 2);
    await assert.rejects(m.insertDraft(d), { code: 'TENURE_STORE_ERROR' });
    assert.equal(await m.destroyAll(), 1);
    await assert.rejects(m.create({ data: { f: () => 1 } }), { code: 'TENURE_INVALID_VALUE' });
    assert.equal(await m.open(42), null);
    const auto = new AsyncSessionManager({ store, autoSweep: 10 });
    assert.ok(auto._timer);
    auto.close();
    assert.equal(auto._timer, null);
  }
});

test('capacity with evictLru and reject works over an async store', async () => {
  const store = asyncMemoryStore();
  const clock = new ManualClock(0);
  const m = new AsyncSessionManager({ store, clock, maxSessions: 2, onFull: 'evictLru' });
  const evicted = [];
  m.on('evicted', (id) => evicted.push(id));
  const a = await m.create();
  clock.advance(1);
  await m.create();
  clock.advance(1);
  await m.create();
  assert.deepEqual(evicted, [a.id]);
  const r = new AsyncSessionManager({ store: asyncMemoryStore(), maxSessions: 1 });
  await r.create();
  await assert.rejects(r.create(), { code: 'TENURE_TOO_MANY_SESSIONS' });
});

test('a sync and an async manager share one record format', async () => {
  const store = asyncMemoryStore({ delay: () => 0 });
  const m = new AsyncSessionManager({ store });
  const s = await m.create({ data: { n: 1 } });
  const syncStore = {
    get: (id) => store.data.get(id) ?? null,
    insert: () => false,
    replace: (id, b, e) => { if (recordVersion(store.data.get(id)) !== e) return false; store.data.set(id, b); return true; },
    delete: (id) => store.data.delete(id),
    ids: () => [...store.data.keys()],
  };
  const sync = new SessionManager({ store: syncStore });
  const x = sync.open(s.id);
  x.increment('n');
  sync.commit(x);
  assert.equal((await m.peek(s.id)).get('n'), 2);
});

test('no Rust panic reaches JS through the async path: hostile input ends as values or Errors', async () => {
  const store = asyncMemoryStore({ delay: () => 0 });
  const m = new AsyncSessionManager({ store });
  for (const id of ['', 'x'.repeat(100_000), '\u0000', '../../etc/passwd', 'é'.repeat(30)]) {
    assert.equal(await m.open(id), null);
    assert.equal(await m.destroy(id), false);
  }
  await assert.rejects(m.import(new Uint8Array(100_000).fill(91)), { code: 'TENURE_DECODE_ERROR' });
  // Corrupt and foreign records in the store: open reports them, scans skip them.
  const s = await m.create({ principal: 'ann' });
  const bad = 'B'.repeat(22);
  store.data.set(bad, new TextEncoder().encode('{broken'));
  store.data.set('C'.repeat(22), store.data.get(s.id));
  await assert.rejects(m.open(bad), (e) => e.code === 'TENURE_STORE_ERROR' && e.message.includes(bad));
  assert.equal((await m.sessionsOf('ann')).length, 1);
  const t = await m.open(s.id);
  t.set('ok', 1);
  await m.commit(t);
  assert.equal((await m.peek(s.id)).get('ok'), 1, 'the module still works');
});
