import { Rng } from '@dlcv/core';
import { drawStep, inlineStepDraws, workerStepDraws, type StepDrawSpec } from './step-draws';

const SPEC: StepDrawSpec = { batch: 5, valuesPerImage: 7, timesteps: 50, pUncond: 0.3 };

describe('training step draws', () => {
  test('a step draws t, eps and the mask in that order from the generator', () => {
    const rng = new Rng(4, 22);
    const d = drawStep(rng, SPEC);
    const ref = new Rng(4, 22);
    const ts = Array.from({ length: 5 }, () => ref.int(50));
    const eps = ref.normalArray(35);
    const drop = Array.from({ length: 5 }, () => (ref.next() < 0.3 ? 1 : 0));
    expect(d).toEqual({ ts, eps, drop, rngAfter: ref.getState() });
    expect(rng.getState()).toEqual(ref.getState());
  });

  test('the worker draws what the training thread draws, step after step, from any state (an odd noise count leaves a spare normal)', async () => {
    const start = new Rng(9, 22);
    start.normal(); // a generator holding a spare normal, as a checkpoint may store it
    const spec = { ...SPEC, valuesPerImage: 3 };
    const inline = inlineStepDraws(start, spec, 2);
    const worker = workerStepDraws(start.getState(), spec, 2, 6);
    try {
      for (let step = 2; step < 6; step++) expect(await worker.take(step)).toEqual(await inline.take(step));
    } finally {
      await worker.close();
    }
  });

  test('steps are taken one after another; a closed worker fails the next take', async () => {
    const inline = inlineStepDraws(new Rng(0), SPEC, 0);
    await expect(inline.take(1)).rejects.toThrow('step draws: step 1 taken, the next is 0 (one take a step, in order)');
    const worker = workerStepDraws(new Rng(0).getState(), SPEC, 3, 10);
    await worker.take(3);
    await expect(worker.take(5)).rejects.toThrow('step draws: step 5 taken, the next is 4');
    await worker.close();
    await expect(worker.take(4)).rejects.toThrow('step draws: taken after close()');
  });
});
