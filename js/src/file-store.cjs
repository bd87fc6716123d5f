'use strict';
// One file per session in a folder, safe for several processes (Node, Rust, Python) sharing
// it: the layout and lock protocol of docs/stores.md ("The file layout"), the same as
// crates/tenure/src/store/file.rs.
//
//   <dir>/<id>.json                the v1 record; replaced by renaming a temporary file over it
//   <dir>/.<id>.<pid>-<n>.tmp      a write in progress (mode 0600, fsynced before the rename)
//   <dir>/<id>.lock                held by insert/replace/delete while they check and write:
//                                  "tenure-lock 1 <pid> <nonce> <unix ms> <pid namespace>\n"
//
// Every operation is written once, as a generator that yields file-system steps; FileStore
// runs the steps synchronously and AsyncFileStore with fs.promises, so the two can never
// drift apart in what they do on disk.
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const wasm = require('../dist/node/tenure_wasm.js');

/** A lock older than this is stale whoever holds it (holders hold for milliseconds). */
const STALE_AFTER_MS = 10_000;
/** How long a writer waits for a lock by default; longer than STALE_AFTER_MS so a waiter
 * outlasts a hung holder and breaks its lock. */
const DEFAULT_LOCK_WAIT_MS = 20_000;
/** A temporary or broken-lock file older than this belongs to a crashed writer. */
const LEFTOVER_AFTER_MS = 60_000;

let counter = 0;

// The steps, run synchronously or asynchronously. Each maps to one fs call.
const SYNC = {
  read: (f) => fs.readFileSync(f),
  readText: (f) => fs.readFileSync(f, 'utf8'),
  mtime: (f) => fs.statSync(f).mtimeMs,
  createExclusive: (f, data) => fs.writeFileSync(f, data, { flag: 'wx', mode: 0o600 }),
  writeSynced: (f, data) => {
    const fd = fs.openSync(f, 'wx', 0o600);
    try {
      fs.writeSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  },
  rename: (a, b) => fs.renameSync(a, b),
  link: (a, b) => fs.linkSync(a, b),
  unlink: (f) => fs.unlinkSync(f),
  readdir: (d) => fs.readdirSync(d),
  sleep: (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms),
};

const ASYNC = {
  read: (f) => fs.promises.readFile(f),
  readText: (f) => fs.promises.readFile(f, 'utf8'),
  mtime: async (f) => (await fs.promises.stat(f)).mtimeMs,
  createExclusive: (f, data) => fs.promises.writeFile(f, data, { flag: 'wx', mode: 0o600 }),
  writeSynced: async (f, data) => {
    const h = await fs.promises.open(f, 'wx', 0o600);
    try {
      await h.write(data);
      await h.sync();
    } finally {
      await h.close();
    }
  },
  rename: (a, b) => fs.promises.rename(a, b),
  link: (a, b) => fs.promises.link(a, b),
  unlink: (f) => fs.promises.unlink(f),
  readdir: (d) => fs.promises.readdir(d),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

function runSync(gen) {
  let step = gen.next();
  while (!step.done) {
    const [op, ...args] = step.value;
    let result;
    try {
      result = SYNC[op](...args);
    } catch (e) {
      step = gen.throw(e);
      continue;
    }
    step = gen.next(result);
  }
  return step.value;
}

async function runAsync(gen) {
  let step = gen.next();
  while (!step.done) {
    const [op, ...args] = step.value;
    let result;
    try {
      result = await ASYNC[op](...args);
    } catch (e) {
      step = gen.throw(e);
      continue;
    }
    step = gen.next(result);
  }
  return step.value;
}

/** The version of encoded record bytes, as crate::record::stored_version reads it; null if
 * the bytes are not a v1 record. Versions past 2^53 read as null (never reached in practice). */
function storedVersion(bytes) {
  try {
    const r = JSON.parse(Buffer.from(bytes).toString('utf8'));
    return r && r.v === 1 && Number.isSafeInteger(r.version) && r.version >= 0 ? r.version : null;
  } catch {
    return null;
  }
}

function sameVersion(stored, expected) {
  // expected may arrive as a number or a BigInt (a u64 from wasm).
  return stored !== null && BigInt(stored) === BigInt(expected);
}

let pidNs;
/** Our pid namespace (`pid:[4026531836]`), '-' if unknown: a pid from another namespace (a
 * container sharing the folder) says nothing about liveness here. */
function pidNamespace() {
  if (pidNs === undefined) {
    try {
      pidNs = fs.readlinkSync('/proc/self/ns/pid').replace(/\s/g, '');
    } catch {
      pidNs = '-';
    }
  }
  return pidNs;
}

/** Whether process `pid` of our namespace is alive; null if this host cannot tell. A zombie
 * counts as dead: it holds nothing, it just has not been reaped. */
function pidAlive(pid) {
  if (fs.existsSync('/proc/self/stat')) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      // "pid (comm) S ...": comm may hold spaces and parentheses.
      const state = stat.slice(stat.lastIndexOf(')') + 1).trim()[0];
      return !(state === 'Z' || state === 'X');
    } catch (e) {
      return e.code === 'ENOENT' ? false : null;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    if (e.code === 'ESRCH') return false;
    return e.code === 'EPERM' ? true : null;
  }
}

function parseLock(text) {
  const p = text.trim().split(/\s+/);
  if (p.length < 6 || p[0] !== 'tenure-lock' || p[1] !== '1') return null;
  const pid = Number(p[2]);
  const at = Number(p[4]);
  if (!Number.isSafeInteger(pid) || !Number.isSafeInteger(at)) return null;
  return { pid, at, ns: p[5] };
}

function isStale(info) {
  const now = Date.now();
  // A timestamp far in the future (the clock went back) counts as old too.
  const old = (t) => Math.abs(now - t) > STALE_AFTER_MS;
  const holder = parseLock(info.text);
  if (!holder) return old(info.mtime); // empty or partial: being written, or its writer died
  return old(holder.at) || (holder.ns === pidNamespace() && pidAlive(holder.pid) === false);
}

class Protocol {
  constructor(dir, options = {}) {
    this.dir = dir;
    this.lockWait = options.lockWait ?? DEFAULT_LOCK_WAIT_MS;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  _check(id) {
    if (!wasm.isPlausibleId(id)) throw new Error(`${JSON.stringify(id)} is not a session id`);
  }

  _record(id) { return path.join(this.dir, `${id}.json`); }

  _lock(id) { return path.join(this.dir, `${id}.lock`); }

  _unique(id, ext) { return path.join(this.dir, `.${id}.${process.pid}-${counter++}.${ext}`); }

  * _readOpt(f) {
    try {
      return yield ['read', f];
    } catch (e) {
      if (e.code === 'ENOENT') return null;
      throw e;
    }
  }

  /** The lock file's text and mtime, or null if it is gone. */
  * _readLock(f) {
    try {
      const mtime = yield ['mtime', f];
      const text = yield ['readText', f];
      return { text, mtime };
    } catch (e) {
      if (e.code === 'ENOENT') return null;
      throw e;
    }
  }

  /** Breaks the lock at `f` if stale; true if the caller should retry at once. Renaming first
   * means one breaker wins; re-judging what was renamed catches a lock broken and re-taken
   * between our read and our rename, which is then put back with link (never overwrites). */
  * _breakIfStale(id, f) {
    const seen = yield* this._readLock(f);
    if (!seen) return true;
    if (!isStale(seen)) return false;
    const aside = this._unique(id, 'broken');
    try {
      yield ['rename', f, aside];
    } catch (e) {
      if (e.code === 'ENOENT') return true; // someone else broke or released it first
      throw e;
    }
    const renamed = yield* this._readLock(aside);
    if (!(renamed && renamed.text === seen.text && isStale(renamed))) {
      // We took a live lock: give it back unless a new holder exists (the displaced holder
      // then fails its stillOurs check instead of writing).
      try { yield ['link', aside, f]; } catch { /* a new holder exists */ }
    }
    try { yield ['unlink', aside]; } catch { /* gone */ }
    return true;
  }

  /** Takes id's lock (breaking a stale one), waiting at most lockWait; returns our line. */
  * _acquire(id) {
    const f = this._lock(id);
    const line = `tenure-lock 1 ${process.pid} ${crypto.randomBytes(8).toString('hex')} ${Date.now()} ${pidNamespace()}\n`;
    const start = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        // No fsync: the lock only coordinates live processes; an empty lock left by a power
        // loss is judged by its age.
        yield ['createExclusive', f, line];
        return line;
      } catch (e) {
        if (e.code !== 'EEXIST') throw e;
      }
      if (yield* this._breakIfStale(id, f)) continue;
      if (Date.now() - start >= this.lockWait) {
        const holder = yield* this._readLock(f);
        throw Object.assign(new Error(
          `session ${id}: lock ${f} still held after ${this.lockWait} ms (holder: ${holder ? holder.text.trim() : 'gone'})`,
        ), { code: 'TENURE_STORE_ERROR' });
      }
      // 0.25 ms doubling to 16 ms, jittered so waiters do not retry in lockstep.
      const base = 0.25 * 2 ** Math.min(attempt, 6);
      yield ['sleep', base / 2 + Math.random() * base];
    }
  }

  * _stillOurs(id, line) {
    const f = this._lock(id);
    let text = null;
    try { text = yield ['readText', f]; } catch { /* gone: not ours */ }
    if (text !== line) {
      throw Object.assign(new Error(
        `lost the lock ${f} (held past ${STALE_AFTER_MS} ms and broken by another process); nothing written`,
      ), { code: 'TENURE_STORE_ERROR' });
    }
  }

  /** Runs `decide(current bytes or null)` holding id's lock; it returns 'skip', 'remove' or
   * the bytes to write. */
  * _locked(id, decide) {
    this._check(id);
    const record = this._record(id);
    const line = yield* this._acquire(id);
    try {
      const action = decide(yield* this._readOpt(record));
      if (action === 'skip') return false;
      if (action === 'remove') {
        yield* this._stillOurs(id, line);
        try {
          yield ['unlink', record];
          return true;
        } catch (e) {
          if (e.code === 'ENOENT') return false;
          throw e;
        }
      }
      let tmp = this._unique(id, 'tmp');
      try {
        yield ['writeSynced', tmp, action];
      } catch (e) {
        if (e.code !== 'EEXIST') throw e;
        // Left by a crashed process that had our pid.
        tmp = this._unique(id, 'tmp');
        yield ['writeSynced', tmp, action];
      }
      try {
        // Commit only while the lock is still ours: a holder stalled past STALE_AFTER_MS may
        // have lost it, and must not overwrite the new holder's write.
        yield* this._stillOurs(id, line);
        yield ['rename', tmp, record];
      } catch (e) {
        try { yield ['unlink', tmp]; } catch { /* gone */ }
        throw e;
      }
      return true;
    } finally {
      // Release only a lock that is still ours (it may have been broken as stale).
      let text = null;
      try { text = yield ['readText', this._lock(id)]; } catch { /* gone */ }
      if (text === line) {
        try { yield ['unlink', this._lock(id)]; } catch { /* gone */ }
      }
    }
  }

  * _get(id) {
    if (!wasm.isPlausibleId(id)) return null;
    const b = yield* this._readOpt(this._record(id));
    return b === null ? null : new Uint8Array(b);
  }

  * _insert(id, bytes) {
    return yield* this._locked(id, (cur) => (cur === null ? bytes : 'skip'));
  }

  * _replace(id, bytes, expected) {
    return yield* this._locked(id, (cur) => (
      cur !== null && sameVersion(storedVersion(cur), expected) ? bytes : 'skip'));
  }

  * _delete(id, expected) {
    if (!wasm.isPlausibleId(id)) return false;
    return yield* this._locked(id, (cur) => {
      if (cur === null) return 'skip';
      if (expected === undefined || expected === null) return 'remove';
      return sameVersion(storedVersion(cur), expected) ? 'remove' : 'skip';
    });
  }

  * _olderThan(f, ms) {
    try {
      return Date.now() - (yield ['mtime', f]) > ms;
    } catch {
      return false;
    }
  }

  * _ids() {
    const ids = [];
    for (const name of yield ['readdir', this.dir]) {
      const f = path.join(this.dir, name);
      if (name.endsWith('.json')) {
        const id = name.slice(0, -5);
        if (wasm.isPlausibleId(id)) ids.push(id);
      } else if (name.startsWith('.') && (name.endsWith('.tmp') || name.endsWith('.broken'))) {
        // A crashed writer's leftovers; another process may remove them first.
        if (yield* this._olderThan(f, LEFTOVER_AFTER_MS)) {
          try { yield ['unlink', f]; } catch { /* gone */ }
        }
      } else if (name.endsWith('.lock')) {
        // A crashed holder's lock would outlive its session otherwise.
        const id = name.slice(0, -5);
        if (wasm.isPlausibleId(id) && (yield* this._olderThan(f, LEFTOVER_AFTER_MS))) {
          yield* this._breakIfStale(id, f);
        }
      }
    }
    return ids.sort();
  }
}

/** The store protocol over a folder, synchronous (what the sync SessionManager calls). */
class FileStore extends Protocol {
  /** @param {string} dir the folder (created 0700 if missing) @param {{lockWait?: number}} [options] */
  constructor(dir, options) { super(dir, options); }
  get(id) { return runSync(this._get(id)); }
  insert(id, bytes) { return runSync(this._insert(id, bytes)); }
  replace(id, bytes, expected) { return runSync(this._replace(id, bytes, expected)); }
  delete(id, expected) { return runSync(this._delete(id, expected)); }
  ids() { return runSync(this._ids()); }
  /** Test hook: takes id's lock and keeps it (a holder that hangs); returns the lock line. */
  _holdLock(id) { this._check(id); return runSync(this._acquire(id)); }
}

/** The same store and on-disk protocol, every method returning a Promise (fs.promises). */
class AsyncFileStore extends Protocol {
  /** @param {string} dir the folder (created 0700 if missing) @param {{lockWait?: number}} [options] */
  constructor(dir, options) { super(dir, options); }
  get(id) { return runAsync(this._get(id)); }
  insert(id, bytes) { return runAsync(this._insert(id, bytes)); }
  replace(id, bytes, expected) { return runAsync(this._replace(id, bytes, expected)); }
  delete(id, expected) { return runAsync(this._delete(id, expected)); }
  ids() { return runAsync(this._ids()); }
}

module.exports = { FileStore, AsyncFileStore, STALE_AFTER_MS, DEFAULT_LOCK_WAIT_MS };
