/**
 * Positions per (account, symbol), updated from fills by the risk stage (their single writer),
 * by the average-cost method:
 *
 *   - a fill in the direction of the position (or from flat) adds its quantity and its cost;
 *   - a fill against the position closes min(fill, |position|) shares: the closed shares take
 *     their share of the cost away, and realized P&L grows by (fill price - average cost) per
 *     share closed (sign flipped for a short); the rest of the fill, if any, opens a new
 *     position on the other side at the fill price.
 *
 * Quantities are integer shares and money is integer ticks (price ticks x shares), held in
 * Float64Arrays as exact integers (to 2^53 ticks: 9e9 currency units at 1e-6 ticks, per account
 * and symbol). The one division, the cost of the shares closed, is rounded to the nearest tick,
 * so cost and realized P&L stay integers and their sum is conserved exactly.
 */
import { averagePriceTicks } from '../../engine/fixed-point.ts';
import type { SnapshotArray, SnapshotReader, SnapshotWriter } from '../../persistence/snapshot.ts';

export class PositionBook {
  readonly symbolCount: number;
  /** Signed net quantity: positive long, negative short. */
  readonly qty: Float64Array;
  /** Cost of the open quantity, ticks, >= 0. */
  readonly costTicks: Float64Array;
  /** Realized P&L, ticks (signed). */
  readonly realizedTicks: Float64Array;

  constructor(accountSlots: number, symbolCount: number) {
    this.symbolCount = symbolCount;
    const cells = accountSlots * symbolCount;
    this.qty = new Float64Array(cells);
    this.costTicks = new Float64Array(cells);
    this.realizedTicks = new Float64Array(cells);
  }

  cell(accountId: number, symbolId: number): number {
    return accountId * this.symbolCount + symbolId;
  }

  /** Applies one fill of `signedQty` shares (positive buys, negative sells) at pxTicks; returns the cell. */
  applyFill(accountId: number, symbolId: number, signedQty: number, pxTicks: number): number {
    const cell = accountId * this.symbolCount + symbolId;
    const held = this.qty[cell];
    if (held === 0 || (held > 0) === (signedQty > 0)) {
      this.qty[cell] = held + signedQty;
      this.costTicks[cell] += Math.abs(signedQty) * pxTicks;
      return cell;
    }
    const heldAbs = Math.abs(held);
    const fillAbs = Math.abs(signedQty);
    const closed = fillAbs < heldAbs ? fillAbs : heldAbs;
    const closedCost = closed === heldAbs ? this.costTicks[cell] : Math.round((this.costTicks[cell] * closed) / heldAbs);
    const proceeds = closed * pxTicks;
    // Long: sold above cost is a gain. Short: bought back below the sale proceeds is a gain.
    this.realizedTicks[cell] += held > 0 ? proceeds - closedCost : closedCost - proceeds;
    this.costTicks[cell] -= closedCost;
    this.qty[cell] = held + signedQty;
    const opened = fillAbs - closed;
    if (opened > 0) this.costTicks[cell] = opened * pxTicks;
    return cell;
  }

  /** Average cost of the open quantity in ticks (rounded), 0 when flat. */
  avgCostTicks(cell: number): number {
    return averagePriceTicks(this.costTicks[cell], this.qty[cell]);
  }

  /** The book's arrays with their snapshot tags, in snapshot order (one list for both directions). */
  private snapshotArrays(): [string, SnapshotArray][] {
    return [['positions.qty', this.qty], ['positions.costTicks', this.costTicks], ['positions.realizedTicks', this.realizedTicks]];
  }

  /** Every cell into a recovery snapshot (persistence/snapshot.ts; start-up only). */
  snapshot(w: SnapshotWriter): void {
    for (const [tag, a] of this.snapshotArrays()) w.array(tag, a);
  }

  /** Replaces every cell with a snapshot's (of a book of this size: arrayInto checks). */
  restore(r: SnapshotReader): void {
    for (const [tag, a] of this.snapshotArrays()) r.arrayInto(tag, a);
  }
}
