/**
 * The naive pipeline's stage messages and per-stage configuration. Every hop carries a JSON
 * string (JSON.stringify before postMessage, JSON.parse after), the way a pipeline of services
 * passing JSON over a queue would, in place of the engine's fixed binary records in SPSC rings.
 *
 *   main (uWS) --NewOrderMsg--> risk --AckMsg | RejectMsg--> main --> client
 *                                    \--RouteMsg--> router --RoutedMsg--> main
 *   (ackAfter 'route': risk sends the ack inside the RouteMsg and router forwards it to main)
 */

import { decimalToTicks, feeCentiBps, type EngineConfig } from '../../workers/config.ts';

export type AckAfter = 'risk' | 'route';

export interface NewOrderMsg {
  type: 'new';
  connId: number;
  accountId: number;
  clOrdId: string;
  symbolId: number;
  side: number;
  ordType: number;
  tif: number;
  qty: number;
  priceTicks: number;
  /** When main handed the order on, parsed and validated, in engine time (engine/clock.ts): the start of ingest -> routing decision. */
  recvNs: number;
}

export interface AckMsg {
  type: 'ack';
  connId: number;
  orderId: number;
  clOrdId: string;
  symbolId: number;
  side: number;
  ordType: number;
  tif: number;
  qty: number;
  priceTicks: number;
  eventSeq: number;
}

export interface RejectMsg {
  type: 'reject';
  connId: number;
  clOrdId: string;
  reason: number;
}

export interface RouteMsg {
  type: 'route';
  orderId: number;
  symbolId: number;
  side: number;
  qty: number;
  priceTicks: number;
  /** The order's NewOrderMsg.recvNs, carried on for the router's ingest -> routing decision histogram. */
  recvNs: number;
  /** Present when the ack waits for the routing decision. */
  ack: AckMsg | null;
}

export interface RoutedMsg {
  type: 'routed';
  orderId: number;
  venueId: number;
  ack: AckMsg | null;
}

export interface RiskSetup {
  ackAfter: AckAfter;
  /** Indexed by account id. */
  accounts: ({ maxOrderQty: number; maxOrderNotionalTicks: number; enabled: boolean } | null)[];
  referencePriceTicks: number[];
  orderCapacity: number;
}

export interface RouterSetup {
  /** The engine epoch (main's performance.timeOrigin) that NewOrderMsg.recvNs counts from. */
  epochMs: number;
  venues: { id: number; feeCentiBps: number; latencyUs: number; fillProbability: number }[];
  weights: { price: number; latency: number; fillprob: number; fee: number };
}

export function riskSetupOf(config: EngineConfig, ackAfter: AckAfter): RiskSetup {
  const accounts: RiskSetup['accounts'] = [];
  for (const a of config.accounts) {
    while (accounts.length <= a.id) accounts.push(null);
    accounts[a.id] = { maxOrderQty: a.maxOrderQty, maxOrderNotionalTicks: decimalToTicks(a.maxOrderNotional), enabled: a.enabled };
  }
  return { ackAfter, accounts, referencePriceTicks: config.symbols.map((s) => decimalToTicks(s.referencePrice)), orderCapacity: config.orderCapacity };
}

export function routerSetupOf(config: EngineConfig, epochMs: number): RouterSetup {
  return {
    epochMs,
    venues: config.venues.map((v) => ({ id: v.id, feeCentiBps: feeCentiBps(v.feeBps), latencyUs: v.latencyUs, fillProbability: v.fillProbability })),
    weights: config.sor.weights,
  };
}
