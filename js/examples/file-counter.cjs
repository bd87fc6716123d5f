'use strict';
// Read-modify-write on one session record through the FileStore protocol, as many processes
// may do at once (the cross-process tests run several of these, and Rust's file_counter):
//
//   node examples/file-counter.cjs <dir> <id> <cycles> [sync|async]
//
// Each cycle: get, bump data.n and the version, replace(expected = the version read), and
// start over if another process won the race. Prints the number of lost races.
const { FileStore, AsyncFileStore } = require('../src/file-store.cjs');

async function main() {
  const [dir, id, cycles, mode = 'sync'] = process.argv.slice(2);
  const store = mode === 'async' ? new AsyncFileStore(dir) : new FileStore(dir);
  let conflicts = 0;
  for (let i = 0; i < Number(cycles); i++) {
    for (;;) {
      const record = JSON.parse(Buffer.from(await store.get(id)).toString('utf8'));
      const expected = record.version;
      record.version += 1;
      record.data.n += 1;
      // JSON.parse keeps the key order, so this stays a canonical v1 record.
      if (await store.replace(id, Buffer.from(JSON.stringify(record)), expected)) break;
      conflicts++;
    }
  }
  process.stdout.write(`${conflicts}\n`);
}

main().catch((e) => {
  process.stderr.write(`${e.stack}\n`);
  process.exit(1);
});
