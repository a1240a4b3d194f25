/**
 * The engine's retention driver (workers/journal-retention.ts): the floor from the snapshots of
 * this configuration and the configured sinks' published durable cursors, its counters and its
 * log. Method: a real journal of three boots (JournalWriter, smallest segments), each stage's
 * snapshot saved at boot 3's boundary under this configuration's fingerprint, the persistence
 * counters as the sinks thread would leave them; passes run by hand (no timer).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PersistenceCounter, StageCounters } from '../engine/counters.ts';
import { JournalWriter, MIN_SEGMENT_BYTES, listSegments, segmentFileName } from '../persistence/journal.ts';
import { pgHoldPath, writeSinkHold } from '../persistence/sink-files.ts';
import { SnapshotStore, snapshotFingerprint } from '../persistence/snapshot.ts';
import { validateConfig, type EngineConfig } from './config.ts';
import { JournalRetention, SNAPSHOT_STAGES, archiveDirOf } from './journal-retention.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'journal-retention-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function boot(epochMs: number, frames: number): number {
  const w = new JournalWriter(dir, 'none', 10, 1 << 20, { segmentBytes: MIN_SEGMENT_BYTES, engineEpochMs: epochMs });
  const first = w.sequence;
  const body = new Uint8Array(300).fill(7);
  for (let i = 0; i < frames; i++) w.append(9, body, 0, body.length);
  w.flush(Date.now());
  w.close();
  return first;
}

function configWith(extra: Record<string, unknown>): EngineConfig {
  return validateConfig({ ...extra, journal: { ...validateConfig({}).journal, dir, retention: 'archive', ...(extra.journal as object | undefined) } });
}

/** Four boots; the stages' snapshots at boots 3's and 4's boundaries (each keeps two) under `config`'s fingerprint. */
function journalFor(config: EngineConfig): { b2: number; b3: number; b4: number } {
  boot(1, 800);
  const b2 = boot(2, 800);
  const b3 = boot(3, 800);
  const b4 = boot(4, 100);
  const store = new SnapshotStore(dir, snapshotFingerprint(config));
  for (const b of [b3, b4]) for (const stage of SNAPSHOT_STAGES) store.save(stage, b, 0, (w) => w.number('x', 1));
  return { b2, b3, b4 };
}

describe('JournalRetention', () => {
  it('prunes to the snapshots when no sink is configured; counts and logs what it did, and logs an unchanged reason once', () => {
    const config = configWith({});
    const { b3 } = journalFor(config);
    const segments = listSegments(dir);
    // A Kafka cursor file of a sink configured in an earlier run, not in this one: it holds the journal too.
    mkdirSync(join(dir, 'sinks'));
    writeFileSync(join(dir, 'sinks', 'kafka-old.cursor'), JSON.stringify({ segment: 0, offset: 0, sequence: 5 }));
    const held = new JournalRetention(config, StageCounters.create(), () => {}).pass()!;
    expect(held).toMatchObject({ floor: 5, heldBy: 'sink kafka cursor file kafka-old.cursor', pruned: { segments: [] } });
    // So does a Postgres sink's hold file (persistence/sink-files.ts) of an earlier run, and a file that does not parse holds everything.
    writeSinkHold(pgHoldPath(dir, 'postgres'), 4);
    expect(new JournalRetention(config, StageCounters.create(), () => {}).pass()).toMatchObject({ floor: 4, heldBy: 'sink postgres hold file postgres.pg-cursor' });
    writeFileSync(join(dir, 'sinks', 'postgres.pg-cursor'), '{"seq');
    expect(new JournalRetention(config, StageCounters.create(), () => {}).pass()).toMatchObject({ floor: 1, heldBy: 'sink postgres hold file postgres.pg-cursor (cursor not yet known)' });
    rmSync(join(dir, 'sinks'), { recursive: true });
    const counters = StageCounters.create();
    const logs: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
    const r = new JournalRetention(config, counters, (level, msg, fields) => logs.push({ level, msg, fields }));
    expect(counters.get(PersistenceCounter.JOURNAL_FIRST_SEQUENCE)).toBe(1);
    const pass = r.pass()!;
    expect(pass.floor).toBe(b3);
    expect(pass.pruned.segments.length).toBeGreaterThan(0);
    expect(pass.pruned.segments).toEqual(segments.slice(0, pass.pruned.segments.length));
    for (const i of pass.pruned.segments) expect(existsSync(join(archiveDirOf(config.journal), segmentFileName(i)))).toBe(true);
    expect(counters.get(PersistenceCounter.SEGMENTS_PRUNED)).toBe(pass.pruned.segments.length);
    expect(counters.get(PersistenceCounter.BYTES_PRUNED)).toBe(pass.pruned.bytes);
    expect(counters.get(PersistenceCounter.JOURNAL_FIRST_SEQUENCE)).toBe(pass.firstSequence);
    expect(logs[0].msg).toBe(`journal retention: archived ${pass.pruned.segments.length} segment(s)`);
    expect(logs[0].fields).toMatchObject({ floor: b3, heldBy: 'snapshot risk', archiveDir: join(dir, 'archive') });
    // Nothing more to prune, held by the same: quiet.
    r.pass();
    r.pass();
    expect(logs.length).toBe(1);
  });

  it('with sinks configured, holds the journal until each has published its durable cursor, then keeps it from the lowest', () => {
    const config = configWith({ sinks: { postgres: { url: 'postgres://oms@127.0.0.1:1/oms' }, kafka: { brokers: ['127.0.0.1:1'] } } });
    const { b2, b3, b4 } = journalFor(config);
    const counters = StageCounters.create();
    const logs: string[] = [];
    const r = new JournalRetention(config, counters, (_level, msg, fields) => logs.push(`${msg} (${String(fields?.heldBy)})`));
    // Neither sink has opened in this process: its cursor is unknown. Logged once while so.
    expect(r.pass()).toMatchObject({ floor: 1, heldBy: 'sink postgres (cursor not yet known)', pruned: { segments: [] } });
    r.pass();
    expect(logs).toEqual(['journal retention: nothing to prune (sink postgres (cursor not yet known))']);
    counters.set(PersistenceCounter.PG_DURABLE_SEQUENCE, b4 + 50);
    expect(r.pass()).toMatchObject({ floor: 1, heldBy: 'sink kafka (cursor not yet known)', pruned: { segments: [] } });
    counters.set(PersistenceCounter.KAFKA_DURABLE_SEQUENCE, b2 + 1);
    const pass = r.pass()!;
    expect(pass).toMatchObject({ floor: b2 + 1, heldBy: 'sink kafka' });
    expect(pass.firstSequence).toBeLessThanOrEqual(b2 + 1);
    // The sink moves on past the snapshots: they hold the rest.
    counters.set(PersistenceCounter.KAFKA_DURABLE_SEQUENCE, b4 + 80);
    expect(r.pass()).toMatchObject({ floor: b3, heldBy: 'snapshot risk' });
    // The configured sink's own cursor file is the counter's: not counted twice.
    mkdirSync(join(dir, 'sinks'));
    writeFileSync(join(dir, 'sinks', 'kafka.cursor'), JSON.stringify({ segment: 0, offset: 0, sequence: 3 }));
    writeSinkHold(pgHoldPath(dir, 'postgres'), 2);
    expect(r.pass()).toMatchObject({ floor: b3 });
    // Another Postgres sink's hold file (another sinkName, an earlier run) still counts.
    writeSinkHold(pgHoldPath(dir, 'postgres-old'), b3 - 10);
    expect(r.pass()).toMatchObject({ floor: b3 - 10, heldBy: 'sink postgres hold file postgres-old.pg-cursor' });
  });

  it('holds everything while the snapshots were written under another configuration', () => {
    journalFor(configWith({}));
    const changed = configWith({ orderCapacity: 4096 });
    const r = new JournalRetention(changed, StageCounters.create(), () => {});
    expect(r.pass()).toMatchObject({ floor: 1, heldBy: 'snapshot risk (none holds)', pruned: { segments: [] } });
    expect(() => new JournalRetention(validateConfig({}), StageCounters.create(), () => {})).toThrow(/archive or delete/);
  });
});
