/**
 * Goal: venue ids need not be 1..n. Config allows any unique ids in 1..64; the ingest thread must
 * name venues by id (reports) and size its route-audit records as the SOR writes them (from the
 * largest id), or reports name the wrong venue and every route audit is dropped. Method: the real
 * stack with one venue, V3, whose id is 3 (at position 1 in the list): a marketable IOC can only
 * fill there. No timing is asserted: every wait polls with a timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from './config.ts';
import { stagesInDutyOrder, threadGroups, type StageName } from './topology.ts';
import { startTestStack, waitFor, type TestStack } from './test-stack.fixture.ts';
import { connect } from './ws-client.fixture.ts';

let t0: TestStack;
let base: string;
const KEY1 = 'demo-key-trader1';
const headers = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

async function health(): Promise<{ stages: Record<string, { counters: Record<string, number> }> }> {
  return (await (await fetch(`http://${base}/health`)).json()) as { stages: Record<string, { counters: Record<string, number> }> };
}

beforeAll(async () => {
  const v3 = DEFAULT_CONFIG.venues.find((v) => v.id === 3)!;
  t0 = await startTestStack({ venues: [v3] }, 13);
  base = t0.base;
}, 60_000);

afterAll(async () => {
  await t0?.cleanup();
});

describe('venue ids that are not 1..n', () => {
  it('reports name the venue by id 3, and the route audit of its order is readable', async () => {
    expect(t0.config.venues.map((v) => [v.id, v.name])).toEqual([[3, 'V3']]);
    const symbols = t0.config.symbols.length;
    await waitFor('quotes from the venue', async () => {
      const h = await health();
      return h.stages.sor.counters.QUOTES >= symbols;
    });
    const t = await connect(`ws://${base}/v1/ws?token=${KEY1}`);
    // A marketable IOC still misses when the simulated market maker moves its quote on every
    // try (sor.maxSteps of them): send another, up to 5 orders, until one fills.
    let ack: Record<string, any> = {};
    let fills: Record<string, any>[] = [];
    for (let i = 1; i <= 5 && fills.length === 0; i++) {
      const clOrdId = `ids-${i}`;
      t.send({ type: 'new', clOrdId, symbol: 'AAPL', side: 'BUY', qty: 50, price: '195', ordType: 'LIMIT', tif: 'IOC' });
      ack = await t.next((m) => m.clOrdId === clOrdId && m.type === 'ack');
      // Every report up to the IOC's end (filled, or canceled for its rest).
      const reports = [ack];
      while (reports[reports.length - 1].status !== 'FILLED' && reports[reports.length - 1].status !== 'CANCELED') {
        reports.push(await t.next((m) => m.clOrdId === clOrdId, 20_000));
      }
      fills = reports.filter((m) => m.lastQty !== undefined);
    }
    expect(fills.length).toBeGreaterThan(0);
    for (const f of fills) expect(f.venue).toBe('V3');
    const route = await waitFor('the route audit', async () => {
      const r = await fetch(`http://${base}/v1/orders/${ack.orderId}/route`, { headers: headers(KEY1) });
      return r.status === 200 ? ((await r.json()) as Record<string, any>) : undefined;
    });
    const d = route.decisions[0];
    // One entry per id 1..3; ids 1 and 2 have no venue (codecs/route-audit-json.ts names them by number).
    expect(d.venues).toHaveLength(3);
    expect(d.venues[2]).toMatchObject({ venue: 'V3', eligible: true });
    expect(d.chosenRoutes.map((c: any) => c.venue)).toEqual(['V3']);
    t.ws.close();
  }, 60_000);

  it('/health publishes each stage\'s WORK_CYCLES and PARKS (idle.kind park, the default)', async () => {
    expect(t0.config.idle.kind).toBe('park');
    // Every stage counts its work cycles; a thread's parks are counted on its first stage in duty
    // order (one stage per thread in dedicated threading, the default).
    const threads = threadGroups(t0.config.threading).filter((g) => !g.includes('persistence'));
    const parksOf = (g: readonly StageName[]): StageName => stagesInDutyOrder(g)[0];
    await waitFor('work cycles in every stage and parks in each stage thread', async () => {
      const h = await health();
      return threads.every((g) => h.stages[parksOf(g)].counters.PARKS > 0 && g.every((s) => h.stages[s].counters.WORK_CYCLES > 0));
    });
  }, 60_000);
});
