import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CookieOptions, ManagerOptions, SessionManager, Value } from './index';

export interface SessionOptions extends ManagerOptions {
  /** The first signs, all verify (rotation); each at least 32 bytes. */
  secret: string | string[];
  /** Cookie name (default 'sid'). */
  name?: string;
  cookie?: Omit<CookieOptions, 'name' | 'clear' | 'now'>;
  transport?: 'cookie' | 'header' | 'both';
  rolling?: boolean;
  saveUninitialized?: boolean;
  manager?: SessionManager;
}

/** `req.session`: property access to session data plus tenure's methods. */
export type RequestSession = {
  readonly id: string | null;
  readonly publicId: string | null;
  readonly isNew: boolean;
  readonly principal: string | null;
  setPrincipal(principal: string | null): void;
  increment(key: string, by?: number): number | bigint;
  flash(category: string, message: string): void;
  takeFlashes(): [string, string][];
  /** A signed bearer token for this session. */
  token(): string;
  save(cb?: () => void): void;
  regenerate(clear?: boolean | (() => void), cb?: () => void): void;
  destroy(cb?: () => void): void;
  toJSON(): { [key: string]: Value };
} & { [key: string]: any };

declare module 'node:http' {
  interface IncomingMessage {
    session: RequestSession;
    sessionManager: SessionManager;
  }
}

export type Middleware = ((req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void) & {
  manager: SessionManager;
};

export function session(options: SessionOptions): Middleware;
export default session;
