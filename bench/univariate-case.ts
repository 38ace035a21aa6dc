/**
 * One benchmark case in its own process, so that its peak memory (maxRSS) is its own.
 * argv: objective n beta-spec solver timeLimit seed ; prints one JSON line.
 */
import { buildUnivariateProgram } from '../src/programs/univariate.js';
import { solveUnivariate, type SolverName } from '../src/programs/solve.js';
import { sampleMixture1D, DEMO_MIXTURE } from '../src/targets/mixture1d.js';
import { Rng } from '../src/util/random.js';

const [objective, nArg, betaSpec, solver, timeLimitArg, seedArg] = process.argv.slice(2);
const n = Number(nArg);
const seed = Number(seedArg ?? 1);
const timeLimit = Number(timeLimitArg);
const x = sampleMixture1D(DEMO_MIXTURE, n, seed);
const sigma = 0.1;
let xt: Float64Array | undefined;
if (objective === 'dsm') {
  const rng = new Rng(seed + 7);
  xt = x.map((v) => v + sigma * rng.normal());
}
// beta: a number, "k/n", or "k*sd(y)/n" (the DSM scale of the scikit-learn reference)
let beta: number;
if (betaSpec.endsWith('sd/n')) {
  let s1 = 0, s2 = 0;
  for (let i = 0; i < n; i++) {
    const y = -(xt![i] - x[i]) / (sigma * sigma);
    s1 += y;
    s2 += y * y;
  }
  const sd = Math.sqrt(s2 / n - (s1 / n) ** 2);
  beta = (Number(betaSpec.slice(0, -4)) * sd) / n;
} else if (betaSpec.endsWith('/n')) beta = Number(betaSpec.slice(0, -2)) / n;
else beta = Number(betaSpec);

const t0 = performance.now();
const prog = buildUnivariateProgram({ objective: objective as 'sm' | 'dsm', x, xt, sigma, beta });
const sol = solveUnivariate(prog, { solver: solver as SolverName, tol: 1e-8, timeLimit, maxIter: solver === 'banded' || solver === 'auto' ? 300 : 10_000_000 });
const seconds = (performance.now() - t0) / 1000;
let neurons = 0;
for (const v of sol.z) if (v !== 0) neurons++;
process.stdout.write(
  JSON.stringify({
    objective,
    n,
    beta,
    solver,
    usedSolver: sol.solver,
    status: sol.status,
    seconds,
    iterations: sol.iterations,
    relativeGap: sol.certificate.relativeGap,
    kktResidual: sol.certificate.kktResidual,
    objectiveValue: sol.convexObjective,
    neurons,
    peakMB: process.resourceUsage().maxRSS / 1024,
  }) + '\n',
);
