/**
 * What each account has at stake beyond its filled position, kept incrementally by the risk stage
 * (the single writer) so a pre-trade check reads a few numbers instead of scanning orders:
 *
 *   - per order slot, the quantity and price the order reserves (resQty, resPx): the open (leaves)
 *     quantity under its terms; while a replace is pending, the larger of the old and the new
 *     leaves at the higher of the two prices, since either may still trade;
 *   - per (account, symbol) cell, open BUY and open SELL quantity (sums of resQty);
 *   - per account, open BUY notional (sum of resQty * resPx over BUY orders) and the cost of the
 *     account's long positions (sum of PositionBook.costTicks over cells with qty > 0).
 *
 * Credit used = open BUY notional + cost of long positions. Sells (and short positions) use no
 * credit: short selling is governed by the short-sale check and the position limit instead.
 * A market order reserves at the reference price of its acceptance.
 */
import { Side } from '../../engine/domain.ts';
import type { SnapshotReader, SnapshotWriter } from '../../persistence/snapshot.ts';

export class Exposure {
  readonly symbolCount: number;
  readonly resQty: Float64Array;
  readonly resPx: Float64Array;
  readonly openBuyQty: Float64Array;
  readonly openSellQty: Float64Array;
  readonly openBuyNotional: Float64Array;
  readonly longCost: Float64Array;

  constructor(orderSlots: number, accountSlots: number, symbolCount: number) {
    this.symbolCount = symbolCount;
    this.resQty = new Float64Array(orderSlots);
    this.resPx = new Float64Array(orderSlots);
    this.openBuyQty = new Float64Array(accountSlots * symbolCount);
    this.openSellQty = new Float64Array(accountSlots * symbolCount);
    this.openBuyNotional = new Float64Array(accountSlots);
    this.longCost = new Float64Array(accountSlots);
  }

  /** Sets the reservation of the order in slot (0 qty releases it). */
  reserve(slot: number, accountId: number, symbolId: number, side: number, qty: number, px: number): void {
    const cell = accountId * this.symbolCount + symbolId;
    const oldQty = this.resQty[slot];
    if (side === Side.BUY) {
      this.openBuyQty[cell] += qty - oldQty;
      this.openBuyNotional[accountId] += qty * px - oldQty * this.resPx[slot];
    } else {
      this.openSellQty[cell] += qty - oldQty;
    }
    this.resQty[slot] = qty;
    this.resPx[slot] = qty === 0 ? 0 : px;
  }

  /** A position's cost changed: keep the account's long cost in step. */
  onPosition(accountId: number, qtyBefore: number, costBefore: number, qtyAfter: number, costAfter: number): void {
    this.longCost[accountId] += (qtyAfter > 0 ? costAfter : 0) - (qtyBefore > 0 ? costBefore : 0);
  }

  creditUsed(accountId: number): number {
    return this.openBuyNotional[accountId] + this.longCost[accountId];
  }

  /**
   * What a journal's replay builds here into a recovery snapshot (persistence/snapshot.ts;
   * start-up only): the accounts' long cost, which follows the fills (onPosition). Not the
   * reservations and their sums: recovery sets those from the recovered orders after the replay
   * (RiskStage.finishRecovery), so they are still empty when the snapshot is taken.
   */
  snapshot(w: SnapshotWriter): void {
    w.array('exposure.longCost', this.longCost);
  }

  /** Replaces the long cost with a snapshot's (the reservations are left to finishRecovery). */
  restore(r: SnapshotReader): void {
    r.arrayInto('exposure.longCost', this.longCost);
  }
}
