// Child of gc.test.ts, run as `node --expose-gc gc-capture-child.cjs <addon> <iface> <filter>`:
// captures while garbage collection is forced every millisecond and garbage is made per batch,
// prints "ready" once open, and on stdin end (the parent's injector is done) prints its counts
// as one JSON line. Regression guard for cap 0.2.1's use-after-free: it wrote packets into a
// Buffer the GC had freed ("malloc(): unsorted double linked list corrupted").
/* global setInterval, clearInterval */
'use strict';
const [addon, device, filter] = process.argv.slice(2);
if (typeof global.gc !== 'function') throw new Error('needs node --expose-gc');
const binding = require(addon);
let packets = 0;
let bytes = 0;
let badContent = 0;
let lastSeq = -1;
let outOfOrder = 0;
const handle = binding.open({ device, filter, timeoutMs: 20 }, (count) => {
  // Fresh views every batch (garbage), never kept: only the addon holds the buffers.
  const h = new Uint32Array(handle.headers);
  const d = new Uint8Array(handle.data);
  for (let i = 0; i < count; i++) {
    const o = i * binding.HEADER_WORDS;
    const off = h[o + 4];
    const len = h[o + 2];
    const seq = ((d[off + 14] << 24) | (d[off + 15] << 16) | (d[off + 16] << 8) | d[off + 17]) >>> 0;
    if (seq !== lastSeq + 1) outOfOrder++;
    lastSeq = seq;
    for (let k = 18; k < len; k++) if (d[off + k] !== ((seq + k) & 0xff)) { badContent++; break; }
    packets++;
    bytes += len;
  }
  new Array(1000).fill(0).map((_, i) => ({ i, s: `x${i}` })); // garbage for the collector
});
const timer = setInterval(() => global.gc(), 1);
process.stdout.write('ready\n');
process.stdin.resume();
process.stdin.on('end', () => {
  // One more block timeout so the last block is handed over.
  setTimeout(() => {
    clearInterval(timer);
    global.gc();
    const st = handle.stats();
    handle.close();
    global.gc();
    process.stdout.write(JSON.stringify({ packets, bytes, badContent, outOfOrder, stats: st }) + '\n');
  }, 300);
});
