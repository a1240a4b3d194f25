/**
 * The naive baseline of the engine's order path: the same JSON WebSocket protocol on
 * uWebSockets.js, the same edge validation (workers/ingest/order-json.ts) and risk checks, but
 * stages linked by worker_threads postMessage carrying JSON strings, stringified and parsed at
 * every hop, instead of SPSC rings of fixed binary records.
 *
 *   client --WS--> main: parse + validate --JSON--> risk worker --JSON--> main --WS--> client (ack)
 *                                                       \--JSON--> router worker --JSON--> main
 *
 * The ack leaves after risk, as in the engine (workers/risk/risk-stage.ts reports NEW before it
 * asks the SOR for a route), so both answer the same question; ackAfter 'route' makes the ack
 * wait for the routing decision too (main -> risk -> router -> main). Nothing here talks to
 * venues, so the baseline does strictly less work per order than the engine.
 *
 * Ingest -> routing decision is timed as the engine times it (workers/sor/sor-stage.ts): main
 * stamps each order once parsed and validated, as it hands it on (where the engine's ingest
 * stamps its ring record), the stamp travels in the JSON, and the router, once its decision is
 * posted, records that time minus the stamp into a shared-memory histogram (engine/shared-histogram.ts)
 * under the engine's name, `sor_ingest_to_decision`, which histograms() reads.
 */

import { MessageChannel, Worker } from 'node:worker_threads';
import * as uWS from 'uWebSockets.js';
import type { EngineConfig } from '../../workers/config.ts';
import { validateClientMessage } from '../../workers/ingest/order-json.ts';
import { ticksToDecimalString } from '../../engine/fixed-point.ts';
import { Reason, reasonName } from '../../engine/reasons.ts';
import { SystemClock } from '../../engine/clock.ts';
import { SharedHistogram, type HistogramSnapshot } from '../../engine/shared-histogram.ts';
import { riskSetupOf, routerSetupOf, type AckAfter, type AckMsg, type NewOrderMsg, type RejectMsg, type RoutedMsg } from './messages.ts';

const SIDE_NAMES = ['', 'BUY', 'SELL'];
const ORD_TYPE_NAMES = ['', 'MARKET', 'LIMIT'];
const TIF_NAMES = ['DAY', 'GTC', '', 'IOC', 'FOK'];

export interface NaivePipeline {
  port: number;
  /** Orders acked, rejected and routed so far. */
  counts(): { acked: number; rejected: number; routed: number };
  /** Ingest -> routing decision so far, under the engine's histogram name (HISTOGRAM_NAMES). */
  histograms(): { sor_ingest_to_decision: HistogramSnapshot };
  close(): Promise<void>;
}

interface WsData {
  accountId: number;
  connId: number;
}

/** The main thread's part: sockets, edge validation, replies. */
class NaiveEdge {
  readonly sockets = new Map<number, uWS.WebSocket<WsData>>();
  readonly counts = { acked: 0, rejected: 0, routed: 0 };
  private readonly apiKeys: Map<string, number>;
  private readonly symbolIds: Map<string, number>;
  private readonly symbolNames: string[];
  private readonly risk: Worker;
  private readonly clock: SystemClock;
  private nextConnId = 1;

  constructor(config: EngineConfig, risk: Worker, clock: SystemClock) {
    this.apiKeys = new Map(config.accounts.map((a) => [a.apiKey, a.id]));
    this.symbolIds = new Map(config.symbols.map((s, i) => [s.name, i]));
    this.symbolNames = config.symbols.map((s) => s.name);
    this.risk = risk;
    this.clock = clock;
  }

  onRisk(text: string): void {
    const m = JSON.parse(text) as AckMsg | RejectMsg;
    if (m.type === 'ack') this.sendAck(m);
    else this.sendReject(m.connId, m.clOrdId, m.reason);
  }

  onRouter(text: string): void {
    const m = JSON.parse(text) as RoutedMsg;
    this.counts.routed++;
    if (m.ack !== null) this.sendAck(m.ack);
  }

  /** Same edge work as the engine's ingest: parse, validate, then hand over as JSON text. */
  onMessage(d: WsData, message: ArrayBuffer): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(message).toString('utf8'));
    } catch {
      return this.sendReject(d.connId, '', Reason.MALFORMED);
    }
    const cmd = validateClientMessage(parsed, this.symbolIds);
    if (cmd.kind === 'reject') return this.sendReject(d.connId, cmd.clOrdId, cmd.reason);
    // The baseline takes new orders only; anything else is refused, not silently dropped.
    if (cmd.kind !== 'new') return this.sendReject(d.connId, 'clOrdId' in cmd ? cmd.clOrdId : '', Reason.UNKNOWN_MESSAGE_TYPE);
    // Stamped where the engine's ingest stamps its record: parsed and validated, handed on.
    const recvNs = this.clock.nowNs();
    const order: NewOrderMsg = {
      type: 'new', connId: d.connId, accountId: d.accountId, clOrdId: cmd.clOrdId, symbolId: cmd.symbolId,
      side: cmd.side, ordType: cmd.ordType, tif: cmd.tif, qty: cmd.qty, priceTicks: cmd.priceTicks, recvNs,
    };
    this.risk.postMessage(JSON.stringify(order));
  }

  upgrade(res: uWS.HttpResponse, req: uWS.HttpRequest, context: uWS.us_socket_context_t): void {
    const auth = req.getHeader('authorization');
    const key = auth.startsWith('Bearer ') ? auth.slice(7).trim() : req.getQuery('token') ?? '';
    const accountId = this.apiKeys.get(key) ?? 0;
    if (accountId === 0) {
      res.writeStatus('401 Unauthorized').end(JSON.stringify({ type: 'error', reason: Reason.UNAUTHENTICATED, reasonName: 'UNAUTHENTICATED' }));
      return;
    }
    res.upgrade<WsData>({ accountId, connId: this.nextConnId++ }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
  }

  private send(connId: number, text: string): void {
    this.sockets.get(connId)?.send(text, false, false);
  }

  private sendAck(a: AckMsg): void {
    this.counts.acked++;
    this.send(a.connId, JSON.stringify({
      type: 'ack', execType: 'NEW', orderId: a.orderId, clOrdId: a.clOrdId, status: 'NEW', symbol: this.symbolNames[a.symbolId] ?? null,
      side: SIDE_NAMES[a.side] ?? null, ordType: ORD_TYPE_NAMES[a.ordType] ?? null, tif: TIF_NAMES[a.tif] ?? null, qty: a.qty,
      price: a.priceTicks > 0 ? ticksToDecimalString(a.priceTicks) : null, cumQty: 0, leavesQty: a.qty, avgPx: null, eventSeq: a.eventSeq,
    }));
  }

  private sendReject(connId: number, clOrdId: string, reason: number): void {
    this.counts.rejected++;
    this.send(connId, JSON.stringify({ type: 'reject', clOrdId, reason, reasonName: reasonName(reason), text: reasonName(reason) }));
  }
}

export async function startNaivePipeline(config: EngineConfig, ackAfter: AckAfter = 'risk'): Promise<NaivePipeline> {
  const channel = new MessageChannel();
  const epochMs = performance.timeOrigin;
  const ingestToDecision = SharedHistogram.create();
  const risk = new Worker(new URL('./risk-worker.ts', import.meta.url), { workerData: { setup: riskSetupOf(config, ackAfter), router: channel.port1 }, transferList: [channel.port1] });
  const router = new Worker(new URL('./router-worker.ts', import.meta.url), {
    workerData: { setup: routerSetupOf(config, epochMs), risk: channel.port2, ingestToDecision: ingestToDecision.words }, transferList: [channel.port2],
  });
  const edge = new NaiveEdge(config, risk, new SystemClock(epochMs));
  risk.on('message', (text: string) => edge.onRisk(text));
  router.on('message', (text: string) => edge.onRouter(text));
  const app = uWS.App();
  app.ws<WsData>('/v1/ws', {
    compression: 0,
    maxPayloadLength: 16 * 1024,
    maxBackpressure: 1 << 20,
    idleTimeout: 120,
    upgrade: (res, req, context) => edge.upgrade(res, req, context),
    open: (ws) => {
      const d = ws.getUserData();
      edge.sockets.set(d.connId, ws);
      ws.send(JSON.stringify({ type: 'hello', accountId: d.accountId, connId: d.connId }), false, false);
    },
    close: (ws) => {
      edge.sockets.delete(ws.getUserData().connId);
    },
    message: (ws, message) => edge.onMessage(ws.getUserData(), message),
  });
  const listenSocket = await new Promise<uWS.us_listen_socket>((resolve, reject) => {
    app.listen(config.http.host, config.http.port, (s) => (s === false ? reject(new Error(`naive: cannot listen on ${config.http.host}:${config.http.port}`)) : resolve(s)));
  });
  return {
    port: uWS.us_socket_local_port(listenSocket),
    counts: () => ({ ...edge.counts }),
    histograms: () => ({ sor_ingest_to_decision: ingestToDecision.snapshot() }),
    async close() {
      uWS.us_listen_socket_close(listenSocket);
      for (const ws of edge.sockets.values()) ws.end(1001, 'stopping');
      app.close();
      await Promise.all([risk.terminate(), router.terminate()]);
    },
  };
}
