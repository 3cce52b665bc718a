import { DEFAULT_DB_URL, HOST_PORT_PATTERN, loadConfig, parseHostPort, logConfigSchema, sensorConfigSchema } from '@callscope/runtime';
import type { ConfigCheckFailure, ConfigSchema, LoadedConfig, LogLevel } from '@callscope/runtime';

/** App name: it names the env variables (`CALLSCOPE_SNIFFER_*`) and the log lines. */
export const SNIFFER_APP = 'sniffer';

/** What the spool keeps of each call (per-call pcap files). */
export const SPOOL_MODES = ['sip_rtp', 'sip', 'rtp_headers'] as const;

/** One of {@link SPOOL_MODES}: SIP and full RTP, SIP only, or SIP plus RTP headers without payload. */
export type SpoolMode = (typeof SPOOL_MODES)[number];

/** The sniffer's configuration, validated once at start (see {@link snifferConfigSchema}). */
export interface SnifferConfig {
  sensor: { id: number; name: string };
  interfaces: string[];
  bpfFilter: string;
  sip: { ports: number[]; tcp: boolean };
  rtp: { acceptFromSipSource: boolean };
  decode: { vxlanPorts: number[]; tzspPorts: number[]; hepPorts: number[]; maxTunnelDepth: number };
  calls: { maxOpen: number; noAnswerTimeoutS: number; rtpTimeoutS: number; absoluteTimeoutS: number; byeTimeoutS: number };
  db: { url: string; batchSize: number; batchMs: number; queueDir: string; queueMaxMb: number };
  spool: { dir: string; mode: SpoolMode; maxSizeGb: number; maxAgeDays: number; compress: boolean };
  mirror: { listen: string | null; secret: string | null };
  hep: { listen: string | null };
  manager: { stateSocket: string | null };
  log: { level: LogLevel; pretty: boolean };
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
const listen = (description: string): ConfigSchema<string | null> => ({
  type: 'string',
  nullable: true,
  pattern: HOST_PORT_PATTERN,
  default: null,
  description,
});

/** The sniffer's one config schema: defaults a VoIP engineer expects, every object closed. */
export const snifferConfigSchema: ConfigSchema<SnifferConfig> = {
  type: 'object',
  additionalProperties: false,
  required: ['sensor', 'interfaces', 'bpfFilter', 'sip', 'rtp', 'decode', 'calls', 'db', 'spool', 'mirror', 'hep', 'manager', 'log'],
  properties: {
    sensor: sensorConfigSchema('Sensor id stored in every CDR (id_sensor).', 'Human name of this sensor.'),
    interfaces: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      uniqueItems: true,
      default: [],
      description: 'Network interfaces to capture live (empty: none; offline analysis still works).',
    },
    bpfFilter: { type: 'string', default: DEFAULT_BPF_FILTER, description: 'libpcap capture filter; empty captures everything.' },
    sip: {
      type: 'object',
      additionalProperties: false,
      required: ['ports', 'tcp'],
      properties: {
        ports: { ...portList([5060, 5061, 5080], 'UDP/TCP ports carrying SIP.'), minItems: 1 },
        tcp: { type: 'boolean', default: true, description: 'Reassemble SIP over TCP on the SIP ports.' },
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
        vxlanPorts: portList([4789], 'UDP ports decapsulated as VXLAN (RFC 7348).'),
        tzspPorts: portList([37008], 'UDP ports decapsulated as TZSP.'),
        hepPorts: portList([9060], 'UDP ports decoded as HEP v2/v3 when seen in captured traffic.'),
        maxTunnelDepth: { type: 'integer', minimum: 0, maximum: 16, default: 4, description: 'Nested encapsulations unwrapped before giving up.' },
      },
    },
    calls: {
      type: 'object',
      additionalProperties: false,
      required: ['maxOpen', 'noAnswerTimeoutS', 'rtpTimeoutS', 'absoluteTimeoutS', 'byeTimeoutS'],
      properties: {
        maxOpen: { type: 'integer', minimum: 1, default: 200_000, description: 'Cap of concurrently tracked calls; overflow is counted.' },
        noAnswerTimeoutS: seconds(300, 'Close a call with no final response after this long.'),
        rtpTimeoutS: seconds(300, 'Close an answered call after this long without SIP or RTP.'),
        absoluteTimeoutS: seconds(14_400, 'Close any call after this long (4 h).'),
        byeTimeoutS: seconds(20, 'Wait this long for the response to a BYE.'),
      },
    },
    db: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'batchSize', 'batchMs', 'queueDir', 'queueMaxMb'],
      properties: {
        url: { type: 'string', pattern: '^(mysql|mariadb)://', default: DEFAULT_DB_URL, description: 'CDR database (MySQL/MariaDB).' },
        batchSize: { type: 'integer', minimum: 1, maximum: 10_000, default: 500, description: 'CDRs per multi-row INSERT.' },
        batchMs: { type: 'integer', minimum: 1, default: 200, description: 'Flush a partial batch after this many ms.' },
        queueDir: { type: 'string', minLength: 1, default: 'var/cdr-queue', description: 'On-disk queue used while the database is down.' },
        queueMaxMb: { type: 'integer', minimum: 1, default: 1024, description: 'Queue cap; CDRs beyond it are counted as dropped.' },
      },
    },
    spool: {
      type: 'object',
      additionalProperties: false,
      required: ['dir', 'mode', 'maxSizeGb', 'maxAgeDays', 'compress'],
      properties: {
        dir: { type: 'string', minLength: 1, default: 'var/spool', description: 'Root of the per-call pcap spool.' },
        mode: { type: 'string', enum: [...SPOOL_MODES], default: 'sip_rtp', description: 'What each call pcap keeps.' },
        maxSizeGb: { type: 'number', exclusiveMinimum: 0, default: 50, description: 'Delete oldest calls beyond this total size.' },
        maxAgeDays: { type: 'number', exclusiveMinimum: 0, default: 14, description: 'Delete calls older than this.' },
        compress: { type: 'boolean', default: false, description: 'gzip the call pcaps.' },
      },
    },
    mirror: {
      type: 'object',
      additionalProperties: false,
      required: ['listen', 'secret'],
      properties: {
        listen: listen('host:port to receive mirror-sender streams on; null disables it.'),
        secret: {
          type: 'string',
          nullable: true,
          minLength: 16,
          default: null,
          'x-secret': true,
          description: 'Shared secret of the mirror handshake (at least 16 characters).',
        },
      },
    },
    hep: {
      type: 'object',
      additionalProperties: false,
      required: ['listen'],
      properties: { listen: listen('UDP host:port to receive HEP v3 on; null disables it.') },
    },
    manager: {
      type: 'object',
      additionalProperties: false,
      required: ['stateSocket'],
      properties: {
        stateSocket: {
          type: 'string',
          nullable: true,
          minLength: 1,
          default: 'var/run/sniffer.sock',
          description: 'Unix socket where the local manager-api reads live state; null disables it.',
        },
      },
    },
    log: logConfigSchema,
  },
};

/** Cross-field rules of the sniffer config (see {@link loadSnifferConfig}). */
export function checkSnifferConfig(config: SnifferConfig): ConfigCheckFailure[] {
  const failures: ConfigCheckFailure[] = [];
  for (const [path, value] of [
    [['mirror', 'listen'], config.mirror.listen],
    [['hep', 'listen'], config.hep.listen],
  ] as const) {
    if (value !== null && parseHostPort(value) === null) failures.push({ path, message: `port of "${value}" must be 1..65535` });
  }
  if (config.mirror.listen !== null && config.mirror.secret === null) {
    failures.push({ path: ['mirror', 'listen'], message: 'needs mirror.secret: mirror streams are always authenticated' });
  }
  if (config.calls.absoluteTimeoutS < config.calls.noAnswerTimeoutS) {
    failures.push({ path: ['calls', 'absoluteTimeoutS'], message: `must be at least calls.noAnswerTimeoutS (${config.calls.noAnswerTimeoutS})` });
  }
  return failures;
}

/**
 * Loads the sniffer config: schema defaults < JSON file (`--config <file>` anywhere in `argv`, or
 * `CALLSCOPE_SNIFFER_CONFIG`) < `CALLSCOPE_SNIFFER_*` variables (and `CALLSCOPE_DB_URL`).
 *
 * @throws ConfigError naming each bad value's source, path and expectation.
 */
export function loadSnifferConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): LoadedConfig<SnifferConfig> {
  return loadConfig({ app: SNIFFER_APP, schema: snifferConfigSchema, argv, env, check: checkSnifferConfig });
}
