// The binding rules of the simulated platform, on its store and clock (no server).
import { BindingStore, DEFAULT_LIMITS } from '../../simulator/bindings';
import { createClock } from '../../simulator/clock';
import { SimRefusal } from '../../simulator/errors';
import { candidateAreas, defaultPool, type Pool } from '../../simulator/pool';
import { createRng } from '../../simulator/random';

const A = '+8613800000001';
const B = '+8613800000002';
const B2 = '+8613800000003';

function refusalCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof SimRefusal) return e.resultcode;
    throw e;
  }
  throw new Error('expected a refusal');
}

function numbers(areaNational: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `+86${areaNational}${String(i + 1).padStart(8, '0')}`);
}

describe('simulator bindings', () => {
  const clock = createClock(1);
  const newStore = (pool: Pool = defaultPool()) => new BindingStore(pool, createRng(7));

  it('binds AX then YB; X belongs to one A and is never reused while bound', () => {
    const store = newStore({ '0755': numbers('755', 3) });
    const now = clock.now();
    const ax1 = store.bindAx({ origNum: A, areaCode: '0755' }, now);
    const ax2 = store.bindAx({ origNum: '+8613900000001', areaCode: '0755' }, now);
    expect(ax1.numX).not.toBe(ax2.numX);
    const { yb } = store.bindYb({ origNum: B, subscriptionId: ax1.subscriptionId }, now);
    expect([ax1.numX, ax2.numX]).not.toContain(yb.numY);
    // the pool (3) now has X1, X2 and Y: nothing left for a third X
    expect(refusalCode(() => store.bindAx({ origNum: '+8613900000002', areaCode: '0755' }, now))).toBe('1011002');
  });

  it('refuses a sixth X for the same A with 1011003', () => {
    const store = newStore();
    const now = clock.now();
    for (let i = 0; i < 5; i++) store.bindAx({ origNum: A, areaCode: '0755' }, now);
    expect(refusalCode(() => store.bindAx({ origNum: A, areaCode: '0755' }, now))).toBe('1011003');
    expect(store.bindAx({ origNum: B, areaCode: '0755' }, now).numA).toBe(B);
  });

  it('shares one Y among AX bindings up to 1000, never the same AX twice on one Y', () => {
    const pool = { '0755': numbers('755', 1003) };
    const store = newStore(pool);
    const now = clock.now();
    const ys = new Set<string>();
    for (let i = 0; i < 1001; i++) {
      const ax = store.bindAx({ origNum: `+86139${String(i).padStart(8, '0')}`, areaCode: '0755' }, now);
      ys.add(store.bindYb({ origNum: B, subscriptionId: ax.subscriptionId }, now).yb.numY);
    }
    // 1001 X used, 2 numbers left: the first Y takes 1000 AX, the 1001st needs the other one
    expect(ys.size).toBe(2);
    const load = [...ys].map((y) => store.usesOfY(y, now).length).sort((a, b) => b - a);
    expect(load).toEqual([1000, 1]);
    expect(DEFAULT_LIMITS.maxAxPerY).toBe(1000);
  });

  it('gives a second B of the same AX another Y, and answers 1012008 when no Y is left', () => {
    const store = newStore({ '0755': numbers('755', 3) });
    const now = clock.now();
    const ax = store.bindAx({ origNum: A, areaCode: '0755' }, now);
    const y1 = store.bindYb({ origNum: B, subscriptionId: ax.subscriptionId }, now).yb.numY;
    const y2 = store.bindYb({ origNum: B2, subscriptionId: ax.subscriptionId }, now).yb.numY;
    expect(y1).not.toBe(y2);
    expect(refusalCode(() => store.bindYb({ origNum: '+8613800000004', subscriptionId: ax.subscriptionId }, now))).toBe(
      '1012008',
    );
  });

  it('refuses the same B twice on one AX (1012010), B equal to A (1010002) and an unknown subscription (1016001)', () => {
    const store = newStore();
    const now = clock.now();
    const ax = store.bindAx({ origNum: A, areaCode: '0755' }, now);
    store.bindYb({ origNum: B, subscriptionId: ax.subscriptionId }, now);
    expect(refusalCode(() => store.bindYb({ origNum: B, subscriptionId: ax.subscriptionId }, now))).toBe('1012010');
    expect(refusalCode(() => store.bindYb({ origNum: A, subscriptionId: ax.subscriptionId }, now))).toBe('1010002');
    expect(refusalCode(() => store.bindYb({ origNum: B, subscriptionId: 'nope' }, now))).toBe('1016001');
  });

  it('expires AX at duration and takes its YB along; YB may expire earlier on its own', () => {
    const c = createClock(1);
    const store = newStore();
    const ax = store.bindAx({ origNum: A, areaCode: '0755', duration: 600, ybDuration: 120 }, c.now());
    store.bindYb({ origNum: B, subscriptionId: ax.subscriptionId }, c.now());
    store.bindYb({ origNum: B2, subscriptionId: ax.subscriptionId, ybDuration: 0 }, c.now());
    c.advance(119);
    expect(store.get(ax.subscriptionId, c.now())?.yb.map((y) => y.numB)).toEqual([B, B2]);
    c.advance(2);
    expect(store.get(ax.subscriptionId, c.now())?.yb.map((y) => y.numB)).toEqual([B2]);
    c.advance(480);
    expect(store.get(ax.subscriptionId, c.now())).toBeUndefined();
    expect(store.list(c.now())).toHaveLength(0);
  });

  it('keeps a duration-0 binding forever and defaults duration to 7200 s', () => {
    const c = createClock(1);
    const store = newStore();
    const forever = store.bindAx({ origNum: A, areaCode: '0755', duration: 0 }, c.now());
    const dflt = store.bindAx({ origNum: B, areaCode: '0755' }, c.now());
    expect(dflt.expiresAt! - dflt.createdAt).toBe(7200 * 1000);
    c.advance(90 * 86_400);
    expect(store.get(forever.subscriptionId, c.now())).toBeDefined();
    expect(store.get(dflt.subscriptionId, c.now())).toBeUndefined();
  });

  it('refuses a YB lifetime above the AX duration', () => {
    const store = newStore();
    const now = clock.now();
    const ax = store.bindAx({ origNum: A, areaCode: '0755', duration: 300 }, now);
    expect(
      refusalCode(() => store.bindYb({ origNum: B, subscriptionId: ax.subscriptionId, ybDuration: 600 }, now)),
    ).toBe('1010002');
  });

  it('unbinds everything, or one YB by yNum (which wins over bNum) or bNum; unknown ones are 1016001', () => {
    const store = newStore();
    const now = clock.now();
    const ax = store.bindAx({ origNum: A, areaCode: '0755' }, now);
    const y1 = store.bindYb({ origNum: B, subscriptionId: ax.subscriptionId }, now).yb.numY;
    store.bindYb({ origNum: B2, subscriptionId: ax.subscriptionId }, now);
    // yNum names B's Y, bNum names B2: yNum wins, B goes
    store.unbind(ax.subscriptionId, now, y1, B2);
    expect(store.get(ax.subscriptionId, now)?.yb.map((y) => y.numB)).toEqual([B2]);
    expect(refusalCode(() => store.unbind(ax.subscriptionId, now, y1))).toBe('1016001');
    store.unbind(ax.subscriptionId, now, undefined, B2);
    expect(store.get(ax.subscriptionId, now)?.yb).toEqual([]);
    store.unbind(ax.subscriptionId, now);
    expect(store.get(ax.subscriptionId, now)).toBeUndefined();
    expect(refusalCode(() => store.unbind(ax.subscriptionId, now))).toBe('1016001');
  });

  it('areaMatchMode 0 is strict; 1 falls back to the same province first, then anywhere', () => {
    const pool = { '0755': numbers('755', 1), '020': numbers('20', 1), '010': numbers('10', 1) };
    expect(candidateAreas(pool, '0755', '1')).toEqual(['0755', '020', '010']);
    const store = newStore(pool);
    const now = clock.now();
    expect(store.bindAx({ origNum: A, areaCode: '0755' }, now).areaCode).toBe('0755');
    expect(refusalCode(() => store.bindAx({ origNum: B, areaCode: '0755' }, now))).toBe('1011002');
    expect(store.bindAx({ origNum: B, areaCode: '0755', areaMatchMode: '1' }, now).areaCode).toBe('020');
    expect(store.bindAx({ origNum: B2, areaCode: '0755', areaMatchMode: '1' }, now).areaCode).toBe('010');
    expect(
      refusalCode(() => store.bindAx({ origNum: '+8613800000009', areaCode: '0755', areaMatchMode: '1' }, now)),
    ).toBe('1011002');
  });

  it('has the contract areas and a second Guangdong city in the default pool, all valid global numbers', () => {
    const pool = defaultPool();
    expect(Object.keys(pool).sort()).toEqual(['010', '020', '021', '0755']);
    for (const list of Object.values(pool)) {
      expect(list).toHaveLength(20);
      for (const n of list) expect(n).toMatch(/^\+86(10|2\d|755)\d{8}$/);
    }
  });
});
