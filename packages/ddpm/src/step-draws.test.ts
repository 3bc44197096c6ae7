import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng } from '@dlcv/core';
import { drawStep, inlineStepDraws, normalsOnThreads, workerStepDraws, type StepDrawSpec } from './step-draws';
import { builtWorkerScript, WorkerThread } from './worker-thread';

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

  test.each([1, 3])('%i worker thread(s) draw what the training thread draws, step after step, from any state (an odd noise count leaves a spare normal)', async (threads) => {
    const start = new Rng(9, 22);
    start.normal(); // a generator holding a spare normal, as a checkpoint may store it
    const spec = { ...SPEC, valuesPerImage: 3 };
    const inline = inlineStepDraws(start, spec, 2);
    const worker = workerStepDraws(start.getState(), spec, 2, 6, threads);
    try {
      for (let step = 2; step < 6; step++) expect(await worker.take(step)).toEqual(await inline.take(step));
    } finally {
      await worker.close();
    }
  });

  test.each([
    [1, 0, true],
    [4, 1, false],
    [4, 7, true],
    [3, 1000, false],
    [8, 3, false],
  ])('%i threads draw %i normals as normalArray does (spare held: %s)', async (n, length, spare) => {
    const rng = new Rng(31, 5);
    if (spare) rng.normal();
    const start = rng.getState();
    const threads = Array.from({ length: n }, () => new WorkerThread(builtWorkerScript('step-draws-worker.js'), 'step draws'));
    try {
      const got = await normalsOnThreads(start, length, threads);
      const values = rng.normalArray(length);
      if (length - (spare ? 1 : 0) <= 0) expect(got).toBeNull();
      else expect(got).toEqual({ values, end: rng.getState() });
    } finally {
      await Promise.all(threads.map((th) => th.terminate()));
    }
  });

  test('a stretch that ends elsewhere (a redrawn pair moved it) asks for the draw in order', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'draws-'));
    const script = path.join(dir, 'moved.js');
    // answers with the right count, and a state one draw past where the stretch should end
    fs.writeFileSync(
      script,
      `const { parentPort } = require('node:worker_threads');
       const { Rng } = require(${JSON.stringify(require.resolve('@dlcv/core/browser'))});
       parentPort.on('message', (req) => {
         const rng = new Rng(0); rng.setState(req.state); rng.advance(req.skip + 1);
         const values = rng.normalArray(req.count);
         parentPort.postMessage({ ok: true, value: { values, end: rng.getState() } });
       });`,
    );
    const threads = [new WorkerThread(script, 'step draws'), new WorkerThread(builtWorkerScript('step-draws-worker.js'), 'step draws')];
    try {
      expect(await normalsOnThreads(new Rng(2).getState(), 40, threads)).toBeNull();
    } finally {
      await Promise.all(threads.map((th) => th.terminate()));
      fs.rmSync(dir, { recursive: true });
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
