import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readImage, setupEngine } from '@dlcv/core';
import { saveModelFolder } from '../model-io';
import { inferenceTimesteps, resolveSchedulerConfig } from '../schedulers';
import { tempDir } from '../test-utils/fixtures';
import { createUnet } from '../model';
import { benchCommand } from './bench';
import { gridCommand } from './grid';
import { nearestStates, reverseCommand, reverseLabels } from './reverse';
import { sampleCommand, sampleFileName } from './sample';

let modelDir: string;
let root: string;

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  root = await tempDir('ddpm-cmd-');
  modelDir = path.join(root, 'model');
  // An untrained tiny model: the commands' contracts (names, bytes, layout) do not need a good one.
  await saveModelFolder(modelDir, createUnet({ nFeat: 8, inChannels: 3, nClasses: 10, imageSize: 12, groups: 2 }, 1), {
    unet: { nFeat: 8, inChannels: 3, nClasses: 10, imageSize: 12, groups: 2 },
    scheduler: resolveSchedulerConfig({ num_train_timesteps: 50 }),
    sampling: { sampler: 'ddim', steps: 3, w: 2, eta: 0 },
  });
});

afterAll(() => jest.restoreAllMocks());

/** Runs a command as the CLI would, on the engine the tests set up. */
const invoke = (cmd: typeof sampleCommand, positionals: string[], flags: Record<string, string | true>) =>
  cmd.invoke([...positionals, ...Object.entries(flags).flatMap(([k, v]) => (v === true ? [`--${k}`] : [`--${k}`, v]))]);
const run = (cmd: typeof sampleCommand, positionals: string[], flags: Record<string, string>) => invoke(cmd, positionals, { model: modelDir, ...flags });
const files = async (dir: string) => (await fs.readdir(dir)).sort();
const bytes = (dir: string, name: string) => fs.readFile(path.join(dir, name));

describe('sample', () => {
  test('writes <digit>_<k:03>.png for every digit, the graded names', async () => {
    expect(sampleFileName(0, 1)).toBe('0_001.png');
    expect(sampleFileName(9, 100)).toBe('9_100.png');
    const out = path.join(root, 'a');
    await run(sampleCommand, [out], { 'per-digit': '2' });
    const want = [];
    for (let d = 0; d < 10; d++) want.push(`${d}_001.png`, `${d}_002.png`);
    expect(await files(out)).toEqual(want);
    const img = await readImage(path.join(out, '7_002.png'));
    expect([img.width, img.height, img.channels]).toEqual([12, 12, 3]);
  });

  test('the same command writes the same bytes; the batch size does not matter; another seed differs', async () => {
    // 'a' was written by the test above, with the same command.
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => path.join(root, n)) as [string, string, string, string];
    await run(sampleCommand, [b], { 'per-digit': '2' });
    await run(sampleCommand, [c], { 'per-digit': '2', batch: '7' });
    await run(sampleCommand, [d], { 'per-digit': '2', seed: '1' });
    let differs = 0;
    for (const name of await files(a)) {
      const ref = await bytes(a, name);
      expect([name, ref.equals(await bytes(b, name)), ref.equals(await bytes(c, name))]).toEqual([name, true, true]);
      if (!ref.equals(await bytes(d, name))) differs++;
    }
    expect(differs).toBe(20);
  });

  test('refuses a missing model folder with its file name, and a missing output folder', async () => {
    await expect(invoke(sampleCommand, [path.join(root, 'x')], { model: path.join(root, 'nope') })).rejects.toThrow(`${path.join(root, 'nope', 'config.json')}: not found`);
    await expect(run(sampleCommand, [], {})).rejects.toThrow(/give the output folder/);
    // The usage is generated from the flags, --out included.
    expect(sampleCommand.usage).toMatch(/^sample \[<out_dir>\] .*\[--out DIR\] \[--per-digit N\]/);
    await expect(run(sampleCommand, [path.join(root, 'x')], { steps: '51' })).rejects.toThrow(/--steps must be in 1\.\.50/);
    await expect(run(sampleCommand, [path.join(root, 'x')], { runtime: 'onnx', arithmetic: 'device' })).rejects.toThrow('--arithmetic device needs --runtime tfjs');
    await expect(run(sampleCommand, [path.join(root, 'x')], { runtime: 'onnx', 'guided-forward': 'shared' })).rejects.toThrow('--guided-forward shared needs --runtime tfjs');
    // refused before anything is written
    await expect(fs.stat(path.join(root, 'x'))).rejects.toThrow('ENOENT');
  });

  test("--arithmetic device with step workers writes the host arithmetic's images to a level", async () => {
    const [host, device] = ['h', 'g'].map((n) => path.join(root, n)) as [string, string];
    await run(sampleCommand, [host], { 'per-digit': '2', arithmetic: 'host', 'step-workers': '2' });
    await run(sampleCommand, [device], { 'per-digit': '2', arithmetic: 'device', 'step-workers': '2' });
    // host with step workers is the main thread's bytes ('a', written above)
    for (const name of await files(host)) expect([name, (await bytes(host, name)).equals(await bytes(path.join(root, 'a'), name))]).toEqual([name, true]);
    let most = 0;
    for (const name of await files(device)) {
      const [h, g] = [await readImage(path.join(host, name)), await readImage(path.join(device, name))];
      h.data.forEach((v, i) => (most = Math.max(most, Math.abs(v - (g.data[i] as number)))));
    }
    expect(most).toBeLessThanOrEqual(1);
  });

  test("--guided-forward shared (the down path once per image) writes the full forward's images to a level", async () => {
    const shared = path.join(root, 's');
    const log = jest.mocked(console.log);
    log.mockClear();
    await run(sampleCommand, [shared], { 'per-digit': '2', 'guided-forward': 'shared' });
    // the line gpu-check's summary reads to tell how the sampler ran
    expect(log.mock.calls.map((c) => String(c[0])).find((l) => l.startsWith('sampling'))).toMatch(
      /^sampling 10 x 2 images: ddim 3 steps, eta 0, guidance w 2, seed 0, tfjs \(model .*, n_feat 8\), the down path once per image$/,
    );
    let most = 0;
    for (const name of await files(path.join(root, 'a'))) {
      const [full, once] = [await readImage(path.join(root, 'a', name)), await readImage(path.join(shared, name))];
      full.data.forEach((v, i) => (most = Math.max(most, Math.abs(v - (once.data[i] as number)))));
    }
    expect(most).toBeLessThanOrEqual(1);
  });
});

describe('grid', () => {
  test("rows are digits and column k is every digit's k-th sample (shared noise)", async () => {
    const out = path.join(root, 'a');
    const file = path.join(root, 'grid.png');
    await run(gridCommand, [file], { cols: '2' });
    const grid = await readImage(file);
    // torchvision layout: 2 px padding around and between 12 px tiles.
    expect([grid.width, grid.height]).toEqual([2 * 14 + 2, 10 * 14 + 2]);
    for (const [d, k] of [
      [0, 0],
      [3, 1],
      [9, 0],
    ] as const) {
      const tile = await readImage(path.join(out, sampleFileName(d, k + 1)));
      for (let y = 0; y < 12; y++) {
        const start = ((2 + d * 14 + y) * grid.width + 2 + k * 14) * 3;
        expect(Buffer.from(grid.data.subarray(start, start + 36)).equals(Buffer.from(tile.data.subarray(y * 36, (y + 1) * 36)))).toBe(true);
      }
    }
  });
});

describe('reverse', () => {
  test('state labels follow the reference: t = T is the noise, t = 0 the image', () => {
    const full = reverseLabels(inferenceTimesteps(resolveSchedulerConfig({}), 400));
    expect(full).toEqual(Array.from({ length: 401 }, (_, i) => 400 - i));
    expect(nearestStates(full, [0, 5, 20, 80, 160, 400]).map((i) => full[i])).toEqual([0, 5, 20, 80, 160, 400]);
    // DDIM, 5 trailing steps of 50: timesteps 49, 39, 29, 19, 9.
    const few = reverseLabels(inferenceTimesteps(resolveSchedulerConfig({ num_train_timesteps: 50 }), 5));
    expect(few).toEqual([50, 40, 30, 20, 10, 0]);
    // 5 is as far from 0 as from 10: the noisier state is shown.
    expect(nearestStates(few, [0, 5, 20, 50]).map((i) => few[i])).toEqual([0, 10, 20, 50]);
  });

  test('writes the strip, its frames and a GIF; its last frame is 0_001.png', async () => {
    const out = path.join(root, 'rev');
    // 3 trailing DDIM steps of 50: timesteps 49, 32, 16, so states t = 50, 33, 17, 0.
    await run(reverseCommand, [out], { t: '0,20,50' });
    expect(await files(out)).toEqual(['reverse.gif', 'reverse.png', 'reverse_t000.png', 'reverse_t017.png', 'reverse_t050.png']);
    const strip = await readImage(path.join(out, 'reverse.png'));
    expect([strip.width, strip.height]).toEqual([3 * 14 + 2, 14 + 2]);
    const samples = path.join(root, 'a');
    expect((await bytes(out, 'reverse_t000.png')).equals(await bytes(samples, '0_001.png'))).toBe(true);
    await expect(run(reverseCommand, [out], { t: '0,60' })).rejects.toThrow(/--t: 60 is beyond the model's 50 timesteps/);
  });
});

describe('bench', () => {
  test('times a training step, an EMA update and a sampling forward and prints them in a table', async () => {
    const lines: string[] = [];
    (console.log as jest.Mock).mockImplementation((m: string) => void lines.push(m));
    await invoke(benchCommand, [], { 'n-feat': '8', 'train-batch': '2', 'sample-batch': '2', repeats: '1', warmup: '0', 'no-torch': true });
    (console.log as jest.Mock).mockImplementation(() => undefined);
    expect(lines.join('\n')).toMatch(/train step, batch 2 +\d+\.\d{4} s +- +-/);
    // the U-Net's 86 trainable weights (n_feat 8 has as many as 128)
    expect(lines.join('\n')).toMatch(/EMA update, 86 weights +\d+\.\d{4} s +- +-/);
    expect(lines.join('\n')).toMatch(/sampling forward, batch 2 +\d+\.\d{4} s/);
    expect(lines.join('\n')).toContain('PyTorch: skipped (--no-torch)');
    await expect(invoke(benchCommand, [], { 'n-feat': '12' })).rejects.toThrow(/multiple of 8/);
  });
});
