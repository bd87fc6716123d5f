import type { RedisStore } from './index';

export type { RedisStore } from './index';

/** What a node-redis client (`createClient()` from `redis`, v4 and later) offers. */
export interface NodeRedisClient {
  sendCommand(args: string[]): Promise<unknown>;
}

/** What an ioredis client (`new Redis()`) offers. */
export interface IoredisClient {
  pipeline(commands: unknown[][]): { exec(): Promise<unknown> };
  call(command: string, ...args: any[]): unknown;
}

export interface RedisStoreOptions {
  /** Every key starts with it (default 'tenure:'); no braces, spaces or control characters, at most 64 bytes. */
  prefix?: string;
  /** How long Redis keeps a session past its deadline, in ms (default 0). */
  graceMs?: number;
}

/**
 * Redis as the store of an AsyncSessionManager (or `tenure/express`), over your connected
 * node-redis or ioredis client (one Redis, not a cluster client). Throws a TypeError for
 * anything else.
 */
export function redisStore(client: NodeRedisClient | IoredisClient, options?: RedisStoreOptions): RedisStore;

/** Whether `store` was made by redisStore. */
export function isRedisStore(store: unknown): store is RedisStore;

export default redisStore;
