// Browser / worker / edge entry (ESM): the wasm-bindgen `web` build, loaded by `await init()`.
//   import { init, SessionManager, WebStorageStore } from 'tenure';
//   await init();
import initWasm, * as wasm from '../dist/web/tenure_wasm.js';
import { createApi } from '../dist/web/api.mjs';

export { WebStorageStore } from './web-storage-store.mjs';

export let SessionManager;
export let AsyncSessionManager;
export let ManualClock;
export let Session;
export let perSession;
export let signCookie;
export let unsignCookie;
export let unsignCookieIndex;
export let checkSecrets;
export let parseCookieHeader;
export let findSessionId;
export let encodeUriComponent;
export let isPlausibleId;
export let parseBearer;
export let signToken;
export let unsignToken;
export let buildSetCookie;
export let recordVersion;
export let WebConfig;
export let Incoming;
export let stringifyJson;

let ready = null;

/** Loads the wasm module (once); the other exports are defined after it resolves. */
export function init(input) {
  if (!ready) {
    ready = initWasm(input === undefined ? undefined : { module_or_path: input }).then(() => {
      ({
        SessionManager, AsyncSessionManager, ManualClock, Session, perSession, signCookie, unsignCookie, unsignCookieIndex,
        checkSecrets, parseCookieHeader, findSessionId, encodeUriComponent, isPlausibleId, parseBearer,
        signToken, unsignToken, buildSetCookie, recordVersion, WebConfig, Incoming, stringifyJson,
      } = createApi(wasm));
    });
  }
  return ready;
}
