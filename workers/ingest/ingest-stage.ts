/**
 * The ingest stage: the uWebSockets.js server for traders (WebSocket at /v1/ws) and UIs (REST),
 * on the configured HTTP port.
 *
 *   client --WS JSON|FlatBuffers / REST--> [authenticate, rate-limit, validate] --NEW/CANCEL/
 *                                                             REPLACE/SOR_CONFIG--> risk
 *   client <--reports, positions, heartbeats------------ EXEC_REPORT / POSITION <-- risk
 *
 * Socket callbacks stay thin: a message is validated and written straight into the ring to risk
 * (its bytes die when the callback returns, so the record is the copy). Reports coming back are
 * drained by the EventLoopRunner in batches. A full ring to risk is backpressure: the order is
 * refused with ENGINE_BUSY, never dropped silently; a client whose socket buffer passes the
 * limit is disconnected (slow consumer).
 *
 * Who gets what: a report goes to the connection that entered the order, to the REST request
 * waiting for it, and to every connection of the account that subscribed ({"type":"subscribe"});
 * position updates go to subscribers. Each connection speaks the format of the last frame it
 * sent (JSON text or FlatBuffers binary; initially ?format=json|fb, default json).
 *
 * Protection: API key per account (auth.ts), admin role for /v1/admin; token buckets per
 * connection (every message) and per account (order commands); a connection refused many times
 * in a row is closed (1008); frame, body, connection and backpressure limits; idle timeouts.
 * A frame over the limit is refused (FRAME_TOO_LARGE) and the connection kept, up to 4x the
 * limit; a larger one ends the connection (uWS stops reading it).
 */

import { readFileSync } from 'node:fs';
import * as uWS from 'uWebSockets.js';
import type { Agent } from '../../engine/agent.ts';
import type { Clock } from '../../engine/clock.ts';
import { Source } from '../../engine/domain.ts';
import { IngestCounter, type StageCounters } from '../../engine/counters.ts';
import { Reason, reasonName } from '../../engine/reasons.ts';
import { FULL, type GatedRecordHandler, type RingConsumer, type RingProducer } from '../../engine/ring.ts';
import {
  CANCEL_ORDER_LENGTH,
  CancelOrderFlyweight,
  ExecReportFlyweight,
  NEW_ORDER_LENGTH,
  NewOrderFlyweight,
  ALL_SYMBOLS,
  MASS_CANCEL_LENGTH,
  MassCancelFlyweight,
  PositionFlyweight,
  RecordType,
  SOR_CONFIG_LENGTH,
  SorConfigFlyweight,
  WEIGHT_SCALE,
} from '../../codecs/records.ts';
import { ExecType, ORDER_STATE_COUNT, isTerminal, stateName } from '../../engine/order-state.ts';
import type { HttpConfig } from '../config.ts';
import { Authenticator, type KeyedAccount, type Principal } from './auth.ts';
import { parseJsonBody, positiveId, readBody, sendError, sendJson, sendJsonTextCorked } from './http-util.ts';
import type { ReportMessage, ServerMessage } from './messages.ts';
import { reportToJson, reportType, validateClientMessage, type ClientCommand, type CancelCommand, type NewOrderCommand } from './order-json.ts';
import { OrderView } from './order-view.ts';
import { ReportJsonWriter } from './report-json-writer.ts';
import { PositionView } from './position-view.ts';
import { TokenBucket } from './rate-limit.ts';
import { SorAdmin, modeId, type SorSettings } from './sor-admin.ts';
import { KillSwitchAdmin } from './kill-switch-admin.ts';
import type { KillBoard } from '../risk/kill-board.ts';
import type { Doorbell } from '../../engine/doorbell.ts';
import { LimitsAdmin, type LimitChange } from './limits-admin.ts';
import { HEADER_LENGTH, alignRecord } from '../../engine/ring.ts';
import { RISK_LIMIT_LENGTH, RiskLimitFlyweight, journalGatePasses } from '../../codecs/records.ts';
import type { AccountConfig, SymbolConfig } from '../config.ts';
import type { RouteAuditView } from './route-audit-view.ts';
import { PAGE_HEADERS, loadStaticFiles, type StaticFile } from './web/static-files.ts';
import { RejectEdge } from '../metrics/metrics-memory.ts';

export const INGEST_BATCH = 512;
/** Engine state word values (shared with the supervisor). */
export const EngineState = {
  STARTING: 0,
  RUNNING: 1,
  /** A worker died or hung: intake refused until an operator restarts the engine. */
  HALTED: 2,
  STOPPING: 3,
} as const;

/** The binary wire format (FlatBuffers, order-fb.ts), injected so this module stays format-neutral. */
export interface BinaryCodec {
  decodeClientFrame(bytes: Uint8Array, symbols: Map<string, number>): ClientCommand;
  encodeServerMessage(msg: ServerMessage): Uint8Array;
}

export interface IngestOptions {
  http: HttpConfig;
  accounts: KeyedAccount[];
  symbols: string[];
  venues: string[];
  /**
   * Orders kept for GET /v1/orders (all accounts): risk's order capacity, so that the view's
   * slots are risk's (ids of one residue) and no open order falls out (workers/ingest/order-view.ts).
   */
  orderViewCapacity: number;
  sor: SorSettings;
  binary: BinaryCodec | null;
  /** Returns the health document (supervisor state and stage counters). */
  health: () => Record<string, unknown>;
  /**
   * The kill switch's path to risk beside the rings (workers/risk/kill-board.ts): the board this
   * stage writes, and risk's doorbell, rung after each change.
   */
  killSwitch: { board: KillBoard; riskBell: Doorbell };
  /** Accounts and symbols as configured, for the pre-trade limits admin routes (absent: no account is known there). */
  limits?: { accounts: AccountConfig[]; symbols: SymbolConfig[] } | null;
  /** GET /ready's document ({ready, ...}); default: ready while the engine state is RUNNING. */
  readiness?: () => Record<string, unknown>;
  /** Latency histograms and reject counts in shared memory (workers/metrics), or null. */
  metrics?: IngestMetrics | null;
  /** The SOR's decisions for GET /v1/orders/{id}/route (fed by the sor -> ingest ring), or null. */
  routeAudits?: RouteAuditView | null;
}

/** What ingest records for /metrics: allocation-free writes into shared memory. */
export interface IngestMetrics {
  /** Edge receipt to the ack (or risk reject) back at ingest, ns. */
  orderToAck: { record(valueNs: number): void };
  /** Edge receipt to each fill report back at ingest, ns. */
  orderToFill: { record(valueNs: number): void };
  /** One refusal with this reason code at an edge (RejectEdge in workers/metrics/metrics-memory.ts). */
  countReason(code: number, edge: number): void;
}

interface WsData {
  principal: Principal;
  connId: number;
  bucket: TokenBucket;
  binary: boolean;
  subscribed: boolean;
  /** The account's open orders from this connection are canceled when it closes. */
  cancelOnDisconnect: boolean;
  /** Dead-man's switch: silence longer than this cancels the account's open orders (0 = off). */
  deadmanMs: number;
  lastMessageMs: number;
}

type Ws = uWS.WebSocket<WsData>;

/**
 * One message on its way to one or more connections, encoded at most once per wire format
 * (a report to its owner and every subscriber, a heartbeat to everyone). One instance, reused.
 * An execution report stays the ring's flyweight: JSON connections get bytes written from it
 * (ReportJsonWriter, no object), and so does a REST request waiting for it; its message object
 * is built only if a FlatBuffers connection needs it. Byte views (JSON from the writer, FlatBuffers from the codec's
 * builder) are valid until the next message.
 */
class Outbound {
  msg: ServerMessage | null = null;
  report: ExecReportFlyweight | null = null;
  json: string | Uint8Array | null = null;
  fb: Uint8Array | null = null;
  set(msg: ServerMessage): this {
    this.msg = msg;
    this.report = null;
    this.json = null;
    this.fb = null;
    return this;
  }
  setReport(r: ExecReportFlyweight): this {
    this.msg = null;
    this.report = r;
    this.json = null;
    this.fb = null;
    return this;
  }
}

interface PendingRequest {
  res: uWS.HttpResponse;
  aborted: boolean;
}

const STATUS_NAMES = new Set(['OPEN', 'CLOSED', ...Array.from({ length: ORDER_STATE_COUNT }, (_, i) => stateName(i))]);
const LIST_LIMIT_MAX = 1000;
const OVERSIZE_GRACE = 4;
/** How often silent connections are checked against their dead-man's switch. */
const DEADMAN_CHECK_MS = 250;
const DEADMAN_MAX_S = 3600;

export class IngestStage implements Agent, GatedRecordHandler {
  private readonly options: IngestOptions;
  private readonly toRisk: RingProducer;
  private readonly fromRisk: RingConsumer;
  private readonly clock: Clock;
  private readonly counters: StageCounters;
  private readonly engineState: Int32Array;
  private readonly auth: Authenticator;
  private readonly symbolIds: Map<string, number>;
  private readonly connections = new Map<number, Ws>();
  private readonly connectionsPerAccount = new Map<number, number>();
  private readonly subscribers = new Map<number, Set<Ws>>();
  private readonly accountBuckets = new Map<number, TokenBucket>();
  private readonly pending = new Map<number, PendingRequest>();
  private readonly orders: OrderView;
  private readonly positions: PositionView;
  private readonly sorAdmin: SorAdmin;
  private readonly newOrder = new NewOrderFlyweight();
  private readonly cancel = new CancelOrderFlyweight();
  private readonly report = new ExecReportFlyweight();
  private readonly position = new PositionFlyweight();
  private readonly sorConfig = new SorConfigFlyweight();
  private readonly massCancelFw = new MassCancelFlyweight();
  private readonly killSwitch: KillSwitchAdmin;
  private readonly limitsAdmin: LimitsAdmin;
  private readonly riskLimitFw = new RiskLimitFlyweight();
  private readonly metrics: IngestMetrics | null;
  /** The web page's files, read once at start-up. */
  private readonly pageFiles: StaticFile[] = loadStaticFiles();
  private housekeepingTimer: NodeJS.Timeout | null = null;
  private readonly scratch = new Uint8Array(64);
  private readonly outbound = new Outbound();
  private readonly reportJson: ReportJsonWriter;
  /** ClOrdIDs are validated printable ASCII: copied byte by byte, no encoder allocation. */
  private readonly clScratch = new Uint8Array(64);
  private readonly origScratch = new Uint8Array(64);
  private nextConnId = 1;
  private nextRequestId = 1;
  private listenSocket: uWS.us_listen_socket | null = null;
  private app: uWS.TemplatedApp | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  /** Set by a socket callback that wrote to the ring; the runner commits once per tick. */
  private uncommitted = false;
  /** Called after a command was written to the ring (the runner uses it to schedule a flush). */
  onCommand: () => void = () => {};

  constructor(options: IngestOptions, toRisk: RingProducer, fromRisk: RingConsumer, clock: Clock, counters: StageCounters, engineState: Int32Array) {
    this.options = options;
    this.toRisk = toRisk;
    this.fromRisk = fromRisk;
    this.clock = clock;
    this.counters = counters;
    this.engineState = engineState;
    this.auth = new Authenticator(options.accounts);
    this.symbolIds = new Map(options.symbols.map((s, i) => [s, i]));
    this.orders = new OrderView(options.orderViewCapacity, options.symbols, options.venues);
    this.reportJson = new ReportJsonWriter(options.symbols, options.venues);
    this.positions = new PositionView(options.symbols);
    this.sorAdmin = new SorAdmin(options.sor);
    this.killSwitch = new KillSwitchAdmin(options.accounts);
    this.limitsAdmin = new LimitsAdmin(options.limits?.accounts ?? [], options.limits?.symbols ?? []);
    this.metrics = options.metrics ?? null;
    const rate = options.http.rateLimit;
    for (const a of options.accounts) this.accountBuckets.set(a.id, new TokenBucket(rate.accountMsgsPerS, rate.accountBurst, this.nowMs()));
  }

  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number> {
    const app = this.createApp();
    this.app = app;
    this.routes(app);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.options.http.heartbeatS * 1000);
    this.housekeepingTimer = setInterval(() => this.checkDeadmen(), DEADMAN_CHECK_MS);
    return new Promise((resolve, reject) => {
      app.listen(this.options.http.host, this.options.http.port, (socket) => {
        if (socket === false) {
          reject(new Error(`ingest: cannot listen on ${this.options.http.host}:${this.options.http.port}`));
          return;
        }
        this.listenSocket = socket;
        resolve(uWS.us_socket_local_port(socket));
      });
    });
  }

  /**
   * Plain HTTP/WS, or TLS (https/wss) when http.tls names the PEM files: uWebSockets.js SSLApp
   * reads them itself; the key's passphrase comes from its own file, never from the config.
   */
  private createApp(): uWS.TemplatedApp {
    const tls = this.options.http.tls;
    if (tls === null) return uWS.App();
    const options: uWS.AppOptions = { cert_file_name: tls.certFile, key_file_name: tls.keyFile };
    if (tls.passphraseFile !== undefined) options.passphrase = readFileSync(tls.passphraseFile, 'utf8').split(/\r?\n/, 1)[0];
    return uWS.SSLApp(options);
  }

  /** Stops accepting connections and closes the open ones. */
  close(): void {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    if (this.housekeepingTimer !== null) clearInterval(this.housekeepingTimer);
    this.heartbeatTimer = null;
    this.housekeepingTimer = null;
    if (this.listenSocket !== null) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
    for (const ws of [...this.connections.values()]) ws.end(1001, 'engine stopping');
    this.connections.clear();
    if (this.app !== null) this.app.close();
  }

  doWork(): number {
    let work = 0;
    if (this.uncommitted) {
      this.toRisk.commit();
      this.uncommitted = false;
      work++;
    }
    // Gated: a report or position stays in the ring until the journal holds its event (accept).
    const n = this.fromRisk.pollWhile(this, INGEST_BATCH);
    const audits = this.options.routeAudits != null ? this.options.routeAudits.drain() : 0;
    return work + n + audits;
  }

  private nowMs(): number {
    return this.clock.nowNs() / 1e6;
  }

  // ------------------------------------------------------------------------------------------
  // Reports and positions from risk
  // ------------------------------------------------------------------------------------------

  /** A record leaves for clients only once the journal feed's records it is stamped with are durable. */
  accept(typeId: number, offset: number, _length: number): boolean {
    return journalGatePasses(this.fromRisk, typeId, offset);
  }

  onRecord(typeId: number, offset: number, _length: number): void {
    if (typeId === RecordType.POSITION) {
      const p = this.position.wrap(this.fromRisk.view, this.fromRisk.bytes, offset);
      const out = this.outbound.set(this.positions.update(p));
      this.counters.add(IngestCounter.POSITIONS_OUT, 1);
      this.toSubscribers(p.accountId(), null, out);
      return;
    }
    if (typeId !== RecordType.EXEC_REPORT) return;
    const r = this.report.wrap(this.fromRisk.view, this.fromRisk.bytes, offset);
    this.counters.add(IngestCounter.REPORTS_OUT, 1);
    if (this.metrics !== null) this.recordReport(r);
    const accountId = r.accountId();
    this.orders.update(r);
    const out = this.outbound.setReport(r);
    if (r.requestId() !== 0) this.answerRequest(r.requestId(), r, out);
    const owner = r.connId() === 0 ? undefined : this.connections.get(r.connId());
    if (owner !== undefined) this.send(owner, out);
    this.toSubscribers(accountId, owner ?? null, out);
  }

  /** Latency of acks and fills from the order's receipt here; reject reasons counted. */
  private recordReport(r: ExecReportFlyweight): void {
    const m = this.metrics!;
    const execType = r.execType();
    if (execType === ExecType.NEW || execType === ExecType.REJECTED) m.orderToAck.record(this.clock.nowNs() - r.recvTimeNs());
    else if (execType === ExecType.FILL || execType === ExecType.PARTIAL_FILL) m.orderToFill.record(this.clock.nowNs() - r.recvTimeNs());
    if (execType === ExecType.REJECTED || execType === ExecType.CANCEL_REJECT) m.countReason(r.reason(), RejectEdge.ENGINE);
  }

  private toSubscribers(accountId: number, except: Ws | null, out: Outbound): void {
    const subs = this.subscribers.get(accountId);
    if (subs === undefined) return;
    for (const ws of subs) if (ws !== except) this.send(ws, out);
  }

  /** A message for one connection only. */
  private sendOne(ws: Ws, msg: ServerMessage): void {
    this.send(ws, this.outbound.set(msg));
  }

  /** The outbound message as an object (a report's is built from its flyweight on first need). */
  private messageOf(out: Outbound): ServerMessage {
    if (out.msg === null) {
      if (out.report === null) throw new Error('Invariant: an outbound message is set');
      out.msg = reportToJson(out.report, this.options.symbols, this.options.venues, this.scratch);
    }
    return out.msg;
  }

  /** The outbound message's JSON text, written once: a report's from its flyweight, else stringified. */
  private jsonOf(out: Outbound): string | Uint8Array {
    if (out.json === null) out.json = out.report !== null ? this.reportJson.view(this.reportJson.write(out.report)) : JSON.stringify(this.messageOf(out));
    return out.json;
  }

  private send(ws: Ws, out: Outbound): void {
    const codec = this.options.binary;
    let status: number;
    if (ws.getUserData().binary && codec !== null) {
      if (out.fb === null) out.fb = codec.encodeServerMessage(this.messageOf(out));
      status = ws.send(out.fb, true, false);
    } else {
      status = ws.send(this.jsonOf(out), false, false);
    }
    if (status === 2 || ws.getBufferedAmount() > this.options.http.maxBackpressureBytes) {
      this.counters.add(IngestCounter.DROPPED_SLOW_CLIENT, 1);
      ws.end(1008, 'slow consumer: send buffer limit reached');
    }
  }

  /** Every connection hears from the server at least every heartbeatS seconds (encoded once). */
  private heartbeat(): void {
    const out = this.outbound.set({ type: 'heartbeat', time: Date.now() });
    for (const ws of this.connections.values()) this.send(ws, out);
  }

  /** A REST request waits for the first report about its command, then answers (the WebSocket frame's bytes). */
  private answerRequest(requestId: number, r: ExecReportFlyweight, out: Outbound): void {
    const p = this.pending.get(requestId);
    if (p === undefined) return;
    this.pending.delete(requestId);
    if (p.aborted) return;
    sendJsonTextCorked(p.res, restStatus(reportType(r.execType(), r.reason()), r.reason()), this.jsonOf(out));
  }

  // ------------------------------------------------------------------------------------------
  // Commands into the engine
  // ------------------------------------------------------------------------------------------

  /** Reason the engine cannot take commands now, or NONE. */
  private engineRefusal(): number {
    const state = Atomics.load(this.engineState, 0);
    if (state === EngineState.RUNNING) return Reason.NONE;
    return state === EngineState.HALTED ? Reason.ENGINE_HALTED : Reason.ENGINE_STOPPING;
  }

  /** Writes a validated command to the ring; returns a reason code (NONE when queued). */
  private enqueue(cmd: NewOrderCommand | CancelCommand, accountId: number, connId: number, requestId: number): number {
    const refusal = this.engineRefusal();
    if (refusal !== Reason.NONE) return refusal;
    const bucket = this.accountBuckets.get(accountId);
    if (bucket !== undefined && !bucket.take(this.nowMs())) {
      this.counters.add(IngestCounter.RATE_LIMITED, 1);
      return Reason.RATE_LIMITED;
    }
    const ok = cmd.kind === 'new' ? this.writeNewOrder(cmd, accountId, connId, requestId) : this.writeCancel(cmd, accountId, connId, requestId);
    if (!ok) {
      this.counters.add(IngestCounter.BUSY_REJECTS, 1);
      return Reason.ENGINE_BUSY;
    }
    this.uncommitted = true;
    this.onCommand();
    return Reason.NONE;
  }

  private writeNewOrder(cmd: NewOrderCommand, accountId: number, connId: number, requestId: number): boolean {
    const ring = this.toRisk;
    const at = ring.tryClaim(RecordType.NEW_ORDER, NEW_ORDER_LENGTH);
    if (at === FULL) return false;
    const clLength = asciiInto(cmd.clOrdId, this.clScratch);
    this.newOrder
      .wrap(ring.view, ring.bytes, at)
      .setRecvTimeNs(this.clock.nowNs())
      .setQty(cmd.qty)
      .setPriceTicks(cmd.priceTicks)
      .setConnId(connId)
      .setAccountId(accountId)
      .setSymbolId(cmd.symbolId)
      .setRequestId(requestId)
      .setSource(Source.INGEST)
      .setSide(cmd.side)
      .setOrdType(cmd.ordType)
      .setTif(cmd.tif)
      .setClOrdId(this.clScratch, 0, clLength);
    this.counters.add(IngestCounter.ORDERS_IN, 1);
    return true;
  }

  private writeCancel(cmd: CancelCommand, accountId: number, connId: number, requestId: number): boolean {
    const ring = this.toRisk;
    const at = ring.tryClaim(cmd.kind === 'cancel' ? RecordType.CANCEL_ORDER : RecordType.REPLACE_ORDER, CANCEL_ORDER_LENGTH);
    if (at === FULL) return false;
    const clLength = asciiInto(cmd.clOrdId, this.clScratch);
    const origLength = asciiInto(cmd.origClOrdId, this.origScratch);
    this.cancel
      .wrap(ring.view, ring.bytes, at)
      .setRecvTimeNs(this.clock.nowNs())
      .setOrderId(cmd.orderId)
      .setQty(cmd.qty)
      .setPriceTicks(cmd.priceTicks)
      .setConnId(connId)
      .setAccountId(accountId)
      .setRequestId(requestId)
      .setSource(Source.INGEST)
      .setClOrdId(this.clScratch, 0, clLength);
    this.cancel.setOrigClOrdId(this.origScratch, 0, origLength);
    return true;
  }

  /** An admin's routing change, through risk (journaled) to the SOR. */
  private writeSorConfig(settings: SorSettings, version: number, adminAccountId: number): boolean {
    const ring = this.toRisk;
    const at = ring.tryClaim(RecordType.SOR_CONFIG, SOR_CONFIG_LENGTH);
    if (at === FULL) return false;
    const w = settings.weights;
    this.sorConfig
      .wrap(ring.view, ring.bytes, at)
      .setTimeNs(this.clock.nowNs())
      .setVersion(version)
      .setAdminAccountId(adminAccountId)
      .setPriceWeight(Math.round(w.price * WEIGHT_SCALE))
      .setLatencyWeight(Math.round(w.latency * WEIGHT_SCALE))
      .setFillprobWeight(Math.round(w.fillprob * WEIGHT_SCALE))
      .setFeeWeight(Math.round(w.fee * WEIGHT_SCALE))
      .setQuoteStaleMs(settings.quoteStaleMs)
      .setMode(modeId(settings.mode));
    this.uncommitted = true;
    this.onCommand();
    return true;
  }

  /** Asks risk to cancel the open orders that match; false when the ring is full. */
  private writeMassCancel(accountId: number, symbolId: number, connId: number, reason: number): boolean {
    const ring = this.toRisk;
    const at = ring.tryClaim(RecordType.MASS_CANCEL, MASS_CANCEL_LENGTH);
    if (at === FULL) return false;
    this.massCancelFw.wrap(ring.view, ring.bytes, at).setTimeNs(this.clock.nowNs()).setAccountId(accountId).setSymbolId(symbolId).setConnId(connId).setRequestId(0).setReason(reason);
    this.uncommitted = true;
    this.onCommand();
    return true;
  }

  /**
   * An admin's limit change: one RISK_LIMIT record per key (and symbol), all or none (room for
   * all is checked first), committed together, so no order of this ring falls between them.
   */
  private writeRiskLimits(accountId: number, changes: LimitChange[], version: number, adminAccountId: number): boolean {
    const ring = this.toRisk;
    if (!ring.hasRoomFor(changes.length, RISK_LIMIT_LENGTH)) return false;
    const now = this.clock.nowNs();
    for (const c of changes) {
      const at = ring.claimChecked(RecordType.RISK_LIMIT, RISK_LIMIT_LENGTH);
      this.riskLimitFw.wrap(ring.view, ring.bytes, at).setTimeNs(now).setValue(c.value).setVersion(version)
        .setAdminAccountId(adminAccountId).setAccountId(accountId).setSymbolId(c.symbolId).setKey(c.key);
    }
    this.uncommitted = true;
    this.onCommand();
    return true;
  }

  /** Connections silent past their dead-man's switch: their account's open orders are canceled once. */
  private checkDeadmen(): void {
    const now = this.nowMs();
    for (const ws of this.connections.values()) {
      const d = ws.getUserData();
      if (d.deadmanMs === 0 || now - d.lastMessageMs <= d.deadmanMs) continue;
      if (!this.writeMassCancel(d.principal.accountId, ALL_SYMBOLS, 0, Reason.DEAD_MAN_SWITCH)) continue; // retried next check
      d.lastMessageMs = now; // fires again only after another full silence
      this.counters.add(IngestCounter.DEADMAN_FIRED, 1);
      this.sendOne(ws, { type: 'error', reason: Reason.DEAD_MAN_SWITCH, reasonName: reasonName(Reason.DEAD_MAN_SWITCH), text: `no message for ${d.deadmanMs / 1000} s: the account's open orders are being canceled` });
    }
  }

  // ------------------------------------------------------------------------------------------
  // WebSocket
  // ------------------------------------------------------------------------------------------

  private wsRoutes(app: uWS.TemplatedApp): void {
    const h = this.options.http;
    app.ws<WsData>('/v1/ws', {
      compression: 0, // uWS.DISABLED: per-message deflate costs latency
      // Frames up to 4x the limit are read and refused with FRAME_TOO_LARGE, the connection
      // kept; past that uWS drops the connection without reading further.
      maxPayloadLength: h.maxFrameBytes * OVERSIZE_GRACE,
      maxBackpressure: h.maxBackpressureBytes,
      closeOnBackpressureLimit: false,
      idleTimeout: h.idleTimeoutS,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => this.onUpgrade(res, req, context),
      open: (ws) => this.onOpen(ws),
      message: (ws, message, isBinary) => {
        try {
          this.onWsMessage(ws, message, isBinary);
        } catch (err) {
          this.internalError(err);
          this.wsReject(ws, Reason.INTERNAL_ERROR, 'internal error; the message was not applied', '');
        }
      },
      close: (ws) => this.onClose(ws),
    });
  }

  private onUpgrade(res: uWS.HttpResponse, req: uWS.HttpRequest, context: uWS.us_socket_context_t): void {
    const h = this.options.http;
    const principal = this.auth.authenticate(req.getHeader('authorization'), req.getQuery('token'));
    const format = req.getQuery('format') ?? 'json';
    if (principal === null) {
      this.counters.add(IngestCounter.AUTH_FAILURES, 1);
      this.metrics?.countReason(Reason.UNAUTHENTICATED, RejectEdge.WS); // the upgrade refused
      sendError(res, '401 Unauthorized', Reason.UNAUTHENTICATED, 'a valid API key is required (Authorization: Bearer <key> or ?token=<key>)');
      return;
    }
    if (format !== 'json' && format !== 'fb') {
      sendError(res, '400 Bad Request', Reason.INVALID_FIELD, 'format must be json or fb');
      return;
    }
    const codText = req.getQuery('cancelOnDisconnect') ?? (h.cancelOnDisconnect ? 'true' : 'false');
    const deadmanText = req.getQuery('deadmanS') ?? '0';
    if (codText !== 'true' && codText !== 'false') {
      sendError(res, '400 Bad Request', Reason.INVALID_FIELD, 'cancelOnDisconnect must be true or false');
      return;
    }
    const deadmanS = /^\d{1,4}$/.test(deadmanText) ? Number(deadmanText) : -1;
    if (deadmanS < 0 || deadmanS > DEADMAN_MAX_S) {
      sendError(res, '400 Bad Request', Reason.INVALID_FIELD, `deadmanS must be a whole number of seconds from 0 (off) to ${DEADMAN_MAX_S}`);
      return;
    }
    if (this.connections.size >= h.maxConnections || (this.connectionsPerAccount.get(principal.accountId) ?? 0) >= h.maxConnectionsPerAccount) {
      sendError(res, '503 Service Unavailable', Reason.ENGINE_BUSY, 'connection limit reached');
      return;
    }
    const data: WsData = {
      principal,
      connId: this.nextConnId++,
      bucket: new TokenBucket(h.rateLimit.connectionMsgsPerS, h.rateLimit.connectionBurst, this.nowMs()),
      binary: format === 'fb' && this.options.binary !== null,
      subscribed: false,
      cancelOnDisconnect: codText === 'true',
      deadmanMs: deadmanS * 1000,
      lastMessageMs: this.nowMs(),
    };
    res.upgrade<WsData>(data, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
  }

  private onOpen(ws: Ws): void {
    const d = ws.getUserData();
    this.connections.set(d.connId, ws);
    const account = d.principal.accountId;
    this.connectionsPerAccount.set(account, (this.connectionsPerAccount.get(account) ?? 0) + 1);
    this.counters.add(IngestCounter.CONNECTIONS, 1);
    this.sendOne(ws, { type: 'hello', accountId: account, connId: d.connId, heartbeatS: this.options.http.heartbeatS });
  }

  private onClose(ws: Ws): void {
    const d = ws.getUserData();
    if (!this.connections.delete(d.connId)) return;
    const account = d.principal.accountId;
    this.connectionsPerAccount.set(account, (this.connectionsPerAccount.get(account) ?? 1) - 1);
    this.subscribers.get(account)?.delete(ws);
    this.counters.add(IngestCounter.CONNECTIONS, -1);
    if (d.cancelOnDisconnect && this.engineRefusal() === Reason.NONE && !this.writeMassCancel(account, ALL_SYMBOLS, d.connId, Reason.CANCEL_ON_DISCONNECT)) {
      this.counters.add(IngestCounter.BUSY_REJECTS, 1);
    }
  }

  private onWsMessage(ws: Ws, message: ArrayBuffer, isBinary: boolean): void {
    this.counters.add(IngestCounter.MESSAGES_IN, 1);
    const data = ws.getUserData();
    data.lastMessageMs = this.nowMs();
    const codec = this.options.binary;
    if (isBinary && codec === null) {
      this.wsReject(ws, Reason.UNKNOWN_MESSAGE_TYPE, 'binary frames are not enabled on this server', '');
      return;
    }
    data.binary = isBinary;
    if (!data.bucket.take(this.nowMs())) {
      this.onRateLimited(ws, data);
      return;
    }
    if (message.byteLength > this.options.http.maxFrameBytes) {
      this.wsReject(ws, Reason.FRAME_TOO_LARGE, `frame larger than ${this.options.http.maxFrameBytes} bytes`, '');
      return;
    }
    const cmd = isBinary && codec !== null ? codec.decodeClientFrame(new Uint8Array(message), this.symbolIds) : this.parseText(message);
    switch (cmd.kind) {
      case 'reject':
        this.wsReject(ws, cmd.reason, cmd.text, cmd.clOrdId);
        return;
      case 'subscribe':
      case 'unsubscribe':
        this.setSubscribed(ws, data, cmd.kind === 'subscribe');
        return;
      case 'positions':
        this.sendOne(ws, { type: 'positions', positions: this.positions.snapshot(data.principal.accountId) });
        return;
      case 'heartbeat':
        return; // its arrival already reset the idle timer
    }
    const reason = this.enqueue(cmd, data.principal.accountId, data.connId, 0);
    if (reason !== Reason.NONE) this.wsReject(ws, reason, reasonName(reason), cmd.clOrdId);
  }

  private parseText(message: ArrayBuffer): ClientCommand {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(message).toString('utf8'));
    } catch {
      return { kind: 'reject', reason: Reason.MALFORMED, text: 'not valid JSON', clOrdId: '' };
    }
    return validateClientMessage(parsed, this.symbolIds);
  }

  private onRateLimited(ws: Ws, data: WsData): void {
    this.counters.add(IngestCounter.RATE_LIMITED, 1);
    if (data.bucket.refusedInARow >= this.options.http.rateLimit.floodDisconnectAfter) {
      this.counters.add(IngestCounter.FLOOD_DISCONNECTS, 1);
      ws.end(1008, 'rate limit exceeded repeatedly');
      return;
    }
    this.wsReject(ws, Reason.RATE_LIMITED, `more than ${this.options.http.rateLimit.connectionMsgsPerS} messages per second`, '');
  }

  private setSubscribed(ws: Ws, data: WsData, on: boolean): void {
    const account = data.principal.accountId;
    let subs = this.subscribers.get(account);
    if (subs === undefined) {
      subs = new Set();
      this.subscribers.set(account, subs);
    }
    if (on) subs.add(ws);
    else subs.delete(ws);
    data.subscribed = on;
    this.sendOne(ws, { type: 'subscribed', subscribed: on });
  }

  private wsReject(ws: Ws, reason: number, text: string, clOrdId: string): void {
    this.counters.add(IngestCounter.REJECTED_AT_EDGE, 1);
    this.metrics?.countReason(reason, RejectEdge.WS);
    this.sendOne(ws, { type: 'reject', clOrdId, reason, reasonName: reasonName(reason), text });
  }

  // ------------------------------------------------------------------------------------------
  // REST
  // ------------------------------------------------------------------------------------------

  private routes(app: uWS.TemplatedApp): void {
    this.wsRoutes(app);
    app.post('/v1/orders', this.guard((res, req) => this.onPostOrder(res, req)));
    app.del('/v1/orders/:id', this.guard((res, req) => this.onDeleteOrder(res, req)));
    app.get('/v1/orders/:id', this.guard((res, req) => this.onGetOrder(res, req)));
    app.get('/v1/orders/:id/route', this.guard((res, req) => this.onGetOrderRoute(res, req)));
    app.get('/v1/orders', this.guard((res, req) => this.onListOrders(res, req)));
    app.del('/v1/orders', this.guard((res, req) => this.onMassCancel(res, req)));
    app.get('/v1/admin/kill-switch', this.guard((res, req) => this.onGetKillSwitch(res, req)));
    app.post('/v1/admin/kill-switch', this.guard((res, req) => this.onPostKillSwitch(res, req)));
    app.get('/v1/positions', this.guard((res, req) => this.onGetPositions(res, req)));
    app.get('/v1/admin/sor/config', this.guard((res, req) => this.onGetSorConfig(res, req)));
    app.post('/v1/admin/sor/config', this.guard((res, req) => this.onPostSorConfig(res, req)));
    app.get('/v1/admin/limits', this.guard((res, req) => this.onGetLimits(res, req, false)));
    app.get('/v1/admin/limits/:account', this.guard((res, req) => this.onGetLimits(res, req, true)));
    app.post('/v1/admin/limits/:account', this.guard((res, req) => this.onPostLimits(res, req)));
    app.get('/health', (res) => {
      const doc = this.options.health();
      sendJson(res, doc.ok === true ? '200 OK' : '503 Service Unavailable', doc);
    });
    app.get('/ready', (res) => {
      const doc = this.options.readiness?.() ?? { ready: Atomics.load(this.engineState, 0) === EngineState.RUNNING };
      sendJson(res, doc.ready === true ? '200 OK' : '503 Service Unavailable', doc);
    });
    this.pageRoutes(app);
    app.any('/*', (res) => sendError(res, '404 Not Found', Reason.UNKNOWN_MESSAGE_TYPE, 'no such route'));
  }

  /** The trader's web page (workers/ingest/web/), served from memory; it uses the API like any client. */
  private pageRoutes(app: uWS.TemplatedApp): void {
    for (const file of this.pageFiles) {
      app.get(file.path, (res) => {
        res.cork(() => {
          res.writeStatus('200 OK').writeHeader('Content-Type', file.contentType);
          for (const [name, value] of PAGE_HEADERS) res.writeHeader(name, value);
          res.end(file.body);
        });
      });
    }
  }

  /**
   * A bug in one request's handling must not take the edge down (an exception escaping a uWS
   * callback ends the worker): it is counted, logged, and answered 500 when still possible.
   */
  private guard(handler: (res: uWS.HttpResponse, req: uWS.HttpRequest) => void): (res: uWS.HttpResponse, req: uWS.HttpRequest) => void {
    return (res, req) => {
      try {
        handler(res, req);
      } catch (err) {
        this.answerInternalError(res, err);
      }
    };
  }

  /**
   * readBody for a guarded route: the body's handler runs later, in uWS's onData callback, outside
   * the route's guard, so it gets the same protection of its own.
   */
  private readBodyGuarded(res: uWS.HttpResponse, pending: { aborted: boolean }, done: (body: Buffer, tooLarge: boolean) => void): void {
    readBody(res, this.options.http.maxBodyBytes, (body, tooLarge) => {
      if (pending.aborted) return;
      try {
        done(body, tooLarge);
      } catch (err) {
        this.answerInternalError(res, err);
      }
    });
  }

  private answerInternalError(res: uWS.HttpResponse, err: unknown): void {
    this.internalError(err);
    try {
      sendError(res, '500 Internal Server Error', Reason.INTERNAL_ERROR, 'internal error; the request was not applied');
    } catch {
      // already answered or aborted
    }
  }

  private internalError(err: unknown): void {
    this.counters.add(IngestCounter.INTERNAL_ERRORS, 1);
    console.error('ingest: internal error', err);
  }

  /** Authenticates a REST request (401 when it fails); reads the header before req expires. */
  private restPrincipal(res: uWS.HttpResponse, req: uWS.HttpRequest): Principal | null {
    this.counters.add(IngestCounter.HTTP_REQUESTS, 1);
    const principal = this.auth.authenticate(req.getHeader('authorization'), undefined);
    if (principal === null) {
      this.counters.add(IngestCounter.AUTH_FAILURES, 1);
      this.restReject(res, '401 Unauthorized', Reason.UNAUTHENTICATED, 'a valid API key is required (Authorization: Bearer <key>)');
    }
    return principal;
  }

  private restAdmin(res: uWS.HttpResponse, req: uWS.HttpRequest): Principal | null {
    const principal = this.restPrincipal(res, req);
    if (principal === null || principal.admin) return principal;
    this.counters.add(IngestCounter.FORBIDDEN, 1);
    this.restReject(res, '403 Forbidden', Reason.FORBIDDEN, 'this route needs the admin role');
    return null;
  }

  private onPostOrder(res: uWS.HttpResponse, req: uWS.HttpRequest): void {
    const principal = this.restPrincipal(res, req);
    if (principal === null) return; // answered: a finished response takes no abort handler
    const pending = pendingFor(res);
    this.readBodyGuarded(res, pending, (body, tooLarge) => {
      if (tooLarge) {
        this.restReject(res, '413 Payload Too Large', Reason.FRAME_TOO_LARGE, `body larger than ${this.options.http.maxBodyBytes} bytes`);
        return;
      }
      const parsed = parseJsonBody(res, body, Reason.MALFORMED);
      if (parsed === undefined) {
        this.metrics?.countReason(Reason.MALFORMED, RejectEdge.REST); // answered 400 by parseJsonBody
        return;
      }
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && (parsed as Record<string, unknown>).type === undefined) {
        (parsed as Record<string, unknown>).type = 'new';
      }
      const cmd = validateClientMessage(parsed, this.symbolIds);
      if (cmd.kind === 'reject') return this.restReject(res, '400 Bad Request', cmd.reason, cmd.text);
      if (cmd.kind !== 'new') {
        return this.restReject(res, '400 Bad Request', Reason.UNKNOWN_MESSAGE_TYPE, 'POST /v1/orders takes a new order; cancel with DELETE /v1/orders/{id}');
      }
      this.submitRest(res, pending, cmd, principal.accountId);
    });
  }

  private onDeleteOrder(res: uWS.HttpResponse, req: uWS.HttpRequest): void {
    const principal = this.restPrincipal(res, req);
    const orderId = positiveId(req.getParameter(0) ?? '');
    const givenClOrdId = req.getQuery('clOrdId') ?? '';
    if (principal === null) return;
    const pending = pendingFor(res);
    if (orderId < 1) return this.restReject(res, '400 Bad Request', Reason.INVALID_FIELD, 'order id must be a positive whole number');
    const clOrdId = givenClOrdId !== '' ? givenClOrdId : `cxl-${orderId}-${this.nextRequestId}`;
    const cmd = validateClientMessage({ type: 'cancel', clOrdId, orderId }, this.symbolIds);
    if (cmd.kind === 'reject') return this.restReject(res, '400 Bad Request', cmd.reason, cmd.text);
    if (cmd.kind !== 'cancel') throw new Error('Invariant: a cancel validates as a cancel');
    this.submitRest(res, pending, cmd, principal.accountId);
  }

  private submitRest(res: uWS.HttpResponse, pending: PendingRequest, cmd: NewOrderCommand | CancelCommand, accountId: number): void {
    const requestId = this.nextRequestId++;
    if (this.nextRequestId > 0xffffffff) this.nextRequestId = 1;
    const reason = this.enqueue(cmd, accountId, 0, requestId);
    if (reason === Reason.RATE_LIMITED) return this.restReject(res, '429 Too Many Requests', reason, 'account order rate limit reached');
    if (reason !== Reason.NONE) return this.restReject(res, '503 Service Unavailable', reason, reasonName(reason));
    this.pending.set(requestId, pending);
  }

  /** A REST order command refused at the edge (before risk): answered, and counted for /metrics (edge "rest"). */
  private restReject(res: uWS.HttpResponse, status: string, reason: number, text: string): void {
    this.metrics?.countReason(reason, RejectEdge.REST);
    sendError(res, status, reason, text);
  }

  private onGetOrder(res: uWS.HttpResponse, req: uWS.HttpRequest): void {
    const principal = this.restPrincipal(res, req);
    const orderId = positiveId(req.getParameter(0) ?? '');
    if (principal === null) return;
    // Another account's order is reported as unknown: its existence is not revealed.
    const view = this.orders.get(principal.accountId, orderId);
    if (view === undefined) return sendError(res, '404 Not Found', Reason.UNKNOWN_ORDER, 'no such order for this account');
    sendJson(res, '200 OK', view);
  }

  /** GET /v1/orders/{id}/route: the SOR's decisions for the order (workers/ingest/route-audit-view.ts). */
  private onGetOrderRoute(res: uWS.HttpResponse, req: uWS.HttpRequest): void {
    const principal = this.restPrincipal(res, req);
    const orderId = positiveId(req.getParameter(0) ?? '');
    if (principal === null) return;
    const audits = this.options.routeAudits;
    const engineEpochMs = this.clock.epochMs() - this.clock.nowNs() / 1e6;
    const doc = audits == null ? undefined : audits.get(principal.accountId, principal.admin, orderId, engineEpochMs);
    if (doc === undefined) return sendError(res, '404 Not Found', Reason.UNKNOWN_ORDER, 'no routing decision for this order and account');
    sendJson(res, '200 OK', doc);
  }

  /** GET /v1/orders?status=OPEN|CLOSED|<status>[,...]&limit=N: newest first. */
  private onListOrders(res: uWS.HttpResponse, req: uWS.HttpRequest): void {
    const principal = this.restPrincipal(res, req);
    const statusText = req.getQuery('status') ?? '';
    const limitText = req.getQuery('limit') ?? '100';
    if (principal === null) return;
    const statuses = statusText === '' ? [] : statusText.split(',');
    const unknown = statuses.find((s) => !STATUS_NAMES.has(s));
    if (unknown !== undefined) return sendError(res, '400 Bad Request', Reason.INVALID_FIELD, `unknown status ${JSON.stringify(unknown).slice(0, 40)}; use OPEN, CLOSED or ${[...STATUS_NAMES].slice(2).join(', ')}`);
    const limit = positiveId(limitText);
    if (limit < 1 || limit > LIST_LIMIT_MAX) return sendError(res, '400 Bad Request', Reason.INVALID_FIELD, `limit must be 1 to ${LIST_LIMIT_MAX}`);
    // Decided once per state, not per order walked; a record holds no state past the known ones.
    const wanted = new Uint8Array(ORDER_STATE_COUNT);
    for (let st = 0; st < ORDER_STATE_COUNT; st++) wanted[st] = statuses.length === 0 || statuses.some((s) => statusMatches(s, st)) ? 1 : 0;
    const keep = (state: number): boolean => state < ORDER_STATE_COUNT && wanted[state] === 1;
    sendJson(res, '200 OK', { orders: this.orders.list(principal.accountId, limit, keep) });
  }

  /** DELETE /v1/orders[?symbol=S]: cancel every open order of the account (in one symbol). */
  private onMassCancel(res: uWS.HttpResponse, req: uWS.HttpRequest): void {
    const principal = this.restPrincipal(res, req);
    const symbol = req.getQuery('symbol');
    if (principal === null) return;
    const symbolId = symbol === undefined ? ALL_SYMBOLS : this.symbolIds.get(symbol);
    if (symbolId === undefined) return this.restReject(res, '400 Bad Request', Reason.UNKNOWN_SYMBOL, `unknown symbol ${JSON.stringify(symbol).slice(0, 40)}`);
    const refusal = this.engineRefusal();
    if (refusal !== Reason.NONE) return this.restReject(res, '503 Service Unavailable', refusal, reasonName(refusal));
    const bucket = this.accountBuckets.get(principal.accountId);
    if (bucket !== undefined && !bucket.take(this.nowMs())) return this.restReject(res, '429 Too Many Requests', Reason.RATE_LIMITED, 'account order rate limit reached');
    if (!this.writeMassCancel(principal.accountId, symbolId, 0, Reason.MASS_CANCEL)) return this.restReject(res, '503 Service Unavailable', Reason.ENGINE_BUSY, reasonName(Reason.ENGINE_BUSY));
    sendJson(res, '202 Accepted', { type: 'massCancel', symbol: symbol ?? null, accepted: true });
  }

  private onGetKillSwitch(res: uWS.HttpResponse, req: uWS.HttpRequest): void {
    if (this.restAdmin(res, req) === null) return;
    sendJson(res, '200 OK', this.killSwitch.view());
  }

  private onPostKillSwitch(res: uWS.HttpResponse, req: uWS.HttpRequest): void {
    this.adminPost(res, req, (principal, parsed) => {
      const v = this.killSwitch.validate(parsed);
      if (!v.ok) return sendError(res, '400 Bad Request', v.reason, v.text);
      // A halted engine still takes the switch: making things safer is always allowed. Not
      // through the ring to risk: it waits behind no order and is never refused for a full ring.
      const { board, riskBell } = this.options.killSwitch;
      // validate() gives configured ids only, and the board has a slot for each (risk-config.ts accountSlots).
      if (!board.request(v.accountId, v.mode, principal.accountId)) throw new Error('Invariant: a validated account has a kill board slot');
      riskBell.ring();
      // A safeguard where risk shares this thread's event loop (threading shared): the bell wakes
      // a parked runner, and the kick makes sure a duty cycle that reads the board follows.
      this.onCommand();
      sendJson(res, '200 OK', this.killSwitch.commit(v.accountId, v.account, v.mode, principal.name));
    });
  }

  /** GET /v1/admin/limits[/{account}]: the pre-trade limits in force (admin). */
  private onGetLimits(res: uWS.HttpResponse, req: uWS.HttpRequest, one: boolean): void {
    const ref = one ? req.getParameter(0) ?? '' : '';
    if (this.restAdmin(res, req) === null) return;
    if (!one) return sendJson(res, '200 OK', this.limitsAdmin.viewAll());
    const view = this.limitsAdmin.view(this.limitsAdmin.accountId(ref));
    if (view === undefined) return sendError(res, '404 Not Found', Reason.UNKNOWN_ACCOUNT, 'no such account');
    sendJson(res, '200 OK', view);
  }

  /** POST /v1/admin/limits/{account}: validated here, sent to risk as RISK_LIMIT records (admin). */
  private onPostLimits(res: uWS.HttpResponse, req: uWS.HttpRequest): void {
    const accountId = this.limitsAdmin.accountId(req.getParameter(0) ?? '');
    this.adminPost(res, req, (principal, parsed) => {
      if (accountId === 0) return sendError(res, '404 Not Found', Reason.UNKNOWN_ACCOUNT, 'no such account');
      const v = this.limitsAdmin.validate(parsed);
      if (!v.ok) return sendError(res, '400 Bad Request', v.reason, v.text);
      // A halted engine still takes limit changes: tightening a limit is always allowed.
      if (!this.writeRiskLimits(accountId, v.changes, this.limitsAdmin.nextVersion(), principal.accountId)) {
        return sendError(res, '503 Service Unavailable', Reason.ENGINE_BUSY, reasonName(Reason.ENGINE_BUSY));
      }
      const change = this.limitsAdmin.commit(accountId, v.changes, v.applied, principal.name);
      sendJson(res, '200 OK', { ...change, limits: this.limitsAdmin.view(accountId) });
    });
  }

  /** An admin POST: role checked, body read within the limit and parsed, then handed over. */
  private adminPost(res: uWS.HttpResponse, req: uWS.HttpRequest, handle: (principal: Principal, body: unknown) => void): void {
    const principal = this.restAdmin(res, req);
    if (principal === null) return;
    const pending = pendingFor(res);
    this.readBodyGuarded(res, pending, (body, tooLarge) => {
      if (tooLarge) return sendError(res, '413 Payload Too Large', Reason.FRAME_TOO_LARGE, `body larger than ${this.options.http.maxBodyBytes} bytes`);
      const parsed = parseJsonBody(res, body, Reason.MALFORMED);
      if (parsed !== undefined) handle(principal, parsed);
    });
  }

  private onGetPositions(res: uWS.HttpResponse, req: uWS.HttpRequest): void {
    const principal = this.restPrincipal(res, req);
    if (principal === null) return;
    sendJson(res, '200 OK', { type: 'positions', positions: this.positions.snapshot(principal.accountId) });
  }

  private onGetSorConfig(res: uWS.HttpResponse, req: uWS.HttpRequest): void {
    if (this.restAdmin(res, req) === null) return;
    sendJson(res, '200 OK', this.sorAdmin.view());
  }

  private onPostSorConfig(res: uWS.HttpResponse, req: uWS.HttpRequest): void {
    this.adminPost(res, req, (principal, parsed) => {
      const v = this.sorAdmin.validate(parsed);
      if (!v.ok) return sendError(res, '400 Bad Request', v.reason, v.text);
      const refusal = this.engineRefusal();
      if (refusal !== Reason.NONE) return sendError(res, '503 Service Unavailable', refusal, reasonName(refusal));
      if (!this.writeSorConfig(v.settings, this.sorAdmin.nextVersion(), principal.accountId)) {
        return sendError(res, '503 Service Unavailable', Reason.ENGINE_BUSY, reasonName(Reason.ENGINE_BUSY));
      }
      sendJson(res, '200 OK', this.sorAdmin.commit(v.settings, principal.name));
    });
  }
}

/** A request answered later: uWS needs an abort handler, and nothing may be written after an abort. */
function pendingFor(res: uWS.HttpResponse): PendingRequest {
  const pending: PendingRequest = { res, aborted: false };
  res.onAborted(() => {
    pending.aborted = true;
  });
  return pending;
}

function statusMatches(filter: string, state: number): boolean {
  if (filter === 'OPEN') return !isTerminal(state);
  if (filter === 'CLOSED') return isTerminal(state);
  return filter === stateName(state);
}

/** The HTTP status of a REST command's first report, by its message type and reason. */
function restStatus(type: ReportMessage['type'], reason: number): string {
  if (type === 'ack') return reason === Reason.DUPLICATE_CL_ORD_ID ? '200 OK' : '202 Accepted';
  if (type !== 'reject' && type !== 'cancelReject') return '202 Accepted';
  if (reason === Reason.UNKNOWN_ORDER) return '404 Not Found';
  if (reason === Reason.ENGINE_BUSY) return '503 Service Unavailable';
  return '422 Unprocessable Entity';
}

/** Writes validated ASCII text into dst; returns its length. */
function asciiInto(text: string, dst: Uint8Array): number {
  for (let i = 0; i < text.length; i++) dst[i] = text.charCodeAt(i);
  return text.length;
}

