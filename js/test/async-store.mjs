// Test stores that speak the store protocol with Promises (shared by the async tests).
import { recordVersion } from 'tenure';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * An in-memory store whose every call answers after `delay()` ms (default: a random 0–3 ms),
 * so concurrent operations interleave in every order. `fail(method)` may throw to make a
 * call reject. `data` holds the stored bytes.
 */
export function asyncMemoryStore({ delay = () => Math.floor(Math.random() * 4), fail = () => false } = {}) {
  const data = new Map();
  const calls = { n: 0 };
  const call = async (method, f) => {
    calls.n += 1;
    await sleep(delay(method));
    if (fail(method)) throw new Error(`${method}: disk on fire`);
    return f();
  };
  const version = (id) => (data.has(id) ? recordVersion(data.get(id)) : null);
  return {
    data,
    calls,
    get: (id) => call('get', () => data.get(id) ?? null),
    insert: (id, bytes) => call('insert', () => {
      if (data.has(id)) return false;
      data.set(id, bytes);
      return true;
    }),
    replace: (id, bytes, expected) => call('replace', () => {
      if (version(id) !== expected) return false;
      data.set(id, bytes);
      return true;
    }),
    delete: (id, expected) => call('delete', () => {
      if (!data.has(id)) return false;
      if (expected !== undefined && version(id) !== expected) return false;
      return data.delete(id);
    }),
    ids: () => call('ids', () => [...data.keys()]),
  };
}
