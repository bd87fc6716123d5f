// Runs every conformance scenario through the npm package (format: tests/conformance/README.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as api from 'tenure';
import { runScenario, runScenarioAsync } from './conformance-core.mjs';
import { asyncMemoryStore } from './async-store.mjs';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../tests/conformance/scenarios');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

test('there are enough scenarios', () => assert.ok(files.length >= 40));

for (const f of files) {
  test(`scenario ${f}`, () => runScenario(api, JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')), f));
}

// The same scenarios through AsyncSessionManager: on the in-memory core, and on a store that
// speaks the protocol with Promises (answering after a random 0–3 ms).
for (const f of files) {
  const doc = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  test(`scenario ${f} (AsyncSessionManager, memory)`, () => runScenarioAsync(api, doc, f, { Manager: api.AsyncSessionManager }));
  test(`scenario ${f} (AsyncSessionManager, async store)`, () => runScenarioAsync(api, doc, f, {
    Manager: api.AsyncSessionManager, store: () => asyncMemoryStore(),
  }));
}
