'use strict';
// Connect/Express middleware (Express 4 and 5, plain node:http) that drops in for
// express-session: `req.session` is a plain object of the session's data with
// express-session's methods, `req.sessionID`, `req.session.cookie`; tenure's extras are on
// `req.tenure`. The request lifecycle is the core's (`tenure::web` through WebConfig):
// which id a request names, re-signing under rotation, whether a new session is stored,
// which Set-Cookie / clearing cookie / Vary the response gets, Secure cookies and trusted
// proxies, path scoping. This file only does the I/O around it: headers in, store calls,
// headers out. The same request code runs over a SessionManager (each step at once) and an
// AsyncSessionManager (each step awaited, the response held until the commit answered).
const tenure = require('./index.cjs');
const { readOptions } = require('./express/options.cjs');
const { makeView, refill, writeChanges, noteStored, pullStored } = require('./express/session-view.cjs');
const { SessionCookie } = require('./express/cookie.cjs');

// A request's chain of operations before any: one settled promise for every request.
const RESOLVED = Promise.resolve();

/** Whether a store's calls are asynchronous: it says so (`async = true`) or its protocol
 * methods are `async` functions. */
function isAsyncStore(store) {
  if (store == null) return false;
  if (store.async === true) return true;
  return ['get', 'insert', 'replace', 'delete', 'ids']
    .some((m) => typeof store[m] === 'function' && store[m].constructor && store[m].constructor.name === 'AsyncFunction');
}

// The steps of an operation are written once, as a generator that yields each manager call;
// a driver feeds the answers back: at once for a SessionManager, awaited for an
// AsyncSessionManager.
function runSync(steps) {
  let r = steps.next();
  while (!r.done) r = steps.next(r.value);
  return r.value;
}
async function runAsync(steps) {
  let r = steps.next();
  while (!r.done) {
    let value;
    try {
      value = await r.value;
    } catch (err) {
      r = steps.throw(err);
      continue;
    }
    r = steps.next(value);
  }
  return r.value;
}

/** The URL path a request was made for (before any router mount), without the query. */
function pathOf(req) {
  const url = req.originalUrl ?? req.url ?? '/';
  const q = url.search(/[?#]/);
  return (q === -1 ? url : url.slice(0, q)) || '/';
}

/**
 * @param {object} options express-session's (secret, name, cookie, rolling,
 *   saveUninitialized, resave, proxy, unset, store) plus transport ('cookie' | 'header' |
 *   'both'), manager (a SessionManager or AsyncSessionManager) or the manager's options,
 *   async, onError (err, req, res). See docs/js.md.
 */
function session(options = {}) {
  const opts = readOptions(options);
  // Secrets, transport and cookie settings are checked now (at start-up), by the core.
  const web = new tenure.WebConfig(opts.web);
  const { policy } = opts;
  // One lifetime: a manager made here takes its timeouts from the cookie's lifetime
  // (unless set explicitly); a manager passed in must not end sessions before their cookie.
  let mgr = opts.manager;
  if (!mgr) {
    const t = web.serverTimeouts();
    const made = {
      ...policy,
      idleTimeout: 'idleTimeout' in policy ? policy.idleTimeout : t.idleTimeout,
      absoluteTimeout: 'absoluteTimeout' in policy ? policy.absoluteTimeout : t.absoluteTimeout,
      // A store that only grows is a leak: a manager made here sweeps every minute.
      autoSweep: policy.autoSweep ?? true,
    };
    mgr = opts.wantAsync || isAsyncStore(policy.store)
      ? new tenure.AsyncSessionManager(made)
      : new tenure.SessionManager(made);
  }
  if (!(mgr instanceof tenure.SessionManager) && !(mgr instanceof tenure.AsyncSessionManager)) {
    throw Object.assign(new Error('tenure/express: manager must be a tenure SessionManager or AsyncSessionManager'), { code: 'TENURE_INVALID_POLICY' });
  }
  web.checkTimeouts(mgr.idleTimeout);
  if (opts.web.maxAge !== null) web.checkSessionAge(opts.web.maxAge, mgr.absoluteTimeout);
  const isAsync = mgr instanceof tenure.AsyncSessionManager;
  const cookieName = web.cookieName;
  const vary = web.vary;
  const cookieSettings = {
    path: '/', httpOnly: true, secure: true, sameSite: 'lax', ...opts.cookieSettings,
  };
  // What every request's req.session.cookie shares, made once: its settings (Secure or
  // not, for `secure: 'auto'`), the clock and the lifetime check.
  const cookieShapes = {
    secure: SessionCookie.describe({ ...cookieSettings, secure: true }),
    insecure: SessionCookie.describe({ ...cookieSettings, secure: false }),
  };
  const now = () => mgr.now();
  const checkAge = (age) => web.checkSessionAge(age, mgr.absoluteTimeout);
  // The manager's policy is fixed when it is made: read its idle timeout once.
  const managerIdle = mgr.idleTimeout ?? null;

  function middleware(req, res, next) {
    // express-session: a second session middleware, or a path the cookie is not sent to,
    // leaves the request alone.
    if (req.session !== undefined || !web.coversPath(pathOf(req))) {
      next();
      return;
    }
    let incoming;
    try {
      incoming = web.find(cookieHeaders(req), req.headers.authorization ?? null);
    } catch (err) {
      next(err);
      return;
    }
    if (!isAsync) {
      let state;
      try {
        state = begin(req, res, incoming, incoming.id === null ? null : mgr.open(incoming.id));
      } catch (err) {
        incoming.free();
        next(err);
        return;
      }
      holdSync(res, state);
      try {
        next();
      } catch (err) {
        failure(req, res, next)(err); // plain node:http: the handler threw (a refused value at res.end, say)
      }
      return;
    }
    const fail = failure(req, res, next);
    const opened = incoming.id === null ? Promise.resolve(null) : mgr.open(incoming.id);
    opened.then((s) => {
      const state = begin(req, res, incoming, s);
      holdAsync(res, state, fail);
      try {
        next();
      } catch (err) {
        fail(err); // plain node:http: the handler threw
      }
    }, (err) => {
      incoming.free();
      fail(err);
    });
  }

  // The request's state, its req.session, req.sessionID and req.tenure.
  function begin(req, res, incoming, opened) {
    const state = {
      req, incoming, handle: opened, draft: false, accessed: false, destroyed: false, regenerated: false,
      isNew: false, changed: false, chain: RESOLVED, error: null, owned: [], released: false, finishing: null,
      view: null, proxy: null, watch: null, snap: null, cookie: null, lifetime: null, cookieSecure: true,
      methods: sessionMethods,
    };
    if (opened) state.owned.push(opened);
    else fresh(state);
    show(state, opened ? opened.toObject() : {});
    req.tenure = new Extras(state);
    req.sessionManager = mgr;
    // The handles are freed once the response is over and nothing of ours is in flight
    // (a SessionManager's steps are all done by then).
    // ('close' comes once: `on` spares `once`'s wrapper and removal.)
    if (!isAsync) {
      res.on('close', () => release(state));
    } else {
      res.on('close', () => {
        Promise.all([state.chain, state.finishing]).then(() => release(state), () => release(state));
      });
    }
    return state;
  }

  // A new session for this request, not stored (no I/O) until the core says to keep it.
  function fresh(state, principal) {
    state.handle = mgr.draft({ principal });
    state.owned.push(state.handle);
    state.draft = true;
    state.isNew = true;
  }

  // Gives the handler a view of `data`: req.session, req.sessionID, req.session.cookie.
  function show(state, data) {
    const h = state.handle;
    // The session's cookie lifetime: its own idle timeout when it differs from the
    // manager's (a "remember me" set earlier), else the configured one.
    let original = opts.web.maxAge;
    if (!state.draft) {
      const own = h.idleTimeout ?? null;
      if (own !== managerIdle) original = own;
    }
    // req.session.cookie is made when first read (cookieOf).
    state.cookie = null;
    state.lifetime = original;
    state.cookieSecure = opts.autoSecure ? isSecure(state.req) : cookieSettings.secure;
    const id = h.id;
    state.req.session = makeView(state, data, id);
    state.req.sessionID = id;
  }

  // The request's req.session.cookie, made on first use.
  function cookieOf(state) {
    if (state.cookie === null) {
      const shape = state.cookieSecure ? cookieShapes.secure : cookieShapes.insecure;
      state.cookie = new SessionCookie(shape, state.lifetime, now, checkAge);
    }
    return state.cookie;
  }

  // The cookie lifetime to send: the cookie's if the handler looked at it, else the one it
  // was shown with (unchanged).
  function sendAge(state) {
    return state.cookie === null ? state.lifetime : state.cookie.sendAge;
  }

  // The Cookie header, and (as express-session reads it) our cookie from cookie-parser's
  // req.cookies when a middleware before took it out of the header; the core verifies both.
  function cookieHeaders(req) {
    const header = req.headers.cookie ?? null;
    const parsed = req.cookies && typeof req.cookies[cookieName] === 'string' ? req.cookies[cookieName] : null;
    if (parsed === null) return header;
    const extra = `${cookieName}=${tenure.encodeUriComponent(parsed)}`;
    return header === null ? extra : [header, extra];
  }

  function isSecure(req) {
    return tenure.isSecureRequest({
      tls: Boolean(req.socket && req.socket.encrypted),
      forwardedProto: typeof req.headers['x-forwarded-proto'] === 'string' ? req.headers['x-forwarded-proto'] : null,
      frameworkSecure: typeof req.secure === 'boolean' ? req.secure : undefined,
    }, opts.proxy);
  }

  // Runs `steps` in order with the request's other operations; `cb(err)` when done, or
  // (without a callback) a failure thrown (sync) or kept for the end of the request (async).
  function perform(state, steps, cb) {
    const callback = (err) => {
      if (!cb) return;
      try { cb(err ?? undefined); } catch (e) { if (isAsync) failure(state.req, null, null)(e); else throw e; }
    };
    if (!isAsync) {
      let failed = null;
      try { runSync(steps()); } catch (err) { failed = err; }
      if (failed && !cb) throw failed;
      callback(failed);
      return;
    }
    state.chain = state.chain.then(() => runAsync(steps())).then(() => callback(null), (err) => {
      if (cb) callback(err);
      else if (!state.error) state.error = err;
    });
  }

  // Stores the request's changes now: a new session is inserted (its id is handed out),
  // a stored one committed if anything changed.
  function* saving(state) {
    if (writeChanges(state.view, state.snap, state.handle)) state.changed = true;
    if (state.draft) {
      yield mgr.insertDraft(state.handle);
      state.draft = false;
    } else if (state.handle.modified) {
      const h = state.handle;
      yield mgr.commit(h);
      // What other requests stored meanwhile is now in the session: show it.
      if (state.handle === h) pullStored(state.view, state.snap, h.toObject());
    }
  }

  // express-session's Session methods, called by req.session's (with the request's state).
  const sessionMethods = {
    save(state, cb) { perform(state, () => saving(state), cb); },
    touch(state) { state.cookie?.resetMaxAge(); return state.proxy; },
    resetMaxAge(state) { state.cookie?.resetMaxAge(); return state.proxy; },
    /** req.session.cookie (not a Session method: the view's `cookie` getter). */
    cookie: cookieOf,
    reload(state, cb) {
      perform(state, function* reloading() {
        const id = state.handle.id;
        const s = state.draft ? null : yield mgr.open(id);
        if (!s) throw Object.assign(new Error('failed to load session'), { code: 'TENURE_SESSION_GONE' });
        state.owned.push(s);
        state.handle = s;
        state.snap = refill(state.view, s.toObject());
      }, cb);
    },
    regenerate(state, cb) {
      // As express-session: a new id and empty data (log the user in afterwards, in the
      // callback). A session never stored just starts over. The principal stays (tenure's
      // regenerate keeps it, as the core's does).
      const old = state.handle;
      const wasDraft = state.draft;
      if (wasDraft) fresh(state, old.principal ?? undefined);
      show(state, {});
      perform(state, function* regenerating() {
        if (wasDraft) return;
        yield mgr.regenerate(old, true);
        state.regenerated = true;
        // The view was shown before the new id was known.
        if (state.handle === old) {
          state.watch.id = old.id;
          state.req.sessionID = old.id;
        }
      }, cb);
    },
    destroy(state, cb) {
      const h = state.handle;
      const stored = !state.draft;
      state.destroyed = true;
      state.accessed = true;
      delete state.req.session;
      perform(state, function* destroying() {
        if (stored) yield mgr.destroy(h.id);
      }, cb);
    },
  };

  // tenure's extras (req.tenure), where they cannot collide with data keys.
  class Extras {
    #state;
    constructor(state) {
      this.#state = state;
      this.manager = mgr;
      this.web = web;
    }

    // The request's session, noted as accessed; refused once the response has ended.
    #current() {
      const state = this.#state;
      if (state.released) throw Object.assign(new Error('req.tenure: the response has ended'), { code: 'TENURE_INVALID_VALUE' });
      state.accessed = true;
      return state.handle;
    }

    get id() { return this.#state.released ? null : this.#state.handle.id; }
    get publicId() { return this.#state.released ? null : this.#state.handle.publicId; }
    get isNew() { return this.#state.isNew; }
    get principal() { return this.#state.released ? null : this.#current().principal ?? null; }
    setPrincipal(p, keepData) {
      const state = this.#state;
      const h = this.#current();
      // The handler's changes first: a change of user may clear them with the rest.
      if (writeChanges(state.view, state.snap, h)) state.changed = true;
      h.setPrincipal(p ?? undefined, keepData);
      if (!keepData) state.snap = refill(state.view, h.toObject());
    }
    increment(key, by) {
      const state = this.#state;
      const h = this.#current();
      if (writeChanges(state.view, state.snap, h)) state.changed = true;
      const n = h.increment(key, by);
      noteStored(state.view, state.snap, key, n);
      state.changed = true;
      return n;
    }
    flash(category, message) { this.#current().flash(category, message); this.#state.changed = true; }
    takeFlashes() { return this.#current().takeFlashes(); }
    /** A signed bearer token for this session; a new session is stored first. */
    token() {
      const state = this.#state;
      const h = this.#current();
      if (state.draft) perform(state, () => saving(state));
      return web.token(h.id);
    }
  }

  // The end of the request: store what the handler did, then add the headers the core
  // decides (Vary, Set-Cookie or the clearing cookie).
  function* finishing(res, state) {
    const req = state.req;
    const h = state.handle;
    let ending;
    // For a kept session: whether this request changed it, or its cookie's lifetime (the
    // core decides from these whether the cookie is sent again).
    let changed = false;
    let lifetimeChanged = false;
    if (state.destroyed) {
      ending = 'destroyed';
    } else if (req.session !== state.proxy) {
      // The handler unset req.session: express-session's `unset`.
      state.accessed = true;
      if (opts.unset === 'destroy' && !state.draft) {
        yield mgr.destroy(h.id);
        ending = 'destroyed';
      } else {
        ending = state.draft ? 'no_session' : 'kept';
      }
    } else {
      if (writeChanges(state.view, state.snap, h)) state.changed = true;
      const cookie = state.cookie;
      const cookieChanged = cookie !== null && cookie.changed;
      if (cookieChanged && cookie.originalMaxAge !== 0) {
        // One lifetime: the session lives on the server as long as its cookie.
        yield mgr.setIdleTimeout(h, cookie.originalMaxAge ?? managerIdle);
        state.changed = true;
      }
      if (state.draft) {
        if (web.keepNewSession(h) || cookieChanged) {
          yield mgr.insertDraft(h);
          state.draft = false;
          ending = 'created';
        } else {
          ending = 'no_session';
        }
      } else {
        try {
          if (h.modified) yield mgr.commit(h);
          ending = state.isNew ? 'created' : state.regenerated ? 'regenerated' : 'kept';
          changed = state.changed;
          lifetimeChanged = cookieChanged;
        } catch (err) {
          // Destroyed or expired meanwhile: never resurrected; the core clears the cookie.
          if (err.code !== 'TENURE_SESSION_GONE') throw err;
          ending = 'gone';
        }
      }
    }
    if (state.released) return; // the response is over (the client went away)
    const id = ending === 'destroyed' || ending === 'gone' || ending === 'no_session' ? undefined : h.id;
    // express-session's rule (no Secure cookie over plain HTTP) for `secure: true` or
    // 'auto' as set by the application; tenure's own default Secure cookie is sent anyway,
    // so that http://localhost in development works (browsers keep it there).
    const secure = opts.autoSecure || opts.cookieSettings.secure === true ? isSecure(req) : true;
    // The Set-Cookie value (and Vary), '' (Vary only) or undefined (neither).
    const setCookie = web.respondHeaders(state.incoming, state.accessed, ending, id, changed, lifetimeChanged,
      mgr.now(), sendAge(state), secure, opts.autoSecure);
    if (setCookie === undefined) return;
    appendHeader(res, 'Vary', vary);
    if (setCookie !== '') appendHeader(res, 'Set-Cookie', setCookie);
  }

  // SessionManager: commit when the headers are written; a store failure is thrown there,
  // before anything is sent, so Express hands it to next(err) and answers 500.
  function holdSync(res, state) {
    const writeHead = res.writeHead;
    let done = false;
    res.writeHead = function tenureWriteHead(...args) {
      if (!done && !state.released) {
        done = true;
        runSync(finishing(res, state));
      }
      return writeHead.apply(this, keepSetCookie(res, args));
    };
  }

  // AsyncSessionManager: the first of writeHead/write/end starts the end of the request;
  // those calls (and any later ones) are queued and replayed once it is over.
  function holdAsync(res, state, fail) {
    const orig = { writeHead: res.writeHead, write: res.write, end: res.end };
    Object.defineProperty(res, '__tenureEnd', { value: (...a) => orig.end.apply(res, a), configurable: true });
    let phase = 0; // 0: handler running, 1: finishing, 2: released
    const queue = [];
    const hold = (method) => function tenureHold(...args) {
      if (phase === 2) return orig[method].apply(this, method === 'writeHead' ? keepSetCookie(res, args) : args);
      queue.push([method, args]);
      if (phase === 0) {
        phase = 1;
        state.finishing = state.chain.then(() => {
          if (state.error) throw state.error;
          return runAsync(finishing(res, state));
        });
        state.finishing.then(() => {
          phase = 2;
          for (const [m, a] of queue.splice(0)) orig[m].apply(res, m === 'writeHead' ? keepSetCookie(res, a) : a);
        }, (err) => {
          phase = 2;
          queue.length = 0;
          fail(err);
        }).catch(fail);
      }
      return method === 'write' ? true : this;
    };
    res.writeHead = hold('writeHead');
    res.write = hold('write');
    res.end = hold('end');
  }

  // Whoever handles a failure after the handler ran.
  function failure(req, res, next) {
    let failed = false;
    return (err) => {
      if (failed || !res) { console.error('tenure: a further error after a failed request:', err); return; }
      failed = true;
      try {
        if (opts.onError) opts.onError(err, req, res);
        else if (req.app || next.length >= 1) next(err); // Express, Connect, or a next(err) that takes it
        else report(err, res);
      } catch (e) {
        report(e, res);
      }
    };
  }

  middleware.web = web;
  middleware.manager = mgr;
  return middleware;
}

// `res.writeHead(status, { 'Set-Cookie': ... })` replaces headers set before it: the session
// cookie (and Vary) set by the middleware are kept next to the handler's.
function keepSetCookie(res, args) {
  let i = 0;
  while (i < args.length && (args[i] === null || typeof args[i] !== 'object')) i += 1;
  if (i === args.length) return args;
  const given = args[i];
  const out = args.slice();
  // A raw [name, value, ...] list is appended to what was set before; only an object
  // replaces it.
  if (Array.isArray(given)) return args;
  const merged = { ...given };
  for (const h of ['Set-Cookie', 'Vary']) {
    const mine = res.getHeader(h);
    const k = Object.keys(merged).find((x) => x.toLowerCase() === h.toLowerCase());
    if (mine === undefined || k === undefined) continue;
    // The handler's first, then ours (where express-session puts its cookie).
    merged[k] = h === 'Vary' ? [].concat(merged[k], mine).join(', ') : [].concat(merged[k], mine);
  }
  out[i] = merged;
  return out;
}

// The last resort: a bare 500 (or a cut connection once headers went out), and stderr.
function report(err, res) {
  console.error('tenure: session middleware error:', err);
  try {
    if (!res.headersSent) {
      res.statusCode = 500;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.__tenureEnd ? res.__tenureEnd('Internal Server Error') : res.end('Internal Server Error');
    } else {
      res.destroy();
    }
  } catch { /* the connection is gone */ }
}

function appendHeader(res, header, value) {
  const prev = res.getHeader(header);
  if (prev === undefined) res.setHeader(header, value);
  else res.setHeader(header, [].concat(prev, value));
}

// Frees the request's wasm objects (its sessions and the Incoming) when the response is
// over, instead of leaving them to the FinalizationRegistry.
function release(state) {
  if (state.released) return;
  state.released = true;
  for (const h of state.owned) h.free();
  state.owned.length = 0;
  if (state.incoming) state.incoming.free();
  state.incoming = null;
}

module.exports = { session, default: session };
