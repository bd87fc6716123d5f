'use strict';
// `req.session.cookie`, as express-session gives it: the cookie's settings, and a lifetime
// the handler may change for this session ("remember me"): `maxAge` (ms from now, read as
// the ms left), `expires` (a Date, or null for a browser-session cookie), `originalMaxAge`,
// `resetMaxAge()`. A change is sent with this response's cookie and kept on the server as
// the session's idle timeout (one lifetime for both); the core refuses, at once, a lifetime
// the manager's absolute timeout would cut short.

class SessionCookie {
  #now;
  #check;
  #expires = null;
  #changed = false;

  /**
   * The settings as own enumerable read-only properties, described once per middleware
   * (a descriptor map for `Object.defineProperties`) instead of once per request: the
   * attributes are the middleware's, the same for every session, and changing one here
   * would be silently ignored, so it throws.
   * @param {object} settings path, domain, httpOnly, secure, sameSite, partitioned, priority
   */
  static describe(settings) {
    const shape = {};
    for (const [k, v] of Object.entries(settings)) {
      shape[k] = {
        enumerable: true,
        get: () => v,
        set: () => {
          throw Object.assign(new TypeError(`req.session.cookie.${k} is set for every session by session({ cookie: { ${k} } }); per request only maxAge and expires change`), { code: 'TENURE_INVALID_VALUE' });
        },
      };
    }
    return shape;
  }

  /**
   * @param {object} shape the settings, from `SessionCookie.describe`
   * @param {number|null} originalMaxAge this session's cookie lifetime (ms), or null
   * @param {() => number} now the manager's clock (ms)
   * @param {(ms: number) => void} check throws if a lifetime is refused
   */
  constructor(shape, originalMaxAge, now, check) {
    Object.defineProperties(this, shape);
    this.#now = now;
    this.#check = check;
    this.originalMaxAge = originalMaxAge;
    if (originalMaxAge !== null) this.#expires = new Date(now() + originalMaxAge);
  }

  /** When the cookie expires (a Date), or null: a browser-session cookie. */
  get expires() { return this.#expires; }
  set expires(date) {
    if (date !== null && date !== undefined && !(date instanceof Date && Number.isFinite(date.valueOf()))) {
      throw Object.assign(new TypeError('req.session.cookie.expires must be a valid Date or null'), { code: 'TENURE_INVALID_VALUE' });
    }
    const age = date ? Math.max(0, date.valueOf() - this.#now()) : null;
    if (age !== null) this.#check(age);
    if (date === null || date === undefined ? this.#expires === null : this.#expires?.valueOf() === date.valueOf()) return;
    this.#expires = date ? new Date(date.valueOf()) : null;
    this.originalMaxAge = age;
    this.#changed = true;
  }

  /** The ms left before the cookie expires, or null for a browser-session cookie. */
  get maxAge() { return this.#expires ? this.#expires.valueOf() - this.#now() : null; }
  set maxAge(ms) {
    if (ms !== null && ms !== undefined && !(typeof ms === 'number' && Number.isFinite(ms) && ms >= 0)) {
      throw Object.assign(new TypeError(`req.session.cookie.maxAge must be a number of ms (>= 0) or null, not ${String(ms)}`), { code: 'TENURE_INVALID_VALUE' });
    }
    if (ms === null || ms === undefined ? this.#expires === null : false) return;
    if (typeof ms === 'number') {
      this.#check(ms);
      this.#expires = new Date(this.#now() + ms);
      this.originalMaxAge = ms;
    } else {
      this.#expires = null;
      this.originalMaxAge = null;
    }
    this.#changed = true;
  }

  /** The cookie lifetime starts over (express-session's `touch`). */
  resetMaxAge() {
    if (this.originalMaxAge !== null) this.#expires = new Date(this.#now() + this.originalMaxAge);
  }

  /** Whether the handler changed the lifetime in this request. */
  get changed() { return this.#changed; }

  /** The lifetime to send: the ms left if changed in this request, else the whole lifetime
   * (every sent cookie starts its lifetime over, as express-session's touch does). */
  get sendAge() {
    if (this.#expires === null) return null;
    return this.#changed ? Math.max(0, Math.round(this.maxAge)) : this.originalMaxAge;
  }

  toJSON() {
    const { ...settings } = this;
    return { ...settings, expires: this.#expires };
  }
}

module.exports = { SessionCookie };
