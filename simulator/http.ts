// Small helpers over node:http: the simulator needs full control of each answer (drop a response
// after committing, hang one forever, send a bare 301), which a framework would only get in the way of.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { lookupResultCode } from '../provider/resultCodes';

const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLarge extends Error {}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json;charset=UTF-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** The provider's JSON envelope with the HTTP status its table gives the code (403 for unknown ones). */
export function sendResult(
  res: ServerResponse,
  resultcode: string,
  resultdesc: string,
  extra: Record<string, unknown> = {},
): void {
  const status = lookupResultCode(resultcode)?.httpStatus ?? 403;
  sendJson(res, status, { resultcode, resultdesc, ...extra });
}

/** Admin API errors, in the shape of the project's HTTP API errors. */
export function sendAdminError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  details?: unknown,
): void {
  sendJson(res, status, { error: { code, message, ...(details !== undefined ? { details } : {}) } });
}

export function clientIp(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}
