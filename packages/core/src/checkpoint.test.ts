import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { checkpointsDir, findLatestCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint';
import { setupEngine } from './engine/engine';
import { Rng } from './rng';
import { assertFinite, NonFiniteLossError } from './run';

let tmp: string;
beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'dlcv-ckpt-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

function smallModel(seed: number): tf.LayersModel {
  const init = tf.initializers.randomNormal({ mean: 0, stddev: 0.5, seed });
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu', kernelInitializer: init }));
  model.add(tf.layers.batchNormalization());
  model.add(tf.layers.dense({ units: 1, kernelInitializer: init }));
  return model;
}

async function trainSteps(model: tf.LayersModel, opt: tf.Optimizer, steps: number, rng: Rng): Promise<number[]> {
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const x = tf.tensor2d(rng.normalArray(16 * 4), [16, 4]);
    const y = tf.tensor2d(rng.normalArray(16), [16, 1]);
    const loss = opt.minimize(() => tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor), true) as tf.Scalar;
    losses.push((await loss.data())[0] as number);
    tf.dispose([x, y, loss]);
  }
  return losses;
}

describe('checkpoints', () => {
  it('restores weights, Adam state, config and RNG so that a resumed run continues exactly', async () => {
    const runDir = path.join(tmp, 'resume');
    // Reference: 8 uninterrupted steps. The split after 5 is where beta2^6 accumulated by Adam
    // differs from pow(beta2, 6) in float32, which a restore must not recompute.
    const refModel = smallModel(1);
    const refLosses = await trainSteps(refModel, tf.train.adam(0.01), 8, new Rng(9));

    // Interrupted: 3 steps, checkpoint, then a fresh process state resumes for 3 more.
    const m1 = smallModel(1),
      o1 = tf.train.adam(0.01),
      r1 = new Rng(9);
    const first = await trainSteps(m1, o1, 5, r1);
    const tensorsBefore = tf.memory().numTensors;
    await saveCheckpoint(runDir, { models: { net: m1 }, optimizers: { adam: o1 }, config: { lr: 0.01 }, state: { step: 5, epoch: 0, rng: r1.getState() } });
    expect(tf.memory().numTensors).toBe(tensorsBefore); // a save leaves no tensor behind
    expect(o1.iterations).toBe(5); // and the optimizer's own state is kept

    const m2 = smallModel(2),
      o2 = tf.train.adam(0.01),
      r2 = new Rng(0);
    const loaded = await loadCheckpoint(runDir, { models: { net: m2 }, optimizers: { adam: o2 } });
    expect(loaded.config).toEqual({ lr: 0.01 });
    expect(loaded.state.step).toBe(5);
    r2.setState(loaded.state.rng as ReturnType<Rng['getState']>);
    // beta^t as accumulated by the optimizer, not as recomputed by pow() on restore.
    const powers = (o: tf.Optimizer) => ['accBeta1', 'accBeta2'].map((f) => ((o as unknown as Record<string, tf.Variable>)[f] as tf.Variable).dataSync()[0]);
    expect(powers(o2)).toEqual(powers(o1));
    const second = await trainSteps(m2, o2, 3, r2);
    expect([...first, ...second]).toEqual(refLosses);
  });

  it('keeps only the newest checkpoints and points latest.json at the newest', async () => {
    const runDir = path.join(tmp, 'prune');
    const v = [tf.variable(tf.scalar(0))];
    for (let step = 1; step <= 5; step++) {
      v[0]?.assign(tf.scalar(step));
      await saveCheckpoint(runDir, { models: { v }, config: {}, state: { step, epoch: 0 } }, { keep: 2 });
    }
    expect((await fs.readdir(checkpointsDir(runDir))).sort()).toEqual(['latest.json', 'step-00000004', 'step-00000005']);
    expect(await findLatestCheckpoint(runDir)).toMatch(/step-00000005$/);
  });

  it('leaves the previous checkpoint in force when a save dies before it is committed', async () => {
    const runDir = path.join(tmp, 'interrupted');
    const v = [tf.variable(tf.fill([10], 1))];
    await saveCheckpoint(runDir, { models: { v }, config: {}, state: { step: 1, epoch: 0 } });
    v[0]?.assign(tf.fill([10], 2));
    await expect(
      saveCheckpoint(
        runDir,
        { models: { v }, config: {}, state: { step: 2, epoch: 0 } },
        {
          beforeCommit: () => {
            throw new Error('killed');
          },
        },
      ),
    ).rejects.toThrow('killed');
    const w = [tf.variable(tf.zeros([10]))];
    const loaded = await loadCheckpoint(runDir, { models: { v: w } });
    expect(loaded.state.step).toBe(1);
    expect(Array.from(await w[0]!.data())).toEqual(new Array(10).fill(1));
  });

  it('survives SIGKILL at random moments of a save (a real child process)', async () => {
    const runDir = path.join(tmp, 'sigkill');
    const rng = new Rng(2024);
    const register = path.join(__dirname, '..', '..', '..', 'jest.ts-register.js');
    const writer = path.join(__dirname, 'test-utils', 'checkpoint-writer.ts');
    for (let round = 0; round < 4; round++) {
      const child = spawn(process.execPath, ['-r', register, writer, runDir], { stdio: ['ignore', 'pipe', 'inherit'] });
      let saved = 0;
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          saved += (d.toString().match(/saved/g) ?? []).length;
          if (saved >= 1) resolve();
        });
      });
      await new Promise((r) => setTimeout(r, rng.int(400)));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const vars = [tf.variable(tf.zeros([1024, 1024])), tf.variable(tf.zeros([512, 1024])), tf.variable(tf.zeros([7]))];
      const loaded = await loadCheckpoint(runDir, { models: { net: vars } });
      const step = loaded.state.step;
      for (const v of vars) {
        const d = await v.data();
        expect(d[0]).toBe(step);
        expect(d[d.length - 1]).toBe(step);
      }
      tf.dispose(vars);
    }
  }, 120000);

  it('names the file when a checkpoint is damaged or does not fit the model', async () => {
    const runDir = path.join(tmp, 'damaged');
    const v = [tf.variable(tf.fill([4], 3))];
    const dir = await saveCheckpoint(runDir, { models: { v }, config: {}, state: { step: 7, epoch: 1 } });
    await expect(loadCheckpoint(runDir, { models: { v: [tf.variable(tf.zeros([5]))] } })).rejects.toThrow(
      /checkpoint\.json: model "v" weight 0 .* has shape \[4\] in the checkpoint, \[5\] in the model/,
    );
    await expect(loadCheckpoint(runDir, { models: { other: v } })).rejects.toThrow(/has no weights for model "other"/);
    const bin = path.join(dir, 'tensors.bin');
    const bytes = await fs.readFile(bin);
    bytes[0] = (bytes[0] as number) ^ 0xff;
    await fs.writeFile(bin, bytes);
    await expect(loadCheckpoint(runDir, { models: { v } })).rejects.toThrow(/tensors\.bin: damaged/);
    await expect(loadCheckpoint(path.join(tmp, 'no-run'), { models: { v } })).rejects.toThrow(/no-run: no checkpoint found/);
  });

  it('stops on a non-finite loss with the step named', () => {
    expect(() => assertFinite({ loss: 0.5 }, 1)).not.toThrow();
    expect(() => assertFinite({ lossD: 0.1, lossG: NaN }, 42)).toThrow(NonFiniteLossError);
    expect(() => assertFinite({ lossG: Infinity }, 42)).toThrow(/lossG became Infinity at step 42/);
  });
});
