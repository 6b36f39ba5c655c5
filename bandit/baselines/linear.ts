import type { ApohfOptions } from "../apohf";
import { createLinearNtkPolicy } from "../apohf";
import type { DuelingPolicy, PolicyContext } from "../policy";

/**
 * APOHF's `linear` dueling-bandit baseline (LinearDBDiag): utility theta . x, BTL training and the
 * diagonal UCB selection of APOHF with g_i = x_i.
 * Cost per fit: O(1000 * S * d). Throws on empty or invalid features.
 */
export function createLinearPolicy(context: PolicyContext, options: Partial<ApohfOptions> = {}): DuelingPolicy {
  return createLinearNtkPolicy(context, options);
}
