import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runHashToken } from './hash-token.cli.js';
import { hashToken, parseTokenHash, TokenVerifier } from './token-hash.js';

const TOKEN = 'ops-token-0123456789abcdef';
const HASH = hashToken(TOKEN);

describe('hashToken / parseTokenHash', () => {
  it('stores scrypt$N$r$p$salt$hash with a fresh salt each time', () => {
    expect(HASH).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(hashToken(TOKEN)).not.toBe(HASH);
    expect(parseTokenHash(HASH)).toMatchObject({ n: 16384, r: 8, p: 1 });
  });

  it.each([
    ['', 'empty'],
    [HASH.replace('scrypt', 'bcrypt'), 'other scheme'],
    [HASH.replace('$16384$', '$1000$'), 'N not a power of two'],
    [HASH.replace('$16384$', '$2097152$'), 'N over the bound (minutes per check)'],
    [HASH.replace('$8$1$', '$0$1$'), 'r = 0'],
    [HASH.replace('$8$1$', '$8$99$'), 'p over the bound'],
    [`${HASH}$x`, 'seven fields'],
    [HASH.replace(/\$[^$]+$/, '$short'), 'hash too short'],
    [TOKEN, 'a plain token pasted as the hash'],
  ])('refuses %j (%s)', (text) => {
    expect(parseTokenHash(text)).toBeNull();
  });
});

describe('TokenVerifier', () => {
  const verifier = new TokenVerifier([
    { name: 'gui', hash: hashToken('gui-token-0123456789abcdef') },
    { name: 'ops', hash: HASH },
  ]);

  it.each([
    [undefined, { ok: false, reason: 'missing' }],
    ['', { ok: false, reason: 'missing' }],
    [`Bearer ${TOKEN}`, { ok: true, name: 'ops' }],
    [`bearer   ${TOKEN} `, { ok: true, name: 'ops' }],
    ['Bearer gui-token-0123456789abcdef', { ok: true, name: 'gui' }],
    [`Bearer ${TOKEN.slice(0, -1)}`, { ok: false, reason: 'invalid' }],
    [`Bearer ${TOKEN}x`, { ok: false, reason: 'invalid' }],
    [`Basic ${TOKEN}`, { ok: false, reason: 'invalid' }],
    ['Bearer two words', { ok: false, reason: 'invalid' }],
    [TOKEN, { ok: false, reason: 'invalid' }],
    [`Bearer ${'a'.repeat(600)}`, { ok: false, reason: 'invalid' }],
  ] as const)('%j -> %j', async (header, outcome) => {
    expect(await verifier.check(header)).toEqual(outcome);
  });

  it('remembers only verified tokens, by digest (cachedName is the cheap path the rate limiter keys on)', async () => {
    const fresh = new TokenVerifier([{ name: 'ops', hash: HASH }]);
    expect(fresh.cachedName(`Bearer ${TOKEN}`)).toBeNull();
    await fresh.check('Bearer wrong-token-0123456789');
    expect(fresh.cachedName('Bearer wrong-token-0123456789')).toBeNull();
    expect(await fresh.check(`Bearer ${TOKEN}`)).toEqual({ ok: true, name: 'ops' });
    expect(fresh.cachedName(`Bearer ${TOKEN}`)).toBe('ops');
    // A cached check costs no scrypt: far below one scrypt's ~tens of ms, even 200 times.
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) await fresh.check(`Bearer ${TOKEN}`);
    expect(performance.now() - t0).toBeLessThan(200);
  });

  it('refuses a config hash that does not parse', () => {
    expect(() => new TokenVerifier([{ name: 'x', hash: 'plain' }])).toThrow(TypeError);
  });
});

describe('manager-api hash-token', () => {
  async function run(input: string): Promise<{ code: number; out: string; err: string }> {
    const out = new PassThrough();
    const err = new PassThrough();
    let o = '';
    let e = '';
    out.on('data', (c: Buffer) => (o += c.toString()));
    err.on('data', (c: Buffer) => (e += c.toString()));
    const code = await runHashToken(Readable.from([Buffer.from(input)]), out, err);
    return { code, out: o, err: e };
  }

  it('prints a hash that verifies the token read on stdin', async () => {
    const { code, out } = await run(`${TOKEN}\n`);
    expect(code).toBe(0);
    const verifier = new TokenVerifier([{ name: 'cli', hash: out.trim() }]);
    expect(await verifier.check(`Bearer ${TOKEN}`)).toEqual({ ok: true, name: 'cli' });
  });

  it.each(['', 'short\n', 'has space in it 0123456789\n'])('refuses %j with exit 2', async (input) => {
    const { code, out, err } = await run(input);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain('give one token on stdin');
  });
});
