/**
 * The edge's copy of each account's positions, from the POSITION records risk sends after every
 * fill: the source of position updates pushed to subscribers and of position snapshots.
 * Allocates (edge only).
 */
import type { PositionFlyweight } from '../../codecs/records.ts';
import { averagePriceTicks, ticksToDecimalString } from '../../engine/fixed-point.ts';
import type { PositionMessage } from './messages.ts';

export class PositionView {
  private readonly symbols: string[];
  private readonly accounts = new Map<number, Map<number, PositionMessage>>();

  constructor(symbols: string[]) {
    this.symbols = symbols;
  }

  /** Records a position record; returns the message to push. */
  update(p: PositionFlyweight): PositionMessage {
    const qty = p.qty();
    const msg: PositionMessage = {
      type: 'position',
      symbol: this.symbols[p.symbolId()] ?? String(p.symbolId()),
      qty,
      avgPx: qty === 0 ? null : ticksToDecimalString(averagePriceTicks(p.costTicks(), qty)),
      realizedPnl: ticksToDecimalString(p.realizedTicks()),
      eventSeq: p.eventSeq(),
    };
    let a = this.accounts.get(p.accountId());
    if (a === undefined) {
      a = new Map();
      this.accounts.set(p.accountId(), a);
    }
    a.set(p.symbolId(), msg);
    return msg;
  }

  snapshot(accountId: number): PositionMessage[] {
    const a = this.accounts.get(accountId);
    return a === undefined ? [] : [...a.values()];
  }
}
