/** The two benchmark settings, for our solver ("ours") and for the paper's algorithm alone ("paper"). */
import type { OsqpSettings } from '../solvers/osqp/settings.js';

export type BenchSetting = 'low' | 'mid';
/** ours: the defaults (early polishing when polish is on); paper: polishing at the end only, as OSQP does */
export type BenchVariant = 'ours' | 'paper';

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
