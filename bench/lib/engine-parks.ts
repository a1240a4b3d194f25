/**
 * How often the engine's stage threads parked over a measured window, per order: each stage's
 * PARKS counter (engine/counters.ts CommonCounter) read from the engine's GET /health at the
 * window's start and end. A park is almost always a sleep and a wake-up (a doorbell's notify, a
 * socket, or the idle.maxSleepMs bound; a wait that returns at once still counts), so parks per
 * order counts the thread hand-offs an order costs. A stage sharing a thread (threading shared
 * or paired) counts nothing: the thread's parks are on its leading stage, so the sum over stages
 * is every stage thread's parks either way (the main thread and the sinks thread are not
 * counted).
 *
 * Bench-side only; allocates freely.
 */
import { ReadingWindow, fetchHealth } from './engine-health.ts';
import { roundTo } from './stats.ts';

/** Each stage's PARKS counter, by stage name. */
export type StageParks = Record<string, number>;

/** Reads every stage's PARKS from /health on `port` (the engine's HTTP port). */
export async function readParks(port: number): Promise<StageParks> {
  const doc = await fetchHealth(port);
  if (doc.stages === undefined) throw new Error(`/health on port ${port} has no stages`);
  const out: StageParks = {};
  for (const [stage, s] of Object.entries(doc.stages)) {
    const parks = s.counters?.PARKS;
    if (typeof parks !== 'number') throw new Error(`/health on port ${port}: stage ${stage} has no PARKS counter`);
    out[stage] = parks;
  }
  return out;
}

export interface ParksPerOrder {
  /** All stages' parks over the window, divided by the orders offered in it. */
  perOrder: number;
  /** The same, by stage (a stage sharing a thread it does not lead: 0). */
  byStage: StageParks;
}

/** The parks between two reads, per order, rounded to 0.01. */
export function parksPerOrder(before: StageParks, after: StageParks, orders: number): ParksPerOrder {
  if (!(orders > 0)) throw new Error(`Condition failed: orders ${orders} > 0`);
  const byStage: StageParks = {};
  let total = 0;
  for (const [stage, end] of Object.entries(after)) {
    const delta = end - (before[stage] ?? 0);
    if (delta < 0) throw new Error(`Condition failed: stage ${stage} PARKS went back (${before[stage]} -> ${end})`);
    byStage[stage] = roundTo(delta / orders, 2);
    total += delta;
  }
  return { perOrder: roundTo(total / orders, 2), byStage };
}

/**
 * A window over one trial: start() and end() take a reading (engine-health.ts ReadingWindow). A
 * failed reading leaves the figure null, with the reason kept, rather than failing the trial's
 * latencies.
 */
export class ParksWindow extends ReadingWindow<StageParks> {
  constructor(port: number) {
    super(() => readParks(port));
  }

  /** Parks per order over the window, or null (with why) when it was not read at both ends or had no orders. */
  async result(orders: number): Promise<{ parks: ParksPerOrder | null; problem: string | null }> {
    const readings = this.readings();
    if (readings === null) return { parks: null, problem: 'window not read at both ends' };
    if (!(orders > 0)) return { parks: null, problem: 'no orders in the window' };
    try {
      const [before, after] = await readings;
      return { parks: parksPerOrder(before, after, orders), problem: null };
    } catch (err) {
      return { parks: null, problem: (err as Error).message };
    }
  }
}
