'use strict';
// The idiomatic JavaScript API over the wasm core. Only host concerns live here (option
// objects, events as callbacks, timers, per-session objects); every rule is in the core.

const EVENTS = ['created', 'expired', 'destroyed', 'regenerated', 'evicted', 'rejected'];

function createApi(wasm) {
  class ManualClock {
    /** @param {number} [ms] start time in ms since the epoch */
    constructor(ms = 0) {
      this._native = new wasm.ManualClock(ms);
    }
    advance(ms) { this._native.advance(ms); }
    set(ms) { this._native.set(ms); }
    now() { return this._native.now(); }
  }

  class SessionManager {
    /**
     * @param {object} [options] idleTimeout, absoluteTimeout (ms, null = never), touchInterval,
     *   maxSessions, onFull ('reject' | 'evictLru'), maxDataBytes, maxKeyBytes, maxDepth,
     *   idBytes, store (get/insert/replace/delete/ids), clock (ManualClock), autoSweep (true or ms)
     */
    constructor(options = {}) {
      if (options === null || typeof options !== 'object') {
        throw Object.assign(new Error('SessionManager options must be an object'), { code: 'TENURE_INVALID_POLICY' });
      }
      const { clock, store, autoSweep, ...policy } = options;
      if (clock !== undefined && !(clock instanceof ManualClock)) {
        throw Object.assign(new Error('clock must be a tenure ManualClock'), { code: 'TENURE_INVALID_POLICY' });
      }
      if (store != null) {
        for (const m of ['get', 'insert', 'replace', 'delete', 'ids']) {
          if (typeof store[m] !== 'function') {
            throw Object.assign(new Error(`store lacks the method ${m}() of the store protocol`), { code: 'TENURE_INVALID_POLICY' });
          }
        }
      }
      this._native = new wasm.Manager({ ...policy, store }, clock ? clock._native.share() : undefined);
      this.clock = clock;
      this.store = store;
      this._listeners = Object.fromEntries(EVENTS.map((e) => [e, []]));
      this._regenHooks = [];
      this._timer = null;
      if (autoSweep) this.startAutoSweep(autoSweep === true ? 60_000 : autoSweep);
    }

    /** Calls fn(id) on created/expired/destroyed/evicted, fn(oldId, newId) on regenerated. */
    on(event, fn) {
      if (!this._listeners[event]) {
        throw Object.assign(new Error(`unknown event ${JSON.stringify(event)}; events are ${EVENTS.join(', ')}`), { code: 'TENURE_INVALID_VALUE' });
      }
      this._listeners[event].push(fn);
      return this;
    }

    // Events describe what already happened: a listener that throws must not turn a
    // successful operation into an exception, nor keep the other listeners or the later
    // events from running. Its error is reported on stderr (as Python logs it).
    _dispatch() {
      for (const [name, id, newId, cleared] of this._native.drainEvents()) {
        for (const fn of this._listeners[name]) {
          try {
            if (name === 'regenerated') fn(id, newId);
            else if (name === 'rejected') fn();
            else fn(id);
          } catch (err) {
            console.error(`tenure: a '${name}' listener threw:`, err);
          }
        }
        if (name === 'regenerated') for (const hook of this._regenHooks) hook(id, newId, cleared);
      }
    }

    _call(f) {
      try {
        return f();
      } finally {
        this._dispatch();
      }
    }

    create({ principal, data } = {}) { return this._call(() => this._native.create(principal ?? undefined, data)); }
    open(id) { return typeof id === 'string' ? this._call(() => this._native.open(id)) ?? null : null; }
    peek(id) { return typeof id === 'string' ? this._call(() => this._native.peek(id)) ?? null : null; }
    commit(session) { this._call(() => this._native.commit(session)); }
    regenerate(session, clear = false) { this._call(() => this._native.regenerate(session, clear)); }
    setIdleTimeout(session, ms) { this._native.setIdleTimeout(session, ms ?? undefined); }
    destroy(id) { return typeof id === 'string' ? this._call(() => this._native.destroy(id)) : false; }
    destroyAllOf(principal, except) { return this._call(() => this._native.destroyAllOf(principal, except ?? undefined)); }
    destroyAll() { return this._call(() => this._native.destroyAll()); }
    sessionsOf(principal) { return this._call(() => this._native.sessionsOf(principal)); }
    list(cursor = null, limit = 100) {
      const [sessions, next] = this._call(() => this._native.list(cursor ?? undefined, limit));
      return { sessions, cursor: next };
    }
    count() { return this._call(() => this._native.count()); }
    sweep() { return this._call(() => this._native.sweep()); }
    nextDeadline() { return this._native.nextDeadline() ?? null; }
    now() { return this._native.now(); }
    metrics() { return this._native.metrics(); }
    export() { return this._native.export(); }
    import(bytes) { return this._call(() => this._native.import(bytes)); }

    startAutoSweep(intervalMs = 60_000) {
      this.stopAutoSweep();
      this._timer = setInterval(() => { try { this.sweep(); } catch { /* next tick retries */ } }, intervalMs);
      if (typeof this._timer.unref === 'function') this._timer.unref();
      return this;
    }
    stopAutoSweep() {
      if (this._timer) clearInterval(this._timer);
      this._timer = null;
    }
    close() { this.stopAutoSweep(); }

    /** A live object per session, made by factory() on first use and dropped with the session. */
    perSession(factory) { return perSession(this, factory); }
  }

  function perSession(manager, factory) {
    const objects = new Map();
    const drop = (id) => { objects.delete(id); };
    manager.on('expired', drop).on('destroyed', drop).on('evicted', drop);
    manager._regenHooks.push((oldId, newId, cleared) => {
      const obj = objects.get(oldId);
      objects.delete(oldId);
      if (obj !== undefined && !cleared) objects.set(newId, obj);
    });
    const get = (session) => {
      const id = typeof session === 'string' ? session : session && session.id;
      if (typeof id !== 'string') throw Object.assign(new Error('perSession needs a session'), { code: 'TENURE_INVALID_VALUE' });
      let obj = objects.get(id);
      if (obj === undefined) {
        obj = factory();
        objects.set(id, obj);
      }
      return obj;
    };
    get.has = (id) => objects.has(id);
    get.size = () => objects.size;
    get.delete = drop;
    return get;
  }

  return {
    SessionManager,
    ManualClock,
    Session: wasm.Session,
    perSession,
    signCookie: wasm.signCookie,
    unsignCookie: (value, secrets) => wasm.unsignCookie(value, secrets) ?? null,
    unsignCookieIndex: (value, secrets) => wasm.unsignCookieIndex(value, secrets) ?? null,
    checkSecrets: wasm.checkSecrets,
    parseCookieHeader: wasm.parseCookieHeader,
    findSessionId: (header, name, secrets) => wasm.findSessionId(header, name, secrets) ?? null,
    encodeUriComponent: wasm.encodeUriComponent,
    isPlausibleId: wasm.isPlausibleId,
    parseBearer: (header) => wasm.parseBearer(header) ?? null,
    signToken: wasm.signToken,
    unsignToken: (token, secrets) => wasm.unsignToken(token, secrets) ?? null,
    buildSetCookie: wasm.buildSetCookie,
  };
}

module.exports = { createApi };
