/**
 * The face networks of `@vladmandic/face-api` (MIT; weights ship inside the npm package, so
 * nothing is downloaded): TinyFaceDetector for the face-recognition rate, and
 * FaceRecognitionNet (a ResNet-34-like network trained on faces, 128-d descriptors) as the
 * offline feature network of the face FD. They run on tfjs's WebAssembly backend, which this
 * module selects for the whole process: the graders that use it do no other tfjs work.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

/** The parts of face-api's API used here. */
interface FaceDetection {
  score: number;
}
interface FaceApi {
  tf: typeof tf;
  nets: {
    tinyFaceDetector: { loadFromDisk(dir: string): Promise<void>; isLoaded: boolean };
    faceRecognitionNet: {
      loadFromDisk(dir: string): Promise<void>;
      isLoaded: boolean;
      computeFaceDescriptor(input: tf.Tensor3D | tf.Tensor3D[]): Promise<Float32Array | Float32Array[]>;
    };
  };
  TinyFaceDetectorOptions: new (o: { inputSize: number; scoreThreshold: number }) => unknown;
  detectAllFaces(input: tf.Tensor3D, options: unknown): Promise<FaceDetection[]>;
}

export interface FaceApiRuntime {
  api: FaceApi;
  version: string;
  backend: string;
}

let loading: Promise<FaceApiRuntime> | undefined;

export function faceApiModelDir(): string {
  return path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
}

/** Loads face-api once: the wasm backend, then the two networks' weights from the package. */
export function loadFaceApi(): Promise<FaceApiRuntime> {
  loading ??= (async () => {
    const api = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
    if (api.tf.engine() !== tf.engine()) throw new Error('@vladmandic/face-api loaded another copy of @tensorflow/tfjs than this package uses');
    if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend (@tensorflow/tfjs-backend-wasm) failed to initialise');
    await tf.ready();
    const dir = faceApiModelDir();
    await api.nets.tinyFaceDetector.loadFromDisk(dir);
    await api.nets.faceRecognitionNet.loadFromDisk(dir);
    const version = (require('@vladmandic/face-api/package.json') as { version: string }).version;
    return { api, version, backend: tf.getBackend() };
  })();
  return loading;
}

export interface DetectorOptions {
  /** Network input size (multiple of 32); 224 as measured for the grader. */
  inputSize: number;
  scoreThreshold: number;
}

/** Number of faces TinyFaceDetector finds in an HWC uint8 RGB image. */
export async function countFaces(rt: FaceApiRuntime, pixels: Uint8Array, width: number, height: number, options: DetectorOptions): Promise<number> {
  const input = tf.tensor3d(Int32Array.from(pixels), [height, width, 3], 'int32');
  try {
    const found = await rt.api.detectAllFaces(input, new rt.api.TinyFaceDetectorOptions(options));
    return found.length;
  } finally {
    input.dispose();
  }
}

/** 128-d FaceRecognitionNet descriptors of RGB images (the net resizes each to 150x150). */
export async function faceDescriptors(rt: FaceApiRuntime, images: { data: Uint8Array; width: number; height: number }[]): Promise<Float32Array> {
  const out = new Float32Array(images.length * 128);
  const inputs = images.map((im) => tf.tensor3d(Int32Array.from(im.data), [im.height, im.width, 3], 'int32'));
  try {
    const res = await rt.api.nets.faceRecognitionNet.computeFaceDescriptor(inputs);
    const list = Array.isArray(res) ? res : [res];
    list.forEach((d, i) => out.set(d, i * 128));
  } finally {
    tf.dispose(inputs);
  }
  return out;
}
