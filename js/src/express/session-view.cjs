'use strict';
// `req.session` as express-session gives it: a plain object whose own enumerable
// properties are the data, so nested changes (`req.session.cart.push(x)`), `String()`,
// template literals, `hasOwnProperty`, `console.log` and `JSON.stringify` behave as with
// any object. Its only other members are express-session's: `id`, `cookie` and `req` (not
// enumerable) and `regenerate`, `destroy`, `reload`, `save`, `touch`, `resetMaxAge`, all
// on the prototype (`cookie` and `req` may be assigned: the value is then the view's own).
// tenure's extras live on `req.tenure`, never among the data keys.
//
// Nothing is written through to the tenure session while the handler runs: the values are
// fingerprinted when the request opens the session, and the keys whose fingerprint changed
// (set, changed in place, or deleted) become the session's change log when it is saved, at
// the end of the request or by save(). Unchanged keys are not written, so concurrent
// requests changing other keys still merge.
//
// Per request this is a plain object, its proxy and the proxy's small handler: the members
// are the prototype's (they find the request through the proxy, by a private symbol), since
// defining own properties or filling a WeakMap costs microseconds a request.

/** What the proxy answers for these keys, which the view never holds: the request's state
 * and the view's session id. */
const STATE = Symbol('tenure request state');
const VIEW_ID = Symbol('tenure view id');

const stateOf = (view, name) => {
  const state = view == null ? undefined : view[STATE];
  if (!state) throw new TypeError(`req.session.${name} used on something else than req.session`);
  return state;
};

/** express-session's Session members, on the prototype of every view: each method calls
 * the middleware's `state.methods[name](state, ...args)`. */
const proto = Object.create(Object.prototype);
for (const name of ['regenerate', 'destroy', 'reload', 'save', 'touch', 'resetMaxAge']) {
  Object.defineProperty(proto, name, {
    configurable: true, writable: true, enumerable: false,
    value: {
      [name](...args) {
        const state = stateOf(this, `${name}()`);
        return state.methods[name](state, ...args);
      },
    }[name],
  });
}
// An assigned `cookie` or `req` becomes the view's own (as it was assigned).
const own = (view, key, value) => {
  Object.defineProperty(view, key, { value, enumerable: false, configurable: true, writable: true });
};
Object.defineProperties(proto, {
  id: { configurable: true, enumerable: false, get() { stateOf(this, 'id'); return this[VIEW_ID]; } },
  // Made when first read (most requests never look at it).
  cookie: {
    configurable: true,
    enumerable: false,
    get() { const state = stateOf(this, 'cookie'); return state.methods.cookie(state); },
    set(v) { own(this, 'cookie', v); },
  },
  req: {
    configurable: true,
    enumerable: false,
    get() { return stateOf(this, 'req').req; },
    set(v) { own(this, 'req', v); },
  },
});

/** The proxy's handler: every look at the view notes that the session was accessed (for
 * `Vary`). One small object per view; the traps are shared on the prototype. */
class Watch {
  constructor(state, id) {
    this.state = state;
    this.id = id;
  }

  get(t, p, r) {
    if (p === STATE) return this.state;
    if (p === VIEW_ID) return this.id;
    this.state.accessed = true;
    return Reflect.get(t, p, r);
  }

  set(t, p, v, r) { this.state.accessed = true; return Reflect.set(t, p, v, r); }
  has(t, p) { this.state.accessed = true; return Reflect.has(t, p); }
  ownKeys(t) { this.state.accessed = true; return Reflect.ownKeys(t); }
  deleteProperty(t, p) { this.state.accessed = true; return Reflect.deleteProperty(t, p); }
  getOwnPropertyDescriptor(t, p) { this.state.accessed = true; return Reflect.getOwnPropertyDescriptor(t, p); }
  defineProperty(t, p, d) { this.state.accessed = true; return Reflect.defineProperty(t, p, d); }
}

// A fingerprint that tells apart what JSON would confuse (NaN and null, bytes and maps,
// big integers) and never throws (a cycle or a throwing getter is a change, which the core
// then refuses by name).
function replacer(_key, x) {
  if (typeof x === 'bigint') return ['$bigint', String(x)];
  if (typeof x === 'number' && !Number.isFinite(x)) return ['$number', String(x)];
  if (typeof x === 'function' || typeof x === 'symbol') return ['$' + typeof x];
  if (ArrayBuffer.isView(x)) return ['$bytes', Array.from(new Uint8Array(x.buffer, x.byteOffset, x.byteLength))];
  return x;
}
let unique = 0;
function fingerprint(v) {
  // Strings, finite numbers, booleans and null (most session values) are written as JSON
  // writes them, without the replacer's call per value.
  switch (typeof v) {
    case 'undefined': return undefined;
    case 'string': return JSON.stringify(v);
    case 'boolean': return v ? 'true' : 'false';
    case 'number': if (Number.isFinite(v)) return String(v); break;
    default: if (v === null) return 'null';
  }
  try {
    return JSON.stringify(v, replacer);
  } catch {
    unique += 1;
    return { unique }; // never equal to anything
  }
}

/** The fingerprints of the view's data keys. */
function snapshot(view) {
  const snap = new Map();
  for (const k of Object.keys(view)) snap.set(k, fingerprint(view[k]));
  return snap;
}

const plain = (o) => {
  const p = Object.getPrototypeOf(o);
  return p === Object.prototype || p === null;
};

/** The value stored for `v`, by express-session's rule (JSON: an object with `toJSON`,
 * such as a Date, is stored as what it returns; `undefined` members vanish), keeping
 * tenure's exact types (bytes, big integers); what JSON would mangle silently (NaN,
 * functions, class instances) reaches the core, which refuses it naming the key. */
function stored(v) {
  return storedWithin(v, 0, { left: STORED_VISITS });
}
// Past the core's deepest allowed nesting, or past this many values, the rest is handed to
// the core as it is: the core's budget then refuses it by name at the limit's cost, instead
// of this copy recursing until the stack overflows (a 500) or walking a huge value whole.
const STORED_DEPTH = 101; // the core's MAX_DEPTH_CEILING (100) + 1
const STORED_VISITS = 1_000_000;
function storedWithin(v, depth, budget) {
  if (v === null || typeof v !== 'object') return v;
  if (ArrayBuffer.isView(v)) return v;
  if (depth > STORED_DEPTH || --budget.left < 0) return v;
  if (typeof v.toJSON === 'function') return storedWithin(v.toJSON(), depth + 1, budget);
  if (Array.isArray(v)) {
    if (v.length > budget.left) return v;
    return v.map((x) => (x === undefined ? null : storedWithin(x, depth + 1, budget)));
  }
  if (!plain(v)) return v;
  const out = {};
  for (const k of Object.keys(v)) if (v[k] !== undefined) out[k] = storedWithin(v[k], depth + 1, budget);
  return out;
}

/** Copies stored data into a view, except keys that would hide express-session's members
 * (a record written by another service may hold a `save` key): as express-session does,
 * those stay in the store untouched and out of sight. */
function assignData(view, data) {
  for (const k of Object.keys(data)) {
    if (!(k in view)) view[k] = data[k];
  }
}

/**
 * A view over `data` (an object of values) for the request `state`, showing session `id`.
 * Sets `state.view`, `state.proxy` (what the handler gets: it notes that the session was
 * looked at, for `Vary`), `state.watch` (its handler, which holds the id) and `state.snap`
 * (the fingerprints of `data`); returns the proxy.
 */
function makeView(state, data, id) {
  const view = Object.create(proto);
  assignData(view, data);
  const watch = new Watch(state, id);
  const proxy = new Proxy(view, watch);
  state.view = view;
  state.proxy = proxy;
  state.watch = watch;
  state.snap = snapshot(view);
  return proxy;
}

/** Replaces the data of `view` by `data` (reload), returning the new fingerprints. */
function refill(view, data) {
  for (const k of Object.keys(view)) delete view[k];
  assignData(view, data);
  return snapshot(view);
}

/**
 * Writes what changed in `view` since `snap` into the tenure session `session` (set or
 * delete, key by key; a key set and deleted again in the request is never written) and
 * brings `snap` up to date. Returns whether anything changed. A refused value throws
 * (TENURE_INVALID_VALUE naming the key) and nothing is stored.
 */
function writeChanges(view, snap, session) {
  let changed = false;
  const keys = Object.keys(view);
  for (const k of keys) {
    const v = view[k];
    const fp = fingerprint(v);
    if (snap.get(k) === fp) continue;
    if (v === undefined) {
      if (snap.has(k)) session.delete(k);
    } else {
      session.set(k, stored(v));
    }
    snap.set(k, fp);
    changed = true;
  }
  // Deleted keys: the snapshot holds a key the view no longer has.
  let gone = snap.size > keys.length;
  for (let i = 0; !gone && i < keys.length; i++) gone = !snap.has(keys[i]);
  if (gone) {
    const live = new Set(keys);
    for (const k of [...snap.keys()]) {
      if (live.has(k)) continue;
      session.delete(k);
      snap.delete(k);
      changed = true;
    }
  }
  return changed;
}

/** Notes `value` as the stored value of `key` (after an increment done by the core). */
function noteStored(view, snap, key, value) {
  view[key] = value;
  snap.set(key, fingerprint(value));
}

/** After a commit merged other requests' changes: the keys the handler has not changed
 * since they were last written show the stored values (`data`, the session's object). */
function pullStored(view, snap, data) {
  for (const k of Object.keys(data)) {
    if (fingerprint(view[k]) === snap.get(k)) noteStored(view, snap, k, data[k]);
  }
  for (const k of [...snap.keys()]) {
    if (!(k in data) && fingerprint(view[k]) === snap.get(k)) {
      delete view[k];
      snap.delete(k);
    }
  }
}

module.exports = { makeView, refill, writeChanges, noteStored, pullStored };
