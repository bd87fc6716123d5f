// Node's FileStore at 1,000 and 30,000 sessions, with its index and with the index methods
// hidden (the core then reads every record, as before the index existed), both in this run:
// create, count, nextDeadline, sessionsOf and a sweep of 1 % expired sessions. The store is
// synchronous, so each figure is also how long the event loop is blocked. Medians of 5
// rounds in ms, printed, never asserted.
//
// Run: node js/bench/file-store.mjs (TENURE_BENCH_SIZES=1000,30000)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileStore, SessionManager, ManualClock } from '../src/index.mjs';

const sizes = (process.env.TENURE_BENCH_SIZES ?? '1000,30000').split(',').map(Number).filter(Boolean);
const START = 1_700_000_000_000;
const MIN = 60_000;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (f) => { const t = process.hrtime.bigint(); f(); return Number(process.hrtime.bigint() - t) / 1e6; };

/** The byte protocol only: what a store without the index methods offers. */
const unindexed = (files) => ({
  get: (id) => files.get(id),
  insert: (id, b) => files.insert(id, b),
  replace: (id, b, e) => files.replace(id, b, e),
  delete: (id, e) => files.delete(id, e),
  ids: () => files.ids(),
});

/** n records written straight into `dir` (made by a manager over an in-memory host store),
 * as a folder of an older version would hold them: no index yet. */
function fill(dir, n) {
  const map = new Map();
  const store = {
    get: (id) => map.get(id) ?? null,
    insert: (id, b) => (map.has(id) ? false : (map.set(id, b), true)),
    replace: (id, b) => (map.set(id, b), true),
    delete: (id) => map.delete(id),
    ids: () => [...map.keys()],
  };
  const m = new SessionManager({ store, clock: new ManualClock(START) });
  for (let i = 0; i < n; i++) m.create({ principal: i % 1000 === 0 ? 'ann' : undefined });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [id, b] of map) fs.writeFileSync(path.join(dir, `${id}.json`), b, { mode: 0o600 });
}

function measure(n, store) {
  const clock = new ManualClock(START);
  const m = new SessionManager({ store, clock, idleTimeout: MIN });
  const r = { create: [], count: [], nextDeadline: [], sessionsOf: [], sweep: [] };
  for (let round = 0; round < 5; round++) {
    const due = n / 100;
    r.create.push(time(() => { for (let i = 0; i < due; i++) m.create(); }) / due);
    r.count.push(time(() => m.count()));
    r.nextDeadline.push(time(() => m.nextDeadline()));
    r.sessionsOf.push(time(() => m.sessionsOf('ann')));
    clock.advance(2 * MIN);
    let swept = 0;
    r.sweep.push(time(() => { swept = m.sweep(); }));
    if (swept !== due) throw new Error(`swept ${swept} of ${due}`);
  }
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)]));
}

console.log('Node FileStore (sync: the event loop is blocked this long), medians of 5 rounds in ms');
console.log('(count includes the sweep a count does first; create: per session)');
console.log('| files | operation | without index | with index | ratio |');
console.log('|---|---|---|---|---|');
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tenure-bench-files-'));
try {
  for (const n of sizes) {
    const dir = path.join(base, String(n));
    fill(dir, n);
    const build = time(() => new FileStore(dir).count());
    const without = measure(n, unindexed(new FileStore(dir)));
    const withIndex = measure(n, new FileStore(dir));
    for (const k of Object.keys(without)) {
      console.log(`| ${n} | ${k} | ${without[k].toFixed(3)} | ${withIndex[k].toFixed(3)} | ${(without[k] / withIndex[k]).toFixed(1)}× |`);
    }
    console.log(`| ${n} | indexing an unindexed folder (once) | | ${build.toFixed(1)} | |`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
} finally {
  fs.rmSync(base, { recursive: true, force: true });
}
