import { formatIsoMicros, type IsoMicros } from '@callscope/cdr-model';
import { formatIp, type DecodedPacket } from '@callscope/packet';
import { SpoolGroup } from '@callscope/pcap-store';
import { ByteRange, SipMessageKind, decodeRange, type SipMessage } from '@callscope/sip-parser';
import { forEachCallRecord, type CallArtifactQuery } from './spool-records.js';
import { SipWalker, type SipLadderTransport, type SipWalkCounters } from './sip-walker.js';

/** Default most messages returned: a call with more is cut and flagged `truncated`. */
export const DEFAULT_MAX_SIP_MESSAGES = 10_000;

/** One SIP message of the ladder. */
export interface SipLadderMessage {
  /** Capture time of the packet that carried (TCP: completed) the message, UTC with µs. */
  time: IsoMicros;
  src: { ip: string; port: number };
  dst: { ip: string; port: number };
  transport: SipLadderTransport;
  /** Request-Line or Status-Line as written. */
  firstLine: string;
  /** Request method, or the CSeq method of a response. */
  method: string;
  /** Status code of a response, null for a request. */
  statusCode: number | null;
  /** CSeq number, -1 when absent. */
  cseq: number;
  /** Every header in message order, names as written (compact forms kept). */
  headers: { name: string; value: string }[];
  /** Body as text (UTF-8), '' when none. */
  body: string;
  /**
   * Same first line, CSeq, top Via branch and direction as an earlier message of the call:
   * a retransmission (RFC 3261 §17), shown dimmed on the ladder.
   */
  retransmission: boolean;
  /** The whole message as text. */
  raw: string;
}

/** The ladder of one call. */
export interface CallSipLadder {
  callId: string;
  /** Messages returned (at most `maxMessages`). */
  count: number;
  /** More messages than `maxMessages` were in the spool; `messagesSeen` counts them all. */
  truncated: boolean;
  messagesSeen: number;
  messages: SipLadderMessage[];
  /** Spool files that ended inside a record: their complete records were read. */
  filesTruncated: { path: string; code: string }[];
  /** What was skipped while reading, by reason. */
  skipped: SipWalkCounters;
}

/** Options of {@link readCallSip}. */
export interface ReadCallSipOptions {
  /** Most messages to return; default {@link DEFAULT_MAX_SIP_MESSAGES}. */
  maxMessages?: number;
}

const range = new ByteRange();

function firstLineOf(msg: SipMessage): string {
  const b = msg.buf;
  const end = msg.offset + msg.headerLength;
  let i = msg.offset;
  while (i < end && b[i] !== 0x0d && b[i] !== 0x0a) i++;
  return Buffer.from(b.buffer, b.byteOffset + msg.offset, i - msg.offset).toString('utf8');
}

function toLadderMessage(msg: SipMessage, p: DecodedPacket, transport: SipLadderTransport, seen: Set<string>): SipLadderMessage {
  const firstLine = firstLineOf(msg);
  const headers: { name: string; value: string }[] = [];
  for (let i = 0; i < msg.headerCount; i++) {
    const name = decodeRange(msg.buf, msg.headerName(i, range));
    headers.push({ name, value: decodeRange(msg.buf, msg.headerValue(i, range)) });
  }
  const src = { ip: formatIp(p.ipVersion, p.src4, p.src6), port: p.srcPort };
  const dst = { ip: formatIp(p.ipVersion, p.dst4, p.dst6), port: p.dstPort };
  const cseqMethod = decodeRange(msg.buf, msg.cseqMethodText);
  const key = `${firstLine}\n${msg.cseq} ${cseqMethod}\n${decodeRange(msg.buf, msg.via.branch)}\n${src.ip}:${src.port}>${dst.ip}:${dst.port}`;
  const retransmission = seen.has(key);
  seen.add(key);
  const isRequest = msg.kind === SipMessageKind.Request;
  return {
    time: formatIsoMicros(p.tsSec, Math.floor(p.tsNsec / 1000)),
    src,
    dst,
    transport,
    firstLine,
    method: isRequest ? decodeRange(msg.buf, msg.methodText) : cseqMethod,
    statusCode: isRequest ? null : msg.statusCode,
    cseq: msg.cseq,
    headers,
    body: decodeRange(msg.buf, msg.body),
    retransmission,
    raw: Buffer.from(msg.buf.buffer, msg.buf.byteOffset + msg.offset, msg.length).toString('utf8'),
  };
}

/**
 * The SIP messages of one call, read from the spool, for a ladder diagram.
 *
 * Memory: the returned messages (bounded by `maxMessages`) plus one record; the retransmission
 * keys are bounded the same way.
 *
 * @param spoolDir - spool root (the sniffer's `--spool`)
 * @param query - the call as its CDR names it
 * @returns the ladder, or null when the spool holds no SIP file for the call
 * @throws SpoolError `CorruptFile` when a file is not a readable capture
 */
export async function readCallSip(spoolDir: string, query: CallArtifactQuery, options: ReadCallSipOptions = {}): Promise<CallSipLadder | null> {
  const max = options.maxMessages ?? DEFAULT_MAX_SIP_MESSAGES;
  if (!Number.isInteger(max) || max < 0) throw new RangeError(`maxMessages ${max} is not a non-negative integer`);
  const messages: SipLadderMessage[] = [];
  const seen = new Set<string>();
  let messagesSeen = 0;
  const walker = new SipWalker(query.callId, (msg, p, transport) => {
    messagesSeen++;
    if (messages.length < max) messages.push(toLadderMessage(msg, p, transport, seen));
  });
  const issues = await forEachCallRecord(spoolDir, query, [SpoolGroup.SIP], (rec) => {
    walker.onRecord(rec);
  });
  if (issues === null) return null;
  return {
    callId: query.callId,
    count: messages.length,
    truncated: messagesSeen > messages.length,
    messagesSeen,
    messages,
    filesTruncated: issues.truncated,
    skipped: walker.counters,
  };
}
