import { openDigits, setupEngine } from '@dlcv/core';
import { makeDigitsFixture, tempDir, tinyTrainConfig } from './test-utils/fixtures';
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
const config = tinyTrainConfig({ saveEvery: 100 });

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
