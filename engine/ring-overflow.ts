/**
 * A ring producer with a bounded local queue behind it, for records that may be neither refused
 * nor dropped (a venue's child events: the venue has already done what they report). claim()
 * gives room in the ring while nothing waits and the ring has it, else a slot of the queue; the
 * caller writes the record there in place (through `bytes`/`view` as claim() left them). flush()
 * moves waiting records into the ring, oldest first, so the consumer sees every record in claim
 * order. The queue is circular (no copy of the backlog per flush), allocated once, and starts
 * again at its first slot whenever it empties; past its bound claim() throws (the consumer has
 * stalled: the engine halts rather than lose a record).
 * No allocation per record. Commit is the caller's, as for the ring itself.
 */
import { copyBytes } from './bytes.ts';
import { FULL, type RingProducer } from './ring.ts';

export class RingOverflow {
  /** Where the last claim() put the record: the ring's memory or the queue's. */
  bytes: Uint8Array;
  view: DataView;
  private readonly ring: RingProducer;
  private readonly capacity: number;
  private readonly slotBytes: number;
  private readonly slots: Uint8Array;
  private readonly slotsView: DataView;
  private readonly types: Uint8Array;
  private readonly lengths: Uint16Array;
  private readonly stalledMessage: string;
  private head: number;
  private count: number;

  /** capacity records of at most slotBytes each; stalledMessage: the invariant thrown past it. */
  constructor(ring: RingProducer, capacity: number, slotBytes: number, stalledMessage: string) {
    if (!(Number.isInteger(capacity) && capacity >= 1 && slotBytes >= 1 && slotBytes <= 0xffff)) throw new Error('Condition failed: capacity >= 1, 1 <= slotBytes <= 65535');
    this.ring = ring;
    this.capacity = capacity;
    this.slotBytes = slotBytes;
    this.slots = new Uint8Array(capacity * slotBytes);
    this.slotsView = new DataView(this.slots.buffer);
    this.types = new Uint8Array(capacity);
    this.lengths = new Uint16Array(capacity);
    this.stalledMessage = stalledMessage;
    this.head = 0;
    this.count = 0;
    this.bytes = ring.bytes;
    this.view = ring.view;
  }

  /** Room for one record of typeId and length (<= slotBytes), behind every record waiting; returns its offset in `bytes`. */
  claim(typeId: number, length: number): number {
    if (length > this.slotBytes) throw new Error(`Condition failed: a record of ${length} bytes fits a slot of ${this.slotBytes}`);
    const at = this.count === 0 ? this.ring.tryClaim(typeId, length) : FULL;
    if (at !== FULL) {
      this.bytes = this.ring.bytes;
      this.view = this.ring.view;
      return at;
    }
    if (this.count === this.capacity) throw new Error(this.stalledMessage);
    const slot = (this.head + this.count++) % this.capacity;
    this.types[slot] = typeId;
    this.lengths[slot] = length;
    this.bytes = this.slots;
    this.view = this.slotsView;
    return slot * this.slotBytes;
  }

  /** Moves waiting records into the ring, oldest first, while it has room; returns how many. */
  flush(): number {
    let moved = 0;
    while (this.count > 0) {
      const slot = this.head;
      const length = this.lengths[slot];
      const at = this.ring.tryClaim(this.types[slot], length);
      if (at === FULL) break;
      copyBytes(this.slots, slot * this.slotBytes, this.ring.bytes, at, length);
      this.head = (slot + 1) % this.capacity;
      this.count--;
      moved++;
    }
    // Emptied: the next backlog starts at the first slot again, so the queue's memory touched is
    // that of its deepest backlog, not of every record that ever went through it.
    if (this.count === 0) this.head = 0;
    return moved;
  }

  /** Records waiting for room in the ring. */
  get pending(): number {
    return this.count;
  }
}
