import { SipMessage, parseSipMessage } from '@callscope/sip-parser';
import { describe, expect, test } from 'vitest';
import { CorrelationHeaders, MAX_LEG_ID_CHARS, parseIcid, parseSessionId } from './leg-ids.js';

const UUID_A = '5b8c1f3a9e2d4c6b8a7f0e1d2c3b4a59';
const UUID_B = 'c4d2e8f01a3b4c5d9e8f7a6b5c4d3e2f';

describe('Session-ID (RFC 7989)', () => {
  test.each([
    [`${UUID_A};remote=00000000000000000000000000000000`, { local: UUID_A, remote: null }],
    [`${UUID_B};remote=${UUID_A}`, { local: UUID_B, remote: UUID_A }],
    [`${UUID_A.toUpperCase()} ; REMOTE = ${UUID_B.toUpperCase()}`, { local: UUID_A, remote: UUID_B }],
    [UUID_A, { local: UUID_A, remote: null }], // RFC 7329: the UUID alone
    [`${UUID_A};foo=bar;remote=${UUID_B}`, { local: UUID_A, remote: UUID_B }],
    ['5b8c1f3a-9e2d-4c6b-8a7f-0e1d2c3b4a59', { local: UUID_A, remote: null }], // dashed form, as some UAs write it
    [`${UUID_A};remote=xyz`, { local: UUID_A, remote: null }],
  ])('%s', (value, want) => {
    expect(parseSessionId(value)).toEqual(want);
  });

  test.each([
    ['', 'empty'],
    ['00000000000000000000000000000000', 'the null UUID identifies nothing'],
    [UUID_A.slice(1), '31 digits'],
    [`${UUID_A}0`, '33 digits'],
    ['g'.repeat(32), 'not hex'],
    [`;remote=${UUID_A}`, 'no own UUID'],
  ])('unusable: %s (%s)', (value) => {
    expect(parseSessionId(value)).toBeNull();
  });
});

describe('P-Charging-Vector icid-value (RFC 7315)', () => {
  test.each([
    ['icid-value="AyretyU0dm+6O2IrT5tAFrbHLso=023551024";orig-ioi=home1.net', 'AyretyU0dm+6O2IrT5tAFrbHLso=023551024'],
    ['icid-value=1234bc9876e;icid-generated-at=192.0.6.8', '1234bc9876e'],
    ['ICID-VALUE = abc ; orig-ioi=x', 'abc'],
    ['orig-ioi=x;icid-value="with;semicolon"', 'with;semicolon'],
    ['icid-value="esc\\"aped"', 'esc"aped'],
  ])('%s', (value, want) => {
    expect(parseIcid(value)).toBe(want);
  });

  test.each([['related-icid=abc;orig-ioi=x'], ['icid-value='], ['icid-value=""'], [''], ['garbage']])('none in %s', (value) => {
    expect(parseIcid(value)).toBeNull();
  });

  test('a long value is cut to what the column holds', () => {
    expect(parseIcid(`icid-value=${'x'.repeat(1000)}`)).toHaveLength(MAX_LEG_ID_CHARS);
  });

  test('property: never throws, and any value it returns came out of the input', () => {
    const alphabet = 'icd-valueIC=";\\ ab1';
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let n = 0; n < 5000; n++) {
      let s = '';
      for (let i = Math.floor(rand() * 40); i > 0; i--) s += alphabet.charAt(Math.floor(rand() * alphabet.length));
      const v = parseIcid(s);
      if (v !== null) {
        expect(v.length).toBeGreaterThan(0);
        // Unescaping aside, the value is a piece of the header text.
        if (!s.includes('\\')) expect(s).toContain(v);
      }
      expect(() => parseSessionId(s)).not.toThrow();
    }
  });
});

function parsed(headers: string[]): SipMessage {
  const msg = new SipMessage();
  const text = ['INVITE sip:bob@example.com SIP/2.0', 'Call-ID: c1', 'CSeq: 1 INVITE', ...headers, 'Content-Length: 0', '', ''].join('\r\n');
  parseSipMessage(new TextEncoder().encode(text), 0, text.length, msg);
  return msg;
}

describe('configured correlation headers', () => {
  test('reads the first non-empty value of each, names compared case-insensitively', () => {
    const h = new CorrelationHeaders(['X-Correlation-ID', 'X-Leg']);
    expect(h.read(parsed(['x-correlation-id: one', 'X-CORRELATION-ID: two', 'X-Other: no']))).toEqual(['one', null]);
    expect(h.read(parsed(['X-Leg:', 'X-Leg: 7', 'X-Correlation-Id: z']))).toEqual(['z', '7']);
    expect(h.read(parsed(['X-Other: no']))).toBeNull();
    expect(new CorrelationHeaders([]).read(parsed(['X-Leg: 1']))).toBeNull();
  });

  test('a name that is a prefix of another is not it', () => {
    expect(new CorrelationHeaders(['X-Leg']).read(parsed(['X-Legs: 1', 'X-Le: 2']))).toBeNull();
  });

  test.each([
    [['X A'], 'not a SIP header name'],
    [['x-a', 'X-A'], 'listed twice'],
    [Array.from({ length: 9 }, (_, i) => `X-${i}`), 'at most 8'],
    [['x'.repeat(65)], 'not a SIP header name'],
  ])('refuses %j', (names, message) => {
    expect(() => new CorrelationHeaders(names)).toThrow(message);
  });
});
