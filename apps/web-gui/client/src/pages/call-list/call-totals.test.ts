import { describe, expect, it } from 'vitest';
import type { CallListRow } from '../../../../src/api-types.ts';
import { summarizeCalls } from './call-totals.ts';

const row = (over: Partial<CallListRow>): CallListRow => ({
  id: 1,
  start: '2026-12-04T10:00:00.000000Z',
  answer: null,
  end: '2026-12-04T10:00:10.000000Z',
  duration: 10,
  connect_duration: null,
  pdd_ms: null,
  sensor_id: 1,
  sensor: 's1',
  call_id: 'c',
  caller: 'a',
  called: 'b',
  caller_ip: '10.0.0.1',
  callee_ip: '10.0.0.2',
  last_sip_code: 486,
  last_sip_reason: 'Busy Here',
  end_reason: 'rejected',
  bye_by: null,
  mos_worst: null,
  a_mos: null,
  b_mos: null,
  a_loss_pct: null,
  b_loss_pct: null,
  a_jitter_max_ms: null,
  b_jitter_max_ms: null,
  a_codec: null,
  b_codec: null,
  a_codecs: null,
  b_codecs: null,
  incomplete: false,
  ...over,
});

describe('call totals', () => {
  it('counts answered calls, their mean connect time and the bad ones', () => {
    const t = summarizeCalls([
      row({ answer: '2026-12-04T10:00:02Z', connect_duration: 8, mos_worst: 4.3 }),
      row({ answer: '2026-12-04T10:00:02Z', connect_duration: 20, duration: 22, mos_worst: 3.0, incomplete: true }),
      row({ mos_worst: 3.1 }),
      row({}),
    ]);
    expect(t).toEqual({ calls: 4, answered: 2, asr: 0.5, acdS: 14, durationS: 52, badMos: 1, incomplete: 1 });
  });

  it('has no ratios without calls', () => {
    expect(summarizeCalls([])).toEqual({ calls: 0, answered: 0, asr: null, acdS: null, durationS: 0, badMos: 0, incomplete: 0 });
  });
});
