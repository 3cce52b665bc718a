// Child of gc.test.ts: `node gc-inject-child.cjs <addon> <iface> <count> <length>` injects count
// test frames (veth.ts testFrame layout, sequence numbers 0..count-1) in slices of 2,000 with an
// event-loop turn between, then prints the bytes sent.
/* global setImmediate */
'use strict';
const [addon, device, countArg, lengthArg] = process.argv.slice(2);
const binding = require(addon);
const count = Number(countArg);
const length = Number(lengthArg);
const tx = binding.open({ device, filter: 'less 1', bufferBytes: 1 << 20, snaplen: 64 }, () => {});
const f = Buffer.alloc(length);
f.fill(0xff, 0, 6);
f.set([0x02, 0, 0, 0, 0, 1], 6);
f.writeUInt16BE(0x88b5, 12);
let seq = 0;
let sent = 0;
(function slice() {
  for (let n = 0; n < 2000 && seq < count; n++, seq++) {
    f.writeUInt32BE(seq, 14);
    for (let i = 18; i < length; i++) f[i] = (seq + i) & 0xff;
    sent += tx.inject(f);
  }
  if (seq < count) setImmediate(slice);
  else {
    tx.close();
    process.stdout.write(`${sent}\n`);
  }
})();
