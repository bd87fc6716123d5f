// Issue #16 (reliability and security): defaults, option checking, a change of user, sweeping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionManager, AsyncSessionManager, ManualClock } from 'tenure';
import { session } from 'tenure/express';

const SECRET = 'test-secret-0123456789-0123456789-abcdef';
const code = (f, c, re) => assert.throws(f, (e) => e.code === `TENURE_${c}` && re.test(e.message));

test('the absolute timeout defaults to 12 hours (OWASP ASVS 3.3.2, level 2)', () => {
  const m = new SessionManager({ clock: new ManualClock(0) });
  const s = m.create();
  assert.equal(s.absoluteTimeout, 12 * 3_600_000);
});

test('a misspelled manager option is refused by name, with the likely one', () => {
  code(() => new SessionManager({ idelTimeout: 1000 }), 'INVALID_POLICY', /"idelTimeout".*did you mean idleTimeout/);
  code(() => new AsyncSessionManager({ maxSesions: 3 }), 'INVALID_POLICY', /"maxSesions".*maxSessions/);
  code(() => new SessionManager({ colour: 'red' }), 'INVALID_POLICY', /"colour".*the options are idleTimeout/);
  // Known options (and undefined values) still work.
  new SessionManager({ idleTimeout: 1000, absoluteTimeout: null, touchInterval: undefined, autoSweep: false });
});

test('tenure/express refuses a misspelled option, also next to a manager of ones own', () => {
  code(() => session({ secret: SECRET, idelTimeout: 1000 }), 'INVALID_POLICY', /"idelTimeout".*idleTimeout/);
  const manager = new SessionManager();
  code(() => session({ secret: SECRET, manager, idleTimeout: 1000 }), 'INVALID_POLICY', /"idleTimeout"/);
  code(() => session({ secret: SECRET, manager, resav: false }), 'INVALID_POLICY', /"resav"/);
  // express-session's own options are understood, also next to a manager.
  session({ secret: SECRET, manager, resave: false, proxy: true, unset: 'destroy' });
  session({ secret: SECRET, manager });
});

test('a negative cookie maxAge is refused at start-up', () => {
  code(() => session({ secret: SECRET, cookie: { maxAge: -1 } }), 'INVALID_POLICY', /maxAge/);
});

test('tenure/express sweeps by default (autoSweep: false turns it off)', () => {
  const on = session({ secret: SECRET });
  assert.notEqual(on.manager._timer, null, 'no sweep timer');
  on.manager.close();
  const off = session({ secret: SECRET, autoSweep: false });
  assert.equal(off.manager._timer, null);
});

test('a change of user clears the previous users data; keepData keeps it', () => {
  const m = new SessionManager({ clock: new ManualClock(0) });
  const s = m.create();
  s.set('cart', ['book']);
  s.setPrincipal('alice');
  assert.deepEqual(s.get('cart'), ['book'], 'an anonymous cart survives the first login');
  s.set('cart', ['ring']);
  m.commit(s);
  s.setPrincipal('bob');
  assert.deepEqual(s.keys(), []);
  m.regenerate(s);
  assert.deepEqual(m.peek(s.id).keys(), []);
  s.set('k', 1);
  s.setPrincipal('carol', true);
  assert.equal(s.get('k'), 1);
});
