import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { listConfigLeaves } from './config-schema.js';
import type { ConfigSchema } from './config-schema.js';
import { loadConfig } from './load-config.js';

interface DemoConfig {
  sensor: { id: number; name: string };
  interfaces: string[];
  spool: { dir: string; maxSizeGb: number; compress: boolean; mode: 'sip' | 'sip_rtp' };
  db: { url: string; password: string | null };
  mirror: { listen: string | null };
  peers: { name: string; token: string | null }[];
}

const schema: ConfigSchema<DemoConfig> = {
  type: 'object',
  additionalProperties: false,
  required: ['sensor', 'interfaces', 'spool', 'db', 'mirror', 'peers'],
  properties: {
    sensor: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'name'],
      properties: { id: { type: 'integer', minimum: 0, default: 1 }, name: { type: 'string', default: 'sensor1' } },
    },
    interfaces: { type: 'array', items: { type: 'string' }, default: [] },
    spool: {
      type: 'object',
      additionalProperties: false,
      required: ['dir', 'maxSizeGb', 'compress', 'mode'],
      properties: {
        dir: { type: 'string', default: 'var/spool' },
        maxSizeGb: { type: 'number', exclusiveMinimum: 0, default: 50 },
        compress: { type: 'boolean', default: false },
        mode: { type: 'string', enum: ['sip', 'sip_rtp'], default: 'sip_rtp' },
      },
    },
    db: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'password'],
      properties: {
        url: { type: 'string', default: 'mysql://root@127.0.0.1:3306/callscope' },
        password: { type: 'string', nullable: true, default: null, 'x-secret': true },
      },
    },
    mirror: {
      type: 'object',
      additionalProperties: false,
      required: ['listen'],
      properties: { listen: { type: 'string', nullable: true, default: null } },
    },
    peers: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'token'],
        properties: { name: { type: 'string' }, token: { type: 'string', nullable: true, default: null, 'x-secret': true } },
      },
    },
  },
};

const tmp = mkdtempSync(join(tmpdir(), 'callscope-runtime-'));
let files = 0;

function writeJson(doc: unknown): string {
  const path = join(tmp, `demo-${files++}.json`);
  writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return path;
}

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('returns the schema defaults when no file and no env are given', () => {
    const { config, file, envOverrides } = loadConfig({ app: 'demo', schema, env: {} });
    expect(config).toEqual({
      sensor: { id: 1, name: 'sensor1' },
      interfaces: [],
      spool: { dir: 'var/spool', maxSizeGb: 50, compress: false, mode: 'sip_rtp' },
      db: { url: 'mysql://root@127.0.0.1:3306/callscope', password: null },
      mirror: { listen: null },
      peers: [],
    });
    expect(file).toBeNull();
    expect(envOverrides).toEqual([]);
  });

  it('applies defaults < programmatic defaults < file < env, merging objects key by key', () => {
    const path = writeJson({ sensor: { name: 'edge-1' }, spool: { maxSizeGb: 10, dir: '/data/spool' } });
    const { config, file, envOverrides } = loadConfig({
      app: 'demo',
      schema,
      argv: ['--config', path],
      defaults: { sensor: { id: 7 }, spool: { dir: '/from/defaults' } },
      env: { CALLSCOPE_DEMO_SPOOL_MAX_SIZE_GB: '20', CALLSCOPE_OTHER_SPOOL_DIR: 'ignored' },
    });
    expect(file).toBe(path);
    expect(config.sensor).toEqual({ id: 7, name: 'edge-1' });
    expect(config.spool.maxSizeGb).toBe(20);
    expect(config.spool.dir).toBe('/data/spool');
    expect(envOverrides).toEqual(['CALLSCOPE_DEMO_SPOOL_MAX_SIZE_GB']);
  });

  it('finds the file through CALLSCOPE_<APP>_CONFIG when --config is absent', () => {
    const path = writeJson({ interfaces: ['eth1'] });
    const { config, file } = loadConfig({ app: 'demo', schema, env: { CALLSCOPE_DEMO_CONFIG: path } });
    expect(file).toBe(path);
    expect(config.interfaces).toEqual(['eth1']);
  });

  it('coerces env strings to the leaf type: numbers, booleans, comma lists, JSON lists, empty -> null', () => {
    const { config } = loadConfig({
      app: 'demo',
      schema,
      env: {
        CALLSCOPE_DEMO_SENSOR_ID: '42',
        CALLSCOPE_DEMO_SPOOL_COMPRESS: 'Yes',
        CALLSCOPE_DEMO_INTERFACES: 'eth0, eth1',
        CALLSCOPE_DEMO_PEERS: '[{"name":"a","token":"t"},{"name":"b"}]',
        CALLSCOPE_DEMO_MIRROR_LISTEN: '',
      },
    });
    expect(config.sensor.id).toBe(42);
    expect(config.spool.compress).toBe(true);
    expect(config.interfaces).toEqual(['eth0', 'eth1']);
    // Regression: defaults inside env JSON list items are filled like those of the file.
    expect(config.peers).toEqual([
      { name: 'a', token: 't' },
      { name: 'b', token: null },
    ]);
    expect(config.mirror.listen).toBeNull();
  });

  it.each([
    ['1', true],
    ['on', true],
    ['TRUE', true],
    ['0', false],
    ['off', false],
    ['no', false],
  ])('reads the switch %s as %s', (raw, expected) => {
    expect(loadConfig({ app: 'demo', schema, env: { CALLSCOPE_DEMO_SPOOL_COMPRESS: raw } }).config.spool.compress).toBe(expected);
  });

  it('refuses a switch that is neither on nor off', () => {
    expect(configError(() => loadConfig({ app: 'demo', schema, env: { CALLSCOPE_DEMO_SPOOL_COMPRESS: 'maybe' } })).issues[0]?.message).toBe(
      'must be boolean, got "maybe"',
    );
  });

  it('does not coerce values from the file: a string where a number belongs is an error', () => {
    const path = writeJson({ spool: { maxSizeGb: '50' } });
    const err = configError(() => loadConfig({ app: 'demo', schema, configPath: path, env: {} }));
    expect(err.issues).toEqual([{ source: `file ${path}`, path: 'spool.maxSizeGb', message: 'must be number, got "50"' }]);
  });

  it('uses CALLSCOPE_DB_URL for db.url unless the app-specific variable is set', () => {
    const shared = loadConfig({ app: 'demo', schema, env: { CALLSCOPE_DB_URL: 'mysql://cdr:pw@db1/cs' } });
    expect(shared.config.db.url).toBe('mysql://cdr:pw@db1/cs');
    expect(shared.envOverrides).toEqual(['CALLSCOPE_DB_URL']);
    const specific = loadConfig({ app: 'demo', schema, env: { CALLSCOPE_DB_URL: 'mysql://a@db1/cs', CALLSCOPE_DEMO_DB_URL: 'mysql://b@db2/cs' } });
    expect(specific.config.db.url).toBe('mysql://b@db2/cs');
  });

  it('rejects an unknown key in the file, naming the key, its path, the file and the allowed keys', () => {
    const path = writeJson({ spool: { maxSizeGB: 5 } });
    const err = configError(() => loadConfig({ app: 'demo', schema, configPath: path, env: {} }));
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]).toEqual({
      source: `file ${path}`,
      path: 'spool.maxSizeGB',
      message: 'unknown key "maxSizeGB" (allowed here: dir, maxSizeGb, compress, mode)',
    });
    expect(err.message).toContain('invalid demo configuration');
    expect(err.message).toContain('spool.maxSizeGB: unknown key "maxSizeGB"');
  });

  it('rejects an unknown CALLSCOPE_<APP>_* variable (a typo must not be ignored)', () => {
    const err = configError(() => loadConfig({ app: 'demo', schema, env: { CALLSCOPE_DEMO_SPOOL_MAXSIZE_GB: '5' } }));
    expect(err.issues[0]?.source).toBe('env CALLSCOPE_DEMO_SPOOL_MAXSIZE_GB');
    expect(err.issues[0]?.message).toMatch(/unknown setting/);
  });

  it('names the env variable and the expected type when an env value does not coerce', () => {
    const err = configError(() => loadConfig({ app: 'demo', schema, env: { CALLSCOPE_DEMO_SPOOL_MAX_SIZE_GB: 'lots' } }));
    expect(err.issues).toEqual([{ source: 'env CALLSCOPE_DEMO_SPOOL_MAX_SIZE_GB', path: 'spool.maxSizeGb', message: 'must be number, got "lots"' }]);
  });

  it('reports enum violations with the allowed values and bad list items with their index', () => {
    const err = configError(() =>
      loadConfig({ app: 'demo', schema, env: { CALLSCOPE_DEMO_SPOOL_MODE: 'all' }, configPath: writeJson({ interfaces: ['eth0', 3] }) }),
    );
    expect(err.issues).toEqual([{ source: 'env CALLSCOPE_DEMO_SPOOL_MODE', path: 'spool.mode', message: 'must be one of "sip", "sip_rtp", got "all"' }]);
    const err2 = configError(() => loadConfig({ app: 'demo', schema, configPath: writeJson({ interfaces: ['eth0', 3] }) }));
    expect(err2.issues[0]?.path).toBe('interfaces[1]');
    expect(err2.issues[0]?.message).toBe('must be string, got 3');
  });

  it('collects every problem at once and never prints a secret value', () => {
    const path = writeJson({ sensor: { id: -1 }, db: { password: 12345 }, extra: true });
    const err = configError(() => loadConfig({ app: 'demo', schema, configPath: path, env: {} }));
    expect(err.issues.map((i) => i.path).sort()).toEqual(['db.password', 'extra', 'sensor.id']);
    expect(err.message).not.toContain('12345');
    expect(err.message).toContain('got a secret value');
  });

  it('reports missing required keys inside list items', () => {
    const err = configError(() => loadConfig({ app: 'demo', schema, configPath: writeJson({ peers: [{ token: 'x' }] }) }));
    expect(err.issues).toEqual([expect.objectContaining({ path: 'peers[0].name', message: 'is required and has no default' })]);
  });

  it('explains unreadable and malformed files', () => {
    expect(configError(() => loadConfig({ app: 'demo', schema, configPath: '/nonexistent/demo.json' })).message).toContain(
      'cannot read the config file: no such file (from file /nonexistent/demo.json)',
    );
    expect(configError(() => loadConfig({ app: 'demo', schema, configPath: writeJson('{"a": ') })).issues[0]?.message).toMatch(/^not valid JSON/);
    expect(configError(() => loadConfig({ app: 'demo', schema, configPath: writeJson('[1]') })).issues[0]?.message).toBe(
      'must be a JSON object, got an array',
    );
  });

  it('runs cross-field checks after validation and names the source of the offending value', () => {
    const err = configError(() =>
      loadConfig({
        app: 'demo',
        schema,
        env: { CALLSCOPE_DEMO_MIRROR_LISTEN: '0.0.0.0:5030' },
        check: (c) => (c.mirror.listen !== null && c.db.password === null ? [{ path: ['mirror', 'listen'], message: 'needs db.password' }] : []),
      }),
    );
    expect(err.issues).toEqual([{ source: 'env CALLSCOPE_DEMO_MIRROR_LISTEN', path: 'mirror.listen', message: 'needs db.password' }]);
  });

  it('returns a deep-frozen config', () => {
    const { config } = loadConfig({ app: 'demo', schema, env: { CALLSCOPE_DEMO_INTERFACES: 'eth0' } });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.spool)).toBe(true);
    expect(Object.isFrozen(config.interfaces)).toBe(true);
    expect(() => {
      (config.spool as { dir: string }).dir = 'x';
    }).toThrow(TypeError);
  });

  it('refuses schemas with an open object (programmer error, TypeError)', () => {
    const open = { type: 'object', properties: { a: { type: 'string', default: 'x' } }, required: ['a'] } as unknown as ConfigSchema<{ a: string }>;
    const partial = { type: 'object', additionalProperties: false, properties: { a: { type: 'string', default: 'x' } }, required: [] } as unknown as ConfigSchema<{ a: string }>;
    expect(() => loadConfig({ app: 'partial', schema: partial })).toThrow(/does not list a in required/);
    expect(() => loadConfig({ app: 'open', schema: open })).toThrow(/lacks additionalProperties: false/);
  });

  it('rejects a dangling --config', () => {
    expect(configError(() => loadConfig({ app: 'demo', schema, argv: ['--config'] })).issues[0]).toEqual({
      source: 'command line',
      path: '',
      message: '--config needs a file path',
    });
  });
});

describe('loadConfig on arbitrary input', () => {
  const names = listConfigLeaves('demo', schema).map((l) => l.envName);

  test.prop([fc.dictionary(fc.constantFrom(...names, 'CALLSCOPE_DEMO_X', 'CALLSCOPE_DB_URL'), fc.string({ maxLength: 40 }), { maxKeys: 6 })])(
    'either returns a config or throws a ConfigError naming an env source, for any env values',
    (env) => {
      try {
        loadConfig({ app: 'demo', schema, env });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        for (const issue of (err as ConfigError).issues) expect(issue.source).toMatch(/^env CALLSCOPE_/);
      }
    },
  );

  test.prop([fc.json({ maxDepth: 4 })], { numRuns: 200 })('either returns a config or throws a ConfigError for any JSON file', (text) => {
    const path = writeJson(text);
    try {
      loadConfig({ app: 'demo', schema, configPath: path });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
    }
  });
});
