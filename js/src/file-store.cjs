'use strict';
// One file per session in a folder, safe for several processes (Node, Rust, Python) sharing
// it: the layout and lock protocol of docs/stores.md ("The file layout"), the same as
// crates/tenure/src/store/file.rs.
//
//   <dir>/<id>.json                the v1 record; replaced by renaming a temporary file over it
//   <dir>/.<id>.<pid>-<n>.tmp      a write in progress (mode 0600, fsynced before the rename)
//   <dir>/<id>.lock                held by insert/replace/delete while they check and write:
//                                  "tenure-lock 1 <pid> <nonce> <unix ms> <pid namespace>\n"
//   <dir>/.index/                  the index (deadline buckets, principal sets, count), kept
//                                  under each session's lock: entries before the record,
//                                  removed after it. Its names come from the core (wasm
//                                  fileIndex*), so Rust, Node and Python lay it out alike.
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
  exists: (f) => fs.existsSync(f),
  mkdirp: (d) => { fs.mkdirSync(d, { recursive: true, mode: 0o700 }); },
  touchNew: (f) => fs.writeFileSync(f, '', { flag: 'wx', mode: 0o600 }),
  append: (f) => fs.appendFileSync(f, '1', { mode: 0o600 }),
  size: (f) => fs.statSync(f).size,
  rmdir: (d) => fs.rmdirSync(d),
  opendir: (d) => fs.opendirSync(d),
  dirRead: (dir) => dir.readSync(),
  dirClose: (dir) => dir.closeSync(),
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
  exists: (f) => fs.promises.access(f).then(() => true, () => false),
  mkdirp: async (d) => { await fs.promises.mkdir(d, { recursive: true, mode: 0o700 }); },
  touchNew: (f) => fs.promises.writeFile(f, '', { flag: 'wx', mode: 0o600 }),
  append: (f) => fs.promises.appendFile(f, '1', { mode: 0o600 }),
  size: async (f) => (await fs.promises.stat(f)).size,
  rmdir: (d) => fs.promises.rmdir(d),
  opendir: (d) => fs.promises.opendir(d),
  dirRead: (dir) => dir.read(),
  dirClose: (dir) => dir.close(),
};

const INDEX = wasm.fileIndexLayout();

/** The index entries of record bytes (paths relative to the index folder), or null. */
function entriesOf(id, bytes) {
  return bytes === null ? null : wasm.fileIndexEntries(id, new Uint8Array(bytes));
}

/** The entry paths of `a` that `b` does not hold. */
function entriesBeyond(a, b) {
  const held = b ? [b.due, b.principal] : [];
  return [a.due, a.principal].filter((e) => e && !held.includes(e));
}

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
    const start = Date.now();
    for (let attempt = 0; ; attempt++) {
      // Stamped at each attempt: a line stamped when the wait began would look stale to the
      // other waiters as soon as it is taken after a long wait.
      const line = `tenure-lock 1 ${process.pid} ${crypto.randomBytes(8).toString('hex')} ${Date.now()} ${pidNamespace()}\n`;
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

  _index(entry) { return path.join(this.dir, INDEX.dir, entry); }

  /** Creates index entries (empty files), making their folders as needed: a bucket a sweep
   * emptied and removed meanwhile is made again. */
  * _addEntries(entries) {
    for (const e of entries) {
      const f = this._index(e);
      for (let attempt = 0; ; attempt++) {
        try {
          yield ['touchNew', f];
          break;
        } catch (err) {
          if (err.code === 'EEXIST') break;
          if (err.code !== 'ENOENT' || attempt >= 8) throw err;
          yield ['mkdirp', path.dirname(f)];
        }
      }
    }
  }

  /** Best effort: an entry left behind names a dead session, which readers skip. */
  * _removeEntries(entries) {
    for (const e of entries) {
      try { yield ['unlink', this._index(e)]; } catch { /* gone */ }
    }
  }

  /** One byte appended to a counter file (O_APPEND: processes count without a lock). */
  * _bump(name) {
    try {
      yield ['append', this._index(name)];
    } catch (e) {
      if (e.code !== 'ENOENT') throw e;
      yield ['mkdirp', path.join(this.dir, INDEX.dir)];
      yield ['append', this._index(name)];
    }
  }

  /** Runs `decide(current bytes or null)` holding id's lock; it returns 'skip', 'remove' or
   * the bytes to write. The index follows the record: entries written before it, the ones
   * it no longer has removed after it; a record is counted once its due entry exists. */
  * _locked(id, decide) {
    this._check(id);
    const record = this._record(id);
    const line = yield* this._acquire(id);
    try {
      const current = yield* this._readOpt(record);
      const old = entriesOf(id, current);
      const counted = old !== null && (yield ['exists', this._index(old.due)]);
      const action = decide(current);
      if (action === 'skip') return false;
      if (action === 'remove') {
        yield* this._stillOurs(id, line);
        try {
          yield ['unlink', record];
        } catch (e) {
          if (e.code === 'ENOENT') return false;
          throw e;
        }
        if (counted) yield* this._bump(INDEX.removed);
        if (old) yield* this._removeEntries(entriesBeyond(old, null));
        return true;
      }
      const next = entriesOf(id, action);
      // Counted from now on (before the write), or no longer (after it).
      const gained = !counted && next !== null;
      const lost = counted && next === null;
      if (next) yield* this._addEntries(entriesBeyond(next, counted ? old : null));
      if (gained) yield* this._bump(INDEX.added);
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
        if (gained) { try { yield* this._bump(INDEX.removed); } catch { /* best effort */ } }
        throw e;
      }
      if (lost) yield* this._bump(INDEX.removed);
      if (old) yield* this._removeEntries(entriesBeyond(old, next));
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

  /** Indexes a folder written before the index existed, once (the ready marker), each
   * record under its lock so a writer meanwhile is neither missed nor counted twice. */
  * _ensureIndex() {
    if (yield ['exists', this._index(INDEX.ready)]) return;
    for (const id of yield* this._ids()) {
      const line = yield* this._acquire(id);
      try {
        const entries = entriesOf(id, yield* this._readOpt(this._record(id)));
        if (entries && !(yield ['exists', this._index(entries.due)])) {
          yield* this._addEntries(entriesBeyond(entries, null));
          yield* this._bump(INDEX.added);
        }
      } finally {
        let text = null;
        try { text = yield ['readText', this._lock(id)]; } catch { /* gone */ }
        if (text === line) {
          try { yield ['unlink', this._lock(id)]; } catch { /* gone */ }
        }
      }
    }
    yield ['mkdirp', path.join(this.dir, INDEX.dir)];
    try { yield ['touchNew', this._index(INDEX.ready)]; } catch (e) { if (e.code !== 'EEXIST') throw e; }
  }

  * _list(entry) {
    try {
      return yield ['readdir', this._index(entry)];
    } catch (e) {
      if (e.code === 'ENOENT') return [];
      throw e;
    }
  }

  * _size(name) {
    try {
      return yield ['size', this._index(name)];
    } catch (e) {
      if (e.code === 'ENOENT') return 0;
      throw e;
    }
  }

  * _count() {
    yield* this._ensureIndex();
    return Math.max(0, (yield* this._size(INDEX.added)) - (yield* this._size(INDEX.removed)));
  }

  /** Up to `limit` due entries [deadline, id]: with `through`, any due by then (a sweep's:
   * each bucket is read entry by entry, only as far as needed); without, the earliest. */
  * _due(through, limit) {
    yield* this._ensureIndex();
    const out = [];
    const sweep = through !== null && through !== undefined;
    const buckets = wasm.fileDueBuckets(yield* this._list(INDEX.due), sweep ? Number(through) : undefined);
    for (const bucket of buckets) {
      if (out.length >= limit) break;
      const folder = `${INDEX.due}/${bucket}`;
      if (!sweep) {
        out.push(...wasm.fileDueIn(yield* this._list(folder), undefined));
        continue;
      }
      let dir;
      try {
        dir = yield ['opendir', this._index(folder)];
      } catch (e) {
        if (e.code === 'ENOENT') continue;
        throw e;
      }
      let empty = true;
      try {
        for (let entry = yield ['dirRead', dir]; entry !== null; entry = yield ['dirRead', dir]) {
          empty = false;
          const due = wasm.fileParseDue(entry.name);
          if (due && due[0] <= through) {
            out.push(due);
            if (out.length >= limit) break;
          }
        }
      } finally {
        yield ['dirClose', dir];
      }
      if (empty) {
        // A past bucket emptied by sweeps; a writer that races this makes it again.
        try { yield ['rmdir', this._index(folder)]; } catch { /* not empty, or gone */ }
      }
    }
    return out.slice(0, limit);
  }

  * _idsOf(principal) {
    yield* this._ensureIndex();
    return (yield* this._list(wasm.filePrincipalSet(principal))).filter((id) => wasm.isPlausibleId(id)).sort();
  }

  * _unindex(id, deadline) {
    if (!wasm.isPlausibleId(id)) return false;
    try {
      yield ['unlink', this._index(wasm.fileDueEntry(id, Number(deadline)))];
      return true;
    } catch (e) {
      if (e.code === 'ENOENT') return false;
      throw e;
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
  /** The index (optional protocol methods; see docs/stores.md). */
  count() { return runSync(this._count()); }
  due(through, limit) { return runSync(this._due(through, limit)); }
  idsOf(principal) { return runSync(this._idsOf(principal)); }
  unindex(id, deadline) { return runSync(this._unindex(id, deadline)); }
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
  count() { return runAsync(this._count()); }
  due(through, limit) { return runAsync(this._due(through, limit)); }
  idsOf(principal) { return runAsync(this._idsOf(principal)); }
  unindex(id, deadline) { return runAsync(this._unindex(id, deadline)); }
}

module.exports = { FileStore, AsyncFileStore, STALE_AFTER_MS, DEFAULT_LOCK_WAIT_MS };
