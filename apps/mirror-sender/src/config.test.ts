import { describe, expect, it } from 'vitest';
import { ConfigError, redactConfig } from '@callscope/runtime';
import { loadMirrorSenderConfig, mirrorSenderConfigSchema } from './config.js';

describe('mirror-sender config', () => {
  it('is valid with defaults', () => {
    const { config } = loadMirrorSenderConfig([], {});
    expect(config).toMatchObject({
      sensor: { id: 1, name: 'sensor1' },
      interfaces: [],
      target: { host: null, port: 5030 },
      secret: null,
      tls: { enabled: false, caFile: null, serverName: null },
      batch: { maxPackets: 4000, maxMs: 50, maxBytes: 1_048_576 },
      buffer: { maxMb: 256, spillDir: null, spillMaxMb: 4096 },
      compression: 'zstd',
      protocol: { maxVersion: 3 },
      heartbeat: { intervalS: 5, timeoutS: 30 },
      reconnect: { minMs: 500, maxMs: 30_000 },
      health: { host: '127.0.0.1', port: 5031 },
      log: { level: 'info', pretty: null },
    });
    expect(config.bpfFilter).toContain('udp or tcp');
  });

  it('takes env overrides and redacts the secret for logging', () => {
    const { config, envOverrides } = loadMirrorSenderConfig([], {
      CALLSCOPE_MIRROR_SENDER_INTERFACES: 'eth0,eth1',
      CALLSCOPE_MIRROR_SENDER_TARGET_HOST: 'sniffer.example.net',
      CALLSCOPE_MIRROR_SENDER_SECRET: 'shared-secret-0123456789',
      CALLSCOPE_MIRROR_SENDER_COMPRESSION: 'brotli',
      CALLSCOPE_MIRROR_SENDER_BATCH_MAX_MS: '10',
    });
    expect(config.interfaces).toEqual(['eth0', 'eth1']);
    expect(config.target).toEqual({ host: 'sniffer.example.net', port: 5030 });
    expect(config.compression).toBe('brotli');
    expect(config.batch.maxMs).toBe(10);
    expect(envOverrides).toHaveLength(5);
    expect(redactConfig(config, mirrorSenderConfigSchema).secret).toBe('[redacted]');
  });

  it('offers protocol version 1 when told (a fallback: the sniffer would answer 2 otherwise)', () => {
    expect(loadMirrorSenderConfig([], { CALLSCOPE_MIRROR_SENDER_PROTOCOL_MAX_VERSION: '1' }).config.protocol).toEqual({ maxVersion: 1 });
  });

  it.each([
    [{ CALLSCOPE_MIRROR_SENDER_COMPRESSION: 'gzip' }, 'compression: must be one of "zstd", "lz4", "deflate", "brotli", "none", got "gzip"'],
    [{ CALLSCOPE_MIRROR_SENDER_TARGET_HOST: 'sniffer' }, 'target.host: needs secret: the mirror stream is always authenticated (from env CALLSCOPE_MIRROR_SENDER_TARGET_HOST)'],
    [{ CALLSCOPE_MIRROR_SENDER_BATCH_MAX_BYTES: String(32 * 1024 * 1024) }, 'batch.maxBytes: must be <= 16777216'],
    [{ CALLSCOPE_MIRROR_SENDER_BUFFER_MAX_MB: '1', CALLSCOPE_MIRROR_SENDER_BATCH_MAX_BYTES: '2000000' }, 'batch.maxBytes: exceeds buffer.maxMb (1 MiB)'],
    [{ CALLSCOPE_MIRROR_SENDER_TLS_CA_FILE: '/etc/ca.pem' }, 'tls.enabled: is false although tls.caFile or tls.serverName is set'],
    [{ CALLSCOPE_MIRROR_SENDER_RECONNECT_MIN_MS: '5000', CALLSCOPE_MIRROR_SENDER_RECONNECT_MAX_MS: '1000' }, 'reconnect.minMs: exceeds reconnect.maxMs (1000)'],
    [{ CALLSCOPE_MIRROR_SENDER_HEARTBEAT_TIMEOUT_S: '5' }, 'heartbeat.timeoutS: must exceed heartbeat.intervalS (5)'],
    [{ CALLSCOPE_MIRROR_SENDER_HEALTH_PORT: '70000' }, 'health.port: must be <= 65535'],
    [{ CALLSCOPE_MIRROR_SENDER_PROTOCOL_MAX_VERSION: '4' }, 'protocol.maxVersion: must be <= 3'],
    [{ CALLSCOPE_MIRROR_SENDER_TLS_ENABLED: 'maybe' }, 'tls.enabled: must be boolean, got "maybe" (from env CALLSCOPE_MIRROR_SENDER_TLS_ENABLED)'],
  ])('rejects %j', (env, message) => {
    expect(() => loadMirrorSenderConfig([], env)).toThrow(ConfigError);
    expect(() => loadMirrorSenderConfig([], env)).toThrow(message);
  });
});
