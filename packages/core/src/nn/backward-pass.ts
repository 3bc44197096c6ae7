// The backward pass of every tfjs gradient (tf.grads, variableGrads, an optimizer's minimize):
// tfjs's Engine.gradients, replaced by one that computes the same values with less host time
// and memory. Its kernels run in the same order on the same inputs, so the gradients are the same
// bits; what differs is what the walk costs:
//
// - The subgraph it walks (the tape's nodes that lead from the xs to y) is found with one pass
//   over the tape each way and a set of tensor ids. tfjs's looks each node input up once per x:
//   a training step with 86 weights and 600 tape nodes makes ~100,000 lookups a step.
// - Each node's saved tensors (the clones kept for its gradient) and its outputs' gradients are
//   released once its input gradients are computed, as PyTorch's autograd releases them (the
//   tape is walked in reverse, so every consumer of its outputs is done). tfjs keeps them all
//   until the pass ends, so a training step's peak is all its activations plus all their
//   gradients. Kept alive: a gradient the pass still holds elsewhere (the caller's dy; one of the
//   xs', which are returned; one a gradient function returned for another tensor too; a kept
//   tensor or a variable) and a saved tensor that a gradient function returned. Only passes that
//   record nothing (gradient depth 0: not inside another gradient's function) release early.
//
// - What a kernel or a custom gradient saves for its gradient is the backend's Identity of each
//   tensor (sharing its data), made without the engine's kernel bookkeeping. tfjs runs each
//   through a full kernel call that also records the copy on the tape, where no path to y ever
//   leads through it: about 250 of a DDPM step's 620 kernels and 40% of its tape. The tape's
//   copies matter only to higher-order gradients, where a backward pass is itself recorded (a
//   save at gradient depth above 1): those saves are left to tfjs.
//
// DLCV_GRADIENT_RELEASE=0 (or setGradientRelease(false)) keeps every tensor to the pass's end;
// DLCV_BACKWARD_PASS=tfjs (or setBackwardPass('tfjs')) runs tfjs's own pass and saves instead.
import * as tf from '@tensorflow/tfjs';

import { envChoice } from '../engine/env-settings';

/** A tfjs tape node (engine.ts; not in its public typings). */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
}

type GradientsResult = { value: tf.Tensor; grads: (tf.Tensor | undefined)[] };
type Gradients = (f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean) => GradientsResult;

/** The Engine internals this uses (engine.ts, tfjs-core 4.x). */
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  backendName: string;
  backend: tf.KernelBackend;
  makeTensorFromTensorInfo(info: tf.TensorInfo): tf.Tensor;
  clone(x: tf.Tensor): tf.Tensor;
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(nameOrFn: string | (() => T), fn?: () => T): T;
  makeTensor(values: Float32Array, shape: number[], dtype: 'float32'): tf.Tensor;
  gradients: Gradients;
}

export type BackwardPassKind = 'dlcv' | 'tfjs';

// DLCV_GRADIENT_RELEASE and DLCV_BACKWARD_PASS, read when the pass is installed
let releaseEnabled = true;
let kind: BackwardPassKind = 'dlcv';
let installed = false;
const counts = { released: 0 };

/** Turns the early release on or off (on unless DLCV_GRADIENT_RELEASE=0); installs the pass first. */
export function setGradientRelease(on: boolean): void {
  installBackwardPass();
  releaseEnabled = on;
}

/** Runs backward passes with this module's walk ('dlcv', the default) or tfjs's own ('tfjs'). */
export function setBackwardPass(which: BackwardPassKind): void {
  installBackwardPass();
  kind = which;
}

/** Which pass runs, whether it releases early, and how many tensors it has released so far. */
export function backwardPassInfo(): { installed: boolean; kind: BackwardPassKind; releaseEnabled: boolean; released: number } {
  return { installed, kind, releaseEnabled, released: counts.released };
}

/** Replaces tfjs's Engine.gradients and Engine.clone once (a no-op when its internals are not the expected ones). */
export function installBackwardPass(): void {
  if (installed) return;
  const engine = tf.engine() as unknown as EngineInternals;
  const proto = Object.getPrototypeOf(engine) as EngineInternals;
  const internals = ['gradients', 'scopedRun', 'startTape', 'endTape', 'tidy', 'makeTensor', 'makeTensorFromTensorInfo', 'clone'] as const;
  if (internals.some((name) => typeof proto[name] !== 'function') || typeof engine.state?.gradientDepth !== 'number') return;
  releaseEnabled = envChoice('DLCV_GRADIENT_RELEASE') !== '0';
  kind = envChoice('DLCV_BACKWARD_PASS') ?? 'dlcv';
  installed = true;
  const original = proto.gradients;
  proto.gradients = function (this: EngineInternals, f, xs, dy, allowNoGradients) {
    return kind === 'tfjs' ? original.call(this, f, xs, dy, allowNoGradients) : gradients(this, f, xs, dy, allowNoGradients ?? false);
  };
  // Engine.clone makes the copies of tensors saved for a gradient (a kernel's, and customGrad's
  // save()), and nothing else.
  const tfjsClone = proto.clone;
  proto.clone = function (this: EngineInternals, x) {
    return kind === 'tfjs' || this.state.gradientDepth !== 1 ? tfjsClone.call(this, x) : identityOf(this, x);
  };
}

/** The backend's Identity of x (a tensor sharing its data), without a kernel call's bookkeeping. */
function identityOf(engine: EngineInternals, x: tf.Tensor): tf.Tensor {
  const name = engine.backendName;
  const kernel = tf.getKernel('Identity', name);
  if (!kernel) throw new Error(`backend "${name}" has no Identity kernel, which saving a tensor for a gradient needs`);
  const out = kernel.kernelFunc({ inputs: { x }, attrs: {}, backend: engine.backend }) as tf.TensorInfo;
  return engine.makeTensorFromTensorInfo(out);
}

function gradients(engine: EngineInternals, f: () => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor | undefined, allowNoGradients: boolean): GradientsResult {
  if (xs.length === 0) throw new Error('gradients() received an empty list of xs.');
  if (dy != null && dy.dtype !== 'float32') throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
  const y = engine.scopedRun(
    () => engine.startTape(),
    () => engine.endTape(),
    () => engine.tidy('forward', f),
  );
  if (!(y instanceof tf.Tensor)) throw new Error('The result y returned by f() must be a tensor.');
  const state = engine.state;
  const walked = nodesFromXsToY(state.activeTape ?? [], xs, y);
  if (!allowNoGradients && walked.length === 0) {
    throw new Error('Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.');
  }
  return engine.tidy('backward', () => {
    const accumulated = new Map<number, tf.Tensor>();
    accumulated.set(y.id, dy ?? engine.makeTensor(new Float32Array(y.size).fill(1), y.shape, 'float32'));
    const release = releaseEnabled && state.gradientDepth === 0 ? new EarlyRelease(dy ?? null, xs) : null;
    walkBackward(walked, accumulated, (fn) => engine.tidy(fn), release);
    const grads = xs.map((x) => accumulated.get(x.id));
    if (state.gradientDepth === 0) {
      // not inside another gradient: the tape is done with
      for (const node of state.activeTape ?? []) for (const saved of node.saved ?? []) saved.dispose();
      state.activeTape = null;
    }
    return { value: y, grads } as unknown as tf.TensorContainer;
  }) as unknown as GradientsResult;
}

/**
 * The tape's nodes on a path from the xs to y, in tape order, each as a copy whose inputs are
 * only those computed from the xs (the ones a gradient is wanted for).
 */
function nodesFromXsToY(tape: readonly TapeNode[], xs: readonly tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromXs = new Set<number>(xs.map((x) => x.id));
  const reachedFromXs = new Uint8Array(tape.length);
  tape.forEach((node, i) => {
    for (const name in node.inputs) {
      if (!fromXs.has(node.inputs[name]!.id)) continue;
      for (const output of node.outputs) fromXs.add(output.id);
      reachedFromXs[i] = 1;
      break;
    }
  });
  const leadToY = new Set<number>([y.id]);
  const reachesY = new Uint8Array(tape.length);
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (!node.outputs.some((output) => leadToY.has(output.id))) continue;
    for (const name in node.inputs) leadToY.add(node.inputs[name]!.id);
    reachesY[i] = 1;
  }
  const walked: TapeNode[] = [];
  tape.forEach((node, i) => {
    if (!reachedFromXs[i] || !reachesY[i]) return;
    const inputs: Record<string, tf.Tensor> = {};
    for (const name in node.inputs) if (fromXs.has(node.inputs[name]!.id)) inputs[name] = node.inputs[name]!;
    walked.push({ ...node, inputs });
  });
  return walked;
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** Walks the nodes in reverse, summing each input's gradients into `accumulated` (by tensor id). */
function walkBackward(nodes: readonly TapeNode[], accumulated: Map<number, tf.Tensor>, tidy: (fn: () => tf.Tensor) => tf.Tensor, release: EarlyRelease | null) {
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    // an output off the path to y has no gradient: the node's gradient function makes it zeros
    const dys = node.outputs.map((output) => accumulated.get(output.id) ?? null);
    if (!node.gradient) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
    const inputGradients = node.gradient(dys);
    for (const name in node.inputs) {
      const gradientOf = inputGradients[name];
      if (!gradientOf) throw new Error(`Cannot backprop through input ${name}. Available gradients found: ${Object.keys(inputGradients)}.`);
      const dx = tidy(gradientOf);
      if (dx.dtype !== 'float32') {
        throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input ${name} must have 'float32' dtype, but has '${dx.dtype}'`);
      }
      const x = node.inputs[name]!;
      if (!sameShape(dx.shape, x.shape)) {
        throw new Error(
          `Error in gradient for op ${node.kernelName}. The gradient of input '${name}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`,
        );
      }
      release?.returned(dx, x.id);
      const sum = accumulated.get(x.id);
      if (sum === undefined) accumulated.set(x.id, dx);
      else {
        accumulated.set(x.id, tf.add(sum, dx));
        sum.dispose();
      }
    }
    release?.nodeDone(node, dys);
  }
}

/** What the early release of one backward pass must keep. */
class EarlyRelease {
  private readonly xs: Set<number>;
  /** Each tensor a gradient function returned, with the ids of the tensors it was the gradient of. */
  private readonly returnedFor = new Map<tf.Tensor, Set<number>>();

  constructor(
    private readonly seed: tf.Tensor | null,
    xs: readonly tf.Tensor[],
  ) {
    this.xs = new Set(xs.map((x) => x.id));
  }

  returned(dx: tf.Tensor, targetId: number): void {
    const targets = this.returnedFor.get(dx);
    if (targets) targets.add(targetId);
    else this.returnedFor.set(dx, new Set([targetId]));
  }

  /** Disposes a node's output gradients and saved tensors once its input gradients are computed. */
  nodeDone(node: TapeNode, dys: readonly (tf.Tensor | null)[]): void {
    node.outputs.forEach((output, i) => {
      const dy = dys[i];
      if (!dy || dy.isDisposed || dy === this.seed || this.xs.has(output.id) || dy.kept || dy instanceof tf.Variable) return;
      const targets = this.returnedFor.get(dy);
      // returned as the gradient of another tensor too: that tensor's node may still read it
      if (targets && (targets.size > 1 || !targets.has(output.id))) return;
      dy.dispose();
      counts.released++;
    });
    for (const saved of node.saved ?? []) {
      if (saved.isDisposed || this.returnedFor.has(saved)) continue;
      saved.dispose();
      counts.released++;
    }
  }
}
