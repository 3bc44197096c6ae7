/**
 * A training step's random draws: t, eps and the class-drop mask, in that order, from the
 * trainer's generator. Drawn on the training thread, or one step ahead with the noise on worker
 * threads (step-draws-worker.ts) while the step before trains: on a GPU engine the host's 0.6
 * million normals for a batch of 256 (31-56 ms of JavaScript on the project's CPU, about as long
 * as the U-Net's training step on an H200, 27-44 ms) would otherwise keep the GPU waiting every
 * step. The threads draw disjoint stretches of the same stream (Rng.advance): the same values,
 * and the generator's state after each step for its checkpoint.
 */
import { Prefetcher, Rng, type RngState } from '@dlcv/core';
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

/** What a draws thread is asked: `count` normals from the stream at `state` moved `skip` uint32 draws ahead. */
export interface NormalsRequest {
  state: RngState;
  skip: number;
  count: number;
}

/** A draws thread's answer: the normals, and where they left the stream. */
export interface NormalsReply {
  values: Float32Array;
  end: RngState;
}

/**
 * `length` normals of the stream at `start` (rng.normalArray(length)'s values, and the state it
 * leaves), drawn on `threads` in stretches: each Box-Muller pair takes 4 uint32 draws, so pair p
 * starts 4p draws in (Rng.advance). A pair whose first uniform is 0 is redrawn, taking 4 more;
 * then a stretch ends elsewhere than expected, and null asks the caller to draw in order (about
 * once in 2^53 pairs).
 */
export async function normalsOnThreads(start: RngState, length: number, threads: WorkerThread[]): Promise<NormalsReply | null> {
  const offset = start.spareNormal !== null ? 1 : 0; // a held spare is the first value
  const pairs = Math.ceil((length - offset) / 2);
  const n = Math.min(threads.length, pairs);
  if (n < 1) return null;
  const fresh: RngState = { ...start, spareNormal: null };
  const stretches = Array.from({ length: n }, (_, k) => {
    const p0 = Math.floor((k * pairs) / n),
      p1 = Math.floor(((k + 1) * pairs) / n);
    // the last stretch draws what is left, an odd count leaving its spare as normalArray does
    const count = k === n - 1 ? length - offset - 2 * p0 : 2 * (p1 - p0);
    return { p0, p1, count };
  });
  const replies = await Promise.all(stretches.map(({ p0, count }, k) => threads[k]!.request<NormalsReply>({ state: fresh, skip: 4 * p0, count } satisfies NormalsRequest)));
  const expected = new Rng(0);
  for (let k = 0; k < n; k++) {
    expected.setState(fresh);
    expected.advance(4 * stretches[k]!.p1);
    const want = expected.getState(),
      got = replies[k]!.end;
    if (got.stateHi !== want.stateHi || got.stateLo !== want.stateLo || (k < n - 1 && got.spareNormal !== null)) return null;
  }
  const values = new Float32Array(length);
  if (offset) values[0] = 0 + 1 * (start.spareNormal as number); // normalArray's mean + std * normal()
  stretches.forEach(({ p0 }, k) => values.set(replies[k]!.values, offset + 2 * p0));
  return { values, end: replies[n - 1]!.end };
}

/** One step's draws, the noise drawn on `threads` (t and the mask here); `rng` is moved past them. */
async function drawStepOnThreads(rng: Rng, spec: StepDrawSpec, threads: WorkerThread[]): Promise<StepDraws> {
  const { batch, valuesPerImage, timesteps, pUncond } = spec;
  const ts = Array.from({ length: batch }, () => rng.int(timesteps));
  const start = rng.getState();
  const normals = await normalsOnThreads(start, batch * valuesPerImage, threads);
  let eps: Float32Array;
  if (normals) {
    eps = normals.values;
    rng.setState(normals.end);
  } else {
    rng.setState(start);
    eps = rng.normalArray(batch * valuesPerImage);
  }
  const drop = Array.from({ length: batch }, () => (rng.next() < pUncond ? 1 : 0));
  return { ts, eps, drop, rngAfter: rng.getState() };
}

/**
 * Draws one step ahead from a copy of the generator's state `state`, the noise on `threads`
 * worker threads: taking step k returns its draws and starts step k + 1's (unless k + 1 is
 * `end`). Each StepDraws carries the state after it.
 */
export function workerStepDraws(state: RngState, spec: StepDrawSpec, firstStep: number, end: number, threads = 1): StepDrawSource {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`step draws: threads must be a positive integer, got ${threads}`);
  const script = builtWorkerScript('step-draws-worker.js');
  const pool = Array.from({ length: threads }, () => new WorkerThread(script, 'step draws'));
  const rng = new Rng(0);
  rng.setState(state);
  const check = inOrder(firstStep);
  // steps are drawn one after another from the one stream; the Prefetcher starts step + 1's at each take
  let last: Promise<unknown> = Promise.resolve();
  const prefetch = new Prefetcher<StepDraws>(() => {
    const next = last.then(() => drawStepOnThreads(rng, spec, pool));
    last = next.catch(() => undefined);
    return next;
  }, end);
  let closed = false;
  return {
    take: async (step) => {
      if (closed) throw new Error('step draws: taken after close()');
      check(step);
      return prefetch.take(step);
    },
    close: async () => {
      closed = true;
      await prefetch.close();
      await Promise.all(pool.map((th) => th.terminate()));
    },
  };
}
