/**
 * Ctrl-C and SIGTERM during long work: the first signal asks the loop to stop at the next safe
 * point (after the current step, with a checkpoint); a second one exits at once, which loses
 * nothing complete because checkpoints and outputs are written atomically.
 */

export class InterruptedError extends Error {
  /** The shell's convention: 128 + the signal number (SIGINT 2, SIGTERM 15). */
  readonly exitCode: number;

  constructor(
    readonly signal: NodeJS.Signals,
    message: string,
  ) {
    super(message);
    this.name = 'InterruptedError';
    this.exitCode = signal === 'SIGTERM' ? 143 : 130;
  }
}

export interface StopRequest {
  /** The signal received, once one was. */
  readonly signal: NodeJS.Signals | undefined;
  /** Removes the handlers (the default behaviour comes back). */
  release(): void;
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** Watches SIGINT and SIGTERM while `what` runs (e.g. "training"), which stops after its current `unit`. */
export function watchStopSignals(what: string, unit = 'step'): StopRequest {
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      process.stderr.write(`\n${signal} again: exiting now; the last complete checkpoint and outputs are kept\n`);
      process.exit(signal === 'SIGTERM' ? 143 : 130);
    }
    received = signal;
    process.stderr.write(`\n${signal}: ${what} stops after the current ${unit} (press Ctrl-C again to quit at once)\n`);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  return {
    get signal() {
      return received;
    },
    release() {
      for (const s of SIGNALS) process.off(s, onSignal);
    },
  };
}
