/**
 * One case of bench/univariate-ipm.ts in its own process (its peak memory is its own).
 * argv: objective n beta-spec solver timeLimit seed ; prints one JSON line. beta-spec: a number,
 * "k/n", or "ksd/n" (k sd(y) / n with y = -(xt - x) / sigma^2, the DSM scale).
 */
import { buildUnivariateProgram } from '../src/programs/univariate.js';
import { solveUnivariate, type SolverName } from '../src/programs/solve.js';
import { solveUnivariateWorkingSet } from '../src/programs/univariate-ws.js';
import { isCertified } from '../solvers/certificates.js';
import { sampleMixture1D, DEMO_MIXTURE } from '../src/targets/mixture1d.js';
import { Rng } from '../src/util/random.js';
import { dsmReferenceBeta } from './univariate.js';

const [objective, nArg, betaSpec, solver, timeLimitArg, seedArg] = process.argv.slice(2);
const n = Number(nArg);
const seed = Number(seedArg);
const timeLimit = Number(timeLimitArg);
const sigma = 0.1;
const x = sampleMixture1D(DEMO_MIXTURE, n, seed);
let xt: Float64Array | undefined;
if (objective === 'dsm') {
  const rng = new Rng(seed + 7);
  xt = x.map((v) => v + sigma * rng.normal());
}
let beta: number;
if (betaSpec.endsWith('sd/n')) {
  beta = dsmReferenceBeta(x, xt!, sigma, Number(betaSpec.slice(0, -4)));
} else if (betaSpec.endsWith('/n')) beta = Number(betaSpec.slice(0, -2)) / n;
else beta = Number(betaSpec);

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const prog = buildUnivariateProgram({ objective: objective as 'sm' | 'dsm', x, xt, sigma, beta });
const buildCpu = process.cpuUsage(cpu0);
// "ws4": the working-set method on SM's four-slot program (the path before the merged form)
const sol =
  solver === 'ws4'
    ? (() => {
        const r = solveUnivariateWorkingSet(prog, { tol: 1e-8, timeLimit, mergeSm: false });
        const status = isCertified(r.certificate, 1e-8) ? 'optimal' : r.stop;
        return { solver: 'ws4', status, iterations: r.iterations, certificate: r.certificate, convexObjective: r.certificate.primalObjective + prog.targetConstant, z: r.z };
      })()
    : solveUnivariate(prog, { solver: solver as SolverName, tol: 1e-8, timeLimit });
const cpu = process.cpuUsage(cpu0);
let neurons = 0;
for (const v of sol.z) if (v !== 0) neurons++;
process.stdout.write(
  JSON.stringify({
    objective,
    n,
    betaSpec,
    beta,
    solver,
    usedSolver: sol.solver,
    status: sol.status,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    buildCpuSeconds: (buildCpu.user + buildCpu.system) / 1e6,
    wallSeconds: (performance.now() - t0) / 1000,
    iterations: sol.iterations,
    relativeGap: sol.certificate.relativeGap,
    kktResidual: sol.certificate.kktResidual,
    objectiveValue: sol.convexObjective,
    neurons,
    peakMB: process.resourceUsage().maxRSS / 1024,
  }) + '\n',
);
