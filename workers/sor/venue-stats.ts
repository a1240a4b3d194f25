/**
 * What the SOR learns about each venue from its own children (seed 000, section 5.2: "historical
 * fill probability", "average round-trip latency"), as exponentially weighted moving averages
 * seeded with the configured priors:
 *
 *   latencyUs  <- latencyUs + alpha * (sample - latencyUs), sample = first venue response to a
 *                 child (ack, fill, cancel or reject) minus the time the fix stage sent it, both
 *                 read from the fix thread's clock (CHILD_EVENT timeNs).
 *   fillProb   <- fillProb + alpha * (filled / qty - fillProb), once per child when it ends
 *                 (filled, canceled, expired, rejected): the fraction of what was sent that filled.
 *
 * A child the SOR canceled itself (a staged fallback) still counts: the venue did not fill it in
 * the time it had. A child the fix stage refused before sending it (CHILD_TABLE_FULL: its slot
 * there still held an older live child) does not: the venue never saw it (onWithdrawn). Plain
 * numbers per venue id, one writer (the SOR thread), nothing allocated.
 */
export class VenueStats {
  readonly latencyUs: Float64Array;
  readonly fillProb: Float64Array;
  /** Counts, for the audit and the tests: children sent, latency samples, ended children, fills. */
  readonly sent: Float64Array;
  readonly latencySamples: Float64Array;
  readonly ended: Float64Array;
  readonly filledQty: Float64Array;
  readonly sentQty: Float64Array;
  alpha: number;

  constructor(venues: number, alpha: number) {
    if (!(alpha > 0 && alpha <= 1)) throw new Error('Condition failed: alpha in (0, 1]');
    this.latencyUs = new Float64Array(venues);
    this.fillProb = new Float64Array(venues);
    this.sent = new Float64Array(venues);
    this.latencySamples = new Float64Array(venues);
    this.ended = new Float64Array(venues);
    this.filledQty = new Float64Array(venues);
    this.sentQty = new Float64Array(venues);
    this.alpha = alpha;
  }

  prior(venue: number, latencyUs: number, fillProb: number): void {
    this.latencyUs[venue] = latencyUs;
    this.fillProb[venue] = fillProb;
  }

  onSent(venue: number, qty: number): void {
    this.sent[venue]++;
    this.sentQty[venue] += qty;
  }

  /** A child counted by onSent that was never sent after all (refused inside the engine). */
  onWithdrawn(venue: number, qty: number): void {
    this.sent[venue]--;
    this.sentQty[venue] -= qty;
  }

  onFirstResponse(venue: number, roundTripNs: number): void {
    if (!(roundTripNs >= 0)) return;
    const us = roundTripNs / 1000;
    this.latencyUs[venue] += this.alpha * (us - this.latencyUs[venue]);
    this.latencySamples[venue]++;
  }

  onEnded(venue: number, qty: number, filled: number): void {
    if (!(qty > 0)) return;
    this.fillProb[venue] += this.alpha * (filled / qty - this.fillProb[venue]);
    this.ended[venue]++;
    this.filledQty[venue] += filled;
  }
}
