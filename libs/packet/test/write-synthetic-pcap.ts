/**
 * Writes `fixtures/synthetic.pcapng` from SYNTHETIC_FRAMES so tshark can dissect it into the oracle
 * (`python3 fixtures/make-oracle.py fixtures/synthetic.pcapng`). Run by hand, never by the tests:
 *   npx esbuild test/write-synthetic-pcap.ts --bundle --platform=node --format=esm --outfile=/tmp/w.mjs && node /tmp/w.mjs test/fixtures/synthetic.pcapng
 */
import { writeFileSync } from 'node:fs';
import { concat, le32 } from './frame-builder.js';
import { SYNTHETIC_FRAMES } from './synthetic-frames.js';

function block(type: number, body: Uint8Array): Uint8Array {
  const pad = (4 - (body.length % 4)) % 4;
  const len = 12 + body.length + pad;
  return concat(le32(type), le32(len), body, new Array<number>(pad).fill(0), le32(len));
}

const shb = block(0x0a0d0d0a, concat(le32(0x1a2b3c4d), [1, 0, 0, 0], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
const ifaces: number[] = [];
const blocks: Uint8Array[] = [shb];
for (const f of SYNTHETIC_FRAMES) {
  if (!ifaces.includes(f.linkType)) {
    ifaces.push(f.linkType);
    blocks.push(block(1, concat([f.linkType & 0xff, f.linkType >> 8, 0, 0], le32(65535))));
  }
}
SYNTHETIC_FRAMES.forEach((f, i) => {
  const usec = 1_700_000_000 * 1_000_000 + i * 1000;
  const hi = Math.floor(usec / 2 ** 32);
  const lo = usec % 2 ** 32;
  blocks.push(block(6, concat(le32(ifaces.indexOf(f.linkType)), le32(hi), le32(lo), le32(f.bytes.length), le32(f.bytes.length), f.bytes)));
});
const target = process.argv[2];
if (target === undefined) throw new Error('usage: node w.mjs <output.pcapng>');
writeFileSync(target, concat(...blocks));
