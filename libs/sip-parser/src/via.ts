import { ByteRange } from './byte-range.js';
import { COLON, LBRACKET, RBRACKET, SEMI, SLASH, ascii, isDigit, isLws, isTokenChar, parseDecimal, skipLws } from './bytes.js';
import { findParam } from './header-params.js';

const BRANCH = ascii('branch');
const RECEIVED = ascii('received');
const RPORT = ascii('rport');

/**
 * The top (first) Via value (RFC 3261 §20.42, §18.2.1; RFC 3581 for rport):
 *
 * ```
 * via-parm      = sent-protocol LWS sent-by *( SEMI via-params )
 * sent-protocol = protocol-name SLASH protocol-version SLASH transport
 * sent-by       = host [ COLON port ]
 * ```
 * `host` keeps the brackets of an IPv6 reference, as in the grammar.
 */
export class Via {
  /** The whole via-parm. */
  readonly value = new ByteRange();
  /** Transport token (`UDP`, `TCP`, `TLS`, `WS`, `WSS`, `SCTP`...). */
  readonly transport = new ByteRange();
  /** sent-by host. */
  readonly host = new ByteRange();
  /** sent-by port, -1 when absent. */
  port = -1;
  /** `branch` parameter (RFC 3261 §8.1.1.7). */
  readonly branch = new ByteRange();
  /** `received` parameter (RFC 3261 §18.2.1). */
  readonly received = new ByteRange();
  /** `rport` parameter; present with an empty value in requests (RFC 3581 §3). */
  readonly rport = new ByteRange();
  /** Number of Via values in the message (all headers, comma-separated values counted). */
  count = 0;

  /** True when the message had a Via. */
  get present(): boolean {
    return this.value.present;
  }

  /** Marks every field absent. */
  clear(): void {
    this.value.clear();
    this.transport.clear();
    this.host.clear();
    this.port = -1;
    this.branch.clear();
    this.received.clear();
    this.rport.clear();
    this.count = 0;
  }
}

/** Parses one via-parm in [start, end). Returns false when sent-protocol or sent-by is malformed. */
export function parseVia(buf: Uint8Array, start: number, end: number, out: Via): boolean {
  const count = out.count;
  out.clear();
  out.count = count;
  out.value.set(start, end);
  let i = start;
  // protocol-name SLASH protocol-version SLASH transport, LWS allowed around the slashes.
  for (let part = 0; part < 3; part++) {
    i = skipLws(buf, i, end);
    const tokenStart = i;
    while (i < end && isTokenChar(buf[i]!)) i++;
    if (i === tokenStart) return false;
    if (part === 2) {
      out.transport.set(tokenStart, i);
      break;
    }
    i = skipLws(buf, i, end);
    if (i >= end || buf[i] !== SLASH) return false;
    i++;
  }
  if (i >= end || !isLws(buf[i]!)) return false;
  i = skipLws(buf, i, end);
  const hostStart = i;
  if (i < end && buf[i] === LBRACKET) {
    while (i < end && buf[i] !== RBRACKET) i++;
    if (i >= end) return false;
    i++;
  } else {
    while (i < end && buf[i] !== COLON && buf[i] !== SEMI && !isLws(buf[i]!)) i++;
  }
  if (i === hostStart) return false;
  out.host.set(hostStart, i);
  i = skipLws(buf, i, end);
  if (i < end && buf[i] === COLON) {
    i = skipLws(buf, i + 1, end);
    const p = i;
    while (i < end && isDigit(buf[i]!)) i++;
    out.port = parseDecimal(buf, p, i, 65535);
    if (out.port < 0) return false;
  }
  findParam(buf, i, end, BRANCH, out.branch);
  findParam(buf, i, end, RECEIVED, out.received);
  findParam(buf, i, end, RPORT, out.rport);
  return true;
}
