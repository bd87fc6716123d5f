/** A session value: what tenure stores exactly. Integers beyond 2^53 come back as BigInt. */
export type Value =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | Value[]
  | { [key: string]: Value };

/**
 * The store protocol: encoded records keyed by session id, synchronous (SessionManager).
 * Writes are conditional on the stored record's `version` (see `recordVersion`).
 */
export interface Store {
  get(id: string): Uint8Array | string | null | undefined;
  /** Stores `bytes` only if `id` is absent; whether it did. */
  insert(id: string, bytes: Uint8Array): boolean;
  /** Replaces the record only if the stored one's version is `expected`; never creates. */
  replace(id: string, bytes: Uint8Array, expected: number): boolean;
  /** Removes `id` (with `expected`: only if the stored version is `expected`); whether it did. */
  delete(id: string, expected?: number): boolean;
  ids(): string[];
  /** Optional index (see docs/stores.md); without it the core reads every record for a
   * sweep, a count, `sessionsOf`, `nextDeadline` and eviction. How many records, or null. */
  count?(): number | null;
  /** Up to `limit` index entries `[deadline, id]`: with `through`, any due by then; without, the earliest. */
  due?(through: number | null, limit: number): [number, string][] | null;
  /** The ids filed under `principal` (the core checks each record), or null. */
  idsOf?(principal: string): string[] | null;
  /** Removes a stale due entry (its deadline is past); whether there was one. */
  unindex?(id: string, deadline: number): boolean;
}

type MaybePromise<T> = T | Promise<T>;

/** The same protocol for AsyncSessionManager: every method may return a Promise. */
export interface AsyncStore {
  get(id: string): MaybePromise<Uint8Array | string | null | undefined>;
  insert(id: string, bytes: Uint8Array): MaybePromise<boolean>;
  replace(id: string, bytes: Uint8Array, expected: number): MaybePromise<boolean>;
  delete(id: string, expected?: number): MaybePromise<boolean>;
  ids(): MaybePromise<string[]>;
  /** The optional index, as in Store. */
  count?(): MaybePromise<number | null>;
  due?(through: number | null, limit: number): MaybePromise<[number, string][] | null>;
  idsOf?(principal: string): MaybePromise<string[] | null>;
  unindex?(id: string, deadline: number): MaybePromise<boolean>;
  /** Marks the store as asynchronous for `tenure/express` (when its methods are not `async`). */
  async?: boolean;
}

/**
 * A Redis store, made by `redisStore(client, options)` from `tenure/redis`: the core's
 * commands sent through your node-redis or ioredis client. For AsyncSessionManager only.
 */
export interface RedisStore {
  readonly async: true;
  /** Which client it drives. */
  readonly kind: 'node-redis' | 'ioredis';
  /** Every key starts with it (default 'tenure:'). */
  readonly prefix: string;
  /** How long Redis keeps a session past its deadline (default 0). */
  readonly graceMs: number;
  readonly client: object;
  /** Sends a batch of commands as one pipeline: one reply per command, in order. */
  send(batch: string[][]): Promise<unknown[]>;
}

export type EventName = 'created' | 'expired' | 'destroyed' | 'regenerated' | 'evicted' | 'rejected';

export interface ManagerOptions {
  /** Idle timeout in ms (default 30 min); null = never. */
  idleTimeout?: number | null;
  /** Absolute timeout in ms (default 12 h); null = never. */
  absoluteTimeout?: number | null;
  touchInterval?: number;
  maxSessions?: number | null;
  onFull?: 'reject' | 'evictLru';
  maxDataBytes?: number;
  maxKeyBytes?: number;
  maxDepth?: number;
  idBytes?: number;
  store?: Store;
  clock?: ManualClock;
  /** Sweep expired sessions on an unref'd timer: true (every minute) or an interval in ms. */
  autoSweep?: boolean | number;
}

export interface AsyncManagerOptions extends Omit<ManagerOptions, 'store'> {
  store?: AsyncStore | RedisStore;
}

export interface SessionInfo {
  id: string;
  publicId: string;
  principal: string | null;
  createdAt: number;
  lastAccess: number;
  expiresAt: number | null;
  version: number;
}

export interface Metrics {
  active: number;
  peakActive: number;
  createdTotal: number;
  expiredTotal: number;
  destroyedTotal: number;
  rejectedTotal: number;
  evictedTotal: number;
  maxAliveMs: number;
  avgAliveMs: number;
}

/** An Error thrown by tenure: `code` is `TENURE_` + a stable code. */
export interface TenureError extends Error {
  code:
    | 'TENURE_SESSION_GONE'
    | 'TENURE_INVALID_VALUE'
    | 'TENURE_LIMIT_EXCEEDED'
    | 'TENURE_TOO_MANY_SESSIONS'
    | 'TENURE_STORE_ERROR'
    | 'TENURE_INVALID_POLICY'
    | 'TENURE_DECODE_ERROR'
    | 'TENURE_ENTROPY_ERROR';
  cause?: unknown;
}

export class Session {
  private constructor();
  get(key: string): Value | undefined;
  set(key: string, value: Value | Map<string, Value>): void;
  delete(key: string): boolean;
  has(key: string): boolean;
  keys(): string[];
  readonly size: number;
  clear(): void;
  /** Sets every property; all or nothing. */
  update(entries: { [key: string]: Value }): void;
  increment(key: string, by?: number | bigint): number | bigint;
  flash(category: string, message: string): void;
  takeFlashes(): [string, string][];
  /** Sets or clears the user; a change from one user to another (or to none) clears the
   * data and flashes, unless `keepData` (an anonymous session keeps its data either way). */
  setPrincipal(principal?: string | null, keepData?: boolean): void;
  toObject(): { [key: string]: Value };
  readonly id: string;
  readonly publicId: string;
  readonly principal: string | undefined;
  readonly version: number;
  readonly createdAt: number;
  readonly lastAccess: number;
  readonly expiresAt: number | undefined;
  readonly idleTimeout: number | undefined;
  readonly absoluteTimeout: number | undefined;
  readonly modified: boolean;
  free(): void;
}

export class ManualClock {
  constructor(ms?: number);
  advance(ms: number): void;
  set(ms: number): void;
  now(): number;
}

export interface PerSession<T> {
  (session: { id: string } | string): T;
  has(id: string): boolean;
  size(): number;
  delete(id: string): void;
}

export class SessionManager {
  constructor(options?: ManagerOptions);
  readonly clock: ManualClock | undefined;
  readonly store: Store | undefined;
  /** `cleared`: whether the data was cleared (`regenerate(session, true)`). */
  on(event: 'regenerated', fn: (oldId: string, newId: string, cleared: boolean) => void): this;
  on(event: 'rejected', fn: () => void): this;
  on(event: Exclude<EventName, 'regenerated' | 'rejected'>, fn: (id: string) => void): this;
  create(options?: { principal?: string | null; data?: { [key: string]: Value } }): Session;
  /** A new session that is not stored yet (no I/O); store it with insertDraft. */
  draft(options?: { principal?: string | null; data?: { [key: string]: Value } }): Session;
  insertDraft(session: Session): void;
  open(id: string): Session | null;
  peek(id: string): Session | null;
  commit(session: Session): void;
  regenerate(session: Session, clear?: boolean): void;
  setIdleTimeout(session: Session, ms: number | null): void;
  destroy(id: string): boolean;
  destroyAllOf(principal: string, except?: string | null): number;
  destroyAll(): number;
  sessionsOf(principal: string): SessionInfo[];
  list(cursor?: string | null, limit?: number): { sessions: SessionInfo[]; cursor: string | null };
  count(): number;
  sweep(): number;
  nextDeadline(): number | null;
  now(): number;
  /** The policy's idle timeout in ms (null: never). */
  readonly idleTimeout: number | null;
  /** The policy's absolute timeout in ms (null: never). */
  readonly absoluteTimeout: number | null;
  metrics(): Metrics;
  export(): Uint8Array;
  import(bytes: Uint8Array): number;
  startAutoSweep(intervalMs?: number): this;
  stopAutoSweep(): void;
  close(): void;
  perSession<T>(factory: () => T): PerSession<T>;
}

/**
 * SessionManager for asynchronous stores: the same options, events and method names, but
 * every operation returns a Promise. Operations may interleave freely in one event loop.
 */
export class AsyncSessionManager {
  constructor(options?: AsyncManagerOptions);
  readonly clock: ManualClock | undefined;
  readonly store: AsyncStore | RedisStore | undefined;
  /** `cleared`: whether the data was cleared (`regenerate(session, true)`). */
  on(event: 'regenerated', fn: (oldId: string, newId: string, cleared: boolean) => void): this;
  on(event: 'rejected', fn: () => void): this;
  on(event: Exclude<EventName, 'regenerated' | 'rejected'>, fn: (id: string) => void): this;
  create(options?: { principal?: string | null; data?: { [key: string]: Value } }): Promise<Session>;
  /** A new session that is not stored yet (no I/O, synchronous); store it with insertDraft. */
  draft(options?: { principal?: string | null; data?: { [key: string]: Value } }): Session;
  insertDraft(session: Session): Promise<void>;
  open(id: string): Promise<Session | null>;
  peek(id: string): Promise<Session | null>;
  /** The session keeps changes made to it while the commit was in flight. */
  commit(session: Session): Promise<void>;
  regenerate(session: Session, clear?: boolean): Promise<void>;
  setIdleTimeout(session: Session, ms: number | null): Promise<void>;
  destroy(id: string): Promise<boolean>;
  destroyAllOf(principal: string, except?: string | null): Promise<number>;
  destroyAll(): Promise<number>;
  sessionsOf(principal: string): Promise<SessionInfo[]>;
  list(cursor?: string | null, limit?: number): Promise<{ sessions: SessionInfo[]; cursor: string | null }>;
  count(): Promise<number>;
  sweep(): Promise<number>;
  nextDeadline(): Promise<number | null>;
  now(): number;
  /** The policy's idle timeout in ms (null: never). */
  readonly idleTimeout: number | null;
  /** The policy's absolute timeout in ms (null: never). */
  readonly absoluteTimeout: number | null;
  metrics(): Promise<Metrics>;
  export(): Promise<Uint8Array>;
  import(bytes: Uint8Array): Promise<number>;
  startAutoSweep(intervalMs?: number): this;
  stopAutoSweep(): void;
  close(): void;
  perSession<T>(factory: () => T): PerSession<T>;
}

/** The `version` of an encoded record, or null if it does not read as a v1 record. */
export function recordVersion(bytes: Uint8Array | string): number | null;
/**
 * `JSON.stringify`, except that a BigInt (a session integer beyond 2^53) is written as its
 * exact digits, a JSON number, instead of throwing. Use it for responses that carry values
 * read from a session (`res.type('json').send(stringifyJson(body))`).
 */
export function stringifyJson(
  value: unknown,
  replacer?: ((this: any, key: string, value: any) => any) | null,
  space?: string | number,
): string;

export interface FileStoreOptions {
  /** How long a write waits for a session's lock before it throws, in ms (default 20000). */
  lockWait?: number;
}

/**
 * One file per session in a folder (created 0700), safe for several processes (Node, Rust,
 * Python) sharing it: writes are conditional and serialized by a per-session lock file
 * (docs/stores.md, "The file layout"). Synchronous: a waiting write blocks the thread.
 */
export class FileStore implements Store {
  constructor(dir: string, options?: FileStoreOptions);
  readonly dir: string;
  get(id: string): Uint8Array | null;
  /** Stores unless `id` is taken; false (nothing written) if it is. */
  insert(id: string, bytes: Uint8Array): boolean;
  /** Replaces iff the stored record's version is `expected`; never creates. */
  replace(id: string, bytes: Uint8Array, expected: number | bigint): boolean;
  /** Removes `id` (with `expected`: only if the stored version is `expected`). */
  delete(id: string, expected?: number | bigint | null): boolean;
  ids(): string[];
  /** How many records the folder holds, from its index (two file sizes). */
  count(): number;
  /** Index entries `[deadline, id]` (see Store.due). */
  due(through: number | null, limit: number): [number, string][];
  /** The ids the principal index files under `principal`. */
  idsOf(principal: string): string[];
  /** Removes a stale due entry. */
  unindex(id: string, deadline: number): boolean;
}

/** The same folder layout and lock protocol as FileStore, every method returning a Promise. */
export class AsyncFileStore {
  constructor(dir: string, options?: FileStoreOptions);
  readonly dir: string;
  get(id: string): Promise<Uint8Array | null>;
  insert(id: string, bytes: Uint8Array): Promise<boolean>;
  replace(id: string, bytes: Uint8Array, expected: number | bigint): Promise<boolean>;
  delete(id: string, expected?: number | bigint | null): Promise<boolean>;
  ids(): Promise<string[]>;
  count(): Promise<number>;
  due(through: number | null, limit: number): Promise<[number, string][]>;
  idsOf(principal: string): Promise<string[]>;
  unindex(id: string, deadline: number): Promise<boolean>;
}

export function perSession<T>(manager: SessionManager | AsyncSessionManager, factory: () => T): PerSession<T>;
export type Secrets = string | Uint8Array | (string | Uint8Array)[];
export function signCookie(id: string, secret: string | Uint8Array): string;
export function unsignCookie(value: string, secrets: Secrets): string | null;
export function unsignCookieIndex(value: string, secrets: Secrets): [string, number] | null;
export function checkSecrets(secrets: Secrets): void;
export function parseCookieHeader(header: string): [string, string][];
export function findSessionId(header: string, name: string, secrets: Secrets): [string, number] | null;
export function encodeUriComponent(s: string): string;
export function isPlausibleId(id: string): boolean;
export function parseBearer(header: string): string | null;
export function signToken(id: string, secret: string | Uint8Array): string;
export function unsignToken(token: string, secrets: Secrets): [string, number] | null;
export interface CookieOptions {
  name?: string;
  path?: string | null;
  domain?: string;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: 'lax' | 'strict' | 'none' | null;
  partitioned?: boolean;
  priority?: 'low' | 'medium' | 'high';
  /** ms */
  maxAge?: number;
  /** ms since the epoch, for Expires */
  now?: number;
  clear?: boolean;
}
export function buildSetCookie(value: string, options?: CookieOptions): string;

/** The request lifecycle (the core's `tenure::web`): which id a request names, whether a
 * new session is stored, and which Set-Cookie / Vary its response gets. */
export type Transport = 'cookie' | 'header' | 'both';
export interface WebConfigOptions {
  /** The first signs, all verify (rotation); each at least 32 bytes. */
  secrets: Secrets;
  transport?: Transport;
  cookie?: Omit<CookieOptions, 'maxAge' | 'now' | 'clear'>;
  /** The cookie's max age in ms; null or absent: a browser-session cookie. */
  maxAge?: number | null;
  rolling?: boolean;
  saveUninitialized?: boolean;
}
export type Ending = 'no_session' | 'kept' | 'created' | 'regenerated' | 'destroyed' | 'gone';
export interface Outcome {
  /** The handler looked at or changed the session. */
  accessed: boolean;
  ending: Ending;
  /** The session's id, for 'kept', 'created' and 'regenerated'. */
  id?: string;
  /** With 'kept': the application asked for the cookie to be sent again. */
  refresh?: boolean;
}
export type SetCookieReason = 'created' | 'regenerated' | 'resigned' | 'rolling' | 'cleared';
export interface ResponseHeaders {
  vary: string | null;
  setCookie: string | null;
  reason: SetCookieReason | null;
}
export class Incoming {
  private constructor();
  readonly id: string | null;
  readonly source: 'cookie' | 'bearer' | null;
  readonly secretIndex: number | null;
  readonly hadCookie: boolean;
  readonly why: 'bearer' | 'cookie' | 'no_credentials' | 'rejected';
  readonly rejectedBearer: boolean;
  readonly rejectedCookie: boolean;
  readonly staleSecret: boolean;
  free(): void;
}
export class WebConfig {
  constructor(options: WebConfigOptions);
  readonly transport: Transport;
  readonly cookieName: string;
  find(cookieHeaders: string | string[] | null | undefined, authorization?: string | null): Incoming;
  keepNew(initialized: boolean): boolean;
  /** Server timeouts (ms, null for never) that keep a session alive as long as its cookie. */
  serverTimeouts(): { idleTimeout: number | null; absoluteTimeout: number | null };
  /** Throws `TENURE_INVALID_POLICY` if a manager with this idle timeout would end sessions while their cookie is valid. */
  checkTimeouts(idle: number | null): void;
  keepNewSession(session: Session): boolean;
  token(id: string): string;
  setCookie(id: string, now: number): string;
  clearCookie(): string;
  respond(incoming: Incoming, outcome: Outcome, now: number): ResponseHeaders;
  respondWithMaxAge(incoming: Incoming, outcome: Outcome, now: number, maxAge: number | null): ResponseHeaders;
  /** `respondWithMaxAge` for a request that came `secure` or not: a Secure cookie is never sent over plain HTTP; `autoSecure` makes it Secure exactly when the request is. */
  respondOver(incoming: Incoming, outcome: Outcome, now: number, maxAge: number | null, secure: boolean, autoSecure: boolean): ResponseHeaders;
  /**
   * The end of a request in one call that builds no object (what tenure/express uses):
   * `respondOver` for `ending` of session `id`, where a kept session's cookie is sent again
   * when the request `changed` the session and the cookie has a lifetime, or when
   * `lifetimeChanged`. Returns the Set-Cookie value to append (with `Vary`), `''` for `Vary`
   * alone, or `undefined` for neither.
   */
  respondHeaders(incoming: Incoming, accessed: boolean, ending: Ending, id: string | undefined, changed: boolean, lifetimeChanged: boolean, now: number, maxAge: number | null, secure: boolean, autoSecure: boolean): string | undefined;
  /** The `Vary` value of this transport ('Cookie', 'Authorization' or 'Cookie, Authorization'). */
  readonly vary: string;
  /** Whether requests for this URL path are handled (under the cookie's Path). */
  coversPath(path: string): boolean;
  /** Whether a kept session's cookie is sent again because the request changed it (only a cookie with a lifetime). */
  refreshes(changed: boolean, maxAge: number | null): boolean;
  /** Throws `TENURE_INVALID_VALUE` if a session's cookie lifetime outlives the manager's absolute timeout. */
  checkSessionAge(age: number, absolute: number | null): void;
  free(): void;
}
/** Whether a request is secure, by express-session's rule: TLS always; else `proxy` true trusts the first X-Forwarded-Proto, false says no, undefined takes the framework's word (Express's `req.secure`). */
export function isSecureRequest(request: { tls?: boolean; forwardedProto?: string | null; frameworkSecure?: boolean }, proxy?: boolean): boolean;
