/**
 * Goal: a risk stage recovered from a snapshot and the journal after it (workers/risk/recovery.ts,
 * persistence/snapshot.ts) is the stage a replay of the whole journal builds, bit for bit: its
 * tables, the child table's base, the recovery's result, what its resume pass sends and what it
 * does with the commands after; a snapshot that does not hold is passed over for a full replay.
 * Method: journals of several boots, each boot as the engine runs it: a new JournalWriter on the
 * same directory (a new segment), the stage recovered with a SnapshotStore (which saves the
 * snapshot of that boundary), its resume pass, then random commands, children, fills, limit and
 * kill-switch changes, routing audits of children in flight and SOR configurations, the boot's
 * last step sometimes cut short by a crash. Child ids are issued as in production (a
 * clock-derived base per boot, nextChildIdBase), so a wrong child table base would move every
 * child's slot. At the end the whole journal is recovered without a store and from the newest
 * snapshot, under limit seeds changed since (the snapshot must not freeze them), and compared.
 */
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { AccountMode, ALL_SYMBOLS, ChildOrderFlyweight, ExecReportFlyweight, LimitKey, RecordType, RouteRequestFlyweight, SOR_CONFIG_LENGTH } from '../../codecs/records.ts';
import { OrdType, Side } from '../../engine/domain.ts';
import { isTerminal } from '../../engine/order-state.ts';
import type { RecordHandler, RingConsumer } from '../../engine/ring.ts';
import { JournalWriter, SEGMENT_HEADER_LENGTH, listSegments, segmentFileName } from '../../persistence/journal.ts';
import { replayJournal } from '../../persistence/journal-reader.ts';
import { SnapshotStore, SnapshotWriter, decodeSnapshot, encodeSnapshot } from '../../persistence/snapshot.ts';
import { auditFrame } from '../sor/audit-children.fixture.ts';
import { Harness, SCALE, defaultConfig } from './risk-harness.fixture.ts';
import { RISK_SNAPSHOT, nextChildIdBase, recoverRisk, recoverRiskStage, recoveredRiskConfig, scanJournalBounds, startRiskRecovery, type RecoveryResult } from './recovery.ts';
import type { RiskConfig, RiskStage } from './risk-stage.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const FINGERPRINT = 'risk snapshot tests';
const EPOCH_MS = 1_700_000_000_000;
/** Each boot's clock-derived child id base is this many times its number (above every earlier id). */
const CHILD_BASE_STEP = 1_000_000;

// ---------------------------------------------------------------------------------------------
// Outputs, raw: every record the stage wrote to each outbound ring.
// ---------------------------------------------------------------------------------------------

interface Rec { typeId: number; raw: Uint8Array }
interface Out { ingest: Rec[]; fixClients: Rec[]; sor: Rec[]; journal: Rec[] }

class RawCollector implements RecordHandler {
  readonly items: Rec[] = [];
  private readonly consumer: RingConsumer;
  constructor(consumer: RingConsumer) { this.consumer = consumer; }
  onRecord(typeId: number, offset: number, length: number): void {
    this.items.push({ typeId, raw: this.consumer.bytes.slice(offset, offset + length) });
  }
}

function poll(c: RingConsumer): Rec[] {
  const h = new RawCollector(c);
  c.poll(h, 1 << 20);
  return h.items;
}

/** What the stage wrote since the last drain (the SOR's ring read raw: the resume pass forwards SOR_CONFIG there). */
function drain(h: Harness): Out {
  return { ingest: poll(h.outIngest), fixClients: poll(h.outFixClients), sor: poll(h.outSor), journal: poll(h.outPersist) };
}

function runAndDrain(h: Harness): Out {
  h.run();
  return drain(h);
}

const routeRequest = new RouteRequestFlyweight();
const childOrder = new ChildOrderFlyweight();
const viewOf = (raw: Uint8Array): DataView => new DataView(raw.buffer, raw.byteOffset, raw.byteLength);

// ---------------------------------------------------------------------------------------------
// Boots of one journal, with a scripted SOR and venue.
// ---------------------------------------------------------------------------------------------

type Op =
  | { k: 'new'; account: number; symbol: number; side: number; qty: number; px: number; dupOf: number; market: boolean }
  | { k: 'cancel'; pick: number }
  | { k: 'replace'; pick: number; qty: number; px: number }
  | { k: 'fill'; pick: number; frac: number }
  | { k: 'venueCancel'; pick: number }
  | { k: 'limit'; key: number; account: number; symbol: number; value: number; version: number }
  | { k: 'mode'; account: number; mode: number }
  | { k: 'audit'; pick: number; qty: number }
  | { k: 'sorConfig'; fill: number };

interface LiveChild { childId: number; orderId: number; qty: number; cum: number }

/** The config of a test, with the limit seeds changed (the accounts and symbols stay: the snapshots' fingerprint). */
function reseeded(config: RiskConfig): RiskConfig {
  return {
    ...config,
    accounts: config.accounts.map((a) => (a === null ? null : { ...a, maxOrderQty: 30_000, maxPosition: 40_000 })),
    symbolLimits: config.referencePriceTicks.map((_, s) => ({ priceBandBps: s === 1 ? 700 : 0, priceBandOutsideBps: 0, noShort: false, restricted: false })),
  };
}

class Scenario {
  readonly dir: string;
  readonly store: SnapshotStore;
  readonly config: RiskConfig;
  boots = 0;
  h!: Harness;
  writer: JournalWriter | null = null;
  result!: RecoveryResult;
  private live: LiveChild[] = [];
  private nextChild = 0;
  private clSeq = 0;
  private readonly clOrdIds: { account: number; cl: string }[] = [];

  constructor(config: RiskConfig) {
    this.dir = mkdtempSync(join(tmpdir(), 'oms-risk-snapshot-'));
    dirs.push(this.dir);
    this.store = new SnapshotStore(this.dir, FINGERPRINT);
    this.config = config;
  }

  /** The configuration of the current boot: its clock-derived child id base. */
  now(config: RiskConfig = this.config): RiskConfig {
    return { ...config, childIdBase: CHILD_BASE_STEP * this.boots };
  }

  /** The journal writer of the next boot: a new segment (or the last one again, when it holds no frame). */
  openWriter(epochMs: number): void {
    this.writer?.close();
    this.boots++;
    this.writer = new JournalWriter(this.dir, 'none', 10, 1 << 20, { engineEpochMs: epochMs });
  }

  /** A boot as the engine runs one: writer first, then the stage recovers (saving the boundary's snapshot) and runs its resume pass. */
  boot(epochMs: number): RecoveryResult {
    this.openWriter(epochMs);
    const config = this.now();
    const { start, recovery } = recoverRisk(this.dir, config, this.store, (built) => {
      this.h = new Harness(built);
      return this.h.stage;
    });
    this.result = recovery;
    expect(this.result.snapshot.error).toBeNull();
    this.nextChild = nextChildIdBase(config.childIdBase, start.bounds.maxChildId, config.childCapacity) + 1;
    // The venue still has the children the journal says are live.
    const c = this.h.stage.children;
    this.live = [];
    for (let cs = 0; cs < c.capacity; cs++) {
      if (c.childId[cs] !== 0 && c.live[cs] === 1) this.live.push({ childId: c.childId[cs], orderId: c.orderId[cs], qty: c.qty[cs], cum: c.cumQty[cs] });
    }
    this.react(this.step().sor);
    return this.result;
  }

  end(): void {
    this.writer?.close();
    this.writer = null;
  }

  private journal(recs: Rec[]): void {
    for (const { typeId, raw } of recs) this.writer!.append(typeId, raw, 0, raw.length);
    this.writer!.flush(0);
  }

  step(): Out {
    const out = runAndDrain(this.h);
    this.journal(out.journal);
    return out;
  }

  /** The crash: one duty cycle of which only the first `keep` journal records reach the journal; the rest is lost. */
  crash(op: Op, keep: number): void {
    this.apply(op);
    this.h.stage.doWork();
    this.journal(drain(this.h).journal.slice(0, keep));
    runAndDrain(this.h);
  }

  play(op: Op): void {
    this.apply(op);
    this.react(this.step().sor);
  }

  /** The scripted SOR and venue: a route request gets 1-2 children, a child cancel is confirmed. */
  private react(sor: Rec[]): void {
    const h = this.h;
    for (const { typeId, raw } of sor) {
      if (typeId === RecordType.ROUTE_REQUEST) {
        const r = routeRequest.wrap(viewOf(raw), raw, 0);
        const qty = r.qty();
        const first = Math.ceil(qty / 2);
        for (const q of qty > 1 ? [first, qty - first] : [qty]) {
          h.sent(this.nextChild, r.orderId(), q, r.priceTicks() === 0 ? 10 * SCALE : r.priceTicks(), 1);
          this.live.push({ childId: this.nextChild++, orderId: r.orderId(), qty: q, cum: 0 });
        }
        h.routeDone(r.orderId(), qty > 1 ? 2 : 1);
      } else if (typeId === RecordType.CHILD_CANCEL) {
        const c = childOrder.wrap(viewOf(raw), raw, 0);
        const i = this.live.findIndex((x) => x.childId === c.childId());
        if (i >= 0) {
          h.childCanceled(c.childId(), c.orderId());
          this.live.splice(i, 1);
        }
      }
    }
  }

  private apply(op: Op): void {
    const h = this.h;
    switch (op.k) {
      case 'new': {
        const dup = op.dupOf >= 0 && op.dupOf < this.clOrdIds.length ? this.clOrdIds[op.dupOf] : null;
        const cl = dup !== null && dup.account === op.account ? dup.cl : `P${++this.clSeq}`;
        this.clOrdIds.push({ account: op.account, cl });
        const ref = op.symbol === 0 ? 100 * SCALE : 20 * SCALE;
        h.newOrder({
          clOrdId: cl, account: op.account, symbol: op.symbol, side: op.side, qty: op.qty,
          price: op.market ? 0 : ref + op.px * (SCALE / 100), ordType: op.market ? OrdType.MARKET : OrdType.LIMIT,
        });
        return;
      }
      case 'cancel':
      case 'replace': {
        if (this.clOrdIds.length === 0) return;
        const t = this.clOrdIds[op.pick % this.clOrdIds.length];
        if (op.k === 'cancel') {
          h.cancel({ account: t.account, clOrdId: `X${++this.clSeq}`, origClOrdId: t.cl });
          return;
        }
        const cl = `R${++this.clSeq}`;
        h.replace({ account: t.account, clOrdId: cl, origClOrdId: t.cl, qty: op.qty, price: 100 * SCALE + op.px * (SCALE / 100) });
        this.clOrdIds.push({ account: t.account, cl });
        return;
      }
      case 'fill': {
        if (this.live.length === 0) return;
        const c = this.live[op.pick % this.live.length];
        const q = Math.max(1, Math.floor((c.qty - c.cum) / op.frac));
        h.fill(c.childId, c.orderId, q, 10 * SCALE + (op.pick % 7), 1);
        c.cum += q;
        if (c.cum >= c.qty) this.live.splice(this.live.indexOf(c), 1);
        return;
      }
      case 'venueCancel': {
        if (this.live.length === 0) return;
        const c = this.live.splice(op.pick % this.live.length, 1)[0];
        h.childCanceled(c.childId, c.orderId);
        return;
      }
      case 'limit':
        h.limit(op.key, op.account, op.symbol, op.value, op.version);
        return;
      case 'mode':
        h.accountControl(op.account, op.mode);
        return;
      case 'audit': {
        // A child the SOR decided and audited, its SENT event lost (in flight at a crash): the
        // next boot puts it back live.
        const o = h.stage.orders;
        const open: number[] = [];
        for (let slot = 0; slot < o.capacity; slot++) if (o.orderId[slot] !== 0 && !isTerminal(o.state[slot])) open.push(slot);
        if (open.length === 0) return;
        const slot = open[op.pick % open.length];
        const raw = auditFrame({
          orderId: o.orderId[slot], venues: 2, symbolId: o.symbolId[slot], side: o.side[slot], childPxTicks: o.priceTicks[slot] || 10 * SCALE,
          children: [{ venueId: 2, childId: this.nextChild++, qty: op.qty }],
        });
        this.writer!.append(RecordType.ROUTE_AUDIT, raw, 0, raw.length);
        this.writer!.flush(0);
        return;
      }
      case 'sorConfig': {
        const raw = new Uint8Array(SOR_CONFIG_LENGTH).fill(op.fill);
        this.writer!.append(RecordType.SOR_CONFIG, raw, 0, raw.length);
        this.writer!.flush(0);
        return;
      }
    }
  }
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ k: fc.constant('new' as const), account: fc.constantFrom(1, 2), symbol: fc.constantFrom(0, 1), side: fc.constantFrom(Side.BUY, Side.SELL), qty: fc.integer({ min: 1, max: 300 }), px: fc.integer({ min: -50, max: 50 }), dupOf: fc.integer({ min: -3, max: 20 }), market: fc.constantFrom(false, false, false, true) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('replace' as const), pick: fc.nat(), qty: fc.integer({ min: 1, max: 400 }), px: fc.integer({ min: -50, max: 50 }) }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant('fill' as const), pick: fc.nat(), frac: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('venueCancel' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.record({ k: fc.constant('limit' as const), key: fc.constant(LimitKey.MAX_ORDER_QTY), account: fc.constantFrom(1, 2, 3, 9), symbol: fc.constantFrom(ALL_SYMBOLS, ALL_SYMBOLS, 0), value: fc.integer({ min: 50, max: 50_000 }), version: fc.integer({ min: 1, max: 30 }) }),
      fc.record({ k: fc.constant('limit' as const), key: fc.constant(LimitKey.MAX_POSITION), account: fc.constantFrom(1, 2), symbol: fc.constantFrom(ALL_SYMBOLS, 0, 1), value: fc.integer({ min: 100, max: 5_000 }), version: fc.integer({ min: 1, max: 30 }) }),
      fc.record({ k: fc.constant('limit' as const), key: fc.constant(LimitKey.PRICE_BAND_BPS), account: fc.constantFrom(1, 2), symbol: fc.constantFrom(ALL_SYMBOLS, 0, 1), value: fc.integer({ min: 0, max: 100 }), version: fc.integer({ min: 1, max: 30 }) }),
    ),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('mode' as const), account: fc.constantFrom(0, 1, 2), mode: fc.constantFrom(AccountMode.NORMAL, AccountMode.HALTED, AccountMode.REDUCE_ONLY) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('audit' as const), pick: fc.nat(), qty: fc.integer({ min: 1, max: 50 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('sorConfig' as const), fill: fc.integer({ min: 0, max: 255 }) }) },
);

interface BootPlan {
  /** The same engine epoch as the boot before (the journal's per-boot event numbering then runs on across the boundary). */
  sameEpoch: boolean;
  ops: Op[];
  /** The boot's last op cut short by a crash after this many journal records, or null. */
  crashKeep: number | null;
}

const bootArb: fc.Arbitrary<BootPlan> = fc.record({
  sameEpoch: fc.boolean(),
  ops: fc.array(opArb, { maxLength: 25 }),
  crashKeep: fc.option(fc.integer({ min: 0, max: 3 }), { freq: 3 }),
});

/** Plays one boot's plan (its writer and recovery first). */
function playBoot(s: Scenario, plan: BootPlan, epochMs: number): void {
  s.boot(epochMs);
  plan.ops.forEach((op, i) => {
    if (i === plan.ops.length - 1 && plan.crashKeep !== null) s.crash(op, plan.crashKeep);
    else s.play(op);
  });
  s.end();
}

// ---------------------------------------------------------------------------------------------
// Recoveries and what is compared.
// ---------------------------------------------------------------------------------------------

interface Recovered { h: Harness; result: RecoveryResult }

/** Recovery by a replay of the whole journal, as before snapshots. */
function recoverFull(dir: string, config: RiskConfig): Recovered {
  const h = new Harness(recoveredRiskConfig(config, scanJournalBounds(dir)));
  return { h, result: recoverRiskStage(h.stage, dir) };
}

/** Recovery as workers/risk-part.ts does it (recoverRisk: start with the snapshot's ranges, build, recover; built again on a failed read-back). */
function recoverWith(dir: string, config: RiskConfig, store: SnapshotStore): Recovered {
  let h: Harness | null = null;
  const { recovery } = recoverRisk(dir, config, store, (built) => {
    h = new Harness(built);
    return h.stage;
  });
  return { h: h!, result: recovery };
}

/**
 * A value with each typed array as a string of its kind, length and bytes, for a quick toEqual
 * (element by element over whole tables takes a tenth of a second a time); a difference still
 * shows its path (e.g. orders.cumQty).
 */
function canon(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}[${v.byteLength}] ${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}`;
  if (Array.isArray(v)) return v.map(canon);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (typeof x !== 'function') out[k] = canon(x);
    return out;
  }
  return v;
}

function priv<T>(o: object, name: string): T {
  return (o as Record<string, T>)[name];
}

/**
 * Every piece of a stage's state: its tables whole (every field, private ones too: the ClOrdID
 * index, the table's next id and counters, the child table's base, the limits, the reference
 * prices), and each of its own fields that is a number, a typed array or null (modes, haltBelow,
 * marks, event sequence, the mass-cancel queue, the resume pass and its SOR_CONFIG, ...).
 */
function stateOf(s: RiskStage): Record<string, unknown> {
  const own: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) if (typeof v === 'number' || v === null || ArrayBuffer.isView(v)) own[k] = v;
  return canon({
    own,
    orders: s.orders, children: s.children, positions: s.positions, exposure: s.exposure, refs: s.refs, limits: s.limits,
    sorQueued: priv<{ pending: number }>(s, 'sorQueue').pending,
  }) as Record<string, unknown>;
}

/** A result's substance: all but what differs by construction (frames read at this start, the snapshot's report). */
function substance(r: RecoveryResult): Omit<RecoveryResult, 'frames' | 'snapshot'> {
  const { frames: _frames, snapshot: _snapshot, ...rest } = r;
  return rest;
}

/** The same commands on each stage after recovery: a repeated and a new ClOrdID, a fill of each live child, a cancel. */
function driveAfter(r: Recovered): Out {
  const h = r.h;
  const c = h.stage.children;
  for (let cs = 0; cs < c.capacity; cs++) if (c.childId[cs] !== 0 && c.live[cs] === 1) h.fill(c.childId[cs], c.orderId[cs], 1, 10 * SCALE, 1);
  h.newOrder({ clOrdId: 'P1', qty: 7 });
  h.newOrder({ clOrdId: 'AFTER', qty: 9, account: 2 });
  h.cancel({ clOrdId: 'X-AFTER', origClOrdId: 'P2' });
  return runAndDrain(h);
}

/** `others` hold what `want` holds after recovery, send what it sends at resume and answer as it does after. */
function expectSameAs(want: Recovered, others: Recovered[]): void {
  for (const o of others) {
    expect(stateOf(o.h.stage)).toEqual(stateOf(want.h.stage));
    expect(substance(o.result)).toEqual(substance(want.result));
  }
  const resumed = canon(runAndDrain(want.h));
  for (const o of others) expect(canon(runAndDrain(o.h))).toEqual(resumed);
  for (const o of others) expect(stateOf(o.h.stage)).toEqual(stateOf(want.h.stage));
  const after = canon(driveAfter(want));
  for (const o of others) expect(canon(driveAfter(o))).toEqual(after);
  for (const o of others) expect(stateOf(o.h.stage)).toEqual(stateOf(want.h.stage));
}

// ---------------------------------------------------------------------------------------------
// 1. Equivalence.
// ---------------------------------------------------------------------------------------------

/**
 * Plays the boots on a fresh journal, opens the next boot's writer, then recovers the whole
 * journal four ways under limit seeds changed since: by a full replay; as risk-part.ts does
 * (startRiskRecovery, which loads the newest snapshot, then recoverRiskStage), which saves the
 * snapshot of the final boundary; the same again from that one (nothing after it); and with a
 * stage built from a full scan, recoverRiskStage loading the snapshot itself. All alike.
 */
function recoversAlike(config: RiskConfig, plans: BootPlan[], seen: { runs: number; fromSnapshotWithTail: number; wrapped: number }): void {
  seen.runs++;
  const s = new Scenario(config);
  let epoch = EPOCH_MS;
  for (const plan of plans) {
    if (!plan.sameEpoch) epoch += 1000;
    playBoot(s, plan, epoch);
  }
  // The next boot: its segment begins at the journal's end.
  s.openWriter(epoch + 1000);
  const final = s.now(reseeded(config));
  try {
    const full = recoverFull(s.dir, final);
    expect(full.result.problem).toBeNull();
    if (full.h.stage.orders.peekNextOrderId() > full.h.stage.orders.capacity + 1) seen.wrapped++;
    const snap = recoverWith(s.dir, final, s.store);
    // None is passed over (a boot that journaled nothing left its segment to the next, and its snapshot still holds).
    expect(snap.result.snapshot.skipped).toEqual([]);
    if (snap.result.snapshot.loaded !== null && snap.result.frames > 0) seen.fromSnapshotWithTail++;
    // The whole journal is in the snapshot just saved: an empty tail.
    expect(snap.result.snapshot.saved).not.toBeNull();
    const again = recoverWith(s.dir, final, s.store);
    expect([again.result.snapshot.loaded, again.result.frames]).toEqual([snap.result.snapshot.saved, 0]);
    const h = new Harness(recoveredRiskConfig(final, scanJournalBounds(s.dir)));
    const self = { h, result: recoverRiskStage(h.stage, s.dir, s.store) };
    expect(self.result.snapshot.loaded).toBe(snap.result.snapshot.saved);
    expectSameAs(full, [snap, again, self]);
  } finally {
    s.end();
  }
}

describe('risk recovery snapshots: equivalence', () => {
  it('the newest snapshot and the journal after it recover the stage a replay of the whole journal does, over random multi-boot journals', () => {
    const seen = { runs: 0, fromSnapshotWithTail: 0, wrapped: 0 };
    fc.assert(
      fc.property(fc.constantFrom(16, 64), fc.array(bootArb, { minLength: 1, maxLength: 4 }), (orderCapacity, plans) => {
        recoversAlike({ ...defaultConfig(), orderCapacity, childCapacity: 64 }, plans, seen);
      }),
      { numRuns: 80, seed: 20260611 },
    );
    // Most runs recover from a snapshot with journal after it.
    expect(seen.fromSnapshotWithTail).toBeGreaterThan(seen.runs / 2);
  });

  it('the same through a 16-order table over long histories: orders evicted and slots skipped on both sides of a boundary', () => {
    // Mostly small new orders and fills: the table wraps several times with some orders live.
    const longOpArb: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ k: fc.constant('new' as const), account: fc.constantFrom(1, 2), symbol: fc.constantFrom(0, 1), side: fc.constantFrom(Side.BUY, Side.SELL), qty: fc.integer({ min: 1, max: 20 }), px: fc.integer({ min: -50, max: 50 }), dupOf: fc.constant(-1), market: fc.constant(false) }) },
      { weight: 5, arbitrary: fc.record({ k: fc.constant('fill' as const), pick: fc.nat(), frac: fc.integer({ min: 1, max: 2 }) }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('cancel' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('venueCancel' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('audit' as const), pick: fc.nat(), qty: fc.integer({ min: 1, max: 5 }) }) },
    );
    const longBootArb: fc.Arbitrary<BootPlan> = fc.record({
      sameEpoch: fc.constant(false),
      ops: fc.array(longOpArb, { minLength: 20, maxLength: 60 }),
      crashKeep: fc.option(fc.integer({ min: 0, max: 3 }), { freq: 3 }),
    });
    const seen = { runs: 0, fromSnapshotWithTail: 0, wrapped: 0 };
    fc.assert(
      fc.property(fc.array(longBootArb, { minLength: 2, maxLength: 4 }), (plans) => {
        recoversAlike({ ...defaultConfig(), orderCapacity: 16, childCapacity: 256 }, plans, seen);
      }),
      { numRuns: 25, seed: 20260612 },
    );
    expect(seen.wrapped).toBeGreaterThan(seen.runs / 2);
  });

  it('limit changes for every symbol and for one symbol, in turn across boots, end as the last that reached each limit', () => {
    const s = new Scenario(defaultConfig());
    const limit = (symbol: number, value: number, version: number): Op => ({ k: 'limit', key: LimitKey.MAX_POSITION, account: 1, symbol, value, version });
    playBoot(s, { sameEpoch: false, ops: [limit(ALL_SYMBOLS, 1000, 5), limit(0, 2000, 6), limit(ALL_SYMBOLS, 3000, 2), limit(1, 4000, 3)], crashKeep: null }, EPOCH_MS + 1000);
    playBoot(s, { sameEpoch: false, ops: [newOp(1), limit(1, 5000, 4)], crashKeep: null }, EPOCH_MS + 2000);
    s.openWriter(EPOCH_MS + 3000);
    const full = recoverFull(s.dir, s.now(reseeded(s.config)));
    const snap = recoverWith(s.dir, s.now(reseeded(s.config)), s.store);
    expect(snap.result.snapshot.loaded).not.toBeNull();
    const L = snap.h.stage.limits;
    const cell = (symbol: number): number => snap.h.stage.positions.cell(1, symbol);
    expect([L.maxPosition[cell(0)], L.maxPosition[cell(1)], L.version]).toEqual([3000, 5000, 6]);
    expectSameAs(full, [snap]);
    s.end();
  });

  it('a fill report journaled again after the boundary, by a boot of the same epoch, is a duplicate from a snapshot too', () => {
    const s = new Scenario(defaultConfig());
    playBoot(s, { sameEpoch: false, ops: [newOp(1), { k: 'fill', pick: 0, frac: 2 }], crashKeep: null }, EPOCH_MS + 1000);
    let fill: Uint8Array | null = null;
    const report = new ExecReportFlyweight();
    replayJournal(s.dir, {
      onFrame(typeId, _sequence, _epochMs, view, bytes, offset, length) {
        if (typeId === RecordType.EXEC_REPORT && report.wrap(view, bytes, offset).lastQty() > 0) fill = bytes.slice(offset, offset + length);
      },
    });
    expect(fill).not.toBeNull();
    // The next boot's segment has the same epoch: the journal's per-boot event numbers run on.
    s.boot(EPOCH_MS + 1000);
    expect(s.result.snapshot.saved).not.toBeNull();
    s.writer!.append(RecordType.EXEC_REPORT, fill!, 0, fill!.length);
    s.end();
    s.openWriter(EPOCH_MS + 3000);
    const full = recoverFull(s.dir, s.now());
    const snap = recoverWith(s.dir, s.now(), s.store);
    expect(full.result.duplicateReports).toBe(1);
    expect(snap.result.snapshot.loaded).toBe(s.result.snapshot.saved);
    expectSameAs(full, [snap]);
    s.end();
  });

  it('a boot that journaled nothing: the next writer reuses its segment, and its snapshot still holds (the segment before it is the same)', () => {
    const s = new Scenario(defaultConfig());
    playBoot(s, { sameEpoch: false, ops: [newOp(1), newOp(2)], crashKeep: null }, EPOCH_MS + 1000);
    s.boot(EPOCH_MS + 2000); // nothing to resume: journals nothing
    expect(s.result.snapshot.loaded).not.toBeNull();
    const saved = s.result.snapshot.saved;
    expect(saved).not.toBeNull();
    s.end();
    s.openWriter(EPOCH_MS + 3000);
    const full = recoverFull(s.dir, s.now());
    const snap = recoverWith(s.dir, s.now(), s.store);
    expect(snap.result.snapshot).toMatchObject({ loaded: saved, skipped: [] });
    expect(snap.result.snapshot.boundary).toBeGreaterThan(1);
    expect(snap.result.frames).toBe(0);
    expectSameAs(full, [snap]);
    s.end();
  });
});

function newOp(n: number, account = 1): Op {
  return { k: 'new', account, symbol: 0, side: Side.BUY, qty: 100 + n, px: n, dupOf: -1, market: false };
}

// ---------------------------------------------------------------------------------------------
// 2. Snapshots passed over, 3. what is not saved.
// ---------------------------------------------------------------------------------------------

/** Two boots with orders, children (one only audited), fills, a limit change and a halt; the next boot's writer open. Only the newest snapshot kept. */
function twoBoots(config: RiskConfig = defaultConfig()): Scenario {
  const s = new Scenario(config);
  const fill: Op = { k: 'fill', pick: 0, frac: 2 };
  playBoot(s, {
    sameEpoch: false,
    ops: [newOp(1), newOp(2, 2), fill, { k: 'limit', key: LimitKey.MAX_ORDER_QTY, account: 1, symbol: ALL_SYMBOLS, value: 20_000, version: 2 }, newOp(3)],
    crashKeep: null,
  }, EPOCH_MS + 1000);
  playBoot(s, {
    sameEpoch: false,
    ops: [fill, newOp(4), { k: 'audit', pick: 0, qty: 10 }, { k: 'mode', account: 2, mode: AccountMode.HALTED }, newOp(5)],
    crashKeep: null,
  }, EPOCH_MS + 2000);
  expect(s.result.snapshot.loaded).not.toBeNull();
  for (const old of s.store.list(RISK_SNAPSHOT).slice(1)) unlinkSync(old.path);
  s.openWriter(EPOCH_MS + 3000);
  return s;
}

function newestSnapshot(s: Scenario): string {
  const [newest] = s.store.list(RISK_SNAPSHOT);
  expect(newest).toBeDefined();
  return newest.path;
}

/** Recovery with `store` replays the whole journal, passing the one snapshot over for `reason`, and equals a full replay. */
function expectPassedOver(s: Scenario, store: SnapshotStore, config: RiskConfig, reason: RegExp): void {
  const full = recoverFull(s.dir, config);
  const r = recoverWith(s.dir, config, store);
  expect(r.result.snapshot).toMatchObject({ loaded: null, boundary: 1 });
  expect(r.result.snapshot.skipped).toHaveLength(1);
  expect(r.result.snapshot.skipped[0]).toMatch(reason);
  expect(r.result.frames).toBe(full.result.frames);
  expectSameAs(full, [r]);
  s.end();
}

describe('risk recovery snapshots: passed over', () => {
  it('a corrupted file', () => {
    const s = twoBoots();
    const path = newestSnapshot(s);
    const file = readFileSync(path);
    file[Math.floor(file.length / 2)] ^= 0x40;
    writeFileSync(path, file);
    expectPassedOver(s, s.store, s.now(), /checksum does not hold/);
  });

  it('another configuration fingerprint', () => {
    const s = twoBoots();
    expectPassedOver(s, new SnapshotStore(s.dir, 'another configuration'), s.now(), /configuration its tables depend on changed/);
  });

  it('another layout: a section this version does not write, or tables of another size', () => {
    const s = twoBoots();
    const path = newestSnapshot(s);
    const { meta, payload } = decodeSnapshot(new Uint8Array(readFileSync(path)));
    const extra = new SnapshotWriter().number('extra.section', 1).finish();
    const longer = new Uint8Array(payload.length + extra.length);
    longer.set(payload);
    longer.set(extra, payload.length);
    writeFileSync(path, encodeSnapshot(meta, longer));
    expectPassedOver(s, s.store, s.now(), /layout is not this version's/);

    // The same fingerprint (a test's) over an order table of another capacity.
    const t = twoBoots();
    expectPassedOver(t, t.store, { ...t.now(), orderCapacity: 128 }, /layout is not this version's/);
  });

  it('the journal segments from its boundary on are gone: taken when a later boot wrote one from the same sequence after the same segment; passed over when the journal started afresh', () => {
    const s = twoBoots();
    s.end();
    // Boot 3's segment (empty) and boot 2's, where the snapshot's boundary is, are lost; boot 1's,
    // all the snapshot stands for, is not.
    const segments = listSegments(s.dir);
    for (const index of segments.slice(-2)) unlinkSync(join(s.dir, segmentFileName(index)));
    s.openWriter(EPOCH_MS + 4000);
    const snap = recoverWith(s.dir, s.now(), s.store);
    expect(snap.result.snapshot).toMatchObject({ loaded: newestSnapshot(s), skipped: [] });
    expect(snap.result.frames).toBe(0);
    expectSameAs(recoverFull(s.dir, s.now()), [snap]);
    s.end();

    const t = twoBoots();
    t.end();
    for (const index of listSegments(t.dir)) unlinkSync(join(t.dir, segmentFileName(index)));
    t.openWriter(EPOCH_MS + 4000);
    expectPassedOver(t, t.store, t.now(), /no segment of its boot at its boundary/);
  });

  it('an order table that begins at another id, or a child table of another base', () => {
    const s = twoBoots();
    expectPassedOver(s, s.store, { ...s.now(), firstOrderId: 3 }, /order table began at id 1, this one at 3/);
    // A clock-derived base below the journal's children: a full replay builds the table from it.
    const t = twoBoots();
    expectPassedOver(t, t.store, { ...t.now(), childIdBase: 10 }, /child table's base is \d+, this start's 10/);
  });
});

/**
 * The newest snapshot at `path` rewritten so that it holds every check of a load (checksum,
 * layout: a list's length is not layout) but throws while read back: its limit log is cut to
 * 4 numbers, not a multiple of 5.
 */
function breakLimitLog(path: string): void {
  const { meta, payload } = decodeSnapshot(new Uint8Array(readFileSync(path)));
  const tag = Buffer.from('replay.limitLog', 'utf8');
  const at = Buffer.from(payload).indexOf(tag) + tag.length;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const length = view.getFloat64(at, true);
  expect(length).toBeGreaterThanOrEqual(5);
  const cut = new Uint8Array(payload.length - 8);
  cut.set(payload.subarray(0, at + 8 + 4 * 8));
  cut.set(payload.subarray(at + 8 + 5 * 8), at + 8 + 4 * 8);
  new DataView(cut.buffer).setFloat64(at, length - 1, true);
  writeFileSync(path, encodeSnapshot(meta, cut));
}

describe('risk recovery snapshots: one that holds but cannot be read back', () => {
  it('the stage is built again and recovered from the whole journal; the file is named among those passed over', () => {
    const s = twoBoots();
    const path = newestSnapshot(s);
    breakLimitLog(path);
    // The stage the store's load hands it: reading it back throws half-way through.
    const start = startRiskRecovery(s.dir, s.now(), s.store);
    expect(start.snapshot?.loaded.path).toBe(path);
    const h = new Harness(recoveredRiskConfig(s.now(), start.bounds));
    expect(() => recoverRiskStage(h.stage, s.dir, s.store, start)).toThrow(/replay\.limitLog: 4 numbers, not 5 per limit change/);
    // As the engine starts: built again, without it.
    let builds = 0;
    const full = recoverFull(s.dir, s.now());
    const store = new SnapshotStore(s.dir, FINGERPRINT);
    let h2: Harness | null = null;
    const { recovery } = recoverRisk(s.dir, s.now(), store, (built) => {
      builds++;
      h2 = new Harness(built);
      return h2.stage;
    });
    expect(builds).toBe(2);
    expect(recovery.snapshot).toMatchObject({ loaded: null, boundary: 1 });
    expect(recovery.snapshot.skipped).toEqual([`${path}: could not be read back: replay.limitLog: 4 numbers, not 5 per limit change`]);
    expectSameAs(full, [{ h: h2!, result: recovery }]);
    s.end();
  });

  it('one that fails after the order table was copied into the stage (its next order id 0): built again, as a full replay', () => {
    const s = twoBoots();
    const path = newestSnapshot(s);
    const { meta, payload } = decodeSnapshot(new Uint8Array(readFileSync(path)));
    const tag = Buffer.from('orders.nextOrderId', 'utf8');
    const at = Buffer.from(payload).indexOf(tag) + tag.length;
    expect(at).toBeGreaterThan(tag.length);
    new DataView(payload.buffer, payload.byteOffset, payload.byteLength).setFloat64(at, 0, true);
    writeFileSync(path, encodeSnapshot(meta, payload));
    const full = recoverFull(s.dir, s.now());
    const stages: RiskStage[] = [];
    let h: Harness | null = null;
    const { recovery } = recoverRisk(s.dir, s.now(), new SnapshotStore(s.dir, FINGERPRINT), (built) => {
      h = new Harness(built);
      stages.push(h.stage);
      return h.stage;
    });
    // The first stage was left with the snapshot's orders in it: the second is a new one.
    expect(stages).toHaveLength(2);
    expect(stages[0].orders.orderId.some((id) => id !== 0)).toBe(true);
    expect(recovery.snapshot).toMatchObject({ loaded: null, boundary: 1 });
    expect(recovery.snapshot.skipped).toEqual([`${path}: could not be read back: orders.nextOrderId: 0, not an id`]);
    expectSameAs(full, [{ h: h!, result: recovery }]);
    s.end();
  });

  it('with an older snapshot that holds: the stage is recovered from that one', () => {
    const s = twoBoots();
    // A third boot: its snapshot is the newest, boot 2's the older one.
    playBoot(s, { sameEpoch: false, ops: [newOp(6), { k: 'fill', pick: 0, frac: 2 }], crashKeep: null }, EPOCH_MS + 3500);
    const [newest, older] = s.store.list(RISK_SNAPSHOT);
    expect(older).toBeDefined();
    breakLimitLog(newest.path);
    s.openWriter(EPOCH_MS + 4000);
    const full = recoverFull(s.dir, s.now());
    const r = recoverWith(s.dir, s.now(), new SnapshotStore(s.dir, FINGERPRINT));
    expect(r.result.snapshot.loaded).toBe(older.path);
    expect(r.result.snapshot.skipped).toEqual([`${newest.path}: could not be read back: replay.limitLog: 4 numbers, not 5 per limit change`]);
    expect(r.result.frames).toBeLessThan(full.result.frames);
    expectSameAs(full, [r]);
    s.end();
  });
});

describe('risk recovery snapshots: not saved', () => {
  it('when the replay does not end at the first sequence of a segment (no new boot): nothing written', () => {
    const s = twoBoots();
    s.end();
    const before = s.store.list(RISK_SNAPSHOT).map((x) => x.path);
    // Boot 3's writer journals a frame: the journal's end is within its segment now.
    s.openWriter(EPOCH_MS + 4000);
    const raw = new Uint8Array(SOR_CONFIG_LENGTH);
    s.writer!.append(RecordType.SOR_CONFIG, raw, 0, raw.length);
    s.end();
    const r = recoverWith(s.dir, s.now(), s.store);
    expect(r.result.snapshot.loaded).toBe(before[0]);
    expect(r.result.snapshot.saved).toBeNull();
    expect(s.store.list(RISK_SNAPSHOT).map((x) => x.path)).toEqual(before);
    expectSameAs(recoverFull(s.dir, s.now()), [r]);
  });

  it('a save that fails is reported, and recovery goes on as without snapshots', () => {
    const s = twoBoots();
    rmSync(s.store.dir, { recursive: true, force: true });
    writeFileSync(s.store.dir, 'not a directory');
    const r = recoverWith(s.dir, s.now(), s.store);
    expect(r.result.snapshot.saved).toBeNull();
    expect(r.result.snapshot.error).toEqual(expect.any(String));
    expectSameAs(recoverFull(s.dir, s.now()), [r]);
    s.end();
  });

  it('after a replay that stopped at damage in the journal: that is not its end', () => {
    const s = twoBoots();
    s.end();
    rmSync(s.store.dir, { recursive: true, force: true });
    // The first frame's type flipped, in the first segment (a writer cuts torn tails off the last segment only).
    const first = join(s.dir, segmentFileName(listSegments(s.dir)[0]));
    const bytes = readFileSync(first);
    bytes[SEGMENT_HEADER_LENGTH + 8] ^= 0xff;
    writeFileSync(first, bytes);
    s.openWriter(EPOCH_MS + 4000);
    const r = recoverWith(s.dir, s.now(), s.store);
    expect(r.result.problem).not.toBeNull();
    expect(r.result.snapshot.saved).toBeNull();
    expect(s.store.list(RISK_SNAPSHOT)).toEqual([]);
    s.end();
  });
});
