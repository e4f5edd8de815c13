// The provider API at the platform's paths: bind (AX and YB), unbind, query and the recording
// download URL, behind the platform's gatekeeping in this order: IP lock-out, flow control,
// X-AKSK, app_key, injected faults, field validation; then the business rules of the store.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ZodError } from 'zod';
import { verifyAksk, NonceReplayCache } from '../provider/aksk';
import {
  AxBindRequestSchema,
  PATHS,
  QueryParamsSchema,
  RecordUrlParamsSchema,
  UnbindParamsSchema,
  YbBindRequestSchema,
  firstBadField,
  invalidFieldDesc,
  type RelationEntry,
} from '../provider/schemas';
import type { AxBinding } from './bindings';
import { providerTime } from './clock';
import { RECORDING_LINK_MS, type SimCore } from './core';
import { SimRefusal } from './errors';
import type { ApiName } from './faults';
import { BodyTooLarge, clientIp, readBody, sendResult } from './http';

type Outcome =
  | { kind: 'result'; resultcode: string; resultdesc: string; extra?: Record<string, unknown> }
  | { kind: 'redirect'; location: string };

const ok = (extra: Record<string, unknown> = {}): Outcome => ({
  kind: 'result',
  resultcode: '0',
  resultdesc: 'Success',
  extra,
});
const invalid = (err: ZodError): Outcome => ({
  kind: 'result',
  resultcode: '1010002',
  resultdesc: invalidFieldDesc(firstBadField(err)),
});

export class ProviderApi {
  private replay = new NonceReplayCache();
  /** Responses held open by the `timeout` fault, released when the server closes. */
  readonly hung = new Set<ServerResponse>();

  constructor(private readonly core: SimCore) {}

  reset(): void {
    this.replay = new NonceReplayCache();
  }

  /** Answers a provider API request; false when the path is not one of the provider's. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const api = this.apiOf(req.method ?? 'GET', url.pathname);
    if (api === undefined) return false;
    if (api === null) {
      sendResult(res, '1010002', `Invalid request: method ${req.method} not allowed on this path`);
      return true;
    }
    let body: unknown;
    let bodyError: string | undefined;
    if (req.method === 'POST') {
      try {
        const text = await readBody(req);
        body = JSON.parse(text);
      } catch (e) {
        bodyError = e instanceof BodyTooLarge ? 'body too large' : 'body is not JSON';
      }
    } else {
      req.resume(); // GET and DELETE carry the JSON content type but no body worth reading
    }
    const resolved: ApiName =
      api === 'bind' ? (body && typeof body === 'object' && 'subscriptionId' in body ? 'bindYb' : 'bindAx') : api;
    const outcome = this.gate(req, res, url, resolved, body, bodyError);
    if (outcome === 'handled') return true;
    if (outcome.fault === 'commitThenDrop') {
      // The request took effect; the caller never learns it.
      this.core.opts.log.info('fault: response dropped after commit', { api: resolved });
      req.socket.destroy();
      return true;
    }
    this.send(res, outcome.answer, resolved);
    return true;
  }

  private apiOf(method: string, path: string): ApiName | 'bind' | null | undefined {
    if (path === PATHS.relation) {
      if (method === 'POST') return 'bind';
      if (method === 'DELETE') return 'unbind';
      if (method === 'GET') return 'query';
      return null;
    }
    if (path === PATHS.recordUrl) return method === 'GET' ? 'recordUrl' : null;
    return undefined;
  }

  private gate(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    api: ApiName,
    body: unknown,
    bodyError: string | undefined,
  ): 'handled' | { answer: Outcome; fault?: string } {
    const core = this.core;
    const ip = clientIp(req);
    const refuse = (resultcode: string, resultdesc: string) => ({
      answer: { kind: 'result' as const, resultcode, resultdesc },
    });
    if (core.lockout.isBlocked(ip, core.now()))
      return refuse('1020176', 'IP blocked after repeated authentication failures');
    if (!core.bucket.take()) return refuse('1010010', 'Flow control: too many requests, retry after one minute');
    const auth = verifyAksk(
      { authorization: req.headers.authorization, xAksk: req.headers['x-aksk'] },
      { appKey: core.opts.appKey, appSecret: core.opts.appSecret, replayCache: this.replay },
    );
    if (!auth.ok) {
      core.lockout.recordFailure(ip, core.now());
      return refuse(auth.resultcode, auth.reason);
    }
    const params = Object.fromEntries(url.searchParams);
    if (api !== 'recordUrl') {
      if (params.app_key === undefined) return refuse('1010002', invalidFieldDesc('app_key'));
      if (params.app_key !== core.opts.appKey) return refuse('1010003', 'Invalid app_key');
    }
    delete params.app_key;
    // Faults after authentication, so that a rule's count is spent on requests that would otherwise succeed.
    const fault = core.faults.pick(api);
    if (fault === 'http500') return refuse('1010001', 'Internal system error');
    if (fault === 'flowControl') return refuse('1010010', 'Flow control: too many requests, retry after one minute');
    if (fault === 'timeout') {
      // Never answered: the caller's own timeout decides what happens.
      this.hung.add(res);
      res.on('close', () => this.hung.delete(res));
      core.opts.log.info('fault: request left unanswered', { api });
      return 'handled';
    }
    if (bodyError) return refuse('1010002', `Invalid request: ${bodyError}`);
    if (api === 'bindAx' || api === 'bindYb') {
      const type = String(req.headers['content-type'] ?? '');
      if (!/^application\/json/i.test(type)) return refuse('1010002', invalidFieldDesc('Content-Type'));
    }
    try {
      return { answer: this.execute(api, params, body, req), fault };
    } catch (e) {
      if (e instanceof SimRefusal)
        return { answer: { kind: 'result', resultcode: e.resultcode, resultdesc: e.resultdesc }, fault };
      throw e;
    }
  }

  private execute(api: ApiName, params: Record<string, string>, body: unknown, req: IncomingMessage): Outcome {
    const core = this.core;
    const now = core.now();
    switch (api) {
      case 'bindAx': {
        const r = AxBindRequestSchema.safeParse(body);
        if (!r.success) return invalid(r.error);
        const ax = core.store.bindAx(r.data, now);
        core.opts.log.info('AX bound', { subscriptionId: ax.subscriptionId, numX: ax.numX });
        return ok({ subscriptionId: ax.subscriptionId, relationNumber: ax.numX });
      }
      case 'bindYb': {
        const r = YbBindRequestSchema.safeParse(body);
        if (!r.success) return invalid(r.error);
        const { ax, yb } = core.store.bindYb(r.data, now);
        core.opts.log.info('YB bound', { subscriptionId: ax.subscriptionId, numY: yb.numY });
        return ok({ subscriptionId: ax.subscriptionId, relationNumber: yb.numY });
      }
      case 'unbind': {
        const r = UnbindParamsSchema.safeParse(params);
        if (!r.success) return invalid(r.error);
        core.store.unbind(r.data.subscriptionId, now, r.data.yNum, r.data.bNum);
        core.opts.log.info('unbound', { subscriptionId: r.data.subscriptionId, yNum: r.data.yNum, bNum: r.data.bNum });
        return ok();
      }
      case 'query': {
        const r = QueryParamsSchema.safeParse(params);
        if (!r.success) return invalid(r.error);
        let ax: AxBinding | undefined;
        if (r.data.subscriptionId !== undefined) {
          ax = core.store.get(r.data.subscriptionId, now);
        } else {
          const x = r.data.relationNum as string;
          if (!core.store.isPoolNumber(x))
            return { kind: 'result', resultcode: '1012001', resultdesc: 'Number not owned by this app: relationNum' };
          ax = core.store.byX(x, now);
        }
        if (!ax)
          return { kind: 'result', resultcode: '1016001', resultdesc: 'The binding relationship does not exist' };
        return ok({ xyRelationNumList: relationEntries(ax) });
      }
      case 'recordUrl': {
        const r = RecordUrlParamsSchema.safeParse(params);
        if (!r.success) return invalid(r.error);
        if (!core.opts.recordingEnabled)
          return { kind: 'result', resultcode: '1012012', resultdesc: 'Recording is not enabled on the app' };
        const rec = core.recording(r.data.recordDomain, r.data.fileName);
        if (!rec) return { kind: 'result', resultcode: '1012007', resultdesc: 'The recording file does not exist' };
        // Served by the simulator itself, at the host the caller used to reach it.
        const host = req.headers.host ?? `127.0.0.1:${req.socket.localPort}`;
        const expires = now + RECORDING_LINK_MS;
        return {
          kind: 'redirect',
          location: `${'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http'}://${host}/_sim/recordings/${encodeURIComponent(rec.objectName)}?expires=${expires}`,
        };
      }
    }
  }

  private send(res: ServerResponse, outcome: Outcome, api: ApiName): void {
    if (outcome.kind === 'redirect') {
      res.writeHead(301, { Location: outcome.location, 'Content-Length': 0 });
      res.end();
      this.core.opts.log.info('provider api', { api, status: 301 });
      return;
    }
    sendResult(res, outcome.resultcode, outcome.resultdesc, outcome.extra);
    this.core.opts.log.info('provider api', { api, resultcode: outcome.resultcode, resultdesc: outcome.resultdesc });
  }
}

/** One query entry per YB, or one entry without numY/numB before any YB exists. */
export function relationEntries(ax: AxBinding): RelationEntry[] {
  const base = {
    numA: ax.numA,
    numX: ax.numX,
    recordFlag: ax.recordFlag ? ('true' as const) : ('false' as const),
    ...(ax.recordHintTone !== undefined ? { recordHintTone: ax.recordHintTone } : {}),
    subscribeTime: providerTime(ax.createdAt),
    callDirection: ax.callDirection,
    duration: String(ax.duration),
    ybDuration: String(ax.ybDuration),
    ...(ax.preVoiceX !== undefined ? { preVoiceX: ax.preVoiceX } : {}),
    ...(ax.userData !== undefined ? { userData: ax.userData } : {}),
  };
  if (ax.yb.length === 0) return [{ bindId: ax.subscriptionId, ...base }];
  return ax.yb.map((yb) => ({
    bindId: yb.bindId,
    ...base,
    numY: yb.numY,
    numB: yb.numB,
    ybDuration: String(yb.ybDuration),
    ...(yb.preVoiceY !== undefined ? { preVoiceY: yb.preVoiceY } : {}),
  }));
}
