/**
 * OSQP settings, with OSQP's names and defaults (Stellato et al., "OSQP: an operator splitting
 * solver for quadratic programs", Math. Prog. Comp. 2020, and the OSQP documentation), plus a few
 * of our own, marked as such.
 */
import { InputError } from '../errors.js';

export type LinsysSolver = 'direct' | 'indirect';

export interface OsqpSettings {
  /** ADMM step size rho (inequality rows; equality rows use rho * 1e3, free rows 1e-6) */
  rho: number;
  /** regularization of the x-update */
  sigma: number;
  /** over-relaxation, in (0, 2) */
  alpha: number;
  eps_abs: number;
  eps_rel: number;
  eps_prim_inf: number;
  eps_dual_inf: number;
  max_iter: number;
  /** modified Ruiz equilibration iterations (0: no scaling) */
  scaling: number;
  adaptive_rho: boolean;
  /** iterations between rho updates; 0: chosen from the measured factorization and iteration times */
  adaptive_rho_interval: number;
  /** update rho only when the new value differs by more than this factor */
  adaptive_rho_tolerance: number;
  /** with adaptive_rho_interval 0: update once the iterations have cost this fraction of the setup time */
  adaptive_rho_fraction: number;
  polish: boolean;
  /** regularization of the polishing KKT system */
  delta: number;
  polish_refine_iter: number;
  /** check termination every this many iterations (0: only at max_iter) */
  check_termination: number;
  /** seconds, 0: no limit */
  time_limit: number;
  warm_starting: boolean;
  /** check the termination criteria on the scaled problem (OSQP's option; default off) */
  scaled_termination: boolean;
  /** ours: how the linear systems are solved */
  linsys_solver: LinsysSolver;
  /**
   * ours: with polish on, also try polishing during the iterations once the guessed active set has
   * stayed the same over this many termination checks, and stop when the polished point meets the
   * termination criteria (0: polish only at the end, as OSQP does)
   */
  polish_early_checks: number;
  /**
   * ours: the largest accepted duality gap |x'Px + q'x + u'max(y,0) + l'min(y,0)| on the original data
   * (qpbenchmark's gap, ./residuals.ts), in absolute terms. 0 (default): OSQP's termination ignores the
   * gap, as OSQP's does, and the gap counts as met (result.gapMet) when it is at most
   * eps_abs + eps_rel * max(|x'Px|, |q'x|, |u'max(y,0) + l'min(y,0)|). Above 0: 'solved' also needs
   * gap <= gap_tolerance, and the iterations go on until it holds (qpbenchmark's rule at eps is
   * eps_abs = gap_tolerance = eps, eps_rel = 0).
   */
  gap_tolerance: number;
}

export const DEFAULT_SETTINGS: Readonly<OsqpSettings> = Object.freeze({
  rho: 0.1,
  sigma: 1e-6,
  alpha: 1.6,
  eps_abs: 1e-3,
  eps_rel: 1e-3,
  eps_prim_inf: 1e-4,
  eps_dual_inf: 1e-4,
  max_iter: 4000,
  scaling: 10,
  adaptive_rho: true,
  adaptive_rho_interval: 0,
  adaptive_rho_tolerance: 5,
  adaptive_rho_fraction: 0.4,
  polish: false,
  delta: 1e-6,
  polish_refine_iter: 3,
  check_termination: 25,
  time_limit: 0,
  warm_starting: true,
  scaled_termination: false,
  linsys_solver: 'direct',
  polish_early_checks: 3,
  gap_tolerance: 0,
});

type NumericKey = { [K in keyof OsqpSettings]: OsqpSettings[K] extends number ? K : never }[keyof OsqpSettings];

const RANGES: Record<NumericKey, { min: number; max: number; minOpen?: boolean; maxOpen?: boolean; integer?: boolean }> = {
  rho: { min: 0, max: Infinity, minOpen: true, maxOpen: true },
  sigma: { min: 0, max: Infinity, minOpen: true, maxOpen: true },
  alpha: { min: 0, max: 2, minOpen: true, maxOpen: true },
  eps_abs: { min: 0, max: Infinity, maxOpen: true },
  eps_rel: { min: 0, max: Infinity, maxOpen: true },
  eps_prim_inf: { min: 0, max: Infinity, minOpen: true, maxOpen: true },
  eps_dual_inf: { min: 0, max: Infinity, minOpen: true, maxOpen: true },
  max_iter: { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true },
  scaling: { min: 0, max: 1000, integer: true },
  adaptive_rho_interval: { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true },
  adaptive_rho_tolerance: { min: 1, max: Infinity, maxOpen: true },
  adaptive_rho_fraction: { min: 0, max: Infinity, minOpen: true, maxOpen: true },
  delta: { min: 0, max: Infinity, minOpen: true, maxOpen: true },
  polish_refine_iter: { min: 0, max: 1000, integer: true },
  check_termination: { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true },
  time_limit: { min: 0, max: Infinity, maxOpen: true },
  polish_early_checks: { min: 0, max: 1e6, integer: true },
  gap_tolerance: { min: 0, max: Infinity, maxOpen: true },
};

/** Defaults overridden by `given`; every value is checked, with a message naming the setting and its range. */
export function resolveSettings(given: Partial<OsqpSettings> = {}): OsqpSettings {
  const s: OsqpSettings = { ...DEFAULT_SETTINGS };
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_SETTINGS)) {
      throw new InputError(`unknown OSQP setting "${key}"; known settings: ${Object.keys(DEFAULT_SETTINGS).join(', ')}`);
    }
    (s as unknown as Record<string, unknown>)[key] = value;
  }
  for (const key of Object.keys(RANGES) as NumericKey[]) {
    const v = s[key];
    const r = RANGES[key];
    const lo = r.minOpen ? v > r.min : v >= r.min;
    const hi = r.maxOpen ? v < r.max : v <= r.max;
    if (typeof v !== 'number' || Number.isNaN(v) || !lo || !hi || (r.integer && !Number.isInteger(v))) {
      const range = `${r.minOpen ? '(' : '['}${r.min}, ${r.max === Infinity ? 'inf' : r.max}${r.maxOpen ? ')' : ']'}`;
      throw new InputError(
        `OSQP setting ${key} = ${String(v)} is out of range; it must be ${r.integer ? 'an integer ' : 'a number '}in ${range}`,
      );
    }
  }
  if (s.eps_abs === 0 && s.eps_rel === 0) {
    throw new InputError('OSQP settings eps_abs and eps_rel are both 0; at least one must be positive');
  }
  for (const key of ['adaptive_rho', 'polish', 'warm_starting', 'scaled_termination'] as const) {
    if (typeof s[key] !== 'boolean') throw new InputError(`OSQP setting ${key} must be true or false, got ${String(s[key])}`);
  }
  if (s.linsys_solver !== 'direct' && s.linsys_solver !== 'indirect') {
    throw new InputError(`OSQP setting linsys_solver must be "direct" or "indirect", got "${String(s.linsys_solver)}"`);
  }
  return s;
}
