/**
 * Colour bands for voice quality. MOS follows the ITU-T G.107 user-satisfaction bands (Annex B):
 * >= 4.0 very satisfied, 3.6 satisfied, 3.1 some users dissatisfied, 2.6 many, below 2.6 nearly
 * all. Loss and jitter use thresholds the user can change (defaults below: 1 % / 5 % loss and
 * 30 / 60 ms jitter, the usual "noticeable" and "bad" marks). The number is always shown too:
 * colour is never the only signal.
 */

/** A quality band, from good to bad; `none` when there is no value. */
export type QualityBand = 'good' | 'fair' | 'mid' | 'poor' | 'bad' | 'none';

/** The G.107 band of a MOS value. */
export function mosBand(mos: number | null | undefined): QualityBand {
  if (mos === null || mos === undefined || Number.isNaN(mos)) return 'none';
  if (mos >= 4.0) return 'good';
  if (mos >= 3.6) return 'fair';
  if (mos >= 3.1) return 'mid';
  if (mos >= 2.6) return 'poor';
  return 'bad';
}

/** Loss (%) and jitter (ms) thresholds: at or above `warn` is `mid`, at or above `bad` is `bad`. */
export interface Thresholds {
  readonly lossPct: { readonly warn: number; readonly bad: number };
  readonly jitterMs: { readonly warn: number; readonly bad: number };
}

export const DEFAULT_THRESHOLDS: Thresholds = { lossPct: { warn: 1, bad: 5 }, jitterMs: { warn: 30, bad: 60 } };

function byThreshold(value: number | null | undefined, t: { readonly warn: number; readonly bad: number }): QualityBand {
  if (value === null || value === undefined || Number.isNaN(value)) return 'none';
  if (value >= t.bad) return 'bad';
  if (value >= t.warn) return 'mid';
  return 'good';
}

/** Band of a loss percentage. */
export const lossBand = (pct: number | null | undefined, t: Thresholds = DEFAULT_THRESHOLDS): QualityBand => byThreshold(pct, t.lossPct);
/** Band of a jitter in ms. */
export const jitterBand = (ms: number | null | undefined, t: Thresholds = DEFAULT_THRESHOLDS): QualityBand => byThreshold(ms, t.jitterMs);

/** CSS class of a band (`q-good` ... `q-bad`, `q-none`), styled in app.css. */
export const bandClass = (band: QualityBand): string => `q-${band}`;
