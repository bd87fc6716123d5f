// Handle lifetimes and per-call work: tenure/express frees the wasm objects it makes when a
// response ends, events reach listeners registered at any time, and ids stay unique when
// the randomness is drawn in blocks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import express from 'express';
import { SessionManager, AsyncSessionManager, Session, Incoming } from 'tenure';
import { session } from 'tenure/express';

const SECRET = 'test-secret-0123456789-0123456789-abcdef';

async function listen(handler) {
  const server = http.createServer(handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  return { base, close: () => new Promise((r) => server.close(r)) };
}

// Counts free() calls of sessions and Incomings while f runs.
async function countFrees(f) {
  const counts = { session: 0, incoming: 0 };
  const sFree = Session.prototype.free;
  const iFree = Incoming.prototype.free;
  Session.prototype.free = function free() { counts.session += 1; return sFree.call(this); };
  Incoming.prototype.free = function free() { counts.incoming += 1; return iFree.call(this); };
  try {
    await f();
  } finally {
    Session.prototype.free = sFree;
    Incoming.prototype.free = iFree;
  }
  return counts;
}

for (const async of [false, true]) {
  test(`tenure/express frees its sessions and Incomings when the response ends (${async ? 'async' : 'sync'} manager)`, async () => {
    const manager = async ? new AsyncSessionManager({}) : new SessionManager({});
    const app = express();
    app.use(session({ secret: SECRET, manager, cookie: { secure: false } }));
    let afterEnd = [];
    app.get('/inc', (req, res) => {
      const n = req.tenure.increment('n');
      res.on('close', () => setTimeout(() => afterEnd.push(req.session.n), 10));
      res.json({ n });
    });
    app.get('/none', (req, res) => res.json({ ok: true }));
    app.get('/drop', (req, res) => { req.session.destroy(); res.json({ ok: true }); });
    const { base, close } = await listen(app);
    try {
      let cookie;
      const counts = await countFrees(async () => {
        const first = await fetch(`${base}/inc`);
        cookie = first.headers.get('set-cookie').split(';')[0];
        assert.deepEqual(await first.json(), { n: 1 });
        for (let i = 2; i <= 4; i++) {
          const r = await fetch(`${base}/inc`, { headers: { cookie } });
          assert.deepEqual(await r.json(), { n: i });
        }
        await (await fetch(`${base}/none`)).json();
        await (await fetch(`${base}/drop`, { headers: { cookie } })).json();
        await new Promise((r) => setTimeout(r, 50));
      });
      // /inc made a draft once and opened a session three times; /none made a draft (never
      // stored: req.session always exists, as with express-session); /drop opened one.
      assert.equal(counts.session, 6);
      // One Incoming per request.
      assert.equal(counts.incoming, 6);
      // After the response, req.session is plain data: reading it touches no freed object.
      assert.deepEqual(afterEnd, [1, 2, 3, 4]);
    } finally {
      await close();
    }
  });
}

test('events reach a listener registered after operations ran without one', () => {
  const m = new SessionManager({});
  const early = m.create();
  m.commit(early);
  const seen = [];
  m.on('created', (id) => seen.push(['created', id]));
  m.on('destroyed', (id) => seen.push(['destroyed', id]));
  const s = m.create();
  m.destroy(early.id);
  assert.deepEqual(seen, [['created', s.id], ['destroyed', early.id]]);
});

test('a perSession registry drops its objects without any on() listener of the user', () => {
  const m = new SessionManager({});
  const carts = m.perSession(() => []);
  const s = m.create();
  carts(s).push('book');
  assert.equal(carts.size(), 1);
  m.destroy(s.id);
  assert.equal(carts.size(), 0);
});

test('ids stay distinct when the randomness is drawn in blocks', () => {
  const m = new SessionManager({});
  const ids = new Set();
  for (let i = 0; i < 5000; i++) {
    const s = m.create();
    ids.add(s.id);
    s.free();
  }
  assert.equal(ids.size, 5000);
  const big = new SessionManager({ idBytes: 64 });
  const longIds = new Set();
  for (let i = 0; i < 100; i++) longIds.add(big.create().id);
  assert.equal(longIds.size, 100);
  assert.ok([...longIds].every((id) => id.length === 86));
});

test('create with a flat object: the JSON fast path stores what the general conversion stores', () => {
  const m = new SessionManager({ maxKeyBytes: 16 });
  const cases = [
    { a: 'x', n: 3, f: 1.5, t: true, z: null, u: undefined },
    { neg: -0, big: 2 ** 53 - 1, tiny: 1e-7, huge: 1e300, exp: 123456789.125 },
    { beyondSafe: 2 ** 53 + 2, minus: -(2 ** 60) }, // not safe integers: the general path
    { uni: 'héllo ✓ 𝄞', quote: '"\\\n\t', empty: '', '': 'empty key' },
    { lone: '\ud800x' }, // a lone surrogate: JSON text the core refuses, so the general path
    { $b: 'AAAA', $$x: 1 }, // keys the JSON form escapes: the general path
  ];
  for (const data of cases) {
    const fast = m.create({ data });
    const slow = m._native.create(undefined, data);
    assert.deepEqual(fast.toObject(), slow.toObject(), JSON.stringify(data));
    for (const k of fast.keys()) assert.deepEqual(fast.get(k), slow.get(k), k);
  }
  const draft = m.draft({ data: { a: 1 } });
  assert.equal(draft.get('a'), 1);
  assert.equal(m.open(draft.id), null); // a draft is not stored
  // Refusals are the general path's: same code, nothing stored.
  const before = m.count();
  assert.throws(() => m.create({ data: { 'a-key-longer-than-16-bytes': 1 } }), { code: 'TENURE_LIMIT_EXCEEDED' });
  assert.throws(() => m.create({ data: { nan: NaN } }), { code: 'TENURE_INVALID_VALUE' });
  assert.equal(m.count(), before);
});
