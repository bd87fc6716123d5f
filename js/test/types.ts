// Typed usage of the whole API, checked by `tsc --noEmit` in `make test`.
import { SessionManager, AsyncSessionManager, ManualClock, FileStore, AsyncFileStore, signCookie, unsignCookieIndex, buildSetCookie, recordVersion, WebConfig } from 'tenure';
import type { Value, Store, AsyncStore, SessionInfo, TenureError, Metrics, Session, Incoming, ResponseHeaders, SetCookieReason } from 'tenure';
import { session } from 'tenure/express';
import http from 'node:http';

const clock = new ManualClock(0);
const files = new FileStore('/tmp/tenure-types');
const fileIds: string[] = files.ids();
const map = new Map<string, Uint8Array>();
const store: Store = {
  get: (id) => map.get(id) ?? null,
  insert: (id, bytes) => (map.has(id) ? false : (map.set(id, bytes), true)),
  replace: (id, bytes, expected) => (recordVersion(map.get(id) ?? '') === expected ? (map.set(id, bytes), true) : false),
  delete: (id, expected) => (expected === undefined || recordVersion(map.get(id) ?? '') === expected) && map.delete(id),
  ids: () => [...map.keys()],
};
const m = new SessionManager({ idleTimeout: 60_000, absoluteTimeout: null, clock, store, onFull: 'evictLru' });
m.on('expired', (id: string) => console.log(id)).on('regenerated', (a: string, b: string) => console.log(a, b));
const s = m.create({ principal: 'ann', data: { a: 1 } });
s.set('list', [1, 'x', new Uint8Array([1]), { deep: null }]);
const v: Value | undefined = s.get('list');
const n: number | bigint = s.increment('n', 2);
m.commit(s);
m.regenerate(s, true);
const infos: SessionInfo[] = m.sessionsOf('ann');
const page = m.list(null, 10);
const cursor: string | null = page.cursor;
const carts = m.perSession(() => [] as string[]);
carts(s).push('item1');
const signed: string = signCookie(s.id, 'secret');
const found: [string, number] | null = unsignCookieIndex(signed, ['secret']);
const header: string = buildSetCookie('v', { sameSite: 'strict', maxAge: 1000, now: clock.now() });
try {
  m.commit(s);
} catch (e) {
  const err = e as TenureError;
  if (err.code === 'TENURE_SESSION_GONE') console.log('gone');
}
const mw = session({ secret: 'x'.repeat(32), manager: m, transport: 'both', cookie: { secure: false } });
http.createServer((req, res) => mw(req, res, () => {
  req.session.views = (req.session.views ?? 0) + 1;
  res.end(String(req.tenure.increment('n')));
}));
const asyncStore: AsyncStore = {
  get: async (id) => map.get(id) ?? null,
  insert: async (id, bytes) => (map.has(id) ? false : (map.set(id, bytes), true)),
  replace: (id, bytes, expected) => Promise.resolve(recordVersion(map.get(id) ?? '') === expected && (map.set(id, bytes), true)),
  delete: async (id) => map.delete(id),
  ids: () => [...map.keys()],
};
const am = new AsyncSessionManager({ store: asyncStore, clock, idleTimeout: null, autoSweep: 1000 });
am.on('destroyed', (id: string) => console.log(id));
async function asyncUsage(): Promise<void> {
  const a: Session = await am.create({ principal: 'ann' });
  const opened: Session | null = await am.open(a.id);
  a.set('k', 1);
  await am.commit(a);
  await am.regenerate(a, false);
  const gone: boolean = await am.destroy(a.id);
  const count: number = await am.count();
  const metrics: Metrics = await am.metrics();
  const listed: { sessions: SessionInfo[]; cursor: string | null } = await am.list(null, 5);
  const d = am.draft();
  await am.insertDraft(d);
  const blob: Uint8Array = await am.export();
  const imported: number = await am.import(blob);
  const deadline: number | null = await am.nextDeadline();
  void [opened, gone, count, metrics, listed, imported, deadline];
}
const amw = session({ secret: 'x'.repeat(32), manager: am });
const emw = session({ secret: 'x'.repeat(32), name: 'connect.sid', resave: false, saveUninitialized: true, proxy: true, unset: 'destroy', rolling: true, cookie: { secure: 'auto', sameSite: true, maxAge: 60_000 } });
void emw;
const omw = session({ secret: 'x'.repeat(32), store: asyncStore, async: true, onError: (err, req, res) => { res.statusCode = 500; res.end(); } });
http.createServer((req, res) => amw(req, res, (err?: unknown) => {
  if (err) { res.statusCode = 500; res.end(); return; }
  req.session.regenerate((e) => { if (e) console.log(e); req.session.cookie.maxAge = 30 * 86_400_000; res.end(req.sessionID + req.tenure.token()); });
}));
void [v, n, infos, cursor, found, header, fileIds, asyncUsage, omw];
{
  // The file stores speak the conditional store protocol, sync and async.
  const fileStore = new FileStore('/tmp/tenure-types', { lockWait: 1000 });
  const inserted: boolean = fileStore.insert('id', new Uint8Array());
  const replaced: boolean = fileStore.replace('id', new Uint8Array(), 1n);
  const removed: boolean = fileStore.delete('id', 2) || fileStore.delete('id');
  const asyncStore = new AsyncFileStore('/tmp/tenure-types');
  const later: Promise<boolean> = asyncStore.replace('id', new Uint8Array(), 1);
  const ids: Promise<string[]> = asyncStore.ids();
  // And its index: the count, due entries, a principal's ids.
  const count: number = fileStore.count();
  const due: [number, string][] = fileStore.due(null, 10);
  const ofAnn: Promise<string[]> = asyncStore.idsOf('ann');
  const indexed: Store = fileStore;
  console.log(inserted, replaced, removed, later, ids, count, due, ofAnn, indexed.count?.());
}

// tenure/redis with both clients' own types.
import { redisStore } from 'tenure/redis';
import type { RedisStore } from 'tenure/redis';
import { createClient } from 'redis';
import IORedis from 'ioredis';
async function redisTypes(): Promise<void> {
  const nodeRedis = createClient({ url: 'redis://127.0.0.1:6379' });
  const a: RedisStore = redisStore(nodeRedis, { prefix: 'app:', graceMs: 1000 });
  const io = new IORedis(6379, '127.0.0.1', { lazyConnect: true });
  const b = redisStore(io);
  const manager = new AsyncSessionManager({ store: a, idleTimeout: 60_000 });
  const s2 = await manager.create({ principal: 'ann' });
  await manager.commit(s2);
  session({ secret: 'x'.repeat(32), store: b });
  const kind: 'node-redis' | 'ioredis' = b.kind;
  console.log(kind);
}
void redisTypes;
{
  // The request lifecycle (the core's tenure::web) for an adapter of one's own.
  const web = new WebConfig({ secrets: ['x'.repeat(32)], transport: 'both', cookie: { secure: false }, maxAge: null });
  const incoming: Incoming = web.find(['a=1'], 'Bearer t');
  const id: string | null = incoming.id;
  const source: 'cookie' | 'bearer' | null = incoming.source;
  const why: 'bearer' | 'cookie' | 'no_credentials' | 'rejected' = incoming.why;
  const stale: boolean = incoming.staleSecret && incoming.hadCookie;
  const h: ResponseHeaders = web.respond(incoming, { accessed: true, ending: 'kept', id: 'AAAAAAAAAAAAAAAAAAAAAA' }, 0);
  const vary: string | null = h.vary;
  const reason: SetCookieReason | null = web.respondWithMaxAge(incoming, { accessed: false, ending: 'destroyed' }, 0, 60_000).reason;
  const kept: boolean = web.keepNew(true) && web.keepNewSession(new SessionManager().draft());
  const token: string = web.token('AAAAAAAAAAAAAAAAAAAAAA');
  const mwWeb: WebConfig = session({ secret: 'x'.repeat(32) }).web;
  console.log(id, source, why, stale, vary, reason, kept, token, mwWeb.transport, web.cookieName);
}
