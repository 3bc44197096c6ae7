/**
 * The check a layer converter is held to: the model run by tfjs and its export run by ONNX
 * Runtime agree on the same inputs, up to float rounding.
 */
import * as tf from '@tensorflow/tfjs';
import { loadExported, type ExportOnnxOptions } from './export';

/**
 * max |ort - tfjs| / max |tfjs| over each output of `model` on `inputs`, the worst output's.
 * Outputs that differ in count or shape, or an all-zero tfjs output (which cannot show a
 * difference), are errors.
 */
export async function onnxRelativeError(model: tf.LayersModel, inputs: tf.Tensor[], options: ExportOnnxOptions = {}): Promise<number> {
  const session = await loadExported(model, options);
  try {
    const expected = model.predict(inputs.length === 1 ? (inputs[0] as tf.Tensor) : inputs);
    const want = Array.isArray(expected) ? expected : [expected];
    const got = await session.predict(inputs);
    try {
      if (got.length !== want.length) throw new Error(`${model.name}: ONNX Runtime gave ${got.length} outputs, tfjs ${want.length}`);
      let worst = 0;
      want.forEach((w, i) => {
        const o = got[i] as tf.Tensor;
        if (o.shape.join() !== w.shape.join()) throw new Error(`${model.name}: output ${i} is [${o.shape.join(', ')}] in ONNX Runtime, [${w.shape.join(', ')}] in tfjs`);
        const a = w.dataSync(),
          b = o.dataSync();
        let maxAbs = 0,
          maxDiff = 0;
        for (let k = 0; k < a.length; k++) {
          maxAbs = Math.max(maxAbs, Math.abs(a[k] as number));
          maxDiff = Math.max(maxDiff, Math.abs((a[k] as number) - (b[k] as number)));
        }
        if (maxAbs === 0) throw new Error(`${model.name}: output ${i} is all zeros in tfjs, so it cannot be compared`);
        worst = Math.max(worst, maxDiff / maxAbs);
      });
      return worst;
    } finally {
      tf.dispose([...want, ...got]);
    }
  } finally {
    await session.dispose();
  }
}
