/** RTCP packet types (RFC 3550 §12.1, RFC 3611 §9). */
export const RtcpPacketType = {
  /** Sender report. */
  SR: 200,
  /** Receiver report. */
  RR: 201,
  /** Source description. */
  SDES: 202,
  /** Goodbye. */
  BYE: 203,
  /** Application-defined. */
  APP: 204,
  /** Extended reports (RFC 3611). */
  XR: 207,
} as const;

/** Most report blocks kept per compound (RC is 5 bits: 31 per SR/RR; two reports per compound). */
export const MAX_REPORT_BLOCKS = 62;
/** Most SDES CNAME items kept per compound. */
export const MAX_CNAMES = 16;
/** Most BYE SSRCs kept per compound. */
export const MAX_BYE_SSRCS = 31;
/** Most XR VoIP metrics blocks kept per compound. */
export const MAX_VOIP_METRICS = 4;
/** Value meaning "unavailable" in the XR VoIP metrics 8-bit fields (RFC 3611 §4.7). */
export const XR_UNAVAILABLE = 127;

/**
 * One RFC 3611 §4.7 VoIP metrics report block (BT=7), raw wire values. Helpers on the fields:
 * rates are fractions * 256, MOS values * 10, 127 = unavailable.
 *
 * ```
 * |     BT=7      |   reserved    |       block length = 8        |
 * |                        SSRC of source                         |
 * |   loss rate   | discard rate  | burst density |  gap density  |
 * |       burst duration          |         gap duration          |
 * |     round trip delay          |       end system delay        |
 * | signal level  |  noise level  |     RERL      |     Gmin      |
 * |   R factor    | ext. R factor |    MOS-LQ     |    MOS-CQ     |
 * |   RX config   |   reserved    |          JB nominal           |
 * |          JB maximum           |          JB abs max           |
 * ```
 *
 * @see https://www.rfc-editor.org/rfc/rfc3611#section-4.7
 */
export class XrVoipMetrics {
  /** SSRC of the XR sender. */
  reporterSsrc = 0;
  /** SSRC of the RTP source reported on. */
  sourceSsrc = 0;
  /** Loss rate, fraction * 256 (§4.7.1). */
  lossRate = 0;
  /** Discard rate (late/early at the jitter buffer), fraction * 256. */
  discardRate = 0;
  /** Burst density, fraction * 256. */
  burstDensity = 0;
  /** Gap density, fraction * 256. */
  gapDensity = 0;
  /** Mean burst duration, ms. */
  burstDuration = 0;
  /** Mean gap duration, ms. */
  gapDuration = 0;
  /** Round-trip delay, ms (§4.7.3). */
  roundTripDelay = 0;
  /** End-system delay, ms. */
  endSystemDelay = 0;
  /** Signal level, dBm0, signed (127 = unavailable). */
  signalLevel = 0;
  /** Noise level, dBm0, signed (127 = unavailable). */
  noiseLevel = 0;
  /** Residual echo return loss, dB. */
  rerl = 0;
  /** Gap threshold (packets). */
  gmin = 0;
  /** R factor 0..100 (127 = unavailable), §4.7.5. */
  rFactor = 0;
  /** External R factor. */
  extRFactor = 0;
  /** MOS listening quality * 10 (127 = unavailable). */
  mosLq = 0;
  /** MOS conversational quality * 10 (127 = unavailable). */
  mosCq = 0;
  /** Receiver configuration byte (PLC, JBA bits). */
  rxConfig = 0;
  /** Jitter buffer nominal delay, ms. */
  jbNominal = 0;
  /** Jitter buffer maximum delay, ms. */
  jbMaximum = 0;
  /** Jitter buffer absolute maximum, ms. */
  jbAbsMax = 0;
}

/**
 * A parsed RTCP compound packet (RFC 3550 §6.1), caller-owned and reused by
 * {@link parseRtcpCompound}. Fixed-size typed arrays hold the repeated items; what does not fit
 * the caps is counted in `overflow`, never silently dropped. Text (CNAME, BYE reason) stays in
 * the buffer as offset + length: decode it only when it is kept.
 */
export class RtcpCompound {
  /** Number of RTCP packets in the compound. */
  packetCount = 0;
  /** Packets of types not decoded here (RTPFB, PSFB, ...) — well formed, kept as a count. */
  otherPackets = 0;
  /** Items that did not fit the fixed caps. */
  overflow = 0;

  /** True when an SR was present (the first one is kept). */
  hasSenderReport = false;
  /** SR sender SSRC. */
  srSsrc = 0;
  /** SR NTP timestamp, integer seconds. */
  srNtpSec = 0;
  /** SR NTP timestamp, fraction (units of 2^-32 s). */
  srNtpFrac = 0;
  /** SR RTP timestamp. */
  srRtpTimestamp = 0;
  /** SR sender packet count. */
  srPacketCount = 0;
  /** SR sender octet count. */
  srOctetCount = 0;
  /** SSRC of the RR sender (0 when only an SR was present). */
  rrSsrc = 0;

  /** Number of valid report blocks. */
  reportCount = 0;
  /** SSRC of the report's sender, per block. */
  readonly reportReporter = new Uint32Array(MAX_REPORT_BLOCKS);
  /** SSRC of the source reported on. */
  readonly reportSource = new Uint32Array(MAX_REPORT_BLOCKS);
  /** Fraction lost since the last report, * 256. */
  readonly reportFractionLost = new Uint8Array(MAX_REPORT_BLOCKS);
  /** Cumulative packets lost (signed 24-bit, negative with duplicates). */
  readonly reportCumulativeLost = new Int32Array(MAX_REPORT_BLOCKS);
  /** Extended highest sequence number received. */
  readonly reportHighestSeq = new Uint32Array(MAX_REPORT_BLOCKS);
  /** Interarrival jitter in RTP timestamp units. */
  readonly reportJitter = new Uint32Array(MAX_REPORT_BLOCKS);
  /** Middle 32 bits of the NTP timestamp of the last SR received (LSR). */
  readonly reportLsr = new Uint32Array(MAX_REPORT_BLOCKS);
  /** Delay since last SR, units of 1/65536 s (DLSR). */
  readonly reportDlsr = new Uint32Array(MAX_REPORT_BLOCKS);

  /** Number of CNAME items. */
  cnameCount = 0;
  /** SSRC/CSRC of each CNAME chunk. */
  readonly cnameSsrc = new Uint32Array(MAX_CNAMES);
  /** Absolute offset of each CNAME text. */
  readonly cnameOffset = new Uint32Array(MAX_CNAMES);
  /** Length of each CNAME text. */
  readonly cnameLength = new Uint8Array(MAX_CNAMES);

  /** Number of SSRCs in BYE packets. */
  byeCount = 0;
  /** SSRCs leaving. */
  readonly byeSsrc = new Uint32Array(MAX_BYE_SSRCS);
  /** Absolute offset of the BYE reason text (0 length when absent). */
  byeReasonOffset = 0;
  /** Length of the BYE reason text. */
  byeReasonLength = 0;

  /** True when an APP packet was present (the first one is kept). */
  hasApp = false;
  /** APP sender SSRC. */
  appSsrc = 0;
  /** APP subtype (5 bits). */
  appSubtype = 0;
  /** APP name: 4 ASCII octets as a big-endian 32-bit number. */
  appName = 0;
  /** Absolute offset of the APP data. */
  appDataOffset = 0;
  /** APP data length. */
  appDataLength = 0;

  /** Number of XR packets. */
  xrCount = 0;
  /** XR report blocks of other types than VoIP metrics (well formed, counted). */
  xrOtherBlocks = 0;
  /** Number of valid entries in {@link RtcpCompound.voipMetrics}. */
  voipMetricsCount = 0;
  /** Preallocated VoIP metrics blocks. */
  readonly voipMetrics: readonly XrVoipMetrics[] = Array.from({ length: MAX_VOIP_METRICS }, () => new XrVoipMetrics());

  /** Forget the previous compound (called by the parser). */
  reset(): void {
    this.packetCount = 0;
    this.otherPackets = 0;
    this.overflow = 0;
    this.hasSenderReport = false;
    this.rrSsrc = 0;
    this.reportCount = 0;
    this.cnameCount = 0;
    this.byeCount = 0;
    this.byeReasonOffset = 0;
    this.byeReasonLength = 0;
    this.hasApp = false;
    this.xrCount = 0;
    this.xrOtherBlocks = 0;
    this.voipMetricsCount = 0;
  }
}
