import { CancellationScope, condition, isCancellation, log } from '@temporalio/workflow';
import { recordings } from './activityStubs';

// Download links of recorded calls, fetched in the background (retried for up to an hour). Like the
// outbox, they never hold up continue-as-new: the fetches under way are cancelled and carried.

export interface RecordingFetch {
  sessionId: string;
  recordDomain: string;
  fileName: string;
}

export class RecordingFetches {
  private readonly running = new Map<RecordingFetch, CancellationScope>();

  /** `parent`: the scope fetches run under, whoever starts them (see Outbox). */
  constructor(
    private readonly onFetched: (sessionId: string, url: string) => void,
    carried: RecordingFetch[] = [],
    private readonly parent?: CancellationScope,
  ) {
    for (const f of carried) this.start(f);
  }

  get idle(): boolean {
    return this.running.size === 0;
  }

  start(fetch: RecordingFetch): void {
    const scope = new CancellationScope({ cancellable: true, parent: this.parent });
    this.running.set(fetch, scope);
    void scope
      .run(() => recordings.fetchRecordingUrl({ recordDomain: fetch.recordDomain, fileName: fetch.fileName }))
      .then(
        ({ url }) => this.onFetched(fetch.sessionId, url),
        (err) => {
          if (!isCancellation(err))
            log.warn('recording link not available', { sessionId: fetch.sessionId, error: (err as Error)?.message });
        },
      )
      .finally(() => this.running.delete(fetch));
  }

  /** Cancels every fetch under way; returns them (to carry into the next run). */
  async stop(): Promise<RecordingFetch[]> {
    const pending = [...this.running.keys()];
    for (const scope of this.running.values()) scope.cancel();
    await condition(() => this.running.size === 0);
    return pending;
  }
}
