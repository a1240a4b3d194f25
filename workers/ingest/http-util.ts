/**
 * Small helpers for uWebSockets.js HTTP responses and request bodies, shared by the REST routes.
 * Every error is JSON with a reason code: {"type":"error","reason":113,"reasonName":...,"text":...}.
 */
import type * as uWS from 'uWebSockets.js';
import { reasonName } from '../../engine/reasons.ts';
import type { ErrorMessage } from './messages.ts';

export function errorMessage(reason: number, text: string): ErrorMessage {
  return { type: 'error', reason, reasonName: reasonName(reason), text };
}

/**
 * Writes a whole JSON response. Inside a uWS handler the response is already corked; from
 * anywhere else (a report answering a pending request) use sendJsonTextCorked.
 */
export function sendJson(res: uWS.HttpResponse, status: string, body: unknown): void {
  sendJsonText(res, status, JSON.stringify(body));
}

/** Writes a whole response whose body is JSON text already (a string, or its UTF-8 bytes). */
function sendJsonText(res: uWS.HttpResponse, status: string, json: string | Uint8Array): void {
  res.writeStatus(status).writeHeader('content-type', 'application/json').end(json);
}

/** sendJsonText from outside a uWS callback, corked into one write (bytes are copied at once). */
export function sendJsonTextCorked(res: uWS.HttpResponse, status: string, json: string | Uint8Array): void {
  res.cork(() => sendJsonText(res, status, json));
}

export function sendError(res: uWS.HttpResponse, status: string, reason: number, text: string): void {
  sendJson(res, status, errorMessage(reason, text));
}

/**
 * Collects a request body up to maxBytes, copying each chunk (uWS reuses its buffers). A body
 * over the limit is answered by the caller with 413; the rest of it is read and discarded.
 */
export function readBody(res: uWS.HttpResponse, maxBytes: number, done: (body: Buffer, tooLarge: boolean) => void): void {
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

/** Parses a JSON body, or answers 400 and returns undefined. */
export function parseJsonBody(res: uWS.HttpResponse, body: Buffer, malformed: number): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    sendError(res, '400 Bad Request', malformed, 'body is not valid JSON');
    return undefined;
  }
}

/** A positive whole number from a path or query parameter, or 0. */
export function positiveId(text: string): number {
  return /^\d{1,15}$/.test(text) ? Number(text) : 0;
}
