/**
 * Totals of the rows loaded so far, shown under the list: how many calls, how many were
 * answered (ASR), their average connected time (ACD) and how many sounded bad. They describe the
 * loaded rows only, and the footer says so while more pages remain.
 */
import type { CallListRow } from '../../../../src/api-types.ts';

/** MOS under which a call counts as bad in the totals: G.107's "many users dissatisfied". */
export const BAD_MOS = 3.1;

/** Totals of a set of calls. */
export interface CallTotals {
  readonly calls: number;
  readonly answered: number;
  /** Answered share, 0..1; null without calls. */
  readonly asr: number | null;
  /** Mean connect duration of answered calls, s; null without any. */
  readonly acdS: number | null;
  /** Sum of call durations, s. */
  readonly durationS: number;
  /** Calls whose worst main-stream MOS is below {@link BAD_MOS}. */
  readonly badMos: number;
  /** Calls some of whose packets the sensor dropped. */
  readonly incomplete: number;
}

/** The totals of `rows`. */
export function summarizeCalls(rows: readonly CallListRow[]): CallTotals {
  let answered = 0;
  let connected = 0;
  let durationS = 0;
  let badMos = 0;
  let incomplete = 0;
  for (const r of rows) {
    if (r.answer !== null) {
      answered++;
      connected += r.connect_duration ?? 0;
    }
    durationS += r.duration;
    if (r.mos_worst !== null && r.mos_worst < BAD_MOS) badMos++;
    if (r.incomplete) incomplete++;
  }
  return {
    calls: rows.length,
    answered,
    asr: rows.length > 0 ? answered / rows.length : null,
    acdS: answered > 0 ? connected / answered : null,
    durationS,
    badMos,
    incomplete,
  };
}
