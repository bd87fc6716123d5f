// Start-up benchmark (part of `make bench`; printed, never asserted): in a fresh Node
// process, the time from require() of the package to the first session stored, for
// express-session (MemoryStore, a Session + Cookie, store.set) and tenure (the wasm
// compiled and instantiated synchronously, SessionManager, create). Alternating child
// processes; the median of RUNS each.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RUNS = Math.max(5, Number(process.env.RUNS ?? 11));
const cwd = fileURLToPath(new URL('..', import.meta.url));
const scripts = {
  'express-session': `
    const t0 = performance.now();
    const es = require('express-session');
    const store = new es.MemoryStore();
    const req = { sessionStore: store, sessionID: require('uid-safe').sync(24) };
    store.createSession(req, { cookie: { originalMaxAge: null } });
    req.session.views = 1;
    store.set(req.sessionID, req.session);
    process.stdout.write(String(performance.now() - t0));`,
  tenure: `
    const t0 = performance.now();
    const { SessionManager } = require('tenure');
    const s = new SessionManager().create({ data: { views: 1 } });
    process.stdout.write(String(performance.now() - t0));`,
};
const times = Object.fromEntries(Object.keys(scripts).map((k) => [k, []]));
for (let i = 0; i < RUNS; i++) {
  for (const [k, src] of Object.entries(scripts)) {
    times[k].push(Number(execFileSync(process.execPath, ['-e', src], { cwd })));
  }
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
console.log(`\nStart-up, require() to the first session stored (ms, median of ${RUNS} fresh processes)`);
for (const [k, v] of Object.entries(times)) console.log(`  ${k.padEnd(16)} ${median(v).toFixed(1).padStart(7)}`);
console.log(`  tenure / express-session: ${(median(times.tenure) / median(times['express-session'])).toFixed(2)}x the time`);
