'use strict';
// One file per session in a folder, written atomically (temporary file + rename). The layout
// is shared with the Rust and Python FileStores (docs/stores.md): <dir>/<id>.json.
const fs = require('node:fs');
const path = require('node:path');
const wasm = require('../dist/node/tenure_wasm.js');

let counter = 0;

class FileStore {
  /** @param {string} dir the folder (created if missing) */
  constructor(dir) {
    this.dir = dir;
    fs.mkdirSync(dir, { recursive: true });
  }

  _file(id) {
    return wasm.isPlausibleId(id) ? path.join(this.dir, `${id}.json`) : null;
  }

  get(id) {
    const f = this._file(id);
    if (!f) return null;
    try {
      return new Uint8Array(fs.readFileSync(f));
    } catch (e) {
      if (e.code === 'ENOENT') return null;
      throw e;
    }
  }

  set(id, bytes) {
    const f = this._file(id);
    if (!f) throw new Error(`${JSON.stringify(id)} is not a session id`);
    const tmp = path.join(this.dir, `.${id}.${process.pid}-${counter++}.tmp`);
    try {
      const fd = fs.openSync(tmp, 'w');
      try {
        fs.writeSync(fd, bytes);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, f);
    } catch (e) {
      try { fs.unlinkSync(tmp); } catch { /* already gone */ }
      throw e;
    }
  }

  delete(id) {
    const f = this._file(id);
    if (!f) return false;
    try {
      fs.unlinkSync(f);
      return true;
    } catch (e) {
      if (e.code === 'ENOENT') return false;
      throw e;
    }
  }

  ids() {
    return fs.readdirSync(this.dir)
      .filter((n) => n.endsWith('.json'))
      .map((n) => n.slice(0, -5))
      .filter((id) => wasm.isPlausibleId(id))
      .sort();
  }
}

module.exports = { FileStore };
