/**
 * A step worker's thread (started by step-workers.ts, from the build): it owns a contiguous share
 * of a batch's images and runs their per-image sampling work, the code of the sampler's own
 * thread on a slice of the batch: their generators (BatchNoise over the same streams), guidance
 * (guideHalves) and the scheduler's step, reading the network's output from, and writing x to,
 * buffers shared with the main thread. After answering a step it draws the next step's noise,
 * so the draw runs while the network does.
 */
import { parentPort } from 'node:worker_threads';
import { guideHalves } from './guidance';
import { BatchNoise, imageNoiseRng } from './sampler';
import { schedulerFromSpec, type NoiseSource, type Scheduler } from './schedulers';
import type { StepWorkerRequest, StepWorkerShare } from './step-workers';

class Share {
  private readonly scheduler: Scheduler;
  private readonly noise: BatchNoise;
  /** This share's images in the shared x, and in its copy (the unconditional rows) when guided. */
  private readonly x: Float32Array;
  private readonly xCopy: Float32Array | null;
  /** Its images in the shared network output: the conditional half, and the unconditional one when guided. */
  private readonly cond: Float32Array;
  private readonly uncond: Float32Array | null;
  /** The noise of the next step, drawn ahead. */
  private drawn: Float32Array | null = null;
  private next = 0;

  constructor(private readonly m: StepWorkerShare) {
    this.scheduler = schedulerFromSpec(m.scheduler);
    this.noise = new BatchNoise(m.noiseIds.map((id) => imageNoiseRng(m.seed, id)));
    const begin = m.first * m.valuesPerImage,
      length = m.noiseIds.length * m.valuesPerImage,
      half = m.images * m.valuesPerImage;
    const guided = m.w !== 0;
    this.x = new Float32Array(m.input, 4 * begin, length);
    this.xCopy = guided ? new Float32Array(m.input, 4 * (half + begin), length) : null;
    this.cond = new Float32Array(m.output, 4 * begin, length);
    this.uncond = guided ? new Float32Array(m.output, 4 * (half + begin), length) : null;
  }

  start(): void {
    this.x.set(this.noise.normalArray(this.x.length));
    this.xCopy?.set(this.x);
    this.next = 0;
  }

  step(t: number): void {
    const expected = this.scheduler.timesteps[this.next];
    if (t !== expected) throw new Error(`step workers: step ${t} asked, the schedule's next is ${expected}`);
    // in place: the guided prediction over the conditional half, the next x over x
    if (this.uncond) guideHalves(this.cond, this.uncond, this.m.w, this.cond);
    const noise: NoiseSource = { normalArray: (length) => this.takeDrawn(length) };
    this.scheduler.stepInto(this.cond, t, this.x, noise, this.x);
    this.xCopy?.set(this.x);
    this.next++;
  }

  /** Draws the noise of the next step, if it adds any (the schedule is known ahead). */
  drawAhead(): void {
    const t = this.scheduler.timesteps[this.next];
    if (t !== undefined && this.scheduler.addsNoise(t)) this.drawn = this.noise.normalArray(this.x.length);
  }

  private takeDrawn(length: number): Float32Array {
    const z = this.drawn;
    if (!z || z.length !== length) throw new Error(`step workers: the scheduler asked for ${length} noise values at a step drawn ahead as ${z?.length ?? 0}`);
    this.drawn = null;
    return z;
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
      else share.step(req.t);
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
