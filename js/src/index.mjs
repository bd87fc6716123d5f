// Node entry (ESM): the same objects as the CommonJS entry.
import api from './index.cjs';

export const {
  SessionManager, AsyncSessionManager, ManualClock, Session, perSession, FileStore, AsyncFileStore, signCookie, unsignCookie,
  unsignCookieIndex, checkSecrets, parseCookieHeader, findSessionId, encodeUriComponent,
  isPlausibleId, parseBearer, signToken, unsignToken, buildSetCookie, recordVersion,
  WebConfig, Incoming, stringifyJson,
} = api;
export default api;
