import { setImmediate as yieldToIo } from 'node:timers/promises';

/**
 * Runs `finishSome` (the pipeline closing a slice of the calls still open at the end of the input)
 * until it reports done, waiting between slices for the back-pressure it is given (a database or
 * spool that needs a pause, buffered output to write) and then for one turn of the event loop.
 *
 * Why the turn: the waits can settle without one. The output's flush resolves on the next tick when
 * stdout is a file, so the next slice often ran without a turn, and the database's replies (which
 * need the event loop) were read at most once per slice: a batch advanced about one of its ~11
 * round trips per slice of 500 calls, and the first INSERT went out 0.45-0.9 s after the last
 * packet (10,000 open calls). With the turn it goes out ~0.2 s after, while later slices are built.
 * (On a two-core machine the phase took as long: it is CPU-bound there; libs/pcap-store/README.md.)
 */
export async function finishInSlices(finishSome: () => boolean, backPressure: () => Promise<void> | undefined): Promise<void> {
  while (!finishSome()) {
    const wait = backPressure();
    if (wait !== undefined) await wait;
    await yieldToIo();
  }
}
