/**
 * A training step's random draws: t, eps and the class-drop mask, in that order, from the
 * trainer's generator. Drawn on the training thread, or one step ahead on a worker thread
 * (step-draws-worker.ts) while the step before trains: on a GPU engine the host's 0.6 million
 * normals for a batch of 256 (about 55 ms of JavaScript on the project's CPU, longer than the
 * U-Net's training step on an H200) would otherwise keep the GPU waiting every step. The worker
 * continues the same generator in the same order: the same values, and the generator's state
 * after each step for its checkpoint.
 *
 * Nothing here needs TensorFlow.js (the worker loads it).
 */
import { Rng, type RngState } from '@dlcv/core/browser';
import { builtWorkerScript, WorkerThread } from './worker-thread';

export interface StepDrawSpec {
  /** Images a step. */
  batch: number;
  /** Values an image (size x size x channels). */
  valuesPerImage: number;
  /** Training timesteps T (t is uniform in 0..T-1). */
  timesteps: number;
  /** Probability of dropping an image's class. */
  pUncond: number;
}

export interface StepDraws {
  ts: number[];
  eps: Float32Array;
  /** 1: the image's class is dropped. */
  drop: number[];
  /** The generator's state after these draws: what a checkpoint after this step stores. */
  rngAfter: RngState;
}

/** One step's draws from `rng`. */
export function drawStep(rng: Rng, spec: StepDrawSpec): StepDraws {
  const { batch, valuesPerImage, timesteps, pUncond } = spec;
  const ts = Array.from({ length: batch }, () => rng.int(timesteps));
  const eps = rng.normalArray(batch * valuesPerImage);
  const drop = Array.from({ length: batch }, () => (rng.next() < pUncond ? 1 : 0));
  return { ts, eps, drop, rngAfter: rng.getState() };
}

/** The draws of consecutive steps, one take() a step, in order. */
export interface StepDrawSource {
  take(step: number): Promise<StepDraws>;
  close(): Promise<void>;
}

/** Checks that steps are taken one after another from `first`. */
function inOrder(first: number): (step: number) => void {
  let next = first;
  return (step) => {
    if (step !== next) throw new Error(`step draws: step ${step} taken, the next is ${next} (one take a step, in order)`);
    next++;
  };
}

/** Draws on this thread, from `rng` itself, when a step is taken. */
export function inlineStepDraws(rng: Rng, spec: StepDrawSpec, firstStep: number): StepDrawSource {
  const check = inOrder(firstStep);
  return {
    take: async (step) => {
      check(step);
      return drawStep(rng, spec);
    },
    close: async () => undefined,
  };
}

/** What the draws worker is asked: its generator and spec, then each step's draws. */
export type StepDrawRequest = { type: 'open'; state: RngState; spec: StepDrawSpec } | { type: 'draw' };

/**
 * Draws on a worker thread from a copy of the generator's state `state`, one step ahead: taking
 * step k returns its draws and starts step k + 1's (unless k + 1 is `end`). `rng` is not advanced:
 * each StepDraws carries the state after it.
 */
export function workerStepDraws(state: RngState, spec: StepDrawSpec, firstStep: number, end: number): StepDrawSource {
  const thread = new WorkerThread(builtWorkerScript('step-draws-worker.js'), 'step draws');
  const check = inOrder(firstStep);
  const quiet = <T>(p: Promise<T>) => {
    p.catch(() => undefined); // awaited by the take it is for; a close before then leaves nothing unhandled
    return p;
  };
  const opened = quiet(thread.request<void>({ type: 'open', state, spec } satisfies StepDrawRequest));
  // after the open (the thread answers in turn); a failed open fails every draw
  const draw = () => quiet(opened.then(() => thread.request<StepDraws>({ type: 'draw' } satisfies StepDrawRequest)));
  let ahead: Promise<StepDraws> | null = null;
  let closed = false;
  return {
    take: async (step) => {
      if (closed) throw new Error('step draws: taken after close()');
      check(step);
      const draws = ahead ?? draw();
      ahead = step + 1 < end ? draw() : null;
      return draws;
    },
    close: async () => {
      closed = true;
      await Promise.allSettled(ahead ? [ahead] : []);
      await thread.terminate();
    },
  };
}
