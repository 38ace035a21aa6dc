/**
 * One Maros-Meszaros benchmark case in its own process (so a runaway case can be killed and its
 * memory is its own). argv: file setting(low|mid) variant(osqp|auto|paper) timeLimit ; prints one JSON line.
 */
import { readQpProblem } from '../src/io/qp-problem.js';
import { solveQpWith } from '../solvers/osqp/auto.js';
import { qpResiduals, isSolvedAt } from '../solvers/osqp/residuals.js';
import { benchSettings, type BenchSetting, type BenchVariant } from './maros-meszaros-settings.js';

const [file, setting, variant, timeLimitArg] = process.argv.slice(2);
const prob = readQpProblem(file);
const { settings, eps } = benchSettings(setting as BenchSetting, variant as BenchVariant, Number(timeLimitArg));
const r = solveQpWith(prob, { settings, method: variant === 'auto' ? 'auto' : 'osqp' });
const res = qpResiduals(prob, r.x, r.y);
console.log(
  JSON.stringify({
    problem: prob.name,
    n: prob.n,
    m: prob.m,
    setting,
    variant,
    status: r.status,
    method: r.method,
    solved: isSolvedAt(res, eps),
    iterations: r.iterations,
    runtime_s: r.seconds,
    setup_s: r.setupSeconds,
    polish: r.polish,
    objective: res.objective,
    primal_residual: res.primalResidual,
    dual_residual: res.dualResidual,
    duality_gap: res.dualityGap,
    factor_nnz: r.factorNnz,
    rho_updates: r.rhoUpdates,
  }),
);
