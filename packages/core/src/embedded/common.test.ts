import { imageName, itemRng, resizeBilinear, splitByFlags, splitTrainVal, STREAM } from './common';

describe('embedded helpers', () => {
  it('itemRng depends on (seed, stream, index) only', () => {
    const draw = (seed: number, stream: number, i: number) => itemRng(seed, stream, i).nextUint32();
    expect(draw(1, STREAM.mnistm, 5)).toBe(draw(1, STREAM.mnistm, 5));
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(draw(1, STREAM.mnistm, i));
    expect(seen.size).toBe(200);
    expect(draw(1, STREAM.mnistm, 5)).not.toBe(draw(2, STREAM.mnistm, 5));
    expect(draw(1, STREAM.mnistm, 5)).not.toBe(draw(1, STREAM.syndigits, 5));
    expect(draw(2 ** 40 + 1, STREAM.mnistm, 5)).not.toBe(draw(1, STREAM.mnistm, 5));
  });

  it('splitByFlags puts item i in val exactly when its flag is set', () => {
    expect(splitByFlags(5, [false, true, true, false, false, true])).toEqual({ train: [0, 3, 4], val: [1, 2] });
    expect(() => splitByFlags(3, [true])).toThrow(/3 items, 1 flags/);
  });

  it('splits 80/20, disjoint and complete, the same for the same seed', () => {
    const { train, val } = splitTrainVal(1001, 3, 7);
    expect(val.length).toBe(200);
    expect(train.length).toBe(801);
    expect(new Set([...train, ...val]).size).toBe(1001);
    expect(splitTrainVal(1001, 3, 7)).toEqual({ train, val });
    expect(splitTrainVal(1001, 4, 7).val).not.toEqual(val);
  });

  it('names images as the homework does', () => {
    expect(imageName(0)).toBe('00000.png');
    expect(imageName(12345)).toBe('12345.png');
  });

  it('resizeBilinear keeps flat images flat and same-size images unchanged', () => {
    const flat = { width: 9, height: 7, channels: 3 as const, data: new Uint8Array(9 * 7 * 3).fill(77) };
    for (const [w, h] of [
      [4, 3],
      [20, 30],
      [9, 7],
    ] as const) {
      const out = resizeBilinear(flat, w, h);
      expect(out.data.length).toBe(w * h * 3);
      expect(out.data.every((v) => v === 77)).toBe(true);
    }
    const ramp = { width: 4, height: 1, channels: 1 as const, data: Uint8Array.from([0, 100, 200, 255]) };
    expect(Array.from(resizeBilinear(ramp, 4, 1).data)).toEqual([0, 100, 200, 255]);
    // Halving uses PIL's antialiased triangle filter (support 2 input pixels): weights
    // .75/.75/.25 over pixels 0-2 and .25/.75/.75 over pixels 1-3, normalised.
    expect(Array.from(resizeBilinear(ramp, 2, 1).data)).toEqual([
      Math.floor((0.75 * 0 + 0.75 * 100 + 0.25 * 200) / 1.75),
      Math.floor((0.25 * 100 + 0.75 * 200 + 0.75 * 255) / 1.75),
    ]);
  });
});
