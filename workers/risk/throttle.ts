/**
 * Token buckets per account on the engine clock, in typed arrays (no object per account or per
 * command). A bucket holds up to `burst` tokens and gains `ratePerS` per second; a command takes
 * one token or is refused. Rate and burst are read from the live limits at each take, so an
 * admin change applies to the next command. Tokens are a float (a count of commands, not money).
 */
export class AccountThrottle {
  private readonly tokens: Float64Array;
  private readonly lastNs: Float64Array;
  /** 1 once the bucket was first used (it starts full). */
  private readonly started: Uint8Array;

  constructor(accountSlots: number) {
    this.tokens = new Float64Array(accountSlots);
    this.lastNs = new Float64Array(accountSlots);
    this.started = new Uint8Array(accountSlots);
  }

  /** Takes one token for the account; false when the bucket is empty. */
  take(accountId: number, ratePerS: number, burst: number, nowNs: number): boolean {
    let t: number;
    if (this.started[accountId] === 0) {
      this.started[accountId] = 1;
      t = burst;
    } else {
      const elapsedNs = nowNs - this.lastNs[accountId];
      t = this.tokens[accountId] + (elapsedNs > 0 ? (elapsedNs * ratePerS) / 1e9 : 0);
      if (t > burst) t = burst;
    }
    this.lastNs[accountId] = nowNs;
    if (t < 1) {
      this.tokens[accountId] = t;
      return false;
    }
    this.tokens[accountId] = t - 1;
    return true;
  }
}
