/** Inference helpers: labels, accuracy and features, in evaluation mode (running BN statistics, no dropout). */
import * as tf from '@tensorflow/tfjs';
import type { ImageDataset } from '@dlcv/core';
import { SCALING } from './data';
import type { DannNet } from './model';

const EVAL_BATCH = 256;

async function forEachChunk(ds: ImageDataset, indices: readonly number[], fn: (x: tf.Tensor4D, from: number) => Promise<void>): Promise<void> {
  for (let from = 0; from < indices.length; from += EVAL_BATCH) {
    const batch = await ds.getBatch(indices.slice(from, from + EVAL_BATCH), SCALING);
    try {
      await fn(batch.x, from);
    } finally {
      tf.dispose([batch.x, ...(batch.y ? [batch.y] : [])]);
    }
  }
}

const allIndices = (ds: ImageDataset) => Array.from({ length: ds.length }, (_, i) => i);

/** Arg-max class of every image, in dataset order. */
export async function predictLabels(net: DannNet, ds: ImageDataset): Promise<Int32Array> {
  const out = new Int32Array(ds.length);
  await forEachChunk(ds, allIndices(ds), async (x, from) => {
    const pred = tf.tidy(() => tf.argMax(net.classify(net.features(x, { training: false }), { training: false }), -1));
    out.set(await pred.data(), from);
    pred.dispose();
  });
  return out;
}

export async function accuracy(net: DannNet, ds: ImageDataset): Promise<number> {
  if (!ds.labels) throw new Error('accuracy: the dataset has no labels');
  const pred = await predictLabels(net, ds);
  let correct = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === ds.labels[i]) correct++;
  return correct / ds.length;
}

/** Feature-extractor outputs [indices.length, features], row-major. */
export async function extractFeatures(net: DannNet, ds: ImageDataset, indices: readonly number[]): Promise<Float32Array> {
  const width = net.config.features;
  const out = new Float32Array(indices.length * width);
  await forEachChunk(ds, indices, async (x, from) => {
    const f = tf.tidy(() => net.features(x, { training: false }));
    out.set(await f.data(), from * width);
    f.dispose();
  });
  return out;
}
