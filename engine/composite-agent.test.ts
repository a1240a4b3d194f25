/**
 * Goal: several agents on one thread behave as if each had its own: every agent runs once per
 * duty cycle, in the order given, and the work counts add up; a record one agent writes is read
 * by the next in the same cycle (no thread hop); one doorbell serves every ring into the thread.
 * Method: two small agents joined by a real ring, driven by hand.
 */
import { describe, expect, it } from 'vitest';
import type { Agent } from './agent.ts';
import { CompositeAgent, composeAgents } from './composite-agent.ts';
import { Doorbell, PARKED_INDEX, SEQ_INDEX } from './doorbell.ts';
import { createRingMemory, RingConsumer, RingProducer, type RecordHandler } from './ring.ts';
import { STOP_REQUESTED, UntilStopAgent } from './runner.ts';

/** Writes one record per pending item into its ring. */
class Source implements Agent {
  pending = 0;
  private readonly out: RingProducer;
  private readonly log: string[];
  constructor(out: RingProducer, log: string[]) {
    this.out = out;
    this.log = log;
  }
  doWork(): number {
    this.log.push('source');
    let n = 0;
    for (; this.pending > 0; this.pending--, n++) {
      const at = this.out.tryClaim(7, 8);
      if (at < 0) break;
      this.out.commit();
    }
    return n;
  }
}

/** Reads its ring. */
class Sink implements Agent, RecordHandler {
  received = 0;
  private readonly from: RingConsumer;
  private readonly log: string[];
  constructor(from: RingConsumer, log: string[]) {
    this.from = from;
    this.log = log;
  }
  onRecord(): void {
    this.received++;
  }
  doWork(): number {
    this.log.push('sink');
    return this.from.poll(this, 64);
  }
}

function pipeline(bell: Doorbell | null) {
  const memory = createRingMemory(1 << 12);
  const log: string[] = [];
  const source = new Source(new RingProducer(memory, bell), log);
  const sink = new Sink(new RingConsumer(memory), log);
  return { source, sink, log };
}

describe('CompositeAgent', () => {
  it('runs each agent once per cycle, in order, and adds their work', () => {
    const { source, sink, log } = pipeline(null);
    const agent = new CompositeAgent([source, sink]);
    source.pending = 3;
    // The sink reads in the same cycle what the source wrote: 3 written + 3 read.
    expect(agent.doWork()).toBe(6);
    expect(sink.received).toBe(3);
    expect(log).toEqual(['source', 'sink']);
    expect(agent.doWork()).toBe(0);
    expect(log).toEqual(['source', 'sink', 'source', 'sink']);
  });

  it('in the opposite order, the record waits one cycle', () => {
    const { source, sink } = pipeline(null);
    const agent = new CompositeAgent([sink, source]);
    source.pending = 2;
    expect(agent.doWork()).toBe(2);
    expect(sink.received).toBe(0);
    expect(agent.doWork()).toBe(2);
    expect(sink.received).toBe(2);
  });

  it('refuses to run nothing; one agent is used as is', () => {
    expect(() => new CompositeAgent([])).toThrow(/at least one/);
    const { source, sink } = pipeline(null);
    expect(composeAgents([source])).toBe(source);
    expect(composeAgents([source, sink])).toBeInstanceOf(CompositeAgent);
  });

  it('a producer into any ring of a parked shared thread wakes it; its own commits cost no wake-up', () => {
    const bell = Doorbell.create();
    const a = pipeline(bell);
    const b = pipeline(bell);
    // Awake: the thread's own producers find PARKED 0 and notify nobody.
    a.source.pending = 1;
    new CompositeAgent([a.source, a.sink]).doWork();
    expect(bell.notifyCount).toBe(0);
    // Parked (as ParkIdle announces it): a record into the second ring rings the shared bell once.
    const seq0 = bell.sequence();
    bell.announcePark();
    b.source.pending = 2;
    b.source.doWork();
    expect(Atomics.load(bell.words, PARKED_INDEX)).toBe(0);
    expect(Atomics.load(bell.words, SEQ_INDEX)).toBe(seq0 + 1);
    expect(bell.notifyCount).toBe(1);
  });

  it('a compute stage on an event-loop thread stops working at the stop word, as runBlocking would', () => {
    const { source, sink } = pipeline(null);
    const stopWord = new Int32Array(new SharedArrayBuffer(4));
    const agent = new CompositeAgent([new UntilStopAgent(source, stopWord), sink]);
    source.pending = 1;
    expect(agent.doWork()).toBe(2);
    Atomics.store(stopWord, 0, STOP_REQUESTED);
    source.pending = 1;
    // The source does nothing more; the sink (a stage stopped by its own 'stop') still drains.
    expect(agent.doWork()).toBe(0);
    expect(source.pending).toBe(1);
    expect(sink.received).toBe(1);
  });
});
