import type { Duel } from "./policy";

/**
 * Duels re-indexed over the distinct arms they involve, so a model evaluates f and df/dtheta once per
 * distinct arm per step instead of once per duel (DESIGN §5.2).
 */
export interface CompactDuels {
  /** slotArm[s] = arm index of slot s (each distinct arm in the history once, in order of first appearance). */
  readonly slotArm: Int32Array;
  readonly slotA: Int32Array;
  readonly slotB: Int32Array;
  readonly labels: Float64Array;
  /**
   * Per duel, its logit scale (Duel.scale; docs/decisions/0044), or null when every duel's is 1 (absent): the loss is
   * then the unweighted one, operation for operation.
   */
  readonly scales: Float64Array | null;
  /** Per duel, its logit offset (Duel.offset; docs/decisions/0048), or null when every duel's is 0 (absent). */
  readonly offsets: Float64Array | null;
  readonly count: number;
  /** appearances[s] = number of duels slot s took part in. */
  readonly appearances: Float64Array;
}

/**
 * Throws a clear error naming `caller` unless every duel has two distinct arms in [0, armCount),
 * an outcome of 1, 0 or 0.5, and a finite scale and offset when it has them.
 * Cost: O(L). Throws as described.
 */
export function validateHistory(caller: string, history: readonly Duel[], armCount: number): void {
  for (let l = 0; l < history.length; l++) {
    const { a, b, outcome, scale, offset } = history[l]!;
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0 || a >= armCount || b >= armCount) {
      throw new Error(`${caller} requires duel arms in [0, ${armCount}): duel ${l} is (${a}, ${b})`);
    }
    if (a === b) throw new Error(`${caller} requires two distinct arms per duel: duel ${l} is (${a}, ${b})`);
    if (outcome !== 1 && outcome !== 0 && outcome !== 0.5) {
      throw new Error(`${caller} requires outcomes 1, 0 or 0.5: duel ${l} has ${String(outcome)}`);
    }
    if (scale !== undefined && !Number.isFinite(scale)) throw new Error(`${caller} requires a finite scale: duel ${l} has ${String(scale)}`);
    if (offset !== undefined && !Number.isFinite(offset)) throw new Error(`${caller} requires a finite offset: duel ${l} has ${String(offset)}`);
  }
}

/**
 * Builds the slot representation of a history (see CompactDuels).
 * Cost: O(L + n) with L duels and n arms. Throws nothing (validate first).
 */
export function compactDuels(history: readonly Duel[], armCount: number): CompactDuels {
  const slotOfArm = new Int32Array(armCount).fill(-1);
  const slotArmList: number[] = [];
  const count = history.length;
  const slotA = new Int32Array(count);
  const slotB = new Int32Array(count);
  const labels = new Float64Array(count);
  let scales: Float64Array | null = null;
  let offsets: Float64Array | null = null;
  const slotFor = (arm: number): number => {
    let slot = slotOfArm[arm]!;
    if (slot < 0) {
      slot = slotArmList.length;
      slotOfArm[arm] = slot;
      slotArmList.push(arm);
    }
    return slot;
  };
  for (let l = 0; l < count; l++) {
    const duel = history[l]!;
    slotA[l] = slotFor(duel.a);
    slotB[l] = slotFor(duel.b);
    labels[l] = duel.outcome;
    const scale = duel.scale ?? 1;
    if (scale !== 1 && !scales) scales = new Float64Array(count).fill(1);
    if (scales) scales[l] = scale;
    const offset = duel.offset ?? 0;
    if (offset !== 0 && !offsets) offsets = new Float64Array(count);
    if (offsets) offsets[l] = offset;
  }
  const appearances = new Float64Array(slotArmList.length);
  for (let l = 0; l < count; l++) {
    appearances[slotA[l]!] = appearances[slotA[l]!]! + 1;
    appearances[slotB[l]!] = appearances[slotB[l]!]! + 1;
  }
  return { slotArm: Int32Array.from(slotArmList), slotA, slotB, labels, scales, offsets, count, appearances };
}
