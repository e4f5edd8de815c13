// Seeded randomness so a run with a fixed `seed` allocates the same numbers and ids every time.

export interface Rng {
  next(): number;
  hex(length: number): string;
  pick<T>(items: readonly T[]): T;
}

export function createRng(seed: number = Date.now() ^ (process.pid << 8)): Rng {
  let state = seed >>> 0 || 0x9e3779b9;
  // mulberry32: tiny, fast and good enough for picking numbers and ids.
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    hex: (length) => Array.from({ length }, () => Math.floor(next() * 16).toString(16)).join(''),
    pick: (items) => items[Math.floor(next() * items.length)],
  };
}
