import { SessionManager } from 'tenure';
const N = Number(process.env.N ?? 100000);
const mgr = new SessionManager({});
const which = process.argv[2];
const ids=[];for(let i=0;i<1000;i++){const s=mgr.create({data:{user:'u1',views:3,theme:'dark'}});ids.push(s.id);s.free();}
const t0=performance.now();
for (let i = 0; i < N; i++) {
  if (which==='create'){const s = mgr.create({ data: { user: 'u1', views: 3, theme: 'dark' } }); s.free(); if(i%1000===999) mgr.destroyAll?.();}
  else {const s=mgr.open(ids[i%1000]); s.set('theme','light'); mgr.commit(s); s.free();}
}
console.log(which, N/((performance.now()-t0)/1000));
