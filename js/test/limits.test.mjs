// Issue #16: the value limits stop the conversion of a JS value early (the walk charges the
// core's Budget as it goes), so a refusal costs at most the limit, not the size of the value;
// and a lone surrogate is refused instead of silently becoming U+FFFD.
// The bounds of work are asserted by counting the reads a Proxy sees, never by timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionManager } from 'tenure';

const refused = (f, code, re) => assert.throws(f, (e) => e.code === `TENURE_${code}` && re.test(e.message));

// `target` behind a Proxy that counts every property read.
function counted(target) {
  const seen = { reads: 0 };
  const proxy = new Proxy(target, { get(t, k, r) { seen.reads += 1; return Reflect.get(t, k, r); } });
  return { proxy, seen };
}

test('a 10-million-element array is refused from its length, before any element is read', () => {
  const m = new SessionManager();
  const s = m.create();
  // Before: Array.from copied all 10M elements (5.7 s) and the size was measured after.
  const { proxy, seen } = counted(new Array(10_000_000).fill(1));
  refused(() => s.set('big', proxy), 'LIMIT_EXCEEDED', /session\["big"\]: larger than max_data_bytes \(262144/);
  assert.ok(seen.reads <= 2, `${seen.reads} reads`);
  assert.equal(s.has('big'), false);
  // create({ data }) and update() take the same walk.
  const again = counted(new Array(10_000_000).fill(1));
  refused(() => m.create({ data: { big: again.proxy } }), 'LIMIT_EXCEEDED', /data\["big"\]: larger than max_data_bytes/);
  refused(() => s.update({ big: again.proxy }), 'LIMIT_EXCEEDED', /update\["big"\]: larger than max_data_bytes/);
  assert.ok(again.seen.reads <= 4, `${again.seen.reads} reads`);
  assert.equal(m.count(), 1);
});

test('shared references are charged each time they are reached: 2^24 leaves stop at the limit', () => {
  const m = new SessionManager({ maxDataBytes: 4096, maxDepth: 30 });
  const s = m.create();
  // 24 levels of [x, x]: a few hundred bytes of JS, 2^24 leaves once copied (before: 122 s
  // and 1.1 GB of wasm memory that never shrinks).
  const leaf = counted([1]);
  let x = leaf.proxy;
  for (let i = 0; i < 24; i++) x = [x, x];
  refused(() => s.set('tree', x), 'LIMIT_EXCEEDED', /session\["tree"\](\[[01]\])+: larger than max_data_bytes \(4096/);
  // Each leaf costs at least 2 bytes of budget (its brackets): at most ~2048 leaves are read.
  assert.ok(leaf.seen.reads < 4096, `${leaf.seen.reads} reads of the shared leaf`);
  assert.ok(leaf.seen.reads > 100, 'the walk reached the leaves');
  assert.equal(s.has('tree'), false);
  s.set('small', [x.length, 'fine']); // the session still works
  m.commit(s);
});

test('a Map and a plain object are refused from their size before their entries are read', () => {
  const m = new SessionManager({ maxDataBytes: 1000 });
  const s = m.create();
  const big = new Map(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]));
  refused(() => s.set('map', big), 'LIMIT_EXCEEDED', /session\["map"\]: larger than max_data_bytes \(1000/);
  const { proxy, seen } = counted(Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i])));
  refused(() => s.set('obj', proxy), 'LIMIT_EXCEEDED', /session\["obj"\]: larger than max_data_bytes/);
  assert.equal(seen.reads, 0);
  // A long string is measured before it is copied into wasm memory.
  refused(() => s.set('str', 'x'.repeat(50_000_000)), 'LIMIT_EXCEEDED', /session\["str"\]: larger than max_data_bytes/);
  // What fits is stored as before, to the byte of the limit (the core's exact count of the
  // session's data decides there; the budget never refuses first).
  const fits = 'y'.repeat(987);
  refused(() => s.set('fits', `${fits}y`), 'LIMIT_EXCEEDED', /"fits": max_data_bytes exceeded \(1001 > 1000\)/);
  s.set('fits', fits);
  m.commit(s);
  assert.equal(m.open(s.id).get('fits'), fits);
});

test('an array whose Proxy lies about its length yields no more items than declared', () => {
  const m = new SessionManager();
  const s = m.create();
  let reads = 0;
  const liar = new Proxy([], {
    get(t, k) {
      if (k === 'length') return 3;
      if (typeof k === 'string' && /^\d+$/.test(k)) { reads += 1; return Number(k); }
      return Reflect.get(t, k);
    },
  });
  s.set('liar', liar);
  assert.deepEqual(s.get('liar'), [0, 1, 2]);
  assert.equal(reads, 3);
  const badLength = new Proxy([], { get: (t, k) => (k === 'length' ? -1 : Reflect.get(t, k)) });
  refused(() => s.set('bad', badLength), 'INVALID_VALUE', /session\["bad"\]: .*length is not a valid length/);
});

test('a lone surrogate is refused by name in keys, values, nested keys and principals', () => {
  const m = new SessionManager();
  const s = m.create();
  // Before: both became U+FFFD, so two different keys were one key (a silent change of data).
  refused(() => s.set('a\ud800', 1), 'INVALID_VALUE', /^session key "a\\ud800": a string with a lone surrogate/);
  refused(() => s.set('a\udc00', 2), 'INVALID_VALUE', /lone surrogate/);
  refused(() => s.set('v', 'x\ud800'), 'INVALID_VALUE', /session\["v"\] "x\\ud800": a string with a lone surrogate/);
  refused(() => s.set('n', { list: ['ok', 'b\udfff'] }), 'INVALID_VALUE', /session\["n"\]\["list"\]\[1\] "b\\udfff": a string/);
  refused(() => s.set('k', { ['\udbff']: 1 }), 'INVALID_VALUE', /session\["k"\]: a key "\\udbff": a string with a lone surrogate/);
  refused(() => s.set('m', new Map([['\ud800', 1]])), 'INVALID_VALUE', /lone surrogate/);
  refused(() => s.get('a\ud800'), 'INVALID_VALUE', /lone surrogate/);
  refused(() => m.create({ principal: 'user\ud800' }), 'INVALID_VALUE', /principal "user\\ud800": a string with a lone surrogate/);
  refused(() => m.create({ principal: 'u', data: { lone: '\ud800x' } }), 'INVALID_VALUE', /data\["lone"\]/);
  assert.deepEqual(s.keys(), []);
  assert.equal(m.count(), 1);
  // A real U+FFFD and well-formed pairs are data like any other.
  s.set('\ufffd', 'a \ufffd b \ud83d\ude00');
  assert.equal(s.get('\ufffd'), 'a \ufffd b \ud83d\ude00');
});

test('stringifyJson writes a BigInt as its exact digits; everything else as JSON.stringify does', async () => {
  const { stringifyJson } = await import('tenure');
  const m = new SessionManager();
  const s = m.create();
  s.set('big', 2n ** 60n);
  s.set('neg', -(2n ** 63n));
  const value = { big: s.get('big'), nested: [s.get('neg'), 1, 'x'], s: 'text "q"', u: undefined };
  assert.throws(() => JSON.stringify(value), TypeError); // what res.json did: a 500
  const text = stringifyJson(value);
  assert.equal(text, '{"big":1152921504606846976,"nested":[-9223372036854775808,1,"x"],"s":"text \\"q\\""}');
  // A string that looks like the marker of the fallback path stays a string.
  const tricky = { a: '\u0001tenure-bigint-00000000000000000000000000000000:5', b: 7n };
  assert.deepEqual(JSON.parse(stringifyJson(tricky).replace('7', '"7"')), { a: tricky.a, b: '7' });
  // Without BigInts: JSON.stringify's text, replacer and space included.
  const plain = { a: [1, { b: null }], c: 'ü' };
  assert.equal(stringifyJson(plain, null, 2), JSON.stringify(plain, null, 2));
  assert.equal(stringifyJson({ a: 1, b: 2n }, (k, v) => (k === 'a' ? undefined : v)), '{"b":2}');
});
