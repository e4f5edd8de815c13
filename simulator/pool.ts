// The app's privacy numbers, per area code, and the province each area belongs to (for
// `areaMatchMode "1"`). Numbers are landline-style global numbers: +86, the area code without its
// leading 0, then 8 digits, e.g. +8675528000001 for Shenzhen (0755).

export type Pool = Record<string, string[]>;

/** Area code → province, for the province fallback of `areaMatchMode "1"`. Unknown areas have none. */
export const PROVINCE_OF_AREA: Record<string, string> = {
  '0755': 'Guangdong', // Shenzhen
  '020': 'Guangdong', // Guangzhou
  '0769': 'Guangdong', // Dongguan
  '0756': 'Guangdong', // Zhuhai
  '010': 'Beijing',
  '021': 'Shanghai',
  '022': 'Tianjin',
  '023': 'Chongqing',
  '0571': 'Zhejiang', // Hangzhou
  '0574': 'Zhejiang', // Ningbo
  '025': 'Jiangsu', // Nanjing
  '0512': 'Jiangsu', // Suzhou
  '028': 'Sichuan', // Chengdu
  '027': 'Hubei', // Wuhan
};

function series(areaCode: string, prefix: string, count: number): string[] {
  const national = areaCode.replace(/^0/, '');
  return Array.from({ length: count }, (_, i) => `+86${national}${prefix}${String(i + 1).padStart(4, '0')}`);
}

/**
 * The contract's three areas with 20 numbers each, plus Guangzhou (020, also Guangdong) so the
 * province fallback has somewhere to go when Shenzhen runs dry.
 */
export function defaultPool(): Pool {
  return {
    '0755': series('0755', '2800', 20),
    '010': series('010', '6200', 20),
    '021': series('021', '6300', 20),
    '020': series('020', '8100', 20),
  };
}

/** Number → its area, for the whole pool. */
export function areaIndex(pool: Pool): Map<string, string> {
  const index = new Map<string, string>();
  for (const [area, numbers] of Object.entries(pool)) for (const n of numbers) index.set(n, area);
  return index;
}

/**
 * Areas to try, in order, for a requested area: strict mode only that area; province mode that
 * area, then the other areas of its province, then every other area of the app.
 */
export function candidateAreas(pool: Pool, areaCode: string | undefined, areaMatchMode: '0' | '1'): string[] {
  const all = Object.keys(pool);
  if (areaCode === undefined) return all;
  if (areaMatchMode === '0') return all.includes(areaCode) ? [areaCode] : [];
  const province = PROVINCE_OF_AREA[areaCode];
  const sameProvince = all.filter((a) => a !== areaCode && province !== undefined && PROVINCE_OF_AREA[a] === province);
  const rest = all.filter((a) => a !== areaCode && !sameProvince.includes(a));
  return [...(all.includes(areaCode) ? [areaCode] : []), ...sameProvince, ...rest];
}
