import { describe, expect, it } from 'vitest';
import { generatePassword, hashPassword, MAX_PASSWORD_LENGTH, verifyPassword } from './password.js';
import { csrfTokenOf, isSessionTokenShape, newSessionToken, safeEqualText, sessionTokenHash } from './session-token.js';

describe('password hashes', () => {
  it('stores scrypt with its parameters and a fresh salt, and verifies only the right password', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct horse', b)).toBe(true);
    expect(await verifyPassword('Correct horse', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('verifies a hash made with other parameters (they travel with it)', async () => {
    const stored = await hashPassword('pw-1');
    // Same password under N=1024, r=4: recomputed with node:crypto as an independent check.
    const { scryptSync } = await import('node:crypto');
    const salt = Buffer.from('0123456789abcdef');
    const other = ['scrypt', 1024, 4, 1, salt.toString('base64url'), scryptSync('pw-1', salt, 32, { N: 1024, r: 4, p: 1 }).toString('base64url')].join('$');
    expect(await verifyPassword('pw-1', other)).toBe(true);
    expect(await verifyPassword('pw-2', other)).toBe(false);
    expect(await verifyPassword('pw-1', stored)).toBe(true);
  });

  it.each([
    ['not a hash'],
    ['bcrypt$16384$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g'],
    ['scrypt$1000$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g'],
    ['scrypt$4194304$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g'],
    ['scrypt$16384$64$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g'],
    ['scrypt$16384$8$1$$aGFzaGhhc2hoYXNoaGFzaGhhc2g'],
  ])('never matches a stored value that is not a sane scrypt hash: %s', async (stored) => {
    expect(await verifyPassword('anything', stored)).toBe(false);
  });

  it('refuses an over-long password even when its first characters are right', async () => {
    const long = 'x'.repeat(MAX_PASSWORD_LENGTH);
    const stored = await hashPassword(long);
    expect(await verifyPassword(long, stored)).toBe(true);
    expect(await verifyPassword(`${long}y`, stored)).toBe(false);
  });

  it('generates 24-character random passwords', () => {
    const seen = new Set(Array.from({ length: 50 }, generatePassword));
    expect(seen.size).toBe(50);
    for (const p of seen) expect(p).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });
});

describe('session tokens', () => {
  it('are 256-bit random, hashed with SHA-256, and give each session its own CSRF token', () => {
    const t = newSessionToken();
    expect(isSessionTokenShape(t)).toBe(true);
    expect(isSessionTokenShape(`${t}x`)).toBe(false);
    expect(isSessionTokenShape(t.replace(/^./, '.'))).toBe(false);
    expect(sessionTokenHash(t)).toHaveLength(32);
    expect(sessionTokenHash(t).equals(sessionTokenHash(newSessionToken()))).toBe(false);
    expect(csrfTokenOf(t)).toBe(csrfTokenOf(t));
    expect(csrfTokenOf(t)).not.toBe(csrfTokenOf(newSessionToken()));
    expect(csrfTokenOf(t)).not.toContain(t);
    expect(safeEqualText('abc', 'abc')).toBe(true);
    expect(safeEqualText('abc', 'abd')).toBe(false);
    expect(safeEqualText('abc', 'abcd')).toBe(false);
  });
});
