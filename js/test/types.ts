// Typed usage of the whole API, checked by `tsc --noEmit` in `make test`.
import { SessionManager, ManualClock, FileStore, AsyncFileStore, signCookie, unsignCookieIndex, buildSetCookie } from 'tenure';
import type { Value, Store, SessionInfo, TenureError } from 'tenure';
import { session } from 'tenure/express';
import http from 'node:http';

const clock = new ManualClock(0);
const store: Store = new FileStore('/tmp/tenure-types');
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
  res.end(String(req.session.increment('n')));
}));
void [v, n, infos, cursor, found, header];
{
  // The file stores speak the conditional store protocol, sync and async.
  const fileStore = new FileStore('/tmp/tenure-types', { lockWait: 1000 });
  const inserted: boolean = fileStore.insert('id', new Uint8Array());
  const replaced: boolean = fileStore.replace('id', new Uint8Array(), 1n);
  const removed: boolean = fileStore.delete('id', 2) || fileStore.delete('id');
  const asyncStore = new AsyncFileStore('/tmp/tenure-types');
  const later: Promise<boolean> = asyncStore.replace('id', new Uint8Array(), 1);
  const ids: Promise<string[]> = asyncStore.ids();
  console.log(inserted, replaced, removed, later, ids);
}
