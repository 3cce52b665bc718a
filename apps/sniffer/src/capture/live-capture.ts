import { createRequire } from 'node:module';
import { LinkType, createPacketRecord, type PacketRecord } from '@callscope/pcap-format';

/** The part of the `cap` binding (libpcap) the sniffer uses. */
interface CapHandle {
  open(device: string, filter: string, bufferSize: number, buffer: Buffer): string;
  setMinBytes?: (n: number) => void;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): void;
  close(): void;
}
interface CapModule {
  Cap: new () => CapHandle;
}

/** Why live capture is unavailable, said exactly (issue: cap is optional at install time). */
export class LiveCaptureUnavailable extends Error {
  override readonly name = 'LiveCaptureUnavailable';
}

const LINK_TYPES: Record<string, number> = {
  ETHERNET: LinkType.Ethernet,
  NULL: LinkType.Null,
  LINUX_SLL: LinkType.LinuxSll,
  RAW: LinkType.RawDlt,
};

/** Loads the `cap` binding, or explains what is missing. */
export function loadCap(): CapModule {
  try {
    const require = createRequire(import.meta.url);
    return require('cap') as CapModule;
  } catch (err) {
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new LiveCaptureUnavailable(
      `live capture needs the libpcap binding "cap", which did not load (${detail}). ` +
        'Install libpcap (Debian/Ubuntu: apt-get install -y libpcap-dev), then run "npm rebuild cap" ' +
        '(or "npm install" in the deployed sniffer folder). Offline analysis works without it.',
    );
  }
}

/** Counters of one live capture. */
export interface LiveCaptureStats {
  interface: string;
  packets: number;
  bytes: number;
  /** Packets longer than the capture buffer, delivered cut (counted, still analysed). */
  truncated: number;
}

/**
 * Live packets from one interface through libpcap (`cap`). `cap` copies each packet into one
 * reused buffer and tells only its length, so the record is reused too and its timestamp is the
 * moment of delivery (libpcap runs in immediate mode; `cap` does not expose the kernel timestamp —
 * see README for what that means for jitter).
 */
export class LiveCapture {
  readonly stats: LiveCaptureStats;
  private readonly handle: CapHandle;
  private readonly record: PacketRecord = createPacketRecord();
  private readonly epochMs: number;
  private readonly hrStart: bigint;

  constructor(iface: string, filter: string, snaplen: number, bufferBytes: number, onPacket: (rec: PacketRecord) => void, cap: CapModule = loadCap()) {
    this.stats = { interface: iface, packets: 0, bytes: 0, truncated: 0 };
    this.handle = new cap.Cap();
    const buffer = Buffer.alloc(snaplen);
    let linkName: string;
    try {
      linkName = this.handle.open(iface, filter, bufferBytes, buffer);
    } catch (err) {
      throw new LiveCaptureUnavailable(`cannot capture on "${iface}": ${err instanceof Error ? err.message : String(err)} (needs root or CAP_NET_RAW, and an existing interface)`);
    }
    const linkType = LINK_TYPES[linkName];
    if (linkType === undefined) {
      this.handle.close();
      throw new LiveCaptureUnavailable(`interface "${iface}" has a link type callscope cannot capture live through cap: ${linkName}`);
    }
    this.handle.setMinBytes?.(0);
    this.epochMs = Date.now();
    this.hrStart = process.hrtime.bigint();
    const rec = this.record;
    rec.linkType = linkType;
    this.handle.on('packet', (nbytes, truncated) => {
      const ns = BigInt(this.epochMs) * 1_000_000n + (process.hrtime.bigint() - this.hrStart);
      rec.tsSec = Number(ns / 1_000_000_000n);
      rec.tsNsec = Number(ns % 1_000_000_000n);
      rec.capLen = nbytes;
      rec.origLen = nbytes;
      rec.data = buffer.subarray(0, nbytes);
      rec.index = this.stats.packets;
      this.stats.packets++;
      this.stats.bytes += nbytes;
      if (truncated) this.stats.truncated++;
      onPacket(rec);
    });
  }

  close(): void {
    this.handle.close();
  }
}
