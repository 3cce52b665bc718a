#!/usr/bin/env node
// Test tool: sends the frames of a classic Ethernet pcap out of an interface through libpcap
// (cap's pcap_inject), keeping the capture's inter-packet gaps divided by --speed.
// usage: node replay-pcap.cjs <iface> <file.pcap> [speed]
'use strict';
const { readFileSync } = require('node:fs');
const { Cap } = require('cap');

const [iface, file, speedArg] = process.argv.slice(2);
const speed = Number(speedArg ?? '1');
const buf = readFileSync(file);
const magic = buf.readUInt32LE(0);
const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
if (!le && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${file}: not a classic pcap`);
const nano = (le ? magic : buf.readUInt32BE(0)) === 0xa1b23c4d;
const u32 = (o) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
if (u32(20) !== 1) throw new Error(`${file}: link type ${u32(20)} is not Ethernet`);
const frames = [];
for (let off = 24; off + 16 <= buf.length; ) {
  const t = u32(off) + u32(off + 4) / (nano ? 1e9 : 1e6);
  const len = u32(off + 8);
  frames.push({ t, data: buf.subarray(off + 16, off + 16 + len) });
  off += 16 + len;
}
const cap = new Cap();
// libpcap writes received packets into this buffer: it must stay referenced while cap is open.
const rxBuffer = Buffer.alloc(65535);
cap.open(iface, 'less 1', 10 * 1024 * 1024, rxBuffer);
const t0 = frames[0].t;
const start = Date.now();
let i = 0;
(function next() {
  while (i < frames.length && (frames[i].t - t0) * 1000 / speed <= Date.now() - start) {
    cap.send(Buffer.from(frames[i].data), frames[i].data.length);
    i++;
  }
  if (i < frames.length) setTimeout(next, 1);
  else {
    cap.close();
    void rxBuffer;
    process.stdout.write(`sent ${frames.length} frames\n`);
  }
})();
