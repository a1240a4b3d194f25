/**
 * The engine's GET /health document, as the benchmarks read it: each stage's counters by name
 * (workers/ingest-part.ts builds it). /health answers 503 with the same document when the engine
 * is not ok; the counters still count, so the status is not checked here. A read that takes
 * longer than timeoutMs fails (a hung engine never holds a benchmark).
 */
export interface HealthDoc {
  stages?: Record<string, { counters?: Record<string, unknown> }>;
}

export async function fetchHealth(port: number, timeoutMs: number = 2000): Promise<HealthDoc> {
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(timeoutMs) });
  return (await res.json()) as HealthDoc;
}

/**
 * Two readings over a measured window: start() and end() each begin one (from timer callbacks:
 * each read is a request in flight, awaited through readings()). A read whose connection failed
 * (fetch's TypeError: refused or reset, which takes a moment, not the window) is tried once more
 * at once: the machine is loaded by the very load measured, and one dropped connection should not
 * cost a trial its figure. A read that timed out is not tried again (a second one would stand
 * seconds away from the window's edge), nor one whose document is wrong (it would be wrong
 * again). A failure is reported by readings(), never as an unhandled rejection.
 */
export class ReadingWindow<T> {
  private readonly read: () => Promise<T>;
  private before: Promise<T> | null = null;
  private after: Promise<T> | null = null;

  constructor(read: () => Promise<T>) {
    this.read = read;
  }

  start(): void {
    this.before = this.readTwice();
  }

  end(): void {
    if (this.before === null || this.after !== null) return;
    this.after = this.readTwice();
  }

  private readTwice(): Promise<T> {
    const read = this.read;
    const p = read().catch((first: unknown) => {
      if (!(first instanceof TypeError)) throw first;
      return read().catch((second: unknown) => {
        throw new Error(`${(second as Error).message} (read twice; first: ${first.message})`);
      });
    });
    p.catch(() => {}); // reported by readings()
    return p;
  }

  /** Both readings (rejecting if either read failed), or null when the window was not read at both ends. */
  readings(): Promise<[T, T]> | null {
    if (this.before === null || this.after === null) return null;
    const both = Promise.all([this.before, this.after]);
    both.catch(() => {}); // a caller that never awaits it leaves no unhandled rejection
    return both;
  }
}
