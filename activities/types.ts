// The activities' signatures, the contract between the workflow (which imports these as types only)
// and their implementation. Each one is a single provider call or a single outbound notification,
// except the two recovery sweeps that exist because a lost bind response leaves nothing to query by,
// and reconciliation's pages (a hundred queries in one activity is far cheaper than a hundred activities).

export interface BindAxInput {
  orderId: string;
  /** `bf1:<orderId>:<token>`; unique per bind invocation, the same across its retries. */
  userData: string;
  partyA: string;
  areaCode: string;
  areaMatchMode: 'strict' | 'province';
  callDirection: 'both' | 'a-to-b' | 'b-to-a';
  /** Provider-side lifetime: the safety net, never 0. */
  durationSeconds: number;
  record: boolean;
  recordHintTone?: string;
  preVoiceX?: string;
}

export interface BindAxResult {
  subscriptionId: string;
  numberX: string;
  /** True when a previous attempt's lost response had in fact bound, and that binding was taken over. */
  adopted: boolean;
}

export interface BindYbInput {
  subscriptionId: string;
  partyB: string;
  areaCode: string;
  areaMatchMode: 'strict' | 'province';
  preVoiceY?: string;
}

export interface BindYbResult {
  numberY: string;
  adopted: boolean;
}

export interface UnbindInput {
  subscriptionId: string;
  /** Remove only the YB of this Y (wins over partyB) … */
  numberY?: string;
  /** … or of this B. Neither: the whole AX with every YB. */
  partyB?: string;
}

export interface UnbindResult {
  /** The provider answered 1016001: it was already gone (done, for us). */
  alreadyGone: boolean;
}

export interface PoolBinding {
  numberX: string;
  /** Null when the provider's answer does not tell it (an AX with YBs: only the order's workflow knows). */
  subscriptionId: string | null;
  userData: string | null;
  /** ISO 8601 UTC, when the provider tells it. */
  subscribedAt: string | null;
  ybCount: number;
}

export interface OwnershipInput {
  orderId: string;
  numberX: string;
  subscriptionId: string | null;
}

export interface OwnershipResult {
  /** owned: an open workflow holds it; busy: its workflow is still binding; orphan: nobody does. */
  ownership: 'owned' | 'orphan' | 'busy';
  /** The subscription to unbind, completed from the workflow's own record when the provider did not tell it. */
  subscriptionId: string | null;
}

export interface ReconcileNumbersInput {
  /** One page of the pool: privacy numbers X. */
  numbersX: string[];
  /** Bindings younger than this are skipped: their workflow may not have recorded them yet. */
  graceSeconds: number;
}

/** A bindflow binding on the pool that no open workflow owns (no party number). */
export interface OrphanBinding {
  orderId: string;
  numberX: string;
  subscriptionId: string;
}

export interface ReconcileNumbersResult {
  /** Bindings found on the page. */
  checked: number;
  /** Bindings not made by bindflow (no `bf1:` userData): never touched. */
  foreign: number;
  /** Numbers that could not be queried, and bindings whose ownership could not be told. */
  errors: number;
  /** For the workflow to unbind, each with its own retried activity. */
  orphans: OrphanBinding[];
}

export interface NotifyInput {
  url: string;
  /** Idempotency key sent as `X-Bindflow-Event-Id`: the receiver may see a delivery more than once. */
  eventId: string;
  body: Record<string, unknown>;
}

export interface BindflowActivities {
  bindAx(input: BindAxInput): Promise<BindAxResult>;
  bindYb(input: BindYbInput): Promise<BindYbResult>;
  unbind(input: UnbindInput): Promise<UnbindResult>;
  /** Saga for a bind whose outcome stayed unknown: sweeps the number pool, unbinds what carries `userData`. */
  unbindByUserData(input: { userData: string }): Promise<{ unbound: number }>;
  fetchRecordingUrl(input: { recordDomain: string; fileName: string }): Promise<{ url: string }>;
  notify(input: NotifyInput): Promise<void>;
  /** Reconciliation: the bindings on one privacy number X (no party numbers returned). */
  listBindingsOnNumber(input: { numberX: string }): Promise<PoolBinding[]>;
  /** Reconciliation: does an open orderBinding workflow own this subscription? */
  bindingOwnership(input: OwnershipInput): Promise<OwnershipResult>;
  /**
   * Reconciliation, one page of the pool in one activity: each number queried at the worker's paced
   * rate with a few in flight, each bindflow binding's ownership checked; answers the orphans.
   */
  reconcileNumbers(input: ReconcileNumbersInput): Promise<ReconcileNumbersResult>;
}
