import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ssrcToNumber, ssrcToText, validateCallRecord, validateRegisterRecord, type CallRecord, type RegisterRecord } from '../src/index.js';

/** Records as `sniffer analyze --format jsonl` printed them for corpus captures. */
const load = (name: string): unknown => JSON.parse(readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8'));
const ipv6Call = load('ipv6-call.record.json') as CallRecord;
const dtmfCall = load('dtmf-rfc2833.record.json') as CallRecord;
const register = load('register-auth.record.json') as RegisterRecord;

describe('validateCallRecord', () => {
  it('accepts what the sniffer writes (IPv4 and IPv6, streams, DTMF, responses)', () => {
    expect(validateCallRecord(ipv6Call)).toBeNull();
    expect(validateCallRecord(dtmfCall)).toBeNull();
  });

  const stream0 = dtmfCall.streams[0]!;
  it.each<[string, Partial<CallRecord>, string]>([
    ['type', { type: 'register' as 'call' }, 'type must be "call"'],
    ['start', { start: '2026-11-29T18:17:25Z' }, 'start is not an IsoMicros timestamp'],
    ['end', { end: '2026-11-29 18:17:25.000000' }, 'end is not an IsoMicros timestamp'],
    ['answer', { answer: 'soon' }, 'answer is not an IsoMicros timestamp'],
    ['caller_ip', { caller_ip: '2001:db8::1::2' }, 'caller_ip 2001:db8::1::2 is not an IP address'],
    ['callee_ip', { callee_ip: '[2001:db8::1]' }, 'callee_ip [2001:db8::1] is not an IP address'],
    ['sensor', { sensor: '' }, 'sensor is empty'],
    ['ssrc', { streams: [{ ...stream0, ssrc: '12345678' }] }, 'stream ssrc 12345678 is not 0x + hex'],
    ['stream ip', { streams: [{ ...stream0, dst_ip: '192.0.2.256' }] }, 'stream address is not an IP address'],
    ['stream time', { streams: [{ ...stream0, last: '' }] }, 'stream first/last is not an IsoMicros timestamp'],
    ['loss bursts', { streams: [{ ...stream0, loss_bursts: [0] }] }, 'stream loss_bursts must have 10 counts'],
    ['dtmf', { dtmf: [{ digit: '1', ts: 'x', method: 'info', duration_ms: null }] }, 'dtmf ts is not an IsoMicros timestamp'],
    ['response', { sip_responses: [{ ...dtmfCall.sip_responses[0]!, time: 'x' }] }, 'sip response time is not an IsoMicros timestamp'],
  ])('names a bad %s', (_field, change, problem) => {
    expect(validateCallRecord({ ...dtmfCall, ...change })).toBe(problem);
  });

  it('asks the given address parser (a writer passes its memo)', () => {
    const seen: string[] = [];
    const parser = (text: string): Uint8Array | null => {
      seen.push(text);
      return text === dtmfCall.callee_ip ? null : new Uint8Array(4);
    };
    expect(validateCallRecord(dtmfCall, parser)).toBe(`callee_ip ${dtmfCall.callee_ip} is not an IP address`);
    expect(seen).toEqual([dtmfCall.caller_ip, dtmfCall.callee_ip]);
  });
});

describe('validateRegisterRecord', () => {
  it('accepts what the sniffer writes', () => {
    expect(validateRegisterRecord(register)).toBeNull();
  });

  it.each<[Partial<RegisterRecord>, string]>([
    [{ type: 'call' as 'register' }, 'type must be "register"'],
    [{ first: '2026-11-29T18:17:10.34Z' }, 'first/last is not an IsoMicros timestamp'],
    [{ registrar_ip: 'registrar.example.test' }, 'address is not an IP address'],
    [{ sensor: '' }, 'sensor is empty'],
  ])('names the problem of %j', (change, problem) => {
    expect(validateRegisterRecord({ ...register, ...change })).toBe(problem);
  });
});

describe('ssrcToNumber / ssrcToText', () => {
  it('convert between the contract text and the number', () => {
    expect(ssrcToNumber('0x1a2b3c4d')).toBe(0x1a2b3c4d);
    expect(ssrcToNumber('0xFFFFFFFF')).toBe(0xffffffff);
    expect(ssrcToNumber('0x123456789')).toBeNaN();
    expect(ssrcToNumber('1a2b')).toBeNaN();
    expect(ssrcToText(0x1a2b)).toBe('0x00001a2b');
    for (const s of dtmfCall.streams) expect(ssrcToText(ssrcToNumber(s.ssrc))).toBe(s.ssrc);
  });
});
