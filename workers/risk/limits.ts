/**
 * Pre-trade limits of every account, some per symbol, in typed arrays indexed by account id and
 * by cell = accountId * symbolCount + symbolId (the PositionBook's indexing). Seeded from config
 * at start-up; changed at runtime only by RISK_LIMIT records, applied by the risk stage (their
 * single writer) between two orders, so a change holds from the next order on.
 *
 * Value conventions (all integers): money in ticks (engine/fixed-point.ts), quantities in shares,
 * bands in basis points of the reference price, rates in commands per second, flags 0/1.
 * A value of 0 turns a limit off where the key says so (bands, duplicate window); a credit or
 * position limit of 0 allows nothing.
 */
import { ALL_SYMBOLS, LimitKey } from '../../codecs/records.ts';
import { MAX_NOTIONAL_TICKS, MAX_QTY } from '../../engine/fixed-point.ts';

/** Largest band: 100 % of the reference. */
export const MAX_BAND_BPS = 10_000;
/** Largest throttle rate or burst. */
export const MAX_RATE = 10_000_000;
/** Longest duplicate window: one minute. */
export const MAX_DUPLICATE_WINDOW_MS = 60_000;

/** One account's limits as configured (workers/config.ts converts decimals to ticks). */
export interface AccountLimitsSeed {
  maxOrderQty: number;
  maxOrderNotionalTicks: number;
  creditLimitTicks: number;
  /** Default position limit of every symbol (a per-symbol seed may lower or raise it). */
  maxPosition: number;
  ordersPerS: number;
  orderBurst: number;
  msgsPerS: number;
  msgBurst: number;
  allowShort: boolean;
  duplicateWindowMs: number;
  /** Symbol ids this account may not trade. */
  restrictedSymbols: number[];
}

/** Per-symbol settings that apply to every account (each account's copy may be changed apart). */
export interface SymbolLimitsSeed {
  priceBandBps: number;
  priceBandOutsideBps: number;
  noShort: boolean;
  /** Restricted for every account. */
  restricted: boolean;
}

/** The range of each key's value, checked at the edge and again here. */
export function limitValueValid(key: number, value: number): boolean {
  if (!Number.isSafeInteger(value) || value < 0) return false;
  switch (key) {
    case LimitKey.MAX_ORDER_QTY: return value >= 1 && value <= MAX_QTY;
    case LimitKey.MAX_ORDER_NOTIONAL: return value <= MAX_NOTIONAL_TICKS;
    case LimitKey.CREDIT_LIMIT: return value <= MAX_NOTIONAL_TICKS;
    case LimitKey.MAX_POSITION: return value <= MAX_QTY * 100;
    case LimitKey.ORDERS_PER_S:
    case LimitKey.ORDER_BURST:
    case LimitKey.MSGS_PER_S:
    case LimitKey.MSG_BURST: return value >= 1 && value <= MAX_RATE;
    case LimitKey.ALLOW_SHORT:
    case LimitKey.RESTRICTED:
    case LimitKey.NO_SHORT: return value <= 1;
    case LimitKey.DUPLICATE_WINDOW_MS: return value <= MAX_DUPLICATE_WINDOW_MS;
    case LimitKey.PRICE_BAND_BPS:
    case LimitKey.PRICE_BAND_OUTSIDE_BPS: return value <= MAX_BAND_BPS;
  }
  return false;
}

/** Whether a key is set per symbol (the others are account-wide). */
export function isSymbolKey(key: number): boolean {
  return (
    key === LimitKey.MAX_POSITION ||
    key === LimitKey.RESTRICTED ||
    key === LimitKey.NO_SHORT ||
    key === LimitKey.PRICE_BAND_BPS ||
    key === LimitKey.PRICE_BAND_OUTSIDE_BPS
  );
}

export class RiskLimits {
  readonly accountSlots: number;
  readonly symbolCount: number;
  /** 1 for a configured account. */
  readonly known: Uint8Array;
  readonly enabled: Uint8Array;
  readonly maxOrderQty: Float64Array;
  readonly maxOrderNotionalTicks: Float64Array;
  readonly creditLimitTicks: Float64Array;
  readonly ordersPerS: Float64Array;
  readonly orderBurst: Float64Array;
  readonly msgsPerS: Float64Array;
  readonly msgBurst: Float64Array;
  readonly allowShort: Uint8Array;
  readonly duplicateWindowMs: Float64Array;
  /** Per cell. */
  readonly maxPosition: Float64Array;
  readonly restricted: Uint8Array;
  readonly noShort: Uint8Array;
  readonly bandBps: Float64Array;
  readonly bandOutsideBps: Float64Array;
  /** Version of the last change applied (0: as configured). */
  version: number;

  constructor(accounts: (AccountLimitsSeed & { enabled: boolean } | null)[], symbols: SymbolLimitsSeed[]) {
    if (!(symbols.length >= 1)) throw new Error('Condition failed: at least one symbol');
    const n = accounts.length;
    const cells = n * symbols.length;
    this.accountSlots = n;
    this.symbolCount = symbols.length;
    this.known = new Uint8Array(n);
    this.enabled = new Uint8Array(n);
    this.maxOrderQty = new Float64Array(n);
    this.maxOrderNotionalTicks = new Float64Array(n);
    this.creditLimitTicks = new Float64Array(n);
    this.ordersPerS = new Float64Array(n);
    this.orderBurst = new Float64Array(n);
    this.msgsPerS = new Float64Array(n);
    this.msgBurst = new Float64Array(n);
    this.allowShort = new Uint8Array(n);
    this.duplicateWindowMs = new Float64Array(n);
    this.maxPosition = new Float64Array(cells);
    this.restricted = new Uint8Array(cells);
    this.noShort = new Uint8Array(cells);
    this.bandBps = new Float64Array(cells);
    this.bandOutsideBps = new Float64Array(cells);
    this.version = 0;
    for (let a = 0; a < n; a++) {
      const seed = accounts[a];
      if (seed === null || seed === undefined) continue;
      this.seedAccount(a, seed, symbols);
    }
  }

  private seedAccount(a: number, seed: AccountLimitsSeed & { enabled: boolean }, symbols: SymbolLimitsSeed[]): void {
    this.known[a] = 1;
    this.enabled[a] = seed.enabled ? 1 : 0;
    this.maxOrderQty[a] = seed.maxOrderQty;
    this.maxOrderNotionalTicks[a] = seed.maxOrderNotionalTicks;
    this.creditLimitTicks[a] = seed.creditLimitTicks;
    this.ordersPerS[a] = seed.ordersPerS;
    this.orderBurst[a] = seed.orderBurst;
    this.msgsPerS[a] = seed.msgsPerS;
    this.msgBurst[a] = seed.msgBurst;
    this.allowShort[a] = seed.allowShort ? 1 : 0;
    this.duplicateWindowMs[a] = seed.duplicateWindowMs;
    for (let s = 0; s < symbols.length; s++) {
      const cell = a * this.symbolCount + s;
      this.maxPosition[cell] = seed.maxPosition;
      this.restricted[cell] = symbols[s].restricted ? 1 : 0;
      this.noShort[cell] = symbols[s].noShort ? 1 : 0;
      this.bandBps[cell] = symbols[s].priceBandBps;
      this.bandOutsideBps[cell] = symbols[s].priceBandOutsideBps;
    }
    for (const s of seed.restrictedSymbols) {
      if (!(s >= 0 && s < this.symbolCount)) throw new Error(`Condition failed: restricted symbol ${s} is known`);
      this.restricted[a * this.symbolCount + s] = 1;
    }
  }

  isKnown(accountId: number): boolean {
    return accountId < this.accountSlots && this.known[accountId] === 1;
  }

  /**
   * Applies one change; returns false (nothing changed) for an unknown account, key or symbol or
   * a value out of range. symbolId ALL_SYMBOLS with a per-symbol key sets every symbol.
   */
  apply(key: number, accountId: number, symbolId: number, value: number): boolean {
    if (!this.isKnown(accountId) || !limitValueValid(key, value)) return false;
    if (isSymbolKey(key)) {
      if (symbolId === ALL_SYMBOLS) {
        for (let s = 0; s < this.symbolCount; s++) this.setCell(key, accountId * this.symbolCount + s, value);
        return true;
      }
      if (!(symbolId < this.symbolCount)) return false;
      this.setCell(key, accountId * this.symbolCount + symbolId, value);
      return true;
    }
    if (symbolId !== ALL_SYMBOLS) return false;
    this.setAccount(key, accountId, value);
    return true;
  }

  private setCell(key: number, cell: number, value: number): void {
    switch (key) {
      case LimitKey.MAX_POSITION: this.maxPosition[cell] = value; return;
      case LimitKey.RESTRICTED: this.restricted[cell] = value; return;
      case LimitKey.NO_SHORT: this.noShort[cell] = value; return;
      case LimitKey.PRICE_BAND_BPS: this.bandBps[cell] = value; return;
      case LimitKey.PRICE_BAND_OUTSIDE_BPS: this.bandOutsideBps[cell] = value; return;
    }
    throw new Error(`Invariant: key ${key} is per symbol`);
  }

  private setAccount(key: number, a: number, value: number): void {
    switch (key) {
      case LimitKey.MAX_ORDER_QTY: this.maxOrderQty[a] = value; return;
      case LimitKey.MAX_ORDER_NOTIONAL: this.maxOrderNotionalTicks[a] = value; return;
      case LimitKey.CREDIT_LIMIT: this.creditLimitTicks[a] = value; return;
      case LimitKey.ORDERS_PER_S: this.ordersPerS[a] = value; return;
      case LimitKey.ORDER_BURST: this.orderBurst[a] = value; return;
      case LimitKey.MSGS_PER_S: this.msgsPerS[a] = value; return;
      case LimitKey.MSG_BURST: this.msgBurst[a] = value; return;
      case LimitKey.ALLOW_SHORT: this.allowShort[a] = value; return;
      case LimitKey.DUPLICATE_WINDOW_MS: this.duplicateWindowMs[a] = value; return;
    }
    throw new Error(`Invariant: key ${key} is account-wide`);
  }
}

/** Permissive seeds for tests and benchmarks that exercise one control at a time. */
export function openAccountSeed(maxOrderQty: number, maxOrderNotionalTicks: number): AccountLimitsSeed {
  return {
    maxOrderQty,
    maxOrderNotionalTicks,
    creditLimitTicks: MAX_NOTIONAL_TICKS,
    maxPosition: MAX_QTY * 100,
    ordersPerS: MAX_RATE,
    orderBurst: MAX_RATE,
    msgsPerS: MAX_RATE,
    msgBurst: MAX_RATE,
    allowShort: true,
    duplicateWindowMs: 0,
    restrictedSymbols: [],
  };
}

export const OPEN_SYMBOL_SEED: SymbolLimitsSeed = { priceBandBps: 0, priceBandOutsideBps: 0, noShort: false, restricted: false };
