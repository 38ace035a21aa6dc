/**
 * Target specifications in JSON (used by the CLI and, later, the harness), and the built-in named
 * targets. Implemented kinds: gaussian, mixture, gmrf, empirical, ising (exact enumeration, d <= 20),
 * energy (1-D, mathjs expression, quadrature).
 *
 *   {"kind":"gaussian","mean":[0,0],"cov":[[1,0.5],[0.5,1]]}
 *   {"kind":"mixture","weights":[0.3,0.7],"means":[[-2],[2]],"covs":[[[0.25]],[[0.5]]]}
 *   {"kind":"gmrf","graph":"ring","d":64,"diag":1.9,"offdiag":-0.45}   (also "torus", d = side^2; "mean" optional)
 *   {"kind":"empirical","points":[[0.1],[0.5],[2]]}  or  {"kind":"empirical","file":"train.csv"} (rows = points)
 *   {"kind":"ising","graph":"ring","d":12,"coupling":0.3,"field":0.1}  (graphs chain, ring, torus, tree with
 *     "branching", erdos-renyi with "p", sk; "seed" for the random graphs; d <= 20 by enumeration, chains and
 *     trees of any d by belief propagation, other graphs beyond d = 20 by a Gibbs reference with optional
 *     "mcmc": {"burnIn","thin","denoiseSweeps","denoiseBurnIn","batches","seed"})
 *   {"kind":"energy","expr":"x^4/4 - x^2","domain":[-4,4]}
 */
import fs from 'node:fs';
import { InputError, hasErrorCode } from '../util/errors.js';
import { GaussianTarget } from './gaussian.js';
import { MixtureTarget } from './mixture.js';
import { GmrfTarget, type GmrfGraph } from './gmrf.js';
import { EmpiricalTarget } from './empirical.js';
import { IsingTarget, ISING_GRAPHS, ISING_MAX_DIM, ISING_TREE_GRAPHS, type IsingGraph } from './ising.js';
import { IsingTreeTarget } from './ising-tree.js';
import { IsingMcmcTarget } from './ising-mcmc.js';
import { EnergyTarget } from './energy.js';
import { BinaryRbm, GaussianBernoulliRbm } from './rbm.js';
import { SparseCodingReference, SparseCodingTarget, SPARSE_CODING_MAX_CODES, SPARSE_CODING_MAX_REFERENCE_CODES } from './sparse-coding.js';
import { FactorChainTarget } from './factor-chain.js';
import { readMatrix } from '../io/data.js';
import type { Target } from './target.js';
import { Rng } from '../util/random.js';

export const IMPLEMENTED_KINDS = ['gaussian', 'mixture', 'gmrf', 'empirical', 'ising', 'energy', 'rbm', 'binary-rbm', 'sparse-coding', 'conditional-ising', 'factor-chain'] as const;
const PLANNED_KINDS: string[] = [];

export const BUILTIN_TARGETS: Record<string, { description: string; spec: Record<string, unknown> }> = {
  'gaussian-2d': {
    description: 'correlated 2-D Gaussian, unit variances, correlation 0.5',
    spec: { kind: 'gaussian', mean: [0, 0], cov: [[1, 0.5], [0.5, 1]] },
  },
  'mixture-1d': {
    description: 'the demo mixture 0.4 N(-2, 0.5^2) + 0.6 N(2, 0.7^2)',
    spec: { kind: 'mixture', weights: [0.4, 0.6], means: [[-2], [2]], covs: [[[0.25]], [[0.49]]] },
  },
  'gmrf-ring-64': {
    description: 'GMRF on a ring of 64 nodes, Q = 1.9 I - 0.45 Adj',
    spec: { kind: 'gmrf', graph: 'ring', d: 64, diag: 1.9, offdiag: -0.45 },
  },
  'ising-ring-10': {
    description: 'Ising model on a ring of 10 spins, coupling 0.3, field 0.1 (exact by enumeration)',
    spec: { kind: 'ising', graph: 'ring', d: 10, coupling: 0.3, field: 0.1 },
  },
  'double-well': {
    description: 'the 1-D double well exp(-(x^4/4 - x^2)) on [-4, 4]',
    spec: { kind: 'energy', expr: 'x^4/4 - x^2', domain: [-4, 4] },
  },
  'mixture-2d': {
    description: 'three well-separated 2-D components',
    spec: {
      kind: 'mixture',
      weights: [0.3, 0.3, 0.4],
      means: [[-3, 0], [3, 0], [0, 3]],
      covs: [[[0.5, 0], [0, 0.5]], [[0.5, 0.2], [0.2, 0.5]], [[0.3, 0], [0, 0.8]]],
    },
  },
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function numberArray(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
    throw new InputError(`${what} must be an array of finite numbers`);
  }
  return v as number[];
}

function matrix(v: unknown, what: string): number[][] {
  if (!Array.isArray(v)) throw new InputError(`${what} must be an array of rows (arrays of numbers)`);
  return v.map((row, i) => numberArray(row, `${what}[${i}]`));
}

/** The conditioning of a conditional target p(x | c): the field h + B c of a conditional Ising model. */
export interface Conditioning {
  /** the condition's dimension */
  m: number;
  /** d x m, row-major */
  B: Float64Array;
  /** the condition c of this target */
  condition: Float64Array;
  /** the same family at another condition */
  at(c: ArrayLike<number>): Target;
}

const CONDITIONING = new WeakMap<Target, Conditioning>();

/** The conditioning of a target built from a conditional spec (`conditional-ising`), or undefined. */
export function targetConditioning(t: Target): Conditioning | undefined {
  return CONDITIONING.get(t);
}

export function parseTargetSpec(spec: unknown, source = 'target spec'): Target {
  if (!isObject(spec)) throw new InputError(`${source}: must be a JSON object with a "kind" field`);
  const kind = spec.kind;
  const fail = (msg: string): never => {
    throw new InputError(`${source}: ${msg}`);
  };
  // a numeric field (required, or optional), named in the error
  const num = (k: string): number => (typeof spec[k] === 'number' ? (spec[k] as number) : fail(`"${k}" must be a number`));
  const opt = (k: string): number | undefined => (spec[k] === undefined ? undefined : num(k));
  try {
    if (kind === 'gaussian') {
      return new GaussianTarget(numberArray(spec.mean, '"mean"'), matrix(spec.cov, '"cov"'), String(spec.name ?? 'gaussian'));
    }
    if (kind === 'mixture') {
      const means = Array.isArray(spec.means) ? spec.means.map((m, k) => numberArray(m, `"means"[${k}]`)) : fail('"means" must be an array of mean vectors');
      const covs = Array.isArray(spec.covs) ? spec.covs.map((c, k) => matrix(c, `"covs"[${k}]`)) : fail('"covs" must be an array of covariance matrices');
      return new MixtureTarget(numberArray(spec.weights, '"weights"'), means, covs, String(spec.name ?? 'mixture'));
    }
    if (kind === 'gmrf') {
      return new GmrfTarget(spec.graph as GmrfGraph, num('d'), num('diag'), num('offdiag'), spec.mean === undefined ? 0 : num('mean'), String(spec.name ?? 'gmrf'));
    }
    if (kind === 'energy') {
      const dom = numberArray(spec.domain, '"domain"');
      if (dom.length !== 2) return fail('"domain" must be [lo, hi]');
      return new EnergyTarget(String(spec.expr ?? ''), [dom[0], dom[1]], String(spec.name ?? 'energy'));
    }
    if (kind === 'ising') {
      const graph = spec.graph as IsingGraph;
      const common = { graph, d: num('d'), coupling: num('coupling'), field: opt('field') ?? 0, p: opt('p'), seed: opt('seed'), branching: opt('branching'), name: typeof spec.name === 'string' ? spec.name : undefined };
      if (common.d > ISING_MAX_DIM && ISING_TREE_GRAPHS.includes(graph)) {
        // chains and trees of any size: exact by belief propagation
        return new IsingTreeTarget({ ...common, branching: graph === 'chain' ? 1 : (common.branching ?? 2) });
      }
      if (common.d > ISING_MAX_DIM) {
        // loopy graphs beyond enumeration: the long Gibbs reference, with its Monte Carlo error
        const mcmc = isObject(spec.mcmc) ? spec.mcmc : spec.mcmc === undefined ? {} : fail('"mcmc" must be an object, e.g. {"burnIn":1000,"thin":10}');
        const mnum = (k: string): number | undefined => (mcmc[k] === undefined ? undefined : typeof mcmc[k] === 'number' ? (mcmc[k] as number) : fail(`"mcmc.${k}" must be a number`));
        return new IsingMcmcTarget({
          ...common,
          mcmc: { burnIn: mnum('burnIn'), thin: mnum('thin'), denoiseSweeps: mnum('denoiseSweeps'), denoiseBurnIn: mnum('denoiseBurnIn'), batches: mnum('batches'), seed: mnum('seed') },
        });
      }
      return new IsingTarget(common);
    }
    if (kind === 'factor-chain') {
      return new FactorChainTarget({ d: num('d'), coupling: num('coupling'), depth: opt('depth'), grid: opt('grid'), range: opt('range'), name: typeof spec.name === 'string' ? spec.name : undefined });
    }
    if (kind === 'conditional-ising') {
      // p(x | c) ∝ exp(x'Wx/2 + (h + B c)'x): the Ising model with the field h + B c. As for "ising":
      // enumeration for d <= 20, chains and trees of any d by belief propagation with the per-site field
      const d = num('d');
      if (!(Number.isInteger(d) && d >= 2)) return fail(`"d" = ${d}; it must be an integer >= 2`);
      const graph = spec.graph as IsingGraph;
      if (!ISING_GRAPHS.includes(graph)) return fail(`"graph" is ${JSON.stringify(spec.graph)}; it must be one of ${ISING_GRAPHS.join(', ')}`);
      const tree = ISING_TREE_GRAPHS.includes(graph);
      if (d > ISING_MAX_DIM && !tree) {
        return fail(`"d" = ${d} on graph "${String(graph)}"; the conditional Ising target is exact by enumeration for d <= ${ISING_MAX_DIM}, and beyond only on graphs ${ISING_TREE_GRAPHS.join(', ')} (belief propagation, any d)`);
      }
      const c = Float64Array.from(numberArray(spec.condition, '"condition" (the conditioning vector c)'));
      const m = c.length;
      let B: Float64Array;
      if (spec.B !== undefined) {
        const rows = matrix(spec.B, '"B" (d rows of one number per condition)');
        if (rows.length !== d || rows.some((r) => r.length !== m)) return fail(`"B" must be ${d} rows of ${m} numbers (d x the length of "condition")`);
        B = Float64Array.from(rows.flat());
      } else {
        const rng = new Rng(opt('seed') ?? 0);
        B = Float64Array.from({ length: d * m }, () => rng.normal() / Math.sqrt(Math.max(1, m)));
      }
      const field = opt('field') ?? 0;
      const h = new Float64Array(d);
      for (let i = 0; i < d; i++) {
        h[i] = field;
        for (let j = 0; j < m; j++) h[i] += B[i * m + j] * c[j];
      }
      const common = { graph, d, coupling: num('coupling'), field, fieldVector: h, p: opt('p'), seed: opt('seed'), branching: opt('branching'), name: typeof spec.name === 'string' ? spec.name : 'conditional-ising' };
      // chains and trees of any size: exact by belief propagation with the field h + B c at each site
      const target = d > ISING_MAX_DIM ? new IsingTreeTarget({ ...common, branching: graph === 'chain' ? 1 : (common.branching ?? 2) }) : new IsingTarget(common);
      const base = spec;
      CONDITIONING.set(target, {
        m,
        B,
        condition: c,
        at: (next: ArrayLike<number>): Target => {
          if (next.length !== m) throw new InputError(`${source}: a condition of this conditional Ising target has ${m} numbers, got ${next.length}`);
          return parseTargetSpec({ ...base, condition: Array.from(next) }, source);
        },
      });
      return target;
    }
    if (kind === 'sparse-coding') {
      const d = num('d');
      const k = num('k');
      let A: Float64Array | undefined;
      if (spec.A !== undefined) {
        const rows = matrix(spec.A, '"A" (d rows of k numbers)');
        if (rows.length !== d || rows.some((r) => r.length !== k)) return fail(`"A" must be ${d} rows of ${k} numbers (d x k)`);
        A = Float64Array.from(rows.flat());
      }
      const o = { d, k, rate: num('rate'), noise: num('noise'), codeScale: opt('codeScale'), A, seed: opt('seed'), name: typeof spec.name === 'string' ? spec.name : undefined };
      if (k > SPARSE_CODING_MAX_CODES) {
        // beyond the exact sum over 2^k supports: the importance-sampling reference (its error reported by estimate())
        if (k > SPARSE_CODING_MAX_REFERENCE_CODES) return fail(`"k" = ${k}; the sparse-coding target is exact for k <= ${SPARSE_CODING_MAX_CODES} and has an importance-sampling reference up to k = ${SPARSE_CODING_MAX_REFERENCE_CODES}`);
        return new SparseCodingReference({ ...o, samples: opt('samples'), referenceSeed: opt('referenceSeed') });
      }
      if (spec.samples !== undefined || spec.referenceSeed !== undefined) {
        return fail(`"${spec.samples !== undefined ? 'samples' : 'referenceSeed'}" is for the importance-sampling reference (k > ${SPARSE_CODING_MAX_CODES}); with k = ${k} the target is exact, so leave it out`);
      }
      return new SparseCodingTarget(o);
    }
    if (kind === 'rbm' || kind === 'binary-rbm') {
      const d = num('d');
      const H = num('hidden');
      let W: Float64Array | undefined;
      if (spec.W !== undefined) {
        const rows = matrix(spec.W, '"W" (d rows of hidden weights)');
        if (rows.length !== d || rows.some((r) => r.length !== H)) return fail(`"W" must be ${d} rows of ${H} numbers (d x hidden)`);
        W = Float64Array.from(rows.flat());
      }
      const vec = (k: string): Float64Array | undefined => (spec[k] === undefined ? undefined : Float64Array.from(numberArray(spec[k], `"${k}"`)));
      const o = { d, hidden: H, W, b: vec('b'), c: vec('c'), seed: opt('seed'), scale: opt('scale'), name: typeof spec.name === 'string' ? spec.name : undefined };
      return kind === 'rbm' ? new GaussianBernoulliRbm(o) : new BinaryRbm(o);
    }
    if (kind === 'empirical') {
      if (typeof spec.file === 'string') {
        const m = readMatrix(spec.file);
        return new EmpiricalTarget(m.data, m.cols, String(spec.name ?? 'empirical'));
      }
      const rows = matrix(spec.points, '"points" (or give "file")');
      if (rows.length === 0) return fail('"points" is empty; give at least one training point');
      const d = rows[0].length;
      rows.forEach((r, i) => r.length !== d && fail(`"points"[${i}] has ${r.length} coordinates, "points"[0] has ${d}`));
      return new EmpiricalTarget(Float64Array.from(rows.flat()), d, String(spec.name ?? 'empirical'));
    }
  } catch (err) {
    if (err instanceof InputError && !err.message.startsWith(source)) throw new InputError(`${source}: ${err.message}`);
    throw err;
  }
  if (typeof kind === 'string' && PLANNED_KINDS.includes(kind)) {
    return fail(`target kind "${kind}" is not implemented yet; implemented kinds: ${IMPLEMENTED_KINDS.join(', ')}`);
  }
  return fail(`"kind" is ${JSON.stringify(kind)}; it must be one of ${IMPLEMENTED_KINDS.join(', ')}`);
}

/** A built-in target name, a JSON file, or inline JSON text. */
export function resolveTarget(arg: string): Target {
  if (arg in BUILTIN_TARGETS) return parseTargetSpec({ name: arg, ...BUILTIN_TARGETS[arg].spec }, `built-in target "${arg}"`);
  if (arg.trim().startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(arg);
    } catch (err) {
      throw new InputError(`the inline target spec is not valid JSON (${(err as Error).message})`);
    }
    return parseTargetSpec(json, 'inline target spec');
  }
  let text: string;
  try {
    text = fs.readFileSync(arg, 'utf8');
  } catch (err) {
    if (hasErrorCode(err, 'ENOENT', 'EISDIR', 'ENOTDIR')) {
      throw new InputError(
        `target "${arg}" is neither a built-in target (${Object.keys(BUILTIN_TARGETS).join(', ')}) nor a readable spec file`,
      );
    }
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(`target spec file "${arg}" is not valid JSON (${(err as Error).message})`);
  }
  return parseTargetSpec(json, `target spec file "${arg}"`);
}

/** Exact mean and covariance (row-major) of an implemented target. */
export function targetMoments(t: Target): { mean: Float64Array; cov: Float64Array } {
  if (t instanceof GaussianTarget) return { mean: t.mean, cov: t.cov };
  if (t instanceof MixtureTarget) {
    const d = t.dim;
    const mean = new Float64Array(d);
    const cov = new Float64Array(d * d);
    t.components.forEach((c, k) => {
      const w = t.weights[k];
      for (let i = 0; i < d; i++) mean[i] += w * c.mean[i];
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i * d + j] += w * (c.cov[i * d + j] + c.mean[i] * c.mean[j]);
    });
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i * d + j] -= mean[i] * mean[j];
    return { mean, cov };
  }
  if (t instanceof EmpiricalTarget) {
    const d = t.dim;
    const N = t.count;
    const mean = new Float64Array(d);
    for (let k = 0; k < N; k++) for (let i = 0; i < d; i++) mean[i] += t.points[k * d + i] / N;
    const cov = new Float64Array(d * d);
    for (let k = 0; k < N; k++) {
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i * d + j] += ((t.points[k * d + i] - mean[i]) * (t.points[k * d + j] - mean[j])) / N;
    }
    return { mean, cov };
  }
  if (t instanceof EnergyTarget) {
    const { mean, variance } = t.moments();
    return { mean: Float64Array.of(mean), cov: Float64Array.of(variance) };
  }
  if (t instanceof IsingTarget) {
    const d = t.dim;
    const probs = t.stateProbabilities();
    const mean = new Float64Array(d);
    const cov = new Float64Array(d * d);
    for (let st = 0; st < probs.length; st++) {
      for (let i = 0; i < d; i++) {
        const xi = (st >> i) & 1 ? 1 : -1;
        mean[i] += probs[st] * xi;
        for (let j = 0; j < d; j++) cov[i * d + j] += probs[st] * xi * ((st >> j) & 1 ? 1 : -1);
      }
    }
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i * d + j] -= mean[i] * mean[j];
    return { mean, cov };
  }
  if (t instanceof GaussianBernoulliRbm) return t.moments();
  if (t instanceof GmrfTarget && t.dim <= 4000) return { mean: new Float64Array(t.dim).fill(t.mean), cov: t.covariance() };
  throw new InputError(`exact moments are not available for target "${t.name}" (d = ${t.dim}); metrics needs a gaussian, mixture, empirical, rbm, ising (d <= 20), energy or gmrf (d <= 4000) target`);
}
