/**
 * Token buckets for the edge's rate limits: per WebSocket connection (every message) and per
 * account (order commands, over all of the account's connections and REST). A bucket holds up
 * to `burst` tokens and refills at `ratePerS`; a message takes one token or is refused with
 * RATE_LIMITED. Time is integer milliseconds from the caller, so tests step it by hand.
 */
export class TokenBucket {
  private readonly ratePerMs: number;
  private readonly burst: number;
  private tokens: number;
  private lastMs: number;
  /**
   * Refusals since the client last recovered (let through with the bucket at least half full
   * again): a client that keeps pushing holds the bucket near empty, so the count climbs and
   * marks a flood; one that backs off refills and is forgiven. Independent of how the messages
   * are spread in time.
   */
  refusedInARow: number;

  constructor(ratePerS: number, burst: number, nowMs: number) {
    this.ratePerMs = ratePerS / 1000;
    this.burst = burst;
    this.tokens = burst;
    this.lastMs = nowMs;
    this.refusedInARow = 0;
  }

  /** Takes one token if there is one. */
  take(nowMs: number): boolean {
    const elapsed = nowMs - this.lastMs;
    if (elapsed > 0) {
      const refilled = this.tokens + elapsed * this.ratePerMs;
      this.tokens = refilled < this.burst ? refilled : this.burst;
      this.lastMs = nowMs;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      if (this.tokens >= this.burst / 2) this.refusedInARow = 0;
      return true;
    }
    this.refusedInARow++;
    return false;
  }
}
