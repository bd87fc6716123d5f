// Property tests of the value conversions with hostile objects (fast-check, fixed seeds):
// every call either works or throws a clear error (a TypeError or a TENURE_* code), and the
// manager and the session stay usable afterwards: no "recursive use of an object detected"
// (a JS exception thrown through a Rust frame leaves the object borrowed) and no "memory
// access out of bounds" (a non-string handed to wasm-bindgen's string glue).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SessionManager } from 'tenure';

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
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 8 }), (k, v) => {
      const s = m.create();
      const err = attempt(() => s.set(k, v));
      // A lone surrogate would become U+FFFD: two different strings, one stored string.
      assert.equal(err === null, wellFormed(k) && wellFormed(v), JSON.stringify([k, v]));
      if (err) {
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
