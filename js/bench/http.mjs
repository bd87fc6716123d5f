// HTTP benchmark (part of `make bench`; printed, never asserted): Express 5 with
// express-session (MemoryStore), with tenure/express (in-memory core) and with no session
// middleware, each in a child process of its own, driven by autocannon (50 connections)
// from this process; rounds alternate between the contenders.
//
//   ROUNDS=3 DURATION=3 node js/bench/http.mjs
//
// Routes: /read (reads the session), /inc (adds 1 to a counter: express-session
// `req.session.views = (req.session.views ?? 0) + 1`, tenure `req.tenure.increment('views')`),
// /new (no cookie: a new session per request). /read and /inc run on one session shared by
// all 50 connections; "lost" is the /inc requests the server answered minus the counter at the end.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');

const ROUNDS = Math.max(3, Number(process.env.ROUNDS ?? 3));
const DURATION = Number(process.env.DURATION ?? 3);
const CONNECTIONS = 50;
// TENURE_BEFORE=<a js/ folder of another build> adds that build's tenure/express as a
// fourth contender, "tenure (before)" (for before/after comparisons in one run).
const BEFORE = process.env.TENURE_BEFORE;
const CONTENDERS = ['express-session', 'tenure', 'none', ...(BEFORE ? ['tenure (before)'] : [])];
const ROUTES = ['read', 'inc', 'new'];
const server = fileURLToPath(new URL('./http-server.cjs', import.meta.url));

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };

function start(kind) {
  const script = kind === 'tenure (before)' ? `${BEFORE}/bench/http-server.cjs` : server;
  if (kind === 'tenure (before)') kind = 'tenure';
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, kind], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.once('error', reject);
    child.stdout.once('data', (d) => resolve({ child, port: Number(String(d).trim()) }));
  });
}

async function get(port, path, cookie) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: cookie ? { cookie } : {} });
  const body = await res.json();
  const set = res.headers.get('set-cookie');
  return { body, cookie: set ? set.split(';')[0] : cookie };
}

function load(port, path, cookie) {
  return new Promise((resolve, reject) => {
    autocannon({
      url: `http://127.0.0.1:${port}${path}`, connections: CONNECTIONS, duration: DURATION,
      headers: cookie ? { cookie } : {},
    }, (err, r) => (err ? reject(err) : resolve(r)));
  });
}

const results = {};
for (const k of CONTENDERS) for (const r of ROUTES) results[`${k} ${r}`] = { rps: [], lost: [], errors: 0 };

const servers = {};
for (const k of CONTENDERS) servers[k] = await start(k);
try {
  for (let round = 0; round < ROUNDS + 1; round++) { // round 0 warms up
    const order = round % 2 === 0 ? CONTENDERS : [...CONTENDERS].reverse();
    for (const route of ROUTES) {
      for (const k of order) {
        const { port } = servers[k];
        const { cookie } = await get(port, '/seed');
        const r = await load(port, `/${route}`, route === 'new' ? null : cookie);
        if (round === 0) continue;
        const e = results[`${k} ${route}`];
        e.rps.push(r.requests.average);
        e.errors += r.errors + r.non2xx;
        if (route === 'inc') {
          await new Promise((res) => setTimeout(res, 200)); // the requests still in flight
          const { body } = await get(port, '/count', cookie);
          e.lost.push(body.handled - body.views);
        }
      }
    }
  }
} finally {
  for (const { child } of Object.values(servers)) child.kill();
}

console.log(`\nHTTP (Express 5, autocannon, ${CONNECTIONS} connections, ${DURATION} s per run): requests/s, median of ${ROUNDS} rounds`);
console.log(`  ${'route'.padEnd(6)} ${CONTENDERS.map((c) => c.padStart(16)).join('')}   tenure / express-session (target >= 1.0x)`);
for (const route of ROUTES) {
  const med = CONTENDERS.map((k) => median(results[`${k} ${route}`].rps));
  console.log(`  ${route.padEnd(6)} ${med.map((v) => Math.round(v).toLocaleString('en-US').padStart(16)).join('')}   ${(med[1] / med[0]).toFixed(2)}x`);
}
const lost = (k) => results[`${k} inc`].lost;
console.log(`  lost increments per run of /inc: ${CONTENDERS.map((k) => `${k} ${lost(k).join(', ')}`).join('; ')}`);
const errs = CONTENDERS.map((k) => ROUTES.reduce((n, r) => n + results[`${k} ${r}`].errors, 0));
console.log(`  errors and non-2xx answers: ${CONTENDERS.map((k, i) => `${k} ${errs[i]}`).join(', ')}`);
