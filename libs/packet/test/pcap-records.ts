/**
 * Test-only walker over classic pcap and pcapng files (not exported by the lib, which does no I/O).
 * Calls `onRecord` with the file buffer and the offset/length of each packet's bytes; no copies.
 */
export interface PcapRecord {
  linkType: number;
  offset: number;
  length: number;
  tsSec: number;
  tsNsec: number;
}

export function walkPcap(buf: Uint8Array, onRecord: (r: PcapRecord) => void): number {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magicBe = dv.getUint32(0, false);
  if (magicBe === 0x0a0d0d0a) return walkPcapng(buf, dv, onRecord);
  let le: boolean;
  let nano: boolean;
  if (magicBe === 0xa1b2c3d4 || magicBe === 0xa1b23c4d) {
    le = false;
    nano = magicBe === 0xa1b23c4d;
  } else if (magicBe === 0xd4c3b2a1 || magicBe === 0x4d3cb2a1) {
    le = true;
    nano = magicBe === 0x4d3cb2a1;
  } else {
    throw new Error('not a pcap file');
  }
  const linkType = dv.getUint32(20, le) & 0xffff;
  const r: PcapRecord = { linkType, offset: 0, length: 0, tsSec: 0, tsNsec: 0 };
  let off = 24;
  let n = 0;
  while (off + 16 <= buf.length) {
    r.tsSec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    r.tsNsec = nano ? frac : frac * 1000;
    r.length = dv.getUint32(off + 8, le);
    r.offset = off + 16;
    if (r.offset + r.length > buf.length) break;
    onRecord(r);
    n++;
    off = r.offset + r.length;
  }
  return n;
}

function walkPcapng(buf: Uint8Array, dv: DataView, onRecord: (r: PcapRecord) => void): number {
  let le = true;
  let off = 0;
  let n = 0;
  const linkTypes: number[] = [];
  const tsDiv: number[] = [];
  const r: PcapRecord = { linkType: 0, offset: 0, length: 0, tsSec: 0, tsNsec: 0 };
  while (off + 12 <= buf.length) {
    const type = dv.getUint32(off, le);
    if (type === 0x0a0d0d0a) {
      le = dv.getUint32(off + 8, true) === 0x1a2b3c4d;
      linkTypes.length = 0;
      tsDiv.length = 0;
    }
    const len = dv.getUint32(off + 4, le);
    if (len < 12 || off + len > buf.length) break;
    if (type === 1) {
      linkTypes.push(dv.getUint16(off + 8, le));
      // if_tsresol option (9): default microseconds.
      let res = 1e6;
      let o = off + 16;
      while (o + 4 <= off + len - 4) {
        const code = dv.getUint16(o, le);
        const olen = dv.getUint16(o + 2, le);
        if (code === 0) break;
        if (code === 9) {
          const v = buf[o + 4]!;
          res = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
        }
        o += 4 + ((olen + 3) & ~3);
      }
      tsDiv.push(res);
    } else if (type === 6) {
      const iface = dv.getUint32(off + 8, le);
      const ts = dv.getUint32(off + 12, le) * 2 ** 32 + dv.getUint32(off + 16, le);
      const res = tsDiv[iface] ?? 1e6;
      r.linkType = linkTypes[iface] ?? 1;
      r.tsSec = Math.floor(ts / res);
      r.tsNsec = Math.round(((ts % res) * 1e9) / res);
      r.length = dv.getUint32(off + 20, le);
      r.offset = off + 28;
      onRecord(r);
      n++;
    }
    off += len;
  }
  return n;
}
