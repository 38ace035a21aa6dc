/**
 * One Maros-Meszaros benchmark case in its own process (so a runaway case can be killed and its
 * memory is its own). argv: file setting(low|mid) variant(osqp|auto|paper|baseline) timeLimit [warm]
 * [prime] [codeRoot]; prints one JSON line.
 * warm = K > 0: the problem is then solved K more times in the same process (V8 has compiled and
 * optimized the code by then, as for a library user's later calls); the median of those runs' times
 * and iterations is reported, and warm_solved says whether every one of them solved.
 * prime = K > 0: before the timed solve the process solves K rounds of the seeded priming QPs of
 * ./qp-priming.ts with the same method and settings (so V8 has compiled the solver's code, as the C
 * library's is; the problem itself is new to the process). The row's primed_s says how long that took.
 * codeRoot: the dist/ directory of another build (e.g. an earlier commit) whose solver is timed instead
 * of this one; the answer is judged by this build's residuals either way.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { qpResiduals, isSolvedAt } from '../solvers/osqp/residuals.js';
import type { QpProblem } from '../solvers/osqp/csc.js';
import type { solveQpWith as SolveQpWith } from '../solvers/osqp/auto.js';
import { benchSettings, type BenchSetting, type BenchVariant } from './maros-meszaros-settings.js';
import { primeQpSolver } from './qp-priming.js';

const [file, setting, variant, timeLimitArg, warmArg, primeArg, codeRoot] = process.argv.slice(2);
const root = codeRoot ? pathToFileURL(path.resolve(codeRoot) + '/').href : new URL('../', import.meta.url).href;
const { readQpProblem } = (await import(new URL('src/io/qp-problem.js', root).href)) as { readQpProblem: (f: string) => QpProblem };
const { solveQpWith } = (await import(new URL('solvers/osqp/auto.js', root).href)) as { solveQpWith: typeof SolveQpWith };
const prob = readQpProblem(file);
const { settings, eps } = benchSettings(setting as BenchSetting, variant as BenchVariant, Number(timeLimitArg));
const method = variant === 'auto' ? 'auto' : 'osqp';
const solveOne = (p: QpProblem): ReturnType<typeof SolveQpWith> => solveQpWith(p, { settings, method });
const solve = (): ReturnType<typeof SolveQpWith> => solveOne(prob);
const primeRounds = Math.max(0, Math.floor(Number(primeArg ?? 0)) || 0);
const primedSeconds = primeRounds > 0 ? primeQpSolver(solveOne, primeRounds) : 0;
const r = solve();
const res = qpResiduals(prob, r.x, r.y);
const warmRuns = Array.from({ length: Math.max(0, Number(warmArg ?? 0) || 0) }, () => {
  const w = solve();
  return { seconds: w.seconds, iterations: w.iterations, solved: isSolvedAt(qpResiduals(prob, w.x, w.y), eps) };
});
const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
};
const warm =
  warmRuns.length > 0
    ? {
        seconds: median(warmRuns.map((w) => w.seconds)),
        iterations: median(warmRuns.map((w) => w.iterations)),
        solved: warmRuns.every((w) => w.solved),
      }
    : null;
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
    ...(primeRounds > 0 ? { prime_rounds: primeRounds, primed_s: primedSeconds } : {}),
    ...(warm ? { warm_runtime_s: warm.seconds, warm_iterations: warm.iterations, warm_solved: warm.solved } : {}),
  }),
);
