// A store over localStorage or sessionStorage (browsers): one key per session,
// `<prefix><id>` holding the v1 record as text.
export class WebStorageStore {
  /**
   * @param {Storage} storage localStorage or sessionStorage
   * @param {string} [prefix] key prefix (default 'tenure:')
   */
  constructor(storage, prefix = 'tenure:') {
    if (!storage || typeof storage.getItem !== 'function') {
      throw Object.assign(new Error('WebStorageStore needs localStorage or sessionStorage'), { code: 'TENURE_INVALID_POLICY' });
    }
    this.storage = storage;
    this.prefix = prefix;
    this._decoder = new TextDecoder();
  }
  get(id) { return this.storage.getItem(this.prefix + id); }
  set(id, bytes) { this.storage.setItem(this.prefix + id, this._decoder.decode(bytes)); }
  delete(id) {
    const had = this.storage.getItem(this.prefix + id) !== null;
    this.storage.removeItem(this.prefix + id);
    return had;
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
