/**
 * What the HiGHS-based reference solvers (highs-lasso.ts, highs-qp.ts) share: the module loader,
 * the options that make HiGHS accurate, and LP-format number formatting. Test-only.
 */
import type { Highs } from 'highs';

let highsPromise: Promise<Highs> | undefined;

/** The HiGHS WebAssembly module, loaded once (again after resetHighs()). */
export function getHighs(): Promise<Highs> {
  highsPromise ??= import('highs').then((m) => {
    // The ESM build's default export is the loader; under NodeNext the package's CommonJS-typed
    // declarations make TypeScript see it one `.default` deeper, so accept either shape.
    const d: unknown = m.default;
    const load = (typeof d === 'function' ? d : (d as { default: unknown }).default) as () => Promise<Highs>;
    return load();
  });
  return highsPromise;
}

/** Drops the loaded module: an abort inside HiGHS leaves the WebAssembly instance unusable. */
export function resetHighs(): void {
  highsPromise = undefined;
}

/** Options for an accurate solve. The QP (active-set) solver adds a proximal regularization
 *  (qp_regularization_value, default 1e-7) that biases the solution by O(1e-7) and can turn an unbounded
 *  problem into a spurious "Optimal" one; we switch it off. Tolerances are set to the smallest values HiGHS
 *  accepts. The time limit guards against the active-set solver stalling (seen on unbounded instances). */
export const HIGHS_OPTIONS = {
  output_flag: false,
  qp_regularization_value: 0,
  primal_feasibility_tolerance: 1e-10,
  dual_feasibility_tolerance: 1e-10,
  ipm_optimality_tolerance: 1e-12,
  time_limit: 60,
};

/** Full-precision decimal for a finite number (shortest round-trip form). */
export function num(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`HiGHS LP writer: non-finite coefficient ${x}`);
  return String(x);
}

/** Appends " + a name" / " - |a| name" (nothing for a = 0). */
export function term(a: number, name: string): string {
  if (a === 0) return '';
  return `${a < 0 ? ' -' : ' +'} ${num(Math.abs(a))} ${name}`;
}
