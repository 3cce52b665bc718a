import { describe, expect, it } from 'vitest';
import { toLogCallback } from './log-callback.js';

describe('toLogCallback', () => {
  it('routes levels to a pino-like object as (fields, msg)', () => {
    const seen: string[] = [];
    const log = toLogCallback({
      info: (f, m) => seen.push(`info ${m} ${JSON.stringify(f)}`),
      warn: (f, m) => seen.push(`warn ${m} ${JSON.stringify(f)}`),
      error: (f, m) => seen.push(`error ${m} ${JSON.stringify(f)}`),
    });
    log('debug', 'a', { x: 1 });
    log('warn', 'b', {});
    log('error', 'c', { y: 'z' });
    expect(seen).toEqual(['info a {"x":1}', 'warn b {}', 'error c {"y":"z"}']);
    expect(() => { toLogCallback(undefined)('error', 'ignored', {}); }).not.toThrow();
  });
});
