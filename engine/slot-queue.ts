/**
 * A FIFO of slots of a fixed table (0 .. capacity-1), each queued at most once: a flag per slot
 * refuses a second push while the first waits, so the queue never holds more entries than the
 * table has slots and push cannot overflow. For work a stage owes a few of its table's entries
 * (workers/fix/fix-stage.ts: cancels held on a live venue session), taken without scanning the
 * table. Circular, allocated once; nothing allocates per push or shift. One thread.
 */
export class SlotQueue {
  readonly capacity: number;
  private readonly slots: Int32Array;
  private readonly queued: Uint8Array;
  private head: number;
  private count: number;

  constructor(capacity: number) {
    if (!(Number.isSafeInteger(capacity) && capacity > 0)) throw new Error('Condition failed: a slot queue holds at least one slot');
    this.capacity = capacity;
    this.slots = new Int32Array(capacity);
    this.queued = new Uint8Array(capacity);
    this.head = 0;
    this.count = 0;
  }

  get length(): number {
    return this.count;
  }

  /** Whether the slot waits in the queue. */
  has(slot: number): boolean {
    return this.queued[slot] === 1;
  }

  /** Appends the slot; false (and nothing changes) when it is queued already. */
  push(slot: number): boolean {
    if (!(slot >= 0 && slot < this.capacity)) throw new Error('Condition failed: a queued slot lies in the table');
    if (this.queued[slot] === 1) return false;
    this.queued[slot] = 1;
    let at = this.head + this.count;
    if (at >= this.capacity) at -= this.capacity;
    this.slots[at] = slot;
    this.count++;
    return true;
  }

  /** Removes and returns the oldest slot, or -1 when the queue is empty. */
  shift(): number {
    if (this.count === 0) return -1;
    const slot = this.slots[this.head];
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    this.count--;
    this.queued[slot] = 0;
    return slot;
  }
}
