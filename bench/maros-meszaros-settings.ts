/** The two benchmark settings, for our solver ("ours") and for the paper's algorithm alone ("paper"). */
import type { OsqpSettings } from '../solvers/osqp/settings.js';

/** low and mid: the issue's settings; low_polish: low with polishing on, OSQP 1.0.0's setting a in the reference CSV */
export type BenchSetting = 'low' | 'low_polish' | 'mid';
/**
 * osqp : our OSQP (early polishing when polish is on, checked infeasibility verdicts);
 * auto : OSQP, then the interior-point fallback (solvers/osqp/auto.ts);
 * paper: our OSQP with polishing at the end only, as the paper and OSQP do;
 * baseline: our OSQP from another build (--baseline DIR, e.g. the previous commit's dist/), same settings.
 */
export type BenchVariant = 'osqp' | 'auto' | 'paper' | 'baseline';

export function benchSettings(
  setting: BenchSetting,
  variant: BenchVariant,
  timeLimit: number,
): { settings: Partial<OsqpSettings>; eps: number } {
  const base: Partial<OsqpSettings> =
    setting === 'low' || setting === 'low_polish'
      ? { eps_abs: 1e-3, eps_rel: 0, max_iter: 4000, polish: setting === 'low_polish' }
      : { eps_abs: 1e-6, eps_rel: 0, max_iter: 100000, polish: true };
  const settings: Partial<OsqpSettings> = { ...base, time_limit: timeLimit };
  if (variant === 'paper') settings.polish_early_checks = 0;
  return { settings, eps: setting === 'mid' ? 1e-6 : 1e-3 };
}
