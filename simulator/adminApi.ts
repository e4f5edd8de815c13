// The simulator's own API under /_sim/ (no provider auth): bindings, calls, faults, pushes, reset,
// plus the clock, the number pool, the push URL and the recording files the 301 leads to.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { CallRequestSchema } from './calls';
import type { SimCore } from './core';
import { FaultsBodySchema } from './faults';
import { readBody, sendAdminError, sendJson } from './http';
import { alawWav } from './wav';

const ClockBodySchema = z
  .object({
    advanceSeconds: z
      .number()
      .min(0)
      .max(10 * 365 * 86_400),
  })
  .strict();
const ConfigBodySchema = z.object({ pushUrl: z.string().url() }).strict();

const WAV = alawWav();

function issues(err: z.ZodError) {
  return err.issues.map((i) => ({ field: i.path.join('.') || 'body', message: i.message }));
}

async function parse<S extends z.ZodTypeAny>(
  req: IncomingMessage,
  res: ServerResponse,
  schema: S,
): Promise<z.output<S> | undefined> {
  let json: unknown;
  try {
    const text = await readBody(req);
    json = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    sendAdminError(res, 400, 'INVALID_JSON', 'body is not JSON');
    return undefined;
  }
  const r = schema.safeParse(json);
  if (r.success) return r.data;
  const list = issues(r.error);
  sendAdminError(res, 400, 'VALIDATION_FAILED', `invalid ${list.map((i) => i.field).join(', ')}`, list);
  return undefined;
}

export type ResetHook = () => void;

/** Answers an admin request; false when the path is not under /_sim/. */
export async function handleAdmin(
  core: SimCore,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  onReset: ResetHook,
): Promise<boolean> {
  if (!url.pathname.startsWith('/_sim/')) return false;
  const route = `${req.method} ${url.pathname}`;
  switch (route) {
    case 'GET /_sim/health':
      sendJson(res, 200, { ok: true, now: new Date(core.now()).toISOString() });
      return true;
    case 'GET /_sim/bindings':
      sendJson(res, 200, { bindings: core.bindings() });
      return true;
    case 'POST /_sim/calls': {
      const body = await parse(req, res, CallRequestSchema);
      if (body) sendJson(res, 200, core.call(body));
      return true;
    }
    case 'GET /_sim/faults':
      sendJson(res, 200, { rules: core.faults.get() });
      return true;
    case 'PUT /_sim/faults': {
      const body = await parse(req, res, FaultsBodySchema);
      if (body) {
        core.faults.set(body.rules);
        sendJson(res, 200, { rules: core.faults.get() });
      }
      return true;
    }
    case 'GET /_sim/pushes':
      sendJson(res, 200, { pushUrl: core.pushes.pushUrl, pushes: core.pushes.list() });
      return true;
    case 'POST /_sim/reset':
      core.reset();
      onReset();
      sendJson(res, 200, { ok: true });
      return true;
    case 'GET /_sim/clock':
      sendJson(res, 200, { now: new Date(core.now()).toISOString(), timeScale: core.clock.timeScale });
      return true;
    case 'POST /_sim/clock': {
      const body = await parse(req, res, ClockBodySchema);
      if (body) {
        core.advance(body.advanceSeconds);
        sendJson(res, 200, { now: new Date(core.now()).toISOString(), timeScale: core.clock.timeScale });
      }
      return true;
    }
    case 'GET /_sim/numbers':
      sendJson(res, 200, { pool: core.store.numbers });
      return true;
    case 'GET /_sim/config':
      sendJson(res, 200, { appKey: core.opts.appKey, pushUrl: core.pushes.pushUrl, timeScale: core.clock.timeScale });
      return true;
    case 'PUT /_sim/config': {
      const body = await parse(req, res, ConfigBodySchema);
      if (body) {
        core.pushes.pushUrl = body.pushUrl;
        sendJson(res, 200, { appKey: core.opts.appKey, pushUrl: core.pushes.pushUrl, timeScale: core.clock.timeScale });
      }
      return true;
    }
  }
  if (req.method === 'GET' && url.pathname.startsWith('/_sim/recordings/')) {
    serveRecording(core, res, url);
    return true;
  }
  sendAdminError(res, 404, 'NOT_FOUND', `no admin route ${route}`);
  return true;
}

/** The file behind a download link: known object, link not past its 3 days, file not past its 7. */
function serveRecording(core: SimCore, res: ServerResponse, url: URL): void {
  const name = decodeURIComponent(url.pathname.slice('/_sim/recordings/'.length));
  const rec = core.recordings.get(name);
  const expires = Number(url.searchParams.get('expires'));
  if (!rec || !core.recording(rec.domain, name)) return sendAdminError(res, 404, 'NOT_FOUND', 'no such recording');
  if (!Number.isFinite(expires) || expires < core.now())
    return sendAdminError(res, 403, 'LINK_EXPIRED', 'download link expired');
  res.writeHead(200, {
    'content-type': 'audio/wav',
    'content-length': WAV.length,
    'content-disposition': `attachment; filename="${name}"`,
  });
  res.end(WAV);
}
