// A dropout mask drawn from core's Rng where the device draws: no inputs; attrs `shape`, `state`
// (the Rng's state as [stateHi, stateLo, incHi, incLo]), `p` and `value`. Element i is 0 where
// the i-th Rng.next() from that state is below p, else value (float32): the values of ops.ts's
// JavaScript loop, drawn by the addon in C++ (native/src/pcg32.h), on the libtorch engine by its
// op thread, so the training thread does not draw them. The caller moves its Rng past the draws.
import type { DeviceKernel } from '../kernel';
import type { RngStateParts } from '../device-ops';
import { DROPOUT_MASK } from './names';

export const dlcvDropoutMaskConfig: DeviceKernel = {
  kernelName: DROPOUT_MASK,
  fused: true,
  run: ({ attrs, ops }) => {
    const { shape, state, p, value } = attrs as unknown as { shape: number[]; state: RngStateParts; p: number; value: number };
    return ops.dropoutMask(shape, state, p, value);
  },
};
