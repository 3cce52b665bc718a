// The truth types are declarations: this test holds them to the data. Every truth file must have
// exactly the declared fields with values of the declared kinds, so a field the corpus adds (or a
// null where a number was declared) fails here, not as a silent `undefined` in some project's test.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CORPUS_DIR, corpusCaptures, corpusPath, readTruth, type CorpusTruth, type TruthCall, type TruthCapture, type TruthImpairmentApplied,
  type TruthOtherSip, type TruthRegister, type TruthRegisterTransaction, type TruthRtpStream, type TruthScenario, type TruthSdp,
  type TruthSipp, type TruthSippAgent, type TruthSippCall, type TruthSipStat, type TruthTools, type TruthTsharkRtpStream,
} from '../src/index.js';

/** Returns the problems of `v` at `where` (empty when it fits). */
type Check = (v: unknown, where: string) => string[];
interface Optional {
  optional: Check;
}
type Field = Check | Optional;
/** Every key of T (optional ones included) must be described; `satisfies` rejects extra keys. */
type Fields<T> = { [K in keyof T]-?: Field };

const kind = (name: string, test: (v: unknown) => boolean): Check => (v, where) => (test(v) ? [] : [`${where}: ${JSON.stringify(v)} is not ${name}`]);
const str = kind('a string', (v) => typeof v === 'string');
const num = kind('a number', (v) => typeof v === 'number' && Number.isFinite(v));
const int = kind('an integer', (v) => Number.isInteger(v));
const bool = kind('a boolean', (v) => typeof v === 'boolean');
const oneOf = (...values: unknown[]): Check => kind(values.join('|'), (v) => values.includes(v));
const nullable = (check: Check): Check => (v, where) => (v === null ? [] : check(v, where));
const optional = (check: Check): Optional => ({ optional: check });
const arrayOf = (check: Check): Check => (v, where) =>
  Array.isArray(v) ? v.flatMap((x, i) => check(x, `${where}[${i}]`)) : [`${where}: not an array`];
const recordOf = (check: Check): Check => (v, where) =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
    ? Object.entries(v).flatMap(([k, x]) => check(x, `${where}.${k}`))
    : [`${where}: not an object`];
/** An object with exactly these fields. */
const shape = (fields: Record<string, Field>): Check => (v, where) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return [`${where}: not an object`];
  const o = v as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => !(k in fields)).map((k) => `${where}.${k}: not declared`);
  return extra.concat(
    Object.entries(fields).flatMap(([k, f]) => {
      if (typeof f !== 'function') return k in o ? f.optional(o[k], `${where}.${k}`) : [];
      return k in o ? f(o[k], `${where}.${k}`) : [`${where}.${k}: missing`];
    }),
  );
};

const CAPTURE = {
  file_type: oneOf('pcap', 'nsecpcap', 'pcapng'), encapsulation: str, timestamp_precision: str, packets: int,
  first_packet_time: str, last_packet_time: str,
} satisfies Fields<TruthCapture>;
const TOOLS = { tshark: str, sngrep: str } satisfies Fields<TruthTools>;
const SDP = {
  time: num, from: str, what: str, cseq: int, ip: str, ports: arrayOf(int), formats: arrayOf(str),
  direction: oneOf('sendrecv', 'sendonly', 'recvonly', 'inactive'),
} satisfies Fields<TruthSdp>;
const CALL = {
  call_id: str, from_user: str, to_user: str, ruri_user: str, caller_ip: str, callee_ip: str, caller_port: int, callee_port: int,
  transport: oneOf('udp', 'tcp'), first_packet_time: num, invite_time: num, ringing_time: nullable(num), answer_time: nullable(num),
  bye_time: nullable(num), end_time: num, last_packet_time: num, final_sip_code: nullable(int), bye_by: oneOf('caller', 'callee', null),
  state: oneOf('COMPLETED', 'IN CALL', 'CANCELLED', 'REJECTED', 'CALL SETUP'), sngrep_state: nullable(str), cancelled: bool,
  invite_requests: int, reinvites: int, sip_messages: int, duration_s: nullable(num), sdp: arrayOf(shape(SDP)),
} satisfies Fields<TruthCall>;
const TSHARK_STREAM = {
  ssrc: kind('an SSRC', (v) => typeof v === 'string' && /^0x[0-9a-f]{8}$/.test(v)), src: str, src_port: int, dst: str, dst_port: int,
  payload: str, packets: int, lost: int, lost_pct: num, min_delta_ms: num, mean_delta_ms: num, max_delta_ms: num, min_jitter_ms: num,
  mean_jitter_ms: num, max_jitter_ms: num, problem: bool, start_rel: num, end_rel: num,
} satisfies Fields<TruthTsharkRtpStream>;
const STREAM = {
  ...TSHARK_STREAM, seq_errors: nullable(int), sharkd_packets: nullable(int), sharkd_max_jitter_ms: nullable(num),
  sharkd_mean_jitter_ms: nullable(num), sharkd_max_delta_ms: nullable(num), sharkd_expected: nullable(int),
  sharkd_problem: nullable(bool), payload_type: int, payload_types: arrayOf(int), start_time: num, end_time: num, call_id: nullable(str),
} satisfies Fields<TruthRtpStream>;
const TRANSACTION = {
  cseq: int, time: num, expires: nullable(int), authorization: bool, final_sip_code: nullable(int), challenge: bool,
  response_time: nullable(num),
} satisfies Fields<TruthRegisterTransaction>;
const REGISTER = {
  call_id: str, from_user: str, to_user: str, client_ip: str, registrar_ip: str, first_packet_time: num,
  final_sip_code: nullable(int), challenged: bool, transactions: arrayOf(shape(TRANSACTION)),
} satisfies Fields<TruthRegister>;
const OTHER_SIP = {
  call_id: str, method: str, from_user: str, to_user: str, src: str, dst: str, time: num, requests: int, final_sip_code: nullable(int),
} satisfies Fields<TruthOtherSip>;
const SIP_STAT = {
  responses: recordOf(int), requests: recordOf(int), messages: int, resent_packets: int, raw: arrayOf(str),
} satisfies Fields<TruthSipStat>;
const SIPP_CALL = {
  first: num, messages: int, final_invite_code: nullable(int), bye: oneOf('sent', 'received', null),
} satisfies Fields<TruthSippCall>;
const SIPP_AGENT = {
  stats: recordOf(kind('a number or text', (v) => typeof v === 'number' || typeof v === 'string')), calls: recordOf(shape(SIPP_CALL)),
} satisfies Fields<TruthSippAgent>;
const SIPP = { uac: shape(SIPP_AGENT), uac2: optional(shape(SIPP_AGENT)), uas: optional(shape(SIPP_AGENT)) } satisfies Fields<TruthSipp>;
const IMPAIRMENT = { seen: int, dropped: int, duplicated: int, sent: int } satisfies Fields<TruthImpairmentApplied>;
const SCENARIO = {
  description: str, capture_point: str, encapsulation: optional(str),
  impairment: optional(shape({ loss: optional(int), delay: optional(int), jitter: optional(int), reorder: optional(int) })),
  planned_outcomes: optional(recordOf(int)),
} satisfies Fields<TruthScenario>;
const TRUTH = shape({
  file: str, capture: shape(CAPTURE), tools: shape(TOOLS), calls: arrayOf(shape(CALL)), rtp_streams: arrayOf(shape(STREAM)),
  rtp_streams_heuristic_only: arrayOf(shape(TSHARK_STREAM)), registers: arrayOf(shape(REGISTER)), other_sip: arrayOf(shape(OTHER_SIP)),
  sip_stat: shape(SIP_STAT), notes: arrayOf(str), sipp: shape(SIPP), impairment_applied: optional(shape(IMPAIRMENT)), scenario: shape(SCENARIO),
} satisfies Fields<CorpusTruth>);

const truthFiles = readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.truth.json')).sort();

describe('truth files', () => {
  it('one per capture in the corpus, 23 of them', () => {
    const captures = readdirSync(CORPUS_DIR).filter((f) => /\.pcap(ng)?$/.test(f)).sort();
    expect(truthFiles).toHaveLength(23);
    expect(truthFiles.map((f) => f.replace('.truth.json', ''))).toEqual(captures.map((f) => f.replace(/\.pcap(ng)?$/, '')));
  });

  it.each(truthFiles)('%s parses, names its own capture and has exactly the declared shape', (file) => {
    const truth = readTruth(file.replace('.truth.json', ''));
    expect(TRUTH(truth, file)).toEqual([]);
    expect(truth.file.replace(/\.pcap(ng)?$/, '')).toBe(file.replace('.truth.json', ''));
    expect(existsSync(join(CORPUS_DIR, truth.file))).toBe(true);
  });

  it('corpusCaptures lists every truth file with its capture path, in name order', () => {
    const captures = corpusCaptures();
    expect(captures.map((c) => `${c.stem}.truth.json`)).toEqual(truthFiles);
    for (const c of captures) {
      expect(c.path).toBe(join(CORPUS_DIR, c.name));
      expect(c.truth.file).toBe(c.name);
    }
    expect(captures.find((c) => c.stem === 'register-auth')!.name).toBe('register-auth.pcapng');
  });

  it('readTruth takes the stem or the capture file name; unknown names throw', () => {
    expect(readTruth('ipv6-call.pcap')).toEqual(readTruth('ipv6-call'));
    expect(readTruth('register-auth.pcapng').registers).toHaveLength(4);
    expect(() => readTruth('no-such-capture')).toThrow(/no-such-capture\.truth\.json is not in/);
    expect(() => corpusPath('no-such.pcap')).toThrow(/no-such\.pcap is not in/);
  });

  it('the shape check rejects undeclared fields, missing fields and wrong kinds (it can fail)', () => {
    const truth = readTruth('rtp-loss-1pct');
    const broken = structuredClone(truth) as CorpusTruth & { extra?: number };
    broken.extra = 1;
    delete (broken.calls[0] as Partial<TruthCall>).sip_messages;
    (broken.rtp_streams[0] as unknown as Record<string, unknown>)['packets'] = '594';
    broken.impairment_applied!.dropped = 6.5;
    expect(TRUTH(broken, 't')).toEqual([
      't.extra: not declared',
      't.calls[0].sip_messages: missing',
      't.rtp_streams[0].packets: "594" is not an integer',
      't.impairment_applied.dropped: 6.5 is not an integer',
    ]);
  });
});
