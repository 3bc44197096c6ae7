/**
 * Batch-norm statistics re-estimated on unlabelled target images (AdaBN: Li et al. 2016,
 * "Revisiting Batch Normalization For Practical Domain Adaptation"): the source model's weights
 * are kept, and the running mean and variance of each BatchNorm of the feature extractor and
 * the label predictor are replaced by their average over one pass of target batches, as
 * PyTorch's `momentum=None` (cumulative average) gives after `model.train()` forwards. No
 * target label is read and no weight changes: what it measures is how much of the domain gap
 * is a shift of the activation statistics.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng, type ImageDataset } from '@dlcv/core';
import { SCALING } from './data';
import type { DannNet } from './model';
import { updateRunningStats, type BatchMoments } from './nn';

const STREAM_ORDER = 0x50000;
const STREAM_DROPOUT = 0x60000;

export interface BnAdaptOptions {
  /** Images per forward (the report's training batch: 256). */
  batchSize: number;
  /** Seed of the batch order and of the dropout masks (the forwards run as in training). */
  seed: number;
}

/**
 * Replaces the running statistics of `net` by those of `ds` (one seeded pass, full batches only
 * unless the set is smaller than one batch). Returns the number of batches used.
 */
export async function reestimateBatchNorm(net: DannNet, ds: ImageDataset, options: BnAdaptOptions): Promise<number> {
  const { batchSize, seed } = options;
  if (ds.length < 2) throw new Error(`reestimateBatchNorm: ${ds.length} images, BatchNorm needs 2`);
  const order = new Rng(seed, STREAM_ORDER).permutation(ds.length);
  const batches = Math.max(1, Math.floor(ds.length / batchSize));
  for (let k = 0; k < batches; k++) {
    const { x, y } = await ds.getBatch(order.slice(k * batchSize, (k + 1) * batchSize), SCALING);
    const moments: BatchMoments[] = [];
    try {
      const rng = new Rng(seed, STREAM_DROPOUT + k);
      tf.tidy(() => {
        net.classify(net.features(x, { training: true, rng, moments }), { training: true, rng, moments });
      });
    } finally {
      tf.dispose([x, ...(y ? [y] : [])]);
    }
    // Batch k gets weight 1/(k+1): the running values end as the mean over the k+1 batches.
    updateRunningStats(moments, 1 / (k + 1));
  }
  return batches;
}
