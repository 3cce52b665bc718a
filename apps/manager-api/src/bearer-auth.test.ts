import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { BearerAuth } from './bearer-auth.js';

describe('BearerAuth', () => {
  const auth = new BearerAuth('s3cret-token-value');

  it.each([
    [undefined, 'missing'],
    ['', 'missing'],
    ['Bearer s3cret-token-value', 'ok'],
    ['bearer   s3cret-token-value ', 'ok'],
    ['Bearer s3cret-token-valu', 'invalid'],
    ['Bearer s3cret-token-value2', 'invalid'],
    ['Basic s3cret-token-value', 'invalid'],
    ['Bearer s3cret token', 'invalid'],
    ['s3cret-token-value', 'invalid'],
  ] as const)('%j -> %s', (header, outcome) => {
    expect(auth.check(header)).toBe(outcome);
  });

  test.prop([fc.string({ maxLength: 200 })])('never throws and accepts only the exact token', (header) => {
    const outcome = auth.check(header);
    expect(outcome === 'ok').toBe(/^bearer +s3cret-token-value\s*$/i.test(header));
  });
});
