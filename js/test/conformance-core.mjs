// The conformance runner shared by Node (test/conformance.test.mjs) and the browser
// (test/browser/conformance.html): scenario JSON in, an Error naming the failing step out.
const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const check = (cond, message) => { if (!cond) throw new Error(message); };

/** Scenario JSON (with $f, $i, $b, $k tags) to a JS value. */
function toJs(j) {
  if (Array.isArray(j)) return j.map(toJs);
  if (j && typeof j === 'object') {
    const keys = Object.keys(j);
    if (keys.length === 1) {
      const v = j[keys[0]];
      if (keys[0] === '$f') return typeof v === 'string' ? { NaN: NaN, inf: Infinity, '-inf': -Infinity }[v] : v;
      if (keys[0] === '$i') return BigInt(v);
      if (keys[0] === '$b') return unb64(v);
      if (keys[0] === '$k') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJs(x)]));
    }
    return Object.fromEntries(Object.entries(j).map(([k, x]) => [k, toJs(x)]));
  }
  return j;
}

/** A JS value as scenario JSON (numbers can't say int or float: see the README). */
function canon(v) {
  if (typeof v === 'bigint') return { $i: v.toString() };
  if (v instanceof Uint8Array) return { $b: b64(v) };
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === 'object') {
    const o = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canon(x)]));
    return Object.keys(v).some((k) => k.startsWith('$')) ? { $k: o } : o;
  }
  return v === undefined ? null : v;
}

function same(expected, actual) {
  if (expected && typeof expected === 'object' && !Array.isArray(expected)) {
    const keys = Object.keys(expected);
    if (keys.length === 1 && keys[0] === '$f') return typeof actual === 'number' && Object.is(toJs(expected), actual);
    if (keys.length === 1 && keys[0] === '$i' && typeof actual === 'number') return BigInt(expected.$i) === BigInt(actual);
    if (!actual || typeof actual !== 'object' || Array.isArray(actual)) return false;
    const akeys = Object.keys(actual);
    return keys.length === akeys.length && keys.every((k) => k in actual && same(expected[k], actual[k]));
  }
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && expected.length === actual.length && expected.every((x, i) => same(x, actual[i]));
  }
  return Object.is(expected, actual) || (expected === 0 && actual === 0);
}

const snake = (k) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function manager({ SessionManager }, policy, clock, options = {}) {
  const Manager = options.Manager ?? SessionManager;
  const o = { clock };
  if (options.store) o.store = options.store();
  const map = {
    idle_timeout: 'idleTimeout', absolute_timeout: 'absoluteTimeout', touch_interval: 'touchInterval',
    max_sessions: 'maxSessions', max_data_bytes: 'maxDataBytes', max_key_bytes: 'maxKeyBytes',
    max_depth: 'maxDepth', id_bytes: 'idBytes',
  };
  for (const [k, v] of Object.entries(policy)) {
    if (k === 'on_full') o.onFull = v === 'evict_lru' ? 'evictLru' : v;
    else o[map[k]] = v;
  }
  return new Manager(o);
}

/**
 * Runs one scenario through SessionManager (synchronously, as before).
 */
export function runScenario(api, doc, name) {
  const steps = scenario(api, doc, name, {});
  let r = steps.next();
  while (!r.done) r = steps.next(r.value);
}

/**
 * Runs one scenario through an asynchronous manager: `options.Manager` (e.g.
 * AsyncSessionManager) and optionally `options.store()`, a fresh store per manager. Every
 * manager call is awaited; a rejection is thrown back into the interpreter where the call
 * was made, so both drivers see the same errors at the same steps.
 */
export async function runScenarioAsync(api, doc, name, options) {
  const steps = scenario(api, doc, name, options);
  let r = steps.next();
  while (!r.done) {
    let value;
    let failed = false;
    try {
      value = await r.value;
    } catch (e) {
      failed = true;
      value = e;
    }
    r = failed ? steps.throw(value) : steps.next(value);
  }
}

// The interpreter: every manager call is `yield`ed, so a driver decides whether to await it.
function* scenario(api, doc, name, options) {
  const { ManualClock, signCookie, unsignCookie, findSessionId } = api;
  const policy = doc.policy ?? {};
  if (doc.policy_error) {
    let code = null;
    try { manager(api, policy, new ManualClock(0), options); } catch (e) { code = e.code; }
    check(code === `TENURE_${doc.policy_error}`, `${name}: expected TENURE_${doc.policy_error}, got ${code}`);
    return;
  }
  const start = doc.start ?? 1_000_000;
  const clock = new ManualClock(start);
  let m = manager(api, policy, clock, options);
  const handles = new Map();
  const ids = new Map();
  const idOf = (st) => (st.id_literal !== undefined ? st.id_literal : ids.get(st.id));
  const off = (t) => (t === undefined || t === null ? null : t - start);
  const bind = (st, s) => {
    if (!s) return 'absent';
    if (st.as) { handles.set(st.as, s); ids.set(st.as, s.id); }
    return 'found';
  };
  for (const [i, st] of doc.steps.entries()) {
    const s = handles.get(st.session);
    let got = null;
    try {
      switch (st.do) {
        case 'advance': clock.advance(st.ms); break;
        case 'set_time': clock.set(start + st.ms); break;
        case 'create': bind(st, yield m.create({ principal: st.principal, data: st.data ? toJs(st.data) : undefined })); break;
        case 'open': got = bind(st, yield m.open(idOf(st))); break;
        case 'peek': got = bind(st, yield m.peek(idOf(st))); break;
        case 'get': got = s.has(st.key) ? s.get(st.key) : { absent: true }; break;
        case 'set': s.set(st.key, toJs(st.value)); break;
        case 'delete': s.delete(st.key); break;
        case 'has': got = s.has(st.key); break;
        case 'keys': got = s.keys(); break;
        case 'len': got = s.size; break;
        case 'clear': s.clear(); break;
        case 'update': s.update(toJs(st.data)); break;
        case 'increment': got = s.increment(st.key, st.by); break;
        case 'flash': s.flash(st.category, st.message); break;
        case 'take_flashes': got = s.takeFlashes(); break;
        case 'set_principal': s.setPrincipal(st.principal ?? undefined); break;
        case 'set_idle_timeout': yield m.setIdleTimeout(s, st.ms); break;
        case 'info':
          got = {
            principal: s.principal ?? null, version: s.version, created: off(s.createdAt),
            last_access: off(s.lastAccess), expires_at: off(s.expiresAt),
            idle_timeout: s.idleTimeout ?? null, absolute_timeout: s.absoluteTimeout ?? null,
          };
          break;
        case 'commit': yield m.commit(s); ids.set(st.session, s.id); break;
        case 'regenerate': yield m.regenerate(s, st.clear ?? false); ids.set(st.session, s.id); break;
        case 'remember': ids.set(st.as, s.id); break;
        case 'destroy': got = yield m.destroy(idOf(st)); break;
        case 'destroy_all_of': got = yield m.destroyAllOf(st.principal, st.except ? ids.get(st.except) : undefined); break;
        case 'sessions_of': got = (yield m.sessionsOf(st.principal)).length; break;
        case 'count': got = yield m.count(); break;
        case 'sweep': got = yield m.sweep(); break;
        case 'next_deadline': got = off(yield m.nextDeadline()); break;
        case 'metrics': got = Object.fromEntries(Object.entries(yield m.metrics()).map(([k, v]) => [snake(k), v])); break;
        case 'restart': {
          const blob = yield m.export();
          m = manager(api, policy, clock, options);
          got = yield m.import(blob);
          break;
        }
        case 'sign': got = signCookie(st.id, st.secret); break;
        case 'unsign': got = unsignCookie(st.value, st.secrets); break;
        case 'parse_cookie': { const f = findSessionId(st.header, st.name, st.secrets); got = f ? f[0] : null; break; }
        default: throw new Error(`unknown step ${st.do}`);
      }
    } catch (e) {
      if (!String(e.code ?? '').startsWith('TENURE_')) throw e;
      got = { error: e.code.slice('TENURE_'.length) };
    }
    const where = `${name} step ${i} (${st.do})`;
    if (st.expect === undefined) {
      check(!(got && got.error), `${where}: unexpected ${JSON.stringify(got)}`);
      continue;
    }
    if ((st.do === 'info' || st.do === 'metrics') && got && !got.error) {
      for (const [k, v] of Object.entries(st.expect)) {
        check(same(v, canon(got[k])), `${where}: ${k}: expected ${JSON.stringify(v)}, got ${got[k]}`);
      }
      continue;
    }
    check(same(st.expect, canon(got)), `${where}: expected ${JSON.stringify(st.expect)}, got ${JSON.stringify(canon(got))}`);
  }
}

