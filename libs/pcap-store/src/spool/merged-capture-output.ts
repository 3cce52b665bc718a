import {
  MAX_CAPTURE_LENGTH,
  PCAP_RECORD_HEADER_LENGTH,
  PcapResolution,
  serializePcapGlobalHeader,
  serializePcapRecordHeader,
} from '@callscope/pcap-format';

/** Format of a merged call capture. */
export const MergedCaptureFormat = {
  /** Classic nanosecond pcap: every file of the call has the same link type (the normal case). */
  PCAP: 'pcap',
  /** pcapng with one interface per link type, ns timestamps: the call's files differ in link type. */
  PCAPNG: 'pcapng',
} as const;

/** One of the {@link MergedCaptureFormat} values. */
export type MergedCaptureFormat = (typeof MergedCaptureFormat)[keyof typeof MergedCaptureFormat];

/** Output chunk size: one `yield` per 64 KiB keeps HTTP writes large and memory flat. */
export const OUTPUT_CHUNK_BYTES = 64 * 1024;
const SHB_LENGTH = 28;
const IDB_LENGTH = 32; // 20 fixed + if_tsresol option (8) + opt_endofopt (4)
const EPB_FIXED_LENGTH = 32;
const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 0x00000001;
const BLOCK_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_IF_TSRESOL = 9;
const NS_PER_SEC = 1_000_000_000n;

/**
 * Where {@link MergedCaptureOutput} gets its output buffers: `allocate(size)` returns a buffer of at
 * least `size` bytes that nobody else uses. With a provider, records already serialised (see
 * `addRecords`) are always copied into such buffers, never handed on as they are: the caller may
 * then reuse the memory they came from (and the provider may hand out memory it got back).
 */
export interface OutputBufferProvider {
  allocate(size: number): Buffer;
}

/**
 * Serialises the merged packets of a call into buffers of about 64 KiB: classic pcap (ns) when
 * one link type is involved, else pcapng (SHB, one IDB per link type with `if_tsresol` = 9, EPBs),
 * both little-endian.
 *
 * @see https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcap/ sections 4-5
 * @see https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcapng/ sections 4.1, 4.2, 4.3
 */
export class MergedCaptureOutput {
  /** Chosen format. */
  readonly format: MergedCaptureFormat;
  private readonly interfaceOf = new Map<number, number>();
  private buf: Buffer;
  private len = 0;

  /**
   * @param linkTypes - distinct link types of the call's packets, in interface order (at most 8: 4 variants × 2 groups)
   * @param provider - where output buffers come from (default: fresh memory; see {@link OutputBufferProvider})
   */
  constructor(
    linkTypes: readonly number[],
    private readonly provider: OutputBufferProvider | null = null,
  ) {
    this.buf = this.allocate(OUTPUT_CHUNK_BYTES);
    this.format = linkTypes.length <= 1 ? MergedCaptureFormat.PCAP : MergedCaptureFormat.PCAPNG;
    linkTypes.forEach((lt, i) => this.interfaceOf.set(lt, i));
    if (this.format === MergedCaptureFormat.PCAP) {
      this.len = serializePcapGlobalHeader(this.buf, 0, linkTypes[0] ?? 1, MAX_CAPTURE_LENGTH, PcapResolution.NANOSECONDS);
      return;
    }
    const b = this.buf;
    b.writeUInt32LE(BLOCK_SHB, 0);
    b.writeUInt32LE(SHB_LENGTH, 4);
    b.writeUInt32LE(BYTE_ORDER_MAGIC, 8);
    b.writeUInt16LE(1, 12); // major
    b.writeUInt16LE(0, 14); // minor
    b.writeInt32LE(-1, 16); // section length unknown (-1 as 64 bits)
    b.writeInt32LE(-1, 20);
    b.writeUInt32LE(SHB_LENGTH, 24);
    let at = SHB_LENGTH;
    for (const lt of linkTypes) {
      b.writeUInt32LE(BLOCK_IDB, at);
      b.writeUInt32LE(IDB_LENGTH, at + 4);
      b.writeUInt16LE(lt, at + 8);
      b.writeUInt16LE(0, at + 10);
      b.writeUInt32LE(MAX_CAPTURE_LENGTH, at + 12);
      b.writeUInt16LE(OPT_IF_TSRESOL, at + 16);
      b.writeUInt16LE(1, at + 18);
      b.writeUInt32LE(9, at + 20); // 10^-9 s, then 3 bytes of padding (zero)
      b.writeUInt32LE(0, at + 24); // opt_endofopt
      b.writeUInt32LE(IDB_LENGTH, at + 28);
      at += IDB_LENGTH;
    }
    this.len = at;
  }

  /**
   * Appends one packet.
   * @returns a full chunk to hand on, or null
   */
  add(linkType: number, tsSec: number, tsNsec: number, data: Uint8Array, origLen: number): Buffer | null {
    const pcapng = this.format === MergedCaptureFormat.PCAPNG;
    const padded = pcapng ? (data.length + 3) & ~3 : data.length;
    const size = pcapng ? EPB_FIXED_LENGTH + padded : PCAP_RECORD_HEADER_LENGTH + data.length;
    let full: Buffer | null = null;
    if (this.len + size > this.buf.length) {
      full = this.take();
      if (size > this.buf.length) this.buf = this.allocate(size);
    }
    const b = this.buf;
    const at = this.len;
    if (!pcapng) {
      serializePcapRecordHeader(b, at, tsSec, tsNsec, data.length, origLen, PcapResolution.NANOSECONDS);
      b.set(data, at + PCAP_RECORD_HEADER_LENGTH);
    } else {
      // 64-bit count of ns exceeds 2^53 for current dates: BigInt here (retrieval, not the packet path).
      const ticks = BigInt(tsSec) * NS_PER_SEC + BigInt(tsNsec);
      b.writeUInt32LE(BLOCK_EPB, at);
      b.writeUInt32LE(size, at + 4);
      b.writeUInt32LE(this.interfaceOf.get(linkType) ?? 0, at + 8);
      b.writeUInt32LE(Number(ticks >> 32n), at + 12);
      b.writeUInt32LE(Number(ticks & 0xffff_ffffn), at + 16);
      b.writeUInt32LE(data.length, at + 20);
      b.writeUInt32LE(origLen, at + 24);
      b.set(data, at + 28);
      b.fill(0, at + 28 + data.length, at + 28 + padded);
      b.writeUInt32LE(size, at + 28 + padded);
    }
    this.len = at + size;
    return full;
  }

  /**
   * Appends records already serialised as classic little-endian ns pcap records (a spool chunk's
   * records, checked by the caller): only for the `pcap` format. Without a provider, a run of
   * 32 KiB or more is handed on as it is (no copy) after what was gathered before it; with one,
   * every byte is copied into the output buffers (full ones are handed on).
   * @returns the chunks to hand on, in order
   */
  addRecords(records: Uint8Array): Buffer[] {
    if (this.format !== MergedCaptureFormat.PCAP) throw new TypeError('addRecords needs the pcap format');
    if (this.provider !== null) {
      const out: Buffer[] = [];
      for (let at = 0; at < records.length; ) {
        if (this.len === this.buf.length) out.push(this.take());
        const n = Math.min(records.length - at, this.buf.length - this.len);
        this.buf.set(records.subarray(at, at + n), this.len);
        this.len += n;
        at += n;
      }
      return out;
    }
    if (records.length < OUTPUT_CHUNK_BYTES / 2) {
      const out: Buffer[] = [];
      if (this.len + records.length > this.buf.length) out.push(this.take());
      this.buf.set(records, this.len);
      this.len += records.length;
      return out;
    }
    const whole = Buffer.from(records.buffer, records.byteOffset, records.length);
    return this.len > 0 ? [this.take(), whole] : [whole];
  }

  /** The bytes gathered so far (possibly just the file header), leaving the output empty. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.len);
    this.buf = this.allocate(OUTPUT_CHUNK_BYTES);
    this.len = 0;
    return out;
  }

  private allocate(size: number): Buffer {
    return this.provider === null ? Buffer.allocUnsafe(size) : this.provider.allocate(size);
  }
}
