// The demo server (js/examples/sessions/server.mjs) with REDIS_URL: two servers share
// sessions through one redis-server of the test's own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedis, freePort } from './redis-server.mjs';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '../examples/sessions/server.mjs');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let redis;
const servers = [];

async function startDemo() {
  const port = await freePort();
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', REDIS_URL: redis.url, TENURE_SECRET: 'demo-secret-for-tests-0123456789abcdef' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  servers.push(child);
  const deadline = Date.now() + 15_000;
  while (!out.includes('sessions in Redis')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the demo did not start:\n${out}`);
    await sleep(20);
  }
  return `http://127.0.0.1:${port}/root`;
}

async function call(base, pathname, body, token) {
  const res = await fetch(`${base}/${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body ?? {}),
  });
  return { status: res.status, body: await res.json() };
}

before(async () => { redis = await startRedis(); });
after(async () => {
  for (const c of servers) { c.kill('SIGKILL'); }
  await redis?.stop();
});

test('two demo servers on one Redis share sessions, count every increment and honour a logout', async () => {
  const [a, b] = [await startDemo(), await startDemo()];
  const login = await call(a, 'Auth?UserName=user1', { UserName: 'user1', PassWord: 'pass1' });
  assert.equal(login.status, 200);
  const token = login.body.session;
  assert.equal((await call(a, 'SessionApi.SetValue', { key: 'name', value: 'Ann' }, token)).status, 200);
  assert.deepEqual((await call(b, 'SessionApi.GetValue', { key: 'name' }, token)).body, { key: 'name', value: 'Ann' });
  const results = await Promise.all(Array.from({ length: 100 }, (_, i) => call(i % 2 ? a : b, 'SessionApi.IncrementCounter', { key: 'n' }, token)));
  assert.ok(results.every((r) => r.status === 200), JSON.stringify(results.find((r) => r.status !== 200)));
  assert.deepEqual((await call(a, 'SessionApi.GetValue', { key: 'n' }, token)).body, { key: 'n', value: 100 });
  const active = await call(b, 'SessionApi.ListActiveSessions', {}, token);
  assert.equal(active.body.count, 1);
  assert.equal(active.body.sessions[0].user, 'user1');
  const info = await call(b, 'SessionApi.SessionInfo', {}, token);
  assert.equal(info.body.user, 'user1');
  assert.equal((await call(b, 'Logout', {}, token)).status, 200);
  assert.equal((await call(a, 'SessionApi.GetValue', { key: 'n' }, token)).status, 401);
});
