/**
 * The package's worker threads (step-workers.ts, step-draws.ts): where they find their scripts,
 * and a thread that answers requests. Threads run plain Node, so they load the build: under jest
 * the package's code is TypeScript in src/ and its threads still run dist/ (turbo's test task
 * builds first).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EngineInfo } from '@dlcv/core';

/**
 * The worker threads that sampling (--step-workers) and training (--draw-threads) use by default:
 * on a GPU engine the cores less one, at most 8, since the host's per-image work would otherwise
 * keep the GPU waiting; none on a CPU engine, where the network needs the cores.
 */
export function defaultWorkerThreads(engine: EngineInfo | undefined): number {
  return engine?.gpu ? Math.max(1, Math.min(8, os.availableParallelism() - 1)) : 0;
}

/** The built script `name` (e.g. 'step-worker.js'); an error naming the missing file otherwise. */
export function builtWorkerScript(name: string): string {
  const built = __filename.endsWith('.ts') ? path.join(__dirname, '..', 'dist') : __dirname;
  const file = path.join(built, name);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing (build the ddpm package: pnpm build)`);
  return file;
}

/** What a worker script answers each request with: its value, or the error it met. */
export type WorkerReply<R> = { ok: true; value: R } | { error: string };

/**
 * A worker thread answering requests with a WorkerReply, one at a time and in turn (a request
 * is sent when the one before it is answered). A thread that fails or exits fails the request
 * waiting on it and every later one; an idle thread does not keep the process alive.
 */
export class WorkerThread {
  private readonly worker: Worker;
  /** Why the thread stopped, once it has. */
  private down: string | undefined;

  /** `what` names the threads in errors (e.g. 'step workers'). */
  constructor(
    script: string,
    private readonly what: string,
  ) {
    this.worker = new Worker(script);
    this.worker.on('error', (e) => (this.down ??= `failed: ${e.message}`)).on('exit', (code) => (this.down ??= `exited (code ${code})`));
    this.worker.unref();
  }

  /** The last request sent: a new one is sent once it is answered (the thread answers in turn). */
  private queue: Promise<unknown> = Promise.resolve();

  /** Sends `message` once the requests before it are answered; resolves with the thread's answer. */
  request<R>(message: unknown): Promise<R> {
    const send = () => this.send<R>(message);
    const answer = this.queue.then(send, send);
    this.queue = answer.catch(() => undefined);
    return answer;
  }

  private send<R>(message: unknown): Promise<R> {
    return new Promise((resolve, reject) => {
      if (this.down) return reject(new Error(`${this.what}: a worker ${this.down}`));
      const w = this.worker;
      const settle = (done: () => void) => {
        w.off('message', onMessage).off('error', onError).off('exit', onExit);
        w.unref();
        done();
      };
      const onMessage = (reply: WorkerReply<R>) => settle(() => ('error' in reply ? reject(new Error(reply.error)) : resolve(reply.value)));
      const onError = (e: Error) => settle(() => reject(new Error(`${this.what}: a worker failed: ${e.message}`)));
      const onExit = (code: number) => settle(() => reject(new Error(`${this.what}: a worker exited (code ${code})`)));
      w.on('message', onMessage).on('error', onError).on('exit', onExit);
      w.ref();
      w.postMessage(message);
    });
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}
