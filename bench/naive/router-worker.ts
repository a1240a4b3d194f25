/**
 * The naive pipeline's router stage (a worker thread): parses each route request's JSON, scores
 * the venues with the seed's weighted function (as workers/sor/sor-stage.ts does before any
 * quote arrives: price 1 for every venue, latency, fill probability, fee), picks the best, ties
 * to the lower venue id, and posts the decision to main as a JSON string. Each decision records
 * ingest -> routing decision (decision time minus main's receive stamp) into the shared histogram
 * main reads.
 */

import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { SystemClock } from '../../engine/clock.ts';
import { SharedHistogram } from '../../engine/shared-histogram.ts';
import type { RouteMsg, RoutedMsg, RouterSetup } from './messages.ts';

const { setup, risk, ingestToDecision } = workerData as { setup: RouterSetup; risk: MessagePort; ingestToDecision: Int32Array };
const clock = new SystemClock(setup.epochMs);
const histogram = new SharedHistogram(ingestToDecision, 0);
const minLatencyUs = Math.min(...setup.venues.map((v) => v.latencyUs));
const minFee = Math.min(...setup.venues.map((v) => v.feeCentiBps));

function bestVenue(): number {
  const w = setup.weights;
  let best = 0;
  let bestScore = -Infinity;
  for (const v of setup.venues) {
    const latency = v.latencyUs === 0 ? 1 : minLatencyUs / v.latencyUs;
    const fee = (minFee + 1) / (v.feeCentiBps + 1);
    const score = w.price * 1 + w.latency * latency + w.fillprob * v.fillProbability + w.fee * fee;
    if (score > bestScore || (score === bestScore && v.id < best)) {
      best = v.id;
      bestScore = score;
    }
  }
  return best;
}

risk.on('message', (text: string) => {
  const m = JSON.parse(text) as RouteMsg;
  const routed: RoutedMsg = { type: 'routed', orderId: m.orderId, venueId: bestVenue(), ack: m.ack };
  parentPort!.postMessage(JSON.stringify(routed));
  histogram.record(clock.nowNs() - m.recvNs); // after the decision is handed on, as the SOR records after its sends

});
