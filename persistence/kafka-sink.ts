/**
 * The Kafka sink: produces journal events to the seed's topics with kafkajs, acks = all.
 *
 *   orders.inbound    commands taken (new, cancel, replace, mass cancel)   key: account id
 *   orders.validated  the acceptance decision of an order (report NEW / REJECTED)   key: order id
 *   orders.routing    children sent to venues, each routing decision (ROUTE_DONE), and its
 *                     audit: the SOR's inputs, every venue's scores, the chosen routes
 *                     (ROUTE_AUDIT, the document of GET /v1/orders/{id}/route)   key: order id
 *   orders.execution  every other order report (fills, cancels, replaces), and venue-side child
 *                     events (acks, fills, cancels, rejects)                key: order id
 *   marketdata.l1     top of book per venue and symbol (QUOTE records)     key: symbol
 *   audit.admin       SOR configuration and kill-switch changes            key: "sor" / account id
 *
 * The key keeps one order's events on one partition, in journal order (one batch in flight at
 * a time: maxInFlightRequests 1). Every message carries its event id (the journal sequence
 * number) in the `event-id` header and the value, for consumer-side deduplication: delivery is
 * at least once (a batch whose acknowledgement was lost is sent again after a reconnect).
 * Values are JSON (the seed allows JSON for the POC); prices are decimal strings, never floats.
 *
 * Cursor: a small file (<cursorDir>/<sinkName>.cursor) written, fsynced and renamed into place
 * after an acknowledged batch, at most once every cursorEveryMs (and at once when the sink has
 * caught up, or closes). Each write is a file created, fsynced and renamed, and its directory
 * fsynced: metadata commits on the file system the journal shares, which a live load would
 * otherwise pay after every batch. A crash resends what was acknowledged after the last write
 * (the batches of up to cursorEveryMs; everything since the last write while writes fail):
 * delivery is at least once anyway, and consumers drop repeats by event id. Per DESIGN.md, neither admin createTopics nor the idempotent
 * producer is used: both fail against librdkafka's mock cluster; topics are auto-created.
 */

import { join } from 'node:path';
import { Kafka, logLevel, type Message, type Producer, type TopicMessages } from 'kafkajs';
import { RecordType } from '../codecs/records.ts';
import { isoMillis } from '../codecs/iso-time.ts';
import { averagePriceTicks, ticksToDecimalString } from '../engine/fixed-point.ts';
import type { JournalCursor } from './journal-reader.ts';
import { writeFileDurably } from './journal.ts';
import { kafkaCursorName, readKafkaCursor } from './sink-files.ts';
import { KeyHashPartitioner } from './kafka-partitioner.ts';
import { EventDecoder, type EventNames, type EventOf, type JournalEvent } from './journal-events.ts';
import type { Sink, SinkBatch } from './sink-runner.ts';

export const KafkaTopic = {
  INBOUND: 'orders.inbound',
  VALIDATED: 'orders.validated',
  ROUTING: 'orders.routing',
  EXECUTION: 'orders.execution',
  MARKETDATA: 'marketdata.l1',
  AUDIT: 'audit.admin',
} as const;
export const KAFKA_TOPICS: readonly string[] = Object.values(KafkaTopic);

export interface KafkaSinkOptions {
  brokers: string[];
  clientId: string;
  names: EventNames;
  /** Directory of the cursor file (the journal's directory by default, in the sinks thread). */
  cursorDir: string;
  /** Cursor file name part: several sinks (clusters) can follow one journal. */
  sinkName: string;
  /** Milliseconds a produce request may wait for acks = all. */
  requestTimeoutMs: number;
  connectionTimeoutMs: number;
  /**
   * Least milliseconds between two cursor writes while batches keep coming (0: after every
   * batch). A crash resends the batches acknowledged since the last write (consumers dedupe by event id).
   */
  cursorEveryMs: number;
}

interface Routed {
  topic: string;
  key: string;
  value: Record<string, unknown>;
}

const px = (ticks: number): string | null => (ticks === 0 ? null : ticksToDecimalString(ticks));
const iso = isoMillis;

/** Which topic, key and value each event type becomes; null: not published. */
const KAFKA_MAPPING: { [K in JournalEvent['type']]: (e: EventOf<K>) => Routed | null } = {
  NEW_ORDER: (e) => ({
    topic: KafkaTopic.INBOUND, key: `account-${e.accountId}`,
    value: {
      event_id: e.seq, type: e.type, client_id: e.accountId, cl_ord_id: e.clOrdId,
      payload: { symbol: e.symbol, side: e.side, qty: e.qty, price: px(e.priceTicks), ord_type: e.ordType, tif: e.tif, source: e.source }, ts: iso(e.atMs),
    },
  }),
  CANCEL_ORDER: (e) => ({
    topic: KafkaTopic.INBOUND, key: `account-${e.accountId}`,
    value: { event_id: e.seq, type: e.type, client_id: e.accountId, order_id: e.orderId || null, cl_ord_id: e.clOrdId, orig_cl_ord_id: e.origClOrdId, ts: iso(e.atMs) },
  }),
  REPLACE_ORDER: (e) => ({
    topic: KafkaTopic.INBOUND, key: `account-${e.accountId}`,
    value: {
      event_id: e.seq, type: e.type, client_id: e.accountId, order_id: e.orderId || null, cl_ord_id: e.clOrdId, orig_cl_ord_id: e.origClOrdId,
      payload: { qty: e.qty, price: px(e.priceTicks) }, ts: iso(e.atMs),
    },
  }),
  MASS_CANCEL: (e) => ({
    topic: KafkaTopic.INBOUND, key: `account-${e.accountId}`,
    value: { event_id: e.seq, type: e.type, client_id: e.accountId, symbol: e.symbol, reason: e.reason, ts: iso(e.atMs) },
  }),
  EXEC_REPORT: (e) => {
    const key = e.orderId > 0 ? String(e.orderId) : `account-${e.accountId}`;
    if (e.execType === 'NEW' || e.execType === 'REJECTED') {
      return {
        topic: KafkaTopic.VALIDATED, key,
        value: {
          event_id: e.seq, order_id: e.orderId, status: e.status,
          validation_meta: { exec_type: e.execType, reason: e.reason, client_id: e.accountId, cl_ord_id: e.clOrdId, symbol: e.symbol, side: e.side, qty: e.qty, price: px(e.priceTicks) },
          ts: iso(e.atMs),
        },
      };
    }
    return {
      topic: KafkaTopic.EXECUTION, key,
      value: {
        event_id: e.seq, order_id: e.orderId, venue: e.venue, exec_qty: e.lastQty, exec_price: px(e.lastPxTicks), report_type: e.execType,
        status: e.status, cum_qty: e.cumQty, leaves_qty: e.leavesQty, avg_px: px(averagePriceTicks(e.cumNotionalTicks, e.cumQty)),
        reason: e.reason, cl_ord_id: e.clOrdId, client_id: e.accountId, ts: iso(e.atMs),
        // The client-facing ExecID of the report; a bust or correction names its fill's in exec_ref_seq (else null).
        report_seq: e.eventSeq, exec_ref_seq: e.execRefSeq > 0 ? e.execRefSeq : null,
      },
    };
  },
  CHILD_EVENT: (e) => {
    if (e.kind === 'SENT') {
      return {
        topic: KafkaTopic.ROUTING, key: String(e.orderId),
        value: { event_id: e.seq, order_id: e.orderId, routes: [{ venue: e.venue, qty: e.qty, price: px(e.priceTicks), leg_id: e.childId }], correlation_id: e.orderId, ts: iso(e.atMs) },
      };
    }
    return {
      topic: KafkaTopic.EXECUTION, key: String(e.orderId),
      value: {
        event_id: e.seq, order_id: e.orderId, leg_id: e.childId, venue: e.venue, exec_qty: e.lastQty, exec_price: px(e.lastPxTicks),
        report_type: `VENUE_${e.kind}`, reason: e.reason, exec_id: e.execId, exec_ref_id: e.execRefId, ts: iso(e.atMs),
      },
    };
  },
  ROUTE_DONE: (e) => ({
    topic: KafkaTopic.ROUTING, key: String(e.orderId),
    value: { event_id: e.seq, order_id: e.orderId, routed_qty: e.routedQty, child_count: e.childCount, reason: e.reason, decision_us: e.decisionUs, correlation_id: e.orderId, ts: iso(e.atMs) },
  }),
  QUOTE: (e) => ({
    topic: KafkaTopic.MARKETDATA, key: e.symbol,
    value: { event_id: e.seq, symbol: e.symbol, venue: e.venue, bid: px(e.bidTicks), bid_qty: e.bidQty, ask: px(e.askTicks), ask_qty: e.askQty, ts: iso(e.atMs) },
  }),
  SOR_CONFIG: (e) => ({
    topic: KafkaTopic.AUDIT, key: 'sor',
    value: {
      event_id: e.seq, type: e.type, version: e.version, admin_id: e.adminAccountId, mode: e.mode, quote_stale_ms: e.quoteStaleMs,
      weights_millionths: { price: e.priceWeight, latency: e.latencyWeight, fillprob: e.fillprobWeight, fee: e.feeWeight }, ts: iso(e.atMs),
    },
  }),
  ACCOUNT_CONTROL: (e) => ({
    topic: KafkaTopic.AUDIT, key: `account-${e.accountId}`,
    value: { event_id: e.seq, type: e.type, client_id: e.accountId, admin_id: e.adminAccountId, mode: e.mode, ts: iso(e.atMs) },
  }),
  // Positions are engine state for the edge, not a seed topic: kept in Postgres only.
  POSITION: () => null,
};

/** Messages of one batch, grouped by topic in journal order. */
export class KafkaBatch implements SinkBatch {
  private readonly decoder: EventDecoder;
  frames = 0;
  unknown = 0;
  /** Messages in this batch. */
  messages = 0;
  byTopic = new Map<string, Message[]>();

  constructor(names: EventNames) {
    this.decoder = new EventDecoder(names);
  }

  onFrame(typeId: number, sequence: number, epochMs: number, view: DataView, bytes: Uint8Array, offset: number, length: number): void {
    this.frames++;
    if (typeId === RecordType.ROUTE_AUDIT) {
      // One routing decision with everything needed to reproduce it (as the Postgres sink's
      // route_audit.input_features): the seed's audit of every decision, for surveillance.
      const a = this.decoder.auditDoc(view, bytes, offset, epochMs);
      const value = { event_id: sequence, order_id: a.orderId, decision: a.doc, correlation_id: a.orderId };
      this.push(KafkaTopic.ROUTING, String(a.orderId), value, sequence, 'ROUTE_AUDIT');
      return;
    }
    const e = this.decoder.decode(typeId, sequence, epochMs, view, bytes, offset, length);
    if (e === null) {
      this.unknown++;
      return;
    }
    const routed = (KAFKA_MAPPING[e.type] as (e: JournalEvent) => Routed | null)(e);
    if (routed === null) return;
    this.push(routed.topic, routed.key, routed.value, e.seq, e.type);
  }

  private push(topic: string, key: string, value: Record<string, unknown>, seq: number, type: string): void {
    let list = this.byTopic.get(topic);
    if (list === undefined) {
      list = [];
      this.byTopic.set(topic, list);
    }
    list.push({ key, value: JSON.stringify(value), headers: { 'event-id': String(seq), 'event-type': type } });
    this.messages++;
  }

  reset(): void {
    this.frames = 0;
    this.unknown = 0;
    this.messages = 0;
    this.byTopic = new Map();
  }
}

export class KafkaSink implements Sink {
  readonly name = 'kafka';
  readonly batch: KafkaBatch;
  private readonly opts: KafkaSinkOptions;
  private producer: Producer | null;
  private readonly cursorPath: string;
  /** Messages acknowledged since start. */
  messagesSent: number;
  /** The sequence of the cursor file's cursor (Sink.durableSequence). */
  durableSequence: number;
  /** Cursor files written since start. */
  cursorWrites: number;
  /** The cursor after the last acknowledged batch, when the file is behind it (throttled); else null. */
  private pending: JournalCursor | null;
  /** performance.now() of the last cursor write (-Infinity: none yet); monotonic, so a clock step cannot stall the throttle. */
  private cursorWrittenAtMs: number;

  constructor(options: Partial<KafkaSinkOptions> & Pick<KafkaSinkOptions, 'brokers' | 'names' | 'cursorDir'>) {
    this.opts = { clientId: 'oms-sor', sinkName: 'kafka', requestTimeoutMs: 10_000, connectionTimeoutMs: 3_000, cursorEveryMs: 0, ...options };
    if (this.opts.brokers.length === 0) throw new Error('Condition failed: kafka sink needs at least one broker');
    const every = this.opts.cursorEveryMs;
    if (!(Number.isInteger(every) && every >= 0 && every <= 60_000)) throw new Error('Condition failed: cursorEveryMs in [0, 60000]');
    this.batch = new KafkaBatch(this.opts.names);
    this.producer = null;
    this.cursorPath = join(this.opts.cursorDir, kafkaCursorName(this.opts.sinkName));
    this.messagesSent = 0;
    this.durableSequence = 0;
    this.cursorWrites = 0;
    this.pending = null;
    this.cursorWrittenAtMs = Number.NEGATIVE_INFINITY;
  }

  async open(): Promise<JournalCursor> {
    await this.close();
    const kafka = new Kafka({
      clientId: this.opts.clientId,
      brokers: this.opts.brokers,
      connectionTimeout: this.opts.connectionTimeoutMs,
      requestTimeout: this.opts.requestTimeoutMs,
      // Few quick retries: the sink runner owns the longer backoff and re-reads the journal.
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer({
      idempotent: false,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: true,
      createPartitioner: KeyHashPartitioner,
    });
    this.producer = producer;
    await producer.connect();
    const cursor = this.readCursor();
    this.durableSequence = cursor.sequence;
    return cursor;
  }

  async apply(after: JournalCursor): Promise<void> {
    const producer = this.producer;
    if (producer === null) throw new Error('kafka sink: not connected');
    if (this.batch.messages > 0) {
      const topicMessages: TopicMessages[] = [];
      for (const [topic, messages] of this.batch.byTopic) topicMessages.push({ topic, messages });
      await producer.sendBatch({ topicMessages, acks: -1, timeout: this.opts.requestTimeoutMs });
      this.messagesSent += this.batch.messages;
    }
    // Acknowledged: owed to the file from now on, whether this write is due, throttled or fails
    // (a failure throws to the runner, which reopens; close() tries the write again first).
    this.pending = { segment: after.segment, offset: after.offset, sequence: after.sequence };
    const now = performance.now();
    if (now - this.cursorWrittenAtMs >= this.opts.cursorEveryMs) this.writeCursor(this.pending, now);
  }

  /** Writes a cursor the throttle left behind (the runner calls it when caught up). Throws on failure. */
  checkpoint(): void {
    if (this.pending !== null) this.writeCursor(this.pending, performance.now());
  }

  private readCursor(): JournalCursor {
    // No cursor yet (or one that does not parse): from the journal's start.
    return readKafkaCursor(this.cursorPath) ?? { segment: 0, offset: 0, sequence: 1 };
  }

  private writeCursor(c: JournalCursor, now: number): void {
    // Durable, rename included: journal.retention keeps the journal from this cursor on.
    writeFileDurably(this.cursorPath, JSON.stringify({ segment: c.segment, offset: c.offset, sequence: c.sequence }));
    this.durableSequence = c.sequence;
    this.cursorWrittenAtMs = now;
    this.cursorWrites++;
    this.pending = null;
  }

  async close(): Promise<void> {
    // What was acknowledged before a close (a stop, or a failure after it) is written now.
    try {
      this.checkpoint();
    } catch {
      // Left to the next open's cursor (older): those messages are sent again, and deduplicated.
    }
    const p = this.producer;
    this.producer = null;
    if (p !== null) await p.disconnect().catch(() => {});
  }
}
