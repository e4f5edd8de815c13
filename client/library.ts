import {
  Client,
  isGrpcServiceError,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError, type UpdateDefinition } from '@temporalio/common';
import type { orderBinding } from '../workflows/orderBinding';
import * as msg from '../workflows/messages';
import * as sa from '../workflows/searchAttributes';
import { workflowIdForOrder } from '../workflows/userData';
import type { BindingStateName, BindingView, OrderBindingInput } from '../workflows/types';
import { BindflowError } from './errors';
import { requestFingerprint } from './httpSchemas';

/** gRPC status codes used below (grpc-js numbering). */
const grpcStatus = { DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14 } as const;

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

export interface BindflowClientOptions {
  client: Client;
  taskQueue: string;
  /** How long bind() waits for both numbers before answering `pending`. */
  patienceMs?: number;
}

export class BindflowClient {
  readonly temporal: Client;
  private readonly taskQueue: string;
  private readonly patienceMs: number;

  constructor(opts: BindflowClientOptions) {
    this.temporal = opts.client;
    this.taskQueue = opts.taskQueue;
    this.patienceMs = opts.patienceMs ?? 10_000;
  }

  private handle(orderId: string): WorkflowHandle<typeof orderBinding> {
    return this.temporal.workflow.getHandle(workflowIdForOrder(orderId));
  }

  /**
   * Creates the order's binding (Update-with-Start: one round trip until both numbers are bound) or returns the
   * existing one. `created` when this call started it, `existing` for the same request again, `pending` while the
   * provider is still binding; a different request for the same order is a CONFLICT.
   */
  async bind(input: OrderBindingInput, opts: { patienceMs?: number } = {}): Promise<BindOutcome> {
    const requestedAt = input.requestedAt ?? new Date().toISOString();
    const request = { ...input, requestedAt };
    const workflowId = workflowIdForOrder(input.orderId);
    const startWorkflowOperation = new WithStartWorkflowOperation<typeof orderBinding>('orderBinding', {
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
    });
    let view: BindingView;
    try {
      view = await this.temporal.workflow.executeUpdateWithStart(msg.awaitBound, {
        args: [opts.patienceMs ?? this.patienceMs],
        startWorkflowOperation,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw toBindflowError(err);
      view = await this.get(input.orderId); // closed run of the same order
    }
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

  /** The request an existing binding was made with (only to compare a repeated PUT). */
  private async request(orderId: string): Promise<OrderBindingInput> {
    try {
      return await this.handle(orderId).query(msg.getRequest);
    } catch (err) {
      throw toBindflowError(err, orderId);
    }
  }

  async get(orderId: string): Promise<BindingView> {
    try {
      return await this.handle(orderId).query(msg.getBinding);
    } catch (err) {
      throw toBindflowError(err, orderId);
    }
  }

  extend(orderId: string, request: msg.ExtendRequest): Promise<BindingView> {
    return this.update(orderId, msg.extend, request);
  }

  setParty(orderId: string, label: string, number: string): Promise<BindingView> {
    return this.update(orderId, msg.setParty, { label, number });
  }

  removeParty(orderId: string, label: string): Promise<BindingView> {
    return this.update(orderId, msg.removeParty, { label });
  }

  release(orderId: string, reason?: string): Promise<BindingView> {
    return this.update(orderId, msg.release, reason ? { reason } : {});
  }

  /** Bindings from Temporal's visibility (search attributes only: no party number). */
  async list(opts: { state?: BindingStateName; limit?: number; query?: string } = {}): Promise<BindingListItem[]> {
    const clauses = [`WorkflowType = 'orderBinding'`];
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

  private async update<Arg>(
    orderId: string,
    def: UpdateDefinition<BindingView, [Arg]>,
    arg: Arg,
  ): Promise<BindingView> {
    try {
      return await this.handle(orderId).executeUpdate(def, { args: [arg] });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || isNotFoundGrpc(err)) {
        // Completed runs answer updates with "not found": tell a closed binding from an unknown order.
        const view = await this.get(orderId);
        throw new BindflowError(
          'BINDING_CLOSED',
          `the binding of order ${orderId} is ${view.state}; it can no longer change`,
          {
            state: view.state,
          },
        );
      }
      throw toBindflowError(err, orderId);
    }
  }
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
  if (err instanceof WorkflowNotFoundError || isNotFoundGrpc(err)) {
    return new BindflowError('NOT_FOUND', orderId ? `no binding for order ${orderId}` : 'not found');
  }
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
    return new BindflowError(
      'REQUEST_REJECTED',
      cause?.message ?? err.message,
      cause?.type ? { reason: cause.type } : undefined,
    );
  }
  if (isUnavailable(err))
    return new BindflowError('TEMPORAL_UNAVAILABLE', 'Temporal is not reachable right now; retry later');
  return new BindflowError('INTERNAL', `unexpected error: ${(err as Error)?.message ?? String(err)}`);
}
