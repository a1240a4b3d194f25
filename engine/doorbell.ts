/**
 * A consumer thread's doorbell: the one word it parks on, whichever of its inbound rings the
 * next record arrives on. Rings stay single-producer, single-consumer; a consumer that polls
 * several rings shares one doorbell among them, so it can sleep on all of them at once.
 *
 *   0         4 ... 128      132
 *   +---------+-----+---------+
 *   | PARKED  | pad | SEQ     |
 *   +---------+-----+---------+
 *
 * Parking protocol (no lost wake-up):
 *   consumer: seq0 = load(SEQ); store(PARKED, 1); poll every ring once more; if still empty,
 *             Atomics.wait(SEQ, seq0); store(PARKED, 0).
 *   producer: publish tail (Atomics.store); if PARKED != 0 and compareExchange(PARKED, 1, 0)
 *             took it from 1 to 0: add(SEQ, 1); notify(SEQ).
 * Atomics are sequentially consistent, so either a producer sees PARKED = 1 and bumps SEQ
 * (the wait returns at once or is woken), or the consumer's last poll sees the new tail.
 * An event-loop consumer (engine/runner.ts EventLoopRunner) may keep one Atomics.waitAsync
 * registered across parks (a kick resumed it without ending the wait): registered before the
 * next park's store(PARKED, 1), it is woken by that park's notify whatever value it waited on.
 *
 * The producer that wakes the consumer also takes PARKED back to 0, so a sleep costs one notify,
 * however many commits land while the woken thread is being scheduled (tens of microseconds,
 * during which a producer that left PARKED at 1 would pay a futex wake on every commit). Safe
 * with several producers on one doorbell: a producer that reads PARKED = 0 (never set, or
 * already taken by another's wake) published its tail before the consumer's next announcement,
 * so the last look of that next park sees its record.
 */

/**
 * Takes a flag word from 1 to 0; true when this caller took it (so it alone answers the flag, with
 * one wake). The plain load first: an unset flag, the common case, costs no locked instruction.
 * The doorbell's PARKED and the ring's WAITING flags (engine/ring.ts) are answered this way.
 */
export function takeFlag(words: Int32Array, index: number): boolean {
  return Atomics.load(words, index) !== 0 && Atomics.compareExchange(words, index, 1, 0) === 1;
}

export const PARKED_INDEX = 0;
export const SEQ_INDEX = 32; // 128 bytes on, its own cache-line pair
export const DOORBELL_LENGTH = 256;

export class Doorbell {
  readonly sab: SharedArrayBuffer;
  readonly words: Int32Array;
  /** Wake-ups sent (producer side, this thread's count only). */
  notifyCount: number;

  constructor(sab: SharedArrayBuffer) {
    if (sab.byteLength !== DOORBELL_LENGTH) throw new Error('Condition failed: doorbell length');
    this.sab = sab;
    this.words = new Int32Array(sab);
    this.notifyCount = 0;
  }

  static create(): Doorbell {
    return new Doorbell(new SharedArrayBuffer(DOORBELL_LENGTH));
  }

  /** Producer side: wakes the consumer if it is parked (one notify per park). */
  ring(): void {
    if (takeFlag(this.words, PARKED_INDEX)) {
      Atomics.add(this.words, SEQ_INDEX, 1);
      Atomics.notify(this.words, SEQ_INDEX, 1);
      this.notifyCount++;
    }
  }

  /** True while the consumer announces a park no producer has yet taken (a hint: it may change at once). */
  isParked(): boolean {
    return Atomics.load(this.words, PARKED_INDEX) !== 0;
  }

  /**
   * Wakes every waiter unconditionally, parked-word or not: for shutdown (a blocking thread to
   * see its stop word), never for publishing records (use ring()). An event-loop runner's own
   * thread resumes it without a notify (EventLoopRunner.kick).
   */
  wake(): void {
    Atomics.add(this.words, SEQ_INDEX, 1);
    Atomics.notify(this.words, SEQ_INDEX);
  }

  /** Consumer side: the value to wait on, read before announcing the park. */
  sequence(): number {
    return Atomics.load(this.words, SEQ_INDEX);
  }

  announcePark(): void {
    Atomics.store(this.words, PARKED_INDEX, 1);
  }

  clearPark(): void {
    Atomics.store(this.words, PARKED_INDEX, 0);
  }

  /** Blocks this thread until rung or timeoutMs passes. Never call on a thread with sockets. */
  waitSync(seq0: number, timeoutMs: number): void {
    Atomics.wait(this.words, SEQ_INDEX, seq0, timeoutMs);
  }
}
