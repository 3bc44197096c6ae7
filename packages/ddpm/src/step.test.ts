// trainingStep runs inside core's deferRunningStats: the U-Net's BatchNorm running statistics move
// after the step, in one kernel, to the same bits as one update at each layer's call.
import * as tf from '@tensorflow/tfjs';
import { Rng, setRunningStatsDeferral, setupEngine } from '@dlcv/core';

import { conditionTensors } from './condition-tensors';
import { createUnet, type UnetConfig } from './model';
import { trainingStep } from './step';

const TINY: UnetConfig = { nFeat: 8, inChannels: 3, nClasses: 10, imageSize: 12, groups: 2 };
const BATCH = 4;

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
});

const bits = (vars: readonly tf.LayerVariable[]) => vars.map((v) => Array.from(new Uint32Array(Float32Array.from(v.read().dataSync()).buffer)));

/** Every weight of a fresh U-Net after a step, with the running statistics deferred or not; and its running statistics before. */
async function oneStep(deferred: boolean): Promise<{ after: number[][]; statsBefore: number[][]; statsAfter: number[][] }> {
  setRunningStatsDeferral(deferred);
  try {
    const rng = new Rng(5);
    const model = createUnet(TINY, 1);
    const statsBefore = bits(model.nonTrainableWeights);
    const optimizer = tf.train.adam(1e-3);
    const shape: [number, number, number, number] = [BATCH, TINY.imageSize, TINY.imageSize, TINY.inChannels];
    const xt = tf.tensor4d(rng.normalArray(BATCH * 12 * 12 * 3), shape);
    const eps = tf.tensor4d(rng.normalArray(BATCH * 12 * 12 * 3), shape);
    const cond = conditionTensors([2, 9, 5, 17], [1, 3, 8, 0], [0, 1, 0, 0], 20, TINY.nClasses);
    tf.dispose([trainingStep(model, optimizer, xt, eps, cond), xt, eps, cond.t, cond.c, cond.mask]);
    return { after: bits(model.weights), statsBefore, statsAfter: bits(model.nonTrainableWeights) };
  } finally {
    setRunningStatsDeferral(true);
  }
}

test("trainingStep: the running statistics after the step; every weight the same bits as with each update at its layer's call", async () => {
  const deferred = await oneStep(true);
  const atEachCall = await oneStep(false);
  expect(deferred.statsAfter).not.toEqual(deferred.statsBefore);
  expect(deferred.after).toEqual(atEachCall.after);
});
