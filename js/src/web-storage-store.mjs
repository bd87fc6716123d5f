// A store over localStorage or sessionStorage (browsers): one key per session,
// `<prefix><id>` holding the v1 record as text. Web Storage is synchronous and a page's
// scripts run one at a time, so each conditional write below is atomic within the origin.
export class WebStorageStore {
  /**
   * @param {Storage} storage localStorage or sessionStorage
   * @param {string} [prefix] key prefix (default 'tenure:')
   * @param {{ recordVersion?: (text: string) => number | null }} [options] how to read a
   *   stored record's version (default: JSON.parse; pass tenure's recordVersion to share
   *   the core's reading)
   */
  constructor(storage, prefix = 'tenure:', options = {}) {
    if (!storage || typeof storage.getItem !== 'function') {
      throw Object.assign(new Error('WebStorageStore needs localStorage or sessionStorage'), { code: 'TENURE_INVALID_POLICY' });
    }
    this.storage = storage;
    this.prefix = prefix;
    this._decoder = new TextDecoder();
    this._version = options.recordVersion ?? jsonVersion;
  }
  get(id) { return this.storage.getItem(this.prefix + id); }
  /** Stores `bytes` unless `id` is taken. */
  insert(id, bytes) {
    if (this.storage.getItem(this.prefix + id) !== null) return false;
    this.storage.setItem(this.prefix + id, this._decoder.decode(bytes));
    return true;
  }
  /** Replaces the record only if the stored one's version is `expected`; never creates. */
  replace(id, bytes, expected) {
    const old = this.storage.getItem(this.prefix + id);
    if (old === null || this._version(old) !== expected) return false;
    this.storage.setItem(this.prefix + id, this._decoder.decode(bytes));
    return true;
  }
  /** Removes `id` (with `expected`: only if the stored version is `expected`). */
  delete(id, expected) {
    const old = this.storage.getItem(this.prefix + id);
    if (old === null) return false;
    if (expected !== undefined && expected !== null && this._version(old) !== expected) return false;
    this.storage.removeItem(this.prefix + id);
    return true;
  }
  ids() {
    const out = [];
    for (let i = 0; i < this.storage.length; i++) {
      const k = this.storage.key(i);
      if (k !== null && k.startsWith(this.prefix)) out.push(k.slice(this.prefix.length));
    }
    return out;
  }
}

/** The `version` of a v1 record's text, or null if it is not one. */
function jsonVersion(text) {
  try {
    const r = JSON.parse(text);
    return r && r.v === 1 && Number.isSafeInteger(r.version) && r.version >= 0 ? r.version : null;
  } catch {
    return null;
  }
}
