/**
 * How often the engine's threads went to sleep over a measured window, per order: each stage's
 * PARKS counter (engine/counters.ts CommonCounter) read from the engine's GET /health at the
 * window's start and end. Every park is a sleep and a wake-up (a doorbell's notify, a socket, or
 * the idle.maxSleepMs bound), so parks per order counts the thread hand-offs an order costs; with
 * the engine's CPU per order it says what each costs on the machine at hand (docs/TUNING.md).
 * A stage sharing a thread (threading shared or paired) counts nothing: the thread's parks are on
 * its leading stage, so the sum over stages is the process's parks either way.
 *
 * Bench-side only; allocates freely.
 */

/** Each stage's PARKS counter, by stage name. */
export type StageParks = Record<string, number>;

/** Reads every stage's PARKS from /health on `port` (the engine's HTTP port). */
export async function readParks(port: number): Promise<StageParks> {
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  // /health answers 503 with the same document when the engine is not ok: the counters still count.
  const doc = (await res.json()) as { stages?: Record<string, { counters?: Record<string, unknown> }> };
  if (doc.stages === undefined) throw new Error(`/health on port ${port} has no stages (HTTP ${res.status})`);
  const out: StageParks = {};
  for (const [stage, s] of Object.entries(doc.stages)) {
    const parks = s.counters?.PARKS;
    if (typeof parks !== 'number') throw new Error(`/health on port ${port}: stage ${stage} has no PARKS counter`);
    out[stage] = parks;
  }
  return out;
}

export interface ParksPerOrder {
  /** All stages' parks over the window, divided by the orders measured in it. */
  perOrder: number;
  /** The same, by stage (a stage sharing a thread it does not lead: 0). */
  byStage: StageParks;
}

/** The parks between two reads, per order, rounded to 0.01. */
export function parksPerOrder(before: StageParks, after: StageParks, orders: number): ParksPerOrder {
  if (!(orders > 0)) throw new Error(`Condition failed: orders ${orders} > 0`);
  const round = (v: number): number => Math.round(v * 100) / 100;
  const byStage: StageParks = {};
  let total = 0;
  for (const [stage, end] of Object.entries(after)) {
    const delta = end - (before[stage] ?? 0);
    if (delta < 0) throw new Error(`Condition failed: stage ${stage} PARKS went back (${before[stage]} -> ${end})`);
    byStage[stage] = round(delta / orders);
    total += delta;
  }
  return { perOrder: round(total / orders), byStage };
}

/**
 * A window over one trial: start() and end() take a reading (from timer callbacks: each read is
 * a request in flight, awaited by result()). A failed reading leaves the figure null, with the
 * reason kept, rather than failing the trial's latencies.
 */
export class ParksWindow {
  private readonly port: number;
  private before: Promise<StageParks> | null = null;
  private after: Promise<StageParks> | null = null;

  constructor(port: number) {
    this.port = port;
  }

  start(): void {
    this.before = readParks(this.port);
    this.before.catch(() => {}); // reported by result()
  }

  end(): void {
    if (this.before === null || this.after !== null) return;
    this.after = readParks(this.port);
    this.after.catch(() => {});
  }

  /** Parks per order over the window, or null (with why) when it was not read at both ends. */
  async result(orders: number): Promise<{ parks: ParksPerOrder | null; problem: string | null }> {
    if (this.before === null || this.after === null) return { parks: null, problem: 'window not read at both ends' };
    try {
      return { parks: parksPerOrder(await this.before, await this.after, orders), problem: null };
    } catch (err) {
      return { parks: null, problem: (err as Error).message };
    }
  }
}
