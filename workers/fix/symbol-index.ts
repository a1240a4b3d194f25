/** Symbol bytes -> symbol id for the fix thread (client gateway and the SOR's market-data feed). */
import { equalBytes, hashBytes } from '../../engine/bytes.ts';

/**
 * Open addressing over an FNV-1a hash of the symbol's bytes (engine/bytes.ts hashBytes, seed 0).
 * Ids are the names' indexes; a name listed twice resolves to its first index. Allocates nothing
 * per lookup.
 */
export class SymbolIndex {
  /** The symbols' bytes, by id. */
  readonly names: readonly Uint8Array[];
  private readonly table: Int32Array; // id + 1, 0 = empty
  private readonly mask: number;

  constructor(names: readonly Uint8Array[]) {
    this.names = names.slice();
    let size = 16;
    while (size < names.length * 4) size *= 2;
    this.table = new Int32Array(size);
    this.mask = size - 1;
    for (let id = 0; id < this.names.length; id++) {
      const n = this.names[id];
      let i = hashBytes(0, n, 0, n.length) & this.mask;
      while (this.table[i] !== 0) i = (i + 1) & this.mask;
      this.table[i] = id + 1;
    }
  }

  /** The id of the symbol spelled buf[start, end), or -1. */
  find(buf: Uint8Array, start: number, end: number): number {
    const length = end - start;
    let i = hashBytes(0, buf, start, length) & this.mask;
    for (let probes = 0; probes <= this.mask; probes++) {
      const v = this.table[i];
      if (v === 0) return -1;
      const n = this.names[v - 1];
      if (n.length === length && equalBytes(n, 0, buf, start, length)) return v - 1;
      i = (i + 1) & this.mask;
    }
    return -1;
  }
}
