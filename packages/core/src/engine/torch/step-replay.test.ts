// Replayed training steps (step-replay.ts, replayable-step.ts) against the same steps run
// eagerly: the same bits in every weight, moment and loss, the same addon calls, and every step
// that cannot be replayed run eagerly with the reason.
import * as tf from '@tensorflow/tfjs';

import { BatchNorm2d, deferRunningStats } from '../../layers/batch-norm';
import { Rng } from '../../rng';
import { dropoutMask } from '../native';
import { describeEngine, ENGINES } from '../kernels/test-utils/engines';
import { torchAddon } from './index';
import { logStepReplay, replayableStep, type ReplayableStep } from './replayable-step';
import { QUERY_FUNCTIONS, REPLAYED_FUNCTIONS } from './step-replay';

const entry = ENGINES.find((e) => e.name === 'libtorch')!;

interface Inputs {
  x: Float32Array;
  y: Float32Array;
  shape: [number, number, number, number];
}

/** A conv, BatchNorm2d (running statistics), relu, dense network under Adam, and its step on host arrays. */
function training(seed: number) {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 3], filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      new BatchNorm2d({ numFeatures: 4 }),
      tf.layers.reLU(),
      tf.layers.flatten(),
      tf.layers.dense({ units: 5, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
  const opt = tf.train.adam(0.01);
  const step = (inputs: Inputs): tf.Scalar => {
    const x = tf.tensor4d(inputs.x, inputs.shape);
    const y = tf.tensor2d(inputs.y, [inputs.shape[0], 5]);
    const loss = deferRunningStats(() => opt.minimize(() => tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor), true) as tf.Scalar);
    tf.dispose([x, y]);
    return loss;
  };
  const dispose = () => {
    model.dispose();
    opt.dispose();
  };
  return { model, opt, step, dispose };
}

function inputsAt(i: number, batch = 2): Inputs {
  return {
    x: Float32Array.from({ length: batch * 6 * 6 * 3 }, (_, k) => Math.sin(k * 0.37 + i)),
    // all zeros in the two recorded steps and one replayed: an input of one repeated value,
    // which the backend would keep as a constant, is uploaded all the same while recorded
    y: Float32Array.from({ length: batch * 5 }, (_, k) => (i === 1 || i === 2 || i === 7 ? 0 : Math.cos(k + i))),
    shape: [batch, 6, 6, 3],
  };
}

/** Bits of every weight and Adam slot and the losses after `steps` steps (the learning rate halved at step 5). */
async function trainBits(step: (inputs: Inputs) => tf.Scalar, t: ReturnType<typeof training>, steps: number, batchAt = (_i: number) => 2) {
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    if (i === 5) (t.opt as unknown as { learningRate: number }).learningRate = 0.005;
    const loss = step(inputsAt(i, batchAt(i)));
    losses.push((await loss.data())[0]!);
    loss.dispose();
  }
  const slots = await t.opt.getWeights();
  const bits = (a: ArrayLike<number>) => Buffer.from(Float32Array.from(a).buffer).toString('hex');
  const out = {
    losses: losses.map((l) => bits([l])),
    weights: t.model.weights.map((w) => bits(w.read().dataSync())),
    slots: slots.map((s) => bits(s.tensor.dataSync())),
    iterations: (t.opt as unknown as { iterations: number }).iterations,
  };
  // getWeights makes a tensor of the step count
  slots.filter((s) => !(s.tensor instanceof tf.Variable)).forEach((s) => s.tensor.dispose());
  return out;
}

describeEngine(entry, 'replayed training steps', (engine) => {
  beforeEach(() => tf.setBackend(engine.backend));

  test('replayed steps leave every weight, running statistic, Adam slot and loss the same bits as eager steps, with no tensor or handle left over', async () => {
    const eager = training(1);
    const want = await trainBits(eager.step, eager, 10);
    eager.dispose();
    const handles = torchAddon()!.info().handles;
    const tensors = tf.memory().numTensors;
    const t = training(1);
    const step = replayableStep(t.step, { enabled: true });
    const got = await trainBits(step, t, 10);
    expect(step.mode).toBe('replaying');
    expect(step.reason).toBeNull();
    // the first step eager, two recorded, then replays
    expect(step.replays).toBe(7);
    expect(got).toEqual(want);
    t.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(torchAddon()!.info().handles).toBe(handles);
  });

  test('a replay issues the addon calls of an eager step, function by function, runs no tfjs kernel and makes only its output', () => {
    const t = training(2);
    const step = replayableStep(t.step, { enabled: true });
    for (let i = 0; i < 3; i++) step(inputsAt(i)).dispose();
    expect(step.mode).toBe('replaying');
    const addon = torchAddon() as unknown as Record<string, (...a: unknown[]) => unknown>;
    const originals = Object.fromEntries(Object.keys(REPLAYED_FUNCTIONS).map((n) => [n, addon[n]!]));
    let counts: Record<string, number> = {};
    for (const n of Object.keys(originals)) addon[n] = (...a: unknown[]) => ((counts[n] = (counts[n] ?? 0) + 1), originals[n]!.apply(addon, a));
    const kernels = jest.spyOn(tf.engine(), 'runKernel');
    try {
      t.step(inputsAt(3)).dispose();
      const eager = counts;
      expect(kernels.mock.calls.length).toBeGreaterThan(20);
      counts = {};
      kernels.mockClear();
      const tensors = tf.memory().numTensors;
      const loss = step(inputsAt(4));
      expect(tf.memory().numTensors - tensors).toBe(1);
      loss.dispose();
      expect(kernels).not.toHaveBeenCalled();
      expect(counts).toEqual(eager);
      expect(step.replays).toBe(1);
    } finally {
      Object.assign(addon, originals);
      kernels.mockRestore();
    }
    t.dispose();
  });

  test('a step of other shapes runs eagerly; the next of the recorded shapes is replayed again, and the bits are those of eager steps', async () => {
    const batchAt = (i: number) => (i === 6 ? 1 : 2);
    const eager = training(3);
    const want = await trainBits(eager.step, eager, 9, batchAt);
    eager.dispose();
    const t = training(3);
    const step = replayableStep(t.step, { enabled: true });
    const got = await trainBits(step, t, 9, batchAt);
    expect(step.replays).toBe(5);
    expect(got).toEqual(want);
    t.dispose();
  });

  const refusals: [string, RegExp, (t: ReturnType<typeof training>) => (inputs: Inputs) => tf.Scalar][] = [
    ['reads the device', /reads the device/, (t) => (inputs) => (t.model.weights[0]!.read().dataSync(), t.step(inputs))],
    ['keeps a tensor it made', /outlive it/, (t) => (inputs) => (tf.keep(tf.tensor1d(inputs.x.subarray(0, 3))), t.step(inputs))],
    [
      'takes a number that changes from step to step',
      /differ between steps/,
      (t) => {
        let k = 0;
        return (inputs) => {
          const loss = t.step(inputs);
          const scaled = tf.tidy(() => tf.mul(loss, ++k) as tf.Scalar);
          loss.dispose();
          return scaled;
        };
      },
    ],
  ];
  test.each(refusals)('a step that %s runs eagerly, with the reason, and trains as eager steps do', async (_what, reason, make) => {
    const eager = training(4);
    const want = await trainBits(make(eager), eager, 7);
    eager.dispose();
    const t = training(4);
    const step = replayableStep(make(t), { enabled: true });
    const got = await trainBits(step, t, 7);
    expect(step.mode).toBe('refused');
    expect(step.reason).toMatch(reason);
    expect(step.replays).toBe(0);
    expect(got).toEqual(want);
    t.dispose();
    tf.disposeVariables();
  });

  test("a dropout mask drawn from the step's own Rng (among its inputs) is replayed from the current step's Rng; from an Rng outside the inputs, the step runs eagerly", async () => {
    const masks = (step: (inputs: { rng: Rng }) => tf.Tensor, seeds: number[]) =>
      seeds.map((seed) => {
        const rng = new Rng(seed);
        const mask = step({ rng });
        const bits = Array.from(mask.dataSync());
        mask.dispose();
        // the Rng moved on as far as the eager draw moves it
        return [...bits, rng.next()];
      });
    const seeds = [1, 2, 3, 4, 5, 6];
    const eager = masks((i) => dropoutMask(i.rng, [4, 8], 0.5), seeds);
    const replayed = replayableStep((i: { rng: Rng }) => dropoutMask(i.rng, [4, 8], 0.5), { enabled: true });
    expect(masks(replayed, seeds)).toEqual(eager);
    expect(replayed.replays).toBe(3);
    const outside = new Rng(7);
    const fixedRng = replayableStep((_i: { rng: Rng }) => dropoutMask(outside, [4, 8], 0.5), { enabled: true });
    masks(fixedRng, seeds);
    expect(fixedRng.mode).toBe('refused');
    expect(fixedRng.reason).toMatch(/Rng that is not among the step's inputs/);
  });

  test('a tensor the step takes from outside, replaced between steps: the replay fails leaving nothing behind, the step runs eagerly, then is recorded anew', () => {
    const holder = { c: tf.tensor1d([1, 2, 3]) };
    const step = replayableStep(
      (i: { x: Float32Array }) => {
        const x = tf.tensor1d(i.x);
        const y = tf.mul(x, holder.c);
        x.dispose();
        return y;
      },
      { enabled: true },
    );
    const at = (k: number) => {
      const y = step({ x: Float32Array.from([k, k + 1, k + 2]) });
      const values = Array.from(y.dataSync());
      y.dispose();
      return values;
    };
    for (let k = 0; k < 3; k++) at(k);
    expect(step.mode).toBe('replaying');
    holder.c.dispose();
    holder.c = tf.tensor1d([10, 20, 30]);
    const handles = torchAddon()!.info().handles;
    expect(at(5)).toEqual([50, 120, 210]);
    expect(torchAddon()!.info().handles).toBe(handles);
    expect(step.mode).toBe('eager');
    expect(step.replays).toBe(0);
    for (let k = 6; k < 8; k++) at(k);
    expect(at(9)).toEqual([90, 200, 330]);
    expect(step.replays).toBe(1);
    holder.c.dispose();
  });

  test('not enabled, the step runs eagerly every time', async () => {
    const t = training(5);
    const step: ReplayableStep<Inputs, tf.Scalar> = replayableStep(t.step, { enabled: false });
    await trainBits(step, t, 5);
    expect(step.mode).toBe('eager');
    expect(step.replays).toBe(0);
    const lines: string[] = [];
    logStepReplay(step, (l) => lines.push(l));
    expect(lines).toEqual([]);
    t.dispose();
  });

  test("the run's replay line: none of too few steps, then the steps replayed, or why the steps ran eagerly", () => {
    const lineOf = (step: ReplayableStep<Inputs, tf.Scalar>) => {
      const lines: string[] = [];
      logStepReplay(step, (l) => lines.push(l));
      return lines;
    };
    const t = training(6);
    const step = replayableStep(t.step, { enabled: true });
    expect(lineOf(step)).toEqual([]);
    for (let i = 0; i < 3; i++) step(inputsAt(i)).dispose();
    expect(lineOf(step)).toEqual(['step replay: none of the 3 steps was replayed (a step of one shape is replayed from its fourth call, once two recorded calls agree)']);
    step(inputsAt(3)).dispose();
    expect(lineOf(step)).toEqual(['step replay: 1 step replayed']);
    step(inputsAt(4)).dispose();
    expect(lineOf(step)).toEqual(['step replay: 2 steps replayed']);
    t.dispose();
    // a step that reads the device is refused at its first recording
    const reads = replayableStep((x: tf.Tensor) => tf.tidy(() => tf.mul(x, tf.sum(x).dataSync()[0]!)), { enabled: true });
    const x = tf.tensor1d([1, 2]);
    for (let i = 0; i < 2; i++) reads(x).dispose();
    x.dispose();
    const [line] = lineOf(reads as unknown as ReplayableStep<Inputs, tf.Scalar>);
    expect(line).toMatch(/^step replay: the steps ran eagerly \(.*\bread/);
  });

  test('every addon function is replayed, a query, or one a recording refuses (a read or a setting)', () => {
    const refused = Object.keys(torchAddon()!).filter((n) => !(n in REPLAYED_FUNCTIONS) && !QUERY_FUNCTIONS.has(n));
    expect(refused.sort()).toEqual(
      [
        'convLayoutError',
        'download',
        'downloadAsync',
        'setConvLayout',
        'setDeterministic',
        'setDevice',
        'setOneDnn',
        'setOpTiming',
        'setQueue',
        'setQueueSpin',
        'setTf32',
        'setThreads',
        'startAtenProfile',
        'stopAtenProfile',
        'sync',
        'takeOpTimes',
      ].sort(),
    );
  });
});

test('on an engine other than libtorch, a replayable step runs its function each time', async () => {
  await tf.setBackend('cpu');
  let runs = 0;
  const step = replayableStep(() => (runs++, tf.scalar(runs)), { enabled: true });
  for (let i = 0; i < 5; i++) step({}).dispose();
  expect(runs).toBe(5);
  expect(step.mode).toBe('eager');
  const lines: string[] = [];
  logStepReplay(step, (l) => lines.push(l));
  expect(lines).toEqual(['step replay: the steps ran eagerly (replays need the libtorch engine; they ran on the cpu backend)']);
});
