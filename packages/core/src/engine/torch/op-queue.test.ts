// The libtorch addon's op queue (on by default): the same bytes with it off and on, errors
// reported by the next call, call order, timing, a queue fuller than it holds, the op thread's
// polling; and its op timing and Kineto profile.
import * as tf from '@tensorflow/tfjs';

import { isOutOfMemory } from '../../cli-kit/out-of-memory';
import { EARLIER_OP_FAILED } from '../kernels/kernel';
import { describeEngine, ENGINES } from '../kernels/test-utils/engines';
import type { Handle } from './addon';
import { torchAddon } from './index';
import { recordAddonCalls, trainingSteps } from './test-utils/torch-steps';

const entry = ENGINES.find((e) => e.name === 'libtorch')!;

describeEngine(entry, 'libtorch op queue', (engine) => {
  const addon = () => torchAddon()!;
  const codes = () => addon().opCodes();
  const upload = (values: number[]) => addon().upload(Float32Array.from(values), [values.length], 0);
  const read = (h: Handle, n: number) => {
    const out = new Float32Array(n);
    addon().download(h, out);
    return Array.from(out);
  };
  beforeEach(() => tf.setBackend(engine.backend));
  afterEach(() => addon().setQueue(1));

  test('on by default (DLCV_TORCH_QUEUE unset); training steps give the same bytes with it off and on', () => {
    expect(addon().info().queue).toBe(1);
    addon().setQueue(0);
    expect(addon().info().queue).toBe(0);
    const off = trainingSteps();
    addon().setQueue(1);
    const on = trainingSteps();
    expect(off.losses.every(Number.isFinite)).toBe(true);
    expect(on).toEqual(off);
  });

  const sizeMismatch = 'binary: The size of tensor a \\(2\\) must match the size of tensor b \\(3\\)';
  /** The error `f` throws (a failure of the test if none). */
  const thrownBy = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e as Error & { code?: string };
    }
    throw new Error('nothing was thrown');
  };
  /** A backlog on the op thread (matrix products of 1024 x 1024), so that the ops queued next have not run when the calls after them are made. */
  const backlog = () => {
    const big = addon().upload(new Float32Array(1024 * 1024).fill(0.5), [1024, 1024], 0);
    addon().sync();
    for (let i = 0; i < 4; i++) addon().free(addon().matmul(big, big, 1, 1, 1024, 1024, 1024, 0, 0, [1024, 1024]));
    addon().free(big);
  };

  test('a failed op is reported once, naming it, by the next call that queues or reads; an op taking its result fails in turn, naming that failure; later ops run', () => {
    const { binary, unary } = codes();
    const x = upload([1, 2]);
    const y = upload([1, 2, 3]);
    const bad = addon().binary(binary.Add!, x, y); // queued: the call itself cannot know
    const reported = thrownBy(() => addon().sync());
    expect(reported.message).toMatch(new RegExp(`^an earlier op failed on the op thread: ${sizeMismatch}`));
    expect(reported.code).toBe(EARLIER_OP_FAILED);
    const after = addon().unary(unary.Neg!, bad, 0, 0);
    expect(() => addon().sync()).toThrow(new RegExp(`earlier op failed on the op thread: unary: an input was not made: its op failed \\(${sizeMismatch}`));
    expect(() => read(after, 2)).toThrow(new RegExp(`^download: an input was not made: its op failed \\(${sizeMismatch}`));
    expect(read(addon().binary(binary.Add!, x, x), 2)).toEqual([2, 4]);
    // an error of the read itself, named once
    expect(() => read(x, 3)).toThrow(/^download: output has 3 elements, tensor 2$/);
    addon().sync(); // nothing left to report
  });

  test('a read of a tensor that a failure left unmade names that failure and reports it: no later call reports it again', async () => {
    const { binary, unary } = codes();
    const x = upload([1, 2]);
    const y = upload([1, 2, 3]);
    for (const readBy of ['download', 'downloadAsync'] as const) {
      backlog();
      const bad = addon().binary(binary.Add!, x, y);
      const after = addon().unary(unary.Neg!, bad, 0, 0); // queued behind the backlog: neither has run
      const error =
        readBy === 'download'
          ? thrownBy(() => read(after, 2))
          : await addon()
              .downloadAsync(after, new Float32Array(2))
              .then(() => new Error('the read did not fail'))
              .catch((e: Error) => e);
      expect(error.message).toMatch(new RegExp(`^download: an input was not made: its op failed \\(${sizeMismatch}`));
      addon().sync(); // nothing left to report
      expect(read(addon().binary(binary.Add!, x, x), 2)).toEqual([2, 4]);
    }
    // the read's own code: an earlier op's failure, not the read's
    backlog();
    const unmade = addon().unary(unary.Neg!, addon().binary(binary.Add!, x, y), 0, 0);
    expect(thrownBy(() => read(unmade, 2)).code).toBe(EARLIER_OP_FAILED);
    expect(thrownBy(() => read(x, 3)).code).toBe('DLCV_TORCH');
  });

  test("an allocation the allocator refuses is named by the read in words that isOutOfMemory knows (the CLIs' batch hint)", () => {
    // 2^48 float32 values, 1 PiB: more than any machine's memory and address space
    const huge = addon().fill([65536, 65536, 65536], 1, 0);
    const error = thrownBy(() => read(huge, 1));
    // the read names the fill's failure: as its input's, or, when the op thread got there first, as the pending one
    expect(error.message).toMatch(/^(download: an input was not made: its op failed \(|an earlier op failed on the op thread: )fill: /);
    expect(isOutOfMemory(error.message)).toBe(true);
    addon().sync(); // nothing left to report
    addon().free(huge);
  });

  test('a kernel whose call reports an earlier failure throws it: no fallback to the cpu kernel, no warning; the next kernels run', async () => {
    const { binary } = codes();
    const backend = tf.backend() as unknown as { fromHandle(h: Handle, shape: number[], dtype: 'float32'): tf.TensorInfo };
    const bad = addon().binary(binary.Add!, upload([1, 2]), upload([1, 2, 3]));
    const unmade = tf.engine().makeTensorFromTensorInfo(backend.fromHandle(bad, [2], 'float32')) as tf.Tensor;
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      // the Neg kernel's call reports the failure, or (if the add has not run yet) its read does
      await expect((async () => tf.neg(unmade).data())()).rejects.toThrow(new RegExp(sizeMismatch));
      expect(warn).not.toHaveBeenCalled();
      expect(Array.from(await tf.neg(tf.tensor1d([1, 2])).data())).toEqual([-1, -2]);
      addon().sync();
    } finally {
      warn.mockRestore();
      unmade.dispose();
    }
  });

  test('with the queue off, the call that fails throws (its result handle dropped)', async () => {
    addon().setQueue(0);
    const x = upload([1, 2]);
    const y = upload([1, 2, 3]);
    const live = addon().info().handles;
    expect(() => addon().binary(codes().binary.Add!, x, y)).toThrow(/^binary: The size of tensor a \(2\) must match/);
    expect(() => addon().runningAverages([x], [y], 0.5, 0.5, null)).toThrow(/^runningAverages: tensor 0 and its value differ in shape/);
    expect(addon().info().handles).toBe(live);
    expect(read(addon().binary(codes().binary.Multiply!, x, x), 2)).toEqual([1, 4]);
    expect(() => read(x, 3)).toThrow(/^download: output has 3 elements, tensor 2$/);
    // an asynchronous read copies on a libuv thread then
    const doubled = tf.tensor1d([1.5, -2]).mul(2);
    expect(Array.from(await doubled.data())).toEqual([3, -4]);
    doubled.dispose();
  });

  test('ops run in call order: a free after the ops that take the tensor, an in-place op before a read; a freed handle is refused at the call, freed again it is ignored', () => {
    const { binary, unary } = codes();
    const x = upload([0, 1, 2]);
    backlog(); // so that the free below is queued before the add has run
    const doubled = addon().binary(binary.Add!, x, x);
    addon().free(x);
    addon().free(x); // a second free does nothing
    expect(() => addon().unary(unary.Neg!, x, 0, 0)).toThrow(/argument 1 was freed/);
    addon().binaryInPlace(binary.Multiply!, doubled, doubled);
    expect(read(doubled, 3)).toEqual([0, 4, 16]);
  });

  test('handles are numbers, never 0, counted while alive; a freed one stays refused when its slot holds a new tensor; anything else is no handle', () => {
    const { unary } = codes();
    const live = addon().info().handles;
    const a = upload([1, 2]);
    expect(typeof a).toBe('number');
    expect(a).not.toBe(0);
    expect(addon().info().handles).toBe(live + 1);
    addon().free(a);
    expect(addon().info().handles).toBe(live);
    const b = upload([3, 4]); // may take a's slot, under a new generation
    expect(b).not.toBe(a);
    expect(() => addon().unary(unary.Neg!, a, 0, 0)).toThrow(/argument 1 was freed/);
    addon().free(a); // a second free does nothing, and leaves b alone
    expect(read(b, 2)).toEqual([3, 4]);
    const forged = [0, 1, -b, b + 0.5, b + 2 ** 30, 'x', {}];
    for (const h of forged) expect(() => addon().unary(unary.Neg!, h as unknown as Handle, 0, 0)).toThrow(/argument 1 is not a tensor handle/);
    expect(() => addon().free(7 as unknown as Handle)).toThrow(/argument 0 is not a tensor handle/);
    addon().free(b);
    expect(addon().info().handles).toBe(live);
  });

  test('a free rides with the next op queued (info() and reads too), or with the 256th free waiting; with the queue off it releases at once; values are unchanged', () => {
    const { binary } = codes();
    addon().sync();
    expect(addon().info().releasesWaiting).toBe(0);
    const kept = upload([1, 2]);
    const freed = Array.from({ length: 600 }, (_, i) => upload([i]));
    let next = 0;
    const free = (n: number) => freed.slice(next, (next += n)).forEach((h) => addon().free(h));
    free(3);
    expect(addon().info().releasesWaiting).toBe(3); // counted before info's own task takes them
    free(2);
    const sum = addon().binary(binary.Add!, kept, kept); // takes the two along
    expect(addon().info().releasesWaiting).toBe(0);
    free(255);
    expect(addon().info().releasesWaiting).toBe(255);
    free(256); // the 256th is queued in a task of its own
    expect(addon().info().releasesWaiting).toBe(0);
    free(1);
    addon().sync();
    expect(addon().info().releasesWaiting).toBe(0);
    free(1);
    addon().setQueue(0); // drains the queue, with the waiting free
    free(1);
    expect(addon().info().releasesWaiting).toBe(0);
    expect(read(sum, 2)).toEqual([2, 4]);
    expect(read(freed[599]!, 1)).toEqual([599]);
    for (const h of [kept, sum, ...freed.slice(next)]) addon().free(h);
  });

  test('tf.time and tf.profile time a kernel to its end on the op thread: the backend waits for the queue before and after it', async () => {
    const a = tf.randomNormal([64, 64]);
    const { calls, restore } = recordAddonCalls(['sync', 'matmul']);
    try {
      const { kernelMs } = await tf.time(() => tf.matMul(a, a).dispose());
      expect(kernelMs).toBeGreaterThanOrEqual(0);
      expect(calls).toEqual(['sync', 'matmul', 'sync']);
    } finally {
      restore();
      a.dispose();
    }
  });

  test.each([
    ['on', 1],
    ['off', 0],
  ])(
    "op timing with the queue %s: each op counted once by name where it runs, the reads too, not the queue's own tasks; taking the times restarts them; off, nothing is counted",
    (_, queue) => {
      const { binary, unary } = codes();
      addon().setQueue(queue);
      try {
        addon().setOpTiming(1);
        const x = upload([1, 2]);
        const y = addon().binary(binary.Add!, x, x);
        addon().unary(unary.Neg!, addon().binary(binary.Multiply!, y, x), 0, 0);
        expect(read(y, 2)).toEqual([2, 4]);
        const times = addon().takeOpTimes();
        expect(Object.fromEntries(Object.entries(times).map(([name, [ops]]) => [name, ops]))).toEqual({ upload: 1, binary: 2, unary: 1, download: 1 });
        for (const [, ms] of Object.values(times)) expect(ms).toBeGreaterThanOrEqual(0);
        addon().setQueue(queue); // the queue's own tasks (draining, switching) are no ops
        expect(addon().takeOpTimes()).toEqual({});
        addon().setOpTiming(0);
        read(addon().binary(binary.Add!, x, x), 2);
        expect(addon().takeOpTimes()).toEqual({});
      } finally {
        addon().setOpTiming(0);
      }
    },
  );

  test.each([
    ['on', 1],
    ['off', 0],
  ])('the Kineto profile with the queue %s: the ATen ops run between start and stop, where they ran; stop without start, or start twice, is an error', (_, queue) => {
    const { binary, unary } = codes();
    addon().setQueue(queue);
    const x = upload([1, 2]);
    let events: [string, number, number, number, number, number, number][];
    addon().startAtenProfile();
    try {
      expect(() => addon().startAtenProfile()).toThrow(/startAtenProfile: the profiler is already on/);
      const y = addon().unary(unary.Neg!, addon().binary(binary.Multiply!, x, x), 0, 0);
      expect(read(y, 2)).toEqual([-1, -4]);
    } finally {
      events = addon().stopAtenProfile();
    }
    const names = events.map(([name]) => name);
    expect(names).toEqual(expect.arrayContaining(['aten::mul', 'aten::neg']));
    // each op the addon ran is one event, dlcv::<op>, that starts before the ATen calls it makes
    // and ends after them, on the same thread
    const span = (name: string) => events.find(([n]) => n === name)!;
    for (const [op, aten] of [
      ['dlcv::binary', 'aten::mul'],
      ['dlcv::unary', 'aten::neg'],
    ] as const) {
      const [, , opUs, opStart, opThread] = span(op);
      const [, , us, start, thread] = span(aten);
      expect(thread).toBe(opThread);
      expect(start).toBeGreaterThanOrEqual(opStart);
      expect(start + us).toBeLessThanOrEqual(opStart + opUs + 1); // whole microseconds on 1.13
    }
    expect(span('dlcv::unary')[3]).toBeGreaterThanOrEqual(span('aten::mul')[3]);
    // on the CPU build every event is a host one, each with a duration
    for (const [, onDevice, us] of events) {
      expect(onDevice).toBe(0);
      expect(us).toBeGreaterThanOrEqual(0);
    }
    expect(() => addon().stopAtenProfile()).toThrow(/stopAtenProfile: the profiler is not on/);
  });

  test('the op thread polling before it sleeps: the same results, ops queued back to back and with pauses longer than the poll; the setting is checked', () => {
    const { binary } = codes();
    expect(addon().info().queueSpin).toBe(0); // the CPU build's default: it sleeps at once
    const run = (pauseUs: number) => {
      const total = upload([0]);
      const one = upload([1]);
      for (let i = 0; i < 200; i++) {
        const until = process.hrtime.bigint() + BigInt(pauseUs * 1000 * (i % 3));
        while (process.hrtime.bigint() < until); // JavaScript's work between two ops
        addon().binaryInPlace(binary.Add!, total, one);
      }
      return read(total, 1)[0];
    };
    try {
      addon().setQueueSpin(300);
      expect(addon().info().queueSpin).toBe(300);
      expect(run(0)).toBe(200);
      expect(run(100)).toBe(200); // within the poll
      addon().setQueueSpin(20);
      expect(run(100)).toBe(200); // past it: the op thread sleeps and is woken
    } finally {
      addon().setQueueSpin(0);
    }
    for (const bad of [-1, 1.5, 10001, NaN]) expect(() => addon().setQueueSpin(bad)).toThrow(/setQueueSpin: microseconds must be a whole number from 0 to 10000$/);
    expect(addon().info().queueSpin).toBe(0);
  });

  test('10,000 queued ops, more than the queue holds (a call waits for room), all run in order', () => {
    const { binary } = codes();
    const total = upload([0]);
    const one = upload([1]);
    for (let i = 0; i < 10000; i++) addon().binaryInPlace(binary.Add!, total, one);
    expect(read(total, 1)).toEqual([10000]);
  });
});
