'use strict';
// The idiomatic JavaScript API over the wasm core. Only host concerns live here (option
// objects, events as callbacks, timers, per-session objects); every rule is in the core.

const EVENTS = ['created', 'expired', 'destroyed', 'regenerated', 'evicted', 'rejected'];

// JSON text of `value` as JSON.stringify writes it, except that a BigInt (what a session
// gives back for an integer beyond 2^53, e.g. one Python or Rust wrote) is written as its
// exact digits, a JSON number — where JSON.stringify throws. With JSON.rawJSON (Node 21+,
// current browsers) the replacer emits the digits itself; before it, a BigInt goes out as a
// string carrying a random per-call marker, and the marked strings are unquoted afterwards.
// 128 random bits as hex: the marker can't be guessed by whoever wrote the strings.
function nonce() {
  const b = new Uint8Array(16);
  if (globalThis.crypto?.getRandomValues) globalThis.crypto.getRandomValues(b);
  else for (let i = 0; i < b.length; i++) b[i] = Math.floor(Math.random() * 256);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function stringifyJson(value, replacer, space) {
  const user = typeof replacer === 'function' ? replacer : null;
  if (typeof JSON.rawJSON === 'function') {
    return JSON.stringify(value, function big(k, v) {
      const x = user ? user.call(this, k, v) : v;
      return typeof x === 'bigint' ? JSON.rawJSON(x.toString()) : x;
    }, space);
  }
  const mark = `\u0001tenure-bigint-${nonce()}:`;
  let marked = false;
  const text = JSON.stringify(value, function big(k, v) {
    const x = user ? user.call(this, k, v) : v;
    if (typeof x !== 'bigint') return x;
    marked = true;
    return `${mark}${x}`;
  }, space);
  if (!marked) return text;
  // JSON.stringify writes U+0001 as "\u0001": the marker as it appears in the text.
  const written = JSON.stringify(mark).slice(1, -1).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(`"${written}(-?\\d+)"`, 'g'), '$1');
}

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

  const STORE_METHODS = ['get', 'insert', 'replace', 'delete', 'ids'];
  // What tenure/redis's redisStore() marks its stores with (src/redis.cjs).
  const REDIS_STORE = Symbol.for('tenure.redisStore');
  const isRedis = (store) => store != null && store[REDIS_STORE] === true;

  function invalidPolicy(message) {
    return Object.assign(new Error(message), { code: 'TENURE_INVALID_POLICY' });
  }

  function checkOptions(options, name) {
    if (options === null || typeof options !== 'object') throw invalidPolicy(`${name} options must be an object`);
    const { clock, store, autoSweep, ...policy } = options;
    if (clock !== undefined && !(clock instanceof ManualClock)) throw invalidPolicy('clock must be a tenure ManualClock');
    if (isRedis(store)) {
      if (name !== 'AsyncSessionManager') {
        throw invalidPolicy(`a Redis store answers asynchronously: use AsyncSessionManager, not ${name} (tenure/express makes one for it)`);
      }
    } else if (store != null) {
      if (typeof store !== 'object' && typeof store !== 'function') throw invalidPolicy('store must be an object with the store protocol\'s methods');
      for (const m of STORE_METHODS) {
        let method;
        // A Proxy store may throw from its traps: a clear error, not the trap's own.
        try { method = store[m]; } catch (e) { throw invalidPolicy(`reading store.${m} threw: ${e?.message ?? e}`); }
        if (typeof method !== 'function') {
          throw invalidPolicy(`store lacks the method ${m}() of the store protocol (${STORE_METHODS.join(', ')})`);
        }
      }
    }
    return { clock, store, autoSweep, policy };
  }

  // A flat plain object of strings, booleans, null and numbers that are safe integers or
  // finite non-integers (what the core stores as is), with no key the JSON form escapes
  // ('$…'): its JSON text, which crosses into wasm as one string instead of a walk of the
  // object key by key. Anything else: null (the object is converted the general way).
  // Only a small object takes this path (FAST_PATH_UNITS UTF-16 units of keys and strings):
  // a larger one is left to the general conversion, which stops at the session's limits
  // instead of serializing the whole object first.
  const FAST_PATH_UNITS = 16 * 1024;
  function flatJson(data) {
    if (data === null || typeof data !== 'object' || Object.getPrototypeOf(data) !== Object.prototype) return null;
    let units = 0;
    for (const k in data) {
      if (!Object.hasOwn(data, k) || k.charCodeAt(0) === 36) return null;
      const v = data[k];
      units += k.length + 8;
      if (units > FAST_PATH_UNITS) return null;
      switch (typeof v) {
        case 'string':
          units += v.length;
          if (units > FAST_PATH_UNITS) return null;
          break;
        case 'boolean':
        case 'undefined':
          break;
        case 'number':
          if (!Number.isSafeInteger(v) && !(Number.isFinite(v) && !Number.isInteger(v))) return null;
          break;
        default:
          if (v !== null) return null;
      }
    }
    return JSON.stringify(data);
  }

  // create/draft with data: the JSON fast path when it applies, else the object.
  function createWith(native, principal, data, draft) {
    if (data != null) {
      let json = null;
      // A hostile object (a Proxy whose traps throw, a throwing getter) is left to the
      // general conversion, which refuses it with TENURE_INVALID_VALUE.
      try { json = flatJson(data); } catch { json = null; }
      if (json !== null) {
        const s = native.createJson(principal, json, draft);
        if (s !== undefined) return s;
      }
    }
    return draft ? native.draft(principal, data) : native.create(principal, data);
  }

  // What both managers share: events, perSession, the sweep timer.
  class Base {
    _init(clock, store, autoSweep) {
      this.clock = clock;
      this.store = store;
      this._listeners = Object.fromEntries(EVENTS.map((e) => [e, []]));
      this._timer = null;
      this._listening = false;
      if (autoSweep) this.startAutoSweep(autoSweep === true ? 60_000 : autoSweep);
    }

    /** Calls fn(id) on created/expired/destroyed/evicted, fn(oldId, newId, cleared) on regenerated. */
    on(event, fn) {
      if (!this._listeners[event]) {
        throw Object.assign(new Error(`unknown event ${JSON.stringify(event)}; events are ${EVENTS.join(', ')}`), { code: 'TENURE_INVALID_VALUE' });
      }
      this._listeners[event].push(fn);
      this._listen();
      return this;
    }

    // Until something listens (on(), perSession), the core drops its events after each
    // operation, and nothing crosses into JS for them.
    _listen() {
      if (!this._listening) {
        this._listening = true;
        this._native.setEvents(true);
      }
    }

    // Events describe what already happened: a listener that throws must not turn a
    // successful operation into an exception, nor keep the other listeners or the later
    // events from running. Its error is reported on stderr (as Python logs it).
    _dispatch() {
      if (!this._listening) return;
      for (const [name, id, newId, cleared] of this._native.drainEvents()) {
        for (const fn of this._listeners[name]) {
          try {
            if (name === 'regenerated') fn(id, newId, cleared);
            else if (name === 'rejected') fn();
            else fn(id);
          } catch (err) {
            console.error(`tenure: a '${name}' listener threw:`, err);
          }
        }
      }
    }

    now() { return this._native.now(); }
    /** The policy's idle timeout in ms (null: never). */
    get idleTimeout() { return this._native.idleTimeout ?? null; }
    /** The policy's absolute timeout in ms (null: never). */
    get absoluteTimeout() { return this._native.absoluteTimeout ?? null; }

    startAutoSweep(intervalMs = 60_000) {
      this.stopAutoSweep();
      this._timer = setInterval(() => {
        try {
          const r = this.sweep();
          if (r && typeof r.then === 'function') r.then(null, () => { /* next tick retries */ });
        } catch { /* next tick retries */ }
      }, intervalMs);
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

  // A Session argument, checked before wasm-bindgen's own check (a plain Error without a code).
  const sessionArg = (s) => {
    if (!(s instanceof wasm.Session)) {
      throw Object.assign(new TypeError(`expected a Session, not ${s === null ? 'null' : typeof s}`), { code: 'TENURE_INVALID_VALUE' });
    }
    return s;
  };

  class SessionManager extends Base {
    /**
     * @param {object} [options] idleTimeout, absoluteTimeout (ms, null = never), touchInterval,
     *   maxSessions, onFull ('reject' | 'evictLru'), maxDataBytes, maxKeyBytes, maxDepth,
     *   idBytes, store (get/insert/replace/delete/ids, synchronous), clock (ManualClock),
     *   autoSweep (true or ms)
     */
    constructor(options = {}) {
      super();
      const { clock, store, autoSweep, policy } = checkOptions(options, 'SessionManager');
      this._native = new wasm.Manager({ ...policy, store }, clock ? clock._native.share() : undefined);
      this._init(clock, store, autoSweep);
    }

    _call(f) {
      try {
        return f();
      } finally {
        this._dispatch();
      }
    }

    create({ principal, data } = {}) {
      const n = this._native;
      if (!this._listening) return createWith(n, principal ?? undefined, data, false);
      return this._call(() => createWith(n, principal ?? undefined, data, false));
    }
    /** A new session that is not stored yet (no I/O); store it with insertDraft. */
    draft({ principal, data } = {}) { return createWith(this._native, principal ?? undefined, data, true); }
    insertDraft(session) {
      const s = sessionArg(session);
      if (!this._listening) this._native.insertDraft(s);
      else this._call(() => this._native.insertDraft(s));
    }
    open(id) {
      if (typeof id !== 'string') return null;
      if (!this._listening) return this._native.open(id) ?? null;
      return this._call(() => this._native.open(id)) ?? null;
    }
    peek(id) { return typeof id === 'string' ? this._call(() => this._native.peek(id)) ?? null : null; }
    commit(session) {
      const s = sessionArg(session);
      if (!this._listening) this._native.commit(s);
      else this._call(() => this._native.commit(s));
    }
    regenerate(session, clear = false) { this._call(() => this._native.regenerate(sessionArg(session), clear)); }
    setIdleTimeout(session, ms) { this._native.setIdleTimeout(sessionArg(session), ms ?? undefined); }
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
    metrics() { return this._native.metrics(); }
    export() { return this._native.export(); }
    import(bytes) { return this._call(() => this._native.import(bytes)); }
  }

  // One call of the store protocol; a value or a Promise.
  // The index methods (count, due, idsOf, unindex) are optional: a store without one
  // answers null, and the core reads every record instead.
  function callStore(store, [method, id, bytes, expected]) {
    const optional = (name, ...args) => (typeof store[name] === 'function' ? store[name](...args) : null);
    switch (method) {
      case 'get': return store.get(id);
      case 'insert': return store.insert(id, bytes);
      case 'replace': return store.replace(id, bytes, expected);
      case 'delete': return expected === undefined ? store.delete(id) : store.delete(id, expected);
      case 'count': return optional('count');
      case 'due': return optional('due', id, bytes);
      case 'ids_of': return optional('idsOf', id);
      case 'unindex': return optional('unindex', id, bytes);
      default: return store.ids();
    }
  }

  /**
   * The manager for asynchronous stores: the same options, events and method names as
   * SessionManager, but every operation returns a Promise. The store's methods may return
   * values or Promises. Operations may interleave freely in one event loop: each runs the
   * core's operation in its own PendingOp, and every write is conditional (a conflict is
   * re-read and re-merged by the core), so no update is lost and no session comes back.
   * Without a store the in-memory core answers at once.
   */
  class AsyncSessionManager extends Base {
    constructor(options = {}) {
      super();
      const { clock, store, autoSweep, policy } = checkOptions(options, 'AsyncSessionManager');
      // The native manager keeps the policy, clock, counters and events; with a store it
      // never touches its own (memory) store: operations go through PendingOps.
      this._native = new wasm.Manager({ ...policy }, clock ? clock._native.share() : undefined);
      // Over Redis, each request of an operation is a batch of commands (the core's) that
      // the store sends as one pipeline; its answer is one reply per command.
      this._redis = isRedis(store);
      if (this._redis) this._native.setRedis(store.prefix, store.graceMs);
      this._init(clock, store, autoSweep);
      this._writes = new Map(); // session id -> the tail of its queue of writes
    }

    // Writes to one session from this process (commit, regenerate, insertDraft) run one
    // after another: they would only conflict with each other and spend the core's
    // bounded compare-and-set retries. Other processes' writes are still caught by the
    // conditional writes; reads and destroy are never queued (a logout wins at once).
    _serial(id, f) {
      if (this.store == null) return f();
      const prev = this._writes.get(id);
      // Uncontended, the operation begins now (its snapshot of the session is taken now).
      const run = prev ? prev.then(f) : f();
      const tail = run.then(() => {}, () => {});
      this._writes.set(id, tail);
      tail.then(() => { if (this._writes.get(id) === tail) this._writes.delete(id); });
      return run;
    }

    // Runs one operation: begin (synchronous: argument errors throw here and reject), then
    // each store request awaited in turn, then finish (which folds events and counters in).
    async _run(begin, sync, session) {
      if (this.store == null) {
        try {
          return sync();
        } finally {
          this._dispatch();
        }
      }
      const op = begin();
      try {
        let request = op.step(undefined);
        while (request !== null) {
          let ok = true;
          let reply;
          try {
            reply = await (this._redis ? this.store.send(request) : callStore(this.store, request));
          } catch (err) {
            ok = false;
            reply = err;
          }
          request = ok ? op.step(reply) : op.fail(reply);
        }
        return session === undefined ? op.finish(this._native) : op.finishSession(this._native, session);
      } finally {
        op.free();
        this._dispatch();
      }
    }

    create({ principal, data } = {}) {
      const n = this._native;
      return this._run(() => n.beginCreate(principal ?? undefined, data), () => n.create(principal ?? undefined, data));
    }
    /** A new session that is not stored yet (no I/O, synchronous); store it with insertDraft. */
    draft({ principal, data } = {}) { return this._native.draft(principal ?? undefined, data); }
    async insertDraft(session) {
      sessionArg(session);
      const n = this._native;
      await this._serial(session.id, () => this._run(() => n.beginInsertDraft(session), () => n.insertDraft(session), session));
    }
    async open(id) {
      if (typeof id !== 'string') return null;
      const n = this._native;
      return (await this._run(() => n.beginOpen(id), () => n.open(id))) ?? null;
    }
    async peek(id) {
      if (typeof id !== 'string') return null;
      const n = this._native;
      return (await this._run(() => n.beginPeek(id), () => n.peek(id))) ?? null;
    }
    async commit(session) {
      sessionArg(session);
      const n = this._native;
      await this._serial(session.id, () => this._run(() => n.beginCommit(session), () => n.commit(session), session));
    }
    async regenerate(session, clear = false) {
      sessionArg(session);
      const n = this._native;
      await this._serial(session.id, () => this._run(() => n.beginRegenerate(session, clear), () => n.regenerate(session, clear), session));
    }
    async setIdleTimeout(session, ms) { this._native.setIdleTimeout(sessionArg(session), ms ?? undefined); }
    async destroy(id) {
      if (typeof id !== 'string') return false;
      const n = this._native;
      return this._run(() => n.beginDestroy(id), () => n.destroy(id));
    }
    destroyAllOf(principal, except) {
      const n = this._native;
      return this._run(() => n.beginDestroyAllOf(principal, except ?? undefined), () => n.destroyAllOf(principal, except ?? undefined));
    }
    destroyAll() {
      const n = this._native;
      return this._run(() => n.beginDestroyAll(), () => n.destroyAll());
    }
    sessionsOf(principal) {
      const n = this._native;
      return this._run(() => n.beginSessionsOf(principal), () => n.sessionsOf(principal));
    }
    async list(cursor = null, limit = 100) {
      const n = this._native;
      const [sessions, next] = await this._run(() => n.beginList(cursor ?? undefined, limit), () => n.list(cursor ?? undefined, limit));
      return { sessions, cursor: next };
    }
    count() {
      const n = this._native;
      return this._run(() => n.beginCount(), () => n.count());
    }
    sweep() {
      const n = this._native;
      return this._run(() => n.beginSweep(), () => n.sweep());
    }
    async nextDeadline() {
      const n = this._native;
      return (await this._run(() => n.beginNextDeadline(), () => n.nextDeadline())) ?? null;
    }
    metrics() {
      const n = this._native;
      return this._run(() => n.beginMetrics(), () => n.metrics());
    }
    export() {
      const n = this._native;
      return this._run(() => n.beginExport(), () => n.export());
    }
    import(bytes) {
      const n = this._native;
      return this._run(() => n.beginImport(bytes), () => n.import(bytes));
    }
  }

  function perSession(manager, factory) {
    const objects = new Map();
    // Through the public events alone: a regenerate tells whether the data was cleared.
    const drop = (id) => { objects.delete(id); };
    manager.on('expired', drop).on('destroyed', drop).on('evicted', drop);
    manager.on('regenerated', (oldId, newId, cleared) => {
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
    stringifyJson,
    SessionManager,
    AsyncSessionManager,
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
    WebConfig: wasm.WebConfig,
    isSecureRequest: wasm.isSecureRequest,
    Incoming: wasm.Incoming,
    recordVersion: (bytes) => wasm.recordVersion(bytes) ?? null,
  };
}

module.exports = { createApi };
