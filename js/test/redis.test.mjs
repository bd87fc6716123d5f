// tenure/redis against redis-servers of the test's own: both clients, concurrency across
// clients, logout racing commits, Redis going away and coming back, SCRIPT FLUSH, and the
// hash layout shared with Rust (tests/golden/redis/session.json).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import Redis from 'ioredis';
import express from 'express';
import { AsyncSessionManager, SessionManager, ManualClock } from 'tenure';
import { session } from 'tenure/express';
import { redisStore, isRedisStore } from 'tenure/redis';
import { startRedis } from './redis-server.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const quiet = () => {}; // clients emit 'error' while Redis is away; the tests look at the ops

let server;
const opened = [];
async function nodeRedis(options = {}) {
  const c = createClient({ url: server.url, ...options });
  c.on('error', quiet);
  await c.connect();
  opened.push(() => c.destroy ? c.destroy() : c.disconnect());
  return c;
}
function ioredis(options = {}) {
  const c = new Redis(server.port, '127.0.0.1', options);
  c.on('error', quiet);
  opened.push(() => c.disconnect());
  return c;
}
const raw = (c, ...args) => (c.pipeline ? c.call(...args) : c.sendCommand(args));

before(async () => { server = await startRedis(); });
after(async () => {
  for (const close of opened) { try { await close(); } catch { /* gone already */ } }
  await server?.stop();
});

test('redisStore refuses what is not a node-redis or ioredis client, and bad options, by name', async () => {
  for (const bad of [null, undefined, 42, 'redis://x', {}, { get() {}, set() {} }]) {
    assert.throws(() => redisStore(bad), (e) => e instanceof TypeError && /node-redis client/.test(e.message));
  }
  assert.throws(() => redisStore({ isCluster: true, pipeline() {}, call() {} }), /Cluster clients are not supported/);
  const c = ioredis({ lazyConnect: true });
  assert.throws(() => redisStore(c, { prefix: 7 }), (e) => e instanceof TypeError && /prefix must be a string/.test(e.message));
  assert.throws(() => redisStore(c, { graceMs: -1 }), /graceMs must be a non-negative integer/);
  assert.throws(() => redisStore(c, { prefx: 'a:' }), /unknown redisStore option "prefx"/);
  // The prefix is the core's to judge.
  assert.throws(() => new AsyncSessionManager({ store: redisStore(c, { prefix: 'a{b}:' }) }), (e) => e.code === 'TENURE_INVALID_VALUE' && /prefix/.test(e.message));
  assert.throws(() => new AsyncSessionManager({ store: redisStore(c, { prefix: 'x'.repeat(65) }) }), (e) => e.code === 'TENURE_LIMIT_EXCEEDED' && /prefix/.test(e.message));
  // A synchronous manager can't await Redis.
  assert.throws(() => new SessionManager({ store: redisStore(c) }), (e) => e.code === 'TENURE_INVALID_POLICY' && /AsyncSessionManager/.test(e.message));
  const s = redisStore(c, { prefix: 'p:', graceMs: 5 });
  assert.equal(isRedisStore(s), true);
  assert.equal(isRedisStore({}), false);
  assert.deepEqual([s.kind, s.prefix, s.graceMs, s.async], ['ioredis', 'p:', 5, true]);
  assert.equal(redisStore(await nodeRedis()).kind, 'node-redis');
});

test('a reply of a shape Redis never gives fails the operation with TENURE_STORE_ERROR naming it', async () => {
  const fake = { sendCommand: async () => ({ weird: new Date() }) };
  const m = new AsyncSessionManager({ store: redisStore(fake, { prefix: 'fake:' }) });
  await assert.rejects(m.open('AAAAAAAAAAAAAAAAAAAAAA'), (e) => e.code === 'TENURE_STORE_ERROR' && /Redis reply 0\.weird must be null, an integer, a string, an array or an Error, not a Date/.test(e.message));
  const odd = { sendCommand: async () => 'seven' };
  const m2 = new AsyncSessionManager({ store: redisStore(odd) });
  await assert.rejects(m2.count(), (e) => e.code === 'TENURE_STORE_ERROR' && /Redis answered .* with Text\("seven"\)/.test(e.message));
  // A transport failure (not an error reply) fails the operation; its cause is the client's error.
  const down = new Error('connection reset');
  const m3 = new AsyncSessionManager({ store: redisStore({ sendCommand: async () => { throw down; } }) });
  await assert.rejects(m3.count(), (e) => e.code === 'TENURE_STORE_ERROR' && e.cause === down && /the Redis client failed: connection reset/.test(e.message));
});

test('a hostile reply (throwing traps, getters, iterators) fails the operation and leaves the manager usable', async () => {
  const boom = () => { throw new Error('trap!'); };
  const hostile = {
    'a Proxy whose getPrototypeOf throws': new Proxy({}, { getPrototypeOf: boom }),
    'a plain object with a throwing getter': Object.defineProperty({}, 'f', { enumerable: true, get: boom }),
    'a Proxy whose ownKeys throws': new Proxy({}, { ownKeys: boom }),
    'a Map whose iterator throws': Object.assign(new Map([['a', '1']]), { [Symbol.iterator]: boom }),
  };
  for (const [what, reply] of Object.entries(hostile)) {
    let answer = reply;
    const m = new AsyncSessionManager({ store: redisStore({ sendCommand: async () => answer }, { prefix: 'hostile:' }) });
    await assert.rejects(m.open('AAAAAAAAAAAAAAAAAAAAAA'), (e) => e.code === 'TENURE_STORE_ERROR' && /trap!/.test(e.message), what);
    // The same manager answers the next call (before, a throw through Rust left it borrowed
    // for good: "recursive use of an object").
    answer = [];
    assert.equal(await m.open('AAAAAAAAAAAAAAAAAAAAAA'), null, what);
  }
  // An Error reply whose message getter throws still reads as an error reply.
  const err = Object.defineProperty(new Error('x'), 'message', { get: boom });
  const m = new AsyncSessionManager({ store: redisStore({ sendCommand: async () => [err] }) });
  await assert.rejects(m.count(), (e) => e.code === 'TENURE_STORE_ERROR');
  await assert.rejects(m.count(), (e) => e.code === 'TENURE_STORE_ERROR' && !/recursive use/.test(e.message));
});

for (const kind of ['node-redis', 'ioredis']) {
  test(`the whole lifecycle through ${kind}`, async () => {
    const client = kind === 'ioredis' ? ioredis() : await nodeRedis();
    const prefix = `life-${kind}:`;
    const m = new AsyncSessionManager({ store: redisStore(client, { prefix }) });
    const events = [];
    m.on('created', (id) => events.push(['created', id])).on('destroyed', (id) => events.push(['destroyed', id]));
    const s = await m.create({ principal: 'ann', data: { theme: 'dark' } });
    s.increment('n', 2);
    s.set('bytes', new Uint8Array([1, 2, 3]));
    await m.commit(s);
    assert.deepEqual(await raw(client, 'HGET', `${prefix}s:{${s.id}}`, 'd:n'), '2');
    const again = await m.open(s.id);
    assert.deepEqual(again.toObject(), { theme: 'dark', n: 2, bytes: new Uint8Array([1, 2, 3]) });
    const old = s.id;
    await m.regenerate(again);
    assert.notEqual(again.id, old);
    assert.equal(await m.open(old), null);
    assert.equal((await m.sessionsOf('ann')).length, 1);
    assert.equal(await m.count(), 1);
    assert.equal(await m.destroy(again.id), true);
    assert.equal(await m.open(again.id), null);
    assert.equal(await raw(client, 'EXISTS', `${prefix}s:{${again.id}}`), 0);
    assert.deepEqual(events.map((e) => e[0]), ['created', 'destroyed']);
  });
}

test('300 concurrent increments of one session through five clients (node-redis and ioredis) all count', async () => {
  const managers = [];
  for (let i = 0; i < 5; i++) {
    const client = i % 2 ? ioredis() : await nodeRedis();
    managers.push(new AsyncSessionManager({ store: redisStore(client, { prefix: 'race:' }) }));
  }
  const s = await managers[0].create({ data: { n: 0 } });
  await Promise.all(Array.from({ length: 300 }, async (_, i) => {
    const m = managers[i % managers.length];
    const mine = await m.open(s.id);
    mine.increment('n');
    await m.commit(mine);
  }));
  const final = await managers[3].open(s.id);
  assert.equal(final.get('n'), 300);
});

test('a logout racing increments is never undone: later commits fail with TENURE_SESSION_GONE', async () => {
  const a = new AsyncSessionManager({ store: redisStore(await nodeRedis(), { prefix: 'logout:' }) });
  const b = new AsyncSessionManager({ store: redisStore(ioredis(), { prefix: 'logout:' }) });
  const s = await a.create({ principal: 'ann', data: { n: 0 } });
  const copies = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).open(s.id)));
  let gone = 0;
  let landed = 0;
  const commit = async (c, i) => {
    c.increment('n');
    try {
      await (i % 2 ? a : b).commit(c);
      landed += 1;
    } catch (e) {
      assert.equal(e.code, 'TENURE_SESSION_GONE');
      gone += 1;
    }
  };
  // Half race the logout; the other half start once it is done (and must all fail).
  const racing = copies.slice(0, 30).map(async (c, i) => { await sleep(i % 7); await commit(c, i); });
  await sleep(3);
  assert.equal(await b.destroy(s.id), true);
  await Promise.all([...racing, ...copies.slice(30).map((c, i) => commit(c, i))]);
  assert.equal(gone + landed, 60);
  assert.ok(gone >= 30, `${gone} commits failed`);
  assert.equal(await a.open(s.id), null);
  const c = await nodeRedis();
  assert.equal(await c.sendCommand(['EXISTS', `logout:s:{${s.id}}`]), 0, 'the session hash was recreated');
  assert.equal(await c.sendCommand(['SISMEMBER', 'logout:{index}:p:ann', s.id]), 0);
});

test('SCRIPT FLUSH mid-run: writes go on (the core resends the script)', async () => {
  for (const client of [await nodeRedis(), ioredis()]) {
    const m = new AsyncSessionManager({ store: redisStore(client, { prefix: 'flush:' }) });
    const s = await m.create();
    for (let i = 0; i < 5; i++) {
      await raw(client, 'SCRIPT', 'FLUSH');
      s.increment('n');
      await m.commit(s);
    }
    await raw(client, 'SCRIPT', 'FLUSH');
    await Promise.all(Array.from({ length: 20 }, async () => { const c = await m.open(s.id); c.increment('n'); await m.commit(c); }));
    assert.equal((await m.open(s.id)).get('n'), 25);
  }
});

test("the hash is the layout Rust writes (tests/golden/redis/session.json), and JS reads Rust's hash", async () => {
  const golden = JSON.parse(fs.readFileSync(path.join(root, 'tests/golden/redis/session.json'), 'utf8'));
  const client = await nodeRedis();
  const clock = new ManualClock(1_700_000_000_000);
  const m = new AsyncSessionManager({ store: redisStore(client), clock });
  const s = await m.create({ principal: 'ann' });
  s.set('name', 'Ann');
  s.set('cart', [1, 2.5]);
  s.increment('views', 3);
  s.flash('info', 'welcome');
  await m.commit(s);
  const fields = await client.sendCommand(['HGETALL', `tenure:s:{${s.id}}`]);
  assert.deepEqual(Object.entries(fields).sort(), golden.fields);
  // Rust's own hash (its id), written field by field, opened by JS.
  await client.sendCommand(['HSET', `tenure:s:{${golden.id}}`, ...golden.fields.flat()]);
  await client.sendCommand(['ZADD', 'tenure:{index}:ids', '0', golden.id]);
  const rust = await m.peek(golden.id);
  assert.deepEqual(rust.toObject(), { cart: [1, 2.5], name: 'Ann', views: 3 });
  assert.equal(rust.principal, 'ann');
  assert.equal(rust.version, 2);
  assert.deepEqual(rust.takeFlashes(), [['info', 'welcome']]);
});

// An Express app on a manager over `client`; GET /n increments and answers the count.
function app(manager) {
  const a = express();
  a.use(session({ secret: 'a-secret-of-at-least-32-bytes-long!!', manager, cookie: { secure: false } }));
  a.get('/n', (req, res) => { req.tenure.increment('n'); res.json({ n: req.session.n }); });
  // eslint-disable-next-line no-unused-vars
  a.use((err, req, res, next) => res.status(503).json({ error: err.code ?? err.message }));
  return a;
}
async function get(port, cookie) {
  const res = await fetch(`http://127.0.0.1:${port}/n`, { headers: cookie ? { cookie } : {} });
  return { status: res.status, body: await res.json().catch(() => null), cookie: res.headers.get('set-cookie')?.split(';')[0] };
}

test('Redis stopped mid-run: operations reject with TENURE_STORE_ERROR, Express answers 5xx, service resumes on restart', async () => {
  const own = await startRedis();
  const port = own.port;
  let redis = own;
  const nr = createClient({ url: own.url, disableOfflineQueue: true, socket: { reconnectStrategy: () => 50 } });
  nr.on('error', quiet);
  await nr.connect();
  const io = new Redis(port, '127.0.0.1', { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
  io.on('error', quiet);
  try {
    const managers = [nr, io].map((c) => new AsyncSessionManager({ store: redisStore(c, { prefix: 'down:' }) }));
    const web = http.createServer(app(managers[0]));
    await new Promise((r) => web.listen(0, '127.0.0.1', r));
    const webPort = web.address().port;
    try {
      const first = await get(webPort);
      assert.equal(first.status, 200);
      assert.deepEqual(first.body, { n: 1 });
      assert.equal((await get(webPort, first.cookie)).body.n, 2);
      const s = await managers[1].open((await managers[0].list()).sessions[0].id);
      await redis.stop();
      for (const m of managers) {
        await assert.rejects(m.open(s.id), (e) => e.code === 'TENURE_STORE_ERROR' && e.cause instanceof Error);
        s.increment('n');
        await assert.rejects(m.commit(s), (e) => e.code === 'TENURE_STORE_ERROR');
        assert.equal(s.modified, true, 'the pending change is kept');
      }
      const down = await get(webPort, first.cookie);
      assert.ok(down.status >= 500, `status ${down.status}`);
      assert.deepEqual(down.body, { error: 'TENURE_STORE_ERROR' });
      assert.ok((await get(webPort)).status >= 500);
      // Back on the same port (empty: no persistence); the clients reconnect on their own.
      redis = await own.restart();
      const deadline = Date.now() + 10_000;
      let back;
      while (Date.now() < deadline) {
        back = await get(webPort);
        if (back.status === 200) break;
        await sleep(50);
      }
      assert.equal(back.status, 200);
      assert.deepEqual(back.body, { n: 1 }, 'a fresh session (the old Redis kept nothing)');
      assert.equal((await get(webPort, back.cookie)).body.n, 2);
      let ok = false;
      while (!ok && Date.now() < deadline) {
        try { await managers[1].count(); ok = true; } catch { await sleep(50); }
      }
      assert.equal(await managers[1].count(), 1);
    } finally {
      await new Promise((r) => web.close(r));
    }
  } finally {
    await nr.destroy?.();
    io.disconnect();
    await redis.stop();
  }
});

test('tenure/express given just a Redis store makes an AsyncSessionManager on it', async () => {
  const client = ioredis();
  const a = express();
  a.use(session({ secret: 'a-secret-of-at-least-32-bytes-long!!', store: redisStore(client, { prefix: 'mw:' }), cookie: { secure: false } }));
  a.get('/n', (req, res) => { req.tenure.increment('n'); res.json({ n: req.session.n, async: req.sessionManager instanceof AsyncSessionManager }); });
  const web = http.createServer(a);
  await new Promise((r) => web.listen(0, '127.0.0.1', r));
  try {
    const first = await get(web.address().port);
    assert.deepEqual(first.body, { n: 1, async: true });
    assert.deepEqual((await get(web.address().port, first.cookie)).body, { n: 2, async: true });
    assert.equal((await client.keys('mw:s:*')).length, 1);
  } finally {
    await new Promise((r) => web.close(r));
  }
});

test('replies in every shape the binding accepts: Map, Buffer, BigInt, {error}, and a cycle refused', async () => {
  const real = await nodeRedis();
  // Hands node-redis's RESP3 replies over in other shapes: maps as Map, strings as Buffers,
  // integers as BigInt, error replies as { error } objects.
  const reshape = (v) => {
    if (typeof v === 'string') return Buffer.from(v);
    if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
    if (Array.isArray(v)) return v.map(reshape);
    if (v && typeof v === 'object') return new Map(Object.entries(v).map(([k, x]) => [k, reshape(x)]));
    return v;
  };
  const odd = {
    sendCommand: (args) => real.sendCommand(args).then(reshape, (e) => { if (e.constructor.name === 'SimpleError') return { error: e.message }; throw e; }),
  };
  const m = new AsyncSessionManager({ store: redisStore(odd, { prefix: 'shapes:' }) });
  const s = await m.create({ principal: 'bo', data: { a: 'x' } });
  await real.sendCommand(['SCRIPT', 'FLUSH']); // the next write gets NOSCRIPT, as { error }
  s.increment('n', 5);
  await m.commit(s);
  assert.deepEqual((await m.open(s.id)).toObject(), { a: 'x', n: 5 });
  assert.equal(typeof (await m.nextDeadline()), 'number');
  // A reply that contains itself is refused, not followed.
  const loop = [];
  loop.push(loop);
  const cyc = new AsyncSessionManager({ store: redisStore({ sendCommand: async () => loop }) });
  await assert.rejects(cyc.open('AAAAAAAAAAAAAAAAAAAAAA'), (e) => e.code === 'TENURE_STORE_ERROR' && /nests deeper than 8/.test(e.message));
  // Error replies other than NOSCRIPT fail the operation, naming Redis's message.
  const wrong = new AsyncSessionManager({ store: redisStore({ sendCommand: async () => { throw Object.assign(new (class ErrorReply extends Error {})('WRONGTYPE Operation against a key holding the wrong kind of value')); } }) });
  await assert.rejects(wrong.count(), (e) => e.code === 'TENURE_STORE_ERROR' && /Redis refused a command: WRONGTYPE/.test(e.message));
});
