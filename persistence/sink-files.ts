/**
 * The sinks' files beside the journal, in `<journal.dir>/sinks/`, read without kafkajs or pg:
 *
 *   <sinkName>.cursor     a Kafka sink's cursor (persistence/kafka-sink.ts): where it resumes;
 *   <sinkName>.pg-cursor  a Postgres sink's hold file: the sequence its database holds durably
 *                         (Sink.durableSequence), mirrored by the sinks thread
 *                         (persistence/sink-runner.ts: at open, on a fall at once, on a rise
 *                         every few seconds, and at stop). The sink resumes from its database,
 *                         never from this file; it may lag the database (holds more, never less).
 *
 * journal.retention (workers/journal-retention.ts) keeps the journal from every such file's
 * sequence on, so a sink left out of a run still holds it from where it stopped. Both are
 * written by journal.ts writeFileDurably.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { JournalCursor } from './journal-reader.ts';
import { writeFileDurably } from './journal.ts';

const KAFKA_CURSOR_SUFFIX = '.cursor';
const PG_HOLD_SUFFIX = '.pg-cursor';

/** The sinks' directory, `<journal.dir>/sinks`. */
export function sinksDir(journalDir: string): string {
  return join(journalDir, 'sinks');
}

/** The file name of the Kafka sink named sinkName's cursor. */
export function kafkaCursorName(sinkName: string): string {
  return `${sinkName}${KAFKA_CURSOR_SUFFIX}`;
}

/** The file name of the Postgres sink named sinkName's hold file. */
export function pgHoldName(sinkName: string): string {
  return `${sinkName}${PG_HOLD_SUFFIX}`;
}

/** The path of the Postgres sink named sinkName's hold file. */
export function pgHoldPath(journalDir: string, sinkName: string): string {
  return join(sinksDir(journalDir), pgHoldName(sinkName));
}

/** The cursor in a Kafka sink's cursor file, or null when it is absent or does not parse. */
export function readKafkaCursor(path: string): JournalCursor | null {
  try {
    const c = JSON.parse(readFileSync(path, 'utf8')) as JournalCursor;
    if (Number.isInteger(c.segment) && Number.isInteger(c.offset) && Number.isInteger(c.sequence) && c.sequence >= 1) return c;
  } catch {
    // absent or not JSON
  }
  return null;
}

/** Writes a hold file durably (replacing the one before). Throws on an I/O error. */
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

/**
 * The sequence in each sink file of `<journal.dir>/sinks/` but those named in `except` (the
 * sinks configured now, whose live counters count instead), keyed by what it is ("kafka cursor
 * file x.cursor", "postgres hold file y.pg-cursor"). A file that does not parse gives 0
 * (unknown: the whole journal is held).
 */
export function sinkFileSequences(journalDir: string, except: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  const dir = sinksDir(journalDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    if (except.includes(name)) continue;
    if (name.endsWith(PG_HOLD_SUFFIX)) out.set(`postgres hold file ${name}`, readSinkHold(join(dir, name)) ?? 0);
    else if (name.endsWith(KAFKA_CURSOR_SUFFIX)) out.set(`kafka cursor file ${name}`, readKafkaCursor(join(dir, name))?.sequence ?? 0);
  }
  return out;
}
