// Fault injection by API (http500, timeout, flowControl, commitThenDrop) and the platform's flow
// control, a token bucket per app answering 1010010.

import { z } from 'zod';
import type { Rng } from './random';

export const API_NAMES = ['bindAx', 'bindYb', 'unbind', 'query', 'recordUrl'] as const;
export type ApiName = (typeof API_NAMES)[number];

export const FaultRuleSchema = z
  .object({
    api: z.enum(['bind', 'bindAx', 'bindYb', 'unbind', 'query', 'recordUrl', '*']),
    fault: z.enum(['http500', 'timeout', 'flowControl', 'commitThenDrop']),
    /** Chance that a matching request gets the fault (default 1). */
    probability: z.number().min(0).max(1).optional(),
    /** How many requests get it at most; absent = no limit. */
    count: z.number().int().min(1).optional(),
  })
  .strict();
export type FaultRule = z.infer<typeof FaultRuleSchema>;

export const FaultsBodySchema = z.object({ rules: z.array(FaultRuleSchema).max(100) }).strict();

export type FaultKind = FaultRule['fault'];

interface LiveRule extends FaultRule {
  applied: number;
}

function matches(rule: FaultRule, api: ApiName): boolean {
  return rule.api === '*' || rule.api === api || (rule.api === 'bind' && (api === 'bindAx' || api === 'bindYb'));
}

export class FaultInjector {
  private rules: LiveRule[] = [];

  constructor(private readonly rng: Rng) {}

  set(rules: FaultRule[]): void {
    this.rules = rules.map((r) => ({ ...r, applied: 0 }));
  }

  /** The rules with how many times each has fired. */
  get(): Array<FaultRule & { applied: number }> {
    return this.rules.map((r) => ({ ...r }));
  }

  /** The fault for this request, if a rule fires; the first matching rule that fires wins. */
  pick(api: ApiName): FaultKind | undefined {
    for (const rule of this.rules) {
      if (!matches(rule, api)) continue;
      if (rule.count !== undefined && rule.applied >= rule.count) continue;
      if (this.rng.next() >= (rule.probability ?? 1)) continue;
      rule.applied++;
      return rule.fault;
    }
    return undefined;
  }
}

export interface RateLimit {
  perSecond: number;
  burst: number;
}

/** Generous default: a test suite never hits it unless it means to. */
export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 200, burst: 400 };

/** Token bucket on real time (flow control protects the platform's real capacity). */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly limit: RateLimit,
    private readonly realNow: () => number = Date.now,
  ) {
    this.tokens = limit.burst;
    this.last = realNow();
  }

  take(): boolean {
    const now = this.realNow();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.last) / 1000) * this.limit.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  refill(): void {
    this.tokens = this.limit.burst;
  }
}
