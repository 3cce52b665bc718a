import { describe, expect, it } from 'vitest';
import { droppedSummary } from './call-summary.ts';

describe('droppedSummary', () => {
  it('adds up every drop reason and names the non-zero ones', () => {
    expect(droppedSummary({ dropped: { rtp_streams_over_cap: 0, rtp_packets_over_cap: 0, rtp_malformed: 3, rtcp_malformed: 0, sip_oversize: 1 } })).toEqual({
      total: 4,
      text: 'rtp malformed: 3, sip oversize: 1',
    });
  });
  it('says nothing for a complete call, whether dropped is null or all zero', () => {
    expect(droppedSummary({ dropped: null })).toEqual({ total: 0, text: '' });
    expect(droppedSummary({ dropped: { rtp_streams_over_cap: 0, rtp_packets_over_cap: 0, rtp_malformed: 0, rtcp_malformed: 0, sip_oversize: 0 } }).total).toBe(0);
  });
});
