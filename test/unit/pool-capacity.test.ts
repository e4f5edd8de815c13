import { areaOfNumber, formatPool, parseNumberPool, poolCapacity } from '../../client/pool';
import { defaultPool } from '../../simulator/pool';

describe('number pool capacity', () => {
  test("a number's area follows China's numbering plan", () => {
    expect(areaOfNumber('+8675528000001')).toBe('0755');
    expect(areaOfNumber('+861062000001')).toBe('010');
    expect(areaOfNumber('+862163000001')).toBe('021');
    expect(areaOfNumber('+862081000001')).toBe('020');
    expect(areaOfNumber('+8613800000001')).toBe('mobile');
    expect(areaOfNumber('+14155550100')).toBe('other');
    // The simulator's pool groups exactly as it is declared.
    for (const [area, numbers] of Object.entries(defaultPool()))
      for (const n of numbers) expect({ n, area: areaOfNumber(n) }).toEqual({ n, area });
  });

  test('per area: total, bound as X, bound as Y (a shared Y once), free; unlisted numbers reported apart', () => {
    const pool = ['+8675528000001', '+8675528000002', '+8675528000003', '+8675528000004', '+861062000001'];
    const c = poolCapacity(pool, [
      { numberX: '+8675528000001', numbersY: ['+8675528000003'] },
      { numberX: '+8675528000002', numbersY: ['+8675528000003', '+8675599999999'] },
      { numberX: null, numbersY: [] },
    ]);
    expect(c.areas).toEqual([
      { area: '010', total: 1, boundAsX: 0, boundAsY: 0, free: 1 },
      { area: '0755', total: 4, boundAsX: 2, boundAsY: 1, free: 1 },
    ]);
    expect(c).toMatchObject({ total: 5, boundAsX: 2, boundAsY: 1, free: 2, openBindings: 3 });
    expect(c.unlisted).toEqual(['+8675599999999']);
    const table = formatPool(c);
    expect(table).toMatch(/^AREA\s+TOTAL\s+BOUND_AS_X\s+BOUND_AS_Y\s+FREE\s+IN_USE$/m);
    expect(table).toMatch(/^0755\s+4\s+2\s+1\s+1\s+75%$/m);
    expect(table).toContain('not in PRIVATENUMBER_NUMBER_POOL (1): +8675599999999');
  });

  test('PRIVATENUMBER_NUMBER_POOL parsing: commas, blanks, repeats', () => {
    expect(parseNumberPool(' +8675528000001, ,+8675528000002,+8675528000001 ')).toEqual([
      '+8675528000001',
      '+8675528000002',
    ]);
    expect(parseNumberPool(undefined)).toEqual([]);
  });
});
