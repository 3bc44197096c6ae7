// Replaying a training step's addon calls without its JavaScript. A step of tfjs ops costs the
// host tens of microseconds of JavaScript a kernel (tfjs's engine and tape, the layers, the
// backend) around each addon call, and on CUDA that host time, not the GPU, bounds the step.
// The addon calls of one step are a fixed sequence when the step is the same computation on new
// data: the recorder (Recording) wraps the addon's functions while a step runs eagerly and notes
// each call with its arguments, every handle by where it came from (an earlier call's output, a
// tensor the step is given, a variable's value at the step's start, a tensor made before the
// step), and every upload of the step's inputs by the input array it was. Two consecutive
// recordings that agree in every call and argument (but the ones a ReplayHook supplies afresh at
// each replay: Adam's learning rate, bias corrections and step, a dropout mask's Rng state, DANN's
// gradient reversal weight) show a step that issues the same calls each time; from then on the
// step is replayed: the same addon calls in the same order on the new inputs and the variables'
// current values, then the variables that the step assigns take the new handles and the step's
// outputs are made. ATen sees the same calls as in an eager step, so the results are the same bytes.
//
// A step is not replayed (it runs eagerly, and `reason` says why) when a recording reads the
// device (a download or sync: the JavaScript depends on values), calls an addon function the
// recorder does not know, leaves a tensor it made alive that is neither returned nor a
// variable's value, returns a tensor it did not make, disposes a tensor it was given, or when
// recordings keep differing. A call whose inputs differ in shape or in their non-array values
// from the recorded ones runs eagerly.
import * as tf from '@tensorflow/tfjs';

import { Rng } from '../../rng';
import type { Handle, TorchAddon } from './addon';
import type { TorchBackend } from './backend';

type Values = Float32Array | Int32Array | Uint8Array;

/**
 * Argument kinds of each addon function that makes or frees tensors: h a handle, n a handle or
 * null, H an array of handles, v the values of an upload, . anything else (numbers, int arrays,
 * null), compared by value.
 */
export const REPLAYED_FUNCTIONS: Readonly<Record<string, string>> = {
  upload: 'v..',
  free: 'h',
  view: 'h.',
  cast: 'h.',
  clone: 'h',
  fill: '...',
  dropoutMask: '....',
  conv2d: 'hh.n',
  conv2dBackpropInput: 'hh.',
  conv2dBackpropFilter: 'hh.',
  matmul: 'hh........',
  binary: '.hh',
  binaryScalar: '.h..',
  binaryInPlace: '.hh',
  compare: '.hh',
  unary: '.h..',
  unaryInPlace: '.h..',
  unaryGrad: '.hh.',
  select: 'hhh',
  logical: '.hn',
  gather: 'hh.',
  oneHot: 'h....',
  reduce: '.h..',
  argReduce: '.h..',
  transpose: 'h.',
  tile: 'h.',
  slice: 'h..',
  pad: 'h...',
  concat: 'H.',
  maxPool: 'h.',
  maxPoolGrad: 'hh.',
  avgPool: 'h.',
  avgPoolGrad: 'h.',
  batchNorm: 'hhhnn.',
  batchNormTrain: 'hhh.',
  batchNormTrainGrad: 'hhhhh',
  groupNorm: 'hhh..',
  groupNormGrad: 'hhhhh.',
  runningAverages: 'HH...',
  adam: 'HHHHhh........',
};
/** Addon functions without effects on tensors: called during a recording, they are not recorded. */
export const QUERY_FUNCTIONS: ReadonlySet<string> = new Set(['info', 'opCodes', 'fusedAdamKernels']);

type Source =
  | { kind: 'call'; call: number; out: number }
  | { kind: 'tensor'; slot: number; shape: number[] }
  | { kind: 'variable'; index: number; shape: number[] }
  | { kind: 'outside'; handle: number };
type Arg =
  | { kind: 'value'; value: unknown }
  | { kind: 'handle'; source: Source }
  | { kind: 'handles'; sources: Source[] }
  | { kind: 'input'; slot: number }
  | { kind: 'data'; values: Values };

/**
 * A number among a step's inputs that changes from step to step without changing the step's ops
 * (DANN's gradient reversal weight): the code that passes it to an op as a number hooks that call
 * (ReplayHook), so that each replay takes the value of the step's own StepValue.
 */
export class StepValue {
  constructor(public value: number) {}
}

/** What a replay hook gets: the current step's counterpart of an object among the recorded step's inputs (an Rng, a StepValue). */
export interface ReplayContext {
  current<T extends Rng | StepValue>(recorded: T): T;
}

/** What a hooked call needs afresh at each replay: values for some of its arguments, and what to do once the step's variables hold their new values. */
export interface ReplayHook {
  /** The positions of the arguments `replay` supplies (not compared between recordings). */
  readonly dynamic: readonly number[];
  /** Objects among the step's inputs that `replay` asks the context for (the recording is refused when one is not an input). */
  readonly uses?: readonly (Rng | StepValue)[];
  /** At the call's turn in a replay: the arguments at `dynamic`'s positions, and what to run after the step (its variables then hold their new values). */
  replay(context: ReplayContext): { args: unknown[]; after?(): void };
}

interface Call {
  fn: string;
  args: Arg[];
  hook?: ReplayHook;
  /** A free of a variable's value that the variable's new value frees again at the replay's end: not replayed. */
  skip?: boolean;
}
interface Binding {
  source: Source;
  shape: number[];
  dtype: tf.DataType;
}

let active: Recording | null = null;

/** The recording in progress, for code that issues a call whose arguments must be made afresh at each replay (it hooks the call: ReplayHook). */
export function activeRecording(): Recording | null {
  return active;
}

const typedArray = (v: unknown): v is Values => v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint8Array;

/** A step's inputs: its typed arrays (uploaded by the step), tensors, and Rngs and StepValues (which hooks read). */
export interface StepInputs {
  arrays: Values[];
  tensors: tf.Tensor[];
  objects: (Rng | StepValue)[];
  /** `inputs` with each array as its type and length, each tensor as its dtype and shape, each Rng and StepValue as its kind. */
  signature: string;
}

/** The typed arrays and tensors of `inputs` in a fixed order (own keys, depth first), and its signature. */
export function stepInputs(inputs: unknown): StepInputs {
  const arrays: Values[] = [];
  const tensors: tf.Tensor[] = [];
  const objects: (Rng | StepValue)[] = [];
  const walk = (v: unknown): unknown => {
    if (v instanceof Rng || v instanceof StepValue) {
      objects.push(v);
      return v.constructor.name;
    }
    if (typedArray(v)) {
      arrays.push(v);
      return `${v.constructor.name}[${v.length}]`;
    }
    if (v instanceof tf.Tensor) {
      tensors.push(v);
      return `Tensor<${v.dtype}>[${v.shape.join(',')}]`;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return { arrays, tensors, objects, signature: JSON.stringify(walk(inputs)) ?? 'undefined' };
}

/** One eager step's addon calls, as noted by the wrappers installed while it runs. */
export class Recording {
  readonly calls: Call[] = [];
  /** Why the step cannot be replayed; null while it can. */
  unreplayable: string | null = null;
  /** Where each handle made in the step came from. */
  private readonly made = new Map<number, Source>();
  private readonly freed = new Set<number>();
  private readonly variableHandles = new Map<number, Source>();
  private readonly tensorHandles = new Map<number, Source>();
  private readonly inputSlots: Map<Values, number>;
  /** The slots of the step's Rngs and StepValues among its inputs. */
  readonly objectSlots: Map<object, number>;
  readonly variables: tf.Variable[];
  bindings: { variables: number[]; binding: Binding }[] = [];
  /** The returned tensors: their data's handle (made in the step) and the tensor's shape. */
  outputs: { binding: Binding; shape: number[] }[] = [];
  outputsAreList = false;
  /** The calls' arguments prepared for replays (made by the first). */
  plans?: CallPlan[];

  constructor(
    private readonly backend: TorchBackend,
    inputs: StepInputs,
  ) {
    this.inputSlots = new Map(inputs.arrays.map((a, i) => [a, i]));
    this.objectSlots = new Map(inputs.objects.map((o, i) => [o, i]));
    inputs.tensors.forEach((t, slot) => {
      // a constant not on the device yet is filled now, so that the step takes its handle
      backend.handle(t);
      for (const { handle, shape } of backend.existingHandles(t.dataId)) this.tensorHandles.set(handle, { kind: 'tensor', slot, shape });
    });
    this.variables = Object.values(tf.engine().registeredVariables);
    this.variables.forEach((v, index) => {
      for (const { handle, shape } of backend.existingHandles(v.dataId)) this.variableHandles.set(handle, { kind: 'variable', index, shape });
    });
  }

  /** Whether `values`, written to the backend, is one of the step's inputs (uploaded whatever its values, so that each replay uploads it again). */
  isInput(values: unknown): boolean {
    return typedArray(values) && this.inputSlots.has(values);
  }

  /** Marks the step unreplayable (the first reason stays). */
  refuse(reason: string): void {
    this.unreplayable ??= reason;
  }

  /** Hooks the latest recorded call of `fn` (the caller's own addon call, frees may follow it). */
  hookLastCall(fn: string, hook: ReplayHook): void {
    if (hook.uses?.some((o) => !this.objectSlots.has(o)))
      return this.refuse(`a replayed ${fn} takes its arguments from ${hook.uses.find((o) => !this.objectSlots.has(o))!.constructor.name} that is not among the step's inputs`);
    for (let i = this.calls.length - 1; i >= 0; i--) {
      const call = this.calls[i]!;
      if (call.fn === fn) {
        if (call.hook) break;
        call.hook = hook;
        return;
      }
      if (call.fn !== 'free') break;
    }
    this.refuse(`a replay hook for ${fn} found no such call before it`);
  }

  private source(h: number, fn: string): Source {
    // (freeing a freed handle does nothing, in a replay too)
    if (fn !== 'free' && this.freed.has(h)) this.refuse(`${fn} took a handle freed earlier in the step`);
    return this.made.get(h) ?? this.tensorHandles.get(h) ?? this.variableHandles.get(h) ?? { kind: 'outside', handle: h };
  }

  note(fn: string, kinds: string, args: unknown[], result: unknown): void {
    const index = this.calls.length;
    const described: Arg[] = args.map((a, i) => {
      const kind = kinds[i] ?? '.';
      if (kind === 'h' || (kind === 'n' && a != null)) return { kind: 'handle', source: this.source(a as number, fn) };
      if (kind === 'H') return { kind: 'handles', sources: (a as number[]).map((h) => this.source(h, fn)) };
      if (kind === 'v') {
        const slot = this.inputSlots.get(a as Values);
        return slot !== undefined ? { kind: 'input', slot } : { kind: 'data', values: (a as Values).slice() };
      }
      return { kind: 'value', value: Array.isArray(a) ? [...(a as unknown[])] : a };
    });
    if (fn === 'free') this.freed.add(args[0] as number);
    if (typeof result === 'number') this.made.set(result, { kind: 'call', call: index, out: -1 });
    else if (Array.isArray(result)) result.forEach((h: number, out) => this.made.set(h, { kind: 'call', call: index, out }));
    this.calls.push({ fn, args: described });
  }

  /** After the step: which variables took new values made in it, and the outputs'; the step is unreplayable when a tensor it made outlives it otherwise. */
  finish(returned: tf.Tensor | tf.Tensor[]): void {
    this.outputsAreList = Array.isArray(returned);
    const outputs = Array.isArray(returned) ? returned : [returned];
    const kept = new Set<number>();
    const bound = new Map<string, { variables: number[]; binding: Binding }>();
    this.variables.forEach((v, index) => {
      if (v.isDisposed) return;
      const own = this.backend.existingHandles(v.dataId)[0];
      const source = own && this.made.get(own.handle);
      if (!own || !source || this.freed.has(own.handle)) return;
      kept.add(own.handle);
      const key = JSON.stringify(source);
      const entry = bound.get(key) ?? { variables: [], binding: { source, shape: own.shape, dtype: v.dtype } };
      entry.variables.push(index);
      bound.set(key, entry);
    });
    this.bindings = [...bound.values()];
    const rebound = new Set(this.bindings.flatMap((b) => b.variables));
    for (const call of this.calls) {
      const a = call.args[0];
      if (call.fn !== 'free' || a?.kind !== 'handle') continue;
      if (a.source.kind === 'tensor') this.refuse('the step disposes a tensor it was given');
      if (a.source.kind === 'variable' && rebound.has(a.source.index)) call.skip = true;
    }
    this.outputs = outputs.map((t) => {
      const own = this.backend.existingHandles(t.dataId)[0];
      const source = own && !this.freed.has(own.handle) ? this.made.get(own.handle) : undefined;
      if (!own || !source) {
        this.refuse('the step returns a tensor it did not make');
        return { binding: { source: { kind: 'outside', handle: 0 }, shape: t.shape, dtype: t.dtype }, shape: t.shape };
      }
      kept.add(own.handle);
      return { binding: { source, shape: own.shape, dtype: t.dtype }, shape: t.shape };
    });
    const alive = [...this.made.keys()].filter((h) => !this.freed.has(h) && !kept.has(h));
    if (alive.length > 0) this.refuse(`${alive.length} tensor(s) made in the step outlive it, neither returned nor a variable's value (dispose them inside the step)`);
  }

  /** Whether a variable the calls read or the step assigns has been disposed since (a model rebuilt). */
  usesDisposedVariable(): boolean {
    if (!this.usedVariables) {
      const used = new Set(this.bindings.flatMap((b) => b.variables));
      for (const call of this.calls)
        for (const a of call.args)
          for (const source of a.kind === 'handle' ? [a.source] : a.kind === 'handles' ? a.sources : []) if (source.kind === 'variable') used.add(source.index);
      this.usedVariables = [...used].map((i) => this.variables[i]!);
    }
    return this.usedVariables.some((v) => v.isDisposed);
  }
  private usedVariables?: tf.Variable[];

  /** Where this recording and `other` differ, or null when they issue the same calls. */
  differenceFrom(other: Recording): string | null {
    if (this.calls.length !== other.calls.length) return `${other.calls.length} addon calls, then ${this.calls.length}`;
    for (let i = 0; i < this.calls.length; i++) {
      const a = this.calls[i]!,
        b = other.calls[i]!;
      if (a.fn !== b.fn) return `call ${i}: ${b.fn}, then ${a.fn}`;
      const dynamic = new Set(a.hook?.dynamic ?? []);
      if (!!a.hook !== !!b.hook) return `call ${i} (${a.fn}): hooked in one recording only`;
      const slots = (r: Recording, c: Call) => (c.hook?.uses ?? []).map((o) => r.objectSlots.get(o)).join();
      if (slots(this, a) !== slots(other, b)) return `call ${i} (${a.fn}): its hook takes other inputs`;
      for (let j = 0; j < a.args.length; j++) {
        if (dynamic.has(j)) continue;
        if (!sameArg(a.args[j]!, b.args[j]!)) return `call ${i} (${a.fn}): argument ${j} changed between steps`;
      }
    }
    if (JSON.stringify(this.bindings) !== JSON.stringify(other.bindings)) return "the variables' new values differ";
    if (JSON.stringify(this.outputs) !== JSON.stringify(other.outputs) || this.outputsAreList !== other.outputsAreList) return 'the outputs differ';
    return null;
  }
}

function sameArg(a: Arg, b: Arg): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'data' && b.kind === 'data') return a.values.length === b.values.length && Buffer.compare(bytesOf(a.values), bytesOf(b.values)) === 0;
  if (a.kind === 'value' && b.kind === 'value') return sameValue(a.value, b.value);
  return JSON.stringify(a) === JSON.stringify(b);
}
const bytesOf = (v: Values) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  return Object.is(a, b);
}

/** Runs `f` with the addon's tensor functions wrapped to note their calls in `rec`; restores them after. */
export function recordCalls<T>(addon: TorchAddon, rec: Recording, f: () => T): T {
  const target = addon as unknown as Record<string, unknown>;
  const originals = new Map<string, (...a: unknown[]) => unknown>();
  for (const name of Object.keys(target)) {
    const original = target[name];
    if (typeof original !== 'function' || QUERY_FUNCTIONS.has(name)) continue;
    originals.set(name, original as (...a: unknown[]) => unknown);
    const kinds = REPLAYED_FUNCTIONS[name];
    target[name] = (...args: unknown[]) => {
      if (kinds === undefined) rec.refuse(`the step calls the addon's ${name} (${/^download|^sync$/.test(name) ? 'it reads the device' : 'not replayable'})`);
      const result = (original as (...a: unknown[]) => unknown).apply(addon, args);
      if (kinds !== undefined) rec.note(name, kinds, args, result);
      return result;
    };
  }
  const before = active;
  active = rec;
  try {
    return f();
  } finally {
    active = before;
    for (const [name, original] of originals) target[name] = original;
  }
}

/** A call's arguments that are the same at every replay (numbers, arrays, uploaded data), and the positions of the others. */
interface CallPlan {
  fixed: unknown[];
  varying: number[];
}
function planOf(call: Call): CallPlan {
  const varying: number[] = [];
  const fixed = call.args.map((a, pos) => {
    if (a.kind === 'value') return a.value;
    if (a.kind === 'data') return a.values;
    varying.push(pos);
    return undefined;
  });
  return { fixed, varying };
}

/** Issues `rec`'s calls again on `inputs` and the variables' current values; returns the outputs' handles and what the hooks run after the step. */
export function replayCalls(addon: TorchAddon, backend: TorchBackend, rec: Recording, inputs: StepInputs): { outputs: Handle[]; bound: Handle[]; after: (() => void)[] } {
  const made: unknown[] = new Array(rec.calls.length);
  const after: (() => void)[] = [];
  const resolve = (s: Source): Handle => {
    if (s.kind === 'call') return (s.out < 0 ? made[s.call] : (made[s.call] as Handle[])[s.out]) as Handle;
    if (s.kind === 'tensor') {
      const t = inputs.tensors[s.slot]!;
      return backend.handle({ dataId: t.dataId, shape: s.shape, dtype: t.dtype });
    }
    if (s.kind === 'variable') {
      const v = rec.variables[s.index]!;
      return backend.handle({ dataId: v.dataId, shape: s.shape, dtype: v.dtype });
    }
    return s.handle as Handle;
  };
  const fns = addon as unknown as Record<string, (...a: unknown[]) => unknown>;
  const context: ReplayContext = { current: <T extends Rng | StepValue>(recorded: T) => inputs.objects[rec.objectSlots.get(recorded)!] as T };
  const plans = (rec.plans ??= rec.calls.map(planOf));
  try {
    issueCalls();
  } catch (e) {
    // nothing the replay made outlives it: no variable holds it yet
    for (const m of made) for (const h of Array.isArray(m) ? m : m === undefined ? [] : [m]) addon.free(h as Handle);
    throw e;
  }
  return { outputs: rec.outputs.map((o) => resolve(o.binding.source)), bound: rec.bindings.map((b) => resolve(b.binding.source)), after };

  function issueCalls(): void {
    for (let i = 0; i < rec.calls.length; i++) {
      const call = rec.calls[i]!;
      if (call.skip) continue;
      const plan = plans[i]!;
      const args = plan.fixed.slice();
      for (const pos of plan.varying) {
        const a = call.args[pos]!;
        args[pos] = a.kind === 'handle' ? resolve(a.source) : a.kind === 'handles' ? a.sources.map(resolve) : inputs.arrays[(a as { slot: number }).slot];
      }
      if (call.hook) {
        const fresh = call.hook.replay(context);
        call.hook.dynamic.forEach((pos, k) => (args[pos] = fresh.args[k]));
        if (fresh.after) after.push(fresh.after);
      }
      made[i] = fns[call.fn]!.apply(addon, args);
    }
  }
}
