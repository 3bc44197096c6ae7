// A training step that the libtorch engine replays once it has seen it issue the same addon
// calls twice (step-replay.ts): the first call runs eagerly, the next ones run eagerly while
// they are recorded until two consecutive recordings agree, and from then on each call on
// inputs of the recorded shapes is a replay. On other engines every call runs the step.
import * as tf from '@tensorflow/tfjs';

import type { TorchAddon } from './addon';
import { Rng } from '../../rng';
import { parseEnvChoice } from '../env-settings';
import { TORCH_BACKEND_NAME, type TorchBackend } from './backend';
import { Recording, recordCalls, replayCalls, stepInputs, type StepInputs } from './step-replay';

export type StepOutputs = tf.Tensor | tf.Tensor[];

export interface ReplayableStep<I, O extends StepOutputs> {
  (inputs: I): O;
  /** 'eager' until a recording is confirmed, then 'replaying'; 'refused' when the step cannot be replayed. */
  readonly mode: 'eager' | 'replaying' | 'refused';
  /** Why the step runs eagerly for good (mode 'refused'), or null. */
  readonly reason: string | null;
  /** Calls replayed so far. */
  readonly replays: number;
  /** Calls so far, replayed or not. */
  readonly calls: number;
  /** Whether replays were asked for (ReplayableStepOptions.enabled). */
  readonly enabled: boolean;
  /** The tfjs backend of the latest call, or null before the first. */
  readonly backend: string | null;
}

export interface ReplayableStepOptions {
  /** false: every call runs the step (the default: DLCV_STEP_REPLAY=1 turns it on). */
  enabled?: boolean;
  /** Recordings made before giving up when consecutive ones keep differing (default 4). */
  maxRecordings?: number;
}

let torchAddon: TorchAddon | null = null;

/** The addon the replays call (register.ts sets it when the engine registers). */
export function setReplayAddon(addon: TorchAddon): void {
  torchAddon = addon;
}

/** DLCV_STEP_REPLAY: 1 replays the trainers' steps on the libtorch engine, 0 or unset does not. */
export function stepReplayWanted(raw = process.env.DLCV_STEP_REPLAY): boolean {
  return parseEnvChoice('DLCV_STEP_REPLAY', raw) === '1';
}

/**
 * `step` as a replayable step. `step` must be the same computation at each call: its data are
 * the typed arrays (which it uploads) and tensors found in `inputs` (other values there must not
 * change between calls of one recording's shapes), it updates variables, disposes every tensor
 * it makes but the ones it returns (and none it is given), and reads nothing from the device.
 * What it does on the host besides ops is not replayed, but where a ReplayHook does it: Adam's
 * step count and beta powers, the draws of a dropout mask from an Rng among `inputs`.
 */
export function replayableStep<I, O extends StepOutputs>(step: (inputs: I) => O, options: ReplayableStepOptions = {}): ReplayableStep<I, O> {
  const enabled = options.enabled ?? stepReplayWanted();
  const maxRecordings = options.maxRecordings ?? 4;
  let calls = 0,
    recordings = 0,
    replays = 0;
  let mode: 'eager' | 'replaying' | 'refused' = 'eager';
  let reason: string | null = null;
  let backendName: string | null = null;
  let last: { rec: Recording; signature: string } | null = null;
  let confirmed: { rec: Recording; signature: string } | null = null;

  const refuse = (why: string) => {
    mode = 'refused';
    reason = why;
    last = confirmed = null;
  };

  const run = (inputs: I): O => {
    calls++;
    backendName = tf.getBackend();
    if (!enabled || mode === 'refused' || backendName !== TORCH_BACKEND_NAME || !torchAddon) return step(inputs);
    const addon = torchAddon;
    const backend = tf.backend() as unknown as TorchBackend;
    const given = stepInputs(inputs);
    const { signature } = given;
    // a variable the recording knew is gone (a model rebuilt, weights loaded): record anew
    if (confirmed && confirmed.rec.usesDisposedVariable()) {
      confirmed = last = null;
      mode = 'eager';
      recordings = 0;
    }
    if (confirmed && confirmed.signature === signature) {
      try {
        const out = replay(addon, backend, confirmed.rec, given) as O;
        replays++;
        return out;
      } catch (e) {
        // a tensor the recording took from outside the step is gone (replaced between steps):
        // the replay freed what it made and left the variables and Rngs as they were, so the
        // step runs eagerly and is recorded anew; a failure of the step's own ops fails it again
        confirmed = last = null;
        mode = 'eager';
        recordings = 0;
        // (the addon's errors may come from another realm than this module's Error: no instanceof)
        if (!/ was freed\b/.test(String((e as { message?: unknown } | null)?.message))) throw e;
        return step(inputs);
      }
    }
    // the first call makes what later calls find made (optimizer state, filled constants)
    if (calls === 1 || confirmed) return step(inputs);
    const rec = new Recording(backend, given);
    const out = recordCalls(addon, rec, () => step(inputs));
    rec.finish(out);
    recordings++;
    if (rec.unreplayable) {
      refuse(rec.unreplayable);
      return out;
    }
    const difference = last && last.signature === signature ? rec.differenceFrom(last.rec) : 'no recording of these shapes before';
    if (difference === null) {
      confirmed = { rec, signature };
      last = null;
      mode = 'replaying';
    } else if (recordings >= maxRecordings) refuse(`its addon calls differ between steps (${difference})`);
    else last = { rec, signature };
    return out;
  };
  return Object.defineProperties(run, {
    mode: { get: () => mode },
    reason: { get: () => reason },
    replays: { get: () => replays },
    calls: { get: () => calls },
    enabled: { value: enabled },
    backend: { get: () => backendName },
  }) as unknown as ReplayableStep<I, O>;
}

/** One replay of `rec`: its calls, the variables' new values, the outputs as tensors, then the hooks' after-step work. */
function replay(addon: TorchAddon, backend: TorchBackend, rec: Recording, inputs: StepInputs): StepOutputs {
  // the hooks move the Rngs on as the calls draw from them: put back if a call fails
  const rngs = inputs.objects.filter((o): o is Rng => o instanceof Rng).map((r) => [r, r.getState()] as const);
  let calls: ReturnType<typeof replayCalls>;
  try {
    calls = replayCalls(addon, backend, rec, inputs);
  } catch (e) {
    for (const [r, state] of rngs) r.setState(state);
    throw e;
  }
  const { outputs, bound, after } = calls;
  const engine = tf.engine();
  const tensorOf = (h: (typeof bound)[number], shape: number[], dtype: tf.DataType) => engine.makeTensorFromTensorInfo(backend.fromHandle(h, shape, dtype), backend) as tf.Tensor;
  rec.bindings.forEach(({ variables, binding }, k) => {
    const t = tensorOf(bound[k]!, binding.shape, binding.dtype);
    for (const index of variables) {
      const v = rec.variables[index]!;
      if (tf.util.arraysEqual(v.shape, t.shape)) v.assign(t);
      else tf.tidy(() => v.assign(tf.reshape(t, v.shape)));
    }
    t.dispose();
  });
  const made = rec.outputs.map(({ binding, shape }, k) => {
    const t = tensorOf(outputs[k]!, binding.shape, binding.dtype);
    if (tf.util.arraysEqual(t.shape, shape)) return t;
    const reshaped = tf.reshape(t, shape);
    t.dispose();
    return reshaped;
  });
  for (const f of after) f();
  return rec.outputsAreList ? made : made[0]!;
}

/**
 * Logs what a replayable step did where replays were asked for: the steps replayed, or why they
 * all ran eagerly (refused, another engine, or too few steps of one shape). Nothing when replays
 * were not asked for or no step ran.
 */
export function logStepReplay(
  step: Pick<ReplayableStep<unknown, StepOutputs>, 'mode' | 'reason' | 'replays' | 'calls' | 'enabled' | 'backend'>,
  log: (line: string) => void,
): void {
  if (!step.enabled || step.calls === 0) return;
  if (step.mode === 'refused') log(`step replay: the steps ran eagerly (${step.reason})`);
  else if (step.replays > 0) log(`step replay: ${step.replays} ${step.replays === 1 ? 'step' : 'steps'} replayed`);
  else if (step.backend !== TORCH_BACKEND_NAME) log(`step replay: the steps ran eagerly (replays need the libtorch engine; they ran on the ${step.backend} backend)`);
  else log(`step replay: none of the ${step.calls} steps was replayed (a step of one shape is replayed from its fourth call, once two recorded calls agree)`);
}
