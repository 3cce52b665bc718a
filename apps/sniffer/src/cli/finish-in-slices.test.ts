import { describe, expect, test } from 'vitest';
import { finishInSlices } from './finish-in-slices.js';

describe('finishInSlices', () => {
  test('runs slices until done, awaiting the back-pressure between them', async () => {
    let left = 3;
    const waited: number[] = [];
    await finishInSlices(
      () => --left <= 0,
      () => {
        waited.push(left);
        return left === 2 ? new Promise<void>((resolve) => setTimeout(resolve, 5)) : undefined;
      },
    );
    expect(left).toBe(0);
    expect(waited).toEqual([2, 1]);
  });

  // The defect this guards against: a back-pressure that settles without an event-loop turn (the
  // output's flush on a file) ran every slice in microtasks, so nothing waiting on the event loop
  // (the database's replies) ran until the last slice.
  test('the event loop turns between slices even when the back-pressure settles at once', async () => {
    let slices = 0;
    let eventLoopRanAfterSlice = -1;
    setImmediate(() => {
      eventLoopRanAfterSlice = slices;
    });
    await finishInSlices(
      () => ++slices >= 50,
      () => Promise.resolve(),
    );
    expect(slices).toBe(50);
    expect(eventLoopRanAfterSlice).toBe(1);
  });
});
