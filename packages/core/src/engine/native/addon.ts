// Locating and loading the compiled addon (packages/core/build/Release/dlcv_native.node).
import * as fs from 'fs';
import * as path from 'path';

type F32 = Float32Array;
type Ints = number[];

/** The raw N-API surface of dlcv_native.node. All outputs are caller-allocated. */
export interface NativeAddon {
  info(): { dnnl: string; threads: number };
  setThreads(n: number): void;
  /** One line per cached convolution primitive: direction, shape, and the oneDNN implementation. */
  convImplementations(): string[];
  /** The op code tables of native/src/op_codes.h: { unary: { Relu: 0, ... }, unaryGrad, binary, compare, reduce }. */
  opCodes(): Record<'unary' | 'unaryGrad' | 'binary' | 'compare' | 'reduce', Record<string, number>>;
  /** params: n,h,w,c, kh,kw,o, oh,ow, sh,sw, pt,pb,pl,pr, dh,dw */
  conv2d(x: F32, w: F32, y: F32, params: Ints, bias?: F32 | null): void;
  conv2dBackpropInput(dy: F32, w: F32, dx: F32, params: Ints): void;
  conv2dBackpropFilter(x: F32, dy: F32, dw: F32, params: Ints): void;
  matmul(a: F32, b: F32, out: F32, batchA: number, batchB: number, m: number, k: number, n: number, transA: number, transB: number): void;
  binary(op: number, a: F32, aShape: Ints, b: F32, bShape: Ints, out: F32, outShape: Ints): void;
  compare(op: number, a: F32, aShape: Ints, b: F32, bShape: Ints, out: Uint8Array, outShape: Ints): void;
  unary(op: number, x: F32, out: F32, alpha: number, beta: number): void;
  /** op: 0 elu (saved y), 1 relu (x), 2 leakyRelu (x, alpha), 3 sigmoid (y), 4 tanh (y), 5 gelu (x) */
  unaryGrad(op: number, dy: F32, saved: F32, out: F32, alpha: number): void;
  select(cond: Uint8Array, a: F32, b: F32, out: F32): void;
  reduce(op: number, x: F32, A: number, R: number, B: number, out: F32): void;
  argReduce(isMax: number, x: F32, A: number, R: number, B: number, out: Int32Array): void;
  transpose(x: F32, shape: Ints, perm: Ints, out: F32): void;
  tile(x: F32, shape: Ints, reps: Ints, out: F32): void;
  slice(x: F32, shape: Ints, begin: Ints, size: Ints, out: F32): void;
  pad(x: F32, shape: Ints, before: Ints, outShape: Ints, value: number, out: F32): void;
  concat(xs: F32[], widths: Ints, outer: number, out: F32): void;
  /** params: n,h,w,c, oh,ow, kh,kw, sh,sw, pt,pl, dh,dw */
  maxPool(x: F32, y: F32, params: Ints): void;
  avgPool(x: F32, y: F32, params: Ints): void;
  maxPoolGrad(dy: F32, x: F32, dx: F32, params: Ints): void;
  avgPoolGrad(dy: F32, dx: F32, params: Ints): void;
  batchNorm(x: F32, rows: number, c: number, mean: F32, variance: F32, scale: F32 | null, offset: F32 | null, eps: number, out: F32): void;
  batchNormTrain(x: F32, rows: number, c: number, scale: F32 | null, offset: F32 | null, eps: number, y: F32, mean: F32, variance: F32, invStd: F32): void;
  batchNormTrainGrad(dy: F32, x: F32, rows: number, c: number, scale: F32 | null, mean: F32, invStd: F32, dx: F32, dscale: F32, doffset: F32): void;
  groupNorm(x: F32, n: number, s: number, c: number, groups: number, scale: F32 | null, offset: F32 | null, eps: number, y: F32, mean: F32, invStd: F32): void;
  groupNormGrad(dy: F32, x: F32, n: number, s: number, c: number, groups: number, scale: F32 | null, mean: F32, invStd: F32, dx: F32, dscale: F32, doffset: F32): void;
  /** out[i] = 0 where the i-th uniform of the Rng at state ([stateHi, stateLo, incHi, incLo]) is below p, else value. */
  dropoutMask(out: F32, state: Ints, p: number, value: number): void;
  adam(
    v: F32,
    g: F32,
    m: F32,
    s: F32,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    oneMinusAccBeta1: number,
    oneMinusAccBeta2: number,
    outV: F32,
    outM: F32,
    outS: F32,
  ): void;
}

/** Where the addon may be: $DLCV_NATIVE_PATH, then build/Release of the core package. */
export function addonCandidates(): string[] {
  const out: string[] = [];
  if (process.env.DLCV_NATIVE_PATH) out.push(path.resolve(process.env.DLCV_NATIVE_PATH));
  // src/engine/native (jest, ts) and dist/engine/native (built) are both three levels below core.
  out.push(path.resolve(__dirname, '..', '..', '..', 'build', 'Release', 'dlcv_native.node'));
  return out;
}

export function loadAddon(): { addon: NativeAddon; file: string } | { error: string } {
  if (process.env.DLCV_NATIVE === '0') return { error: 'native engine disabled (DLCV_NATIVE=0)' };
  const candidates = addonCandidates();
  const file = candidates.find((p) => fs.existsSync(p));
  if (!file) {
    return { error: `native addon not built (looked for ${candidates.join(', ')}; run \`node packages/core/scripts/build-native.js\`, needs libdnnl-dev)` };
  }
  try {
    const addon = require(file) as NativeAddon;
    addon.info();
    return { addon, file };
  } catch (e) {
    return { error: `native addon at ${file} failed to load: ${(e as Error).message}` };
  }
}
