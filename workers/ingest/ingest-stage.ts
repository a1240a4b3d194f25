/**
 * The ingest stage: the uWebSockets.js server for traders (WebSocket at /v1/ws) and UIs (REST),
 * on the configured HTTP port.
 *
 *   client --WS text / REST--> [validate, authenticate] --NEW/CANCEL/REPLACE--> risk
 *   client <--JSON reports----------------------------- EXEC_REPORT <----------- risk
 *
 * Socket callbacks stay thin: a message is validated and written straight into the ring to risk
 * (its bytes die when the callback returns, so the record is the copy). Reports coming back are
 * drained by the EventLoopRunner in batches, each connection's sends corked per batch.
 * A full ring to risk is backpressure: the order is refused with ENGINE_BUSY, never dropped
 * silently; a client whose socket buffer passes the limit is disconnected (slow consumer).
 *
 * Authentication: every WebSocket upgrade and REST request carries an account API key, as
 * "Authorization: Bearer <key>" or, for browsers' WebSocket, "?token=<key>". An account sees and
 * touches only its own orders (risk refuses cancels of other accounts' orders as UNKNOWN_ORDER).
 */

import * as uWS from 'uWebSockets.js';
import type { Agent } from '../../engine/agent.ts';
import type { Clock } from '../../engine/clock.ts';
import { Source } from '../../engine/domain.ts';
import { IngestCounter, type StageCounters } from '../../engine/counters.ts';
import { Reason, reasonName } from '../../engine/reasons.ts';
import { FULL, type RecordHandler, type RingConsumer, type RingProducer } from '../../engine/ring.ts';
import {
  CANCEL_ORDER_LENGTH,
  CancelOrderFlyweight,
  ExecReportFlyweight,
  NEW_ORDER_LENGTH,
  NewOrderFlyweight,
  RecordType,
} from '../../codecs/records.ts';
import { ExecType } from '../../engine/order-state.ts';
import { reportToJson, validateClientMessage, type CancelCommand, type NewOrderCommand } from './order-json.ts';

export const INGEST_BATCH = 512;
/** Engine state word values (shared with the supervisor). */
export const EngineState = {
  STARTING: 0,
  RUNNING: 1,
  /** A worker died or hung: intake refused until an operator restarts the engine. */
  HALTED: 2,
  STOPPING: 3,
} as const;

export interface IngestOptions {
  host: string;
  port: number;
  /** apiKey -> account id. */
  apiKeys: Map<string, number>;
  symbols: string[];
  venues: string[];
  maxPayloadBytes: number;
  maxBackpressureBytes: number;
  idleTimeoutS: number;
  maxConnections: number;
  /** Largest REST body accepted. */
  maxBodyBytes: number;
  /** Orders kept for GET /v1/orders/{id} (most recent). */
  orderViewCapacity: number;
  /** Returns the health document (supervisor state and stage counters). */
  health: () => Record<string, unknown>;
}

interface WsData {
  accountId: number;
  connId: number;
}

interface PendingRequest {
  res: uWS.HttpResponse;
  aborted: boolean;
  accountId: number;
}

interface OrderView {
  accountId: number;
  json: Record<string, unknown>;
}

export class IngestStage implements Agent, RecordHandler {
  private readonly options: IngestOptions;
  private readonly toRisk: RingProducer;
  private readonly fromRisk: RingConsumer;
  private readonly clock: Clock;
  private readonly counters: StageCounters;
  private readonly engineState: Int32Array;
  private readonly symbolIds: Map<string, number>;
  private readonly connections = new Map<number, uWS.WebSocket<WsData>>();
  private readonly pending = new Map<number, PendingRequest>();
  private readonly orderView = new Map<number, OrderView>();
  private readonly newOrder = new NewOrderFlyweight();
  private readonly cancel = new CancelOrderFlyweight();
  private readonly report = new ExecReportFlyweight();
  private readonly scratch = new Uint8Array(64);
  /** ClOrdIDs are validated printable ASCII: copied byte by byte, no encoder allocation. */
  private readonly clScratch = new Uint8Array(64);
  private readonly origScratch = new Uint8Array(64);
  private nextConnId = 1;
  private nextRequestId = 1;
  private listenSocket: uWS.us_listen_socket | null = null;
  private app: uWS.TemplatedApp | null = null;
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
    this.symbolIds = new Map(options.symbols.map((s, i) => [s, i]));
  }

  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number> {
    const app = uWS.App();
    this.app = app;
    this.routes(app);
    return new Promise((resolve, reject) => {
      app.listen(this.options.host, this.options.port, (socket) => {
        if (socket === false) {
          reject(new Error(`ingest: cannot listen on ${this.options.host}:${this.options.port}`));
          return;
        }
        this.listenSocket = socket;
        resolve(uWS.us_socket_local_port(socket));
      });
    });
  }

  /** Stops accepting connections and closes the open ones. */
  close(): void {
    if (this.listenSocket !== null) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
    for (const ws of this.connections.values()) ws.end(1001, 'engine stopping');
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
    const n = this.fromRisk.poll(this, INGEST_BATCH);
    return work + n;
  }

  // ------------------------------------------------------------------------------------------
  // Reports from risk
  // ------------------------------------------------------------------------------------------

  onRecord(typeId: number, offset: number, _length: number): void {
    if (typeId !== RecordType.EXEC_REPORT) return;
    const r = this.report.wrap(this.fromRisk.view, this.fromRisk.bytes, offset);
    this.counters.add(IngestCounter.REPORTS_OUT, 1);
    const json = reportToJson(r, this.options.symbols, this.options.venues, this.scratch);
    const orderId = r.orderId();
    if (orderId > 0 && r.execType() !== ExecType.CANCEL_REJECT) this.remember(orderId, r.accountId(), json);
    const requestId = r.requestId();
    if (requestId !== 0) {
      this.answerRequest(requestId, json, r.execType());
      return;
    }
    const ws = this.connections.get(r.connId());
    if (ws === undefined) return; // the client left; the report is in the journal
    this.send(ws, JSON.stringify(json));
  }

  private remember(orderId: number, accountId: number, json: Record<string, unknown>): void {
    const view = this.orderView;
    if (!view.has(orderId) && view.size >= this.options.orderViewCapacity) {
      const oldest = view.keys().next().value as number;
      view.delete(oldest);
    }
    view.set(orderId, { accountId, json });
  }

  private send(ws: uWS.WebSocket<WsData>, text: string): void {
    const status = ws.send(text, false, false);
    if (status === 2 || ws.getBufferedAmount() > this.options.maxBackpressureBytes) {
      this.counters.add(IngestCounter.DROPPED_SLOW_CLIENT, 1);
      ws.end(1008, 'slow consumer: send buffer limit reached');
    }
  }

  /** A REST request waits for the first report about its command, then answers. */
  private answerRequest(requestId: number, json: Record<string, unknown>, execType: number): void {
    const p = this.pending.get(requestId);
    if (p === undefined) return;
    this.pending.delete(requestId);
    if (p.aborted) return;
    const rejected = execType === ExecType.REJECTED || execType === ExecType.CANCEL_REJECT;
    const reason = typeof json.reason === 'number' ? json.reason : 0;
    const status = !rejected ? '202 Accepted' : reason === Reason.UNKNOWN_ORDER ? '404 Not Found' : reason === Reason.ENGINE_BUSY ? '503 Service Unavailable' : '422 Unprocessable Entity';
    p.res.cork(() => {
      p.res.writeStatus(status).writeHeader('content-type', 'application/json').end(JSON.stringify(json));
    });
  }

  // ------------------------------------------------------------------------------------------
  // Commands into the engine
  // ------------------------------------------------------------------------------------------

  /** Writes a validated command to the ring; returns a reason code (NONE when queued). */
  private enqueue(cmd: NewOrderCommand | CancelCommand, accountId: number, connId: number, requestId: number): number {
    const state = Atomics.load(this.engineState, 0);
    if (state !== EngineState.RUNNING) return state === EngineState.HALTED ? Reason.ENGINE_HALTED : Reason.ENGINE_STOPPING;
    const ring = this.toRisk;
    const recvNs = this.clock.nowNs();
    const clLength = asciiInto(cmd.clOrdId, this.clScratch);
    const cl = this.clScratch;
    if (cmd.kind === 'new') {
      const at = ring.tryClaim(RecordType.NEW_ORDER, NEW_ORDER_LENGTH);
      if (at === FULL) return Reason.ENGINE_BUSY;
      this.newOrder
        .wrap(ring.view, ring.bytes, at)
        .setRecvTimeNs(recvNs)
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
        .setClOrdId(cl, 0, clLength);
      this.counters.add(IngestCounter.ORDERS_IN, 1);
    } else {
      const type = cmd.kind === 'cancel' ? RecordType.CANCEL_ORDER : RecordType.REPLACE_ORDER;
      const at = ring.tryClaim(type, CANCEL_ORDER_LENGTH);
      if (at === FULL) return Reason.ENGINE_BUSY;
      const origLength = asciiInto(cmd.origClOrdId, this.origScratch);
      this.cancel
        .wrap(ring.view, ring.bytes, at)
        .setRecvTimeNs(recvNs)
        .setOrderId(cmd.orderId)
        .setQty(cmd.qty)
        .setPriceTicks(cmd.priceTicks)
        .setConnId(connId)
        .setAccountId(accountId)
        .setRequestId(requestId)
        .setSource(Source.INGEST)
        .setClOrdId(cl, 0, clLength);
      this.cancel.setOrigClOrdId(this.origScratch, 0, origLength);
    }
    this.uncommitted = true;
    this.onCommand();
    return Reason.NONE;
  }

  private authenticate(authorization: string, token: string | undefined): number {
    let key = token;
    if (authorization.startsWith('Bearer ')) key = authorization.slice(7).trim();
    if (key === undefined || key === '') return 0;
    return this.options.apiKeys.get(key) ?? 0;
  }

  // ------------------------------------------------------------------------------------------
  // Routes
  // ------------------------------------------------------------------------------------------

  private routes(app: uWS.TemplatedApp): void {
    const o = this.options;
    app.ws<WsData>('/v1/ws', {
      compression: 0, // uWS.DISABLED: per-message deflate costs latency
      maxPayloadLength: o.maxPayloadBytes,
      maxBackpressure: o.maxBackpressureBytes,
      closeOnBackpressureLimit: false,
      idleTimeout: o.idleTimeoutS,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        const accountId = this.authenticate(req.getHeader('authorization'), req.getQuery('token'));
        if (accountId === 0) {
          res.writeStatus('401 Unauthorized').writeHeader('content-type', 'application/json').end(errorJson(Reason.UNAUTHENTICATED, 'a valid API key is required'));
          return;
        }
        if (this.connections.size >= o.maxConnections) {
          res.writeStatus('503 Service Unavailable').writeHeader('content-type', 'application/json').end(errorJson(Reason.ENGINE_BUSY, 'connection limit reached'));
          return;
        }
        const connId = this.nextConnId++;
        res.upgrade<WsData>(
          { accountId, connId },
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
          context,
        );
      },
      open: (ws) => {
        this.connections.set(ws.getUserData().connId, ws);
        this.counters.add(IngestCounter.CONNECTIONS, 1);
        ws.send(JSON.stringify({ type: 'hello', accountId: ws.getUserData().accountId, connId: ws.getUserData().connId }), false, false);
      },
      message: (ws, message, isBinary) => this.onWsMessage(ws, message, isBinary),
      close: (ws) => {
        this.connections.delete(ws.getUserData().connId);
        this.counters.add(IngestCounter.CONNECTIONS, -1);
      },
    });
    app.post('/v1/orders', (res, req) => this.onRestCommand(res, req, 'new'));
    app.del('/v1/orders/:id', (res, req) => this.onRestCommand(res, req, 'cancel'));
    app.get('/v1/orders/:id', (res, req) => this.onGetOrder(res, req));
    app.get('/health', (res) => {
      const doc = o.health();
      res.writeStatus(doc.ok === true ? '200 OK' : '503 Service Unavailable').writeHeader('content-type', 'application/json').end(JSON.stringify(doc));
    });
    app.get('/ready', (res) => {
      const ready = Atomics.load(this.engineState, 0) === EngineState.RUNNING;
      res.writeStatus(ready ? '200 OK' : '503 Service Unavailable').writeHeader('content-type', 'application/json').end(JSON.stringify({ ready }));
    });
    app.any('/*', (res) => {
      res.writeStatus('404 Not Found').writeHeader('content-type', 'application/json').end(errorJson(Reason.UNKNOWN_MESSAGE_TYPE, 'no such route'));
    });
  }

  private onWsMessage(ws: uWS.WebSocket<WsData>, message: ArrayBuffer, isBinary: boolean): void {
    this.counters.add(IngestCounter.MESSAGES_IN, 1);
    const data = ws.getUserData();
    if (isBinary) {
      this.wsReject(ws, Reason.UNKNOWN_MESSAGE_TYPE, 'binary frames are not accepted on this endpoint', '');
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(message).toString('utf8'));
    } catch {
      this.wsReject(ws, Reason.MALFORMED, 'not valid JSON', '');
      return;
    }
    const cmd = validateClientMessage(parsed, this.symbolIds);
    if (cmd.kind === 'reject') {
      this.wsReject(ws, cmd.reason, cmd.text, cmd.clOrdId);
      return;
    }
    const reason = this.enqueue(cmd, data.accountId, data.connId, 0);
    if (reason !== Reason.NONE) this.wsReject(ws, reason, reasonName(reason), cmd.clOrdId);
  }

  private wsReject(ws: uWS.WebSocket<WsData>, reason: number, text: string, clOrdId: string): void {
    this.counters.add(IngestCounter.REJECTED_AT_EDGE, 1);
    this.send(ws, JSON.stringify({ type: 'reject', clOrdId, reason, reasonName: reasonName(reason), text }));
  }

  private onRestCommand(res: uWS.HttpResponse, req: uWS.HttpRequest, kind: 'new' | 'cancel'): void {
    this.counters.add(IngestCounter.HTTP_REQUESTS, 1);
    // Everything needed from req is read now: it is invalid after this callback returns.
    const accountId = this.authenticate(req.getHeader('authorization'), undefined);
    const idParam = kind === 'cancel' ? req.getParameter(0) ?? '' : '';
    const cancelClOrdId = kind === 'cancel' ? req.getQuery('clOrdId') ?? '' : '';
    const pending: PendingRequest = { res, aborted: false, accountId };
    res.onAborted(() => {
      pending.aborted = true;
    });
    if (accountId === 0) {
      restError(res, '401 Unauthorized', Reason.UNAUTHENTICATED, 'a valid API key is required (Authorization: Bearer <key>)');
      return;
    }
    if (kind === 'cancel') {
      const orderId = /^\d{1,15}$/.test(idParam) ? Number(idParam) : 0;
      if (orderId < 1) {
        restError(res, '400 Bad Request', Reason.INVALID_FIELD, 'order id must be a positive whole number');
        return;
      }
      const clOrdId = cancelClOrdId !== '' ? cancelClOrdId : `cxl-${orderId}-${this.nextRequestId}`;
      const cmd = validateClientMessage({ type: 'cancel', clOrdId, orderId }, this.symbolIds);
      if (cmd.kind === 'reject') {
        restError(res, '400 Bad Request', cmd.reason, cmd.text);
        return;
      }
      this.submitRest(res, pending, cmd, accountId);
      return;
    }
    readBody(res, this.options.maxBodyBytes, (body, tooLarge) => {
      if (pending.aborted) return;
      if (tooLarge) {
        restError(res, '413 Payload Too Large', Reason.FRAME_TOO_LARGE, `body larger than ${this.options.maxBodyBytes} bytes`);
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        restError(res, '400 Bad Request', Reason.MALFORMED, 'body is not valid JSON');
        return;
      }
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && (parsed as Record<string, unknown>).type === undefined) {
        (parsed as Record<string, unknown>).type = 'new';
      }
      const cmd = validateClientMessage(parsed, this.symbolIds);
      if (cmd.kind === 'reject') {
        restError(res, '400 Bad Request', cmd.reason, cmd.text);
        return;
      }
      if (cmd.kind !== 'new') {
        restError(res, '400 Bad Request', Reason.UNKNOWN_MESSAGE_TYPE, 'POST /v1/orders takes a new order; cancel with DELETE /v1/orders/{id}');
        return;
      }
      this.submitRest(res, pending, cmd, accountId);
    });
  }

  private submitRest(res: uWS.HttpResponse, pending: PendingRequest, cmd: NewOrderCommand | CancelCommand, accountId: number): void {
    const requestId = this.nextRequestId++;
    if (this.nextRequestId > 0xffffffff) this.nextRequestId = 1;
    const reason = this.enqueue(cmd, accountId, 0, requestId);
    if (reason !== Reason.NONE) {
      restError(res, '503 Service Unavailable', reason, reasonName(reason));
      return;
    }
    this.pending.set(requestId, pending);
  }

  private onGetOrder(res: uWS.HttpResponse, req: uWS.HttpRequest): void {
    this.counters.add(IngestCounter.HTTP_REQUESTS, 1);
    const accountId = this.authenticate(req.getHeader('authorization'), undefined);
    const idParam = req.getParameter(0) ?? '';
    if (accountId === 0) {
      restError(res, '401 Unauthorized', Reason.UNAUTHENTICATED, 'a valid API key is required (Authorization: Bearer <key>)');
      return;
    }
    const orderId = /^\d{1,15}$/.test(idParam) ? Number(idParam) : 0;
    const view = this.orderView.get(orderId);
    // Another account's order is reported as unknown: its existence is not revealed.
    if (view === undefined || view.accountId !== accountId) {
      restError(res, '404 Not Found', Reason.UNKNOWN_ORDER, 'no such order for this account');
      return;
    }
    res.writeStatus('200 OK').writeHeader('content-type', 'application/json').end(JSON.stringify(view.json));
  }
}

/** Writes validated ASCII text into dst; returns its length. */
function asciiInto(text: string, dst: Uint8Array): number {
  for (let i = 0; i < text.length; i++) dst[i] = text.charCodeAt(i);
  return text.length;
}

function errorJson(reason: number, text: string): string {
  return JSON.stringify({ type: 'error', reason, reasonName: reasonName(reason), text });
}

function restError(res: uWS.HttpResponse, status: string, reason: number, text: string): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('content-type', 'application/json').end(errorJson(reason, text));
  });
}

/** Collects a request body up to maxBytes; copies each chunk (uWS reuses its buffers). */
function readBody(res: uWS.HttpResponse, maxBytes: number, done: (body: Buffer, tooLarge: boolean) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  res.onData((chunk, isLast) => {
    if (!over) {
      size += chunk.byteLength;
      if (size > maxBytes) over = true;
      else chunks.push(Buffer.from(new Uint8Array(chunk).slice()));
    }
    if (isLast) done(over ? Buffer.alloc(0) : Buffer.concat(chunks), over);
  });
}
