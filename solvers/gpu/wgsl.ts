/**
 * WGSL shared by the GPU solvers.
 *
 * Two-float arithmetic: an iterate is the unevaluated sum hi + lo of two float32s (about 48 bits).
 * FISTA with float32 iterates stalls near a relative gap of 1e-5 (a step below half an ulp of x is
 * lost); float32 gradients do not stall it (measured: docs/gpu.md). The error-free sums multiply by
 * `one`, a uniform equal to 1 that the shader compiler cannot see, so that it cannot simplify them
 * away algebraically (Mesa's compiler does, without it: twoSum(1, 1e-8) came out as (1, 0)).
 */
export function twoFloatWgsl(one: string): string {
  return `struct TF { h: vec4<f32>, l: vec4<f32> }
fn twoSum(a: vec4<f32>, b: vec4<f32>) -> TF {
  let one = ${one};
  let s = (a + b) * one;
  let bb = (s - a) * one;
  return TF(s, (a - (s - bb) * one) + (b - bb));
}
fn quick(a: vec4<f32>, b: vec4<f32>) -> TF {
  let s = (a + b) * ${one};
  return TF(s, b - (s - a) * ${one});
}
fn add(x: TF, d: vec4<f32>) -> TF {
  let t = twoSum(x.h, d);
  return quick(t.h, t.l + x.l);
}`;
}

/** A workgroup tree reduction of `arr[lid.x]` (size wg, a power of 2) with `op` ('+', 'max' or 'min'); every thread reaches the barriers. */
export function reduceWgsl(arr: string, wg: number, op: '+' | 'max' | 'min' = '+'): string {
  const combine = op === '+' ? `${arr}[lid.x] += ${arr}[lid.x + st];` : `${arr}[lid.x] = ${op}(${arr}[lid.x], ${arr}[lid.x + st]);`;
  return `  workgroupBarrier();
  for (var st = ${wg / 2}u; st > 0u; st >>= 1u) {
    if (lid.x < st) { ${combine} }
    workgroupBarrier();
  }`;
}
