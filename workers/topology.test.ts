/**
 * Goal: every threading mode runs each stage exactly once, in an order that respects the start
 * rules (consumers before producers, risk before the stages that take its child-id base), keeps
 * the journal on a thread of its own, and gives the stages of one thread one doorbell and
 * different threads different ones. The configuration refuses unknown modes with a reason, and
 * `auto` picks the mode for the host's cores: no more stage threads than cores. The producers of
 * the journal-gated rings read the journal marks, so a parked consumer is left to the gate for a
 * report or child the journal does not hold yet; every other ring's commit rings it.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, loadConfig, validateConfig } from './config.ts';
import { availableParallelism } from 'node:os';
import { Doorbell } from '../engine/doorbell.ts';
import { FULL, RingGate } from '../engine/ring.ts';
import { CommonCounter } from '../engine/counters.ts';
import { ChildOrderFlyweight, CHILD_ORDER_LENGTH, EXEC_REPORT_LENGTH, ExecReportFlyweight, RecordType } from '../codecs/records.ts';
import { GATED_RINGS, QUIET_RINGS, RINGS, STAGES, StageWiring, THREADING_MODES, createTopology, threadGroups, threadingForCores, type RingName } from './topology.ts';

describe('threadGroups', () => {
  it.each(THREADING_MODES)('%s: each stage once, persistence alone and first, risk before sor and fix, ingest last', (mode) => {
    const groups = threadGroups(mode);
    const flat = groups.flat();
    expect([...flat].sort()).toEqual([...STAGES].sort());
    expect(groups[0]).toEqual(['persistence']);
    expect(flat.indexOf('risk')).toBeLessThan(flat.indexOf('sor'));
    expect(flat.indexOf('risk')).toBeLessThan(flat.indexOf('fix'));
    expect(flat[flat.length - 1]).toBe('ingest');
  });

  it('dedicated has a thread per stage; paired 3; shared 2', () => {
    expect(threadGroups('dedicated')).toHaveLength(5);
    expect(threadGroups('paired')).toEqual([['persistence'], ['risk', 'sor'], ['fix', 'ingest']]);
    expect(threadGroups('shared')).toEqual([['persistence'], ['risk', 'sor', 'fix', 'ingest']]);
  });
});

describe('createTopology', () => {
  it.each(THREADING_MODES)('%s: one doorbell per thread, shared by its stages', (mode) => {
    const groups = threadGroups(mode);
    const memory = createTopology(1 << 12, groups, 1);
    for (const group of groups) for (const stage of group) expect(memory.doorbells[stage]).toBe(memory.doorbells[group[0]]);
    expect(new Set(Object.values(memory.doorbells)).size).toBe(groups.length);
    // Counters stay per stage, whatever the thread.
    expect(new Set(Object.values(memory.counters)).size).toBe(STAGES.length);
  });

  it('the gated rings\' producers leave a parked consumer to the journal gate, the quiet ones leave it asleep; the others ring it', () => {
    const memory = createTopology(1 << 12, threadGroups('dedicated'), 1);
    expect([...GATED_RINGS].sort()).toEqual(['riskToFix', 'riskToIngest', 'sorToFix']);
    expect([...QUIET_RINGS]).toEqual(['sorToIngest']);
    for (const ring of Object.keys(RINGS) as RingName[]) {
      const [producerStage, consumerStage] = RINGS[ring];
      new RingGate(memory.rings[ring], null).arm();
      const producer = new StageWiring(producerStage, memory).producer(ring);
      const bell = new Doorbell(memory.doorbells[consumerStage]);
      const seq0 = bell.sequence();
      bell.announcePark();
      // A record stamped with a journal mark the gate (at 0) does not pass yet.
      if (ring === 'sorToFix') {
        const at = producer.tryClaim(RecordType.CHILD_NEW, CHILD_ORDER_LENGTH);
        new ChildOrderFlyweight().wrap(producer.view, producer.bytes, at).setJournalMark(3);
      } else {
        const at = producer.tryClaim(RecordType.EXEC_REPORT, EXEC_REPORT_LENGTH);
        new ExecReportFlyweight().wrap(producer.view, producer.bytes, at).setJournalMark(3);
      }
      producer.commit();
      const gated = GATED_RINGS.includes(ring);
      const quiet = QUIET_RINGS.includes(ring);
      expect({ ring, rung: bell.sequence() !== seq0 }).toEqual({ ring, rung: !gated && !quiet });
      expect(producer.wakesLeftToGate).toBe(gated ? 1 : 0);
      bell.clearPark();
    }
  });

  it('every consumer rings its ring\'s producer when it frees room the producer waits for, unless they share a thread', () => {
    for (const mode of THREADING_MODES) {
      const memory = createTopology(1 << 12, threadGroups(mode), 1);
      for (const ring of Object.keys(RINGS) as RingName[]) {
        const [producerStage, consumerStage] = RINGS[ring];
        const producer = new StageWiring(producerStage, memory).producer(ring);
        const consumerWiring = new StageWiring(consumerStage, memory);
        const consumer = consumerWiring.consumer(ring);
        // Fill the ring (a record the gate would hold is never consulted: poll, not pollWhile).
        while (producer.tryClaim(RecordType.EXEC_REPORT, EXEC_REPORT_LENGTH) !== FULL);
        producer.commit();
        const bell = new Doorbell(memory.doorbells[producerStage]);
        const seq0 = bell.sequence();
        const wakes0 = consumerWiring.counters.get(CommonCounter.ROOM_WAKES);
        bell.announcePark();
        consumer.poll({ onRecord(): void {} }, 1);
        const sameThread = memory.doorbells[producerStage] === memory.doorbells[consumerStage];
        expect({ mode, ring, rung: bell.sequence() !== seq0 }).toEqual({ mode, ring, rung: !sameThread });
        expect(consumerWiring.counters.get(CommonCounter.ROOM_WAKES) - wakes0).toBe(sameThread ? 0 : 1);
        bell.clearPark();
        while (consumer.poll({ onRecord(): void {} }, 64) > 0);
      }
    }
  });

  it('refuses a grouping that leaves a stage out', () => {
    expect(() => createTopology(1 << 12, [['persistence'], ['risk', 'sor']], 1)).toThrow(/stage ingest is on no thread/);
  });
});

describe('threadingForCores (threading: auto)', () => {
  it('shares one stage thread up to 2 cores, pairs up to 5, gives each stage a thread from 6', () => {
    expect([1, 2, 3, 4, 5, 6, 8, 64].map(threadingForCores)).toEqual(['shared', 'shared', 'paired', 'paired', 'paired', 'dedicated', 'dedicated', 'dedicated']);
  });

  it('never runs more stage threads than the host has cores (beyond the 2 of the fewest)', () => {
    for (let cores = 1; cores <= 16; cores++) {
      const threads = threadGroups(threadingForCores(cores)).length;
      expect(threads, `${cores} cores`).toBeLessThanOrEqual(Math.max(2, cores));
    }
  });
});

describe('threading in the configuration', () => {
  it('defaults to dedicated, resolves auto by the host\'s cores, accepts every mode, refuses anything else with the key named', () => {
    expect(DEFAULT_CONFIG.threading).toBe('dedicated');
    expect(validateConfig({}).threading).toBe('dedicated');
    expect(validateConfig({ threading: 'auto' }).threading).toBe(threadingForCores(availableParallelism()));
    for (const mode of THREADING_MODES) expect(validateConfig({ threading: mode }).threading).toBe(mode);
    expect(() => validateConfig({ threading: 'turbo' })).toThrow(ConfigError);
    expect(() => validateConfig({ threading: 'turbo' })).toThrow(/config threading: must be one of dedicated, paired, shared, auto, got "turbo"/);
    expect(() => validateConfig({ threading: 2 })).toThrow(/config threading/);
  });

  it('THREADING overrides the file, and is validated like it', () => {
    expect(loadConfig({ THREADING: 'shared' }, undefined).threading).toBe('shared');
    expect(loadConfig({ THREADING: 'dedicated' }, undefined).threading).toBe('dedicated');
    expect(loadConfig({ THREADING: 'auto' }, undefined).threading).toBe(threadingForCores(availableParallelism()));
    expect(() => loadConfig({ THREADING: 'all' }, undefined)).toThrow(/threading: must be one of .* \(after environment overrides\)/);
  });
});
