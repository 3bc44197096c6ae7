// The geometry of tfjs's BatchMatMul: a [..., m, k] (or [..., k, m] transposed) times b.
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';

import type { MatMulGeometry } from '../device-ops';
import { Unsupported } from '../kernel';

const { backend_util, util } = tf;

/** Throws Unsupported for ranks below 2, differing inner dimensions and partial batch broadcasts. */
export function matMulGeometry(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): MatMulGeometry {
  const ra = a.shape.length,
    rb = b.shape.length;
  if (ra < 2 || rb < 2) throw new Unsupported('rank < 2');
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const k2 = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (k !== k2) throw new Unsupported('inner dimensions differ');
  const outerA = a.shape.slice(0, -2),
    outerB = b.shape.slice(0, -2);
  const batchA = util.sizeFromShape(outerA),
    batchB = util.sizeFromShape(outerB);
  const outer = backend_util.assertAndGetBroadcastShape(outerA, outerB);
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) throw new Unsupported('partial batch broadcast');
  return { batchA, batchB, m, k, n, transposeA, transposeB, outShape: [...outer, m, n] };
}
