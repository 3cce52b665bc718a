import { describe, expect, it } from 'vitest';
import { hashSecret, hashSecretSync, parseScryptHash, scryptMatches } from './scrypt-hash.js';

describe('scrypt hashes', () => {
  it('round-trips: the sync and async hashes both verify their secret and refuse another', async () => {
    for (const stored of [hashSecretSync('correct horse'), await hashSecret('correct horse')]) {
      expect(stored).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
      const parsed = parseScryptHash(stored)!;
      expect(await scryptMatches('correct horse', parsed)).toBe(true);
      expect(await scryptMatches('correct horsf', parsed)).toBe(false);
    }
    // A fresh salt each time.
    expect(hashSecretSync('x')).not.toBe(hashSecretSync('x'));
  });

  it.each([
    ['', 'empty'],
    ['bcrypt$16384$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g', 'other scheme'],
    ['scrypt$16385$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g', 'N not a power of two'],
    ['scrypt$2097152$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g', 'N above the bound'],
    ['scrypt$16384$64$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g', 'r above the bound'],
    ['scrypt$16384$8$0$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g', 'p zero'],
    ['scrypt$16384$8$1$c2Fs$aGFzaGhhc2hoYXNoaGFzaGhhc2g', 'salt too short'],
    ['scrypt$16384$8$1$c2FsdHNhbHRzYWx0$aGFzaA', 'hash too short'],
    ['scrypt$16384$8$1$c2FsdHNhbHRz!Wx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g', 'not base64url'],
    ['scrypt$16384$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g$x', 'seven fields'],
  ])('refuses %j (%s)', (text) => {
    expect(parseScryptHash(text)).toBeNull();
  });
});
