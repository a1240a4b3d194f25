/**
 * The kill switch's own path from the admin API to risk, beside the rings. A change written as a
 * ring record would wait behind every order already in ingest's ring, would not be read at all
 * while risk holds records for a lagging SOR (risk-stage.ts, the ring cycle), and could not be
 * written while that ring is full: the moments an admin most needs it. So ingest writes the
 * change into these words of shared memory, rings risk's doorbell, and risk, which loads the
 * generation word at the top of every duty cycle (one load), applies it before anything else it
 * reads in that cycle and journals it there (an ACCOUNT_CONTROL record): orders read after it
 * are refused, and a replay of the journal sees the change exactly where risk made it.
 *
 *   Int32 words: [0] GENERATION, then per account slot a (0: every account) four words:
 *     1 + 4a  MODE        (requests << 2) | mode   the latest mode asked, and how many asks so far
 *     2 + 4a  HALTS       HALTED asks so far        a halt undone before risk looked still cancels
 *     3 + 4a  ADMIN       the admin account of the latest ask
 *     4 + 4a  HALT_ADMIN  the admin account of the latest HALTED ask (journaled with the halt)
 *
 * One writer (the ingest thread), one reader (risk). GENERATION is a sequence lock: odd while
 * the writer is between its first and last store, so a reader that sees it odd, or changed
 * across its reads, leaves the change for its next cycle. The words are per boot: risk's modes
 * come back from the journal, and what it has seen of the board starts at zero with it.
 */
import { AccountMode } from '../../codecs/records.ts';

const GENERATION = 0;
const WORDS_PER_ACCOUNT = 4;
const MODE = 1;
const HALTS = 2;
const ADMIN = 3;
const HALT_ADMIN = 4;
/** 29 bits of ask count beside the 2-bit mode; compared for equality only, so wrapping is harmless. */
const REQUESTS_MASK = 0x1fffffff;

export function killBoardBytes(accountSlots: number): number {
  return (1 + WORDS_PER_ACCOUNT * accountSlots) * 4;
}

export class KillBoard {
  readonly sab: SharedArrayBuffer;
  readonly words: Int32Array;
  /** Account ids 0 (every account) .. accountSlots - 1. */
  readonly accountSlots: number;

  constructor(sab: SharedArrayBuffer) {
    const words = sab.byteLength / 4;
    if (!(Number.isInteger(words) && words >= 1 + WORDS_PER_ACCOUNT && (words - 1) % WORDS_PER_ACCOUNT === 0)) throw new Error('Condition failed: kill board length');
    this.sab = sab;
    this.words = new Int32Array(sab);
    this.accountSlots = (words - 1) / WORDS_PER_ACCOUNT;
  }

  static create(accountSlots: number): KillBoard {
    if (!(Number.isInteger(accountSlots) && accountSlots >= 1)) throw new Error('Condition failed: kill board account slots >= 1');
    return new KillBoard(new SharedArrayBuffer(killBoardBytes(accountSlots)));
  }

  /** Writer (ingest): asks for `mode` on accountId (0: every account). False when out of range. */
  request(accountId: number, mode: number, adminAccountId: number): boolean {
    if (!(Number.isInteger(accountId) && accountId >= 0 && accountId < this.accountSlots)) return false;
    if (!(mode === AccountMode.NORMAL || mode === AccountMode.HALTED || mode === AccountMode.REDUCE_ONLY)) return false;
    const w = this.words;
    const at = WORDS_PER_ACCOUNT * accountId;
    Atomics.add(w, GENERATION, 1);
    const requests = ((w[at + MODE] >>> 2) + 1) & REQUESTS_MASK;
    Atomics.store(w, at + ADMIN, adminAccountId);
    if (mode === AccountMode.HALTED) {
      Atomics.store(w, at + HALT_ADMIN, adminAccountId);
      Atomics.add(w, at + HALTS, 1);
    }
    Atomics.store(w, at + MODE, (requests << 2) | mode);
    Atomics.add(w, GENERATION, 1);
    return true;
  }

  // Reader side (risk).

  generation(): number {
    return Atomics.load(this.words, GENERATION);
  }

  modeWord(accountId: number): number {
    return Atomics.load(this.words, WORDS_PER_ACCOUNT * accountId + MODE);
  }

  halts(accountId: number): number {
    return Atomics.load(this.words, WORDS_PER_ACCOUNT * accountId + HALTS);
  }

  admin(accountId: number): number {
    return Atomics.load(this.words, WORDS_PER_ACCOUNT * accountId + ADMIN);
  }

  haltAdmin(accountId: number): number {
    return Atomics.load(this.words, WORDS_PER_ACCOUNT * accountId + HALT_ADMIN);
  }
}

/** The mode a MODE word asks for. */
export function modeOfWord(word: number): number {
  return word & 3;
}
