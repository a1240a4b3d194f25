/**
 * The risk stage's configuration from the engine's (workers/config.ts): decimals become ticks,
 * percentages basis points, symbol names ids, times of day minutes. Start-up only (allocates).
 */
import { decimalToTicks, percentToBps, type EngineConfig } from '../config.ts';
import type { SymbolLimitsSeed } from './limits.ts';
import { parseTimeOfDay } from './session.ts';
import type { AccountLimits, RiskConfig } from './risk-stage.ts';

/** Slots of risk's account tables (and of the kill board): account ids index them, 0 is every account. */
export function accountSlots(config: Pick<EngineConfig, 'accounts'>): number {
  return config.accounts.reduce((m, a) => Math.max(m, a.id), 0) + 1;
}

export function riskConfigFrom(config: EngineConfig, childIdBase: number, firstOrderId = 1): RiskConfig {
  const symbolIds = new Map(config.symbols.map((s, i) => [s.name, i]));
  const accounts: (AccountLimits | null)[] = new Array<AccountLimits | null>(accountSlots(config)).fill(null);
  for (const a of config.accounts) {
    accounts[a.id] = {
      maxOrderQty: a.maxOrderQty,
      maxOrderNotionalTicks: decimalToTicks(a.maxOrderNotional),
      enabled: a.enabled,
      creditLimitTicks: decimalToTicks(a.creditLimit ?? '0'),
      maxPosition: a.maxPosition ?? 0,
      ordersPerS: a.ordersPerS ?? 1,
      orderBurst: a.orderBurst ?? 1,
      msgsPerS: a.msgsPerS ?? 1,
      msgBurst: a.msgBurst ?? 1,
      allowShort: a.allowShort ?? false,
      duplicateWindowMs: a.duplicateWindowMs ?? 0,
      restrictedSymbols: (a.restrictedSymbols ?? []).map((name) => {
        const id = symbolIds.get(name);
        if (id === undefined) throw new Error(`Condition failed: restricted symbol ${name} is configured`);
        return id;
      }),
    };
  }
  const symbolLimits: SymbolLimitsSeed[] = config.symbols.map((s) => ({
    priceBandBps: percentToBps(s.priceBandPct ?? '0'),
    priceBandOutsideBps: percentToBps(s.priceBandOutsidePct ?? '0'),
    noShort: s.noShort ?? false,
    restricted: s.restricted ?? false,
  }));
  return {
    orderCapacity: config.orderCapacity,
    childCapacity: config.childCapacity,
    firstOrderId,
    childIdBase,
    accounts,
    referencePriceTicks: config.symbols.map((s) => decimalToTicks(s.referencePrice)),
    symbolLimits,
    session: {
      utcOffsetMinutes: config.session.utcOffsetMinutes,
      openMinute: parseTimeOfDay(config.session.open),
      closeMinute: parseTimeOfDay(config.session.close),
      expireDayOrders: config.session.expireDayOrders,
    },
    quoteFreshMs: config.risk.quoteFreshMs,
    markIntervalMs: config.risk.markIntervalMs,
  };
}
