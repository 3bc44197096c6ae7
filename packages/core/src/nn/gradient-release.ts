// Memory released during the backward pass, node by node, as PyTorch's autograd releases it.
//
// tfjs's Engine.gradients walks the tape backward and keeps every tensor of the pass until its
// end: each node's saved forward tensors (the clones kept for its gradient) and the gradient of
// each of its outputs. A training step's peak is then all its activations plus all their
// gradients. PyTorch frees a node's saved tensors and its outputs' gradients as soon as the node
// has been differentiated. With this installed, so does tfjs: once a node's last input gradient
// has been computed (the tape is walked in reverse, so every consumer of its outputs is done),
// its saved tensors and its outputs' gradients are disposed, except a gradient that the pass
// still holds elsewhere (the caller's dy; one of the xs, whose gradients are returned; one a
// gradient function returned for another tensor too; a kept tensor or a variable) and a saved
// tensor that a gradient function returned. Only passes that record nothing (gradient depth 0:
// not inside another gradient's function) release early; the values are the same, only the
// tensors' lifetimes change. tfjs's own disposal at the end of the pass remains (a second
// dispose does nothing).
import * as tf from '@tensorflow/tfjs';

/** A tfjs tape node (engine.ts; not in its public typings). */
interface TapeNode {
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (this: TapeNode, dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
}

/** The Engine internals this hooks (engine.ts, tfjs-core 4.x). */
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  addTapeNode(...args: unknown[]): void;
  gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean): unknown;
}

/** The backward pass in progress: what must outlive its nodes. */
interface Pass {
  seed: tf.Tensor | null;
  xs: Set<number>;
  /** Each tensor a gradient function returned, with the ids of the tensors it was the gradient of. */
  returnedFor: Map<tf.Tensor, Set<number>>;
}

let enabled = process.env.DLCV_GRADIENT_RELEASE !== '0';
let installed = false;
let pass: Pass | null = null;
const counts = { released: 0 };

/** Turns the early release on or off (on unless DLCV_GRADIENT_RELEASE=0); installs it first. */
export function setGradientRelease(on: boolean): void {
  installGradientRelease();
  enabled = on;
}

/** Whether backward passes release early, and how many tensors they have released so far. */
export function gradientReleaseInfo(): { installed: boolean; enabled: boolean; released: number } {
  return { installed, enabled, released: counts.released };
}

function release(p: Pass, node: TapeNode, dys: (tf.Tensor | null)[]): void {
  node.outputs.forEach((output, i) => {
    const dy = dys[i];
    if (!dy || dy.isDisposed || dy === p.seed || p.xs.has(output.id) || dy.kept || dy instanceof tf.Variable) return;
    const targets = p.returnedFor.get(dy);
    // returned as the gradient of another tensor too: that tensor's node may still read it
    if (targets && (targets.size > 1 || !targets.has(output.id))) return;
    dy.dispose();
    counts.released++;
  });
  for (const s of node.saved ?? []) {
    if (s.isDisposed || p.returnedFor.has(s)) continue;
    s.dispose();
    counts.released++;
  }
}

/** Hooks tfjs's engine once (a no-op when its internals are not the expected ones). */
export function installGradientRelease(): void {
  if (installed) return;
  const engine = tf.engine() as unknown as EngineInternals;
  const proto = Object.getPrototypeOf(engine) as EngineInternals;
  if (typeof proto.addTapeNode !== 'function' || typeof proto.gradients !== 'function' || typeof engine.state?.gradientDepth !== 'number') return;
  installed = true;
  const { addTapeNode, gradients } = proto;
  proto.gradients = function (this: EngineInternals, f, xs, dy, allowNoGradients) {
    const outer = pass;
    pass = { seed: dy ?? null, xs: new Set(xs.map((x) => x.id)), returnedFor: new Map() };
    try {
      return gradients.call(this, f, xs, dy, allowNoGradients);
    } finally {
      pass = outer;
    }
  };
  proto.addTapeNode = function (this: EngineInternals, ...args: unknown[]) {
    addTapeNode.apply(this, args);
    const tape = this.state.activeTape;
    const node = tape?.[tape.length - 1];
    const gradient = node?.gradient;
    if (!node || !gradient) return;
    const state = this.state;
    // Called as a method of the node tfjs's backward walks: a copy with the inputs that lead from
    // the xs (getFilteredNodesXToY), one input gradient each.
    node.gradient = function (this: TapeNode, dys) {
      const closures = gradient.call(this, dys);
      const p = pass;
      if (!enabled || !p || state.gradientDepth !== 0) return closures;
      const inputs = this.inputs;
      let left = Object.keys(inputs).length;
      const wrapped: Record<string, () => tf.Tensor> = {};
      for (const [name, closure] of Object.entries(closures)) {
        wrapped[name] = () => {
          const dx = closure();
          const target = inputs[name];
          if (target) {
            const targets = p.returnedFor.get(dx) ?? new Set<number>();
            p.returnedFor.set(dx, targets.add(target.id));
            if (--left === 0) release(p, this, dys);
          }
          return dx;
        };
      }
      return wrapped;
    };
  };
}
