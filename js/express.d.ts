import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AsyncManagerOptions, AsyncSessionManager, AsyncStore, CookieOptions, ManagerOptions, RedisStore, SessionManager, Store, Value, WebConfig } from './index';

export interface SessionOptions extends Omit<ManagerOptions, 'store'> {
  /** A synchronous store (SessionManager) or an asynchronous one (AsyncSessionManager), e.g. `redisStore(client)`. An express-session store (callback get/set/destroy) is refused. */
  store?: Store | AsyncStore | RedisStore;
  /** Make an AsyncSessionManager (also implied by a store with `async` methods or `async = true`). */
  async?: boolean;
  /** Failures after the handler ran, when `next` can't take them (plain node:http); default: a bare 500. */
  onError?: (err: unknown, req: IncomingMessage, res: ServerResponse) => void;
  /** The first signs, all verify (rotation); each at least 32 bytes. */
  secret: string | Uint8Array | (string | Uint8Array)[];
  /** Cookie name (default 'sid'). */
  name?: string;
  /** express-session's old spelling of `name`. */
  key?: string;
  cookie?: Omit<CookieOptions, 'name' | 'clear' | 'now' | 'secure' | 'sameSite'> & {
    /** true (default), false, or 'auto': Secure exactly when the request is (see `proxy`). */
    secure?: boolean | 'auto';
    /** 'lax' (default), 'strict', 'none', true (Strict) or false/null (no attribute). */
    sameSite?: 'lax' | 'strict' | 'none' | 'Lax' | 'Strict' | 'None' | boolean | null;
    /** The cookie's lifetime in ms (null: a browser-session cookie); the server session lives as long. */
    maxAge?: number | null;
    /** Always signed; only `true` is accepted. */
    signed?: true;
  };
  transport?: 'cookie' | 'header' | 'both';
  rolling?: boolean;
  saveUninitialized?: boolean;
  /** Accepted as in express-session; tenure never writes back an unchanged session (see docs/js.md). */
  resave?: boolean;
  /** true: trust X-Forwarded-Proto; false: only TLS to this server; undefined: Express's req.secure ('trust proxy'). */
  proxy?: boolean;
  /** What `req.session = null` (or `delete req.session`) does: 'keep' (default) or 'destroy'. */
  unset?: 'keep' | 'destroy';
  manager?: SessionManager | AsyncSessionManager;
}

/** `req.session.cookie`: the settings and this session's cookie lifetime. */
export interface SessionCookie {
  path: string | null;
  domain?: string;
  httpOnly: boolean;
  secure: boolean;
  sameSite: string | null;
  partitioned?: boolean;
  priority?: string;
  /** The lifetime (ms) the cookie was given, or null (a browser-session cookie). */
  originalMaxAge: number | null;
  /** ms left; setting it ("remember me") sends the cookie again and keeps the session on the server as long. */
  maxAge: number | null;
  expires: Date | null;
  resetMaxAge(): void;
  toJSON(): object;
}

/** `req.session`: a plain object of the session's data plus express-session's members. */
export type RequestSession = {
  /** The session id (express-session's `req.session.id`). */
  readonly id: string;
  cookie: SessionCookie;
  /** A new id and empty data (log the user in in the callback). */
  regenerate(cb?: (err?: unknown) => void): void;
  /** Removes the session (req.session is gone afterwards); the client's cookie is cleared. */
  destroy(cb?: (err?: unknown) => void): void;
  /** Reads the session from the store again. */
  reload(cb?: (err?: unknown) => void): void;
  /** Stores the changes now (a new session too); with an AsyncSessionManager in the background, `cb(err)` when done. */
  save(cb?: (err?: unknown) => void): void;
  /** The cookie's lifetime starts over. */
  touch(): RequestSession;
  resetMaxAge(): RequestSession;
} & { [key: string]: any };

/** `req.tenure`: tenure's extras, apart from the data keys. */
export interface TenureRequest {
  readonly manager: SessionManager | AsyncSessionManager;
  readonly web: WebConfig;
  readonly id: string | null;
  readonly publicId: string | null;
  /** The session was created in this request. */
  readonly isNew: boolean;
  readonly principal: string | null;
  /** A change of user clears the data unless `keepData`. */
  setPrincipal(principal: string | null, keepData?: boolean): void;
  /** Adds `by` (default 1) in the core: concurrent requests add up. */
  increment(key: string, by?: number): number | bigint;
  flash(category: string, message: string): void;
  takeFlashes(): [string, string][];
  /** A signed bearer token for this session (a new session is stored first). */
  token(): string;
}

declare module 'node:http' {
  interface IncomingMessage {
    session: RequestSession;
    sessionID: string;
    tenure: TenureRequest;
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
