/**
 * Codecs callscope names. Numbers are stable (they index tables and may be stored).
 *
 * @see https://www.rfc-editor.org/rfc/rfc3551#section-6
 */
export const Codec = {
  /** Not known (unassigned static PT, or a dynamic PT without rtpmap). */
  Unknown: 0,
  /** G.711 mu-law (PT 0). */
  PCMU: 1,
  /** G.711 A-law (PT 8). */
  PCMA: 2,
  /** G.722 (PT 9; 16 kHz audio but an 8000 Hz RTP clock, RFC 3551 §4.5.2). */
  G722: 3,
  /** G.729 / G.729A (PT 18). */
  G729: 4,
  /** GSM 06.10 full rate (PT 3). */
  GSM: 5,
  /** iLBC (dynamic, RFC 3952). */
  ILBC: 6,
  /** Opus (dynamic, RFC 7587: rtpmap clock always 48000). */
  Opus: 7,
  /** AMR narrowband (dynamic, RFC 4867, clock 8000). */
  AMR: 8,
  /** AMR wideband (dynamic, RFC 4867, clock 16000). */
  AMRWB: 9,
  /** RFC 4733 telephone-event (DTMF). */
  TelephoneEvent: 10,
  /** Comfort noise (PT 13, RFC 3389; also the old PT 19). */
  CN: 11,
  /** G.723.1 (PT 4). */
  G723: 12,
  /** Any other static payload type with a known clock (DVI4, L16, video, ...). */
  OtherStatic: 13,
} as const;

/** One of the {@link Codec} values. */
export type Codec = (typeof Codec)[keyof typeof Codec];

/** Display names, indexed by {@link Codec}. */
export const CODEC_NAMES: readonly string[] = [
  'unknown', 'PCMU', 'PCMA', 'G722', 'G729', 'GSM', 'iLBC', 'opus', 'AMR', 'AMR-WB',
  'telephone-event', 'CN', 'G723', 'static',
];

/**
 * Static payload types with their RTP clock, exactly as Wireshark's `clock_map` (RFC 3551
 * Tables 4 and 5; PT 19 is the reserved old comfort-noise number Wireshark still maps).
 * Entries: [pt, clock rate, codec].
 *
 * @see https://www.rfc-editor.org/rfc/rfc3551#section-6
 */
const STATIC_PAYLOAD_TYPES: readonly (readonly [number, number, Codec])[] = [
  [0, 8000, Codec.PCMU], [1, 8000, Codec.OtherStatic], [2, 8000, Codec.OtherStatic],
  [3, 8000, Codec.GSM], [4, 8000, Codec.G723], [5, 8000, Codec.OtherStatic],
  [6, 16000, Codec.OtherStatic], [7, 8000, Codec.OtherStatic], [8, 8000, Codec.PCMA],
  [9, 8000, Codec.G722], [10, 44100, Codec.OtherStatic], [11, 44100, Codec.OtherStatic],
  [12, 8000, Codec.OtherStatic], [13, 8000, Codec.CN], [14, 90000, Codec.OtherStatic],
  [15, 8000, Codec.OtherStatic], [16, 11025, Codec.OtherStatic], [17, 22050, Codec.OtherStatic],
  [18, 8000, Codec.G729], [19, 8000, Codec.CN], [25, 90000, Codec.OtherStatic],
  [26, 90000, Codec.OtherStatic], [28, 90000, Codec.OtherStatic], [31, 90000, Codec.OtherStatic],
  [32, 90000, Codec.OtherStatic], [33, 90000, Codec.OtherStatic], [34, 90000, Codec.OtherStatic],
];

/** rtpmap encoding names (case-insensitive) callscope maps to a codec. */
const ENCODING_NAMES: readonly (readonly [string, Codec])[] = [
  ['pcmu', Codec.PCMU], ['pcma', Codec.PCMA], ['g722', Codec.G722], ['g729', Codec.G729],
  ['gsm', Codec.GSM], ['ilbc', Codec.ILBC], ['opus', Codec.Opus], ['amr', Codec.AMR],
  ['amr-wb', Codec.AMRWB], ['telephone-event', Codec.TelephoneEvent], ['cn', Codec.CN],
  ['g723', Codec.G723],
];

/**
 * Codec for an SDP rtpmap encoding name (`a=rtpmap:<pt> <name>/<clock>`), case-insensitive.
 * Returns {@link Codec.Unknown} for names not in the table. Not on the hot path (SDP time).
 *
 * @see https://www.rfc-editor.org/rfc/rfc8866#section-6.6
 */
export function codecFromEncodingName(name: string): Codec {
  const lower = name.toLowerCase();
  for (const [n, c] of ENCODING_NAMES) if (n === lower) return c;
  return Codec.Unknown;
}

/**
 * Per-session payload-type map: codec and RTP clock rate for each of the 128 payload types,
 * preloaded with the static assignments and completed from SDP rtpmap lines for dynamic types.
 * Lookups are two typed-array reads (hot path).
 *
 * Clock rates follow Wireshark's rules so that jitter agrees with it: static PTs (< 96) always
 * use the static table, dynamic PTs use the rtpmap clock; telephone-event gets clock 0 for the
 * statistics because its timestamp stays at the event start (RFC 4733 §2.3.1) and would corrupt
 * interarrival jitter — Wireshark skips it the same way.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3551#section-6
 */
/** Incremented whenever a map that statistics have read from changes (see {@link payloadTypeMapsEpoch}). */
let mapsEpoch = 0;

/**
 * A number that changes whenever any {@link PayloadTypeMap} already read by stream statistics
 * gets a new entry. `RtpStreamStats` caches its last payload type's lookup under it, so the
 * per-packet check reads neither the stream's map nor the stream object.
 */
export function payloadTypeMapsEpoch(): number {
  return mapsEpoch;
}

export class PayloadTypeMap {
  /** Codec per payload type. */
  readonly codec = new Uint8Array(128);
  /** RTP clock rate per payload type (0 = unknown). */
  readonly clockRate = new Int32Array(128);
  private changes = 0;
  private inUse = false;

  constructor() {
    for (const [pt, clock, codec] of STATIC_PAYLOAD_TYPES) {
      this.codec[pt] = codec;
      this.clockRate[pt] = clock;
    }
  }

  /**
   * Record an rtpmap entry for a payload type. For static types (< 96) the codec is updated
   * but the clock keeps the RFC 3551 value, as Wireshark does. Programmer errors throw.
   */
  setRtpmap(payloadType: number, encodingName: string, clockRate: number): void {
    if (!Number.isInteger(payloadType) || payloadType < 0 || payloadType > 127) {
      throw new RangeError(`payload type ${payloadType} outside 0..127`);
    }
    if (!Number.isInteger(clockRate) || clockRate < 0) throw new RangeError(`clock rate ${clockRate} invalid`);
    const codec = codecFromEncodingName(encodingName);
    this.codec[payloadType] = codec;
    if (payloadType >= 96 || this.clockRate[payloadType] === 0) this.clockRate[payloadType] = clockRate;
    this.changes++;
    if (this.inUse) mapsEpoch++;
  }

  /**
   * Note that a lookup from this map is being cached (by `RtpStreamStats`): from now on its
   * changes move {@link payloadTypeMapsEpoch}, invalidating every cached lookup.
   */
  markInUse(): void {
    this.inUse = true;
  }

  /**
   * Incremented by every {@link PayloadTypeMap.setRtpmap}. `RtpStreamStats` caches the last
   * payload type's lookup per stream and redoes it when this changes, so change entries through
   * `setRtpmap`, not by writing into `codec` / `clockRate`.
   */
  get version(): number {
    return this.changes;
  }

  /**
   * Clock rate used for jitter/delta statistics: 0 for telephone-event and unknown types, so
   * such packets are left out of jitter exactly as in Wireshark's `rtppacket_analyse`.
   */
  statsClockRate(payloadType: number): number {
    const pt = payloadType & 0x7f;
    return this.codec[pt] === Codec.TelephoneEvent ? 0 : this.clockRate[pt]!;
  }
}
