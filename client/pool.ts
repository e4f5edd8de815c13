import type { PoolArea, PoolCapacity } from './apiSchemas';

// Number pool capacity for operators (GET /v1/pool, `npx bindflow pool`): per area, the app's privacy numbers
// (PRIVATENUMBER_NUMBER_POOL) and how many of them open bindings hold as X or as Y.

/**
 * The area of a privacy number from China's numbering plan: `+8610…` is `010`, `+862d…` is `02d`, `+86` then a
 * three-digit code (3-9 first) is `0` + that code (`+86755…` → `0755`); mobile-style numbers (`+861[3-9]…`) show
 * no area and are `mobile`; anything else is `other`. The pool is a flat list, so this is how its numbers are
 * grouped; the provider gives landline-style privacy numbers per city.
 */
export function areaOfNumber(number: string): string {
  const m = /^\+86(\d+)$/.exec(number);
  if (!m) return 'other';
  const national = m[1];
  if (/^1[3-9]\d{9}$/.test(national)) return 'mobile';
  if (/^10\d{7,8}$/.test(national)) return '010';
  if (/^2\d{8,9}$/.test(national)) return `0${national.slice(0, 2)}`;
  if (/^[3-9]\d{9,10}$/.test(national)) return `0${national.slice(0, 3)}`;
  return 'other';
}

/** What an open binding holds (its search attributes: privacy numbers only). */
export interface OpenBindingNumbers {
  numberX: string | null;
  numbersY: readonly string[];
}

/**
 * Per area: total numbers in the pool, bound as X, bound as Y, free (held by no open binding). A Y serves
 * several bindings at once and is counted once. Numbers open bindings hold that the pool does not list are
 * reported in `unlisted` rather than counted (the pool's configuration lags the provider's).
 */
export function poolCapacity(pool: readonly string[], open: readonly OpenBindingNumbers[]): PoolCapacity {
  const inPool = new Set(pool);
  const asX = new Set<string>();
  const asY = new Set<string>();
  const unlisted = new Set<string>();
  for (const b of open) {
    if (b.numberX) (inPool.has(b.numberX) ? asX : unlisted).add(b.numberX);
    for (const y of b.numbersY) (inPool.has(y) ? asY : unlisted).add(y);
  }
  const byArea = new Map<string, PoolArea>();
  for (const n of inPool) {
    const area = areaOfNumber(n);
    const a = byArea.get(area) ?? { area, total: 0, boundAsX: 0, boundAsY: 0, free: 0 };
    a.total++;
    if (asX.has(n)) a.boundAsX++;
    else if (asY.has(n)) a.boundAsY++;
    else a.free++;
    byArea.set(area, a);
  }
  const areas = [...byArea.values()].sort((a, b) => a.area.localeCompare(b.area));
  const sum = (k: 'total' | 'boundAsX' | 'boundAsY' | 'free') => areas.reduce((s, a) => s + a[k], 0);
  return {
    areas,
    total: sum('total'),
    boundAsX: sum('boundAsX'),
    boundAsY: sum('boundAsY'),
    free: sum('free'),
    unlisted: [...unlisted].sort(),
    openBindings: open.length,
  };
}

/** `PRIVATENUMBER_NUMBER_POOL` → its numbers (comma-separated, blanks ignored, each once). */
export function parseNumberPool(value: string | undefined): string[] {
  return [
    ...new Set(
      (value ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
}

/** The capacity as a table for `npx bindflow pool` (privacy numbers only: nothing personal). */
export function formatPool(c: PoolCapacity): string {
  const pct = (a: { total: number; free: number }) =>
    a.total === 0 ? '-' : `${Math.round((100 * (a.total - a.free)) / a.total)}%`;
  const rows = [
    ...c.areas.map((a) => [a.area, a.total, a.boundAsX, a.boundAsY, a.free, pct(a)]),
    ['all', c.total, c.boundAsX, c.boundAsY, c.free, pct(c)],
  ].map((r) => r.map(String));
  const head = ['AREA', 'TOTAL', 'BOUND_AS_X', 'BOUND_AS_Y', 'FREE', 'IN_USE'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const lines = [head, ...rows].map((r) =>
    r.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  '),
  );
  lines.push(`open bindings: ${c.openBindings}`);
  if (c.unlisted.length)
    lines.push(
      `held by open bindings but not in PRIVATENUMBER_NUMBER_POOL (${c.unlisted.length}): ${c.unlisted.join(', ')}`,
    );
  return lines.join('\n');
}
