import { normaliseInPlace } from "./features";
import type { RandomSource } from "./random";
import { standardNormal } from "./random";

/** A seeded Gaussian random projection R^d -> R^m (Johnson & Lindenstrauss 1984; Achlioptas 2003). */
export interface RandomProjection {
  readonly inputDim: number;
  readonly outputDim: number;
  readonly matrix: Float64Array; // outputDim x inputDim, row-major, entries N(0, 1/outputDim)
}

/**
 * Draws the projection matrix R with R_jk ~ N(0, 1/m), so that E ||R x||^2 = ||x||^2.
 * Cost: O(m d). Throws if a dimension is not a positive integer.
 */
export function createRandomProjection(inputDim: number, outputDim: number, random: RandomSource): RandomProjection {
  if (!Number.isInteger(inputDim) || !Number.isInteger(outputDim) || inputDim < 1 || outputDim < 1) {
    throw new Error("createRandomProjection requires positive integer dimensions");
  }
  const matrix = new Float64Array(inputDim * outputDim);
  const scale = 1 / Math.sqrt(outputDim);
  for (let k = 0; k < matrix.length; k++) matrix[k] = scale * standardNormal(random);
  return { inputDim, outputDim, matrix };
}

/**
 * y = R x / ||R x||: projects one row and renormalises it to unit length (the engine's features are unit-norm).
 * Cost: O(m d). Throws if x has the wrong dimension.
 */
export function projectFeatures(projection: RandomProjection, x: Float64Array): Float64Array {
  if (x.length !== projection.inputDim) {
    throw new Error(`projectFeatures requires ${projection.inputDim}-dimensional features, got ${x.length}`);
  }
  const { inputDim, outputDim, matrix } = projection;
  const out = new Float64Array(outputDim);
  for (let j = 0; j < outputDim; j++) {
    let sum = 0;
    const row = j * inputDim;
    for (let k = 0; k < inputDim; k++) sum += matrix[row + k]! * x[k]!;
    out[j] = sum;
  }
  return normaliseInPlace(out);
}
