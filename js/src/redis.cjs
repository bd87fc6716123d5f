'use strict';
// tenure/redis: Redis (or Valkey) as the store of an AsyncSessionManager, through the
// application's own client: node-redis (the `redis` package, v4 and later) or ioredis.
//
// This only carries commands. The core builds every command (the layout, the Lua script,
// the conditional writes: docs/stores.md, "Redis") and reads every reply; this file sends
// each batch it asks for as one pipeline and hands back one reply per command, in order:
// a Redis error reply to one command (e.g. NOSCRIPT) in its place as an Error, a transport
// failure (Redis down, the connection closed) as a rejection, which fails the operation.

const REDIS_STORE = Symbol.for('tenure.redisStore');

function typeError(message) {
  return new TypeError(`tenure/redis: ${message}`);
}

/** Whether `e` is an error *reply* from Redis (the command failed, the connection is fine). */
function isReplyError(e) {
  if (e === null || typeof e !== 'object') return false;
  // ioredis: ReplyError (redis-errors), or its SimpleError/BlobError named 'ReplyError'.
  if (e.name === 'ReplyError') return true;
  // node-redis: ErrorReply and its subclasses SimpleError, BlobError.
  for (let p = Object.getPrototypeOf(e); p && p !== Error.prototype && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    if (p.constructor && p.constructor.name === 'ErrorReply') return true;
  }
  return false;
}

function describe(client) {
  if (client === null) return 'null';
  if (typeof client !== 'object' && typeof client !== 'function') return typeof client;
  const name = client.constructor && client.constructor.name;
  return name ? `a ${name}` : 'an object';
}

/** Which client `client` is: 'ioredis', 'node-redis', or a TypeError naming what it is. */
function clientKind(client) {
  if (client === null || (typeof client !== 'object' && typeof client !== 'function')) {
    throw typeError(`redisStore(client) needs a node-redis client (createClient() from 'redis') or an ioredis client (new Redis()), not ${describe(client)}`);
  }
  if (client.isCluster === true) {
    throw typeError('Redis Cluster clients are not supported yet: pass a client of one Redis (or a proxy in front of the cluster)');
  }
  if (typeof client.pipeline === 'function' && typeof client.call === 'function') return 'ioredis';
  if (typeof client.sendCommand === 'function') {
    if (Array.isArray(client.masters) || typeof client.getSlotMaster === 'function' || typeof client.getSlotRandomNode === 'function') {
      throw typeError('Redis Cluster clients are not supported yet: pass a client of one Redis (or a proxy in front of the cluster)');
    }
    return 'node-redis';
  }
  throw typeError(`redisStore(client) needs a node-redis client (it has sendCommand()) or an ioredis client (it has pipeline() and call()); got ${describe(client)} with neither`);
}

// node-redis pipelines the commands issued in one tick on its own; each command's error
// reply rejects that command only.
function nodeRedisSender(client) {
  return async (batch) => {
    const settled = await Promise.allSettled(batch.map((args) => client.sendCommand(args)));
    return settled.map((r) => {
      if (r.status === 'fulfilled') return r.value === undefined ? null : r.value;
      if (isReplyError(r.reason)) return r.reason;
      throw r.reason;
    });
  };
}

// ioredis: one explicit pipeline; exec() gives an [error, result] pair per command.
function ioredisSender(client) {
  return async (batch) => {
    const results = await client.pipeline(batch.map((args) => ['call', ...args])).exec();
    if (!Array.isArray(results)) throw new Error('ioredis: the pipeline gave no results');
    return results.map(([err, value]) => {
      if (err) {
        if (isReplyError(err)) return err;
        throw err;
      }
      return value === undefined ? null : value;
    });
  };
}

/**
 * A Redis store for `AsyncSessionManager` (and `tenure/express`), over your client:
 * node-redis (`createClient()` from `redis`, connected) or ioredis (`new Redis()`).
 *
 * @param {object} client a node-redis or ioredis client (one Redis; not a cluster client)
 * @param {{ prefix?: string, graceMs?: number }} [options] `prefix`: every key starts
 *   with it (default 'tenure:'); `graceMs`: Redis keeps a session this long past its
 *   deadline (default 0), so that a sweep reports its expiry as an event.
 */
function redisStore(client, options = {}) {
  if (options === null || typeof options !== 'object') throw typeError('redisStore options must be an object ({ prefix, graceMs })');
  const { prefix = 'tenure:', graceMs = 0, ...rest } = options;
  const unknown = Object.keys(rest);
  if (unknown.length) throw typeError(`unknown redisStore option ${JSON.stringify(unknown[0])} (options: prefix, graceMs)`);
  if (typeof prefix !== 'string') throw typeError(`prefix must be a string, not ${describe(prefix)}`);
  if (!Number.isSafeInteger(graceMs) || graceMs < 0) throw typeError('graceMs must be a non-negative integer number of milliseconds');
  const kind = clientKind(client);
  const send = kind === 'ioredis' ? ioredisSender(client) : nodeRedisSender(client);
  return Object.freeze({
    [REDIS_STORE]: true,
    /** For tenure/express: this store answers asynchronously. */
    async: true,
    kind,
    prefix,
    graceMs,
    client,
    /** Sends a batch of commands as one pipeline; one reply per command. */
    send,
  });
}

module.exports = { redisStore, isRedisStore: (s) => s != null && s[REDIS_STORE] === true, REDIS_STORE };
