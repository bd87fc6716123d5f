// The HTTP benchmark's applications (http-app.cjs) driven in-process, without sockets:
// what each request costs in the session middleware, robust to a loaded machine (printed,
// never asserted; for profiling, see docs/benchmarks.md).
//
//   ROUNDS=5 N=20000 node js/bench/middleware.mjs [read|inc|new ...]
//   node --cpu-prof js/bench/middleware.mjs read     (profiles every contender in turn)
//   ONLY=tenure node --cpu-prof js/bench/middleware.mjs read
//
// Each request is a real http.IncomingMessage / ServerResponse pair (without a socket: the
// response is buffered, and 'finish'/'close' are emitted on the next tick after end());
// 50 requests are in flight at a time, as the 50 connections of http.mjs. Per route and
// contender: requests/s (wall) and CPU µs per request (process.cpuUsage), median of
// alternating rounds; "over none" is the CPU the session middleware adds per request.
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { makeApp } = require('./http-app.cjs');

const ROUNDS = Math.max(1, Number(process.env.ROUNDS ?? 9));
const N = Number(process.env.N ?? 5000);
const IN_FLIGHT = Number(process.env.IN_FLIGHT ?? 50);
const BEFORE = process.env.TENURE_BEFORE;
const ALL = ['express-session', 'tenure', 'none', ...(BEFORE ? ['tenure (before)'] : [])];
const CONTENDERS = process.env.ONLY ? ALL.filter((c) => process.env.ONLY.split(',').includes(c)) : ALL;
const ROUTES = process.argv.slice(2).length ? process.argv.slice(2) : ['read', 'inc', 'new'];

const socket = { encrypted: false, remoteAddress: '127.0.0.1', on() {}, once() {}, removeListener() {}, destroy() {} };

// A response without a socket: the end of the response ('finish', then 'close') comes on
// the next tick, as after a socket write. (An own `end`: Express replaces the prototype.)
const serverEnd = http.ServerResponse.prototype.end;
function end(...args) {
  const r = serverEnd.apply(this, args);
  process.nextTick(() => { this.emit('finish'); this.emit('close'); });
  return r;
}

function request(app, path, cookie) {
  const req = new http.IncomingMessage(socket);
  req.method = 'GET';
  req.url = path;
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  req.headers = cookie ? { host: 'localhost', cookie } : { host: 'localhost' };
  req.rawHeaders = [];
  req.complete = true;
  const res = new http.ServerResponse(req);
  res.end = end;
  return new Promise((resolve) => {
    res.once('close', () => resolve(res));
    app(req, res);
  });
}

const body = (res) => JSON.parse(Buffer.concat(res.outputData.map((o) => Buffer.from(o.data))).toString().split('\r\n\r\n')[1]);

async function drive(app, path, cookie, n) {
  let left = n;
  const client = async () => {
    while (left > 0) {
      left -= 1;
      const res = await request(app, path, cookie);
      if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode}`);
    }
  };
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, client));
  const ms = performance.now() - t0;
  const c = process.cpuUsage(cpu);
  return { rps: n / (ms / 1000), cpuUs: (c.user + c.system) / n };
}

const apps = {};
for (const k of CONTENDERS) {
  apps[k] = k === 'tenure (before)' ? makeApp('tenure', require(`${BEFORE}/src/express.cjs`)) : makeApp(k);
}
const results = {};
for (const k of CONTENDERS) for (const r of ROUTES) results[`${k} ${r}`] = { rps: [], cpu: [], lost: [] };
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };

for (let round = 0; round <= ROUNDS; round++) { // round 0 warms up
  const order = round % 2 === 0 ? CONTENDERS : [...CONTENDERS].reverse();
  for (const route of ROUTES) {
    for (const k of order) {
      const seed = await request(apps[k], '/seed');
      const set = seed.getHeader('set-cookie');
      const cookie = set ? String([].concat(set)[0]).split(';')[0] : undefined;
      const r = await drive(apps[k], `/${route}`, route === 'new' ? undefined : cookie, round === 0 ? Math.min(N, 5000) : N);
      if (round === 0) continue;
      const e = results[`${k} ${route}`];
      e.rps.push(r.rps);
      e.cpu.push(r.cpuUs);
      if (route === 'inc') {
        const { handled, views } = body(await request(apps[k], '/count', cookie));
        e.lost.push(handled - views);
      }
    }
  }
}

const fmt = (v) => Math.round(v).toLocaleString('en-US');
console.log(`\nin-process (Express 5, ${IN_FLIGHT} in flight, ${N} requests per run): median of ${ROUNDS} rounds`);
for (const route of ROUTES) {
  const none = results[`none ${route}`];
  for (const k of CONTENDERS) {
    const e = results[`${k} ${route}`];
    const over = none ? `, ${(median(e.cpu) - median(none.cpu)).toFixed(1)} µs over none` : '';
    const lost = route === 'inc' ? `, lost ${e.lost.join('/')}` : '';
    const least = Math.min(...e.cpu).toFixed(1);
    console.log(`  /${route.padEnd(5)} ${k.padEnd(16)} ${fmt(median(e.rps)).padStart(8)} req/s, ${median(e.cpu).toFixed(1).padStart(6)} µs CPU/request (least ${least})${over}${lost}`);
  }
  if (results[`express-session ${route}`] && results[`tenure ${route}`]) {
    const ratio = median(results[`tenure ${route}`].rps) / median(results[`express-session ${route}`].rps);
    console.log(`  /${route.padEnd(5)} tenure / express-session: ${ratio.toFixed(2)}x`);
  }
}
