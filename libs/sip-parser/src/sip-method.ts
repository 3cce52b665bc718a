import { ascii, equalsBytes } from './bytes.js';

/**
 * SIP request methods as numbers (RFC 3261 §7.1 and the extension RFCs listed per value).
 * Methods are case-sensitive (RFC 3261 §7.1): `invite` is an extension method, not INVITE.
 * Any other well-formed token is {@link SipMethod.Other}; its text stays available as a range.
 */
export const SipMethod = {
  /** Not a request (responses) or not parsed yet. */
  None: 0,
  /** RFC 3261 §13. */
  Invite: 1,
  /** RFC 3261 §13.2.2.4, §17.1.1.3. */
  Ack: 2,
  /** RFC 3261 §15. */
  Bye: 3,
  /** RFC 3261 §9. */
  Cancel: 4,
  /** RFC 3261 §10. */
  Register: 5,
  /** RFC 3261 §11. */
  Options: 6,
  /** RFC 3311. */
  Update: 7,
  /** RFC 3262. */
  Prack: 8,
  /** RFC 6086. */
  Info: 9,
  /** RFC 3428. */
  Message: 10,
  /** RFC 6665. */
  Subscribe: 11,
  /** RFC 6665. */
  Notify: 12,
  /** RFC 3515. */
  Refer: 13,
  /** RFC 3903. */
  Publish: 14,
  /** Any other extension-method token (RFC 3261 §25.1). */
  Other: 15,
} as const;
/** A value of {@link SipMethod}. */
export type SipMethod = (typeof SipMethod)[keyof typeof SipMethod];

const NAMES: readonly (readonly [Uint8Array, SipMethod])[] = [
  [ascii('INVITE'), SipMethod.Invite],
  [ascii('ACK'), SipMethod.Ack],
  [ascii('BYE'), SipMethod.Bye],
  [ascii('CANCEL'), SipMethod.Cancel],
  [ascii('REGISTER'), SipMethod.Register],
  [ascii('OPTIONS'), SipMethod.Options],
  [ascii('UPDATE'), SipMethod.Update],
  [ascii('PRACK'), SipMethod.Prack],
  [ascii('INFO'), SipMethod.Info],
  [ascii('MESSAGE'), SipMethod.Message],
  [ascii('SUBSCRIBE'), SipMethod.Subscribe],
  [ascii('NOTIFY'), SipMethod.Notify],
  [ascii('REFER'), SipMethod.Refer],
  [ascii('PUBLISH'), SipMethod.Publish],
];

/** Method names indexed by {@link SipMethod} value, for logs and tests. */
export const SIP_METHOD_NAMES: readonly string[] = [
  '', 'INVITE', 'ACK', 'BYE', 'CANCEL', 'REGISTER', 'OPTIONS', 'UPDATE', 'PRACK', 'INFO',
  'MESSAGE', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'PUBLISH', 'OTHER',
];

/**
 * Maps the method token in [start, end) to a {@link SipMethod}; unknown tokens give `Other`.
 * The caller has already checked that the bytes are a non-empty token.
 */
export function sipMethodFromBytes(buf: Uint8Array, start: number, end: number): SipMethod {
  // Indexed loop: no iterator object on the hot path.
  for (let i = 0; i < NAMES.length; i++) {
    const entry = NAMES[i]!;
    if (equalsBytes(buf, start, end, entry[0])) return entry[1];
  }
  return SipMethod.Other;
}
