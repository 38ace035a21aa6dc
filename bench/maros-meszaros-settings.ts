/** The two benchmark settings, for our solver ("ours") and for the paper's algorithm alone ("paper"). */
import type { OsqpSettings } from '../solvers/osqp/settings.js';

export type BenchSetting = 'low' | 'mid';
/**
 * osqp : our OSQP (early polishing when polish is on, checked infeasibility verdicts);
 * auto : OSQP, then the interior-point fallback (solvers/osqp/auto.ts);
 * paper: our OSQP with polishing at the end only, as the paper and OSQP do.
 */
export type BenchVariant = 'osqp' | 'auto' | 'paper';

export function benchSettings(
  setting: BenchSetting,
  variant: BenchVariant,
  timeLimit: number,
): { settings: Partial<OsqpSettings>; eps: number } {
  const base: Partial<OsqpSettings> =
    setting === 'low'
      ? { eps_abs: 1e-3, eps_rel: 0, max_iter: 4000 }
      : { eps_abs: 1e-6, eps_rel: 0, max_iter: 100000, polish: true };
  const settings: Partial<OsqpSettings> = { ...base, time_limit: timeLimit };
  if (variant === 'paper') settings.polish_early_checks = 0;
  return { settings, eps: setting === 'low' ? 1e-3 : 1e-6 };
}
