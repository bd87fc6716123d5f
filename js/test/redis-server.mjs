// A redis-server of the test's own: a free port, a temporary folder, no persistence;
// stopped (and its folder removed) by stop(). redis-server is installed by `make test-js`.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Whether a redis-server answers PING on `port`. */
function ping(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    const done = (ok) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(1000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => { data += d; if (data.includes('\r\n')) done(data.startsWith('+PONG')); });
  });
}

/**
 * Starts redis-server on a free port (or `port`); resolves when it answers PING.
 * Returns { port, url, stop(), restart() }: restart() starts a new one on the same port.
 */
export async function startRedis(port) {
  port ??= await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenure-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((r) => child.once('exit', r));
  let spawnError = null;
  child.once('error', (e) => { spawnError = e; });
  const started = Date.now();
  while (!(await ping(port))) {
    if (spawnError) throw new Error(`redis-server could not start (make test-js installs it): ${spawnError.message}`);
    if (child.exitCode !== null || Date.now() - started > 10_000) throw new Error(`redis-server did not start on port ${port}:\n${log}`);
    await sleep(20);
  }
  const server = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
    restart: () => startRedis(port),
  };
  return server;
}
