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

/** Every AX on the pool carrying exactly this userData. */
export async function findByUserData(
  provider: ProviderPort,
  numberPool: readonly string[],
  userData: string,
  onProgress: () => void = () => undefined,
): Promise<AxOnNumber[]> {
  const found: AxOnNumber[] = [];
  for (const numberX of numberPool) {
    onProgress();
    const ax = await axOnNumber(provider, numberX);
    if (ax && ax.userData === userData) found.push(ax);
  }
  return found;
}
