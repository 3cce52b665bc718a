import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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

/** What makes the binding build and load on Debian/Ubuntu (node-gyp needs make, g++, python3). */
const CAP_BUILD_NEEDS = 'make, g++, python3 and libpcap-dev (Debian/Ubuntu: apt-get install -y make g++ python3 libpcap-dev)';
const OFFLINE_WORKS = 'Offline analysis works without it.';

/** The first line of what a failed require said. */
const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';

/**
 * Loads the `cap` binding, or explains which piece is missing: the package itself (npm leaves
 * out an optional dependency whose native build failed), its native build, or a library the
 * build links against (libpcap).
 */
export function loadCap(): CapModule {
  const require = createRequire(import.meta.url);
  let main: string;
  try {
    main = require.resolve('cap');
  } catch {
    throw new LiveCaptureUnavailable(
      'live capture needs the libpcap binding "cap", which is not installed: npm leaves this optional ' +
        `dependency out when its native build fails. Install ${CAP_BUILD_NEEDS}, then run "npm start" ` +
        `(or "npm install" in the deployed sniffer folder). ${OFFLINE_WORKS}`,
    );
  }
  const dir = dirname(dirname(main));
  const addon = join(dir, 'build', 'Release', 'cap.node');
  if (!existsSync(addon)) {
    throw new LiveCaptureUnavailable(
      `live capture needs the libpcap binding "cap", which is installed in ${dir} but not built (no ${addon}). ` +
        `Install ${CAP_BUILD_NEEDS}, then run "npm rebuild cap". ${OFFLINE_WORKS}`,
    );
  }
  try {
    return require('cap') as CapModule;
  } catch (err) {
    const detail = firstLine(err);
    let cause: string;
    if (/libpcap\.so/.test(detail)) cause = 'the libpcap shared library is missing or broken (Debian/Ubuntu: apt-get install --reinstall -y libpcap0.8)';
    else if (/NODE_MODULE_VERSION|was compiled against a different Node\.js version/.test(detail)) cause = `it was built for another Node.js version: run "npm rebuild cap" with this one (${process.version})`;
    else cause = `rebuild it with "npm rebuild cap" (needs ${CAP_BUILD_NEEDS})`;
    throw new LiveCaptureUnavailable(`live capture needs the libpcap binding "cap", which is built but did not load (${detail}): ${cause}. ${OFFLINE_WORKS}`);
  }
}

/**
 * Handles whose `open()` failed, with the buffer given to it, kept reachable until the process
 * ends. `cap` 0.2.1 leaves such a handle half-open: libpcap's handle is set, but the poll watcher
 * was never initialised and the object never `Ref()`ed. Its `close()` — called by `close()` from
 * JavaScript, by a later `open()`, and by the destructor when garbage collection takes the handle —
 * then stops that uninitialised watcher and `Unref()`s once too often: libuv asserts (SIGABRT) or
 * the process faults (SIGSEGV) after the reason was printed, instead of exiting 5. So a failed
 * handle is never closed nor collected; its libpcap handle goes when the process does. Only a
 * failed open adds here, and a failed open ends `sniffer live`.
 */
const failedOpens: { handle: CapHandle; buffer: Buffer }[] = [];

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
  /**
   * The buffer libpcap copies every packet into. `cap` 0.2.1 keeps only a raw pointer to it
   * (`Buffer::Data`, no reference): if nothing on the JavaScript side held it, garbage collection
   * would free it while libpcap still writes there. Held here for as long as the capture lives,
   * not only by the packet listener's closure (tested in e2e/src/live-capture.test.ts with forced
   * garbage collection).
   */
  private readonly buffer: Buffer;
  private readonly record: PacketRecord = createPacketRecord();
  private readonly epochMs: number;
  private readonly hrStart: bigint;

  constructor(iface: string, filter: string, snaplen: number, bufferBytes: number, onPacket: (rec: PacketRecord) => void, cap: CapModule = loadCap()) {
    this.stats = { interface: iface, packets: 0, bytes: 0, truncated: 0 };
    this.handle = new cap.Cap();
    this.buffer = Buffer.alloc(snaplen);
    let linkName: string;
    try {
      linkName = this.handle.open(iface, filter, bufferBytes, this.buffer);
    } catch (err) {
      failedOpens.push({ handle: this.handle, buffer: this.buffer });
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
      rec.data = this.buffer.subarray(0, nbytes);
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
