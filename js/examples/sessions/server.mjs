// The "35-sessions" sample API (mORMot2 / DMVC) on tenure, Express edition.
//   PORT=8080 STORE_DIR=/tmp/sessions TENURE_SECRET=... node server.mjs
//   PORT=8080 REDIS_URL=redis://127.0.0.1:6379 TENURE_SECRET=... node server.mjs
// Soak knobs (scripts/soak.py): IDLE_TIMEOUT_MS, ABSOLUTE_TIMEOUT_MS, SWEEP_INTERVAL_MS, and
// METRICS_MS (a `tenure-metrics {json}` line on stderr that often: RSS, sessions, stalls).
// Two users, isolated session data, atomic counters, an admin list of active sessions and a
// per-session shopping cart. The API is documented in docs/demo.md.
import express from 'express';
import { SessionManager, AsyncSessionManager, FileStore, stringifyJson } from 'tenure';
import { parse as parseJson } from 'lossless-json';
import { session } from 'tenure/express';
import { redisStore } from 'tenure/redis';

const USERS = { user1: 'pass1', user2: 'pass2' };
// ListActiveSessions pages: the default and the largest page size.
const LIST_DEFAULT = 100;
const LIST_MAX = 1000;
const PRICES = { item1: 10.5, item2: 25.0, item3: 15.75 };
const DEV_SECRET = 'tenure-demo-development-secret-change-me!';
// The largest request body read (the same in the three demos); a larger one is a 413.
const BODY_LIMIT = 1024 * 1024;

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

class Cart {
  constructor() { this.items = new Map(); }
  total() {
    let t = 0;
    for (const [id, q] of this.items) t += PRICES[id] * q;
    return Math.round(t * 100) / 100;
  }
  view() {
    const items = [...this.items].map(([id, q]) => ({
      item_id: id, quantity: q, price: PRICES[id], subtotal: Math.round(PRICES[id] * q * 100) / 100,
    }));
    return { items, total: this.total(), item_count: items.length };
  }
}

// Waits for req.session.save() (immediate with a SessionManager, a Redis round trip with an
// AsyncSessionManager).
const saved = (s) => new Promise((resolve, reject) => s.save((err) => (err ? reject(err) : resolve())));

// An integer within 2^53 as a number, beyond it as a BigInt (its exact digits); the rest as
// JSON.parse reads them.
const exactNumber = (text) => {
  const n = Number(text);
  return /^-?\d+$/.test(text) && !Number.isSafeInteger(n) ? BigInt(text) : n;
};

export function makeApp({ manager, secret }) {
  const carts = manager.perSession(() => new Cart());
  const app = express();
  // Bodies are parsed keeping integers exact: JSON.parse would round one beyond 2^53 to the
  // nearest double before tenure saw it, and Python and Rust clients send 64-bit integers.
  app.use(express.text({ type: 'application/json', limit: BODY_LIMIT }));
  app.use((req, res, next) => {
    if (typeof req.body !== 'string') return next();
    if (req.body.trim() === '') { req.body = undefined; return next(); }
    try {
      req.body = parseJson(req.body, null, exactNumber);
    } catch (e) {
      // Malformed, or nested past the parser's stack: either way the client's fault.
      return next(Object.assign(new Error(e.message), { type: 'entity.parse.failed' }));
    }
    next();
  });
  // Session values may be BigInts (integers beyond 2^53, e.g. written by the Python or the
  // Rust server), which res.json can't write: stringifyJson writes their exact digits.
  const send = (res, body) => res.type('application/json').send(stringifyJson(body));
  app.use(session({ secret, manager, transport: 'both', cookie: { secure: false } }));

  const field = (body, name, kind, what) => {
    if (!(name in body)) throw new ApiError(400, `missing field '${name}'`);
    const v = body[name];
    if (kind === 'int' ? !Number.isInteger(v) : typeof v !== kind) throw new ApiError(400, `field '${name}' must be ${what}`);
    return v;
  };
  const bodyOf = (req) => {
    const b = req.body ?? {};
    if (b === null || typeof b !== 'object' || Array.isArray(b)) throw new ApiError(400, 'the JSON body must be an object');
    return b;
  };
  const current = (req) => {
    if (!req.tenure.principal) throw new ApiError(401, 'authentication required: log in at /root/Auth');
    return req.session;
  };

  const sessionApi = {
    SetValue(s, b) {
      const key = field(b, 'key', 'string', 'a string');
      if (!('value' in b)) throw new ApiError(400, "missing field 'value'");
      s[key] = b.value;
      return { key, value: b.value };
    },
    GetValue(s, b) {
      const key = field(b, 'key', 'string', 'a string');
      if (!Object.hasOwn(s, key)) throw new ApiError(404, `no value for key '${key}'`);
      return { key, value: s[key] };
    },
    ListKeys(s) { return { keys: Object.keys(s).sort() }; },
    DeleteValue(s, b) {
      const key = field(b, 'key', 'string', 'a string');
      const deleted = Object.hasOwn(s, key);
      if (deleted) delete s[key];
      return { key, deleted };
    },
    ClearSession(s) {
      for (const k of Object.keys(s)) delete s[k];
      return { cleared: true };
    },
    async SessionInfo(s, b, req) {
      const live = await manager.peek(s.id);
      return { id: req.tenure.publicId, user: req.tenure.principal, created: live.createdAt, last_access: live.lastAccess,
        expires_at: live.expiresAt ?? null };
    },
    async ListActiveSessions(s, b) {
      // One bounded page per call (at most LIST_MAX sessions read), never the whole store.
      const cursor = b.cursor ?? null;
      const limit = b.limit ?? LIST_DEFAULT;
      if (cursor !== null && typeof cursor !== 'string') throw new ApiError(400, "field 'cursor' must be a string or null");
      if (!Number.isInteger(limit) || limit < 1 || limit > LIST_MAX) {
        throw new ApiError(400, `field 'limit' must be an integer from 1 to ${LIST_MAX}`);
      }
      let page;
      try {
        page = await manager.list(cursor, limit);
      } catch (e) {
        if (e.code === 'TENURE_STORE_ERROR') throw new ApiError(400, 'invalid cursor');
        throw e;
      }
      const sessions = page.sessions.filter((r) => r.principal).map((r) => ({ user: r.principal, id: r.publicId }));
      return { sessions, count: sessions.length, cursor: page.cursor ?? null };
    },
    async IncrementCounter(s, b, req) {
      const key = field(b, 'key', 'string', 'a string');
      req.tenure.increment(key);
      await saved(s); // merged with concurrent requests: the answer is the stored value
      return { key, value: s[key] };
    },
  };

  const cartApi = {
    AddItem(s, b) {
      const cart = carts(s);
      const item = field(b, 'itemId', 'string', 'a string');
      const qty = field(b, 'quantity', 'int', 'a positive integer');
      if (qty <= 0) throw new ApiError(400, "field 'quantity' must be a positive integer");
      if (!(item in PRICES)) throw new ApiError(404, `unknown item '${item}'`);
      cart.items.set(item, (cart.items.get(item) ?? 0) + qty);
      return cart.view();
    },
    RemoveItem(s, b) {
      const cart = carts(s);
      const item = field(b, 'itemId', 'string', 'a string');
      if (!cart.items.has(item)) throw new ApiError(404, `item '${item}' is not in the cart`);
      cart.items.delete(item);
      return cart.view();
    },
    GetCart(s) { return carts(s).view(); },
    ClearCart(s) { carts(s).items.clear(); return carts(s).view(); },
    GetTotal(s) { return { total: carts(s).total() }; },
  };
  const apis = { SessionApi: sessionApi, CartApi: cartApi };

  app.post('/root/Auth', async (req, res) => {
    const b = bodyOf(req);
    const user = b.UserName;
    const q = req.query.UserName;
    if (typeof user !== 'string' || !Object.hasOwn(USERS, user) || typeof b.PassWord !== 'string'
      || USERS[user] !== b.PassWord || (q && q !== user)) {
      throw new ApiError(401, 'wrong user name or password');
    }
    // The user first: a login as someone else clears the previous user's data (and the
    // regeneration then drops the cart). Then a new id, the session-fixation defence
    // (awaited: the token names the new id).
    req.tenure.setPrincipal(user);
    await new Promise((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
    res.json({ session: req.tenure.token(), user });
  });
  app.post('/root/Logout', (req, res) => {
    current(req);
    req.session.destroy();
    res.json({ logged_out: true });
  });
  app.post('/root/:call', async (req, res) => {
    const [api, method] = req.params.call.split('.');
    if (!apis[api]) throw new ApiError(404, `unknown service ${api}`);
    const s = current(req);
    const b = bodyOf(req);
    const fn = Object.hasOwn(apis[api], method) ? apis[api][method] : null;
    if (!fn) throw new ApiError(404, `unknown method ${api}.${method}`);
    try {
      send(res, await fn(s, b, req));
    } catch (e) {
      if (e.code === 'TENURE_INVALID_VALUE' || e.code === 'TENURE_LIMIT_EXCEEDED') throw new ApiError(400, e.message);
      if (e.code === 'TENURE_SESSION_GONE') throw new ApiError(401, 'the session has ended');
      throw e;
    }
  });
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => {
    const refused = (e) => e.code === 'TENURE_INVALID_VALUE' || e.code === 'TENURE_LIMIT_EXCEEDED';
    // tenure/express stores the handler's writes when the headers go out (as
    // express-session saves): if the handler failed before its own answer, that store
    // happens while this answer is sent and may refuse a value the handler set. That is
    // the client's fault, named, not a 500 (the store is tried once; this answer then goes).
    const answer = (status, error) => {
      try {
        res.status(status).json({ error });
      } catch (e) {
        if (!refused(e)) throw e;
        res.status(400).json({ error: e.message });
      }
    };
    if (err instanceof ApiError) return answer(err.status, err.message);
    if (refused(err)) return answer(400, err.message);
    if (err.type === 'entity.parse.failed') return answer(400, 'malformed JSON body');
    if (err.type === 'entity.too.large') return answer(413, `request body larger than ${BODY_LIMIT} bytes`);
    answer(500, err.message);
  });
  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 8080);
  const host = process.env.HOST ?? '127.0.0.1';
  const secret = process.env.TENURE_SECRET || DEV_SECRET;
  if (secret === DEV_SECRET) console.warn('warning: TENURE_SECRET is not set; using the development secret');
  // Optional timeouts and sweep period (ms) from the environment, else the defaults.
  const envMs = (name) => {
    const v = process.env[name];
    if (v === undefined || v === '') return undefined;
    if (!/^\d+$/.test(v)) throw new Error(`${name} must be a whole number of milliseconds, not ${JSON.stringify(v)}`);
    return Number(v);
  };
  const policy = Object.fromEntries(
    [['idleTimeout', envMs('IDLE_TIMEOUT_MS')], ['absoluteTimeout', envMs('ABSOLUTE_TIMEOUT_MS')]].filter(([, v]) => v !== undefined),
  );
  const autoSweep = envMs('SWEEP_INTERVAL_MS') ?? true;
  let manager;
  if (process.env.REDIS_URL) {
    // Sessions in Redis, shared with every server given the same REDIS_URL and secret.
    const { createClient } = await import('redis');
    const client = createClient({ url: process.env.REDIS_URL });
    client.on('error', (err) => console.error('redis:', err.message));
    await client.connect();
    manager = new AsyncSessionManager({ store: redisStore(client, { prefix: process.env.REDIS_PREFIX || 'tenure:' }), autoSweep, ...policy });
  } else {
    const store = process.env.STORE_DIR ? new FileStore(process.env.STORE_DIR) : undefined;
    manager = new SessionManager({ store, autoSweep, ...policy });
  }
  const metricsMs = envMs('METRICS_MS');
  if (metricsMs) {
    // The event loop's longest stall in each period: monitorEventLoopDelay samples every
    // 10 ms, so a sample's excess over 10 ms is the time the loop was blocked.
    const { monitorEventLoopDelay } = await import('node:perf_hooks');
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    setInterval(async () => {
      const m = await manager.metrics();
      const line = { rss: process.memoryUsage.rss(), active: m.active, expiredTotal: m.expiredTotal,
        stallMs: Math.max(0, delay.max / 1e6 - 10) };
      delay.reset();
      process.stderr.write(`tenure-metrics ${JSON.stringify(line)}\n`);
    }, metricsMs).unref();
  }
  makeApp({ manager, secret }).listen(port, host, () => {
    const where = process.env.REDIS_URL ? `, sessions in Redis at ${process.env.REDIS_URL}` : '';
    console.log(`tenure sessions demo (Node) on http://${host}:${port}/root${where}`);
    console.log(`  curl -X POST "http://${host}:${port}/root/Auth?UserName=user1" -H "Content-Type: application/json" -d '{"UserName":"user1","PassWord":"pass1"}'`);
  });
}
