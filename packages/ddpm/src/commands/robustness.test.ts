/**
 * The CLI as a user meets it, in child processes: Ctrl-C during training saves and resumes to
 * the same bytes, and sampling into a folder that cannot be made or onto a full disk fails
 * within seconds, naming the path, with no temporary files left; a GPU-sized preset on a CPU engine
 * says so before it starts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { findLatestCheckpoint, readMetrics } from '@dlcv/core';
import { makeDigitsFixture, tempDir } from '../test-utils/fixtures';

const BIN = path.join(__dirname, '..', '..', 'bin', 'dlcv-ddpm.js');
const PRELOAD = path.join(__dirname, '..', 'test-utils', 'enospc-preload.js');

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], options: { env?: Record<string, string>; nodeArgs?: string[] } = {}) {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '',
    stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Finished>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

const run = (args: string[], options: Parameters<typeof start>[1] = {}) => start(args, options).done;

async function metricsSteps(runDir: string): Promise<number[]> {
  const file = path.join(runDir, 'metrics.jsonl');
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return text.trim() ? (await readMetrics<{ step: number }>(file)).records.map((r) => r.step) : [];
}

let data: string;
let root: string;
// 40 images of 28x28, batch 8: 5 steps an epoch (4 epochs, grids after the 3rd and the last);
// n_feat 8 keeps a step short on any engine.
const trainArgs = (out: string, more: string[] = []) => [
  'train',
  '--data',
  data,
  '--out',
  out,
  '--n-feat',
  '8',
  '--batch',
  '8',
  '--steps',
  '20',
  '--timesteps',
  '50',
  '--save-every',
  '100',
  '--preview-every',
  '3',
  ...more,
];

beforeAll(async () => {
  data = await makeDigitsFixture({ size: 28, perClass: 4 });
  root = await tempDir('ddpm-robust-');
});

describe('Ctrl-C during training', () => {
  test('stops after the current step with a checkpoint of it, and the resumed run ends byte-identical to a straight one', async () => {
    const straight = path.join(root, 'straight');
    const done = await run(trainArgs(straight));
    expect(done.code).toBe(0);
    expect((await fs.readdir(path.join(straight, 'samples'))).sort()).toEqual(['epoch-0003.png', 'epoch-0004.png']);
    expect(done.stdout).not.toContain('sized for a GPU');

    const dir = path.join(root, 'interrupted');
    const { child, done: finished } = start(trainArgs(dir));
    while ((await metricsSteps(dir)).length < 3) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    const first = await finished;
    expect(first.code).toBe(130);
    const match = /interrupted by SIGINT after step (\d+); checkpoint (\S+); continue with the same command and --resume/.exec(first.stderr);
    expect(match).not.toBeNull();
    const stoppedAt = Number(match?.[1]);
    expect(stoppedAt).toBeLessThan(20);
    // Nothing done is lost: the checkpoint holds the last step logged.
    expect(await findLatestCheckpoint(dir)).toBe(match?.[2]);
    expect(path.basename(match?.[2] ?? '')).toBe(`step-${String(stoppedAt).padStart(8, '0')}`);
    expect((await metricsSteps(dir)).at(-1)).toBe(stoppedAt);

    const resumed = await run(trainArgs(dir, ['--resume']));
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`resumed from ${match?.[2]} at step ${stoppedAt}`);
    const losses = async (d: string) => (await readMetrics<{ loss: number }>(path.join(d, 'metrics.jsonl'))).records.map((r) => r.loss);
    expect(await losses(dir)).toEqual(await losses(straight));
    for (const f of ['model/weights.bin', 'model/weights.json', `checkpoints/step-${String(20).padStart(8, '0')}/tensors.bin`]) {
      expect([f, (await fs.readFile(path.join(dir, f))).equals(await fs.readFile(path.join(straight, f)))]).toEqual([f, true]);
    }
  });
});

describe('training images that cannot be used', () => {
  test('stop the command before its run folder is made, naming every such file with its problem', async () => {
    const broken = await makeDigitsFixture({ size: 28, perClass: 4 });
    const names = ['00031.png', '00007.png'];
    for (const name of names) {
      const bytes = await fs.readFile(path.join(broken, 'data', name));
      await fs.writeFile(path.join(broken, 'data', name), bytes.subarray(0, 30));
    }
    const out = path.join(root, 'broken-data');
    const done = await run(trainArgs(out).map((a) => (a === data ? broken : a)));
    expect(done.code).toBe(1);
    const lines = done.stderr.trim().split('\n');
    expect(lines[0]).toBe('dlcv-ddpm train: 2 of 40 images cannot be used (mend or remove them):');
    expect(lines.slice(1).map((l) => l.split(': ')[0])).toEqual(['00007.png', '00031.png'].map((n) => `  ${path.join(broken, 'data', n)}`));
    expect(lines.slice(1).every((l) => /: not a readable image/.test(l))).toBe(true);
    expect(await fs.stat(out).catch(() => 'absent')).toBe('absent');
  });
});

describe('sampling to a bad place', () => {
  let model: string;
  beforeAll(async () => {
    const dir = path.join(root, 'straight');
    model = path.join(dir, 'model');
    if (!(await fs.stat(model).catch(() => undefined))) expect((await run(trainArgs(dir))).code).toBe(0);
  });

  test('a folder that cannot be made: exits non-zero within seconds, naming it', async () => {
    const t0 = Date.now();
    const r = await run(['sample', '/proc/dlcv-out', '--model', model, '--per-digit', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/dlcv-ddpm sample: \/proc\/dlcv-out: cannot create this folder/);
    expect(Date.now() - t0).toBeLessThan(20000);
  });

  test('a full disk: exits non-zero naming a file, and leaves no temporary files', async () => {
    const out = path.join(root, 'full');
    const r = await run(['sample', out, '--model', model, '--per-digit', '2'], { nodeArgs: ['-r', PRELOAD], env: { DLCV_TEST_FULL_DIR: out } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${out}/\\d_00\\d\\.png: cannot write: no space left on the device \\(ENOSPC\\)`));
    expect((await fs.readdir(out)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  test('a real full filesystem (a 16 KiB tmpfs, where user namespaces allow mounting one)', async () => {
    if (spawnSync('unshare', ['-rm', 'true']).status !== 0) {
      console.warn('skipped the real-tmpfs case: unshare -rm is not permitted here (the simulated case above covers the behaviour)');
      return;
    }
    const mnt = path.join(root, 'tmpfs');
    await fs.mkdir(mnt);
    const script = `mount -t tmpfs -o size=16k tmpfs "${mnt}" && "${process.execPath}" "${BIN}" sample "${mnt}/out" --model "${model}" --per-digit 20; rc=$?; echo "left: $(ls -A "${mnt}/out" | grep -c tmp-)"; exit $rc`;
    const r = spawnSync('unshare', ['-rm', 'sh', '-c', script], { encoding: 'utf8', timeout: 120000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\.png: cannot write: no space left on the device \(ENOSPC\)/);
    expect(r.stdout).toMatch(/left: 0$/m);
  });
});

describe('a GPU-sized preset', () => {
  test("runs, after a note that it is sized for a GPU when the engine's tensors live on the CPU", async () => {
    const dir = path.join(root, 'gpu-preset');
    const done = await run(['train', '--preset', 'gpu', '--data', data, '--out', dir, '--n-feat', '8', '--batch', '8', '--steps', '2', '--timesteps', '50']);
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('2 steps in');
    const engine = /^engine: (\S+)/m.exec(done.stdout);
    const note = `note: the gpu preset is sized for a GPU engine (README "Training on a GPU"); the ${engine?.[1]} engine runs it on the CPU, where it takes hours`;
    if (/^engine: .* on CUDA/m.test(done.stdout)) expect(done.stdout).not.toContain('sized for a GPU');
    else expect(done.stdout).toContain(note);
  });
});
