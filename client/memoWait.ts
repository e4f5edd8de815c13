import { isGrpcServiceError, type Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { grpcStatus } from './grpcStatus';

// Waiting for a run to write a memo, by long-polling its history: GetWorkflowExecutionHistory with
// `waitNewEvent` answers as soon as the run has new events (or after the server's long-poll interval, with
// none). Reading a history is not a billable action, where an update or a query is one (issue 15).

/**
 * The first memo upsert of `key` in the run's history, as stored (still encoded); undefined when `deadline`
 * passes first or the run closes without one. Errors other than the deadline are thrown as they come.
 */
export async function awaitMemoUpsert(
  client: Client,
  execution: { workflowId: string; runId: string },
  key: string,
  deadline: number,
): Promise<temporal.api.common.v1.IPayload | undefined> {
  let nextPageToken: Uint8Array | undefined;
  for (;;) {
    if (Date.now() >= deadline) return undefined;
    let page: temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryResponse;
    try {
      page = await client.connection.withDeadline(deadline, () =>
        client.workflowService.getWorkflowExecutionHistory({
          namespace: client.options.namespace,
          execution,
          nextPageToken,
          waitNewEvent: true,
          skipArchival: true,
        }),
      );
    } catch (err) {
      if (isGrpcServiceError(err) && err.code === grpcStatus.DEADLINE_EXCEEDED) return undefined;
      throw err;
    }
    for (const event of page.history?.events ?? []) {
      const payload = event.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.[key];
      if (payload) return payload;
    }
    if (!page.nextPageToken?.length) return undefined; // the run closed
    nextPageToken = page.nextPageToken;
  }
}

/** A stored payload decoded by the client's own data converter (its codecs, then its payload converter). */
export async function decodeStoredPayload(client: Client, payload: temporal.api.common.v1.IPayload): Promise<unknown> {
  const converter = client.options.loadedDataConverter;
  let decoded = payload;
  for (const codec of [...converter.payloadCodecs].reverse()) [decoded] = await codec.decode([decoded]);
  return converter.payloadConverter.fromPayload(decoded);
}
