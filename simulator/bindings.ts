// The AXYB bindings of one app and every rule the platform enforces on them: one A per X, at most
// 5 X per A, at most `maxAxPerY` AX bindings per Y and never the same AX twice on one Y, lifetimes
// on the simulated clock (an AX takes its YB along when it expires), unbind of all or one YB.

import { refuse } from './errors';
import { areaIndex, candidateAreas, type Pool } from './pool';
import type { Rng } from './random';

export interface YbBinding {
  bindId: string;
  numY: string;
  numB: string;
  preVoiceY?: string;
  /** Seconds as requested (0 = ends with AX). */
  ybDuration: number;
  createdAt: number;
  /** Simulated epoch ms, null = lives as long as its AX. */
  expiresAt: number | null;
  /** Allocated on the fly when the caller dialled X without a YB. */
  auto: boolean;
}

export interface AxBinding {
  subscriptionId: string;
  numA: string;
  numX: string;
  areaCode: string;
  callDirection: 0 | 1 | 2;
  duration: number;
  ybDuration: number;
  recordFlag: boolean;
  recordHintTone?: string;
  preVoiceX?: string;
  userData?: string;
  createdAt: number;
  expiresAt: number | null;
  yb: YbBinding[];
}

export interface AxInput {
  origNum: string;
  areaCode?: string;
  areaMatchMode?: '0' | '1';
  callDirection?: 0 | 1 | 2;
  duration?: number;
  ybDuration?: number;
  recordFlag?: boolean;
  recordHintTone?: string;
  preVoiceX?: string;
  userData?: string;
}

export interface YbInput {
  origNum: string;
  subscriptionId: string;
  areaCode?: string;
  areaMatchMode?: '0' | '1';
  preVoiceY?: string;
  ybDuration?: number;
}

export interface Limits {
  maxXPerA: number;
  maxAxPerY: number;
  maxYbPerAx: number;
}

export const DEFAULT_LIMITS: Limits = { maxXPerA: 5, maxAxPerY: 1000, maxYbPerAx: 5 };

/** The platform's default AX lifetime when `duration` is omitted. */
export const DEFAULT_DURATION_SECONDS = 7200;

export interface Expired {
  subscriptionId: string;
  numY?: string;
}

export class BindingStore {
  private readonly bySubscription = new Map<string, AxBinding>();
  private areaOf: Map<string, string>;

  constructor(
    private pool: Pool,
    private readonly rng: Rng,
    private readonly limits: Limits = DEFAULT_LIMITS,
  ) {
    this.areaOf = areaIndex(pool);
  }

  reset(pool: Pool = this.pool): void {
    this.bySubscription.clear();
    this.pool = pool;
    this.areaOf = areaIndex(pool);
  }

  get numbers(): Pool {
    return this.pool;
  }

  isPoolNumber(n: string): boolean {
    return this.areaOf.has(n);
  }

  /** Every live binding, after removing what expired by `now`. */
  list(now: number): AxBinding[] {
    this.sweep(now);
    return [...this.bySubscription.values()];
  }

  /** Removes what expired by `now`; answers what went, for the log. */
  sweep(now: number): Expired[] {
    const gone: Expired[] = [];
    for (const ax of [...this.bySubscription.values()]) {
      if (ax.expiresAt !== null && ax.expiresAt <= now) {
        this.bySubscription.delete(ax.subscriptionId);
        gone.push({ subscriptionId: ax.subscriptionId });
        continue;
      }
      const kept = ax.yb.filter((yb) => yb.expiresAt === null || yb.expiresAt > now);
      for (const yb of ax.yb) if (!kept.includes(yb)) gone.push({ subscriptionId: ax.subscriptionId, numY: yb.numY });
      ax.yb = kept;
    }
    return gone;
  }

  get(subscriptionId: string, now: number): AxBinding | undefined {
    this.sweep(now);
    return this.bySubscription.get(subscriptionId);
  }

  byX(numX: string, now: number): AxBinding | undefined {
    return this.list(now).find((ax) => ax.numX === numX);
  }

  /** The YB that A reaches by dialling Y (Y is unique among one A's bindings, see pickY). */
  byAY(numA: string, numY: string, now: number): { ax: AxBinding; yb: YbBinding } | undefined {
    for (const ax of this.list(now)) {
      if (ax.numA !== numA) continue;
      const yb = ax.yb.find((y) => y.numY === numY);
      if (yb) return { ax, yb };
    }
    return undefined;
  }

  /** Every binding in which `num` serves as Y. */
  usesOfY(numY: string, now: number): AxBinding[] {
    return this.list(now).filter((ax) => ax.yb.some((yb) => yb.numY === numY));
  }

  bindAx(input: AxInput, now: number): AxBinding {
    this.sweep(now);
    const live = [...this.bySubscription.values()];
    const duration = input.duration ?? DEFAULT_DURATION_SECONDS;
    const ybDuration = input.ybDuration ?? 0;
    if (duration !== 0 && ybDuration > duration) refuse('1010002', 'Invalid parameter: ybDuration exceeds duration');
    if (live.filter((ax) => ax.numA === input.origNum).length >= this.limits.maxXPerA) {
      refuse('1011003', `The number A already has ${this.limits.maxXPerA} privacy numbers bound`);
    }
    const taken = this.numbersInUse(live);
    const numX = this.pickFree(input.areaCode, input.areaMatchMode ?? '0', (n) => !taken.has(n), 'random');
    if (!numX) refuse('1011002', 'Insufficient number resources: no free X number for the area');
    const ax: AxBinding = {
      subscriptionId: this.newId(),
      numA: input.origNum,
      numX,
      areaCode: this.areaOf.get(numX) as string,
      callDirection: input.callDirection ?? 0,
      duration,
      ybDuration,
      recordFlag: input.recordFlag ?? false,
      recordHintTone: input.recordHintTone,
      preVoiceX: input.preVoiceX,
      userData: input.userData,
      createdAt: now,
      expiresAt: duration === 0 ? null : now + duration * 1000,
      yb: [],
    };
    this.bySubscription.set(ax.subscriptionId, ax);
    return ax;
  }

  bindYb(input: YbInput, now: number, auto = false): { ax: AxBinding; yb: YbBinding } {
    this.sweep(now);
    const ax = this.bySubscription.get(input.subscriptionId);
    if (!ax) refuse('1016001', 'The binding relationship does not exist: subscriptionId');
    if (input.origNum === ax.numA) refuse('1010002', 'Invalid parameter: origNum (B must differ from A)');
    if (ax.yb.some((yb) => yb.numB === input.origNum)) refuse('1012010', 'The relation is already bound: origNum');
    if (ax.yb.length >= this.limits.maxYbPerAx) {
      refuse('1012010', `The relation is already bound: the AX already has ${this.limits.maxYbPerAx} YB`);
    }
    const ybDuration = input.ybDuration ?? ax.ybDuration;
    if (ax.duration !== 0 && ybDuration > ax.duration)
      refuse('1010002', 'Invalid parameter: ybDuration exceeds duration');
    const numY = this.pickY(ax, input.areaCode ?? ax.areaCode, input.areaMatchMode ?? '0', now);
    if (!numY) refuse('1012008', 'Insufficient number resources: no free Y number for the area');
    const ownExpiry = ybDuration === 0 ? null : now + ybDuration * 1000;
    const yb: YbBinding = {
      bindId: this.newId(),
      numY,
      numB: input.origNum,
      preVoiceY: input.preVoiceY,
      ybDuration,
      createdAt: now,
      // A YB never outlives its AX.
      expiresAt: ownExpiry === null ? null : ax.expiresAt === null ? ownExpiry : Math.min(ownExpiry, ax.expiresAt),
      auto,
    };
    ax.yb.push(yb);
    return { ax, yb };
  }

  /** Removes AX with every YB, or one YB by Y or by B (`yNum` wins when both are given). */
  unbind(subscriptionId: string, now: number, yNum?: string, bNum?: string): void {
    this.sweep(now);
    const ax = this.bySubscription.get(subscriptionId);
    if (!ax) refuse('1016001', 'The binding relationship does not exist: subscriptionId');
    if (yNum === undefined && bNum === undefined) {
      this.bySubscription.delete(subscriptionId);
      return;
    }
    const index =
      yNum !== undefined ? ax.yb.findIndex((yb) => yb.numY === yNum) : ax.yb.findIndex((yb) => yb.numB === bNum);
    if (index < 0)
      refuse('1016001', `The binding relationship does not exist: ${yNum !== undefined ? 'yNum' : 'bNum'}`);
    ax.yb.splice(index, 1);
  }

  private numbersInUse(live: AxBinding[]): Set<string> {
    const used = new Set<string>();
    for (const ax of live) {
      used.add(ax.numX);
      for (const yb of ax.yb) used.add(yb.numY);
    }
    return used;
  }

  /**
   * Y: not anybody's X, carrying fewer than maxAxPerY AX, not already on this AX, and not used by
   * another binding of the same A (so that A dialling Y reaches exactly one B). First fit in pool
   * order, so that Ys are shared the way the platform shares them.
   */
  private pickY(ax: AxBinding, areaCode: string, mode: '0' | '1', now: number): string | undefined {
    const live = this.list(now);
    const xs = new Set(live.map((b) => b.numX));
    const load = new Map<string, number>();
    const blockedForA = new Set<string>();
    for (const b of live) {
      for (const yb of b.yb) {
        load.set(yb.numY, (load.get(yb.numY) ?? 0) + 1);
        if (b.numA === ax.numA) blockedForA.add(yb.numY);
      }
    }
    return this.pickFree(
      areaCode,
      mode,
      (n) => !xs.has(n) && !blockedForA.has(n) && (load.get(n) ?? 0) < this.limits.maxAxPerY,
      'first',
    );
  }

  private pickFree(
    areaCode: string | undefined,
    mode: '0' | '1',
    ok: (n: string) => boolean,
    how: 'random' | 'first',
  ): string | undefined {
    for (const area of candidateAreas(this.pool, areaCode, mode)) {
      const free = (this.pool[area] ?? []).filter(ok);
      if (free.length) return how === 'first' ? free[0] : this.rng.pick(free);
    }
    return undefined;
  }

  private newId(): string {
    const h = this.rng.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
}
