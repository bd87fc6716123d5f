// The Node half of the Redis benchmark (`make bench-redis-js`; printed, not asserted):
// express-session + connect-redis against tenure/express + tenure/redis, in one run, each
// against a redis-server of its own (FLUSHALL + CONFIG RESETSTAT between rounds), both over
// node-redis. The request: change one key of a ten-key session.
//
//   ROUNDS=3 VALUE_BYTES=20,100,1000 REQUESTS=1000 node js/bench/redis.mjs
//
// Measured per contender, median of ROUNDS rounds:
// - bytes sent to Redis per request: INFO stats total_net_input_bytes delta / requests
//   (sequential requests on one session; the INFO call itself is subtracted);
// - commands per request: total_commands_processed delta / requests (this counts the
//   commands a Lua script runs inside Redis too; the commands the client itself sent are
//   counted separately for tenure, whose one write is a script);
// - lost increments: 50 concurrent requests to one session, each adding 1 to a counter;
// - requests per second: RPS_REQUESTS requests from 20 concurrent clients, each with its
//   own session.
import http from 'node:http';
import express from 'express';
import expressSession from 'express-session';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { AsyncSessionManager } from 'tenure';
import { session as tenureSession } from 'tenure/express';
import { redisStore } from 'tenure/redis';
import { startRedis } from '../test/redis-server.mjs';

const ROUNDS = Math.max(3, Number(process.env.ROUNDS ?? 3));
const SIZES = String(process.env.VALUE_BYTES ?? '20,100,1000').split(',').map(Number);
let VALUE_BYTES = SIZES[0];
const REQUESTS = Number(process.env.REQUESTS ?? 1000);
const CONCURRENT = 50;
const RPS_REQUESTS = Number(process.env.RPS_REQUESTS ?? 3000);
const RPS_CLIENTS = 20;
const SECRET = 'a-benchmark-secret-of-at-least-32-bytes';
// The INFO stats command the measuring client sends: *2 $4 INFO $5 stats.
const INFO_BYTES = '*2\r\n$4\r\nINFO\r\n$5\r\nstats\r\n'.length;

const value = (i) => `v${i}-`.padEnd(VALUE_BYTES, 'x');

function routes(app, inc) {
  app.post('/seed', (req, res) => {
    req.session.k0 = 0;
    for (let i = 1; i < 10; i++) req.session[`k${i}`] = value(i);
    res.json({ ok: true });
  });
  app.get('/inc', (req, res) => res.json({ n: inc(req) }));
  app.get('/n', (req, res) => res.json({ n: req.session.k0 ?? null }));
}

const contenders = {
  'express-session + connect-redis': (client) => {
    const app = express();
    app.use(expressSession({
      store: new RedisStore({ client, prefix: 'sess:' }), secret: SECRET, resave: false,
      saveUninitialized: false, cookie: { secure: false, maxAge: 30 * 60_000 },
    }));
    routes(app, (req) => { req.session.k0 = (req.session.k0 ?? 0) + 1; return req.session.k0; });
    return app;
  },
  'tenure/express + tenure/redis': (client, counter) => {
    const app = express();
    // node-redis, with the commands it is given counted.
    const counted = { sendCommand: (args) => { counter.sent += 1; return client.sendCommand(args); } };
    const manager = new AsyncSessionManager({ store: redisStore(counted), idleTimeout: 30 * 60_000 });
    app.use(tenureSession({ secret: SECRET, manager, cookie: { secure: false } }));
    routes(app, (req) => req.tenure.increment('k0'));
    return app;
  },
};

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
function request(port, method, path, cookie) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers: cookie ? { cookie } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`${method} ${path}: ${res.statusCode} ${body}`));
        const set = res.headers['set-cookie'];
        resolve({ body: JSON.parse(body), cookie: set ? set[0].split(';')[0] : cookie });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function stats(client) {
  const text = await client.sendCommand(['INFO', 'stats']);
  const get = (k) => Number(new RegExp(`^${k}:(\\d+)`, 'm').exec(text)[1]);
  return { bytes: get('total_net_input_bytes'), commands: get('total_commands_processed') };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

async function round(name, server) {
  const admin = await createClient({ url: server.url }).connect();
  await admin.sendCommand(['FLUSHALL']);
  await admin.sendCommand(['SCRIPT', 'FLUSH']);
  const client = await createClient({ url: server.url }).connect();
  const counter = { sent: 0 };
  const web = http.createServer(contenders[name](client, counter));
  await new Promise((r) => web.listen(0, '127.0.0.1', r));
  const { port } = web.address();
  try {
    // Bytes and commands per request (warmed up: the script is loaded, the session exists).
    const { cookie } = await request(port, 'POST', '/seed');
    for (let i = 0; i < 20; i++) await request(port, 'GET', '/inc', cookie);
    await admin.sendCommand(['CONFIG', 'RESETSTAT']);
    const before = await stats(admin);
    const sentBefore = counter.sent;
    for (let i = 0; i < REQUESTS; i++) await request(port, 'GET', '/inc', cookie);
    const after = await stats(admin);
    // connect-redis sends GET and SET through node-redis's own methods (not counted here).
    const sent = name.startsWith('tenure') ? (counter.sent - sentBefore) / REQUESTS : 2;
    const bytes = (after.bytes - before.bytes - INFO_BYTES) / REQUESTS;
    const commands = (after.commands - before.commands - 1) / REQUESTS;
    // Lost increments.
    const fresh = await request(port, 'POST', '/seed');
    await Promise.all(Array.from({ length: CONCURRENT }, () => request(port, 'GET', '/inc', fresh.cookie)));
    const n = (await request(port, 'GET', '/n', fresh.cookie)).body.n;
    const lost = CONCURRENT - n;
    // Requests per second, one session per client.
    const cookies = [];
    for (let i = 0; i < RPS_CLIENTS; i++) cookies.push((await request(port, 'POST', '/seed')).cookie);
    let next = 0;
    const t0 = process.hrtime.bigint();
    await Promise.all(cookies.map(async (c) => {
      while (next < RPS_REQUESTS) {
        next += 1;
        await request(port, 'GET', '/inc', c);
      }
    }));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    // Exact (SAMPLES 0: every field of a hash counted, not an estimate from five).
    const key = (await admin.sendCommand(['KEYS', name.startsWith('tenure') ? 'tenure:s:*' : 'sess:*']))[0];
    const memory = Number(await admin.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0']));
    return { bytes, commands, sent, lost, rps: RPS_REQUESTS / seconds, memory };
  } finally {
    await new Promise((r) => web.close(r));
    await client.quit();
    await admin.quit();
  }
}

const servers = {};
try {
  for (const name of Object.keys(contenders)) servers[name] = await startRedis();
  const [a, b] = Object.keys(contenders);
  console.log(`Redis benchmark (Node ${process.version}, redis-server ${await version(servers[a])}): per request, one key of a 10-key session changes`);
  console.log(`(an integer counter; the 9 other values are strings of VALUE_BYTES bytes). ${REQUESTS} sequential requests for bytes/commands,`);
  console.log(`${RPS_REQUESTS} requests from ${RPS_CLIENTS} concurrent clients (a session each) for req/s; median of ${ROUNDS} rounds; node-redis for both.`);
  for (const size of SIZES) {
    VALUE_BYTES = size;
    const results = Object.fromEntries(Object.keys(contenders).map((n) => [n, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const name of Object.keys(contenders)) results[name].push(await round(name, servers[name]));
    }
    const metrics = [
      ['bytes sent to Redis / request', 'bytes', 0],
      ['commands / request (INFO, script-internal included)', 'commands', 2],
      ['commands sent by the client / request', 'sent', 2],
      [`lost increments of ${CONCURRENT} concurrent`, 'lost', 0],
      ['requests / second', 'rps', 0],
      ['Redis memory of one session (MEMORY USAGE … SAMPLES 0, bytes)', 'memory', 0],
    ];
    console.log();
    console.log(`VALUE_BYTES=${size}`);
    console.log(`| metric | ${a} | ${b} | ratio |`);
    console.log('|---|---:|---:|---:|');
    for (const [label, key, digits] of metrics) {
      const x = median(results[a].map((r) => r[key]));
      const y = median(results[b].map((r) => r[key]));
      const ratio = key === 'lost' ? '' : key === 'rps' ? `${(y / x).toFixed(2)}x` : `${(x / y).toFixed(2)}`;
      console.log(`| ${label} | ${x.toFixed(digits)} | ${y.toFixed(digits)} | ${ratio} |`);
    }
    console.log('rounds:', JSON.stringify(results, (k, v) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v)));
  }
  console.log();
  console.log('ratio: connect-redis / tenure (bytes, commands, memory: higher = tenure uses less); tenure / connect-redis for req/s.');
} finally {
  agent.destroy();
  for (const s of Object.values(servers)) await s.stop();
}

async function version(server) {
  const c = await createClient({ url: server.url }).connect();
  const info = await c.sendCommand(['INFO', 'server']);
  await c.quit();
  return /redis_version:(\S+)/.exec(info)[1];
}
