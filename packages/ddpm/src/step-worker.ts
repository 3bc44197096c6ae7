/**
 * A step worker's thread (started by step-workers.ts, from the build): it owns a contiguous share
 * of a batch's images and runs their per-image sampling work, the code of the sampler's own
 * thread on a slice of the batch: their generators (BatchNoise over the same streams), guidance
 * (guideHalves) and the scheduler's step, reading the network's output from, and writing x to,
 * buffers shared with the main thread ('step' mode); or only their noise, x_T and each step's z
 * into a shared buffer ('noise' mode, for the device sampler). After answering a request it
 * draws the next noise it will need, so the draw runs while the network does.
 */
import { parentPort } from 'node:worker_threads';
import { guideHalves } from './guidance';
import { imageBatchNoise, type BatchNoise } from './sampler';
import { schedulerFromSpec, type NoiseSource, type Scheduler } from './schedulers';
import type { StepWorkerRequest, StepWorkerShare } from './step-workers';

class Share {
  private readonly scheduler: Scheduler;
  private readonly noise: BatchNoise;
  /** This share's images in the shared x (in 'noise' mode: x_T, then each step's noise). */
  private readonly x: Float32Array;
  /** Their copy in the unconditional rows of the network's input, when guided ('step' mode). */
  private readonly xCopy: Float32Array | null;
  /** Its images in the shared network output: the conditional half, and the unconditional one when guided. */
  private readonly cond: Float32Array | null;
  private readonly uncond: Float32Array | null;
  /** The noise of the next step that adds any (its index in the schedule), drawn ahead. */
  private drawn: { index: number; z: Float32Array } | null = null;
  /** The index in the schedule of the next step. */
  private next = 0;

  constructor(private readonly m: StepWorkerShare) {
    this.scheduler = schedulerFromSpec(m.scheduler);
    this.noise = imageBatchNoise(m.seed, m.noiseIds);
    const begin = m.first * m.valuesPerImage,
      length = m.noiseIds.length * m.valuesPerImage,
      half = m.images * m.valuesPerImage;
    const stepping = m.mode === 'step',
      guided = stepping && m.w !== 0;
    this.x = new Float32Array(m.input, 4 * begin, length);
    this.xCopy = guided ? new Float32Array(m.input, 4 * (half + begin), length) : null;
    this.cond = stepping ? new Float32Array(m.output, 4 * begin, length) : null;
    this.uncond = guided ? new Float32Array(m.output, 4 * (half + begin), length) : null;
  }

  start(): void {
    this.x.set(this.noise.normalArray(this.x.length));
    this.xCopy?.set(this.x);
    this.next = 0;
  }

  step(t: number): void {
    const expected = this.scheduler.timesteps[this.next];
    if (!this.cond) throw new Error('step workers: "step" asked of a batch opened for its noise only');
    if (t !== expected) throw new Error(`step workers: step ${t} asked, the schedule's next is ${expected}`);
    // in place: the guided prediction over the conditional half, the next x over x
    if (this.uncond) guideHalves(this.cond, this.uncond, this.m.w, this.cond);
    const noise: NoiseSource = { normalArray: (length) => this.takeDrawn(this.next, length) };
    this.scheduler.stepInto(this.cond, t, this.x, noise, this.x);
    this.xCopy?.set(this.x);
    this.next++;
  }

  /** Step t's noise into the shared buffer ('noise' mode): t must be the next step that adds noise. */
  stepNoise(t: number): void {
    const index = this.scheduler.timesteps.indexOf(t, this.next);
    if (index < 0 || this.drawn?.index !== index)
      throw new Error(`step workers: noise of step ${t} asked, the next step that adds noise is ${this.scheduler.timesteps[this.drawn?.index ?? -1] ?? 'none'}`);
    this.x.set(this.takeDrawn(index, this.x.length));
    this.next = index + 1;
  }

  /** Draws the noise of the next step that adds any (the schedule is known ahead). */
  drawAhead(): void {
    if (this.drawn) return;
    const { timesteps } = this.scheduler;
    for (let i = this.next; i < timesteps.length; i++) {
      if (!this.scheduler.addsNoise(timesteps[i] as number)) continue;
      this.drawn = { index: i, z: this.noise.normalArray(this.x.length) };
      return;
    }
  }

  private takeDrawn(index: number, length: number): Float32Array {
    const d = this.drawn;
    if (!d || d.index !== index || d.z.length !== length)
      throw new Error(`step workers: noise of schedule step ${index} (${length} values) asked, drawn ahead: ${d ? `step ${d.index}, ${d.z.length} values` : 'none'}`);
    this.drawn = null;
    return d.z;
  }
}

let share: Share | null = null;
/** A failure of the draw ahead, reported as the next request's answer (each request gets one). */
let failedAhead: Error | null = null;
const port = parentPort;
if (!port) throw new Error('step-worker.js runs as a worker thread (see step-workers.ts)');
port.on('message', (req: StepWorkerRequest) => {
  try {
    const ahead = failedAhead;
    failedAhead = null;
    if (ahead && req.type !== 'open') throw ahead;
    if (req.type === 'open') share = new Share(req.share);
    else {
      if (!share) throw new Error(`step workers: "${req.type}" before "open"`);
      if (req.type === 'start') share.start();
      else if (req.type === 'step') share.step(req.t);
      else share.stepNoise(req.t);
    }
    port.postMessage({ ok: true, value: undefined });
  } catch (e) {
    port.postMessage({ error: (e as Error).message });
    return;
  }
  try {
    if (req.type !== 'open') share?.drawAhead();
  } catch (e) {
    failedAhead = e as Error;
  }
});
