import { Codec } from './codec.js';

/**
 * R for G.107's default parameter values with no impairment: Ro - Is = 94.77 - 1.41 and the
 * default-delay Id (0.15) folded in, i.e. the 93.2 of G.107 §7 / Table 3 defaults, A = 0.
 *
 * @see https://www.itu.int/rec/T-REC-G.107
 */
export const R_DEFAULT = 93.2;

/**
 * Equipment impairment of a codec for the E-model: `ie` (Ie) and `bpl` (packet-loss robustness
 * factor Bpl), from ITU-T G.113 Appendix I Tables I.1/I.3 where that table has them; the rest are
 * approximations stated in `source` (see the README).
 */
export interface CodecImpairment {
  /** Equipment impairment factor Ie. */
  readonly ie: number;
  /** Packet-loss robustness factor Bpl. */
  readonly bpl: number;
  /** Where the numbers come from. */
  readonly source: string;
}

const G711_PLC: CodecImpairment = { ie: 0, bpl: 25.1, source: 'G.113 App. I Table I.3, G.711 with Appendix I PLC' };

/** G.711 without packet-loss concealment (G.113 App. I Table I.3). */
export const G711_NO_PLC: CodecImpairment = { ie: 0, bpl: 4.3, source: 'G.113 App. I Table I.3, G.711 without PLC' };

const IMPAIRMENTS: readonly CodecImpairment[] = (() => {
  const t: CodecImpairment[] = [];
  const unknown: CodecImpairment = { ...G711_PLC, source: 'assumption: unknown codec scored as G.711 with PLC' };
  t[Codec.Unknown] = unknown;
  t[Codec.PCMU] = G711_PLC;
  t[Codec.PCMA] = G711_PLC;
  t[Codec.G722] = { ie: 0, bpl: 25.1, source: 'approximation: G.722 on the narrowband scale as G.711 with PLC (G.107.1 would rate it wideband)' };
  t[Codec.G729] = { ie: 11, bpl: 19.0, source: 'G.113 App. I Table I.3, G.729A + VAD' };
  t[Codec.GSM] = { ie: 20, bpl: 10, source: 'G.113 App. I Table I.1 Ie (GSM 06.10 FR); Bpl 10 assumed' };
  t[Codec.ILBC] = { ie: 10, bpl: 32, source: 'approximation (not in G.113): iLBC 15.2 kbit/s, robust PLC' };
  t[Codec.Opus] = { ie: 5, bpl: 30, source: 'approximation (not in G.113): Opus narrowband-equivalent, strong PLC' };
  t[Codec.AMR] = { ie: 5, bpl: 10, source: 'G.113 App. I Table I.1 Ie (AMR 12.2 / EFR); Bpl 10 assumed' };
  t[Codec.AMRWB] = { ie: 5, bpl: 10, source: 'approximation: AMR-WB on the narrowband scale as AMR 12.2' };
  t[Codec.TelephoneEvent] = unknown;
  t[Codec.CN] = unknown;
  t[Codec.G723] = { ie: 15, bpl: 16.1, source: 'G.113 App. I Table I.3, G.723.1 6.3 kbit/s + VAD' };
  t[Codec.OtherStatic] = unknown;
  return t;
})();

/** Ie/Bpl for a codec (see {@link CodecImpairment}). */
export function codecImpairment(codec: Codec): CodecImpairment {
  return IMPAIRMENTS[codec] ?? G711_PLC;
}

/**
 * Effective equipment impairment (G.107 §7.3 eq. 7-29):
 * `Ie,eff = Ie + (95 - Ie) * Ppl / (Ppl / BurstR + Bpl)`, Ppl in percent.
 *
 * @see https://www.itu.int/rec/T-REC-G.107
 */
export function effectiveEquipmentImpairment(ie: number, bpl: number, lossPercent: number, burstRatio: number): number {
  if (!(lossPercent > 0)) return ie;
  const br = burstRatio >= 1 ? burstRatio : 1;
  return ie + ((95 - ie) * lossPercent) / (lossPercent / br + bpl);
}

/**
 * Delay impairment Idd for an absolute one-way (mouth-to-ear) delay Ta in ms (G.107 §7.4,
 * eq. 7-27/7-28): 0 up to 100 ms, then `25 * ((1 + X^6)^(1/6) - 3 (1 + (X/3)^6)^(1/6) + 2)` with
 * `X = log2(Ta / 100)`. Talker/listener echo terms are left at their default-value
 * contribution, which {@link R_DEFAULT} already contains (perfect echo control assumed).
 *
 * @see https://www.itu.int/rec/T-REC-G.107
 */
export function delayImpairment(oneWayDelayMs: number): number {
  if (!(oneWayDelayMs > 100)) return 0;
  const x = Math.log2(oneWayDelayMs / 100);
  return 25 * (Math.pow(1 + Math.pow(x, 6), 1 / 6) - 3 * Math.pow(1 + Math.pow(x / 3, 6), 1 / 6) + 2);
}

/**
 * Burst ratio from a 2-state Markov (Gilbert) loss model fitted to the observed pattern
 * (G.113 Appendix I §I.3 / G.107 §7.3): `p = P(received -> lost)`, `q = P(lost -> received)`,
 * `BurstR = 1 / (p + q)`. 1 means random loss, > 1 bursty. Counts are transitions between
 * consecutive packets in sequence order.
 *
 * @param receivedToLost transitions from a received slot to a lost one
 * @param receivedFrom slots in the received state that had a successor
 * @param lostToReceived transitions from a lost slot to a received one
 * @param lostFrom slots in the lost state that had a successor
 * @see https://www.itu.int/rec/T-REC-G.113
 */
export function burstRatio(receivedToLost: number, receivedFrom: number, lostToReceived: number, lostFrom: number): number {
  if (receivedToLost === 0 || receivedFrom === 0 || lostFrom === 0) return 1;
  const p = receivedToLost / receivedFrom;
  const q = lostToReceived / lostFrom;
  const s = p + q;
  // All-lost tails (q = 0) make the ratio unbounded; cap it where Ie,eff is already saturated.
  return s <= 0 ? 100 : Math.min(100, Math.max(1, 1 / s));
}

/**
 * R to MOS-CQE (G.107 Annex B eq. B-4): 1 for R < 0, 4.5 for R > 100, otherwise
 * `1 + 0.035 R + R (R - 60)(100 - R) 7e-6`. The cubic dips just below 1 for 0 < R < 6.5; the
 * result is held at 1 there, the scale's floor.
 *
 * @see https://www.itu.int/rec/T-REC-G.107
 */
export function rToMos(r: number): number {
  if (!(r > 0)) return 1;
  if (r >= 100) return 4.5;
  return Math.max(1, 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6);
}

/**
 * E-model rating `R = Ro - Is - Id - Ie,eff + A` with G.107 defaults (A = 0), from the loss
 * percent and burst ratio after the jitter buffer, the codec, and the one-way delay in ms.
 *
 * @see https://www.itu.int/rec/T-REC-G.107
 */
export function eModelR(impairment: CodecImpairment, lossPercent: number, burstR: number, oneWayDelayMs: number): number {
  return R_DEFAULT - delayImpairment(oneWayDelayMs) - effectiveEquipmentImpairment(impairment.ie, impairment.bpl, lossPercent, burstR);
}
