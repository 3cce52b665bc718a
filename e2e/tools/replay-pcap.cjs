#!/usr/bin/env node
// Test tool: sends the frames of a classic Ethernet pcap out of an interface through libpcap
// (pcap_inject of callscope's own addon, libs/live-capture), keeping the capture's inter-packet
// gaps divided by --speed (0: as fast as possible).
// usage: node replay-pcap.cjs <iface> <file.pcap> [speed]
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const addonPath = join(__dirname, '../../libs/live-capture/build/Release/live_capture.node');
let binding;
try {
  binding = require(addonPath);
} catch (err) {
  throw new Error(`replay-pcap needs the libpcap addon ${addonPath} (node scripts/ensure.mjs --cap): ${err.message}`);
}

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
// Opened for sending only: a filter nothing matches and the smallest ring, so nothing is delivered.
const handle = binding.open({ device: iface, filter: 'less 1', bufferBytes: 1024 * 1024, snaplen: 64, promisc: false }, () => {});
const t0 = frames[0].t;
const start = Date.now();
let i = 0;
(function next() {
  while (i < frames.length && (speed === 0 || ((frames[i].t - t0) * 1000) / speed <= Date.now() - start)) {
    handle.inject(frames[i].data);
    i++;
  }
  if (i < frames.length) setTimeout(next, 1);
  else {
    handle.close();
    process.stdout.write(`sent ${frames.length} frames\n`);
  }
})();
