'use strict';
// Connect/Express middleware (Express 4 and 5, plain node:http): `req.session` is a tenure
// session with property access. The request lifecycle is the core's (`tenure::web` through
// WebConfig): which id a request names, re-signing under rotation, whether a new session is
// stored, and which Set-Cookie / clearing cookie / Vary the response gets. This file only
// does the I/O around it: headers in, store calls, headers out.
const tenure = require('./index.cjs');

const METHODS = new Set(['id', 'regenerate', 'destroy', 'save', 'increment', 'flash', 'takeFlashes',
  'principal', 'setPrincipal', 'token', 'toJSON', 'isNew', 'publicId']);

function tenureError(code, message) {
  return Object.assign(new Error(message), { code: `TENURE_${code}` });
}

function sessionProxy(api, state, write) {
  return new Proxy(api, {
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
}

/** Whether a store's calls are asynchronous: it says so (`async = true`) or its protocol
 * methods are `async` functions. */
function isAsyncStore(store) {
  if (store == null) return false;
  if (store.async === true) return true;
  return ['get', 'insert', 'replace', 'delete', 'ids']
    .some((m) => typeof store[m] === 'function' && store[m].constructor && store[m].constructor.name === 'AsyncFunction');
}

/**
 * @param {object} options secret (string or array: the first signs, all verify), name
 *   (default 'sid'), cookie ({ path, domain, httpOnly, secure, sameSite, partitioned,
 *   priority, maxAge (ms) }), transport ('cookie' | 'header' | 'both'), rolling,
 *   saveUninitialized, manager (a SessionManager or an AsyncSessionManager) or the manager's
 *   options (an AsyncSessionManager if `async: true`, or if the store says `async = true`
 *   or its methods are `async` functions), onError (err, req, res): what to do with a
 *   failure after the handler ran when `next` can't take it (plain node:http; default: a
 *   bare 500).
 */
function session(options = {}) {
  const {
    secret, name = 'sid', cookie = {}, transport = 'cookie', rolling = false,
    saveUninitialized = false, manager, onError, async: wantAsync, ...policy
  } = options;
  if (secret === undefined) throw tenureError('INVALID_POLICY', 'the session middleware needs a secret');
  const secrets = Array.isArray(secret) ? secret : [secret];
  const { maxAge = null, ...cookieOptions } = cookie;
  // Secrets, transport and cookie settings are checked now (at start-up, not on the first
  // response), by the core.
  const web = new tenure.WebConfig({
    secrets, transport, cookie: { ...cookieOptions, name }, maxAge,
    rolling: Boolean(rolling), saveUninitialized: Boolean(saveUninitialized),
  });
  // Everything else configures the manager made here: a misspelled option is refused by
  // the manager (by name); with a manager of one's own it would be ignored, so it is refused.
  const extra = Object.keys(policy).filter((k) => policy[k] !== undefined);
  if (manager && extra.length) {
    throw tenureError('INVALID_POLICY', `tenure/express: unknown option ${extra.map((k) => JSON.stringify(k)).join(', ')} (with a manager given, the options are secret, name, cookie, transport, rolling, saveUninitialized, manager, onError, async)`);
  }
  // A manager made here sweeps expired sessions every minute (an unref'd timer) unless
  // autoSweep: false; a store that only grows is a leak.
  const made = { ...policy, autoSweep: policy.autoSweep ?? true };
  const mgr = manager ?? (wantAsync || isAsyncStore(policy.store)
    ? new tenure.AsyncSessionManager(made)
    : new tenure.SessionManager(made));
  if (!(mgr instanceof tenure.SessionManager) && !(mgr instanceof tenure.AsyncSessionManager)) {
    throw tenureError('INVALID_POLICY', 'manager must be a tenure SessionManager or AsyncSessionManager');
  }
  if (onError !== undefined && typeof onError !== 'function') {
    throw tenureError('INVALID_POLICY', 'onError must be a function (err, req, res)');
  }

  // Which id the request names, and why (the core reads Cookie and Authorization).
  const lookup = (req) => web.find(req.headers.cookie ?? null, req.headers.authorization ?? null);

  function middleware(req, res, next) {
    if (mgr instanceof tenure.AsyncSessionManager) {
      asyncMiddleware(req, res, next);
      return;
    }
    let state;
    try {
      const incoming = lookup(req);
      const s = incoming.id === null ? null : mgr.open(incoming.id);
      state = { s, incoming, isNew: false, draft: false, accessed: false, destroyed: false, regenerated: false,
        owned: s ? [s] : [], released: false };
    } catch (err) {
      next(err);
      return;
    }
    res.once('close', () => release(state));

    const write = () => writable(state, mgr);
    const store = () => {
      if (state.draft) {
        mgr.insertDraft(state.s);
        state.draft = false;
      }
      return state.s;
    };
    const api = {
      get id() { return state.s ? state.s.id : null; },
      get publicId() { return state.s ? state.s.publicId : null; },
      get isNew() { return state.isNew; },
      get principal() { return state.s ? state.s.principal ?? null : null; },
      setPrincipal(p, keepData) { write().setPrincipal(p ?? undefined, keepData); },
      increment(key, by) { return write().increment(key, by); },
      flash(category, message) { write().flash(category, message); },
      takeFlashes() { state.accessed = true; return state.s ? state.s.takeFlashes() : []; },
      token() { write(); return web.token(store().id); },
      save(cb) {
        if (state.draft) store();
        else if (state.s && state.s.modified) mgr.commit(state.s);
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
        if (state.s && !state.draft) mgr.destroy(state.s.id);
        state.s = null;
        state.isNew = false;
        state.draft = false;
        state.destroyed = true;
        if (cb) cb();
      },
      toJSON() { return state.s ? state.s.toObject() : {}; },
    };
    req.session = sessionProxy(api, state, write);
    req.sessionManager = mgr;

    // Commit before the headers go out; a store failure throws here, before anything is
    // sent, so Express hands it to next(err) and answers 500.
    const writeHead = res.writeHead;
    let done = false;
    res.writeHead = function tenureWriteHead(...args) {
      if (!done && !state.released) {
        done = true;
        finish(res, state);
      }
      return writeHead.apply(this, args);
    };
    next();
  }

  // The same request session over an AsyncSessionManager. The session is opened before
  // next(); operations the handler starts (regenerate, destroy, save) run in order in the
  // background and are awaited at the end; the response (writeHead, write, end) is held
  // until the headers are computed and the commit has answered, then replayed. A failure
  // then goes to next(err) (Express: the error handler, 500 by default) and never escapes
  // as an uncaught exception or an unhandled rejection.
  function asyncMiddleware(req, res, next) {
    let incoming;
    try {
      incoming = lookup(req);
    } catch (err) {
      next(err);
      return;
    }
    const fail = failure(req, res, next);
    const opened = incoming.id === null ? Promise.resolve(null) : mgr.open(incoming.id);
    opened.then((s) => {
      const state = { s, incoming, isNew: false, draft: false, accessed: false, destroyed: false, regenerated: false,
        chain: Promise.resolve(), error: null, owned: s ? [s] : [], released: false, finishing: null };
      // The handles are freed once the response is over and nothing of ours is in flight.
      res.once('close', () => {
        Promise.all([state.chain, state.finishing]).then(() => release(state), () => release(state));
      });
      install(req, res, state, fail);
      try {
        next();
      } catch (err) {
        fail(err); // plain node:http: the handler threw
      }
    }, fail);
  }

  // Whoever handles a failure after the handler ran.
  function failure(req, res, next) {
    let failed = false;
    return (err) => {
      if (failed) { console.error('tenure: a further error after a failed request:', err); return; }
      failed = true;
      try {
        if (onError) onError(err, req, res);
        else if (req.app || next.length >= 1) next(err); // Express, Connect, or a next(err) that takes it
        else report(err, req, res);
      } catch (e) {
        report(e, req, res);
      }
    };
  }

  // The last resort: a bare 500 (or a cut connection once headers went out), and stderr.
  function report(err, req, res) {
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

  function install(req, res, state, fail) {
    // Runs `op` after the earlier ones; `cb(err)` when it is done, or the error kept for
    // the end of the request if there is no callback.
    const enqueue = (op, cb) => {
      state.chain = state.chain.then(op).then(() => callback(cb, null), (err) => {
        if (cb) callback(cb, err);
        else if (!state.error) state.error = err;
      });
    };
    const callback = (cb, err) => {
      if (!cb) return;
      try { cb(err ?? undefined); } catch (e) { fail(e); }
    };
    const later = (cb) => { if (cb) state.chain = state.chain.then(() => callback(cb, null)); };
    const write = () => writable(state, mgr);
    const persist = async () => {
      const s = state.s;
      if (!s) return;
      if (state.draft) {
        await mgr.insertDraft(s);
        if (state.s === s) state.draft = false;
      } else if (s.modified) {
        await mgr.commit(s);
      }
    };
    const api = {
      get id() { return state.s ? state.s.id : null; },
      get publicId() { return state.s ? state.s.publicId : null; },
      get isNew() { return state.isNew; },
      get principal() { return state.s ? state.s.principal ?? null : null; },
      setPrincipal(p, keepData) { write().setPrincipal(p ?? undefined, keepData); },
      increment(key, by) { return write().increment(key, by); },
      flash(category, message) { write().flash(category, message); },
      takeFlashes() { state.accessed = true; return state.s ? state.s.takeFlashes() : []; },
      token() {
        // The client gets this id: the draft is stored (in order with the other operations).
        const s = write();
        if (state.draft) enqueue(persist);
        return web.token(s.id);
      },
      save(cb) { enqueue(persist, cb); },
      regenerate(clear, cb) {
        if (typeof clear === 'function') { cb = clear; clear = false; }
        const s = write();
        state.regenerated = true;
        if (state.draft) {
          if (clear) s.clear();
          later(cb);
        } else {
          enqueue(() => mgr.regenerate(s, Boolean(clear)), cb);
        }
      },
      destroy(cb) {
        state.accessed = true;
        const s = state.s;
        const stored = s && !state.draft;
        state.s = null;
        state.isNew = false;
        state.draft = false;
        state.destroyed = true;
        if (stored) enqueue(() => mgr.destroy(s.id), cb);
        else later(cb);
      },
      toJSON() { return state.s ? state.s.toObject() : {}; },
    };
    req.session = sessionProxy(api, state, write);
    req.sessionManager = mgr;

    // Hold the response: the first of writeHead/write/end starts the end of the request;
    // those calls (and any later ones) are queued and replayed once it is over.
    const orig = { writeHead: res.writeHead, write: res.write, end: res.end };
    Object.defineProperty(res, '__tenureEnd', { value: (...a) => orig.end.apply(res, a), configurable: true });
    let phase = 0; // 0: handler running, 1: finishing, 2: released
    const queue = [];
    const hold = (method) => function tenureHold(...args) {
      if (phase === 2) return orig[method].apply(this, args);
      queue.push([method, args]);
      if (phase === 0) {
        phase = 1;
        state.finishing = finishAsync(res, state);
        state.finishing.then(() => {
          phase = 2;
          for (const [m, a] of queue.splice(0)) orig[m].apply(res, a);
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

  // The end of the request: store what the handler did, then add the headers the core
  // decides (Vary, Set-Cookie or the clearing cookie).
  async function finishAsync(res, state) {
    await state.chain;
    if (state.error) throw state.error;
    const s = state.s;
    let ending = s ? 'kept' : state.destroyed ? 'destroyed' : 'no_session';
    if (s) {
      try {
        if (state.draft) {
          if (web.keepNewSession(s)) {
            await mgr.insertDraft(s);
            state.draft = false;
            ending = 'created';
          } else {
            ending = 'no_session';
          }
        } else {
          if (s.modified) await mgr.commit(s);
          ending = state.isNew ? 'created' : state.regenerated ? 'regenerated' : 'kept';
        }
      } catch (err) {
        // Destroyed or expired meanwhile: never resurrected; the core clears the cookie.
        if (err.code !== 'TENURE_SESSION_GONE') throw err;
        ending = 'gone';
      }
    }
    respond(res, state, ending, s);
  }

  // Frees the request's wasm objects (its sessions and the Incoming) when the response is
  // over, instead of leaving them to the FinalizationRegistry: req.session reads as empty
  // afterwards.
  // The request's session for a write: made on the first write, without I/O, as a draft that
// is stored (with everything written to it) before the response if the core says to keep it,
// or at once by save() and token(). The same for the sync and the async middleware.
function writable(state, mgr) {
  state.accessed = true;
  if (!state.s) {
    if (state.released) throw tenureError('INVALID_VALUE', 'req.session is gone: the response has ended');
    state.s = mgr.draft();
    state.owned.push(state.s);
    state.isNew = true;
    state.draft = true;
    state.destroyed = false;
  }
  return state.s;
}

function release(state) {
    if (state.released) return;
    state.released = true;
    state.s = null;
    for (const h of state.owned) h.free();
    state.owned.length = 0;
    if (state.incoming) state.incoming.free();
    state.incoming = null;
  }

  function respond(res, state, ending, s) {
    if (state.released) return; // the response is over (the client went away)
    const outcome = { accessed: state.accessed, ending, id: s ? s.id : undefined };
    const h = web.respond(state.incoming, outcome, mgr.now());
    if (h.vary) appendHeader(res, 'Vary', h.vary);
    if (h.setCookie) appendHeader(res, 'Set-Cookie', h.setCookie);
  }

  function appendHeader(res, header, value) {
    const prev = res.getHeader(header);
    if (prev === undefined) res.setHeader(header, value);
    else res.setHeader(header, [].concat(prev, value));
  }

  function finish(res, state) {
    const s = state.s;
    let ending = s ? 'kept' : state.destroyed ? 'destroyed' : 'no_session';
    if (s) {
      if (state.draft) {
        if (web.keepNewSession(s)) {
          mgr.insertDraft(s);
          state.draft = false;
          ending = 'created';
        } else {
          ending = 'no_session';
        }
      } else {
        try {
          if (s.modified) mgr.commit(s);
          ending = state.isNew ? 'created' : state.regenerated ? 'regenerated' : 'kept';
        } catch (err) {
          // Destroyed or expired meanwhile: never resurrected; the core clears the cookie.
          if (err.code !== 'TENURE_SESSION_GONE') throw err;
          ending = 'gone';
        }
      }
    }
    respond(res, state, ending, s);
  }

  middleware.web = web;
  middleware.manager = mgr;
  return middleware;
}

module.exports = { session, default: session };
