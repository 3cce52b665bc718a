import { loadConfig, logConfigSchema, sensorConfigSchema } from '@callscope/runtime';
import type { ConfigCheckFailure, ConfigSchema, LoadedConfig, LogLevel } from '@callscope/runtime';
import { MIRROR_COMPRESSIONS, type MirrorCompression } from '@callscope/mirror-codec';

/** App name: it names the env variables (`CALLSCOPE_MIRROR_SENDER_*`) and the log lines. */
export const MIRROR_SENDER_APP = 'mirror-sender';

export { MIRROR_COMPRESSIONS } from '@callscope/mirror-codec';
export type { MirrorCompression } from '@callscope/mirror-codec';

/**
 * Default batch compression: zstd level 1. Measured (node 20, one core, 1000-packet batches; see
 * README "Compression"): as small as Brotli q4 on a synthetic 1k-call capture (ratio 12.7) at 3.8x
 * the speed of deflate-1, and slightly smaller than deflate on real G.711 and SIP-heavy captures at
 * 2.7-3.3x its speed. lz4 is faster still but 15-40 % larger on the wire, and the link is a WAN.
 */
export const DEFAULT_COMPRESSION: MirrorCompression = 'zstd';

/** Upper bound of one batch, so the receiver can bound its frame size. */
export const MAX_BATCH_BYTES = 16 * 1024 * 1024;
/**
 * Default `batch.maxPackets`. 4000, not 1000: the sender pays a fixed cost per batch (compressor
 * call, frame, socket write, ack); in the paced bench at 250,000 packets/s, 4000 took the sender
 * from 10-11 to 7.6-7.9 % of a core per 100,000 packets/s (zstd, G.711 and synth). A batch still
 * leaves within `batch.maxMs` (50 ms): below ~80,000 packets/s the timer closes it first anyway.
 */
export const DEFAULT_BATCH_PACKETS = 4000;

/** buffer.maxMb's default: unacknowledged batches kept in memory, MiB of their raw form. */
export const DEFAULT_BUFFER_MB = 256;

/** The mirror-sender's configuration, validated once at start (see {@link mirrorSenderConfigSchema}). */
export interface MirrorSenderConfig {
  sensor: { id: number; name: string };
  interfaces: string[];
  bpfFilter: string;
  target: { host: string | null; port: number };
  secret: string | null;
  tls: { enabled: boolean; caFile: string | null; serverName: string | null };
  batch: { maxPackets: number; maxMs: number; maxBytes: number };
  buffer: { maxMb: number; spillDir: string | null; spillMaxMb: number };
  compression: MirrorCompression;
  protocol: { maxVersion: number };
  heartbeat: { intervalS: number; timeoutS: number };
  reconnect: { minMs: number; maxMs: number };
  health: { host: string; port: number | null };
  log: { level: LogLevel; pretty: boolean | null };
}

/** The mirror-sender's one config schema; every object closed. */
export const mirrorSenderConfigSchema: ConfigSchema<MirrorSenderConfig> = {
  type: 'object',
  additionalProperties: false,
  required: ['sensor', 'interfaces', 'bpfFilter', 'target', 'secret', 'tls', 'batch', 'buffer', 'compression', 'protocol', 'heartbeat', 'reconnect', 'health', 'log'],
  properties: {
    sensor: sensorConfigSchema('Sensor id the receiving sniffer records for these packets.', 'Human name sent in the handshake.'),
    interfaces: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      uniqueItems: true,
      default: [],
      description: 'Interfaces to capture on this PBX/SBC host.',
    },
    bpfFilter: {
      type: 'string',
      // Same tunnel-aware default as the sniffer: whatever can carry SIP or RTP.
      default: 'udp or tcp or ip proto 4 or ip proto 41 or ip proto 47 or ip6 proto 4 or ip6 proto 41 or ip6 proto 47 or vlan or mpls',
      description: 'libpcap capture filter; narrow it (e.g. "port 5060 or portrange 10000-20000") to spare the link.',
    },
    target: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'port'],
      properties: {
        host: { type: 'string', nullable: true, minLength: 1, default: null, description: 'Sniffer receiving the stream (its mirror receiver, see DESIGN.md "Mirror stream").' },
        port: { type: 'integer', minimum: 1, maximum: 65535, default: 5030, description: 'TCP port of the sniffer mirror receiver.' },
      },
    },
    secret: {
      type: 'string',
      nullable: true,
      minLength: 16,
      default: null,
      'x-secret': true,
      description: 'Shared secret of the handshake; equal to the sniffer mirror.secret.',
    },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['enabled', 'caFile', 'serverName'],
      properties: {
        enabled: { type: 'boolean', default: false, description: 'Wrap the stream in TLS.' },
        caFile: { type: 'string', nullable: true, minLength: 1, default: null, description: 'PEM CA bundle to verify the sniffer; null = system CAs.' },
        serverName: { type: 'string', nullable: true, minLength: 1, default: null, description: 'Name to verify in the certificate; null = target.host.' },
      },
    },
    batch: {
      type: 'object',
      additionalProperties: false,
      required: ['maxPackets', 'maxMs', 'maxBytes'],
      properties: {
        maxPackets: { type: 'integer', minimum: 1, maximum: 100_000, default: DEFAULT_BATCH_PACKETS, description: 'Packets per batch (a batch also closes at maxBytes and after maxMs).' },
        maxMs: { type: 'integer', minimum: 1, maximum: 10_000, default: 50, description: 'Send a partial batch after this many ms.' },
        maxBytes: { type: 'integer', minimum: 1024, maximum: MAX_BATCH_BYTES, default: 1024 * 1024, description: 'Bytes per batch before compression.' },
      },
    },
    buffer: {
      type: 'object',
      additionalProperties: false,
      required: ['maxMb', 'spillDir', 'spillMaxMb'],
      properties: {
        maxMb: { type: 'integer', minimum: 1, default: DEFAULT_BUFFER_MB, description: 'Unacknowledged batches kept for resend in memory; overflow goes to the spill (if any), then is counted.' },
        spillDir: {
          type: 'string',
          nullable: true,
          minLength: 1,
          default: null,
          description: 'Directory for the disk spill of unacknowledged batches when memory is full (null = no spill); leftover files of an earlier process are counted and deleted at start.',
        },
        spillMaxMb: { type: 'integer', minimum: 1, default: 4096, description: 'Bound of the spill files in spillDir; beyond memory + spill the oldest batches are dropped, counted.' },
      },
    },
    compression: { type: 'string', enum: [...MIRROR_COMPRESSIONS], default: DEFAULT_COMPRESSION, description: 'Batch compression: zstd (default), lz4, deflate, brotli or none.' },
    protocol: {
      type: 'object',
      additionalProperties: false,
      required: ['maxVersion'],
      properties: {
        maxVersion: {
          type: 'integer',
          minimum: 1,
          maximum: 3,
          default: 3,
          description: 'Highest mirror protocol version offered (3: per-flow header context, zstd batches as a header frame and a faster payload frame; 2: the same with one zstd frame; 1: PacketList batches). The sniffer answers the highest both speak; 1 and 2 are fallbacks.',
        },
      },
    },
    heartbeat: {
      type: 'object',
      additionalProperties: false,
      required: ['intervalS', 'timeoutS'],
      properties: {
        intervalS: { type: 'integer', minimum: 1, maximum: 300, default: 5, description: 'Heartbeat sent after this many seconds without a frame to the sniffer.' },
        timeoutS: { type: 'integer', minimum: 2, maximum: 3600, default: 30, description: 'Reconnect when the sniffer sends nothing (no ack, no heartbeat) for this long.' },
      },
    },
    reconnect: {
      type: 'object',
      additionalProperties: false,
      required: ['minMs', 'maxMs'],
      properties: {
        minMs: { type: 'integer', minimum: 10, maximum: 60_000, default: 500, description: 'First reconnect delay; doubles per failed attempt (with jitter).' },
        maxMs: { type: 'integer', minimum: 10, maximum: 600_000, default: 30_000, description: 'Cap of the reconnect delay.' },
      },
    },
    health: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'port'],
      properties: {
        host: { type: 'string', minLength: 1, default: '127.0.0.1', description: 'Address of the health/metrics HTTP endpoint (loopback by default: it is unauthenticated).' },
        port: { type: 'integer', nullable: true, minimum: 0, maximum: 65535, default: 5031, description: 'Port of the health/metrics endpoint; 0 = any free port (logged), null = no endpoint.' },
      },
    },
    log: logConfigSchema,
  },
};

/** Cross-field rules of the mirror-sender config. */
export function checkMirrorSenderConfig(config: MirrorSenderConfig): ConfigCheckFailure[] {
  const failures: ConfigCheckFailure[] = [];
  if (config.target.host !== null && config.secret === null) {
    failures.push({ path: ['target', 'host'], message: 'needs secret: the mirror stream is always authenticated' });
  }
  if (!config.tls.enabled && (config.tls.caFile !== null || config.tls.serverName !== null)) {
    failures.push({ path: ['tls', 'enabled'], message: 'is false although tls.caFile or tls.serverName is set; enable TLS or remove them' });
  }
  if (config.batch.maxBytes > config.buffer.maxMb * 1024 * 1024) {
    failures.push({ path: ['batch', 'maxBytes'], message: `exceeds buffer.maxMb (${config.buffer.maxMb} MiB): not even one batch could be kept` });
  }
  if (config.reconnect.minMs > config.reconnect.maxMs) {
    failures.push({ path: ['reconnect', 'minMs'], message: `exceeds reconnect.maxMs (${config.reconnect.maxMs})` });
  }
  if (config.heartbeat.timeoutS <= config.heartbeat.intervalS) {
    failures.push({ path: ['heartbeat', 'timeoutS'], message: `must exceed heartbeat.intervalS (${config.heartbeat.intervalS})` });
  }
  return failures;
}

/**
 * Loads the mirror-sender config: schema defaults < JSON file (`--config <file>` or
 * `CALLSCOPE_MIRROR_SENDER_CONFIG`) < `CALLSCOPE_MIRROR_SENDER_*` variables.
 *
 * @throws ConfigError naming each bad value's source, path and expectation.
 */
export function loadMirrorSenderConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): LoadedConfig<MirrorSenderConfig> {
  return loadConfig({ app: MIRROR_SENDER_APP, schema: mirrorSenderConfigSchema, argv, env, check: checkMirrorSenderConfig });
}
