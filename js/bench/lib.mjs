// Library-level JS benchmark (part of `make bench`; printed, never asserted): the per-request
// work of express-session over its MemoryStore against tenure's SessionManager, in one run,
// alternating rounds; the median of ROUNDS rounds of OPS operations each.
//
//   ROUNDS=7 OPS=20000 node js/bench/lib.mjs
//
// express-session's request path, per request: MemoryStore.get (JSON.parse, answered on
// setImmediate), store.createSession (the Session object and its Cookie), the change, and
// MemoryStore.set (JSON.stringify, answered on setImmediate). Its per-request hash of the
// session (to skip unchanged saves) is not counted, in its favour. "create" is a new
// session: uid-safe's 24-byte id, a Session with its Cookie, three keys, MemoryStore.set.
// tenure: open + set + commit, open + increment + commit and create({ data }) on the
// in-memory core, each session handle freed at once (what tenure/express does), and the
// same loop with handles left to the FinalizationRegistry (yielding every 1000 ops).
// TENURE_BEFORE=<js folder> adds another build of the package (e.g. main's) as contender.
import { createRequire } from 'node:module';
import { SessionManager } from 'tenure';

const require = createRequire(import.meta.url);
const expressSession = require('express-session');
const uid = require('uid-safe');

const ROUNDS = Math.max(3, Number(process.env.ROUNDS ?? 7));
const OPS = Number(process.env.OPS ?? 20000);
const SESSIONS = 1000;

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
const fmt = (n) => Math.round(n).toLocaleString('en-US');

// express-session ---------------------------------------------------------------------
const store = new expressSession.MemoryStore();
const esIds = [];
const fakeReq = () => ({ sessionStore: store, sessionID: null, session: null });
for (let i = 0; i < SESSIONS; i++) {
  const id = uid.sync(24);
  esIds.push(id);
  const req = fakeReq();
  req.sessionID = id;
  store.createSession(req, { cookie: { originalMaxAge: 1800000, httpOnly: true, path: '/' } });
  Object.assign(req.session, { user: 'u1', views: 3, theme: 'dark' });
  store.set(id, req.session);
}
const esRequest = (id, change) => new Promise((resolve, reject) => {
  store.get(id, (err, data) => {
    if (err) return reject(err);
    const req = fakeReq();
    req.sessionID = id;
    store.createSession(req, data);
    change(req.session);
    store.set(id, req.session, (e) => (e ? reject(e) : resolve()));
  });
});
const esCreate = () => new Promise((resolve, reject) => {
  const req = fakeReq();
  req.sessionID = uid.sync(24);
  store.createSession(req, { cookie: { originalMaxAge: 1800000, httpOnly: true, path: '/' } });
  Object.assign(req.session, { user: 'u1', views: 3, theme: 'dark' });
  store.set(req.sessionID, req.session, (e) => (e ? reject(e) : resolve()));
});

// tenure --------------------------------------------------------------------------------
function tenureCases(label, Manager) {
  const mgr = new Manager({});
  const tIds = [];
  for (let i = 0; i < SESSIONS; i++) {
    const s = mgr.create({ data: { user: 'u1', views: 3, theme: 'dark' } });
    tIds.push(s.id);
    s.free();
  }
  return {
    [`${label}: open + set + commit, freed`]: () => {
      for (let i = 0; i < OPS; i++) {
        const s = mgr.open(tIds[i % SESSIONS]);
        s.set('theme', 'light');
        mgr.commit(s);
        s.free();
      }
    },
    [`${label}: open + set + commit, left to the GC`]: async () => {
      for (let i = 0; i < OPS; i++) {
        const s = mgr.open(tIds[i % SESSIONS]);
        s.set('theme', 'light');
        mgr.commit(s);
        if (i % 1000 === 999) await new Promise(setImmediate);
      }
    },
    [`${label}: open + increment + commit, freed`]: () => {
      for (let i = 0; i < OPS; i++) {
        const s = mgr.open(tIds[i % SESSIONS]);
        s.increment('views');
        mgr.commit(s);
        s.free();
      }
    },
    [`${label}: create (3 keys), freed`]: () => {
      const made = [];
      for (let i = 0; i < OPS; i++) {
        const s = mgr.create({ data: { user: 'u1', views: 3, theme: 'dark' } });
        made.push(s.id);
        s.free();
      }
      for (const id of made) mgr.destroy(id);
    },
  };
}

const cases = {
  'express-session: get + change + save': async () => {
    for (let i = 0; i < OPS; i++) await esRequest(esIds[i % SESSIONS], (s) => { s.theme = 'light'; });
  },
  'express-session: get + increment + save': async () => {
    for (let i = 0; i < OPS; i++) await esRequest(esIds[i % SESSIONS], (s) => { s.views = (s.views ?? 0) + 1; });
  },
  'express-session: create (3 keys) + save': async () => {
    for (let i = 0; i < OPS; i++) await esCreate();
    store.clear();
    for (const id of esIds) store.set(id, { cookie: { originalMaxAge: 1800000, httpOnly: true, path: '/' }, user: 'u1', views: 3, theme: 'dark' });
  },
  ...tenureCases('tenure', SessionManager),
  ...(process.env.TENURE_BEFORE
    ? tenureCases('tenure before', require(`${process.env.TENURE_BEFORE}/src/index.cjs`).SessionManager)
    : {}),
};

const results = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (const f of Object.values(cases)) await f(); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, f] of Object.entries(cases)) {
    const t0 = process.hrtime.bigint();
    await f();
    const ns = Number(process.hrtime.bigint() - t0);
    results[name].push(OPS / (ns / 1e9));
  }
}

console.log(`\nJS library level (Node ${process.version}): ops/s, median of ${ROUNDS} rounds of ${OPS}`);
const med = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
for (const [k, v] of Object.entries(med)) console.log(`  ${k.padEnd(52)} ${fmt(v).padStart(11)}`);
const ratio = (a, b) => `${(med[a] / med[b]).toFixed(2)}x`;
console.log('  ratios against express-session (target >= 2x):');
console.log(`    open + set + commit:       ${ratio('tenure: open + set + commit, freed', 'express-session: get + change + save')} (left to the GC: ${ratio('tenure: open + set + commit, left to the GC', 'express-session: get + change + save')})`);
console.log(`    open + increment + commit: ${ratio('tenure: open + increment + commit, freed', 'express-session: get + increment + save')}`);
console.log(`    create:                    ${ratio('tenure: create (3 keys), freed', 'express-session: create (3 keys) + save')}`);
if (process.env.TENURE_BEFORE) {
  console.log('  tenure now / tenure before:');
  for (const op of ['open + set + commit, freed', 'open + increment + commit, freed', 'create (3 keys), freed']) {
    console.log(`    ${op.padEnd(34)} ${ratio(`tenure: ${op}`, `tenure before: ${op}`)}`);
  }
}
