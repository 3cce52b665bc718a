import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runScenario, scenarios } from './stream-stats-scenarios.js';

// Regression guard for the flat per-stream state layout: every figure RtpStreamStats reports, for
// streams covering loss, jitter, reordering, duplicates, wraps, restarts, PT changes, DTMF, CN,
// interval rings that grow and wrap, and random noise, mid-stream and after finish(), must equal
// bit for bit what the object-per-concept implementation (8fcbf3e) reported. Exception (issue 19,
// jitter-buffer resynchronisation and per-interval codecs): the entries of wander, clock-steps,
// noise-a and noise-b were retaken from the implementation of that change (README "Memory layout").
const golden = JSON.parse(readFileSync(new URL('./fixtures/stream-stats-golden.json', import.meta.url), 'utf8')) as Record<string, unknown>;

describe('RtpStreamStats reproduces the golden snapshots exactly', () => {
  for (const s of scenarios()) {
    it(s.name, () => {
      expect(golden[s.name], 'golden entry').toBeDefined();
      expect(runScenario(s)).toEqual(golden[s.name]);
    });
  }
});
