import type { Duel } from "./policy";
import type { RandomSource } from "./random";
import { randomDistinctPair } from "./random";

/**
 * True when {a, b} equals one of the pending pairs in either order.
 * Cost: O(K) for K pending pairs. Throws nothing.
 */
export function isPendingPair(a: number, b: number, pending: readonly (readonly [number, number])[] | undefined): boolean {
  if (!pending) return false;
  for (const [x, y] of pending) if ((x === a && y === b) || (x === b && y === a)) return true;
  return false;
}

/**
 * A uniformly random distinct pair that is not pending (falls back to any pair after 100 tries,
 * when almost every pair is pending).
 * Cost: O(K) expected. Throws if armCount < 2.
 */
export function randomFreshPair(
  random: RandomSource,
  armCount: number,
  pending: readonly (readonly [number, number])[] | undefined,
): [number, number] {
  let pair = randomDistinctPair(random, armCount);
  for (let attempt = 0; attempt < 100 && isPendingPair(pair[0], pair[1], pending); attempt++) {
    pair = randomDistinctPair(random, armCount);
  }
  return pair;
}

/**
 * The arm that won the most recent decisive duel (ties keep looking back), or -1 if none.
 * Cost: O(L). Throws nothing.
 */
export function latestWinner(history: readonly Duel[]): number {
  for (let l = history.length - 1; l >= 0; l--) {
    const duel = history[l]!;
    if (duel.outcome === 1) return duel.a;
    if (duel.outcome === 0) return duel.b;
  }
  return history.length > 0 ? history[history.length - 1]!.a : -1;
}

/**
 * Marks which arms appear in at least one duel.
 * Cost: O(L + n). Throws nothing.
 */
export function seenArms(history: readonly Duel[], armCount: number): Uint8Array {
  const seen = new Uint8Array(armCount);
  for (const duel of history) {
    seen[duel.a] = 1;
    seen[duel.b] = 1;
  }
  return seen;
}

/**
 * duels_i = #{duels of the history containing arm i}.
 * Cost: O(L + n). Throws nothing.
 */
export function duelCounts(history: readonly Duel[], armCount: number): Int32Array<ArrayBuffer> {
  const duels = new Int32Array(armCount);
  for (const duel of history) {
    duels[duel.a]!++;
    duels[duel.b]!++;
  }
  return duels;
}
