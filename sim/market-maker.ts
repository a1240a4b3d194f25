/**
 * A seeded market maker: for each symbol it keeps `levels` bids and asks around a reference
 * price that moves by a random walk, one step per step() call. Each step pulls its old quotes
 * and places new ones through VenueCore.makerQuote, which first trades against any resting
 * client order the new quotes cross: that is how a passive client limit order fills "later",
 * when the walk reaches it.
 *
 *        ref - 3t   ref - 2t   ref - t  | ref |  ref + t   ref + 2t  ref + 3t
 *         bid L2     bid L1    bid L0   |     |  ask L0    ask L1    ask L2      (t = tick size * spreadTicks)
 *
 * Deterministic: the only randomness is its own Mulberry32 streams. With `marketSeed`, the
 * reference walk comes from a stream of that seed alone and the level sizes from `seed`: venue
 * processes started with the same market seed walk the same mid, step for step (one market
 * seen through several venues, each with its own depth and spread), so a route across them meets
 * consistent prices, and the whole session replays from the seeds. Without it one stream drives
 * both (the walk of each venue is then its own).
 */
import { Mulberry32 } from '../engine/prng.ts';
import { Side } from './order-book.ts';
import type { VenueCore } from './venue-core.ts';

export interface MarketMakerConfig {
  seed: number;
  /** Seed of the reference walk shared by every venue of one simulated market (optional). */
  marketSeed?: number;
  /** Quote levels per side. Default 5. */
  levels?: number;
  /** Base quantity per level; each level gets base * (1..3). Default 100. */
  levelQty?: number;
  /** Half-spread in tick sizes from the reference to the best quote. Default 1. */
  halfSpreadTicks?: number;
  /** Largest move of the reference per step, in tick sizes (uniform in [-max, +max]). Default 1. */
  maxStepTicks?: number;
}

export class MarketMaker {
  readonly refTicks: number[];
  private readonly core: VenueCore;
  private readonly rng: Mulberry32;
  private readonly walkRng: Mulberry32;
  private readonly levels: number;
  private readonly levelQty: number;
  private readonly halfSpreadTicks: number;
  private readonly maxStepTicks: number;
  /** Resting book ids per symbol, from the last step. */
  private readonly quoteIds: number[][];
  stepCount: number;

  constructor(core: VenueCore, config: MarketMakerConfig) {
    this.core = core;
    this.rng = new Mulberry32(config.seed);
    this.walkRng = config.marketSeed === undefined ? this.rng : new Mulberry32(config.marketSeed);
    this.levels = config.levels ?? 5;
    this.levelQty = config.levelQty ?? 100;
    this.halfSpreadTicks = config.halfSpreadTicks ?? 1;
    this.maxStepTicks = config.maxStepTicks ?? 1;
    if (!(Number.isInteger(this.levels) && this.levels >= 1 && this.levels <= 50)) throw new Error('Condition failed: levels in 1..50');
    if (!(Number.isInteger(this.levelQty) && this.levelQty >= 1)) throw new Error('Condition failed: levelQty >= 1');
    if (!(Number.isInteger(this.halfSpreadTicks) && this.halfSpreadTicks >= 1)) throw new Error('Condition failed: halfSpreadTicks >= 1');
    if (!(Number.isInteger(this.maxStepTicks) && this.maxStepTicks >= 0)) throw new Error('Condition failed: maxStepTicks >= 0');
    this.refTicks = core.startPrices.slice();
    this.quoteIds = core.symbols.map(() => []);
    this.stepCount = 0;
  }

  /** Quotes around the current references without moving them (the first quote of a run). */
  quoteAll(): void {
    for (let s = 0; s < this.refTicks.length; s++) this.requote(s);
  }

  /** Moves every reference one random-walk step and re-quotes. */
  step(): void {
    this.stepCount++;
    const tick = this.core.tickSizeTicks;
    for (let s = 0; s < this.refTicks.length; s++) {
      const move = this.walkRng.nextInt(2 * this.maxStepTicks + 1) - this.maxStepTicks;
      const floor = (this.halfSpreadTicks + this.levels) * tick;
      const next = this.refTicks[s] + move * tick;
      this.refTicks[s] = next > floor ? next : floor;
      this.requote(s);
    }
  }

  private requote(s: number): void {
    const ids = this.quoteIds[s];
    for (const id of ids) this.core.makerCancel(s, id);
    ids.length = 0;
    const tick = this.core.tickSizeTicks;
    const ref = this.refTicks[s];
    for (let k = 0; k < this.levels; k++) {
      const offset = (this.halfSpreadTicks + k) * tick;
      const bidQty = this.levelQty * (1 + this.rng.nextInt(3));
      const askQty = this.levelQty * (1 + this.rng.nextInt(3));
      const bidId = this.core.makerQuote(s, Side.BUY, ref - offset, bidQty);
      if (bidId >= 0) ids.push(bidId);
      const askId = this.core.makerQuote(s, Side.SELL, ref + offset, askQty);
      if (askId >= 0) ids.push(askId);
    }
    this.core.publishTop(s);
  }
}
