/**
 * The U-Net's forward for classifier-free guidance with its down path run once per image
 * (`sample --guided-forward shared`). An image's conditional and unconditional rows share x, and
 * the down path (init_conv, down1, down2, to_vec, up0: 38% of the network's multiply-adds) reads
 * x alone, so it runs on the B images and its four outputs are repeated for the 2B rows that the
 * layers after it take with their conditions. It runs the model's own layers on the tensors
 * through model.ts's wiring, freeing each intermediate tensor after its last reader, as
 * tfjs-layers' executor does in a model's forward.
 */
import * as tf from '@tensorflow/tfjs';
import { wireUnet, type UnetConfig, type UnetInputs, type UnetWiring } from './model';

/** The model's layer of a name, or an error saying the model is not buildUnet's. */
function modelLayer(model: tf.LayersModel, name: string): tf.layers.Layer {
  try {
    return model.getLayer(name);
  } catch {
    throw new Error(`guided sampling: the model ${model.name} has no layer ${name} (not a U-Net of buildUnet)`);
  }
}

/**
 * For each value of the wiring (0-3 the inputs, then the output of each call in order), the
 * index of the last call that reads it; -1 for a value no call reads (the output). Checks every
 * layer name against the model before anything runs.
 */
function lastReaders(model: tf.LayersModel, config: UnetConfig): number[] {
  const last = [-1, -1, -1, -1];
  const call = (reads: number | number[]) => {
    const k = last.length - 4;
    for (const v of ([] as number[]).concat(reads)) last[v] = k;
    last.push(-1);
    return last.length - 1;
  };
  wireUnet<number>(
    config,
    { x: 0, t: 1, c: 2, mask: 3 },
    {
      layer: (name, _make, x) => (modelLayer(model, name), call(x)),
      fromDownPath: (x) => call(x),
    },
  );
  return last;
}

/**
 * `model` (buildUnet's) in inference mode on a guided batch: x once per image ([B, S, S, C]); t,
 * c and mask for the [cond, uncond] rows ([2B, ...], the conditional rows first, as the sampler
 * makes them). Returns the 2B rows' noise predictions: the same function of the inputs as the
 * model on [x; x] (a value may differ in its last bits where an engine's convolution takes
 * another algorithm for the smaller batch).
 */
export function guidedSamplingForward(model: tf.LayersModel, config: UnetConfig, inputs: UnetInputs): tf.Tensor4D {
  const rows = inputs.x.shape[0];
  const conditions = { t: inputs.t, c: inputs.c, mask: inputs.mask };
  for (const [name, t] of Object.entries(conditions))
    if (t.shape[0] !== 2 * rows) throw new Error(`guided sampling: ${name} has ${t.shape[0]} rows for ${rows} images (need two rows an image, [cond, uncond])`);
  const last = lastReaders(model, config);
  return tf.tidy(() => {
    // the values by their index in lastReaders' numbering; a value is freed after its last reader
    const values: (tf.Tensor | null)[] = [inputs.x, inputs.t, inputs.c, inputs.mask];
    const index = new Map<tf.Tensor, number>(values.map((v, i) => [v as tf.Tensor, i]));
    const call = (reads: tf.Tensor | tf.Tensor[], run: () => tf.Tensor) => {
      const k = values.length - 4;
      const read = ([] as tf.Tensor[]).concat(reads);
      const out = run();
      if (read.includes(out)) throw new Error('guided sampling: a layer returned its input, which the forward cannot free apart');
      values.push(out);
      index.set(out, values.length - 1);
      for (const t of read) {
        const v = index.get(t) as number;
        if (v >= 4 && last[v] === k && values[v]) {
          values[v]?.dispose();
          values[v] = null;
        }
      }
      return out;
    };
    const running: UnetWiring<tf.Tensor> = {
      layer: (name, _make, x) => call(x, () => modelLayer(model, name).apply(x, { training: false }) as tf.Tensor),
      fromDownPath: (x) => call(x, () => tf.concat([x, x], 0)),
    };
    return wireUnet<tf.Tensor>(config, inputs, running) as tf.Tensor4D;
  });
}
