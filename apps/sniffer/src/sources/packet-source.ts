import type { PacketRecord } from '@callscope/pcap-format';

/** Kinds of packet source, as `sniffer stats` names them. */
export type SourceKind = 'pcap' | 'hep' | 'replay' | 'mirror';

/**
 * Counters of one source. The first four exist for every kind (zero where the kind cannot lose
 * packets that way) so a monitoring system reads the same keys everywhere; each kind adds its own.
 */
export interface SourceStats {
  kind: SourceKind;
  /** Interface, listen address or file list. */
  name: string;
  /** Packets (or messages) this source handed to the call engine. */
  received: number;
  /** Packets the kernel dropped because the capture ring was full (libpcap `ps_drop`). */
  kernel_drops: number;
  /** Packets the interface or its driver dropped before the kernel saw them (libpcap `ps_ifdrop`). */
  if_drops: number;
  /** Packets the source received but did not deliver (its own queue or a limit was full). */
  queue_drops: number;
  /** Kind-specific counters and gauges (numbers, strings and flags only). */
  [counter: string]: number | string | boolean | null;
}

/** Where a source delivers: the sensor's packet path (synchronous; copy `rec.data` to keep it). */
export type PacketSink = (rec: PacketRecord) => void;

/**
 * One input of the sensor daemon. A source delivers through the {@link PacketSink} it was built
 * with, on the event loop (never concurrently), and its counters are read at any time.
 */
export interface PacketSource {
  readonly kind: SourceKind;
  readonly name: string;
  /** Opens the interface, socket or file; rejects with a message fit for the operator. */
  start(): Promise<void>;
  /** Stops delivering and releases everything; idempotent. Packets already delivered stay delivered. */
  stop(): Promise<void>;
  stats(): SourceStats;
  /**
   * The source's "now" on the capture clock, in µs since the epoch, or null when it has none
   * (nothing playing). Calls time out on packet time; when no packet comes the daemon moves that
   * time on with this: the wall clock for live sources, the replay's schedule for a replay that
   * keeps its recorded times (the wall clock would time every replayed call out at once).
   */
  clockUs(): number | null;
  /** Resolves when the source has nothing more to deliver (a replay's last file); never for live ones. */
  readonly ended?: Promise<void>;
}
