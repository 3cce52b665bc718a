import { readFileSync } from 'node:fs';
import { parseIsoMicros } from '@callscope/cdr-model';
import type { CallArtifactQuery } from '../src/index.js';

/** The first CDR line of the sniffer's jsonl output (the fields the benches read). */
export interface BenchCdr {
  call_id: string;
  start: string;
  streams: { packets: number; lost: number }[];
}

/** `SPOOL CDR.jsonl` from the command line: the spool, the first call's CDR and its spool key. */
export function benchCall(script: string): { spool: string; cdr: BenchCdr; query: CallArtifactQuery } {
  const [spool, cdrFile] = process.argv.slice(2);
  if (spool === undefined || cdrFile === undefined) throw new Error(`usage: ${script} SPOOL CDR.jsonl`);
  const cdr = JSON.parse(readFileSync(cdrFile, 'utf8').split('\n')[0]!) as BenchCdr;
  const start = parseIsoMicros(cdr.start);
  if (start === null) throw new Error(`CDR start ${JSON.stringify(cdr.start)} is not an ISO time with µs`);
  return { spool, cdr, query: { callId: cdr.call_id, startSec: start.sec, startUsec: start.usec } };
}

/** Samples the RSS every 20 ms; `stop()` gives the peak seen (MB), `peakMb()` the peak so far. */
export function rssSampler(): { startMb: number; peakMb: () => number; stop: () => number } {
  let peak = process.memoryUsage().rss;
  const startMb = Math.round(peak / 2 ** 20);
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const peakMb = (): number => Math.round(Math.max(peak, process.memoryUsage().rss) / 2 ** 20);
  return {
    startMb,
    peakMb,
    stop: () => {
      clearInterval(timer);
      return peakMb();
    },
  };
}
