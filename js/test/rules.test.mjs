// The rules the core owns, seen from JS: one spelling set for options, the core's defaults,
// the core's shapes for listings and metrics, and a store's own exception as the cause.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionManager, ManualClock, buildSetCookie } from 'tenure';

const code = (fn, c, re) => assert.throws(fn, (e) => e.code === c && re.test(e.message));

test('onFull takes the core spellings (evict_lru as Python writes it, evictLru, evict) and refuses others by name', () => {
  for (const onFull of ['evictLru', 'evict_lru', 'evict']) {
    const m = new SessionManager({ clock: new ManualClock(0), maxSessions: 1, onFull });
    const a = m.create();
    m.create();
    assert.equal(m.open(a.id), null, `${onFull}: the older session was evicted`);
  }
  code(() => new SessionManager({ onFull: 'drop' }), 'TENURE_INVALID_POLICY', /on_full.*'reject'.*'evict_lru'.*"drop"/);
});

test('sameSite and priority are parsed by the core, whose error names the option and the spellings', () => {
  const header = buildSetCookie('v', { sameSite: 'STRICT', priority: 'High' });
  assert.match(header, /; SameSite=Strict(;|$)/);
  assert.match(header, /; Priority=High(;|$)/);
  code(() => buildSetCookie('v', { sameSite: 'auto' }), 'TENURE_INVALID_VALUE', /sameSite.*lax, strict, none.*"auto"/);
  code(() => buildSetCookie('v', { priority: 'urgent' }), 'TENURE_INVALID_VALUE', /priority.*low, medium, high.*"urgent"/);
});

test('a zero idle timeout is refused by the core rule, for the policy and for one session', () => {
  code(() => new SessionManager({ idleTimeout: 0 }), 'TENURE_INVALID_POLICY', /idle_timeout must be > 0 ms/);
  const m = new SessionManager({ clock: new ManualClock(0) });
  const s = m.create();
  code(() => m.setIdleTimeout(s, 0), 'TENURE_INVALID_VALUE', /idle_timeout.*> 0 ms/);
  code(() => m.setIdleTimeout(s, -1), 'TENURE_INVALID_VALUE', /idleTimeout must be a number/);
});

test('listings carry the core SessionInfo fields, camel-cased, and ids default to 16 random bytes', () => {
  const clock = new ManualClock(1000);
  const m = new SessionManager({ clock });
  const s = m.create({ principal: 'ann' });
  assert.equal(s.id.length, 22, '16 bytes, base64url');
  m.commit(s);
  const [info] = m.sessionsOf('ann');
  assert.deepEqual(Object.keys(info),
    ['id', 'publicId', 'principal', 'createdAt', 'lastAccess', 'expiresAt', 'version']);
  assert.equal(info.createdAt, 1000);
  assert.equal(info.lastAccess, 1000);
  assert.equal(info.expiresAt, 1000 + 30 * 60 * 1000, 'the core default idle timeout');
  const metrics = m.metrics();
  assert.deepEqual(Object.keys(metrics), ['active', 'peakActive', 'createdTotal', 'expiredTotal',
    'destroyedTotal', 'rejectedTotal', 'evictedTotal', 'maxAliveMs', 'avgAliveMs']);
  assert.equal(metrics.createdTotal, 1);
});

test("the 'regenerated' event says whether the data was cleared (what perSession follows)", () => {
  const m = new SessionManager({ clock: new ManualClock(0) });
  const seen = [];
  m.on('regenerated', (oldId, newId, cleared) => seen.push([oldId, newId, cleared]));
  const s = m.create({ data: { a: 1 } });
  const first = s.id;
  m.regenerate(s);
  const second = s.id;
  m.regenerate(s, true);
  assert.deepEqual(seen, [[first, second, false], [second, s.id, true]]);
});
