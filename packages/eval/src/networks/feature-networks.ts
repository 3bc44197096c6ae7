/**
 * Feature networks for the Fréchet distance. Only the first is the metric the assignment uses;
 * the others are real networks this project has, used offline when no Inception file is given,
 * and every result names its network so they are never mistaken for Inception FID.
 *
 *   inception         pytorch-fid's InceptionV3 (FID weights), pool3 2048-d, as an ONNX file
 *                     made by tools/eval-export-inception.py; the file takes [N, 3, H, W] in
 *                     [0, 1] and does pytorch-fid's bilinear resize to 299 and scaling to [-1, 1]
 *                     inside the graph, exactly as pytorch-fid's module does.
 *   digit-classifier  the homework digit classifier's fc2 features (64-d after ReLU): for the
 *                     28x28 digits of problem 2. Images of another size are resized to 28x28.
 *   face-descriptor   face-api's FaceRecognitionNet descriptors (128-d), a ResNet-34-like face
 *                     embedding network; each image is resized to 150x150 by the network.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { OnnxModel, resizeImage, type RawImage } from '@dlcv/core';
import { assetsDir, GradeInputError } from '../files';
import { classifyDigits, DIGIT_SIZE, loadDigitClassifier } from './digit-classifier';
import { faceDescriptors, loadFaceApi } from './face-api';

export const FEATURE_NETWORKS = ['inception', 'digit-classifier', 'face-descriptor'] as const;
export type FeatureNetworkName = (typeof FEATURE_NETWORKS)[number];

export interface FeatureNetwork {
  name: FeatureNetworkName;
  /** Stable identifier stored in statistics files. */
  id: string;
  /** What the number is, for people. */
  description: string;
  isInception: boolean;
  dim: number;
  /** Images per call that keep memory modest. */
  batchSize: number;
  extract(images: RawImage[]): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/** Where an Inception ONNX file is looked for when --inception is not given. */
export function inceptionCandidates(): string[] {
  return [process.env.DLCV_INCEPTION_ONNX, path.join(assetsDir(), 'pt_inception.onnx')].filter((p): p is string => !!p);
}

export function findInception(explicit?: string): string | undefined {
  if (explicit) return explicit;
  return inceptionCandidates().find((p) => existsSync(p));
}

async function inceptionNetwork(file: string): Promise<FeatureNetwork> {
  const model = await OnnxModel.load(file);
  const input = model.inputs[0];
  if (model.inputs.length !== 1 || !input || input.shape.length !== 4 || input.shape[1] !== 3) {
    throw new GradeInputError(
      `${file}: expected one input [N, 3, H, W] (see tools/eval-export-inception.py), got ${model.inputs.map((i) => `${i.name} [${i.shape.join(', ')}]`).join('; ')}`,
    );
  }
  const output = model.outputNames[0] as string;
  return {
    name: 'inception',
    id: 'pytorch-fid-inception-v3-pool3',
    description: 'Inception-V3 pool3 2048-d (pytorch-fid weights; bilinear resize to 299, [-1, 1]) from ' + path.basename(file),
    isInception: true,
    dim: 2048,
    batchSize: 50,
    async extract(images) {
      const out = new Float32Array(images.length * 2048);
      // One run per run of equal-size images (the graph resizes, but a batch has one size).
      let start = 0;
      while (start < images.length) {
        const first = images[start] as RawImage;
        let end = start + 1;
        while (end < images.length && (images[end] as RawImage).width === first.width && (images[end] as RawImage).height === first.height) end++;
        const { width: w, height: h } = first;
        const hw = w * h;
        const x = new Float32Array((end - start) * 3 * hw);
        for (let n = start; n < end; n++) {
          const img = images[n] as RawImage;
          const base = (n - start) * 3 * hw;
          for (let p = 0; p < hw; p++) for (let c = 0; c < 3; c++) x[base + c * hw + p] = (img.data[p * 3 + c] as number) / 255;
        }
        const res = await model.run({ [input.name]: { data: x, dims: [end - start, 3, h, w] } }, [output]);
        const f = res[output]?.data as Float32Array;
        if (f.length !== (end - start) * 2048) throw new GradeInputError(`${file}: output ${output} has ${f.length / (end - start)} values per image, not 2048`);
        out.set(f, start * 2048);
        start = end;
      }
      return out;
    },
    dispose: () => model.dispose(),
  };
}

async function digitNetwork(file?: string): Promise<FeatureNetwork> {
  const c = await loadDigitClassifier(file);
  if (!c.features) throw new GradeInputError(`${c.file}: has no "features" output, so it cannot serve as the digit feature network`);
  const dim = Number(c.model.outputs.find((o) => o.name === c.features)?.shape.at(-1) ?? 64);
  return {
    name: 'digit-classifier',
    id: `dlcv-digit-classifier-fc2-${dim}`,
    description: `digit classifier fc2 features ${dim}-d (${path.basename(c.file)}; images resized to 28x28 when needed)`,
    isInception: false,
    dim,
    batchSize: 256,
    async extract(images) {
      const sized = await Promise.all(images.map((im) => (im.width === DIGIT_SIZE && im.height === DIGIT_SIZE ? im : resizeImage(im, DIGIT_SIZE, DIGIT_SIZE))));
      return (await classifyDigits(c, sized, true)).features as Float32Array;
    },
    dispose: () => c.model.dispose(),
  };
}

async function faceNetwork(): Promise<FeatureNetwork> {
  const rt = await loadFaceApi();
  return {
    name: 'face-descriptor',
    id: 'face-api-face-recognition-net-128',
    description: `face-api ${rt.version} FaceRecognitionNet descriptors 128-d (each image resized to 150x150; tfjs ${rt.backend})`,
    isInception: false,
    dim: 128,
    batchSize: 16,
    extract: (images) => faceDescriptors(rt, images),
    dispose: async () => {},
  };
}

export interface ChooseNetworkOptions {
  /** Explicit choice; default: inception when a file is found, else by image size. */
  features?: FeatureNetworkName;
  inception?: string;
  digitModel?: string;
  /** Size of the first image, for the offline default (28x28 -> digits, else faces). */
  sample?: { width: number; height: number };
}

export async function chooseFeatureNetwork(options: ChooseNetworkOptions): Promise<FeatureNetwork> {
  let name = options.features;
  const inception = findInception(options.inception);
  if (!name) name = inception ? 'inception' : options.sample?.width === DIGIT_SIZE && options.sample.height === DIGIT_SIZE ? 'digit-classifier' : 'face-descriptor';
  switch (name) {
    case 'inception':
      if (!inception) {
        throw new GradeInputError(
          `no Inception ONNX file: pass --inception FILE, set DLCV_INCEPTION_ONNX, or put it at ${path.join(assetsDir(), 'pt_inception.onnx')} (make it with tools/eval-export-inception.py); or choose --features digit-classifier|face-descriptor`,
        );
      }
      return inceptionNetwork(inception);
    case 'digit-classifier':
      return digitNetwork(options.digitModel);
    case 'face-descriptor':
      return faceNetwork();
  }
}
