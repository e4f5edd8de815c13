// Fault rules, the token bucket and the IP lock-out of the simulator, on their own (no server).
import { FaultInjector, FaultsBodySchema, TokenBucket } from '../../simulator/faults';
import { AuthLockout, LOCKOUT_SECONDS } from '../../simulator/lockout';
import { createRng } from '../../simulator/random';

describe('simulator faults', () => {
  it('fires a rule with its probability', () => {
    const f = new FaultInjector(createRng(1));
    f.set([{ api: 'query', fault: 'http500', probability: 0.3 }]);
    let fired = 0;
    for (let i = 0; i < 2000; i++) if (f.pick('query')) fired++;
    expect(fired / 2000).toBeGreaterThan(0.25);
    expect(fired / 2000).toBeLessThan(0.35);
    expect(f.get()[0].applied).toBe(fired);
  });

  it('stops a rule after its count, and lets the next matching rule fire', () => {
    const f = new FaultInjector(createRng(2));
    f.set([
      { api: 'bind', fault: 'timeout', count: 2 },
      { api: '*', fault: 'flowControl', count: 1 },
    ]);
    expect(['bindYb', 'bindAx', 'bindAx', 'unbind', 'unbind'].map((api) => f.pick(api as 'bindAx'))).toEqual([
      'timeout',
      'timeout',
      'flowControl',
      undefined,
      undefined,
    ]);
  });

  it('matches bind to both bind steps only', () => {
    const f = new FaultInjector(createRng(3));
    f.set([{ api: 'bind', fault: 'commitThenDrop' }]);
    expect(f.pick('bindAx')).toBe('commitThenDrop');
    expect(f.pick('bindYb')).toBe('commitThenDrop');
    expect(f.pick('query')).toBeUndefined();
    expect(f.pick('recordUrl')).toBeUndefined();
  });

  it('validates rules naming the field', () => {
    const r = FaultsBodySchema.safeParse({ rules: [{ api: 'bind', fault: 'http500', probability: 2 }] });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0].path).toEqual(['rules', 0, 'probability']);
  });
});

describe('simulator token bucket', () => {
  it('allows the burst, then refills at the rate', () => {
    let now = 0;
    const bucket = new TokenBucket({ perSecond: 2, burst: 3 }, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    now += 500;
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
    now += 10_000;
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
  });
});

describe('simulator IP lock-out', () => {
  it('blocks after the limit of failures within 10 minutes, for 30 minutes, per IP', () => {
    const l = new AuthLockout(3);
    const t0 = 1_000_000;
    l.recordFailure('1.1.1.1', t0);
    l.recordFailure('1.1.1.1', t0 + 11 * 60_000); // the first has left the window
    l.recordFailure('1.1.1.1', t0 + 12 * 60_000);
    expect(l.isBlocked('1.1.1.1', t0 + 12 * 60_000)).toBe(false);
    l.recordFailure('1.1.1.1', t0 + 13 * 60_000);
    const blockedAt = t0 + 13 * 60_000;
    expect(l.isBlocked('1.1.1.1', blockedAt)).toBe(true);
    expect(l.isBlocked('2.2.2.2', blockedAt)).toBe(false);
    expect(l.isBlocked('1.1.1.1', blockedAt + LOCKOUT_SECONDS * 1000 - 1)).toBe(true);
    expect(l.isBlocked('1.1.1.1', blockedAt + LOCKOUT_SECONDS * 1000)).toBe(false);
  });
});
