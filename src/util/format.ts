/** Number formatting shared by the reports and the CLI. */

/** Short scientific notation without trailing zeros: 3.1e-12, 1e-8; Infinity and NaN as words. */
export function sci(v: number): string {
  if (!Number.isFinite(v) || v === 0) return String(v);
  const [mantissa, exponent] = v.toExponential(2).split('e');
  return `${mantissa.replace(/\.?0+$/, '')}e${exponent.replace('+', '')}`;
}
