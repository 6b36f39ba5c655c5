import { normaliseInPlace } from "./features";
/**
 * An offline, deterministic text embedding: signed feature hashing (Weinberger et al. 2009) of word 1-2 grams
 * and character 3-5 grams, sublinear term frequency (1 + ln tf), L2-normalised. No model, no network:
 * the same text always gives the same vector, on any machine.
 */

export const LEXICAL_EMBEDDING_MODEL = "promptduel-lexical-hash-v1";

export interface LexicalEmbeddingOptions {
  /** Output dimension (default 256). */
  dimension?: number;
}

/**
 * 32-bit FNV-1a hash of a string's UTF-16 code units.
 * Cost: O(length). Throws nothing.
 */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let k = 0; k < text.length; k++) {
    hash ^= text.charCodeAt(k);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function countGrams(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (gram: string) => counts.set(gram, (counts.get(gram) ?? 0) + 1);
  const normalised = text.toLowerCase().normalize("NFKC");
  const words = normalised.match(/[\p{L}\p{N}]+/gu) ?? [];
  for (let w = 0; w < words.length; w++) {
    add(`w:${words[w]}`);
    if (w + 1 < words.length) add(`b:${words[w]} ${words[w + 1]}`);
  }
  // Character grams over the whitespace-collapsed text, padded so word boundaries count.
  const padded = ` ${normalised.replace(/\s+/g, " ").trim()} `;
  for (let n = 3; n <= 5; n++) {
    for (let k = 0; k + n <= padded.length; k++) add(`c:${padded.slice(k, k + n)}`);
  }
  return counts;
}

/**
 * Embeds `text`: v[h(g) mod D] += sign(g) * (1 + ln tf(g)) for every distinct gram g, sign(g) = +-1 from a
 * second hash bit, then v / ||v||. Empty or symbol-only text with no grams gives the zero vector.
 * Cost: O(|text|) grams (5 gram sizes) + O(D). Throws if the dimension is not a positive integer.
 */
export function embedText(text: string, options: LexicalEmbeddingOptions = {}): Float64Array {
  const dimension = options.dimension ?? 256;
  if (!Number.isInteger(dimension) || dimension < 1) throw new Error("embedText requires a positive integer dimension");
  const vector = new Float64Array(dimension);
  for (const [gram, count] of countGrams(text)) {
    const hash = fnv1a(gram);
    const sign = (fnv1a(`s${gram}`) & 1) === 0 ? 1 : -1;
    vector[hash % dimension] = vector[hash % dimension]! + sign * (1 + Math.log(count));
  }
  return normaliseInPlace(vector);
}
