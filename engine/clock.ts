/**
 * Time, read only through a Clock so the deterministic simulation can substitute its own.
 *
 * Engine time is nanoseconds since a process-wide epoch chosen by the supervisor (its
 * performance.timeOrigin), as a float64. Each worker has its own performance.timeOrigin, so it
 * adds the difference once at start-up: timestamps taken on different threads are comparable,
 * which is what ingest -> routing-decision latency needs. performance.now() allocates nothing.
 */
export interface Clock {
  /** Monotonic engine time in nanoseconds. */
  nowNs(): number;
  /** Wall-clock milliseconds since the Unix epoch (FIX SendingTime, expiry, logs). */
  epochMs(): number;
}

export class SystemClock implements Clock {
  /** Milliseconds from the engine epoch to this thread's performance.timeOrigin. */
  private readonly offsetMs: number;

  constructor(engineEpochMs: number) {
    this.offsetMs = performance.timeOrigin - engineEpochMs;
  }

  nowNs(): number {
    return Math.round((this.offsetMs + performance.now()) * 1e6);
  }

  epochMs(): number {
    return Date.now();
  }
}

/** A clock that moves only when told to: for the simulator and tests. */
export class ManualClock implements Clock {
  private ns: number;
  private readonly epochBaseMs: number;

  constructor(startNs: number, epochBaseMs: number) {
    this.ns = startNs;
    this.epochBaseMs = epochBaseMs;
  }

  nowNs(): number {
    return this.ns;
  }

  epochMs(): number {
    return this.epochBaseMs + Math.floor(this.ns / 1e6);
  }

  advanceNs(deltaNs: number): void {
    if (!(deltaNs >= 0)) throw new Error('Condition failed: time only moves forward');
    this.ns += deltaNs;
  }
}
