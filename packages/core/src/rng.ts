/**
 * Seeded random numbers for everything random in the project (data order, noise, crops,
 * dropout masks), so the same seed gives the same bytes on every engine.
 *
 * PCG32 (O'Neill 2014, "XSH RR" output): small state, good statistics, and trivially
 * portable, unlike Math.random or tfjs's per-backend random ops.
 */
import { z } from 'zod';

const MULT_HI = 0x5851f42d;
const MULT_LO = 0x4c957f2d;
const MULT_LO_0 = MULT_LO & 0xffff;
const MULT_LO_1 = MULT_LO >>> 16;

export class Rng {
  // 64-bit state and increment as two unsigned 32-bit halves (JS has no fast u64).
  private stateHi = 0;
  private stateLo = 0;
  private incHi = 0;
  private incLo = 0;
  // The Box-Muller pair's second value, kept as a flag and a number (a field that held either
  // undefined or a double would box each double it stores).
  private hasSpare = false;
  private spare = 0;

  constructor(seed: number, stream = 54) {
    if (!Number.isFinite(seed)) throw new Error(`Rng: seed must be a finite number, got ${seed}`);
    const seedHi = Math.floor(seed / 0x100000000) >>> 0;
    const seedLo = seed >>> 0;
    // inc = (stream << 1) | 1, as in the reference pcg32_srandom_r.
    this.incHi = ((stream >>> 31) | 0) >>> 0;
    this.incLo = ((stream << 1) | 1) >>> 0;
    this.step();
    this.addToState(seedHi, seedLo);
    this.step();
  }

  /** A child generator whose sequence is independent of this one's future draws. */
  fork(label: number): Rng {
    return new Rng(this.nextUint32() * 0x10000 + (label & 0xffff), (label * 2654435761) >>> 0);
  }

  private addToState(hi: number, lo: number): void {
    const sumLo = this.stateLo + lo;
    this.stateLo = sumLo >>> 0;
    this.stateHi = (this.stateHi + hi + (sumLo > 0xffffffff ? 1 : 0)) >>> 0;
  }

  private step(): void {
    // state = state * MULT + inc (mod 2^64). The low half of lo * MULT_LO is Math.imul's; its
    // high half comes from 16-bit pieces (each product below 2^32, exact in doubles); the cross
    // terms only reach the high word, where Math.imul's wrap-around is the mod 2^64.
    const lo = this.stateLo,
      hi = this.stateHi;
    const a0 = lo & 0xffff,
      a1 = lo >>> 16;
    const p00 = a0 * MULT_LO_0,
      p01 = a0 * MULT_LO_1,
      p10 = a1 * MULT_LO_0;
    const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
    const carry = a1 * MULT_LO_1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
    const prodLo = Math.imul(lo, MULT_LO) >>> 0;
    const prodHi = (carry + Math.imul(lo, MULT_HI) + Math.imul(hi, MULT_LO)) >>> 0;
    const sumLo = prodLo + this.incLo;
    this.stateLo = sumLo >>> 0;
    this.stateHi = (prodHi + this.incHi + (sumLo > 0xffffffff ? 1 : 0)) >>> 0;
  }

  /**
   * Moves the generator `draws` uint32 draws ahead, where as many nextUint32() calls would leave
   * it, in O(log draws) (the LCG's jump-ahead, Brown 1994); the spare normal is kept. Lets
   * threads draw disjoint stretches of one stream.
   */
  advance(draws: number): void {
    if (!Number.isSafeInteger(draws) || draws < 0) throw new Error(`Rng.advance: draws must be a non-negative safe integer, got ${draws}`);
    const mask = (1n << 64n) - 1n;
    const u64 = (hi: number, lo: number) => (BigInt(hi) << 32n) | BigInt(lo);
    let accMult = 1n,
      accPlus = 0n,
      curMult = u64(MULT_HI, MULT_LO),
      curPlus = u64(this.incHi, this.incLo);
    for (let d = BigInt(draws); d > 0n; d >>= 1n) {
      if (d & 1n) {
        accMult = (accMult * curMult) & mask;
        accPlus = (accPlus * curMult + curPlus) & mask;
      }
      curPlus = ((curMult + 1n) * curPlus) & mask;
      curMult = (curMult * curMult) & mask;
    }
    const state = (accMult * u64(this.stateHi, this.stateLo) + accPlus) & mask;
    this.stateHi = Number(state >> 32n);
    this.stateLo = Number(state & 0xffffffffn);
  }

  /** Uniform integer in [0, 2^32). */
  nextUint32(): number {
    const hi = this.stateHi,
      lo = this.stateLo;
    this.step();
    // xorshifted = ((old >> 18) ^ old) >> 27, as 32 bits; rot = old >> 59.
    const xHi = (hi >>> 18) ^ hi;
    const xLo = ((lo >>> 18) | (hi << 14)) ^ lo;
    const xorshifted = ((xLo >>> 27) | (xHi << 5)) >>> 0;
    const rot = hi >>> 27;
    return ((xorshifted >>> rot) | (xorshifted << ((32 - rot) & 31))) >>> 0;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5,
      lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), unbiased. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 0x100000000) throw new Error(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Uniform float in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal (Box-Muller; the pair's second value is kept for the next call). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const angle = 2 * Math.PI * v;
    this.spare = r * Math.sin(angle);
    this.hasSpare = true;
    return r * Math.cos(angle);
  }

  /** Float32Array of standard normals, optionally scaled. */
  normalArray(length: number, std = 1, mean = 0): Float32Array {
    const out = new Float32Array(length);
    for (let i = 0; i < length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** Float32Array of uniforms in [lo, hi). */
  uniformArray(length: number, lo = 0, hi = 1): Float32Array {
    const out = new Float32Array(length);
    for (let i = 0; i < length; i++) out[i] = lo + (hi - lo) * this.next();
    return out;
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  /** A shuffled 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /** The full generator state, for checkpoints. */
  getState(): RngState {
    return { stateHi: this.stateHi, stateLo: this.stateLo, incHi: this.incHi, incLo: this.incLo, spareNormal: this.hasSpare ? this.spare : null };
  }

  setState(s: RngState): void {
    this.stateHi = s.stateHi >>> 0;
    this.stateLo = s.stateLo >>> 0;
    this.incHi = s.incHi >>> 0;
    this.incLo = s.incLo >>> 0;
    this.hasSpare = s.spareNormal != null;
    this.spare = s.spareNormal ?? 0;
  }
}

const uint32 = z.number().int().min(0).max(0xffffffff);

/** A generator's state as checkpoints store it. */
export const rngStateSchema = z.object({ stateHi: uint32, stateLo: uint32, incHi: uint32, incLo: uint32, spareNormal: z.number().nullable() });
export type RngState = z.infer<typeof rngStateSchema>;
