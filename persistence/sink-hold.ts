/**
 * A Postgres sink's hold file, `<journal.dir>/sinks/<sinkName>.pg-cursor`: the sequence its
 * database holds durably (Sink.durableSequence), mirrored beside the journal by the sinks thread
 * (persistence/sink-runner.ts, every few seconds and at stop). The sink resumes from its database,
 * never from this file; journal.retention (workers/journal-retention.ts) reads it so that a
 * Postgres sink left out of a run still holds the journal from where it stopped, as a Kafka
 * sink's cursor file does. The mirror may lag the database (it holds more, never less).
 *
 * Written as the Kafka cursor is (journal.ts writeFileDurably).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from './journal.ts';
import { kafkaCursorDir } from './kafka-cursor.ts';

export const PG_HOLD_SUFFIX = '.pg-cursor';

/** The hold file of the Postgres sink named sinkName (in the Kafka cursor files' directory). */
export function pgHoldPath(journalDir: string, sinkName: string): string {
  return join(kafkaCursorDir(journalDir), `${sinkName}${PG_HOLD_SUFFIX}`);
}

/** Writes a hold file durably (replacing the one before: journal.ts writeFileDurably). Throws on an I/O error. */
export function writeSinkHold(path: string, sequence: number): void {
  if (!(Number.isSafeInteger(sequence) && sequence >= 1)) throw new Error(`Condition failed: a hold is a journal sequence >= 1, not ${sequence}`);
  writeFileDurably(path, `${JSON.stringify({ sequence, writtenAt: new Date().toISOString() })}\n`);
}

/** The sequence in a hold file, or null when it is absent or does not parse. */
export function readSinkHold(path: string): number | null {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as { sequence?: unknown };
    if (Number.isSafeInteger(h.sequence) && (h.sequence as number) >= 1) return h.sequence as number;
  } catch {
    // absent or not JSON
  }
  return null;
}
