/**
 * Priming a benchmark process before it times a QP solve (bench/maros-meszaros.ts --prime K).
 *
 * Why: OSQP C's reference runtimes are its own timer (setup + solve + polish) in a process where its
 * machine code is loaded; ours are JavaScript that V8 compiles while it runs. The first solve in a fresh
 * Node process pays that compilation (parsing, the interpreter, then the optimizing tiers): on problems
 * C solves in 40 us that first solve takes 100 to 250 times C's time, and a later one about C's time;
 * it is paid once per process, not per solve. A primed process has solved K rounds of the seeded QPs below (none of them from the test
 * set) with the same method and settings; the problem under test is then solved for the first time in
 * it, so everything that depends on its data (scaling, ordering, factorizations, iterations, polishing)
 * is in the timed solve and only the compilation of the code is not, as for the C library.
 */
import type { QpProblem } from '../solvers/osqp/csc.js';
import { dualInfeasibleQp, primalInfeasibleQp, randomQp } from '../src/util/random-qp.js';

/**
 * The priming set: small and mid-sized feasible QPs (dense and sparse, equality rows, a singular P with
 * box rows, one large enough for the WebAssembly kernels), a primal and a dual infeasible one.
 */
export function primingProblems(): QpProblem[] {
  return [
    randomQp({ n: 3, m: 4, seed: 101 }),
    randomQp({ n: 8, m: 12, equalities: 2, seed: 102 }),
    randomQp({ n: 12, m: 6, pRank: 6, seed: 103 }),
    randomQp({ n: 40, m: 60, kind: 'sparse', density: 0.1, equalities: 5, seed: 104 }),
    randomQp({ n: 300, m: 400, kind: 'sparse', density: 0.01, equalities: 20, seed: 105 }),
    primalInfeasibleQp(106),
    dualInfeasibleQp(107),
  ];
}

/** Solves the priming set `rounds` times with `solve`; returns the seconds it took (not part of any timing). */
export function primeQpSolver(solve: (p: QpProblem) => unknown, rounds: number): number {
  const t0 = performance.now();
  const problems = primingProblems();
  for (let r = 0; r < rounds; r++) for (const p of problems) solve(p);
  return (performance.now() - t0) / 1000;
}
