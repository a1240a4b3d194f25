// Goal: /health names a ring whose consumer has stopped (records wait, nothing taken for stallMs)
// and only such a ring: not an empty ring, not one whose consumer is taking records however
// slowly, not one seen for less than stallMs. Method: real ring memory, written and read by hand,
// the watch read at chosen times.
import { describe, expect, it } from 'vitest';
import { RingConsumer, RingPositions, RingProducer, createRingMemory, type RecordHandler } from '../engine/ring.ts';
import { RingStallWatch } from './ring-stall-watch.ts';

const STALL_MS = 5_000;
const none: RecordHandler = { onRecord() {} };

function setup() {
  const a = createRingMemory(1 << 16);
  const b = createRingMemory(1 << 16);
  const watch = new RingStallWatch({ a: new RingPositions(a), b: new RingPositions(b) }, STALL_MS);
  const producer = new RingProducer(a, null);
  const consumer = new RingConsumer(a);
  const write = (n: number) => {
    for (let i = 0; i < n; i++) producer.tryClaim(1, 16);
    producer.commit();
  };
  return { watch, write, consumer };
}

describe('RingStallWatch', () => {
  it('names a ring with records waiting and its consumer unmoved for stallMs, with how long and how deep', () => {
    const t = setup();
    t.write(3);
    expect(t.watch.check(1_000)).toEqual([]);
    expect(t.watch.check(1_000 + STALL_MS - 1)).toEqual([]);
    expect(t.watch.check(1_000 + STALL_MS)).toEqual([{ ring: 'a', stalledMs: STALL_MS, depthBytes: 3 * 24 }]);
    // More records behind it do not reset the wait: the consumer has still taken nothing.
    t.write(1);
    expect(t.watch.check(1_000 + 2 * STALL_MS)).toEqual([{ ring: 'a', stalledMs: 2 * STALL_MS, depthBytes: 4 * 24 }]);
  });

  it('does not name a ring whose consumer takes records, however slowly, nor an empty one', () => {
    const t = setup();
    t.write(10);
    let now = 0;
    for (let i = 0; i < 9; i++) {
      expect(t.watch.check(now)).toEqual([]);
      t.consumer.poll(none, 1);
      now += STALL_MS; // one record per stallMs: moving
    }
    expect(t.watch.check(now)).toEqual([]);
    t.consumer.poll(none, 10);
    expect(t.watch.check(now + STALL_MS)).toEqual([]);
    expect(t.watch.check(now + 10 * STALL_MS)).toEqual([]); // empty: nothing waits
  });

  it('starts the wait again when the consumer moves, and when the ring was seen empty in between', () => {
    const t = setup();
    t.write(2);
    t.watch.check(0);
    t.consumer.poll(none, 1);
    expect(t.watch.check(STALL_MS)).toEqual([]); // moved since the last read
    expect(t.watch.check(2 * STALL_MS - 1)).toEqual([]);
    expect(t.watch.check(2 * STALL_MS).map((s) => s.ring)).toEqual(['a']);
    t.consumer.poll(none, 1);
    expect(t.watch.check(2 * STALL_MS + 1)).toEqual([]); // empty
    t.write(1);
    expect(t.watch.check(3 * STALL_MS)).toEqual([]); // records again: a new wait begins
    expect(t.watch.check(4 * STALL_MS).map((s) => s.ring)).toEqual(['a']);
  });

  it('refuses a stall bound that is not positive', () => {
    expect(() => new RingStallWatch({}, 0)).toThrow(/stallMs > 0/);
  });
});
