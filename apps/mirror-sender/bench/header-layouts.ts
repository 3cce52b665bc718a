/**
 * Issue 16: what would bring the header cost under 8 bytes/packet? An offline estimate, run by
 * `npm run bench -- mirror-sender` after forward.ts; nothing here is on the wire yet.
 *
 * For each capture, the bytes zstd level 1 makes of everything but the RTP payloads (headers,
 * timestamps, lengths; non-RTP packets whole), batch by batch (1000 packets), in three layouts:
 * - protobuf: today's PacketList with the RTP payloads cut out of `data` (per-packet fields and tags);
 * - columnar: zig-zag varint time deltas (ns), caplen and origLen - caplen columns, then the header
 *   bytes of every packet concatenated (link type once per batch, so not counted);
 * - flow context: as columnar, plus per RTP flow (IPv4/UDP 5-tuple + SSRC) a context kept ACROSS
 *   batches: a flow index, the RTP sequence/timestamp and IPv4 id deltas as varints, the IPv4
 *   header checksum dropped (the receiver recomputes it) and the rest XORed with the flow's previous
 *   header (zeros where nothing changed). A new flow or another header length sends the header whole.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { compressBatch, compressionWire } from '@callscope/mirror-codec';
import { PacketList } from '@callscope/mirror-protocol';
import { readCaptureFile } from '@callscope/pcap-store';

const root = process.env['CALLSCOPE_ROOT'] ?? process.cwd();
const PACKETS = Number(process.env['MIRROR_BENCH_PACKETS'] ?? 400_000);
const BATCH = 1000;
const ETHERNET = 1;

interface Pkt {
  linkType: number;
  ns: bigint;
  origLen: number;
  data: Uint8Array;
}

const zstd = (b: Uint8Array): number => compressBatch(compressionWire('zstd'), b).length;

function varint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}
const zigzag = (v: number): number => (v >= 0 ? 2 * v : -2 * v - 1);

/** Offset of the RTP header (ro) and payload (po) in an Ethernet/IPv4/UDP frame, or null. */
function rtp(d: Uint8Array): { udp: number; po: number } | null {
  if (d.length < 42 || ((d[12]! << 8) | d[13]!) !== 0x0800 || d[23] !== 17) return null;
  const udp = 14 + (d[14]! & 0x0f) * 4;
  const r = udp + 8;
  if (r + 12 > d.length || d[r]! >> 6 !== 2) return null;
  const pt = d[r + 1]! & 0x7f;
  if (pt >= 72 && pt <= 76) return null;
  let po = r + 12 + (d[r]! & 0x0f) * 4;
  if ((d[r]! & 0x10) !== 0) po += 4 + (po + 4 <= d.length ? ((d[po + 2]! << 8) | d[po + 3]!) * 4 : 0);
  return po <= d.length ? { udp, po } : null;
}

async function estimate(name: string, file: string): Promise<void> {
  const pk: Pkt[] = [];
  await readCaptureFile(file, (r) => {
    if (pk.length < PACKETS) pk.push({ linkType: r.linkType, ns: BigInt(r.tsSec) * 1_000_000_000n + BigInt(r.tsNsec), origLen: r.origLen, data: r.data.slice() });
    return undefined;
  });
  const once = pk.length;
  for (let i = 0; pk.length < PACKETS && once > 0; i++) pk.push(pk[i % once]!);
  if (pk.some((p) => p.linkType !== ETHERNET)) process.stdout.write(`  (${name}: non-Ethernet packets count whole)\n`);
  const flows = new Map<string, number>();
  const last: Uint8Array[] = [];
  let proto = 0;
  let columnar = 0;
  let context = 0;
  for (let i = 0; i < pk.length; i += BATCH) {
    const batch = pk.slice(i, i + BATCH);
    const meta: number[] = [];
    const heads: Uint8Array[] = [];
    const cmeta: number[] = [];
    const cheads: Uint8Array[] = [];
    let prev = batch[0]!.ns;
    const cut = [];
    for (const p of batch) {
      varint(meta, zigzag(Number(p.ns - prev)));
      prev = p.ns;
      varint(meta, p.data.length);
      varint(meta, p.origLen - p.data.length);
      const r = p.linkType === ETHERNET ? rtp(p.data) : null;
      const h = r === null ? p.data : p.data.subarray(0, r.po);
      heads.push(h);
      cut.push({ linkType: p.linkType, tsSec: Number(p.ns / 1_000_000_000n), tsNsec: Number(p.ns % 1_000_000_000n), origLen: p.origLen, data: h });
      if (r === null) {
        varint(cmeta, 0);
        cheads.push(h);
        continue;
      }
      const u = r.udp + 8;
      const key = `${Buffer.from(h.subarray(26, r.udp + 4)).toString('hex')}/${Buffer.from(h.subarray(u + 8, u + 12)).toString('hex')}`;
      let id = flows.get(key);
      if (id === undefined) {
        id = flows.size + 1;
        flows.set(key, id);
      }
      varint(cmeta, id);
      const before = last[id];
      if (before === undefined || before.length !== h.length) {
        cmeta.push(0);
        cheads.push(h);
      } else {
        const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
        const pv = new DataView(before.buffer, before.byteOffset, before.byteLength);
        cmeta.push(1);
        varint(cmeta, (dv.getUint16(u + 2) - pv.getUint16(u + 2)) & 0xffff);
        varint(cmeta, (dv.getUint32(u + 4) - pv.getUint32(u + 4)) >>> 0);
        varint(cmeta, (dv.getUint16(18) - pv.getUint16(18)) & 0xffff);
        const x = new Uint8Array(h.length);
        for (let k = 0; k < h.length; k++) x[k] = h[k]! ^ before[k]!;
        x[18] = x[19] = x[24] = x[25] = 0; // IPv4 id (sent as a delta), header checksum (recomputed)
        x.fill(0, u + 2, u + 8); // RTP sequence and timestamp (sent as deltas)
        cheads.push(x);
      }
      last[id] = h;
    }
    proto += zstd(PacketList.encode({ packets: cut }).finish());
    columnar += zstd(Buffer.concat([Uint8Array.from(meta), ...heads]));
    context += zstd(Buffer.concat([Uint8Array.from(meta), Uint8Array.from(cmeta), ...cheads]));
  }
  const per = (n: number) => (n / pk.length).toFixed(1).padStart(8);
  process.stdout.write(`  ${name.padEnd(22)} ${per(proto)} ${per(columnar)} ${per(context)}   (${flows.size} RTP flows)\n`);
}

const synth = join(root, 'var/bench/synth-1k-concurrent.pcap');
process.stdout.write(`\nheader cost estimates, zstd-1 bytes per packet of all but the RTP payloads, batches of ${BATCH}, ${PACKETS} packets per capture (target < 8):\n`);
process.stdout.write(`  ${'capture'.padEnd(22)} protobuf columnar flow-context\n`);
if (existsSync(synth)) await estimate('synth-1k-concurrent', synth);
await estimate('carrier/rtp-stall-8s', join(root, 'fixtures/carrier/rtp-stall-8s.pcap'));
await estimate('corpus/busy-hour-a', join(root, 'fixtures/corpus/busy-hour-a.pcap'));
