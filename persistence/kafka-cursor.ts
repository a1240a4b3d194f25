/**
 * The Kafka sink's cursor file, read without kafkajs: the sink (persistence/kafka-sink.ts) resumes
 * from it, and journal.retention (workers/journal-retention.ts, on the main thread) keeps the
 * journal from every such file's cursor on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JournalCursor } from './journal-reader.ts';

/** The Kafka sinks' cursor files, `<journal.dir>/sinks/<sinkName>.cursor` (workers/sinks-thread.ts). */
export function kafkaCursorDir(journalDir: string): string {
  return join(journalDir, 'sinks');
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

