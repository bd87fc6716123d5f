// Runs every conformance scenario through the npm package (format: tests/conformance/README.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as api from 'tenure';
import { runScenario } from './conformance-core.mjs';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../tests/conformance/scenarios');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

test('there are enough scenarios', () => assert.ok(files.length >= 40));

for (const f of files) {
  test(`scenario ${f}`, () => runScenario(api, JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')), f));
}
