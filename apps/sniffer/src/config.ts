import { readFileSync } from 'node:fs';
import { DEFAULT_DB_URL, HOST_PORT_PATTERN, SHARED_DB_URL_ENV, listConfigLeaves, loadConfig, logConfigSchema, sensorConfigSchema } from '@callscope/runtime';
import type { ConfigCheckFailure, ConfigSchema, LoadedConfig, LogLevel } from '@callscope/runtime';
import { CORRELATION_HEADER_PATTERN } from '@callscope/cdr-model';

/** App name: it names the env variables (`CALLSCOPE_SNIFFER_*`) and the log lines. */
export const SNIFFER_APP = 'sniffer';

/** What the spool keeps of each call (per-call pcap files). */
export const SPOOL_MODES = ['sip_rtp', 'sip', 'rtp_headers'] as const;

/** One of {@link SPOOL_MODES}: SIP and full RTP, SIP only, or SIP plus RTP headers without payload. */
export type SpoolMode = (typeof SPOOL_MODES)[number];

/** Values of `spool.compress` (the spool writer's `ChunkCompression`). */
export const SPOOL_COMPRESSIONS = ['none', 'gzip', 'zstd'] as const;
/** One of {@link SPOOL_COMPRESSIONS}. */
export type SpoolCompression = (typeof SPOOL_COMPRESSIONS)[number];

/** The sniffer's configuration, validated once at start (see {@link snifferConfigSchema}). */
export interface SnifferConfig {
  sensor: { id: number; name: string };
  interfaces: string[];
  bpfFilter: string;
  capture: CaptureConfig;
  hep: { listen: string | null; maxConnections: number; maxMessageBytes: number; idleTimeoutS: number };
  replay: { files: string[]; speed: number; loop: boolean; shiftToNow: boolean };
  mirror: MirrorConfig;
  daemon: DaemonConfig;
  sip: { ports: number[] };
  rtp: { acceptFromSipSource: boolean };
  decode: { vxlanPorts: number[]; tzspPorts: number[]; hepPorts: number[]; maxTunnelDepth: number };
  calls: { maxOpen: number; noAnswerTimeoutS: number; rtpTimeoutS: number; absoluteTimeoutS: number; byeTimeoutS: number; correlationHeaders: string[] };
  db: { url: string; batchSize: number; batchMs: number; queueDir: string; queueMaxMb: number; waitS: number; holdS: number };
  spool: { dir: string; mode: SpoolMode; maxSizeGb: number; maxAgeDays: number; compress: SpoolCompression; writerThread: boolean };
  log: { level: LogLevel; pretty: boolean | null };
}

/** How live interfaces are captured (libpcap through @callscope/live-capture). */
export interface CaptureConfig {
  snaplen: number;
  bufferMb: number;
  timeoutMs: number;
  /** Per-interface filters overriding `bpfFilter`. */
  filters: { interface: string; filter: string }[];
}

/** The mirror receiver of `sniffer run` (DESIGN.md "Mirror stream"): mirror-senders stream packets to it. */
export interface MirrorConfig {
  listen: string | null;
  secretFile: string | null;
  tlsCert: string | null;
  tlsKey: string | null;
  maxConnections: number;
  maxSensors: number;
  handshakeTimeoutS: number;
  idleTimeoutS: number;
  maxBatchMb: number;
}

/** The long-running sensor (`sniffer run`): control socket, status line, heartbeat, bounds. */
export interface DaemonConfig {
  control: string;
  statusIntervalS: number;
  heartbeatS: number;
  memoryLimitMb: number;
  stopTimeoutS: number;
}

/**
 * Default capture filter: everything that can carry SIP or RTP, directly or inside a tunnel the
 * decoder unwraps (IP-in-IP 4, IPv6-in-IP 41, GRE/ERSPAN 47; VXLAN, TZSP and HEP ride on UDP),
 * plus VLAN- and MPLS-tagged frames whose payload BPF offsets cannot see without `vlan`/`mpls`.
 */
export const DEFAULT_BPF_FILTER =
  'udp or tcp or ip proto 4 or ip proto 41 or ip proto 47 or ip6 proto 4 or ip6 proto 41 or ip6 proto 47 or vlan or mpls';

const port: ConfigSchema<number> = { type: 'integer', minimum: 1, maximum: 65535 };
const portList = (defaults: number[], description: string): ConfigSchema<number[]> => ({
  type: 'array',
  items: port,
  uniqueItems: true,
  default: defaults,
  description,
});
const seconds = (value: number, description: string): ConfigSchema<number> => ({ type: 'integer', minimum: 1, default: value, description });

/** The sniffer's one config schema: defaults a VoIP engineer expects, every object closed. */
export const snifferConfigSchema: ConfigSchema<SnifferConfig> = {
  type: 'object',
  additionalProperties: false,
  required: ['sensor', 'interfaces', 'bpfFilter', 'capture', 'hep', 'replay', 'mirror', 'daemon', 'sip', 'rtp', 'decode', 'calls', 'db', 'spool', 'log'],
  properties: {
    sensor: sensorConfigSchema(
      'Sensor number, reported by `sniffer stats` and the heartbeat; the database keys sensors by name and warns when its number differs.',
      'Sensor name written into every record; the database numbers sensors by name.',
    ),
    interfaces: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      uniqueItems: true,
      default: [],
      description: 'Network interfaces to capture live (empty: none; offline analysis still works).',
    },
    bpfFilter: { type: 'string', default: DEFAULT_BPF_FILTER, description: 'libpcap capture filter; empty captures everything.' },
    capture: {
      type: 'object',
      additionalProperties: false,
      required: ['snaplen', 'bufferMb', 'timeoutMs', 'filters'],
      properties: {
        snaplen: {
          type: 'integer',
          minimum: 128,
          maximum: 262_144,
          default: 65_535,
          description: 'Bytes kept of each live packet; longer ones are cut and counted (truncated).',
        },
        bufferMb: {
          type: 'integer',
          minimum: 1,
          maximum: 4096,
          default: 128,
          description: 'Kernel capture ring per interface (TPACKET_V3); at 100,000 packets/s of 200 bytes, 128 MiB holds about 6 s.',
        },
        timeoutMs: {
          type: 'integer',
          minimum: 1,
          maximum: 1000,
          default: 100,
          description: 'Block timeout: the longest a captured packet waits in a partly filled ring block before delivery.',
        },
        filters: {
          type: 'array',
          default: [],
          description: 'Per-interface capture filters overriding bpfFilter, e.g. [{"interface":"eth1","filter":"udp port 5060"}].',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['interface', 'filter'],
            properties: {
              interface: { type: 'string', minLength: 1 },
              filter: { type: 'string' },
            },
          },
        },
      },
    },
    hep: {
      type: 'object',
      additionalProperties: false,
      required: ['listen', 'maxConnections', 'maxMessageBytes', 'idleTimeoutS'],
      properties: {
        listen: {
          type: 'string',
          nullable: true,
          pattern: HOST_PORT_PATTERN,
          default: null,
          description: 'HEP v2/v3 collector (UDP and TCP on the same HOST:PORT, e.g. 0.0.0.0:9060); null: off.',
        },
        maxConnections: { type: 'integer', minimum: 1, maximum: 65_535, default: 256, description: 'Concurrent HEP TCP connections; more are refused and counted.' },
        maxMessageBytes: { type: 'integer', minimum: 64, maximum: 65_535, default: 65_535, description: 'Largest HEP message accepted; larger ones are counted and (on TCP) end the connection.' },
        idleTimeoutS: { type: 'integer', minimum: 1, default: 300, description: 'Close a HEP TCP connection silent for this long.' },
      },
    },
    replay: {
      type: 'object',
      additionalProperties: false,
      required: ['files', 'speed', 'loop', 'shiftToNow'],
      properties: {
        files: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'Capture files the daemon plays as a source (demos, tests).' },
        speed: { type: 'number', minimum: 0, default: 1, description: 'Replay speed factor: 1 = recorded pace, 2 = twice as fast, 0 = as fast as possible.' },
        loop: { type: 'boolean', default: false, description: 'Play the files again when they end (with shiftToNow, each round gets fresh times).' },
        shiftToNow: { type: 'boolean', default: false, description: 'Move packet times so the replay starts now (live-looking demo) instead of keeping the recorded times.' },
      },
    },
    mirror: {
      type: 'object',
      additionalProperties: false,
      required: ['listen', 'secretFile', 'tlsCert', 'tlsKey', 'maxConnections', 'maxSensors', 'handshakeTimeoutS', 'idleTimeoutS', 'maxBatchMb'],
      properties: {
        listen: {
          type: 'string',
          nullable: true,
          pattern: HOST_PORT_PATTERN,
          default: null,
          description: 'Mirror receiver: TCP HOST:PORT where mirror-senders connect (e.g. 0.0.0.0:5030); null: off. Needs mirror.secretFile.',
        },
        secretFile: {
          type: 'string',
          nullable: true,
          minLength: 1,
          default: null,
          description: 'File holding the shared secret the senders prove with the HMAC handshake (its bytes, a trailing newline removed).',
        },
        tlsCert: { type: 'string', nullable: true, minLength: 1, default: null, description: 'PEM certificate chain: the mirror stream is TLS when set (with mirror.tlsKey).' },
        tlsKey: { type: 'string', nullable: true, minLength: 1, default: null, description: 'PEM private key of mirror.tlsCert.' },
        maxConnections: { type: 'integer', minimum: 1, maximum: 65_535, default: 64, description: 'Concurrent mirror connections (authenticated or not); more are refused and counted.' },
        maxSensors: { type: 'integer', minimum: 1, maximum: 65_535, default: 1024, description: 'Distinct mirrored sensors remembered (acked sequence, counters, call table); a new one beyond is refused.' },
        handshakeTimeoutS: { type: 'integer', minimum: 1, maximum: 300, default: 10, description: 'A connection must authenticate within this long (slowloris defence).' },
        idleTimeoutS: { type: 'integer', minimum: 1, default: 60, description: 'Close a mirror connection silent this long, or whose frame takes longer than this to arrive.' },
        maxBatchMb: { type: 'integer', minimum: 1, maximum: 1024, default: 64, description: 'Largest decompressed batch; a larger one (decompression bomb) ends the connection, counted.' },
      },
    },
    daemon: {
      type: 'object',
      additionalProperties: false,
      required: ['control', 'statusIntervalS', 'heartbeatS', 'memoryLimitMb', 'stopTimeoutS'],
      properties: {
        control: { type: 'string', minLength: 1, default: 'var/run/sniffer.sock', description: 'Unix socket of the control endpoint (stats, active calls) that `sniffer stats` and manager-api read.' },
        statusIntervalS: { type: 'integer', minimum: 1, default: 10, description: 'Seconds between status lines on the log.' },
        heartbeatS: { type: 'integer', minimum: 1, default: 30, description: 'Seconds between heartbeats (version, stats) in the database `sensors` row.' },
        memoryLimitMb: {
          type: 'integer',
          minimum: 64,
          default: 2048,
          description: 'Resident memory at which the sensor sheds load (stops tracking new RTP, then new calls; counted) instead of dying.',
        },
        stopTimeoutS: { type: 'integer', minimum: 1, maximum: 300, default: 10, description: 'On SIGTERM, the longest the flush of CDRs and spool may take before exit.' },
      },
    },
    sip: {
      type: 'object',
      additionalProperties: false,
      required: ['ports'],
      properties: {
        ports: {
          ...portList([5060, 5061, 5080], 'Ports carrying SIP: TCP on them is reassembled as SIP; UDP is read as SIP on them or when it starts like SIP.'),
          minItems: 1,
        },
      },
    },
    rtp: {
      type: 'object',
      additionalProperties: false,
      required: ['acceptFromSipSource'],
      properties: {
        acceptFromSipSource: {
          type: 'boolean',
          default: false,
          description: 'NAT: also match RTP arriving from the SIP signalling address instead of only the SDP address.',
        },
      },
    },
    decode: {
      type: 'object',
      additionalProperties: false,
      required: ['vxlanPorts', 'tzspPorts', 'hepPorts', 'maxTunnelDepth'],
      properties: {
        vxlanPorts: portList([4789], 'UDP ports decapsulated as VXLAN (RFC 7348); empty disables.'),
        tzspPorts: portList([37008], 'UDP ports decapsulated as TZSP; empty disables.'),
        hepPorts: portList([9060], 'UDP/TCP ports decoded as HEP v2/v3 when seen in captured traffic; empty disables.'),
        maxTunnelDepth: { type: 'integer', minimum: 0, maximum: 16, default: 4, description: 'Nested encapsulations unwrapped before giving up.' },
      },
    },
    calls: {
      type: 'object',
      additionalProperties: false,
      required: ['maxOpen', 'noAnswerTimeoutS', 'rtpTimeoutS', 'absoluteTimeoutS', 'byeTimeoutS', 'correlationHeaders'],
      properties: {
        maxOpen: { type: 'integer', minimum: 1, default: 200_000, description: 'Cap of concurrently tracked calls; overflow is counted.' },
        noAnswerTimeoutS: seconds(300, 'Close a call with no final response after this long.'),
        rtpTimeoutS: seconds(300, 'Close an answered call after this long without SIP or RTP.'),
        absoluteTimeoutS: seconds(14_400, 'Close any call after this long (4 h).'),
        byeTimeoutS: seconds(32, 'Wait this long for the final response to a BYE: RFC 3261 Timer F (64 x T1, T1 = 500 ms), so every retransmission of an unanswered BYE belongs to its call.'),
        correlationHeaders: {
          type: 'array',
          maxItems: 8,
          uniqueItems: true,
          default: [],
          // RFC 3261 §25.1 token: what a header name may be (and what cdr_correlation.name holds).
          items: { type: 'string', pattern: CORRELATION_HEADER_PATTERN },
          description:
            'Your own SIP headers that link call legs (e.g. X-Correlation-ID), at most 8: their values go into each CDR (`correlation`, searchable in the GUI) and link open legs that share one, like X-CID, Session-ID and P-Charging-Vector icid do without configuration.',
        },
      },
    },
    db: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'batchSize', 'batchMs', 'queueDir', 'queueMaxMb', 'waitS', 'holdS'],
      properties: {
        url: {
          type: 'string',
          pattern: '^(mysql|mariadb)://',
          default: DEFAULT_DB_URL,
          description: 'CDR database (MySQL/MariaDB) of analyze, live, migrate, status, retention and queue replay without --db, when set in the config file or environment (the default alone writes nowhere; queue replay also uses it when it names the queue\'s database).',
        },
        batchSize: { type: 'integer', minimum: 1, maximum: 10_000, default: 500, description: 'CDRs per multi-row INSERT.' },
        batchMs: { type: 'integer', minimum: 1, default: 200, description: 'Flush a partial batch after this many ms.' },
        queueDir: {
          type: 'string',
          minLength: 1,
          default: 'var/cdr-queue',
          description: 'On-disk queue of CDRs the database could not take yet (relative paths: from the current directory). One writer per directory; replayed by the next run, or by `sniffer queue replay`.',
        },
        queueMaxMb: { type: 'integer', minimum: 1, default: 1024, description: 'Queue cap; CDRs beyond it while the database is down are lost and counted.' },
        waitS: {
          type: 'integer',
          minimum: 0,
          default: 60,
          description: 'analyze: how long to wait at the end for the database to take the queued CDRs (--db-wait); also how long CDRs that neither the database nor the queue takes may wait in memory.',
        },
        holdS: {
          type: 'integer',
          minimum: 1,
          default: 60,
          description: 'live/run: how long CDRs that neither the database nor the queue (disk failing) takes wait in memory before they are lost (counted).',
        },
      },
    },
    spool: {
      type: 'object',
      additionalProperties: false,
      required: ['dir', 'mode', 'maxSizeGb', 'maxAgeDays', 'compress', 'writerThread'],
      properties: {
        dir: {
          type: 'string',
          minLength: 1,
          default: 'var/spool',
          description:
            'Root of the per-call pcap spool: read by pcap; analyze and live spool there without --spool when it is set in the config file or environment (the default alone spools nothing).',
        },
        mode: { type: 'string', enum: [...SPOOL_MODES], default: 'sip_rtp', description: 'What each call pcap keeps.' },
        maxSizeGb: {
          type: 'number',
          exclusiveMinimum: 0,
          default: 50,
          description: 'Retention (live; analyze with --spool-retention): delete the oldest calls beyond this total size.',
        },
        maxAgeDays: {
          type: 'number',
          exclusiveMinimum: 0,
          default: 14,
          description: 'Retention (live; analyze with --spool-retention): delete calls older than this, on packet time.',
        },
        compress: {
          type: 'string',
          enum: [...SPOOL_COMPRESSIONS],
          default: 'none',
          description:
            'Compress each chunk of the call pcaps: zstd (members .pcap.zst; on real G.711 3.5x faster than gzip and 8 % smaller, measured), gzip (.pcap.gz, for tools without zstd) or none. Retrieval serves plain pcap either way.',
        },
        writerThread: {
          type: 'boolean',
          default: true,
          description:
            'Copy packets into the call buffers and write the archives on a worker thread (another core), fed through a 64 MiB ring; false: on the packet thread. The built app only (from the TypeScript sources the spool always writes on the packet thread).',
        },
      },
    },
    log: logConfigSchema,
  },
};

/** Cross-field rules of the sniffer config (see {@link loadSnifferConfig}). */
export function checkSnifferConfig(config: SnifferConfig): ConfigCheckFailure[] {
  const failures: ConfigCheckFailure[] = [];
  const headers = config.calls.correlationHeaders.map((h) => h.toLowerCase());
  const twice = headers.find((h, i) => headers.indexOf(h) !== i);
  if (twice !== undefined) failures.push({ path: ['calls', 'correlationHeaders'], message: `lists ${twice} twice (header names are case-insensitive)` });
  if (config.calls.absoluteTimeoutS < config.calls.noAnswerTimeoutS) {
    failures.push({ path: ['calls', 'absoluteTimeoutS'], message: `must be at least calls.noAnswerTimeoutS (${config.calls.noAnswerTimeoutS})` });
  }
  if (config.mirror.listen !== null && config.mirror.secretFile === null) {
    failures.push({ path: ['mirror', 'secretFile'], message: 'is required when mirror.listen is set (senders authenticate with the shared secret)' });
  }
  if ((config.mirror.tlsCert === null) !== (config.mirror.tlsKey === null)) {
    failures.push({ path: ['mirror', config.mirror.tlsCert === null ? 'tlsCert' : 'tlsKey'], message: 'mirror.tlsCert and mirror.tlsKey go together' });
  }
  // A port decodes as one tunnel: the decoder refuses a port in two lists as a programmer error.
  const owner = new Map<number, string>();
  // The HEP collector's port is decoded as HEP: it cannot also be a VXLAN or TZSP port.
  const hepListen = config.hep.listen === null ? null : /:(\d+)$/.exec(config.hep.listen);
  if (hepListen !== null) {
    const port = Number(hepListen[1]);
    for (const list of ['vxlanPorts', 'tzspPorts'] as const) {
      if (config.decode[list].includes(port)) failures.push({ path: ['hep', 'listen'], message: `port ${port} is in decode.${list}: the HEP collector's port must decode as HEP` });
    }
  }
  for (const list of ['vxlanPorts', 'tzspPorts', 'hepPorts'] as const) {
    config.decode[list].forEach((port, i) => {
      const first = owner.get(port);
      if (first !== undefined) failures.push({ path: ['decode', list, i], message: `port ${port} is already in decode.${first}` });
      else owner.set(port, list);
    });
  }
  return failures;
}

/** The sniffer's config with what the user set explicitly (see {@link loadSnifferConfig}). */
export interface LoadedSnifferConfig extends LoadedConfig<SnifferConfig> {
  /**
   * Dotted paths (`db.url`, `spool.dir`) of the settings given by the config file or the
   * environment, as opposed to built-in defaults. Some settings act only when given: a default
   * database URL must not make `analyze file.pcap` write to a database.
   */
  readonly explicit: ReadonlySet<string>;
}

function valueAt(doc: unknown, path: readonly string[]): unknown {
  let node = doc;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * Loads the sniffer config: schema defaults < JSON file (`--config <file>` anywhere in `argv`, or
 * `CALLSCOPE_SNIFFER_CONFIG`) < `CALLSCOPE_SNIFFER_*` variables (and `CALLSCOPE_DB_URL`).
 *
 * @throws ConfigError naming each bad value's source, path and expectation.
 */
export function loadSnifferConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): LoadedSnifferConfig {
  const loaded = loadConfig({ app: SNIFFER_APP, schema: snifferConfigSchema, argv, env, check: checkSnifferConfig });
  // loadConfig reports the file it read and the variables it used, not where each value came
  // from: read the (already validated) file once more for the keys it sets.
  const fileDoc: unknown = loaded.file === null ? null : JSON.parse(readFileSync(loaded.file, 'utf8'));
  const fromEnv = new Set(loaded.envOverrides);
  const explicit = new Set<string>();
  for (const leaf of listConfigLeaves(SNIFFER_APP, snifferConfigSchema)) {
    const dotted = leaf.path.join('.');
    const envSet = fromEnv.has(leaf.envName) || (dotted === 'db.url' && fromEnv.has(SHARED_DB_URL_ENV));
    if (envSet || valueAt(fileDoc, leaf.path) !== undefined) explicit.add(dotted);
  }
  return { ...loaded, explicit };
}
