/**
 * The spool's writer thread (ThreadedSpoolWriter of @callscope/pcap-store): bundled beside main.js
 * as spool-writer.worker.js by scripts/build-app.mjs, started by the spool when `spool.writerThread`
 * is on.
 */
import { runSpoolWorker } from '@callscope/pcap-store';

runSpoolWorker();
