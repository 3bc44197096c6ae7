/**
 * ONNX sessions in the page: onnxruntime-web's WebAssembly build, set up from what the report
 * folder carries (no fetch: a file:// page may not). Single-threaded: threads need a
 * cross-origin-isolated page, which a file on disk is not.
 */
import type * as Ort from 'onnxruntime-web';
import type { LiveSession, LiveTensor } from './live-api';

declare const ort: typeof Ort;

/** Inflates a gzip + base64 string written by the report (vendor.ts packBytes). */
export async function unpack(b64: string): Promise<Uint8Array> {
  const bin = atob(b64);
  const gz = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) gz[i] = bin.charCodeAt(i);
  const stream = new Blob([gz]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

let ready: Promise<void> | undefined;

function setUp(): Promise<void> {
  ready ??= (async () => {
    const packed = window.DLCV_ORT;
    if (typeof ort === 'undefined' || !packed) throw new Error('ONNX Runtime is missing from the report folder (vendor/ort.wasm.min.js, vendor/ort-wasm.js)');
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.wasmBinary = await unpack(packed.wasm);
    ort.env.wasm.wasmPaths = { mjs: URL.createObjectURL(new Blob([packed.glue], { type: 'text/javascript' })) };
  })();
  return ready;
}

const sessions = new Map<string, Promise<LiveSession>>();

async function load(name: string): Promise<LiveSession> {
  await setUp();
  const packed = window.DLCV_MODELS?.[name];
  if (!packed) throw new Error(`the report has no model "${name}" (models.js)`);
  const s = await ort.InferenceSession.create(await unpack(packed), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  return {
    inputNames: s.inputNames,
    outputNames: s.outputNames,
    async run(inputs: LiveTensor[]): Promise<LiveTensor[]> {
      if (inputs.length !== s.inputNames.length) throw new Error(`model "${name}" takes ${s.inputNames.length} inputs, got ${inputs.length}`);
      const feeds = Object.fromEntries(s.inputNames.map((n, i) => [n, new ort.Tensor('float32', (inputs[i] as LiveTensor).data, (inputs[i] as LiveTensor).dims)]));
      const out = await s.run(feeds);
      return s.outputNames.map((n) => ({ data: out[n]?.data as Float32Array, dims: out[n]?.dims ?? [] }));
    },
  };
}

/** The session of model `name`, created on first use. */
export function session(name: string): Promise<LiveSession> {
  let s = sessions.get(name);
  if (!s) {
    s = load(name);
    sessions.set(name, s);
  }
  return s;
}
