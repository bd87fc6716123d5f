// Property tests of the value conversions with hostile objects (fast-check, fixed seeds):
// every call either works or throws a clear error (a TypeError or a TENURE_* code), and the
// manager and the session stay usable afterwards: no "recursive use of an object detected"
// (a JS exception thrown through a Rust frame leaves the object borrowed) and no "memory
// access out of bounds" (a non-string handed to wasm-bindgen's string glue).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SessionManager, WebConfig } from 'tenure';

const RUNS = { seed: 20261123, numRuns: 200 };

function revoked() {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

const boom = () => { throw new Error('boom'); };

// Objects that fight back, each made fresh.
const hostile = fc.constantFrom(
  () => revoked(),
  () => [revoked()],
  () => ({ a: revoked() }),
  () => ({ get x() { return boom(); } }),
  () => Object.defineProperty({}, 'y', { enumerable: true, get: boom }),
  () => new Proxy({}, { getPrototypeOf: boom }),
  () => new Proxy({}, { ownKeys: boom }),
  () => new Proxy({ a: 1 }, { get: boom }),
  () => new Proxy([1, 2, 3], { get(t, k) { if (k === '1') boom(); return t[k]; } }),
  () => new Proxy([1], { has: boom, get: (t, k) => (k === 'length' ? boom() : t[k]) }),
  () => new Proxy(new Map([['a', 1]]), {}),
  () => new Map([[1, 'not a string key']]),
  () => new Map([['k', revoked()]]),
  () => { const m = new Map([['a', 1]]); m[Symbol.iterator] = boom; return m; },
  () => { const a = [1, 2]; a[Symbol.iterator] = boom; return a; },
  () => Object.create({ inherited: 1 }),
  () => Object.assign(Object.create(null), { fine: 1 }),
  () => { const a = []; a.push(a); return a; },
  () => { const o = {}; o.self = o; return o; },
  () => { const shared = { big: 'x'.repeat(1000) }; return Array.from({ length: 50 }, () => shared); },
  () => new Array(1e5).fill(0),
  () => 'x'.repeat(300 * 1024),
  () => '\ud800',
  () => 'a\udfffb',
  () => 2n ** 53n + 1n,
  () => 2n ** 63n,
  () => -(2n ** 63n) - 1n,
  () => 2 ** 53 + 2,
  () => NaN,
  () => -0,
  () => Symbol('s'),
  () => () => 1,
  () => new Date(0),
  () => new WeakMap(),
  () => new Uint16Array([1, 2]),
  () => new Uint8Array(new SharedArrayBuffer(4)),
  () => Object.freeze({ frozen: [1, { deep: true }] }),
);

// Any value, hostile or not, nested a little.
const anyValue = fc.oneof(
  hostile.map((make) => make),
  fc.jsonValue({ maxDepth: 3 }).map((v) => () => v),
  fc.bigInt().map((b) => () => b),
  fc.string({ unit: 'binary' }).map((s) => () => s),
  fc.double().map((d) => () => d),
);

function clearError(e) {
  return e instanceof TypeError || (typeof e?.code === 'string' && e.code.startsWith('TENURE_'));
}

function attempt(f) {
  try {
    f();
    return null;
  } catch (e) {
    assert.ok(clearError(e), `unclear error: ${e?.constructor?.name}: ${e?.message}`);
    assert.doesNotMatch(String(e?.message), /recursive use|out of bounds|unreachable/);
    return e;
  }
}

// The manager and the session still work, and the session still holds what it held.
function stillUsable(m, s, marker) {
  s.set('marker', marker);
  assert.equal(s.get('marker'), marker);
  m.commit(s);
  const again = m.open(s.id);
  assert.equal(again.get('marker'), marker);
  assert.equal(again.increment('n', 1), (s.get('n') ?? 0) + 1);
  m.commit(again);
}

test('hostile values into set/update/create/increment: a clear error or a stored value', () => {
  const m = new SessionManager();
  const s = m.create({ principal: 'ann' });
  let marker = 0;
  fc.assert(
    fc.property(anyValue, fc.constantFrom('set', 'update', 'create', 'increment', 'createData'), (make, how) => {
      const v = make();
      const before = JSON.stringify(s.keys());
      const err = attempt(() => {
        if (how === 'set') s.set('k', v);
        else if (how === 'update') s.update({ k: v });
        else if (how === 'create') m.create({ data: { k: v } });
        else if (how === 'createData') m.create({ data: v });
        else s.increment('counter', v);
      });
      if (err && how !== 'create' && how !== 'createData') {
        // A refused value changes nothing.
        assert.equal(JSON.stringify(s.keys()), before);
      }
      if (!err && how === 'set') {
        // What was stored reads back as a clean value (no proxy, no getter).
        const back = s.get('k');
        assert.doesNotThrow(() => structuredClone(back));
      }
      marker += 1;
      stillUsable(m, s, marker);
    }),
    RUNS,
  );
});

test('wrong argument types: a clear error, never corrupted memory', () => {
  const m = new SessionManager();
  const s = m.create();
  const args = fc.oneof(
    hostile.map((make) => make),
    fc.constantFrom(() => 5, () => {}, () => null, () => undefined, () => [], () => ({}), () => true, () => 1n),
  );
  let marker = 0;
  fc.assert(
    fc.property(
      args,
      fc.constantFrom('get', 'set', 'has', 'delete', 'increment', 'flash', 'setPrincipal', 'createPrincipal',
        'destroyAllOf', 'sessionsOf', 'open', 'destroy', 'commit', 'regenerate'),
      (make, how) => {
        const a = make();
        attempt(() => {
          switch (how) {
            case 'get': s.get(a); break;
            case 'set': s.set(a, 1); break;
            case 'has': s.has(a); break;
            case 'delete': s.delete(a); break;
            case 'increment': s.increment(a, 1); break;
            case 'flash': s.flash(a, a); break;
            case 'setPrincipal': s.setPrincipal(a); break;
            case 'createPrincipal': m.create({ principal: a }); break;
            case 'destroyAllOf': m.destroyAllOf(a); break;
            case 'sessionsOf': m.sessionsOf(a); break;
            case 'open': m.open(a); break;
            case 'destroy': m.destroy(a); break;
            case 'commit': if (a instanceof Object && !(typeof a === 'function')) return; m.commit(a); break;
            case 'regenerate': if (a instanceof Object && !(typeof a === 'function')) return; m.regenerate(a); break;
            default: throw new Error(how);
          }
        });
        // setPrincipal(null) is legal: it logs out; the session stays usable either way.
        marker += 1;
        stillUsable(m, s, marker);
      },
    ),
    RUNS,
  );
});

test('lone surrogates in keys and values are refused; well-formed strings round-trip', () => {
  const m = new SessionManager();
  const wellFormed = (x) => new TextDecoder().decode(new TextEncoder().encode(x)) === x;
  // fast-check's 'binary' unit draws whole code points only: lone surrogates are mixed in.
  const unit = fc.oneof(fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));
  const text = fc.string({ unit, maxLength: 6 });
  let refused = 0;
  fc.assert(
    fc.property(text, text, (k, v) => {
      const s = m.create();
      const err = attempt(() => s.set(k, v));
      // A lone surrogate would become U+FFFD: two different strings, one stored string.
      assert.equal(err === null, wellFormed(k) && wellFormed(v), JSON.stringify([k, v]));
      if (err) {
        refused += 1;
        assert.equal(err.code, 'TENURE_INVALID_VALUE');
        assert.match(err.message, /lone surrogate/);
        assert.deepEqual(s.keys(), []);
        return;
      }
      m.commit(s);
      assert.equal(m.open(s.id).get(k), v);
    }),
    RUNS,
  );
  assert.ok(refused > 20 && refused < 190, `${refused} of 200 refused`);
});

test('BigInt beyond 64 bits is refused with LIMIT_EXCEEDED; within, it round-trips exactly', () => {
  const m = new SessionManager();
  const s = m.create();
  fc.assert(
    fc.property(fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }), (b) => {
      const fits = b >= -(2n ** 63n) && b < 2n ** 63n;
      const err = attempt(() => s.set('b', b));
      assert.equal(err === null, fits, String(b));
      if (err) assert.equal(err.code, 'TENURE_LIMIT_EXCEEDED');
      else assert.equal(BigInt(s.get('b')), b);
    }),
    RUNS,
  );
  stillUsable(m, s, 1);
});

test('WebConfig.find with hostile cookie-header arrays: a clear error, and no more than the core reads', () => {
  const w = new WebConfig({ secrets: 'x'.repeat(32), transport: 'cookie', cookie: { secure: false } });
  const lengthThrows = new Proxy(['sid=1'], { get: (t, k) => (k === 'length' ? boom() : t[k]) });
  for (const headers of [revoked(), new Proxy([], { get: boom }), lengthThrows, [revoked()], [1, 2]]) {
    const err = attempt(() => w.find(headers, null));
    assert.equal(err?.code, 'TENURE_INVALID_VALUE', String(err));
  }
  // A huge (or lying) array: only the first MAX_COOKIE_HEADERS (16) items are read.
  let reads = 0;
  const huge = new Proxy(new Array(10_000_000).fill('a=1'), {
    get(t, k) { if (/^\d+$/.test(String(k))) reads += 1; return t[k]; },
  });
  assert.equal(w.find(huge, null).id ?? null, null);
  assert.equal(reads, 16);
  // The config still works afterwards.
  const token = w.token('AAAAAAAAAAAAAAAAAAAAAA');
  assert.equal(new WebConfig({ secrets: 'x'.repeat(32), transport: 'header' }).find(null, `Bearer ${token}`).id, 'AAAAAAAAAAAAAAAAAAAAAA');
});

// A working synchronous store, then broken in one way.
class MemStore {
  constructor() { this.m = new Map(); }
  get(id) { return this.m.get(id) ?? null; }
  insert(id, b) { if (this.m.has(id)) return false; this.m.set(id, b); return true; }
  replace(id, b) { if (!this.m.has(id)) return false; this.m.set(id, b); return true; }
  delete(id) { return this.m.delete(id); }
  ids() { return [...this.m.keys()]; }
}

test('host stores whose methods or answers are Proxies: TENURE_STORE_ERROR, and the manager lives on', () => {
  const breakages = {
    'get is a throwing Proxy': (s) => { s.get = new Proxy(s.get, { apply: boom }); },
    'insert is a throwing Proxy': (s) => { s.insert = new Proxy(s.insert, { apply: boom }); },
    'ids returns a throwing Proxy': (s) => { s.ids = () => new Proxy([], { get: boom }); },
    'ids returns a revoked Proxy': (s) => { s.ids = () => revoked(); },
    'get returns a Proxy over the bytes': (s) => {
      const get = s.get.bind(s);
      s.get = (id) => { const b = get(id); return b && new Proxy(b, { get: boom }); };
    },
    'a method throws a revoked Proxy': (s) => { s.get = () => { throw revoked(); }; },
  };
  for (const [name, breakIt] of Object.entries(breakages)) {
    const store = new MemStore();
    const m = new SessionManager({ store });
    const s = m.create();
    s.set('a', 1);
    m.commit(s);
    breakIt(store);
    for (const op of [() => m.create(), () => m.open(s.id), () => m.count(), () => m.sweep(), () => m.list(null, 10)]) {
      const err = attempt(op);
      if (err) assert.equal(err.code, 'TENURE_STORE_ERROR', `${name}: ${err.message}`);
    }
    // Mended, the same manager works: no "recursive use of an object detected".
    Object.assign(store, { get: MemStore.prototype.get, insert: MemStore.prototype.insert, ids: MemStore.prototype.ids });
    assert.equal(m.open(s.id).get('a'), 1, name);
    m.create();
  }
  // A store object whose traps throw is refused at construction, by name.
  const proxied = new Proxy(new MemStore(), { get: (t, k) => (k === 'get' ? boom() : Reflect.get(t, k)) });
  assert.throws(() => new SessionManager({ store: proxied }), { code: 'TENURE_INVALID_POLICY', message: /reading store.get threw: boom/ });
});

test('a Proxy over a Uint8Array value: a clear error, not a dead session', () => {
  const m = new SessionManager();
  const s = m.create();
  const err = attempt(() => s.set('b', new Proxy(new Uint8Array(4), { get: boom })));
  assert.equal(err?.code, 'TENURE_INVALID_VALUE');
  stillUsable(m, s, 'after the proxy');
  // A genuine one is stored, its length paid for before the copy.
  s.set('b', new Uint8Array([1, 2, 3]));
  assert.deepEqual([...s.get('b')], [1, 2, 3]);
  assert.throws(() => s.set('big', new Uint8Array(300 * 1024)), { code: 'TENURE_LIMIT_EXCEEDED' });
});
