// Node entry (ESM): the same objects as the CommonJS entry.
import api from './index.cjs';

export const {
  SessionManager, ManualClock, Session, perSession, FileStore, AsyncFileStore, signCookie, unsignCookie,
  unsignCookieIndex, checkSecrets, parseCookieHeader, findSessionId, encodeUriComponent,
  isPlausibleId, parseBearer, signToken, unsignToken, buildSetCookie,
} = api;
export default api;
