// Work inside a gradient function that its gradient must not see.
//
// tfjs records every kernel run while a gradient is being computed on one tape, and a gradient
// computation started meanwhile (an optimizer's minimize) appends to that same tape, for higher
// orders. A training step whose loss needs another network updated midway (the DCGAN step: D is
// updated between G's forward and G's loss, which goes through the new D) would then either
// record D's whole update on G's tape or run G's forward twice, once for each update.
// outsideTape runs the midway work as if no gradient were being recorded: none of its kernels go
// on the enclosing tape, and a minimize inside it records, differentiates and frees a tape of its
// own, as it does at top level. The enclosing tape is put back afterwards, as it was.
import * as tf from '@tensorflow/tfjs';

/** tfjs's Engine state that gradient recording reads (engine.ts; not in its public typings). */
interface TapeState {
  activeTape: unknown[] | null;
  gradientDepth: number;
}

/**
 * Runs `fn` off the tape being recorded (if any) and returns its result. Tensors `fn` makes are
 * still tracked by the enclosing tidy scopes (tf.keep what must outlive them). A tensor made
 * inside `fn` has no history on the enclosing tape: gradients do not flow through it.
 */
export function outsideTape<T>(fn: () => T): T {
  const state = (tf.engine() as unknown as { state: TapeState }).state;
  const { activeTape, gradientDepth } = state;
  if (gradientDepth === 0) return fn();
  state.activeTape = null;
  state.gradientDepth = 0;
  try {
    return fn();
  } finally {
    state.activeTape = activeTape;
    state.gradientDepth = gradientDepth;
  }
}
