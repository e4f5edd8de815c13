// Repeated authentication failures from one IP block it for 30 minutes (1020176). The threshold
// and the counting window are not published: the simulator's choice is `limit` failures within
// 10 simulated minutes. Measured on the simulated clock so tests can move past a block.

export const LOCKOUT_SECONDS = 30 * 60;
const WINDOW_MS = 10 * 60_000;
export const DEFAULT_AUTH_FAILURE_LIMIT = 10;

export class AuthLockout {
  private failures = new Map<string, number[]>();
  private blockedUntil = new Map<string, number>();

  constructor(private readonly limit: number = DEFAULT_AUTH_FAILURE_LIMIT) {}

  isBlocked(ip: string, now: number): boolean {
    const until = this.blockedUntil.get(ip);
    if (until === undefined) return false;
    if (until > now) return true;
    this.blockedUntil.delete(ip);
    return false;
  }

  recordFailure(ip: string, now: number): void {
    const recent = (this.failures.get(ip) ?? []).filter((t) => t > now - WINDOW_MS);
    recent.push(now);
    if (recent.length >= this.limit) {
      this.blockedUntil.set(ip, now + LOCKOUT_SECONDS * 1000);
      this.failures.delete(ip);
      return;
    }
    this.failures.set(ip, recent);
  }

  reset(): void {
    this.failures.clear();
    this.blockedUntil.clear();
  }
}
