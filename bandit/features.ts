/**
 * Input checks shared by every policy: arms are rows of finite numbers, all of one dimension.
 */

/**
 * Throws a clear error naming `caller` unless `features` is a list of finite vectors of one dimension
 * (and of `expectedDim` when given).
 * Cost: O(n d). Throws on an empty row, NaN/Infinity, or mismatched dimensions.
 */
export function validateFeatures(caller: string, features: readonly Float64Array[], expectedDim?: number): void {
  const dimension = expectedDim ?? features[0]?.length;
  for (let i = 0; i < features.length; i++) {
    const row = features[i]!;
    if (!(row instanceof Float64Array)) throw new Error(`${caller} requires Float64Array feature rows (arm ${i})`);
    if (row.length === 0) throw new Error(`${caller} requires non-empty feature rows (arm ${i})`);
    if (row.length !== dimension) {
      throw new Error(`${caller} requires feature rows of one dimension: arm ${i} has ${row.length}, expected ${dimension}`);
    }
    for (let k = 0; k < row.length; k++) {
      if (!Number.isFinite(row[k]!)) throw new Error(`${caller} requires finite features: arm ${i} has ${row[k]} at ${k}`);
    }
  }
}

/**
 * Scales a vector to unit Euclidean norm in place (zero vectors are left as they are).
 * x <- x / ||x||_2. Cost: O(d). Throws nothing.
 */
export function normaliseInPlace(vector: Float64Array): Float64Array {
  let norm = 0;
  for (let k = 0; k < vector.length; k++) norm += vector[k]! * vector[k]!;
  if (norm > 0) {
    const inverse = 1 / Math.sqrt(norm);
    for (let k = 0; k < vector.length; k++) vector[k] = vector[k]! * inverse;
  }
  return vector;
}
