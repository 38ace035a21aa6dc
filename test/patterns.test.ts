/** Activation patterns of the per-coordinate convex programs: sampled gates and the full arrangement. */
import { describe, expect, it } from 'vitest';
import { allPatterns, augmentedInputs, sampledPatterns, type ActivationPatterns } from '../src/programs/patterns.js';
import { InputError } from '../src/util/errors.js';
import { Rng } from '../src/util/random.js';

/** the patterns as bitmask integers (n <= 30) */
function patternKeys(pat: ActivationPatterns, n: number): number[] {
  const keys: number[] = [];
  for (let k = 0; k < pat.count; k++) {
    let key = 0;
    for (let s = 0; s < n; s++) if (pat.masks[s * pat.count + k]) key |= 1 << s;
    keys.push(key);
  }
  return keys;
}

/** every gate realizes its pattern strictly: x~_s'g != 0, and > 0 exactly where the mask is 1 */
function expectGatesRealize(Xt: Float64Array, n: number, pat: ActivationPatterns): void {
  const { p1, count } = pat;
  const bad: string[] = [];
  for (let k = 0; k < count; k++) {
    for (let s = 0; s < n; s++) {
      let v = 0;
      for (let j = 0; j < p1; j++) v += Xt[s * p1 + j] * pat.gates[k * p1 + j];
      if (v === 0 || (v > 0 ? 1 : 0) !== pat.masks[s * count + k]) bad.push(`pattern ${k}, sample ${s}: x~'g = ${v}, mask ${pat.masks[s * count + k]}`);
    }
  }
  expect(bad).toEqual([]);
}

/** pattern key of gate g (z >= 0), or null when a sample is on the hyperplane */
function keyOf(Xt: Float64Array, n: number, p1: number, g: ArrayLike<number>): number | null {
  let key = 0;
  for (let s = 0; s < n; s++) {
    let v = 0;
    for (let j = 0; j < p1; j++) v += Xt[s * p1 + j] * g[j];
    if (v === 0) return null;
    if (v > 0) key |= 1 << s;
  }
  return key;
}

/**
 * Brute force: many Gaussian gates, plus gates near every vertex of the arrangement (the null
 * direction of every p1 - 1 rows, perturbed at several scales) so that thin cells are found too.
 */
function bruteForcePatterns(Xt: Float64Array, n: number, p1: number, seed: number, gaussians = 200_000): Set<number> {
  const rng = new Rng(seed);
  const found = new Set<number>();
  const g = new Float64Array(p1);
  for (let t = 0; t < gaussians; t++) {
    for (let j = 0; j < p1; j++) g[j] = rng.normal();
    const key = keyOf(Xt, n, p1, g);
    if (key !== null) found.add(key);
  }
  const row = (s: number): number[] => Array.from(Xt.subarray(s * p1, (s + 1) * p1));
  const vertices: number[][] = [];
  if (p1 === 2) {
    for (let a = 0; a < n; a++) {
      const [x, one] = row(a);
      vertices.push([one, -x]);
    }
  } else if (p1 === 3) {
    for (let a = 0; a < n; a++) {
      for (let b = a + 1; b < n; b++) {
        const [u, v] = [row(a), row(b)];
        vertices.push([u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]]);
      }
    }
  }
  for (const r of vertices) {
    const nr = Math.hypot(...r);
    if (nr === 0) continue;
    for (const sgn of [1, -1]) {
      for (const scale of [1e-2, 1e-4, 1e-7]) {
        for (let t = 0; t < 300; t++) {
          for (let j = 0; j < p1; j++) g[j] = (sgn * r[j]) / nr + scale * rng.normal();
          const key = keyOf(Xt, n, p1, g);
          if (key !== null) found.add(key);
        }
      }
    }
  }
  found.delete(0);
  return found;
}

function randomPoints(n: number, dim: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n * dim }, () => rng.normal());
}

function allColumns(dim: number): number[] {
  return Array.from({ length: dim }, (_, j) => j);
}

/** both ways: the brute-force set equals the enumerated set, and every gate realizes its pattern */
function expectSameAsBruteForce(Xt: Float64Array, n: number, p1: number, seed: number): ActivationPatterns {
  const pat = allPatterns(Xt, n, p1);
  const keys = patternKeys(pat, n);
  expect(new Set(keys).size).toBe(pat.count);
  expect(keys).not.toContain(0);
  expectGatesRealize(Xt, n, pat);
  const brute = bruteForcePatterns(Xt, n, p1, seed);
  const mine = new Set(keys);
  const missing = [...brute].filter((k) => !mine.has(k));
  const extra = [...mine].filter((k) => !brute.has(k));
  expect({ missing, extra }).toEqual({ missing: [], extra: [] });
  return pat;
}

describe('activation patterns', () => {
  it('augmentedInputs picks the listed columns in order and appends the bias column of ones', () => {
    const X = Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8); // 2 x 4
    expect(Array.from(augmentedInputs(X, 2, 4, [3, 0, 2]))).toEqual([4, 1, 3, 1, 8, 5, 7, 1]);
    expect(Array.from(augmentedInputs(X, 2, 4, []))).toEqual([1, 1]);
    expect(Array.from(augmentedInputs(X, 2, 4, Int32Array.of(1)))).toEqual([2, 1, 6, 1]);
    expect(() => augmentedInputs(Float64Array.of(1, NaN), 1, 2, [0, 1])).toThrow(InputError);
    expect(() => augmentedInputs(Float64Array.of(1, NaN), 1, 2, [0, 1])).toThrow(/sample 0, coordinate 1 is NaN.*finite/);
  });

  it('sampledPatterns: deterministic per seed, distinct nonzero patterns, each realized strictly by its gate', () => {
    const n = 40;
    const X = randomPoints(n, 3, 11);
    const Xt = augmentedInputs(X, n, 3, allColumns(3));
    const P = 300;
    const a = sampledPatterns(Xt, n, 4, P, 5);
    const b = sampledPatterns(Xt, n, 4, P, 5);
    const c = sampledPatterns(Xt, n, 4, P, 6);
    expect(b).toEqual(a);
    expect(c.gates).not.toEqual(a.gates);
    expect(a.p1).toBe(4);
    expect(a.count).toBeGreaterThan(P / 2); // 40 points in general position have ~10^4 cells: few collisions
    expect(a.count).toBeLessThanOrEqual(P);
    expect(a.masks.length).toBe(n * a.count);
    expect(a.gates.length).toBe(4 * a.count);
    const keys = new Set<string>();
    for (let k = 0; k < a.count; k++) {
      let key = '';
      for (let s = 0; s < n; s++) key += a.masks[s * a.count + k];
      expect(key).not.toBe('0'.repeat(n));
      keys.add(key);
    }
    expect(keys.size).toBe(a.count);
    expectGatesRealize(Xt, n, a);
    // the first gate is the first Gaussian draw (kept unless its pattern is all zero)
    const rng = new Rng(5);
    const g0 = Float64Array.from({ length: 4 }, () => rng.normal());
    let anyActive = false;
    for (let s = 0; s < n; s++) if (Xt[4 * s] * g0[0] + Xt[4 * s + 1] * g0[1] + Xt[4 * s + 2] * g0[2] + Xt[4 * s + 3] * g0[3] >= 0) anyActive = true;
    expect(anyActive).toBe(true);
    expect(Array.from(a.gates.subarray(0, 4))).toEqual(Array.from(g0));
  });

  it('sampledPatterns: duplicates collapse (1-D, many gates; a bias-only input has one nonzero pattern)', () => {
    const n = 7;
    const X = Float64Array.from({ length: n }, (_, i) => i - 3); // -3..3
    const Xt = augmentedInputs(X, n, 1, [0]);
    const many = sampledPatterns(Xt, n, 2, 20_000, 1);
    expect(many.count).toBe(2 * n - 1); // every nonzero pattern of 7 distinct points (see below)
    expectGatesRealize(Xt, n, many);
    const ones = new Float64Array(5).fill(1);
    const bias = sampledPatterns(ones, 5, 1, 50, 2);
    expect(bias.count).toBe(1);
    expect(Array.from(bias.masks)).toEqual([1, 1, 1, 1, 1]);
  });

  it('sampledPatterns: a gate with a sample exactly on its hyperplane is nudged off it, other sides kept', () => {
    // sample 0 is (g_1, -g_0) for the first seeded gate g, so x~_0'g = g_1 g_0 - g_0 g_1 = 0 exactly
    const rng = new Rng(8);
    const g = [rng.normal(), rng.normal()];
    const Xt = Float64Array.of(g[1], -g[0], 1, 0.5, -2, 0.25, 0.3, 1);
    const n = 4;
    expect(Xt[0] * g[0] + Xt[1] * g[1]).toBe(0);
    const pat = sampledPatterns(Xt, n, 2, 1, 8);
    expect(pat.count).toBe(1);
    expectGatesRealize(Xt, n, pat);
    const gate = pat.gates;
    expect(Array.from(gate)).not.toEqual(g);
    expect(Math.hypot(gate[0] - g[0], gate[1] - g[1])).toBeLessThan(Math.hypot(g[0], g[1]));
    for (let s = 1; s < n; s++) expect(pat.masks[s]).toBe(Xt[2 * s] * g[0] + Xt[2 * s + 1] * g[1] >= 0 ? 1 : 0);
    expect(sampledPatterns(Xt, n, 2, 1, 8)).toEqual(pat);
  });

  it('sampledPatterns on lattice data are all among the exact patterns', () => {
    const n = 9;
    const X = Float64Array.from({ length: 2 * n }, (_, i) => (i % 3) - 1);
    const Xt = augmentedInputs(X, n, 2, [0, 1]);
    const pat = sampledPatterns(Xt, n, 3, 2000, 3);
    expectGatesRealize(Xt, n, pat);
    const all = new Set(patternKeys(allPatterns(Xt, n, 3), n));
    for (const k of patternKeys(pat, n)) expect(all.has(k)).toBe(true);
  });

  it('allPatterns equals a brute-force enumeration (1-D, n = 6..9): the 2n - 1 prefixes and suffixes', () => {
    for (let n = 6; n <= 9; n++) {
      const X = randomPoints(n, 1, 100 + n);
      const Xt = augmentedInputs(X, n, 1, [0]);
      const pat = expectSameAsBruteForce(Xt, n, 2, 200 + n);
      // n lines through 0 in R^2 make 2n sectors; one is the all-zero pattern, so 2n - 1 remain:
      // the n nonempty suffixes {x >= c} of the sorted points and the n - 1 proper nonempty prefixes
      expect(pat.count).toBe(2 * n - 1);
      const order = Array.from({ length: n }, (_, s) => s).sort((a, b) => X[a] - X[b]);
      const expected = new Set<number>();
      for (let c = 0; c < n; c++) {
        let suffix = 0;
        let prefix = 0;
        for (let t = c; t < n; t++) suffix |= 1 << order[t];
        for (let t = 0; t <= c; t++) prefix |= 1 << order[t];
        expected.add(suffix).add(prefix);
      }
      expect(new Set(patternKeys(pat, n))).toEqual(expected);
    }
  });

  it('allPatterns equals a brute-force enumeration (2-D, n = 6..9): n(n-1) + 1 nonzero cells in general position', () => {
    for (let n = 6; n <= 9; n++) {
      const X = randomPoints(n, 2, 300 + n);
      const Xt = augmentedInputs(X, n, 2, [0, 1]);
      const pat = expectSameAsBruteForce(Xt, n, 3, 400 + n);
      // n planes through 0 in R^3 in general position: n(n-1) + 2 cells, one of them all-zero
      expect(pat.count).toBe(n * (n - 1) + 1);
    }
  });

  it('allPatterns on degenerate data: collinear points, duplicates, p1 > n, the cubes {-1, 1}^2, ^3, ^4 (threshold functions)', () => {
    // 2-D: three collinear points, a duplicate, a fourth point on one of the lines
    const X = Float64Array.of(0, 0, 1, 1, 2, 2, 0, 1, 1, 0, 0, 0, 3, -1, 2, 0);
    const n = 8;
    const Xt = augmentedInputs(X, n, 2, [0, 1]);
    const pat = expectSameAsBruteForce(Xt, n, 3, 7);
    // the duplicate samples 0 and 5 always share their side
    for (let k = 0; k < pat.count; k++) expect(pat.masks[0 * pat.count + k]).toBe(pat.masks[5 * pat.count + k]);
    // p1 > n: 2 points in 3-D, rank 2: two lines through 0 in the plane, 4 cells, 3 nonzero
    const two = allPatterns(augmentedInputs(Float64Array.of(1, 2, 3, -1, 0, 2), 2, 3, [0, 1, 2]), 2, 4);
    expect(new Set(patternKeys(two, 2))).toEqual(new Set([1, 2, 3]));
    expectGatesRealize(augmentedInputs(Float64Array.of(1, 2, 3, -1, 0, 2), 2, 3, [0, 1, 2]), 2, two);
    // one sample only, or all identical: only the all-one pattern
    const single = allPatterns(Float64Array.of(0.5, 1, 0.5, 1), 2, 2);
    expect(single.count).toBe(1);
    expect(Array.from(single.masks)).toEqual([1, 1]);
    // threshold functions: {-1, 1}^2 has 14 (all but XOR, XNOR), {-1, 1}^3 has 104, both counts
    // including the constant 0; lattice points are far from general position (4 on each face)
    for (const [dim, cells] of [
      [2, 14],
      [3, 104],
      [4, 1882],
    ]) {
      const m = 2 ** dim;
      const cube = Float64Array.from({ length: m * dim }, (_, i) => (((Math.floor(i / dim) >> i % dim) & 1) === 1 ? 1 : -1));
      const ct = augmentedInputs(cube, m, dim, allColumns(dim));
      const cp = allPatterns(ct, m, dim + 1);
      expect(cp.count).toBe(cells - 1);
      expectGatesRealize(ct, m, cp);
      expect(new Set(patternKeys(cp, m)).size).toBe(cells - 1);
    }
  });

  it('sampled patterns are a subset of all patterns', () => {
    const n = 9;
    const Xt = augmentedInputs(randomPoints(n, 2, 21), n, 2, [0, 1]);
    const all = new Set(patternKeys(allPatterns(Xt, n, 3), n));
    const sampled = sampledPatterns(Xt, n, 3, 5000, 9);
    for (const k of patternKeys(sampled, n)) expect(all.has(k)).toBe(true);
    expect(sampled.count).toBeLessThanOrEqual(all.size);
  });

  it('bad input: P < 1, NaN data, the candidate limit', () => {
    const Xt = augmentedInputs(randomPoints(5, 2, 1), 5, 2, [0, 1]);
    expect(() => sampledPatterns(Xt, 5, 3, 0, 1)).toThrow(InputError);
    expect(() => sampledPatterns(Xt, 5, 3, 0, 1)).toThrow(/P < 1.*give --patterns >= 1/);
    expect(() => sampledPatterns(Xt, 5, 3, 2.5, 1)).toThrow(/P = 2.5 is not a whole number.*--patterns/);
    const bad = Float64Array.from(Xt);
    bad[2 * 3 + 1] = NaN;
    expect(() => sampledPatterns(bad, 5, 3, 10, 1)).toThrow(InputError);
    expect(() => sampledPatterns(bad, 5, 3, 10, 1)).toThrow(/sample 2, column 1 .* is NaN.*finite/);
    bad[2 * 3 + 1] = Infinity;
    expect(() => allPatterns(bad, 5, 3)).toThrow(/sample 2, column 1 .* is Infinity/);
    expect(() => sampledPatterns(new Float64Array(0), 0, 3, 10, 1)).toThrow(/at least one data sample/);
    const big = augmentedInputs(randomPoints(60, 5, 2), 60, 5, allColumns(5));
    // C(60, 5) * 2^5 = 5,461,512 * 32
    expect(() => allPatterns(big, 60, 6)).toThrow(InputError);
    expect(() => allPatterns(big, 60, 6)).toThrow(/all patterns: C\(60, 5\) \* 2\^5 = 174768384 candidates exceeds the limit 2000000; use --patterns P \(sampled gates\) instead/);
    expect(() => allPatterns(Xt, 5, 3, 10)).toThrow(/C\(5, 2\) \* 2\^2 = 40 candidates exceeds the limit 10/);
  });
});
