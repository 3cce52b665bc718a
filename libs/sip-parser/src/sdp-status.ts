/**
 * Result of {@link parseSdp}, and the reason a single line was rejected.
 *
 * `parseSdp` returns only `Ok`, `Empty` or `NotSdp`: once a body starts with `v=0` it is SDP, and a
 * bad line costs that line only — or, for an `m=` line or a media-level `c=` line, that one media
 * section (`SessionDescription.mediaRejected`). The other values are the reasons counted per line
 * in `SessionDescription.rejectedLines`.
 */
export const SdpStatus = {
  /** Parsed; caps exceeded, bad lines, bad sections and bad attributes are counted in the description. */
  Ok: 0,
  /** No bytes (or only line ends). */
  Empty: 1,
  /** The first line is not `v=0` (RFC 8866 §5.1, §9: v= comes first): the body is not SDP at all. */
  NotSdp: 2,
  /** A line that is not `<letter>=<value>` (RFC 8866 §5). */
  BadLine: 3,
  /** `o=` without its six fields (RFC 8866 §5.2). */
  BadOrigin: 4,
  /** `c=` without nettype, addrtype and address (RFC 8866 §5.7). */
  BadConnection: 5,
  /** `m=` without media, a valid port, proto and at least one format (RFC 8866 §5.14). */
  BadMedia: 6,
  /** A NUL byte (never valid in SDP text). */
  NulByte: 7,
} as const;
/** A value of {@link SdpStatus}. */
export type SdpStatus = (typeof SdpStatus)[keyof typeof SdpStatus];

/** Number of {@link SdpStatus} values (the length of `SessionDescription.rejectedLines`). */
export const SDP_STATUS_COUNT = 8;

/** Status names indexed by value, for counters and logs. */
export const SDP_STATUS_NAMES: readonly string[] = [
  'Ok', 'Empty', 'NotSdp', 'BadLine', 'BadOrigin', 'BadConnection', 'BadMedia', 'NulByte',
];
