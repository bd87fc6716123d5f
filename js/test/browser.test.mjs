// The web build in a real browser: Debian's chromium, driven by playwright-core, loads
// test/browser/index.html from a static server started here on 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const scenarios = path.join(root, '../tests/conformance/scenarios');
const TYPES = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm' };

async function inChromium(page_, check) {
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (url === '/scenarios/') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(fs.readdirSync(scenarios).filter((f) => f.endsWith('.json')).sort()));
      return;
    }
    const p = url.startsWith('/scenarios/') ? path.join(scenarios, path.basename(url)) : path.join(root, url);
    if (!(p.startsWith(root) || p.startsWith(scenarios)) || !fs.existsSync(p) || fs.statSync(p).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(p)] ?? 'application/octet-stream' });
    fs.createReadStream(p).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  // Headless, with a fresh profile of playwright's own; no network beyond this machine.
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    timeout: 60_000,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${server.address().port}/test/browser/${page_}`);
    const results = await page.waitForFunction(() => window.__results, null, { timeout: 60_000 }).then((h) => h.jsonValue());
    assert.deepEqual(errors, []);
    check(results);
  } finally {
    await browser.close();
    await new Promise((r) => server.close(r));
  }
}

test('the web build works in headless chromium with a WebStorageStore', () => inChromium('index.html', (results) => {
  assert.ok(results.length >= 9, JSON.stringify(results));
  for (const r of results) assert.ok(r.ok, `${r.name}: ${r.detail}`);
}));

test('every conformance scenario passes in headless chromium', () => inChromium('conformance.html', (results) => {
  assert.ok(results.length >= 40, JSON.stringify(results.slice(0, 3)));
  const failed = results.filter((r) => !r.ok);
  assert.deepEqual(failed, []);
}));
