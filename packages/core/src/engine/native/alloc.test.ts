// The output pool on its own (alloc.ts), with a 1 MiB cap to exercise eviction.
type Alloc = typeof import('./alloc');

function freshPool(capMb: number): Alloc {
  const saved = process.env.DLCV_POOL_MAX_MB;
  process.env.DLCV_POOL_MAX_MB = String(capMb);
  let mod: Alloc | undefined;
  jest.isolateModules(() => {
    mod = require('./alloc') as Alloc;
  });
  if (saved === undefined) delete process.env.DLCV_POOL_MAX_MB;
  else process.env.DLCV_POOL_MAX_MB = saved;
  return mod!;
}

const QUARTER = 65536; // elements: 256 KiB
const HALF = 131072; // 512 KiB

test('small arrays are not pooled; pooled ones come back only after their last owner lets go', () => {
  const pool = freshPool(1);
  const small = pool.outputF32(100);
  pool.retainOutput(small);
  expect(pool.isPooled(small)).toBe(false);
  const a = pool.outputF32(QUARTER);
  expect(pool.isPooled(a)).toBe(true);
  pool.retainOutput(a);
  pool.retainOutput(a.subarray(10)); // a second entry on a view
  pool.releaseOutput(a);
  expect(pool.outputF32(QUARTER).buffer).not.toBe(a.buffer);
  pool.releaseOutput(a.subarray(10));
  expect(pool.outputF32(QUARTER).buffer).toBe(a.buffer);
});

test('over the cap, the least recently used sizes are dropped first', () => {
  const pool = freshPool(1);
  const owned = (n: number) => {
    const x = pool.outputF32(n);
    pool.retainOutput(x);
    return x;
  };
  const [a, b, c, d] = [owned(QUARTER), owned(QUARTER), owned(QUARTER), owned(HALF)];
  pool.releaseOutput(a);
  pool.releaseOutput(b);
  pool.releaseOutput(d); // 256 + 256 + 512 KiB: exactly the cap
  expect(pool.outputPoolStats().freeBytes).toBe(2 ** 20);
  pool.releaseOutput(c); // over: the 512 KiB size (least recently used other size) goes
  expect(pool.outputPoolStats().freeBytes).toBe(3 * 4 * QUARTER);
  const before = pool.outputPoolStats();
  expect(pool.outputF32(HALF).buffer).not.toBe(d.buffer);
  const again = [pool.outputF32(QUARTER), pool.outputF32(QUARTER), pool.outputF32(QUARTER)].map((x) => x.buffer);
  // by identity: the three 256 KiB buffers, each once
  expect(new Set(again).size).toBe(3);
  expect(again.every((x) => [a.buffer, b.buffer, c.buffer].includes(x))).toBe(true);
  const after = pool.outputPoolStats();
  expect([after.allocated - before.allocated, after.reused - before.reused]).toEqual([1, 3]);
});

test('poison fills outputs, reused ones included, with NaN', () => {
  const pool = freshPool(1);
  const a = pool.outputF32(QUARTER);
  a.fill(1);
  pool.retainOutput(a);
  pool.releaseOutput(a);
  pool.setOutputPoison(true);
  const b = pool.outputF32(QUARTER);
  expect(b.buffer).toBe(a.buffer);
  expect(b.every(Number.isNaN)).toBe(true);
});
