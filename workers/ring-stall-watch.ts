/**
 * Rings whose consumer has stopped: records wait and the consumer's position has not moved for
 * `stallMs`. A stage can beat its heartbeat and still take nothing from a ring (it waits for
 * room downstream, or for a journal gate), so heartbeats alone do not show an engine that holds
 * accepted orders without answering them; /health reports such rings and is then not ok.
 *
 * Read on demand (each /health), not sampled: a ring is seen stalled once two reads at least
 * stallMs apart found records waiting and the same consumer position, with no read between them
 * that found it moved or empty. The position counts bytes consumed (modulo 2^32), so any record
 * taken in between moves it.
 */
import type { RingPositions } from '../engine/ring.ts';

export class RingStallWatch {
  private readonly names: readonly string[];
  private readonly positions: readonly RingPositions[];
  private readonly stallMs: number;
  /** Per ring: the consumer position last seen. */
  private readonly lastHead: Float64Array;
  /** Per ring: since when (ms) its position has not moved with records waiting; -1 while empty (or not yet read). */
  private readonly sinceMs: Float64Array;

  /** rings: each ring's positions by name (workers/topology.ts RingDepths has them built once). */
  constructor(rings: Readonly<Record<string, RingPositions>>, stallMs: number) {
    if (!(stallMs > 0)) throw new Error('Condition failed: stallMs > 0');
    this.names = Object.keys(rings);
    this.positions = this.names.map((n) => rings[n]);
    this.stallMs = stallMs;
    this.lastHead = new Float64Array(this.names.length);
    this.sinceMs = new Float64Array(this.names.length).fill(-1);
  }

  /** The rings stalled as of nowMs (each with how long, ms), in the order given. */
  check(nowMs: number): { ring: string; stalledMs: number; depthBytes: number }[] {
    const out: { ring: string; stalledMs: number; depthBytes: number }[] = [];
    for (let i = 0; i < this.names.length; i++) {
      const head = this.positions[i].head();
      const depth = this.positions[i].depthBytes(head);
      if (depth === 0 || head !== this.lastHead[i] || this.sinceMs[i] < 0) {
        this.lastHead[i] = head;
        this.sinceMs[i] = depth === 0 ? -1 : nowMs;
        continue;
      }
      const stalledMs = nowMs - this.sinceMs[i];
      if (stalledMs >= this.stallMs) out.push({ ring: this.names[i], stalledMs: Math.round(stalledMs), depthBytes: depth });
    }
    return out;
  }
}
