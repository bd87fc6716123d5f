// Every conformance scenario through AsyncSessionManager over Redis (tenure/redis), with
// node-redis and with ioredis, against a redis-server of this test's own. Each manager a
// scenario makes (a restart makes a second) gets a fresh key prefix: an empty store.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import Redis from 'ioredis';
import * as api from 'tenure';
import { redisStore } from 'tenure/redis';
import { runScenarioAsync } from './conformance-core.mjs';
import { startRedis } from './redis-server.mjs';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../tests/conformance/scenarios');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

let server;
const clients = {};
let n = 0;

before(async () => {
  server = await startRedis();
  clients['node-redis'] = await createClient({ url: server.url }).connect();
  clients.ioredis = new Redis(server.port, '127.0.0.1');
});

after(async () => {
  await clients['node-redis']?.quit();
  clients.ioredis?.disconnect();
  await server?.stop();
});

test('there are enough scenarios', () => assert.ok(files.length >= 40));

for (const kind of ['node-redis', 'ioredis']) {
  for (const f of files) {
    const doc = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    test(`scenario ${f} (AsyncSessionManager, Redis through ${kind})`, () => runScenarioAsync(api, doc, f, {
      Manager: api.AsyncSessionManager,
      store: () => redisStore(clients[kind], { prefix: `conf${n++}:` }),
    }));
  }
}

test('the scenarios wrote through Redis (keys under the prefixes exist)', async () => {
  const keys = await clients['node-redis'].sendCommand(['KEYS', 'conf*']);
  assert.ok(keys.length > 50, `only ${keys.length} keys`);
});
