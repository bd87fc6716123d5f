import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AsyncManagerOptions, AsyncSessionManager, AsyncStore, CookieOptions, ManagerOptions, RedisStore, SessionManager, Store, Value, WebConfig } from './index';

export interface SessionOptions extends Omit<ManagerOptions, 'store'> {
  /** A synchronous store (SessionManager) or an asynchronous one (AsyncSessionManager), e.g. `redisStore(client)`. */
  store?: Store | AsyncStore | RedisStore;
  /** Make an AsyncSessionManager (also implied by a store with `async` methods or `async = true`). */
  async?: boolean;
  /** Failures after the handler ran, when `next` can't take them (plain node:http); default: a bare 500. */
  onError?: (err: unknown, req: IncomingMessage, res: ServerResponse) => void;
  /** The first signs, all verify (rotation); each at least 32 bytes. */
  secret: string | string[];
  /** Cookie name (default 'sid'). */
  name?: string;
  cookie?: Omit<CookieOptions, 'name' | 'clear' | 'now'>;
  transport?: 'cookie' | 'header' | 'both';
  rolling?: boolean;
  saveUninitialized?: boolean;
  manager?: SessionManager | AsyncSessionManager;
}

/** `req.session`: property access to session data plus tenure's methods. */
export type RequestSession = {
  readonly id: string | null;
  readonly publicId: string | null;
  readonly isNew: boolean;
  readonly principal: string | null;
  /** A change of user clears the data unless `keepData`. */
  setPrincipal(principal: string | null, keepData?: boolean): void;
  increment(key: string, by?: number): number | bigint;
  flash(category: string, message: string): void;
  takeFlashes(): [string, string][];
  /** A signed bearer token for this session. */
  token(): string;
  /** With an AsyncSessionManager these run in the background (in order); `cb(err)` when done. */
  save(cb?: (err?: unknown) => void): void;
  regenerate(clear?: boolean | ((err?: unknown) => void), cb?: (err?: unknown) => void): void;
  destroy(cb?: (err?: unknown) => void): void;
  toJSON(): { [key: string]: Value };
} & { [key: string]: any };

declare module 'node:http' {
  interface IncomingMessage {
    session: RequestSession;
    sessionManager: SessionManager | AsyncSessionManager;
  }
}

export type Middleware = ((req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void) & {
  manager: SessionManager | AsyncSessionManager;
  /** The core's request lifecycle this middleware runs on (e.g. `web.token(id)`). */
  web: WebConfig;
};

export function session(options: SessionOptions): Middleware;
export default session;
