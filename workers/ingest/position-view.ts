/**
 * The edge's copy of each account's positions, from the POSITION records risk sends after every
 * fill and whenever the mark of an open position moves (risk re-marks at its markIntervalMs):
 * the source of position updates pushed to subscribers and of position snapshots (GET
 * /v1/positions). Each carries the mark price (risk's reference price: NBBO midpoint, last
 * trade or previous close) and the unrealized P&L at it, as decimal strings like the others.
 * Allocates (edge only).
 */
import type { PositionFlyweight } from '../../codecs/records.ts';
import { averagePriceTicks, ticksToDecimalString } from '../../engine/fixed-point.ts';
import type { PositionMessage } from './messages.ts';

/** A position message with its mark: the extra keys travel in JSON (FlatBuffers frames omit them). */
export interface MarkedPositionMessage extends PositionMessage {
  /** Price the position is marked at; null when risk had none. */
  markPx: string | null;
  /** P&L of the open quantity at markPx, currency units. */
  unrealizedPnl: string;
}

export class PositionView {
  private readonly symbols: string[];
  private readonly accounts = new Map<number, Map<number, MarkedPositionMessage>>();

  constructor(symbols: string[]) {
    this.symbols = symbols;
  }

  /** Records a position record; returns the message to push. */
  update(p: PositionFlyweight): MarkedPositionMessage {
    const qty = p.qty();
    const mark = p.markTicks();
    const msg: MarkedPositionMessage = {
      type: 'position',
      symbol: this.symbols[p.symbolId()] ?? String(p.symbolId()),
      qty,
      avgPx: qty === 0 ? null : ticksToDecimalString(averagePriceTicks(p.costTicks(), qty)),
      realizedPnl: ticksToDecimalString(p.realizedTicks()),
      eventSeq: p.eventSeq(),
      markPx: mark > 0 ? ticksToDecimalString(mark) : null,
      unrealizedPnl: ticksToDecimalString(p.unrealizedTicks()),
    };
    let a = this.accounts.get(p.accountId());
    if (a === undefined) {
      a = new Map();
      this.accounts.set(p.accountId(), a);
    }
    a.set(p.symbolId(), msg);
    return msg;
  }

  snapshot(accountId: number): MarkedPositionMessage[] {
    const a = this.accounts.get(accountId);
    return a === undefined ? [] : [...a.values()];
  }
}
