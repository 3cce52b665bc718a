/**
 * Text the call header derives from the CDR. Pure, tested.
 */
import { CALL_DROPPED_KEYS, type CallRecord } from '@callscope/cdr-model';

/**
 * What the sensor could not use of this call (`CallRecord.dropped`): the total and the non-zero
 * reasons, for the header's incomplete-data warning. A CDR with drops must never look complete.
 *
 * @returns total 0 and '' when nothing was dropped
 */
export function droppedSummary(call: Pick<CallRecord, 'dropped'>): { total: number; text: string } {
  const d = call.dropped;
  if (d === null) return { total: 0, text: '' };
  const parts = CALL_DROPPED_KEYS.filter((k) => d[k] > 0).map((k) => `${k.replace(/_/g, ' ')}: ${d[k]}`);
  return { total: CALL_DROPPED_KEYS.reduce((sum, k) => sum + d[k], 0), text: parts.join(', ') };
}
