// A loop to profile (docs/benchmarks.md): node --cpu-prof js/bench/profile.mjs open|create
//   N=1000000 node --cpu-prof --cpu-prof-dir=/tmp/prof js/bench/profile.mjs open
// open: open + set + commit + free on 1000 sessions; create: create({ data }) + free.
import { SessionManager } from 'tenure';

const N = Number(process.env.N ?? 100000);
const which = process.argv[2] ?? 'open';
const mgr = new SessionManager({});
const ids = [];
for (let i = 0; i < 1000; i++) {
  const s = mgr.create({ data: { user: 'u1', views: 3, theme: 'dark' } });
  ids.push(s.id);
  s.free();
}
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  if (which === 'create') {
    const s = mgr.create({ data: { user: 'u1', views: 3, theme: 'dark' } });
    s.free();
    if (i % 1000 === 999) mgr.destroyAll();
  } else {
    const s = mgr.open(ids[i % 1000]);
    s.set('theme', 'light');
    mgr.commit(s);
    s.free();
  }
}
console.log(which, Math.round(N / ((performance.now() - t0) / 1000)), 'ops/s');
