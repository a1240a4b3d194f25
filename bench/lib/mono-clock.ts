/**
 * One clock that every thread of the process reads alike: CLOCK_MONOTONIC in milliseconds, as a
 * float. performance.now() counts from each thread's own time origin, so two threads' readings
 * cannot be compared; process.hrtime() can, but allocates an array per call. Each thread that
 * loads this module measures once how far its performance.now() is from hrtime, and then reads
 * performance.now() plus that offset: comparable across threads, no allocation per reading.
 */

function measureOffsetMs(): number {
  let bestWindow = Infinity;
  let offset = 0;
  for (let i = 0; i < 9; i++) {
    const before = performance.now();
    const hr = process.hrtime();
    const after = performance.now();
    if (after - before < bestWindow) {
      bestWindow = after - before;
      offset = hr[0] * 1e3 + hr[1] / 1e6 - (before + after) / 2;
    }
  }
  return offset;
}

const OFFSET_MS = measureOffsetMs();

/** Milliseconds on the machine's monotonic clock, comparable between threads of this process. */
export function monoNowMs(): number {
  return performance.now() + OFFSET_MS;
}
