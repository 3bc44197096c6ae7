/**
 * Images per second of each grader on this machine, on generated inputs (random pixels from the
 * seeded Rng: throughput does not depend on what the pictures show). Graders whose network is
 * missing (no reference classifier installed, no Inception file) are listed as skipped.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { defineCommand, exportOnnx, flag, formatLabelCsv, makeDir, OnnxModel, Rng, writePng } from '@dlcv/core';
import { gradeDann } from '../graders/dann';
import { gradeDigits } from '../graders/digits';
import { gradeFaces } from '../graders/face';
import { gradeFid } from '../graders/fid';
import { defaultDigitModel } from '../networks/digit-classifier';
import { findInception } from '../networks/feature-networks';
import { emit, JSON_FLAG } from './output';

interface BenchRow {
  grader: string;
  images: number;
  seconds: number | null;
  imagesPerSecond: number | null;
  note?: string;
}

async function randomImages(dir: string, n: number, size: number, name: (i: number) => string, seed: number): Promise<void> {
  await makeDir(dir);
  const rng = new Rng(seed);
  for (let i = 0; i < n; i++) {
    const data = new Uint8Array(size * size * 3);
    for (let j = 0; j < data.length; j++) data[j] = rng.int(256);
    await writePng(path.join(dir, name(i)), { width: size, height: size, channels: 3, data });
  }
}

async function time(grader: string, images: number, fn: () => Promise<unknown>): Promise<BenchRow> {
  const t0 = process.hrtime.bigint();
  try {
    await fn();
  } catch (err) {
    return { grader, images, seconds: null, imagesPerSecond: null, note: `skipped: ${(err as Error).message.split('\n')[0]}` };
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { grader, images, seconds, imagesPerSecond: images / seconds };
}

/** The PyTorch DCGAN tutorial's generator (nz 100, ngf 64, 64x64 RGB), random weights. */
function dcganGenerator(): tf.Sequential {
  const g = tf.sequential();
  g.add(tf.layers.conv2dTranspose({ inputShape: [1, 1, 100], filters: 512, kernelSize: 4, strides: 1, padding: 'valid', useBias: false }));
  for (const filters of [256, 128, 64]) {
    g.add(tf.layers.batchNormalization({ epsilon: 1e-5 }));
    g.add(tf.layers.reLU());
    g.add(tf.layers.conv2dTranspose({ filters, kernelSize: 4, strides: 2, padding: 'same', useBias: false }));
  }
  g.add(tf.layers.batchNormalization({ epsilon: 1e-5 }));
  g.add(tf.layers.reLU());
  g.add(tf.layers.conv2dTranspose({ filters: 3, kernelSize: 4, strides: 2, padding: 'same', useBias: false, activation: 'tanh' }));
  return g;
}

/** Generation speed of the same model through tfjs (active backend) and through ONNX Runtime. */
async function benchGeneration(dir: string, rows: BenchRow[]): Promise<void> {
  const g = dcganGenerator();
  const file = path.join(dir, 'dcgan.onnx');
  await exportOnnx(g, file);
  const batch = 8;
  const z = new Rng(6).normalArray(batch * 100);
  rows.push(
    await time(`generate: DCGAN 64x64, tfjs ${tf.getBackend()} backend`, batch, async () => {
      const out = tf.tidy(() => g.predict(tf.tensor4d(z, [batch, 1, 1, 100])) as tf.Tensor);
      await out.data();
      out.dispose();
    }),
  );
  const m = await OnnxModel.load(file);
  await m.run([{ data: z, dims: [batch, 1, 1, 100] }]); // first run allocates
  rows.push(await time('generate: DCGAN 64x64, ONNX Runtime (exported)', batch, () => m.run([{ data: z, dims: [batch, 1, 1, 100] }])));
  await m.dispose();
  g.dispose();
}

const exists = (f: string) =>
  fs.stat(f).then(
    () => true,
    () => false,
  );

export const benchCommand = defineCommand({
  name: 'bench',
  summary: 'Images per second of each grader (digits, dann, fid, face) and of DCGAN generation via tfjs vs ONNX Runtime.',
  flags: { n: flag.int({ help: 'images per set', default: 500, min: 2 }), ...JSON_FLAG },
  // The engine only runs the tfjs side of the generation comparison; graders use ORT or wasm.
  async run({ flags }) {
    const { n } = flags;
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dlcv-eval-bench-'));
    const rows: BenchRow[] = [];
    try {
      const digits = path.join(dir, 'digits'),
        digits2 = path.join(dir, 'digits2'),
        faces = path.join(dir, 'faces'),
        faces2 = path.join(dir, 'faces2');
      const digitName = (i: number) => `${i % 10}_${String(Math.floor(i / 10) + 1).padStart(3, '0')}.png`;
      await randomImages(digits, n, 28, digitName, 1);
      await randomImages(digits2, n, 28, digitName, 2);
      await randomImages(faces, n, 64, (i) => `${String(i).padStart(5, '0')}.png`, 3);
      await randomImages(faces2, n, 64, (i) => `${String(i).padStart(5, '0')}.png`, 4);
      const names = Array.from({ length: n }, (_, i) => `${String(i).padStart(5, '0')}.png`);
      const rng = new Rng(5);
      const truth = path.join(dir, 'truth.csv'),
        pred = path.join(dir, 'pred.csv');
      await fs.writeFile(truth, formatLabelCsv(names.map((imageName) => ({ imageName, label: rng.int(10) }))));
      await fs.writeFile(pred, formatLabelCsv(names.map((imageName) => ({ imageName, label: rng.int(10) }))));

      const haveDigitModel = await exists(defaultDigitModel());
      const noModel = async () => {
        throw new Error(`no reference network at ${defaultDigitModel()} (run train-classifier --install)`);
      };
      rows.push(await time('digits', n, haveDigitModel ? () => gradeDigits(digits, { allowPartial: true }) : noModel));
      rows.push(await time('dann', n, () => gradeDann(pred, truth)));
      rows.push(
        await time('fid (digit-classifier features, 2 folders)', 2 * n, haveDigitModel ? () => gradeFid(digits, digits2, { features: 'digit-classifier', minImages: n }) : noModel),
      );
      rows.push(
        await time('fid (inception, 2 folders)', 2 * n, async () => {
          if (!findInception()) throw new Error('no Inception ONNX file (tools/eval-export-inception.py)');
          return gradeFid(faces, faces2, { features: 'inception', minImages: n });
        }),
      );
      // Before the face networks switch tfjs to its wasm backend.
      await benchGeneration(dir, rows);
      rows.push(await time('fid (face-descriptor features, 2 folders)', 2 * n, () => gradeFid(faces, faces2, { features: 'face-descriptor', minImages: n })));
      rows.push(await time("face (dlib HOG, the assignment's)", n, () => gradeFaces(faces, { minImages: n, detector: 'dlib' })));
      rows.push(await time('face (face-api)', n, () => gradeFaces(faces, { minImages: n, detector: 'face-api' })));
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
    const machine = `${os.cpus()[0]?.model ?? 'cpu'} x${os.availableParallelism()}`;
    emit({ machine, n, rows }, flags.json, () => [
      `bench on ${machine}, ${n} images per set`,
      ...rows.map(
        (r) =>
          `  ${r.grader.padEnd(44)} ${r.imagesPerSecond === null ? (r.note ?? '') : `${r.imagesPerSecond.toFixed(1).padStart(8)} images/s  (${r.images} in ${(r.seconds as number).toFixed(2)} s)`}`,
      ),
    ]);
  },
});
