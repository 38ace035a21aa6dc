import { it } from 'vitest';
import { highsQp } from './helpers/highs-qp.js';
import { randomQp } from './helpers/random-qp.js';

it('explore', async () => {
  const cfgs: [string, Parameters<typeof randomQp>[0]][] = [];
  for (const seed of [1, 2, 3, 4]) {
    for (const sc of [0, 1]) {
    cfgs.push([`eq20 s${seed} sc${sc}`, { n: 200, m: 300, seed, equalities: 20, slackScale: sc } as never]);
    cfgs.push([`eq0 s${seed} sc${sc}`, { n: 200, m: 300, seed, slackScale: sc } as never]);
    cfgs.push([`rank s${seed} sc${sc}`, { n: 200, m: 100, seed, slackScale: sc, pRank: 50 } as never]);
    cfgs.push([`sparse s${seed} sc${sc}`, { n: 200, m: 300, seed, slackScale: sc, kind: 'sparse', density: 0.1, equalities: 10 } as never]);
    }
  }
  const optsets = { accurate: {}, loose: { qp_regularization_value: 1e-7, primal_feasibility_tolerance: 1e-7, dual_feasibility_tolerance: 1e-7 } };
  for (const [label, c] of cfgs) {
    for (const [on, o] of Object.entries(optsets)) {
      const p = randomQp(c);
      const t = performance.now();
      let s;
      try { s = await highsQp(p, o); } catch (e) { console.log(label, 'THROW', (performance.now() - t).toFixed(0), 'ms'); continue; }
      const r = s.residuals!;
      console.log(label.padEnd(14), on.padEnd(9), s.status.padEnd(30), s.highsStatus.padEnd(24), s.polished, r.primalResidual.toExponential(1), r.dualResidual.toExponential(1), r.dualityGap.toExponential(1), (performance.now() - t).toFixed(0), 'ms');
    }
  }
}, 600_000);
