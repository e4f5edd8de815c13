import {
  Client,
  isGrpcServiceError,
  QueryNotRegisteredError,
  QueryRejectedError,
  ServiceError,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  type WorkflowStartOptions,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  WorkflowHandle,
} from '@temporalio/client';
import {
  ApplicationFailure,
  NamespaceNotFoundError,
  WorkflowNotFoundError,
  type QueryDefinition,
  type UpdateDefinition,
} from '@temporalio/common';
import type { orderBinding } from '../workflows/orderBinding';
import * as msg from '../workflows/messages';
import * as sa from '../workflows/searchAttributes';
import { workflowIdForOrder } from '../workflows/userData';
import {
  BOUND_VIEW_MEMO,
  type BindingStateName,
  type BindingView,
  type MemoView,
  type OrderBindingInput,
  memoViewFromBytes,
} from '../workflows/types';
import { BindflowError, type BindflowErrorCode } from './errors';
import { requestFingerprint } from './httpSchemas';
import { poolCapacity, type OpenBindingNumbers } from './pool';
import { awaitMemoUpsert, decodeStoredPayload } from './memoWait';
import { grpcStatus } from './grpcStatus';
import type { PoolCapacity } from './apiSchemas';
import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';

const UpdateStage = temporal.api.enums.v1.UpdateWorkflowExecutionLifecycleStage;

// The typed client library for TypeScript backends: everything the HTTP API does, without HTTP.

export type BindStatus = 'created' | 'existing' | 'pending';

export interface BindOutcome {
  status: BindStatus;
  binding: BindingView;
}

export interface BindingListItem {
  orderId: string;
  workflowId: string;
  state: BindingStateName | null;
  subscriptionId: string | null;
  numberX: string | null;
  numbersY: string[];
  areaCode: string | null;
  expiresAt: string | null;
  startedAt: string;
  closedAt: string | null;
}

/** A change to an open order's binding (one workflow update each). */
export type OrderChange =
  | { kind: 'extend'; request: msg.ExtendRequest }
  | { kind: 'setParty'; label: string; number: string }
  | { kind: 'removeParty'; label: string }
  | { kind: 'release'; reason?: string };

export interface ChangeOptions {
  /**
   * The most a change waits, in ms, before answering `pending` with the current view (default: the client's
   * `changeWaitMs`, 30 s; `Infinity` waits for the outcome). Part of it (at most 5 s, at most half) is kept to
   * read that view and tell a slow order from an unhealthy one.
   */
  waitMs?: number;
  /** The workflow update's id: the same id again (on the same run) is the same change, not a second one. */
  updateId?: string;
}

/**
 * `done`: the workflow applied the change and `binding` shows it. `pending`: the deadline passed first and
 * `binding` is the current view; `accepted` says whether the workflow had already accepted the change (it then
 * completes on its own) or had not yet (it may still be applied; look again before repeating it).
 */
export type ChangeOutcome =
  { status: 'done'; binding: BindingView } | { status: 'pending'; accepted: boolean; binding: BindingView };

export interface BindflowClientOptions {
  client: Client;
  taskQueue: string;
  /** How long bind() waits for both numbers before answering `pending`. */
  patienceMs?: number;
  /**
   * How long an ended order's run stays open to merge late call events and records; fixed per order at
   * its start (BINDFLOW_LATE_EVENTS_GRACE). Default: the workflow's, 15 minutes.
   */
  lateEventsGraceSeconds?: number;
  /** How long change() waits by default before answering `pending`. Default 30 s. */
  changeWaitMs?: number;
  /** How long get() waits for the workflow's answer before reporting it unhealthy. Default 10 s. */
  queryWaitMs?: number;
  /**
   * How bind() waits for both numbers (BINDFLOW_BIND_WAIT): `update` (default), Update-with-Start, two billable
   * actions and the least CPU; `history`, a plain start and the run's history read until its bound view is in
   * its memo, one billable action fewer per order for more CPU on the API and the Temporal server.
   */
  bindWait?: BindWait;
}

export type BindWait = 'update' | 'history';

/** An order's start: Update-with-Start needs its conflict policy spelled out. */
type OrderStart = WorkflowStartOptions<typeof orderBinding> & { workflowIdConflictPolicy: 'USE_EXISTING' };

/** The least time a start may take (with no patience at all, too). */
const START_DEADLINE_MS = 10_000;

/** How long a describe, the health check behind WORKFLOW_UNHEALTHY, may take. */
const DESCRIBE_DEADLINE_MS = 2_000;

export class BindflowClient {
  readonly temporal: Client;
  private readonly taskQueue: string;
  private readonly patienceMs: number;
  private readonly lateEventsGraceSeconds: number | undefined;
  private readonly changeWaitMs: number;
  private readonly queryWaitMs: number;
  private readonly bindWait: BindWait;

  constructor(opts: BindflowClientOptions) {
    this.temporal = opts.client;
    this.taskQueue = opts.taskQueue;
    this.patienceMs = opts.patienceMs ?? 10_000;
    this.lateEventsGraceSeconds = opts.lateEventsGraceSeconds;
    this.changeWaitMs = opts.changeWaitMs ?? 30_000;
    this.queryWaitMs = opts.queryWaitMs ?? 10_000;
    this.bindWait = opts.bindWait ?? 'update';
  }

  private handle(orderId: string): WorkflowHandle<typeof orderBinding> {
    return this.temporal.workflow.getHandle(workflowIdForOrder(orderId));
  }

  /**
   * Creates the order's binding or returns the existing one, waiting for both numbers up to the patience.
   * `created` when this call started it, `existing` for the same request again, `pending` while the provider is
   * still binding; a different request for the same order is a CONFLICT. How it waits is the client's `bindWait`.
   */
  async bind(input: OrderBindingInput, opts: { patienceMs?: number } = {}): Promise<BindOutcome> {
    const requestedAt = input.requestedAt ?? new Date().toISOString();
    const request = {
      ...input,
      requestedAt,
      ...(this.lateEventsGraceSeconds !== undefined && input.lateEventsGraceSeconds === undefined
        ? { lateEventsGraceSeconds: this.lateEventsGraceSeconds }
        : {}),
      ...(this.bindWait === 'history' ? { boundViewMemo: true } : {}),
    };
    const workflowId = workflowIdForOrder(input.orderId);
    const start: OrderStart = {
      workflowId,
      taskQueue: this.taskQueue,
      args: [request],
      workflowIdConflictPolicy: 'USE_EXISTING',
      // An order binds once: a released or expired order's id is not reused for a new binding.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: sa.OrderId, value: input.orderId },
        { key: sa.BindingState, value: 'binding' },
        { key: sa.AreaCode, value: input.areaCode },
      ],
      staticSummary: `Order ${input.orderId}: AXYB privacy-number binding in area ${input.areaCode}`,
    };
    // The patience is this call's own deadline: the workflow starts no timer for it (a billable action, issue 15).
    const patienceMs = opts.patienceMs ?? this.patienceMs;
    const view =
      this.bindWait === 'history'
        ? await this.startThenReadMemo(start, request, patienceMs)
        : await this.updateWithStart(start, patienceMs);
    let status: BindStatus;
    // The view says which request created the binding: only a repeat needs the original to compare.
    if (view.requestedAt === requestedAt) status = 'created';
    else if (requestFingerprint(await this.request(input.orderId)) === requestFingerprint(request)) status = 'existing';
    else {
      throw new BindflowError(
        'CONFLICT',
        `order ${input.orderId} already has a binding made with a different request`,
        {
          workflowId,
          state: view.state,
        },
      );
    }
    if (view.state === 'binding') status = 'pending';
    return { status, binding: view };
  }

  /**
   * The view the run writes into its memo when binding ends (BOUND_VIEW_MEMO), read by long-polling the run's
   * history until `deadline`; undefined when the deadline passes first, the run closes or continues without it.
   */
  private async boundViewMemo(workflowId: string, runId: string, deadline: number): Promise<MemoView | undefined> {
    try {
      const payload = await awaitMemoUpsert(this.temporal, { workflowId, runId }, BOUND_VIEW_MEMO, deadline);
      return payload ? memoViewFromBytes(await decodeStoredPayload(this.temporal, payload)) : undefined;
    } catch (err) {
      throw toBindflowError(err);
    }
  }

  /**
   * `bindWait: 'update'`: Update-with-Start, two billable actions (the start and the `awaitBound` update), and the
   * least CPU: one round trip that answers when the workflow says so.
   */
  private async updateWithStart(start: OrderStart, patienceMs: number) {
    const orderId = start.args[0].orderId;
    // With no patience at all (`Prefer: wait=0`) the workflow answers at once, so the deadline only guards
    // against a run that never accepts the update.
    const deadline = Date.now() + (patienceMs > 0 ? patienceMs : 10_000);
    try {
      return await this.temporal.connection.withDeadline(deadline, () =>
        this.temporal.workflow.executeUpdateWithStart(msg.awaitBound, {
          args: [patienceMs, { clientDeadline: true }],
          startWorkflowOperation: new WithStartWorkflowOperation<typeof orderBinding>('orderBinding', start),
        }),
      );
    } catch (err) {
      if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
        return await this.viewAfterTimeout(orderId, Date.now() + 3_000).catch((e: unknown) => {
          const b = toBindflowError(e, orderId);
          if (b.code !== 'NOT_FOUND') throw b;
          throw new BindflowError('TEMPORAL_UNAVAILABLE', `could not start order ${orderId} in time; retry`);
        });
      }
      if (err instanceof WorkflowExecutionAlreadyStartedError) return await this.get(orderId); // closed run
      throw toBindflowError(err);
    }
  }

  /**
   * `bindWait: 'history'`: a plain start, one billable action (none when the run exists already). The run writes
   * its view into its memo when binding ends (workflows/order.ts, with no party's real number: this call fills in
   * its own) and this call long-polls the run's history for it, which is free but costs CPU: about eight history
   * reads per order, on the server and here (docs/benchmarks.md). Only the slow or unusual cases (past the
   * patience, a repeated request, a closed run) ask the workflow with a query.
   */
  private async startThenReadMemo(
    start: OrderStart,
    request: OrderBindingInput & { requestedAt: string },
    patienceMs: number,
  ): Promise<BindingView> {
    const deadline = Date.now() + patienceMs;
    let runId: string;
    try {
      const handle = await this.temporal.connection.withDeadline(
        Math.max(deadline, Date.now() + START_DEADLINE_MS),
        () => this.temporal.workflow.start<typeof orderBinding>('orderBinding', start),
      );
      runId = handle.firstExecutionRunId;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return await this.get(request.orderId); // closed run
      throw toBindflowError(err);
    }
    if (patienceMs > 0) {
      const memo = await this.boundViewMemo(start.workflowId, runId, deadline);
      // The memo has no party number: this request's own, when it made the binding (else a query below).
      const view = memo?.requestedAt === request.requestedAt ? withPartyNumbers(memo, request) : undefined;
      if (view) return view;
    }
    return await this.viewAfterTimeout(request.orderId, Date.now() + 3_000);
  }

  /** The request an existing binding was made with (only to compare a repeated PUT). */
  private request(orderId: string): Promise<OrderBindingInput> {
    return this.query(orderId, msg.getRequest, Date.now() + this.queryWaitMs);
  }

  /**
   * The binding as its workflow shows it. Waits at most `waitMs` (default: the client's `queryWaitMs`) for the
   * workflow's answer; a workflow that cannot answer is WORKFLOW_UNHEALTHY (Temporal unreachable:
   * TEMPORAL_UNAVAILABLE).
   */
  get(orderId: string, opts: { waitMs?: number } = {}): Promise<BindingView> {
    return this.query(orderId, msg.getBinding, Date.now() + (opts.waitMs ?? this.queryWaitMs));
  }

  /**
   * Applies one change with a deadline: `done` with the changed binding, or `pending` with the current one when
   * the deadline passes first. The workflow's refusals are typed errors (REQUEST_REJECTED, BINDING_CLOSED,
   * BINDING_RELEASING, PARTY_BIND_FAILED); an order whose workflow cannot take the change nor show its view is
   * WORKFLOW_UNHEALTHY.
   */
  async change(orderId: string, change: OrderChange, opts: ChangeOptions = {}): Promise<ChangeOutcome> {
    const waitMs = Math.max(0, opts.waitMs ?? this.changeWaitMs);
    const finite = Number.isFinite(waitMs);
    const deadline = finite ? Date.now() + waitMs : Infinity;
    // The update gets the wait less what reading the view afterwards may need.
    const updateMs = finite ? waitMs - Math.min(5_000, waitMs / 2) : Infinity;
    const aborter = new AbortController();
    const timer = finite ? setTimeout(() => aborter.abort(), updateMs) : undefined;
    // One round trip that answers with the outcome; whether the workflow had accepted the change is asked only
    // when the deadline passes first (a second round trip then, instead of on every change).
    const updateId = opts.updateId ?? randomUUID();
    try {
      const binding = await this.temporal.connection.withAbortSignal(aborter.signal, () =>
        this.executeChange(orderId, change, updateId),
      );
      return { status: 'done', binding };
    } catch (err) {
      if (aborter.signal.aborted && err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
        const accepted = await this.updateAccepted(orderId, updateId, deadline);
        const binding = await this.viewAfterTimeout(orderId, deadline);
        return { status: 'pending', accepted, binding };
      }
      if (err instanceof WorkflowNotFoundError || isNotFoundGrpc(err)) {
        // Completed runs answer updates with "not found": tell a closed binding from an unknown order.
        const view = await this.get(orderId);
        throw new BindflowError(
          'BINDING_CLOSED',
          `the binding of order ${orderId} is ${view.state}; it can no longer change`,
          { state: view.state },
        );
      }
      throw toBindflowError(err, orderId);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Extends the binding and waits for the outcome however long it takes (see change() for a bounded wait). */
  async extend(orderId: string, request: msg.ExtendRequest): Promise<BindingView> {
    return this.changeUnbounded(orderId, { kind: 'extend', request });
  }

  /** Adds a B party or replaces its number, waiting for the outcome (see change() for a bounded wait). */
  async setParty(orderId: string, label: string, number: string): Promise<BindingView> {
    return this.changeUnbounded(orderId, { kind: 'setParty', label, number });
  }

  /** Removes a B party, waiting for the outcome (see change() for a bounded wait). */
  async removeParty(orderId: string, label: string): Promise<BindingView> {
    return this.changeUnbounded(orderId, { kind: 'removeParty', label });
  }

  /** Releases the binding now, waiting for the outcome (see change() for a bounded wait). */
  async release(orderId: string, reason?: string): Promise<BindingView> {
    return this.changeUnbounded(orderId, { kind: 'release', ...(reason ? { reason } : {}) });
  }

  /**
   * Bindings from Temporal's visibility (search attributes only: no party number), of this deployment: the
   * orders on this client's task queue (another deployment sharing the namespace lists its own).
   */
  async list(opts: { state?: BindingStateName; limit?: number; query?: string } = {}): Promise<BindingListItem[]> {
    const clauses = [`WorkflowType = 'orderBinding'`, this.taskQueueClause()];
    if (opts.state) clauses.push(`BindingState = '${opts.state}'`);
    if (opts.query) clauses.push(`(${opts.query})`);
    const out: BindingListItem[] = [];
    try {
      for await (const wf of this.temporal.workflow.list({ query: clauses.join(' AND '), pageSize: 100 })) {
        const get = <T>(key: { name: string }) => wf.typedSearchAttributes.get(key as never) as T | undefined;
        out.push({
          orderId: get<string>(sa.OrderId) ?? wf.workflowId.replace(/^binding-/, ''),
          workflowId: wf.workflowId,
          state: (get<string>(sa.BindingState) as BindingStateName) ?? null,
          subscriptionId: get<string>(sa.SubscriptionId) ?? null,
          numberX: get<string>(sa.PrivacyNumberX) ?? null,
          numbersY: get<string[]>(sa.PrivacyNumbersY) ?? [],
          areaCode: get<string>(sa.AreaCode) ?? null,
          expiresAt: get<Date>(sa.ExpiresAt)?.toISOString() ?? null,
          startedAt: wf.startTime.toISOString(),
          closedAt: wf.closeTime?.toISOString() ?? null,
        });
        if (out.length >= (opts.limit ?? 100)) break;
      }
    } catch (err) {
      throw toBindflowError(err);
    }
    return out;
  }

  /**
   * The number pool's capacity per area (total, bound as X, bound as Y, free), from `numberPool` (the app's
   * numbers, PRIVATENUMBER_NUMBER_POOL) and the open bindings in Temporal's visibility (state `binding` or
   * `bound`, run open, on this client's task queue; visibility lags a binding by about a second).
   */
  async poolCapacity(numberPool: readonly string[]): Promise<PoolCapacity> {
    // This deployment's orders only (its task queue): another deployment in the namespace has a pool of its own.
    const query = `WorkflowType = 'orderBinding' AND ExecutionStatus = 'Running' AND BindingState IN ('binding', 'bound') AND ${this.taskQueueClause()}`;
    const open: OpenBindingNumbers[] = [];
    try {
      for await (const wf of this.temporal.workflow.list({ query, pageSize: 1000 })) {
        open.push({
          numberX: (wf.typedSearchAttributes.get(sa.PrivacyNumberX) as string | undefined) ?? null,
          numbersY: (wf.typedSearchAttributes.get(sa.PrivacyNumbersY) as string[] | undefined) ?? [],
        });
      }
    } catch (err) {
      throw toBindflowError(err);
    }
    return poolCapacity(numberPool, open);
  }

  /** This deployment's orders in a visibility query (quotes and backslashes never reach the query). */
  private taskQueueClause(): string {
    return `TaskQueue = '${this.taskQueue.replace(/['\\]/g, '')}'`;
  }

  private async changeUnbounded(orderId: string, change: OrderChange): Promise<BindingView> {
    const out = await this.change(orderId, change, { waitMs: Infinity });
    return out.binding; // never pending without a deadline
  }

  private executeChange(orderId: string, change: OrderChange, updateId: string): Promise<BindingView> {
    const handle = this.handle(orderId);
    const execute = <Arg>(def: UpdateDefinition<BindingView, [Arg]>, arg: Arg) =>
      handle.executeUpdate(def, { args: [arg], updateId });
    switch (change.kind) {
      case 'extend':
        return execute(msg.extend, change.request);
      case 'setParty':
        return execute(msg.setParty, { label: change.label, number: change.number });
      case 'removeParty':
        return execute(msg.removeParty, { label: change.label });
      case 'release':
        return execute(msg.release, change.reason ? { reason: change.reason } : {});
    }
  }

  /**
   * Whether the workflow has accepted the update `updateId` (it then completes on its own), asked once a change's
   * deadline passed; false when it has not, or when that cannot be told in time (at most 1 s, within `deadline`).
   */
  private async updateAccepted(orderId: string, updateId: string, deadline: number): Promise<boolean> {
    const within = Math.max(Date.now() + 200, Math.min(deadline, Date.now() + 1_000));
    try {
      const res = await this.temporal.connection.withDeadline(within, () =>
        this.temporal.workflowService.pollWorkflowExecutionUpdate({
          namespace: this.temporal.options.namespace,
          updateRef: { workflowExecution: { workflowId: workflowIdForOrder(orderId) }, updateId },
          identity: this.temporal.options.identity,
          waitPolicy: { lifecycleStage: UpdateStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED },
        }),
      );
      return (res.stage ?? 0) >= UpdateStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED;
    } catch {
      return false; // not admitted, rejected, or not known in time: it may still be applied
    }
  }

  /** A query bounded by `deadline`; a workflow that cannot answer is told apart from an unreachable Temporal. */
  private async query<T>(orderId: string, def: QueryDefinition<T>, deadline: number): Promise<T> {
    try {
      return await this.temporal.connection.withDeadline(deadline, () => this.handle(orderId).query(def));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || isNotFoundGrpc(err) || !isQueryUnanswered(err)) {
        throw toBindflowError(err, orderId);
      }
      throw unhealthy(orderId, await this.health(orderId));
    }
  }

  /**
   * After a change's deadline: the current view, or WORKFLOW_UNHEALTHY when the workflow's task keeps failing
   * (then a query would only hang) or when it cannot answer a query by `deadline` (at least 500 ms from now).
   */
  private async viewAfterTimeout(orderId: string, deadline: number): Promise<BindingView> {
    const health = await this.health(orderId);
    if (health.workflowTaskAttempt > 1) throw unhealthy(orderId, health);
    try {
      return await this.temporal.connection.withDeadline(Math.max(deadline, Date.now() + 500), () =>
        this.handle(orderId).query(msg.getBinding),
      );
    } catch (err) {
      if (!isQueryUnanswered(err)) throw toBindflowError(err, orderId);
      throw unhealthy(orderId, health);
    }
  }

  /** What Temporal itself knows of the run (answers even when the workflow cannot). */
  private async health(orderId: string): Promise<WorkflowHealth> {
    try {
      const d = await this.temporal.connection.withDeadline(Date.now() + DESCRIBE_DEADLINE_MS, () =>
        this.handle(orderId).describe(),
      );
      return {
        workflowId: d.workflowId,
        workflowStatus: d.status.name,
        workflowTaskAttempt: d.raw.pendingWorkflowTask?.attempt ?? 0,
      };
    } catch (err) {
      throw toBindflowError(err, orderId);
    }
  }
}

interface WorkflowHealth {
  workflowId: string;
  workflowStatus: string;
  /** The pending workflow task's attempt: above 1 it has failed that many times less one, in a row. */
  workflowTaskAttempt: number;
}

/** The memo's view with the parties' real numbers of the request that made the binding. */
function withPartyNumbers(memo: MemoView, request: OrderBindingInput): BindingView | undefined {
  const numbers = new Map(request.parties.map((p) => [p.label, p.number]));
  const parties: BindingView['parties'] = [];
  for (const p of memo.parties) {
    const number = numbers.get(p.label);
    if (number === undefined) return undefined; // changed since: the caller asks the workflow instead
    parties.push({ label: p.label, number, numberY: p.numberY });
  }
  // The workflow's own key order (toView), as every other answer has it.
  const { orderId, workflowId, state, subscriptionId, numberX, parties: _p, ...rest } = memo;
  return { orderId, workflowId, state, subscriptionId, partyA: request.partyA, numberX, parties, ...rest };
}

function unhealthy(orderId: string, health: WorkflowHealth): BindflowError {
  const why =
    health.workflowTaskAttempt > 1
      ? `its workflow task has failed ${health.workflowTaskAttempt - 1} times in a row (see WorkflowTaskFailed in its history)`
      : 'no worker answered for it in time';
  return new BindflowError('WORKFLOW_UNHEALTHY', `the workflow of order ${orderId} is unhealthy: ${why}`, health);
}

/** A query the workflow did not answer (timed out, its task failing, no such handler), Temporal being reachable or not. */
function isQueryUnanswered(err: unknown): boolean {
  return (
    err instanceof ServiceError ||
    err instanceof QueryRejectedError ||
    err instanceof QueryNotRegisteredError ||
    isGrpcServiceError(err)
  );
}

function isNotFoundGrpc(err: unknown): boolean {
  return isGrpcServiceError(err) && err.code === grpcStatus.NOT_FOUND;
}

function isUnavailable(err: unknown): boolean {
  if (isGrpcServiceError(err)) {
    return ([grpcStatus.UNAVAILABLE, grpcStatus.DEADLINE_EXCEEDED, grpcStatus.RESOURCE_EXHAUSTED] as number[]).includes(
      err.code,
    );
  }
  const cause = (err as { cause?: unknown })?.cause;
  if (cause && cause !== err) return isUnavailable(cause);
  const text = String((err as Error)?.message ?? '');
  return /UNAVAILABLE|ECONNREFUSED|DEADLINE_EXCEEDED|Connection dropped|failed to connect/i.test(text);
}

/** Temporal's errors → the library's typed errors. */
export function toBindflowError(err: unknown, orderId?: string): BindflowError {
  if (err instanceof BindflowError) return err;
  // temporal-server answers "namespace not found" while its database is down (its namespace registry
  // cannot load): that is an outage, not an order that does not exist.
  if (err instanceof NamespaceNotFoundError || /namespace .*not found/i.test(String((err as Error)?.message ?? '')))
    return new BindflowError(
      'TEMPORAL_UNAVAILABLE',
      'Temporal cannot serve the namespace right now (its database may be down, or the namespace is not registered); retry later',
    );
  if (err instanceof WorkflowNotFoundError || isNotFoundGrpc(err)) {
    return new BindflowError('NOT_FOUND', orderId ? `no binding for order ${orderId}` : 'not found');
  }
  if (err instanceof WorkflowUpdateFailedError) return updateFailureToBindflowError(err);
  if (isUnavailable(err))
    return new BindflowError('TEMPORAL_UNAVAILABLE', 'Temporal is not reachable right now; retry later');
  return new BindflowError('INTERNAL', `unexpected error: ${(err as Error)?.message ?? String(err)}`);
}

/** The ApplicationFailure types the order workflow fails its updates with, and the error each becomes. */
const UPDATE_FAILURE_CODES: Record<string, BindflowErrorCode> = {
  BINDING_RELEASING: 'BINDING_RELEASING',
  BINDING_CLOSED: 'BINDING_CLOSED',
  PARTY_BIND_FAILED: 'PARTY_BIND_FAILED',
  REQUEST_REJECTED: 'REQUEST_REJECTED',
  /** A defect in the workflow code, reported on the update rather than wedging the run: not the caller's fault. */
  INTERNAL_ERROR: 'INTERNAL',
};

/**
 * A failed update → its typed error: the failure's type picks the code (any other type is REQUEST_REJECTED with
 * `details.reason` = the type), its message is the message, its first details object the details.
 */
export function updateFailureToBindflowError(err: WorkflowUpdateFailedError): BindflowError {
  const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
  const message = cause?.message || err.cause?.message || err.message;
  const first: unknown = cause?.details?.[0];
  const details = first !== null && typeof first === 'object' && !Array.isArray(first) ? first : undefined;
  const code =
    cause?.type && Object.hasOwn(UPDATE_FAILURE_CODES, cause.type) ? UPDATE_FAILURE_CODES[cause.type] : undefined;
  if (code === 'INTERNAL') return new BindflowError(code, message, { ...(details ?? {}), reason: cause?.type });
  if (code) return new BindflowError(code, message, details);
  const reason = cause?.type ?? err.cause?.name;
  return new BindflowError(
    'REQUEST_REJECTED',
    message,
    reason || details ? { ...(details ?? {}), ...(reason ? { reason } : {}) } : undefined,
  );
}
