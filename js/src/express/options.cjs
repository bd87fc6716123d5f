'use strict';
// express-session's options, read with their meaning and checked at start-up: a value of
// the wrong type, a misspelled cookie setting or an express-session feature tenure does not
// have is a TENURE_INVALID_POLICY naming it, never silently ignored. The settings then go
// to the core (WebConfig), which checks them again and makes every decision.

function policyError(message) {
  return Object.assign(new Error(`tenure/express: ${message}`), { code: 'TENURE_INVALID_POLICY' });
}

const show = (v) => (typeof v === 'string' ? JSON.stringify(v) : typeof v === 'function' ? 'a function' : String(v));

function optionalBoolean(name, v) {
  if (v !== undefined && typeof v !== 'boolean') throw policyError(`${name} must be true or false, not ${show(v)}`);
  return v;
}

const COOKIE_KEYS = new Set(['path', 'domain', 'httpOnly', 'secure', 'sameSite', 'partitioned', 'priority', 'maxAge', 'signed']);

/** express-session's `cookie` option → { settings for the core, maxAge, autoSecure }. */
function cookieOptions(cookie) {
  if (cookie === undefined) return { settings: {}, maxAge: null, autoSecure: false };
  if (typeof cookie === 'function') {
    throw policyError('cookie as a function (per-request cookie options) is not supported: give an object; per request, change req.session.cookie.maxAge / expires');
  }
  if (cookie === null || typeof cookie !== 'object') throw policyError(`cookie must be an object, not ${show(cookie)}`);
  for (const k of Object.keys(cookie)) {
    if (k === 'expires') {
      throw policyError('cookie.expires (one fixed date for every session) is not supported: use cookie.maxAge (ms), or set req.session.cookie.expires per request');
    }
    if (!COOKIE_KEYS.has(k)) throw policyError(`unknown cookie option ${JSON.stringify(k)} (known: ${[...COOKIE_KEYS].join(', ')})`);
  }
  const { maxAge = null, secure, sameSite, signed, ...rest } = cookie;
  if (signed !== undefined && signed !== true) throw policyError('cookie.signed: tenure always signs its cookie');
  if (secure !== undefined && secure !== 'auto' && typeof secure !== 'boolean') {
    throw policyError(`cookie.secure must be true, false or 'auto', not ${show(secure)}`);
  }
  if (maxAge !== null && typeof maxAge !== 'number') throw policyError(`cookie.maxAge must be a number of ms or null, not ${show(maxAge)}`);
  const settings = { ...rest };
  if (secure !== undefined) settings.secure = secure === 'auto' ? true : secure;
  if (sameSite !== undefined) {
    // The `cookie` package's values: true is Strict, false omits the attribute.
    if (sameSite === 'auto') {
      throw policyError("cookie.sameSite 'auto' is not supported: choose 'lax' (the default), 'strict' or 'none'");
    }
    settings.sameSite = sameSite === true ? 'strict' : sameSite === false ? null : typeof sameSite === 'string' ? sameSite.toLowerCase() : sameSite;
  }
  return { settings, maxAge, autoSecure: secure === 'auto' };
}

/** Whether `store` is an express-session store (callback get/set/destroy) rather than one
 * with tenure's conditional-write protocol. */
function isExpressSessionStore(store) {
  return store != null && typeof store.set === 'function' && typeof store.destroy === 'function'
    && typeof store.insert !== 'function' && typeof store.replace !== 'function';
}

/**
 * Splits and checks the options: the web settings (for WebConfig), express-session's
 * request options, and what is left for the manager.
 */
function readOptions(options) {
  if (options === null || typeof options !== 'object') throw policyError('session() takes an options object { secret, ... }');
  const {
    secret, name, key, cookie, transport = 'cookie', rolling, saveUninitialized, resave, proxy, unset,
    genid, manager, onError, async: wantAsync, ...policy
  } = options;
  if (Array.isArray(secret) && secret.length === 0) throw policyError('secret option array must contain one or more strings');
  if (genid !== undefined) {
    throw policyError('genid option must be left out: session ids are minted by the core (at least 128 bits from the OS\'s randomness) so that neither a client nor a guessable generator picks them');
  }
  if (name !== undefined && key !== undefined) throw policyError('give name or key (its old spelling), not both');
  const cookieName = name ?? key ?? 'sid';
  if (typeof cookieName !== 'string') throw policyError(`name must be a string, not ${show(cookieName)}`);
  optionalBoolean('rolling', rolling);
  optionalBoolean('saveUninitialized', saveUninitialized);
  optionalBoolean('resave', resave);
  if (proxy !== undefined && typeof proxy !== 'boolean') {
    throw policyError(`proxy must be true (trust X-Forwarded-Proto), false (only TLS to this server) or undefined (Express's req.secure, which follows 'trust proxy'), not ${show(proxy)}`);
  }
  if (unset !== undefined && unset !== 'keep' && unset !== 'destroy') {
    throw policyError(`unset option must be "destroy" or "keep", not ${show(unset)}`);
  }
  if (onError !== undefined && typeof onError !== 'function') throw policyError('onError must be a function (err, req, res)');
  if (isExpressSessionStore(policy.store)) {
    throw policyError('store: this is an express-session store (callback get/set/destroy); tenure needs a store with conditional writes so concurrent requests merge and a logout is never undone. Use the default memory store, FileStore, redisStore(client) from \'tenure/redis\', or any object with get/insert/replace/delete/ids (docs/js.md, "Stores")');
  }
  if (secret === undefined) throw policyError('a secret is required (a string of at least 32 bytes, or a list: the first signs, all verify)');
  const { settings, maxAge, autoSecure } = cookieOptions(cookie);
  const extra = Object.keys(policy).filter((k) => policy[k] !== undefined);
  if (manager && extra.length) {
    throw policyError(`unknown option ${extra.map((k) => JSON.stringify(k)).join(', ')} (with a manager given, the options are express-session's plus transport, manager, onError, async)`);
  }
  return {
    web: {
      secrets: Array.isArray(secret) ? secret : [secret], transport, cookie: { ...settings, name: cookieName }, maxAge,
      rolling: rolling ?? false, saveUninitialized: saveUninitialized ?? false,
    },
    cookieSettings: settings,
    autoSecure,
    proxy,
    unset: unset ?? 'keep',
    manager,
    onError,
    wantAsync,
    policy,
  };
}

module.exports = { readOptions, policyError };
