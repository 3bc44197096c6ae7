import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setupEngine } from '../engine/engine';
import { z } from '../json-file';
import { readMetrics } from '../metrics';
import { Rng, rngStateSchema } from '../rng';
import { bucketMeans, configDifferences, emaSeries, InputsFailedError, LossPlotWriter, openRun, Prefetcher, ReadBehind, readStepSeries, writeLossPlot } from '.';

let tmp: string;
beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'dlcv-run-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const stateSchema = z.object({ step: z.number().int(), epoch: z.number().int(), rng: rngStateSchema });
type State = z.infer<typeof stateSchema>;

function net(seed: number): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [3], units: 2, kernelInitializer: tf.initializers.randomNormal({ seed }) }));
  return model;
}

/** A tiny trainer on the scaffold: `steps` steps of batch 4 from `rng`, a checkpoint every `every`. */
async function trainer(runDir: string, config: { lr: number; steps: number; every: number }, resume: boolean, stopAt = config.steps): Promise<number[]> {
  const model = net(1),
    optimizer = tf.train.sgd(config.lr),
    rng = new Rng(5);
  const run = await openRun<State>({
    runDir,
    config,
    mayChange: ['every'],
    resume,
    models: { net: model },
    optimizers: { sgd: optimizer },
    initialState: { step: 0, epoch: 0, rng: rng.getState() },
    stateSchema,
  });
  rng.setState(run.state.rng);
  const losses: number[] = [];
  for (let step = run.state.step + 1; step <= stopAt; step++) {
    const x = tf.tensor2d(rng.normalArray(12), [4, 3]);
    const loss = optimizer.minimize(() => tf.mean(tf.square(model.apply(x) as tf.Tensor)) as tf.Scalar, true) as tf.Scalar;
    const value = (await loss.data())[0] as number;
    tf.dispose([x, loss]);
    losses.push(value);
    await run.metrics.append({ step, loss: value });
    if (step % config.every === 0) await run.save({ step, epoch: 0, rng: rng.getState() });
  }
  await run.metrics.flush();
  run.close();
  model.dispose();
  return losses;
}

describe('openRun', () => {
  it('resumes exactly where the checkpoint stopped, with metrics cut back to the steps it covers', async () => {
    const config = { lr: 0.1, steps: 9, every: 3 };
    const reference = await trainer(path.join(tmp, 'ref'), config, false);
    const dir = path.join(tmp, 'resumed');
    // Stops after step 7: step 7 is logged but only step 6 is checkpointed (a crash between the two).
    const first = await trainer(dir, config, false, 7);
    const rest = await trainer(dir, { ...config, every: 2 }, true);
    expect([...first.slice(0, 6), ...rest]).toEqual(reference);
    const { records } = await readMetrics<{ step: number; loss: number }>(path.join(dir, 'metrics.jsonl'));
    expect(records.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(records.map((r) => r.loss)).toEqual(reference);
    expect(JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8'))).toEqual({ ...config, every: 2 });
  });

  it('refuses a folder with checkpoints unless resuming, and a resume with other settings, naming each', async () => {
    const dir = path.join(tmp, 'policy');
    await trainer(dir, { lr: 0.1, steps: 3, every: 3 }, false);
    await expect(trainer(dir, { lr: 0.1, steps: 3, every: 3 }, false)).rejects.toThrow(/already holds checkpoints \(step-00000003\): pass --resume/);
    await expect(trainer(dir, { lr: 0.2, steps: 4, every: 3 }, true)).rejects.toThrow(/other settings \(lr: 0\.1 -> 0\.2; steps: 3 -> 4\)/);
  });

  it('starts fresh when asked to resume a folder without checkpoints, emptying old metrics', async () => {
    const dir = path.join(tmp, 'fresh');
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'metrics.jsonl'), '{"step":40,"loss":1}\n');
    const losses = await trainer(dir, { lr: 0.1, steps: 2, every: 5 }, true);
    const { records } = await readMetrics<{ step: number }>(path.join(dir, 'metrics.jsonl'));
    expect(records.map((r) => r.step)).toEqual([1, 2]);
    expect(losses).toHaveLength(2);
  });

  it('refuses to resume over a corrupt metrics file, naming its line, rather than emptying it', async () => {
    const dir = path.join(tmp, 'badmetrics');
    await trainer(dir, { lr: 0.1, steps: 3, every: 3 }, false);
    const file = path.join(dir, 'metrics.jsonl');
    const lines = (await fs.readFile(file, 'utf8')).split('\n');
    lines[1] = '{"step": 2, "loss"';
    await fs.writeFile(file, lines.join('\n'));
    await expect(trainer(dir, { lr: 0.1, steps: 3, every: 3 }, true)).rejects.toThrow(new RegExp(`^${file}:2: corrupt line`));
    expect((await fs.readFile(file, 'utf8')).split('\n')[1]).toBe('{"step": 2, "loss"');
  });

  it('takeInputs: a failed load checkpoints the steps trained since the newest checkpoint, then says where they are', async () => {
    const dir = path.join(tmp, 'inputs');
    const run = await openRun<State>({
      runDir: dir,
      config: {},
      resume: false,
      models: { net: net(1) },
      initialState: { step: 0, epoch: 0, rng: new Rng(5).getState() },
      stateSchema,
    });
    const saves: number[] = [];
    const save = (step: number) => async () => (saves.push(step), run.save({ step, epoch: 0, rng: new Rng(5).getState() }));
    const unreadable = () => Promise.reject(new Error('/data/00003.png: not a readable image'));
    await expect(run.takeInputs(Promise.resolve('batch'), 0, save(0))).resolves.toBe('batch');
    // before any step: nothing to keep
    await expect(run.takeInputs(unreadable(), 0, save(0))).rejects.toThrow(
      '/data/00003.png: not a readable image\nstopped after step 0; no checkpoint yet; mend the data, then continue with the same command and --resume',
    );
    const at2 = await run.save({ step: 2, epoch: 0, rng: new Rng(5).getState() });
    // at the newest checkpoint's step: that one, without saving again
    const err = await run.takeInputs(unreadable(), 2, save(2)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputsFailedError);
    expect(err).toMatchObject({ step: 2, checkpoint: at2, cause: { message: '/data/00003.png: not a readable image' } });
    expect(saves).toEqual([]);
    // steps past it: saved first
    await expect(run.takeInputs(unreadable(), 3, save(3))).rejects.toThrow(`stopped after step 3; checkpoint ${path.join(dir, 'checkpoints', 'step-00000003')};`);
    expect(saves).toEqual([3]);
    run.close();
  });

  it('names the checkpoint file and the field when the saved state does not fit', async () => {
    const dir = path.join(tmp, 'badstate');
    await trainer(dir, { lr: 0.1, steps: 3, every: 3 }, false);
    const file = path.join(dir, 'checkpoints', 'step-00000003', 'checkpoint.json');
    const json = JSON.parse(await fs.readFile(file, 'utf8'));
    json.state.rng.stateHi = 'x';
    await fs.writeFile(file, JSON.stringify(json));
    await expect(trainer(dir, { lr: 0.1, steps: 3, every: 3 }, true)).rejects.toThrow(`${file}: rng.stateHi: Invalid input: expected number, received string`);
  });
});

describe('configDifferences', () => {
  it('lists nested changes dotted, and skips the keys that may change', () => {
    const saved = { a: 1, unet: { nFeat: 48, groups: 8 }, every: 10, tags: [1, 2] };
    const now = { a: 1, unet: { nFeat: 64, groups: 8 }, every: 20, tags: [1], extra: true };
    expect(configDifferences(saved, now)).toEqual(['unet.nFeat: 48 -> 64', 'every: 10 -> 20', 'tags: [1,2] -> [1]', 'extra: unset -> true']);
    expect(configDifferences(saved, now, ['every', 'extra', 'unet.nFeat'])).toEqual(['tags: [1,2] -> [1]']);
    expect(configDifferences({ a: 1 }, { a: 1 })).toEqual([]);
  });
});

describe('Prefetcher', () => {
  it('loads one step ahead, in order, and surfaces a load error when that step is taken', async () => {
    const calls: number[] = [];
    const p = new Prefetcher(async (s) => {
      calls.push(s);
      if (s === 2) throw new Error('bad batch 2');
      return s * 10;
    }, 4);
    expect(await p.take(0)).toBe(0);
    expect(calls).toEqual([0, 1]);
    expect(await p.take(1)).toBe(10);
    await expect(p.take(2)).rejects.toThrow('bad batch 2');
    expect(await p.take(3)).toBe(30);
    expect(calls).toEqual([0, 1, 2, 3]);
    const released: number[] = [];
    const q = new Prefetcher(async (s) => s, 10);
    await q.take(5);
    await q.close((b) => released.push(b));
    expect(released).toEqual([6]);
  });
});

describe('ReadBehind', () => {
  type Step = { n: number; result: Promise<number> };
  const issue = (n: number, events: string[], fail = false): Step => {
    events.push(`issue ${n}`);
    return { n, result: fail ? Promise.reject(new Error(`step ${n} failed`)) : Promise.resolve(n * 10) };
  };

  it('records each step after the next one is issued, in order, and all of them by drain()', async () => {
    const events: string[] = [];
    const reads = new ReadBehind<Step>(async (s) => {
      events.push(`record ${s.n}: ${await s.result}`);
    });
    expect(await reads.issued(issue(1, events))).toBe(true);
    expect(await reads.issued(issue(2, events))).toBe(true);
    expect(await reads.drain()).toBe(true);
    expect(await reads.drain()).toBe(true); // nothing left: records nothing
    expect(await reads.issued(issue(3, events))).toBe(true);
    expect(await reads.drop()).toMatchObject({ n: 3 }); // unrecorded
    expect(await reads.drop()).toBeUndefined();
    expect(events).toEqual(['issue 1', 'issue 2', 'record 1: 10', 'record 2: 20', 'issue 3']);
  });

  it("passes on record's stop and its error, and drops a failed step without an unhandled rejection", async () => {
    const events: string[] = [];
    const reads = new ReadBehind<Step>(async (s) => (await s.result) < 20);
    await reads.issued(issue(1, events));
    expect(await reads.issued(issue(2, events))).toBe(true); // step 1 recorded: go on
    expect(await reads.issued(issue(3, events))).toBe(false); // step 2 stopped the run
    expect(await reads.drop()).toMatchObject({ n: 3 });
    await reads.issued(issue(4, events, true));
    await expect(reads.drain()).rejects.toThrow('step 4 failed');
    await reads.issued(issue(5, events, true)); // never read
    expect(await reads.drop()).toMatchObject({ n: 5 });
  });
});

describe('loss curves', () => {
  it('reads the last record of each step, buckets long curves and adds an EMA', async () => {
    const dir = path.join(tmp, 'plot');
    await fs.mkdir(dir, { recursive: true });
    const lines = [
      { step: 1, loss: 4 },
      { step: 2, loss: 9 },
      { step: 1, event: 'x' },
      { step: 2, loss: 2 },
      { step: 3, loss: 1, aux: 5 },
    ];
    await fs.writeFile(path.join(dir, 'metrics.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const { steps, values } = await readStepSeries(path.join(dir, 'metrics.jsonl'), ['loss', 'aux']);
    expect(steps).toEqual([1, 2, 3]);
    expect(values.loss).toEqual([4, 2, 1]);
    expect(values.aux).toEqual([NaN, NaN, 5]);
    expect(bucketMeans([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], 2)).toEqual({ x: [3, 5], y: [2, 4.5] });
    expect(emaSeries([4, 2, 1], 0.5)).toEqual([4, 3, 2]);
    await writeLossPlot(dir, { title: 't', yLabel: 'y', series: [{ key: 'loss', name: 'loss' }], emaDecay: 0.9 });
    const png = await fs.readFile(path.join(dir, 'loss.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });

  it('LossPlotWriter draws on its first update, then only once the interval has passed, and always on write()', async () => {
    const dir = path.join(tmp, 'plot-writer');
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'metrics.jsonl'), [1, 2, 3].map((step) => JSON.stringify({ step, loss: 1 / step })).join('\n') + '\n');
    const file = path.join(dir, 'loss.png');
    const drawn = async () =>
      fs.rm(file).then(
        () => true,
        () => false,
      );
    let clock = 1000;
    const plots = new LossPlotWriter(dir, { title: 't', yLabel: 'y', series: [{ key: 'loss', name: 'loss' }] }, 30_000, () => clock);
    expect(await plots.update()).toBe(true);
    expect(await drawn()).toBe(true);
    clock += 29_999;
    expect(await plots.update()).toBe(false);
    expect(await drawn()).toBe(false);
    clock += 1;
    expect(await plots.update()).toBe(true);
    expect(await drawn()).toBe(true);
    clock += 10;
    await plots.write();
    expect(await drawn()).toBe(true);
    clock += 29_999; // the interval counts from write()'s drawing
    expect(await plots.update()).toBe(false);
    expect(await drawn()).toBe(false);
  });
});
