import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { ConfigSchema } from './config-schema.js';
import { REDACTED, redactConfig, redactUrlPassword } from './redact-config.js';

describe('redactUrlPassword', () => {
  it.each([
    ['mysql://cdr:s3cret@db:3306/callscope', 'mysql://cdr:[redacted]@db:3306/callscope'],
    ['mysql://cdr:p@ss@db/callscope', 'mysql://cdr:[redacted]@db/callscope'],
    ['https://u:pw@example.com/a?b=c#d', 'https://u:[redacted]@example.com/a?b=c#d'],
    ['mysql://root@127.0.0.1:3306/callscope', 'mysql://root@127.0.0.1:3306/callscope'],
    ['http://host:8080/path@x', 'http://host:8080/path@x'],
    ['not a url user:pw@host', 'not a url user:pw@host'],
    ['', ''],
  ])('%s -> %s', (input, expected) => {
    expect(redactUrlPassword(input)).toBe(expected);
  });

  test.prop([fc.stringMatching(/^[a-z]{1,8}$/), fc.stringMatching(/^[A-Za-z0-9!$%^&*()@]{6,20}$/), fc.domain()])(
    'never leaks the password of scheme://user:password@host/db',
    (user, password, host) => {
      const out = redactUrlPassword(`mysql://${user}:${password}@${host}/callscope`);
      expect(out).toBe(`mysql://${user}:${REDACTED}@${host}/callscope`);
    },
  );
});

interface Secrets {
  token: string | null;
  unset: string | null;
  db: { url: string };
  sensors: { name: string; token: string }[];
  note: string;
}

const schema: ConfigSchema<Secrets> = {
  type: 'object',
  additionalProperties: false,
  required: ['token', 'unset', 'db', 'sensors', 'note'],
  properties: {
    token: { type: 'string', nullable: true, 'x-secret': true },
    unset: { type: 'string', nullable: true, 'x-secret': true },
    db: { type: 'object', additionalProperties: false, required: ['url'], properties: { url: { type: 'string' } } },
    sensors: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'token'],
        properties: { name: { type: 'string' }, token: { type: 'string', 'x-secret': true } },
      },
    },
    note: { type: 'string' },
  },
};

describe('redactConfig', () => {
  it('replaces x-secret values at any depth and URL passwords, keeps the rest and the input intact', () => {
    const config: Secrets = {
      token: 'abc',
      unset: null,
      db: { url: 'mysql://cdr:hunter2@db/callscope' },
      sensors: [{ name: 's1', token: 'zzz' }],
      note: 'plain',
    };
    const redacted = redactConfig(config, schema);
    expect(redacted).toEqual({
      token: REDACTED,
      unset: null,
      db: { url: 'mysql://cdr:[redacted]@db/callscope' },
      sensors: [{ name: 's1', token: REDACTED }],
      note: 'plain',
    });
    expect(config.token).toBe('abc');
    expect(JSON.stringify(redacted)).not.toMatch(/abc|hunter2|zzz/);
  });
});
