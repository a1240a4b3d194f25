/**
 * Seeded pseudo-random generator (mulberry32): 32-bit state, fast, good enough for a simulator,
 * and identical on every platform. Everything random in the simulators, the seeded tests and the reconnect jitter comes from one of these, never from
 * Math.random, so a seed replays a run exactly.
 */
export class Mulberry32 {
  private state: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new Error('Condition failed: integer seed');
    this.state = seed >>> 0;
  }

  /** Uniform integer in [0, 2^32). */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform float in [0, 1). For probabilities only, never for prices. */
  nextFloat(): number {
    return this.nextU32() / 4_294_967_296;
  }

  /** Uniform integer in [0, n). */
  nextInt(n: number): number {
    if (!(Number.isInteger(n) && n > 0)) throw new Error('Condition failed: n is a positive integer');
    return Math.floor(this.nextFloat() * n);
  }
}
