import { describe, expect, it } from 'vitest';
import { formatMetrics } from './health-server.js';
import { createSenderCounters } from './mirror-sender.js';

describe('formatMetrics', () => {
  it('serves every counter, the spill ones included; spilledNow and the unacknowledged totals are gauges, the rest counters', () => {
    const counters = { ...createSenderCounters(), spillBatches: 12, spilledNow: 3, spillDiscardedPackets: 7 };
    const text = formatMetrics({ state: 'streaming', target: 'x:1', sensorId: 1, uptimeS: 5, unackedBatches: 4, unackedBytes: 999, counters });
    expect(text).toContain('# TYPE callscope_mirror_sender_spilled_now gauge\ncallscope_mirror_sender_spilled_now 3\n');
    expect(text).toContain('# TYPE callscope_mirror_sender_spill_batches_total counter\ncallscope_mirror_sender_spill_batches_total 12\n');
    expect(text).toContain('callscope_mirror_sender_spill_discarded_packets_total 7\n');
    expect(text).toContain('# TYPE callscope_mirror_sender_unacked_bytes gauge\ncallscope_mirror_sender_unacked_bytes 999\n');
    for (const key of Object.keys(counters)) expect(text).toContain(`callscope_mirror_sender_${key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`);
    expect(text).toContain('callscope_mirror_sender_streaming 1\n');
  });
});
