/**
 * Pre-trade limits as the admin API sees them (GET /v1/admin/limits, GET and POST
 * /v1/admin/limits/{account}). A POST is validated here (and each value again in risk), given the
 * next version, and sent as RISK_LIMIT records (one per key and symbol) through the ring to risk,
 * which journals each with the admin's account and the version and applies it from the next
 * order. The edge keeps the limits in force (seeded from the same config as risk) and the recent
 * changes with who made them, for GET. Allocates (admin path, not the order path).
 *
 * POST body (every key optional; what is given replaces the value in force):
 *   {"maxOrderQty":1000, "maxOrderNotional":"250000", "creditLimit":"1000000",
 *    "maxPosition":5000, "ordersPerS":50, "orderBurst":100, "msgsPerS":200, "msgBurst":400,
 *    "allowShort":false, "duplicateWindowMs":1000,
 *    "symbols":{"AAPL":{"maxPosition":2000,"restricted":false,"noShort":true,
 *                       "priceBandPct":"5","priceBandOutsidePct":"10"}}}
 * Money is a decimal string in currency units (at most 6 decimals), bands a percentage string
 * with at most 2 decimals (0 = no collar), the rest whole numbers or booleans. maxPosition at the
 * top level sets every symbol's limit.
 */
import { ALL_SYMBOLS, LimitKey } from '../../codecs/records.ts';
import { INVALID, ticksToDecimalString } from '../../engine/fixed-point.ts';
import { Reason } from '../../engine/reasons.ts';
import { ACCOUNT_LIMIT_DEFAULTS, DECIMAL, PERCENT, decimalToTicks, percentToBps, type AccountConfig, type SymbolConfig } from '../config.ts';
import { limitValueValid } from '../risk/limits.ts';

/** One RISK_LIMIT record to send. */
export interface LimitChange {
  key: number;
  symbolId: number;
  value: number;
}

export interface SymbolLimitsView {
  maxPosition: number;
  restricted: boolean;
  noShort: boolean;
  priceBandPct: string;
  priceBandOutsidePct: string;
}

export interface AccountLimitsView {
  account: string;
  accountId: number;
  maxOrderQty: number;
  maxOrderNotional: string;
  creditLimit: string;
  ordersPerS: number;
  orderBurst: number;
  msgsPerS: number;
  msgBurst: number;
  allowShort: boolean;
  duplicateWindowMs: number;
  symbols: Record<string, SymbolLimitsView>;
}

export interface LimitsChangeRecord {
  version: number;
  account: string;
  accountId: number;
  /** The body as applied (after validation). */
  changes: Record<string, unknown>;
  changedBy: string;
  changedAt: string;
}

export type LimitsValidation = { ok: true; changes: LimitChange[]; applied: Record<string, unknown> } | { ok: false; reason: number; text: string };

const HISTORY = 100;
const ACCOUNT_INT_KEYS: Record<string, number> = {
  maxOrderQty: LimitKey.MAX_ORDER_QTY,
  ordersPerS: LimitKey.ORDERS_PER_S,
  orderBurst: LimitKey.ORDER_BURST,
  msgsPerS: LimitKey.MSGS_PER_S,
  msgBurst: LimitKey.MSG_BURST,
  duplicateWindowMs: LimitKey.DUPLICATE_WINDOW_MS,
};
const ACCOUNT_MONEY_KEYS: Record<string, number> = { maxOrderNotional: LimitKey.MAX_ORDER_NOTIONAL, creditLimit: LimitKey.CREDIT_LIMIT };
const SYMBOL_KEYS = new Set(['maxPosition', 'restricted', 'noShort', 'priceBandPct', 'priceBandOutsidePct']);

export class LimitsAdmin {
  private readonly views = new Map<number, AccountLimitsView>();
  private readonly idsByName = new Map<string, number>();
  private readonly symbolIds: Map<string, number>;
  private readonly symbolNames: string[];
  private readonly history: LimitsChangeRecord[] = [];
  private version = 0;

  constructor(accounts: AccountConfig[], symbols: SymbolConfig[]) {
    this.symbolNames = symbols.map((s) => s.name);
    this.symbolIds = new Map(this.symbolNames.map((n, i) => [n, i]));
    const d = ACCOUNT_LIMIT_DEFAULTS;
    for (const a of accounts) {
      const restricted = new Set(a.restrictedSymbols ?? []);
      const symbolViews: Record<string, SymbolLimitsView> = {};
      for (const s of symbols) {
        symbolViews[s.name] = {
          maxPosition: a.maxPosition ?? d.maxPosition,
          restricted: (s.restricted ?? false) || restricted.has(s.name),
          noShort: s.noShort ?? false,
          priceBandPct: s.priceBandPct ?? '0',
          priceBandOutsidePct: s.priceBandOutsidePct ?? '0',
        };
      }
      this.idsByName.set(a.name, a.id);
      this.views.set(a.id, {
        account: a.name,
        accountId: a.id,
        maxOrderQty: a.maxOrderQty,
        maxOrderNotional: a.maxOrderNotional,
        creditLimit: a.creditLimit ?? d.creditLimit,
        ordersPerS: a.ordersPerS ?? d.ordersPerS,
        orderBurst: a.orderBurst ?? d.orderBurst,
        msgsPerS: a.msgsPerS ?? d.msgsPerS,
        msgBurst: a.msgBurst ?? d.msgBurst,
        allowShort: a.allowShort ?? d.allowShort,
        duplicateWindowMs: a.duplicateWindowMs ?? d.duplicateWindowMs,
        symbols: symbolViews,
      });
    }
  }

  /** The account id named by a path segment (name or id), or 0. */
  accountId(ref: string): number {
    const byName = this.idsByName.get(ref);
    if (byName !== undefined) return byName;
    const id = /^\d{1,5}$/.test(ref) ? Number(ref) : 0;
    return this.views.has(id) ? id : 0;
  }

  view(accountId: number): AccountLimitsView | undefined {
    return this.views.get(accountId);
  }

  viewAll(): { version: number; accounts: AccountLimitsView[]; history: LimitsChangeRecord[] } {
    return { version: this.version, accounts: [...this.views.values()], history: this.history.slice().reverse() };
  }

  nextVersion(): number {
    return this.version + 1;
  }

  /** Validates a POST body into the records to send; nothing changes here until commit. */
  validate(body: unknown): LimitsValidation {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return bad(Reason.MALFORMED, 'body must be a JSON object');
    const b = body as Record<string, unknown>;
    const changes: LimitChange[] = [];
    const applied: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(b)) {
      const err = this.validateAccountKey(key, v, changes, applied);
      if (err !== null) return err;
    }
    if (changes.length === 0) return bad(Reason.MISSING_FIELD, 'no limit given');
    return { ok: true, changes, applied };
  }

  private validateAccountKey(key: string, v: unknown, changes: LimitChange[], applied: Record<string, unknown>): LimitsValidation | null {
    const field = JSON.stringify(key).slice(0, 40);
    if (key in ACCOUNT_INT_KEYS) {
      if (!isLimit(ACCOUNT_INT_KEYS[key], v)) return bad(Reason.INVALID_FIELD, `${key} must be a whole number in range`);
      changes.push({ key: ACCOUNT_INT_KEYS[key], symbolId: ALL_SYMBOLS, value: v as number });
    } else if (key in ACCOUNT_MONEY_KEYS) {
      const ticks = moneyTicks(v);
      if (ticks === INVALID || !limitValueValid(ACCOUNT_MONEY_KEYS[key], ticks)) return bad(Reason.INVALID_FIELD, `${key} must be a decimal string such as "250000.50"`);
      changes.push({ key: ACCOUNT_MONEY_KEYS[key], symbolId: ALL_SYMBOLS, value: ticks });
    } else if (key === 'allowShort') {
      if (typeof v !== 'boolean') return bad(Reason.INVALID_FIELD, 'allowShort must be true or false');
      changes.push({ key: LimitKey.ALLOW_SHORT, symbolId: ALL_SYMBOLS, value: v ? 1 : 0 });
    } else if (key === 'maxPosition') {
      if (!isLimit(LimitKey.MAX_POSITION, v)) return bad(Reason.INVALID_FIELD, 'maxPosition must be a whole number in range');
      changes.push({ key: LimitKey.MAX_POSITION, symbolId: ALL_SYMBOLS, value: v as number });
    } else if (key === 'symbols') {
      const err = this.validateSymbols(v, changes);
      if (err !== null) return err;
    } else {
      return bad(Reason.INVALID_FIELD, `unknown limit ${field}`);
    }
    applied[key] = v;
    return null;
  }

  private validateSymbols(v: unknown, changes: LimitChange[]): LimitsValidation | null {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad(Reason.INVALID_FIELD, 'symbols must be an object keyed by symbol');
    for (const [name, settings] of Object.entries(v as Record<string, unknown>)) {
      const symbolId = this.symbolIds.get(name);
      if (symbolId === undefined) return bad(Reason.UNKNOWN_SYMBOL, `unknown symbol ${JSON.stringify(name).slice(0, 40)}`);
      if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) return bad(Reason.INVALID_FIELD, `symbols.${name} must be an object`);
      for (const [key, value] of Object.entries(settings as Record<string, unknown>)) {
        if (!SYMBOL_KEYS.has(key)) return bad(Reason.INVALID_FIELD, `unknown symbol limit ${JSON.stringify(key).slice(0, 40)}`);
        if (key === 'maxPosition') {
          if (!isLimit(LimitKey.MAX_POSITION, value)) return bad(Reason.INVALID_FIELD, `symbols.${name}.maxPosition must be a whole number in range`);
          changes.push({ key: LimitKey.MAX_POSITION, symbolId, value: value as number });
        } else if (key === 'restricted' || key === 'noShort') {
          if (typeof value !== 'boolean') return bad(Reason.INVALID_FIELD, `symbols.${name}.${key} must be true or false`);
          changes.push({ key: key === 'restricted' ? LimitKey.RESTRICTED : LimitKey.NO_SHORT, symbolId, value: value ? 1 : 0 });
        } else {
          if (typeof value !== 'string' || !PERCENT.test(value) || Number(value) > 100) return bad(Reason.INVALID_FIELD, `symbols.${name}.${key} must be a percentage string such as "5" or "2.5"`);
          changes.push({ key: key === 'priceBandPct' ? LimitKey.PRICE_BAND_BPS : LimitKey.PRICE_BAND_OUTSIDE_BPS, symbolId, value: percentToBps(value) });
        }
      }
    }
    return null;
  }

  /** Records a change that was written to risk; returns the record of it. */
  commit(accountId: number, changes: LimitChange[], applied: Record<string, unknown>, changedBy: string): LimitsChangeRecord {
    const view = this.views.get(accountId);
    if (view === undefined) throw new Error('Condition failed: a known account');
    for (const c of changes) this.applyToView(view, c);
    this.version++;
    const record = { version: this.version, account: view.account, accountId, changes: applied, changedBy, changedAt: new Date().toISOString() };
    this.history.push(record);
    if (this.history.length > HISTORY) this.history.shift();
    return record;
  }

  private applyToView(view: AccountLimitsView, c: LimitChange): void {
    const names = c.symbolId === ALL_SYMBOLS ? this.symbolNames : [this.symbolNames[c.symbolId]];
    switch (c.key) {
      case LimitKey.MAX_ORDER_QTY: view.maxOrderQty = c.value; return;
      case LimitKey.MAX_ORDER_NOTIONAL: view.maxOrderNotional = ticksToDecimalString(c.value); return;
      case LimitKey.CREDIT_LIMIT: view.creditLimit = ticksToDecimalString(c.value); return;
      case LimitKey.ORDERS_PER_S: view.ordersPerS = c.value; return;
      case LimitKey.ORDER_BURST: view.orderBurst = c.value; return;
      case LimitKey.MSGS_PER_S: view.msgsPerS = c.value; return;
      case LimitKey.MSG_BURST: view.msgBurst = c.value; return;
      case LimitKey.ALLOW_SHORT: view.allowShort = c.value === 1; return;
      case LimitKey.DUPLICATE_WINDOW_MS: view.duplicateWindowMs = c.value; return;
    }
    for (const name of names) {
      const s = view.symbols[name];
      if (c.key === LimitKey.MAX_POSITION) s.maxPosition = c.value;
      else if (c.key === LimitKey.RESTRICTED) s.restricted = c.value === 1;
      else if (c.key === LimitKey.NO_SHORT) s.noShort = c.value === 1;
      else if (c.key === LimitKey.PRICE_BAND_BPS) s.priceBandPct = bpsToPercent(c.value);
      else if (c.key === LimitKey.PRICE_BAND_OUTSIDE_BPS) s.priceBandOutsidePct = bpsToPercent(c.value);
    }
  }
}

function isLimit(key: number, v: unknown): boolean {
  return typeof v === 'number' && limitValueValid(key, v);
}

function moneyTicks(v: unknown): number {
  if (typeof v !== 'string' || !DECIMAL.test(v)) return INVALID;
  return decimalToTicks(v);
}

function bpsToPercent(bps: number): string {
  return ticksToDecimalString(bps * 10_000);
}

function bad(reason: number, text: string): LimitsValidation {
  return { ok: false, reason, text };
}
