import { openDigits, setupEngine } from '@dlcv/core';
import type { TrainConfig } from './config';
import { resolveSchedulerConfig } from './schedulers';
import { makeDigitsFixture, tempDir } from './test-utils/fixtures';
import { train } from './trainer';

// The order in which the trainer starts steps and waits for their losses, through the real step.
const mockEvents: string[] = [];
jest.mock('./step', () => {
  const actual = jest.requireActual<typeof import('./step')>('./step');
  let started = 0;
  return {
    ...actual,
    startDiffusionStep: (...args: Parameters<typeof actual.startDiffusionStep>) => {
      const step = ++started;
      mockEvents.push(`start ${step}`);
      const read = actual.startDiffusionStep(...args);
      // a thenable: `await` calls its then with a fulfilment handler, `.catch` does not
      return {
        then: (onRead?: (v: number) => unknown, onError?: (e: unknown) => unknown) => {
          if (onRead) mockEvents.push(`read ${step}`);
          return read.then(onRead, onError);
        },
        catch: (onError: (e: unknown) => unknown) => read.catch(onError),
      };
    },
  };
});

// 40 images of 12x12, batch 8: 5 steps per epoch, 8 steps; no checkpoint before the last step.
const config: TrainConfig = {
  preset: 'test',
  unet: { nFeat: 8, inChannels: 3, nClasses: 10, imageSize: 12, groups: 2 },
  scheduler: resolveSchedulerConfig({ num_train_timesteps: 50 }),
  epochs: 2,
  steps: 8,
  batchSize: 8,
  lr: 1e-2,
  pUncond: 0.1,
  emaDecay: 0.9,
  seed: 0,
  saveEvery: 100,
  sampling: { sampler: 'ddim', steps: 5, w: 1, eta: 0 },
  preview: { perClass: 1, sampler: 'ddim', steps: 2, w: 1 },
};

test("each step starts before the loss of the step before it is awaited, except after an epoch's end (its grid and log)", async () => {
  await setupEngine({ engine: 'cpu' });
  const data = await openDigits(await makeDigitsFixture(), 'train', { size: 12 });
  const result = await train({ runDir: await tempDir('ddpm-pipeline-'), config, data, quiet: true });
  expect(result.losses).toHaveLength(8);
  // epoch 1 ends at step 5, epoch 2 (the run) at step 8
  expect(mockEvents).toEqual([
    'start 1',
    'start 2',
    'read 1',
    'start 3',
    'read 2',
    'start 4',
    'read 3',
    'start 5',
    'read 4',
    'read 5',
    'start 6',
    'start 7',
    'read 6',
    'start 8',
    'read 7',
    'read 8',
  ]);
});
