'use strict';
// Connect/Express middleware (Express 4 and 5, plain node:http): `req.session` is a tenure
// session with property access. Cookie/Bearer parsing and signing are the core's.
const tenure = require('./index.cjs');

const METHODS = new Set(['id', 'regenerate', 'destroy', 'save', 'increment', 'flash', 'takeFlashes',
  'principal', 'setPrincipal', 'token', 'toJSON', 'isNew', 'publicId']);

function tenureError(code, message) {
  return Object.assign(new Error(message), { code: `TENURE_${code}` });
}

/**
 * @param {object} options secret (string or array: the first signs, all verify), name
 *   (default 'sid'), cookie ({ path, domain, httpOnly, secure, sameSite, partitioned,
 *   priority, maxAge (ms) }), transport ('cookie' | 'header' | 'both'), rolling,
 *   saveUninitialized, manager (a SessionManager) or the manager's options.
 */
function session(options = {}) {
  const {
    secret, name = 'sid', cookie = {}, transport = 'cookie', rolling = false,
    saveUninitialized = false, manager, ...policy
  } = options;
  const secrets = Array.isArray(secret) ? secret : [secret];
  if (secret === undefined) throw tenureError('INVALID_POLICY', 'the session middleware needs a secret');
  tenure.checkSecrets(secrets);
  if (!['cookie', 'header', 'both'].includes(transport)) {
    throw tenureError('INVALID_POLICY', `transport must be 'cookie', 'header' or 'both', not ${JSON.stringify(transport)}`);
  }
  const mgr = manager ?? new tenure.SessionManager(policy);
  const useCookie = transport !== 'header';
  const useHeader = transport !== 'cookie';
  const cookieOptions = { name, path: '/', httpOnly: true, secure: true, sameSite: 'lax', ...cookie };
  const maxAge = cookie.maxAge ?? null;
  // Fail at start-up, not on the first response, if the cookie settings are wrong.
  tenure.buildSetCookie('x', { ...cookieOptions, maxAge: undefined });

  function setCookie(id) {
    if (id === null) return tenure.buildSetCookie('', { ...cookieOptions, clear: true });
    const value = tenure.encodeUriComponent(tenure.signCookie(id, secrets[0]));
    return tenure.buildSetCookie(value, { ...cookieOptions, maxAge: maxAge ?? undefined, now: mgr.now() });
  }

  function middleware(req, res, next) {
    let state;
    try {
      let found = null;
      let hadCookie = false;
      if (useHeader && req.headers.authorization) {
        const token = tenure.parseBearer(req.headers.authorization);
        if (token) found = tenure.unsignToken(token, secrets);
      }
      if (!found && useCookie && req.headers.cookie) {
        hadCookie = tenure.parseCookieHeader(req.headers.cookie).some(([n]) => n === name);
        found = tenure.findSessionId(req.headers.cookie, name, secrets);
      }
      const s = found ? mgr.open(found[0]) : null;
      state = { s, isNew: false, accessed: false, destroyed: false, regenerated: false, hadCookie,
        resign: Boolean(s && found[1] > 0) };
    } catch (err) {
      next(err);
      return;
    }

    const write = () => {
      state.accessed = true;
      if (!state.s) {
        state.s = mgr.create();
        state.isNew = true;
        state.destroyed = false;
      }
      return state.s;
    };
    const api = {
      get id() { return state.s ? state.s.id : null; },
      get publicId() { return state.s ? state.s.publicId : null; },
      get isNew() { return state.isNew; },
      get principal() { return state.s ? state.s.principal ?? null : null; },
      setPrincipal(p) { write().setPrincipal(p ?? undefined); },
      increment(key, by) { return write().increment(key, by); },
      flash(category, message) { write().flash(category, message); },
      takeFlashes() { state.accessed = true; return state.s ? state.s.takeFlashes() : []; },
      token() { return tenure.signToken(write().id, secrets[0]); },
      save(cb) {
        if (state.s && state.s.modified) mgr.commit(state.s);
        if (cb) cb();
      },
      regenerate(clear, cb) {
        if (typeof clear === 'function') { cb = clear; clear = false; }
        const s = write();
        if (!state.isNew) mgr.regenerate(s, Boolean(clear));
        else if (clear) s.clear();
        state.regenerated = true;
        if (cb) cb();
      },
      destroy(cb) {
        state.accessed = true;
        if (state.s) mgr.destroy(state.s.id);
        state.s = null;
        state.isNew = false;
        state.destroyed = true;
        if (cb) cb();
      },
      toJSON() { return state.s ? state.s.toObject() : {}; },
    };
    req.session = new Proxy(api, {
      get(target, prop) {
        if (typeof prop === 'symbol' || METHODS.has(prop)) return Reflect.get(target, prop);
        state.accessed = true;
        return state.s ? state.s.get(prop) : undefined;
      },
      set(target, prop, value) {
        if (typeof prop === 'symbol' || METHODS.has(prop)) {
          throw tenureError('INVALID_VALUE', `${String(prop)} is reserved on req.session`);
        }
        write().set(prop, value);
        return true;
      },
      deleteProperty(target, prop) {
        state.accessed = true;
        if (state.s && typeof prop === 'string') state.s.delete(prop);
        return true;
      },
      has(target, prop) {
        state.accessed = true;
        return typeof prop === 'string' && Boolean(state.s && state.s.has(prop));
      },
      ownKeys() {
        state.accessed = true;
        return state.s ? state.s.keys() : [];
      },
      getOwnPropertyDescriptor(target, prop) {
        if (!state.s || typeof prop !== 'string' || !state.s.has(prop)) return undefined;
        return { value: state.s.get(prop), enumerable: true, configurable: true, writable: true };
      },
    });
    req.sessionManager = mgr;

    // Commit before the headers go out; a store failure throws here, before anything is
    // sent, so Express hands it to next(err) and answers 500.
    const writeHead = res.writeHead;
    let done = false;
    res.writeHead = function tenureWriteHead(...args) {
      if (!done) {
        done = true;
        finish(res, state);
      }
      return writeHead.apply(this, args);
    };
    next();
  }

  function appendHeader(res, header, value) {
    const prev = res.getHeader(header);
    if (prev === undefined) res.setHeader(header, value);
    else res.setHeader(header, [].concat(prev, value));
  }

  function finish(res, state) {
    if (state.accessed) appendHeader(res, 'Vary', useHeader ? 'Cookie, Authorization' : 'Cookie');
    const s = state.s;
    if (state.destroyed || !s) {
      if (state.destroyed && useCookie && state.hadCookie) appendHeader(res, 'Set-Cookie', setCookie(null));
      return;
    }
    if (s.modified) {
      try {
        mgr.commit(s);
      } catch (err) {
        if (err.code !== 'TENURE_SESSION_GONE') throw err;
        // Destroyed or expired meanwhile: never resurrected; the client forgets it.
        if (useCookie) appendHeader(res, 'Set-Cookie', setCookie(null));
        return;
      }
    }
    const fresh = state.isNew && (saveUninitialized || s.size > 0 || s.principal);
    if (useCookie && (fresh || state.regenerated || state.resign || rolling)) {
      appendHeader(res, 'Set-Cookie', setCookie(s.id));
    }
  }

  middleware.manager = mgr;
  return middleware;
}

module.exports = { session, default: session };
