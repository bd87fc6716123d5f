// Size of the two wasm modules (part of `make bench`; printed, never asserted): the browser
// module (js/dist/web, what a browser user downloads; the target is <= 64 KiB
// gzipped) and the Node module (js/dist/node, read from disk, built for speed).
import fs from 'node:fs';
import zlib from 'node:zlib';

const dist = new URL('../dist/', import.meta.url);
const fmt = (n) => n.toLocaleString('en-US');
console.log('\nwasm modules (bytes; gzip -9 and brotli -11 as a server would send them)');
for (const [name, dir] of [['browser (dist/web)', 'web'], ['Node (dist/node)', 'node']]) {
  const bytes = fs.readFileSync(new URL(`${dir}/tenure_wasm_bg.wasm`, dist));
  const gz = zlib.gzipSync(bytes, { level: 9 }).length;
  const br = zlib.brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  console.log(`  ${name.padEnd(20)} ${fmt(bytes.length).padStart(9)} raw ${fmt(gz).padStart(9)} gzip (${(gz / 1024).toFixed(1)} KiB) ${fmt(br).padStart(9)} brotli`);
}
console.log('  target: the browser module <= 65,536 bytes (64 KiB) gzipped');
