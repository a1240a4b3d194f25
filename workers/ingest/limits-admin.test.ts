/**
 * Goal: the pre-trade limits admin route works end to end against the running engine: it needs
 * a key (401) with the admin role (403); bad requests are 400 with a reason code and change
 * nothing; an accepted change is answered with its version and who made it, holds from the next
 * order (max quantity, restricted symbol), shows in GET, and is journaled by risk as RISK_LIMIT
 * records carrying the admin's account and the version. The body validation is also unit-tested.
 * No timing is asserted: every wait polls with a timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ALL_SYMBOLS, LimitKey, RecordType, RiskLimitFlyweight } from '../../codecs/records.ts';
import { PRICE_SCALE } from '../../engine/fixed-point.ts';
import { Reason } from '../../engine/reasons.ts';
import { listSegments, readJournal, segmentFileName } from '../../persistence/journal.ts';
import { validateConfig } from '../config.ts';
import { startTestStack, type TestStack } from '../test-stack.fixture.ts';
import { connect, type Msg } from '../ws-client.fixture.ts';
import { LimitsAdmin } from './limits-admin.ts';

const ADMIN = 'demo-key-admin';
const TRADER2 = 'demo-key-trader2';
let t0: TestStack;
let base: string;

const headers = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });
const postLimits = (account: string, body: unknown, key = ADMIN): Promise<Response> =>
  fetch(`http://${base}/v1/admin/limits/${account}`, { method: 'POST', headers: headers(key), body: typeof body === 'string' ? body : JSON.stringify(body) });
const order = (clOrdId: string, qty: number, symbol = 'MSFT'): Msg => ({ type: 'new', clOrdId, symbol, side: 'BUY', qty, price: '300', ordType: 'LIMIT', tif: 'GTC' });

/** Every RISK_LIMIT record in the journal so far. */
function journaledLimits(): { admin: number; account: number; version: number; key: number; symbol: number; value: number }[] {
  const out = [];
  const fw = new RiskLimitFlyweight();
  for (const s of listSegments(t0.journalDir)) {
    for (const f of readJournal(join(t0.journalDir, segmentFileName(s))).frames) {
      if (f.typeId !== RecordType.RISK_LIMIT) continue;
      const r = fw.wrap(new DataView(f.body.buffer, f.body.byteOffset, f.body.byteLength), f.body, 0);
      out.push({ admin: r.adminAccountId(), account: r.accountId(), version: r.version(), key: r.key(), symbol: r.symbolId(), value: r.value() });
    }
  }
  return out;
}

beforeAll(async () => {
  t0 = await startTestStack({}, 61);
  base = t0.base;
});

afterAll(async () => {
  await t0?.cleanup();
});

describe('POST /v1/admin/limits/{account} end to end', () => {
  it('needs a key (401) and the admin role (403)', async () => {
    const anonymous = await fetch(`http://${base}/v1/admin/limits/TRADER2`, { method: 'POST', body: '{"maxOrderQty":5}' });
    expect(anonymous.status).toBe(401);
    const trader = await postLimits('TRADER2', { maxOrderQty: 5 }, TRADER2);
    expect(trader.status).toBe(403);
    expect(((await trader.json()) as Msg).reasonName).toBe('FORBIDDEN');
    expect((await fetch(`http://${base}/v1/admin/limits`, { headers: headers(TRADER2) })).status).toBe(403);
  });

  it('refuses bad requests with 400/404 and a reason, changing nothing', async () => {
    const before = ((await (await fetch(`http://${base}/v1/admin/limits`, { headers: headers(ADMIN) })).json()) as { version: number }).version;
    const cases: [string, unknown, number, string][] = [
      ['TRADER2', 'not json', 400, 'MALFORMED'],
      ['TRADER2', {}, 400, 'MISSING_FIELD'],
      ['TRADER2', { maxOrderQty: 0 }, 400, 'INVALID_FIELD'],
      ['TRADER2', { maxOrderQty: 1.5 }, 400, 'INVALID_FIELD'],
      ['TRADER2', { creditLimit: 1000 }, 400, 'INVALID_FIELD'],
      ['TRADER2', { creditLimit: '-1' }, 400, 'INVALID_FIELD'],
      ['TRADER2', { panic: true }, 400, 'INVALID_FIELD'],
      ['TRADER2', { symbols: { NOPE: { restricted: true } } }, 400, 'UNKNOWN_SYMBOL'],
      ['TRADER2', { symbols: { AAPL: { priceBandPct: '101' } } }, 400, 'INVALID_FIELD'],
      ['TRADER2', { symbols: { AAPL: { noShort: 'yes' } } }, 400, 'INVALID_FIELD'],
      ['TRADER2', { maxOrderQty: 5, allowShort: 1 }, 400, 'INVALID_FIELD'],
      ['NOBODY', { maxOrderQty: 5 }, 404, 'UNKNOWN_ACCOUNT'],
    ];
    for (const [account, body, status, reason] of cases) {
      const res = await postLimits(account, body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(((await res.json()) as Msg).reasonName, JSON.stringify(body)).toBe(reason);
    }
    const after = ((await (await fetch(`http://${base}/v1/admin/limits`, { headers: headers(ADMIN) })).json()) as { version: number }).version;
    expect(after).toBe(before);
  });

  it('an accepted change holds from the next order, shows in GET, and is journaled with the admin and version', async () => {
    const t = await connect(`ws://${base}/v1/ws?token=${TRADER2}`);
    t.send(order('lim-0', 6));
    expect((await t.next((m) => m.clOrdId === 'lim-0')).type).toBe('ack');
    const res = await postLimits('TRADER2', { maxOrderQty: 5, symbols: { AAPL: { restricted: true } } });
    expect(res.status).toBe(200);
    const change = (await res.json()) as { version: number; changedBy: string; account: string; limits: { maxOrderQty: number; symbols: Record<string, { restricted: boolean }> } };
    expect(change.changedBy).toBe('OPS');
    expect(change.account).toBe('TRADER2');
    expect(change.limits.maxOrderQty).toBe(5);
    expect(change.limits.symbols.AAPL.restricted).toBe(true);
    // Same ring, written after the change: risk applies the change first.
    t.send(order('lim-1', 6));
    const refused = await t.next((m) => m.clOrdId === 'lim-1');
    expect([refused.type, refused.reason, refused.reasonName]).toEqual(['reject', Reason.MAX_QTY_EXCEEDED, 'MAX_QTY_EXCEEDED']);
    t.send(order('lim-2', 5));
    expect((await t.next((m) => m.clOrdId === 'lim-2')).type).toBe('ack');
    t.send(order('lim-3', 5, 'AAPL'));
    expect((await t.next((m) => m.clOrdId === 'lim-3')).reasonName).toBe('SYMBOL_RESTRICTED');
    const view = (await (await fetch(`http://${base}/v1/admin/limits/TRADER2`, { headers: headers(ADMIN) })).json()) as { maxOrderQty: number };
    expect(view.maxOrderQty).toBe(5);
    const all = (await (await fetch(`http://${base}/v1/admin/limits`, { headers: headers(ADMIN) })).json()) as { history: { version: number; changedBy: string }[] };
    expect(all.history[0]).toMatchObject({ version: change.version, changedBy: 'OPS' });
    let records = journaledLimits();
    for (const end = Date.now() + 30_000; Date.now() < end && records.length < 2;) {
      await new Promise((r) => setTimeout(r, 25));
      records = journaledLimits();
    }
    const aapl = t0.config.symbols.findIndex((s) => s.name === 'AAPL');
    expect(records).toEqual([
      { admin: 3, account: 2, version: change.version, key: LimitKey.MAX_ORDER_QTY, symbol: ALL_SYMBOLS, value: 5 },
      { admin: 3, account: 2, version: change.version, key: LimitKey.RESTRICTED, symbol: aapl, value: 1 },
    ]);
    t.ws.close();
  });
});

describe('LimitsAdmin.validate', () => {
  const config = validateConfig({});
  const admin = new LimitsAdmin(config.accounts, config.symbols);

  it('turns a body into one record per key and symbol, money in ticks and bands in basis points', () => {
    const v = admin.validate({
      creditLimit: '1000.5', maxPosition: 10, allowShort: false, duplicateWindowMs: 1000,
      symbols: { MSFT: { priceBandPct: '2.5', priceBandOutsidePct: '10', noShort: true, maxPosition: 3 } },
    });
    if (!v.ok) throw new Error(v.text);
    expect(v.changes).toEqual([
      { key: LimitKey.CREDIT_LIMIT, symbolId: ALL_SYMBOLS, value: 1000.5 * PRICE_SCALE },
      { key: LimitKey.MAX_POSITION, symbolId: ALL_SYMBOLS, value: 10 },
      { key: LimitKey.ALLOW_SHORT, symbolId: ALL_SYMBOLS, value: 0 },
      { key: LimitKey.DUPLICATE_WINDOW_MS, symbolId: ALL_SYMBOLS, value: 1000 },
      { key: LimitKey.PRICE_BAND_BPS, symbolId: 1, value: 250 },
      { key: LimitKey.PRICE_BAND_OUTSIDE_BPS, symbolId: 1, value: 1000 },
      { key: LimitKey.NO_SHORT, symbolId: 1, value: 1 },
      { key: LimitKey.MAX_POSITION, symbolId: 1, value: 3 },
    ]);
    const record = admin.commit(1, v.changes, v.applied, 'OPS');
    expect(record.version).toBe(1);
    const view = admin.view(1)!;
    expect([view.creditLimit, view.allowShort, view.symbols.MSFT.priceBandPct, view.symbols.MSFT.maxPosition, view.symbols.AAPL.maxPosition]).toEqual(['1000.5', false, '2.5', 3, 10]);
  });

  it('names accounts by name or id', () => {
    expect(admin.accountId('TRADER1')).toBe(1);
    expect(admin.accountId('2')).toBe(2);
    expect(admin.accountId('99')).toBe(0);
    expect(admin.accountId('')).toBe(0);
  });
});
