import type { RelationEntry } from '../provider';
import { isNotFound, isProviderError } from '../provider';
import type { ProviderPort } from './ports';

// Finding bindings by privacy number. The query answers entries without a subscriptionId field; an AX
// without any YB is answered as one entry whose bindId is its subscriptionId (and some platforms add
// the field itself). That is enough for what we look for: a bind whose response was lost has no YB yet.

export interface AxOnNumber {
  numberX: string;
  subscriptionId: string | null;
  userData: string | null;
  subscribedAt: string | null;
  ybCount: number;
}

/** `yyyy-MM-dd HH:mm:ss` (UTC) → ISO 8601. */
function subscribeTimeToIso(value: string | undefined): string | null {
  if (!value) return null;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})/.exec(value);
  return m ? `${m[1]}T${m[2]}Z` : null;
}

export function subscriptionIdOf(entries: RelationEntry[]): string | null {
  for (const e of entries) {
    const explicit = (e as { subscriptionId?: unknown }).subscriptionId;
    if (typeof explicit === 'string' && explicit) return explicit;
  }
  const axOnly = entries.find((e) => !e.numY && !e.numB);
  return axOnly?.bindId ?? null;
}

/** The AX binding currently on X (one X serves one A at a time), or null. */
export async function axOnNumber(provider: ProviderPort, numberX: string): Promise<AxOnNumber | null> {
  let entries: RelationEntry[];
  try {
    entries = await provider.query({ relationNum: numberX });
  } catch (err) {
    // Nothing bound (1016001), or a number that is not (or no longer) the app's (1012001).
    if (isNotFound(err) || (isProviderError(err) && err.code === '1012001')) return null;
    throw err;
  }
  if (entries.length === 0) return null;
  const first = entries[0];
  return {
    numberX,
    subscriptionId: subscriptionIdOf(entries),
    userData: first.userData ?? null,
    subscribedAt: subscribeTimeToIso(first.subscribeTime),
    ybCount: entries.filter((e) => e.numY || e.numB).length,
  };
}

/** Where a sweep got to: `next` numbers of the pool checked, with what they held. */
export interface SweepProgress {
  userData: string;
  poolSize: number;
  next: number;
  found: AxOnNumber[];
}

/** Transient query failures are retried here, so one failed query out of hundreds does not fail a sweep. */
const QUERY_TRIES = 6;

async function queryWithRetries(provider: ProviderPort, numberX: string): Promise<AxOnNumber | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await axOnNumber(provider, numberX);
    } catch (err) {
      // Flow control and IP blocks ask for a minute or more: leave that wait to the activity's retry policy.
      const quick = isProviderError(err) && err.retryable && (err.retryAfterMs ?? 0) <= 1000;
      if (!quick || attempt >= QUERY_TRIES) throw err;
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
    }
  }
}

/**
 * The numbers a strict-area bind can have landed on: the area's landline-style numbers (`+86` + the
 * area code without its 0) and any number that does not show its area (mobile-style).
 */
export function candidatesForArea(numberPool: readonly string[], areaCode: string): string[] {
  const prefix = `+86${areaCode.replace(/^0/, '')}`;
  const mobileStyle = /^\+861[3-9]/;
  const hits = numberPool.filter((n) => n.startsWith(prefix) || mobileStyle.test(n));
  return hits.length > 0 ? hits : [...numberPool];
}

/**
 * Every AX on the pool carrying exactly this userData. `resume` continues an earlier sweep for the same
 * userData and pool (only safe once no bind with this userData can still happen); `onProgress` sees
 * each step, for heartbeats.
 */
export async function findByUserData(
  provider: ProviderPort,
  numberPool: readonly string[],
  userData: string,
  onProgress: (p: SweepProgress) => void = () => undefined,
  resume?: SweepProgress,
): Promise<AxOnNumber[]> {
  const usable = resume && resume.userData === userData && resume.poolSize === numberPool.length;
  const progress: SweepProgress = usable
    ? { ...resume, found: [...resume.found] }
    : { userData, poolSize: numberPool.length, next: 0, found: [] };
  for (; progress.next < numberPool.length; progress.next++) {
    onProgress(progress);
    const ax = await queryWithRetries(provider, numberPool[progress.next]);
    if (ax && ax.userData === userData) progress.found.push(ax);
  }
  onProgress(progress);
  return progress.found;
}
