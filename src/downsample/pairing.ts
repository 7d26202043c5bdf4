/**
 * Which frames of a pyramid level are reduced together into the next level, for frames that arrive one 2-D image at
 * a time in an acquisition order over [append, ...outer] dimensions (e.g. t, c, z). Pure arithmetic, plain data: a
 * PairingSpec crosses to the downsample worker thread as workerData.
 *
 * The rule: frames at the same position in every dimension but `halved` share a key; along `halved`, coordinates
 * 2j and 2j+1 pair ('first', 'second') into the next level's coordinate j; the last coordinate of an odd size is
 * 'single' (reduced in space at once). Halving the append dimension (unbounded) leaves singles to the end of the
 * stream. The frames a level emits, numbered in emission order, are then in the next level's acquisition order
 * (sizes from nextLevelSizes), for whole streams and for any prefix, provided pendings left at the end are flushed
 * in the order their first frames arrived: the emission point of an output position (its 'second' or 'single'
 * frame) is strictly monotone in that position, in the lexicographic order of the acquisition dimensions, and so
 * is its 'first' frame. test/pairing.test.ts checks this exhaustively on small shapes.
 */
import { describeValue } from '../util/describe-value.js';

export interface PairingSpec {
  /** Sizes of [append, ...outer] at the source level, storage order (append size unused: unbounded). */
  sizes: number[];
  /** Acquisition order: indices into sizes, outermost first; acquisition[0] === 0 (the append dim). */
  acquisition: number[];
  /** Which index of sizes is halved by pairing into the next level, or -1: none (every frame is reduced in y, x alone). */
  halved: number;
}

export type PairRole = 'first' | 'second' | 'single';

export interface PairStep {
  /** The storage-order linear index of the frame's position with the halved coordinate left out. */
  key: number;
  role: PairRole;
}

/** Today's pairing: consecutive frames of a (t, c, y, x) stream, t halved. */
export const CONSECUTIVE_PAIRING: Readonly<PairingSpec> = Object.freeze({ sizes: [0], acquisition: [0], halved: 0 });

/** Throws unless `spec` is a well-formed PairingSpec; errors name `field` and the bad entry. */
export function assertPairingSpec(spec: PairingSpec, field = 'pairing'): void {
  if (typeof spec !== 'object' || spec === null) throw new TypeError(`${field} must be {sizes, acquisition, halved}; got ${describeValue(spec)}`);
  const { sizes, acquisition, halved } = spec;
  if (!Array.isArray(sizes) || sizes.length === 0) throw new RangeError(`${field}.sizes must be a non-empty list of sizes [append, ...outer]; got ${listText(sizes)}`);
  sizes.forEach((size, i) => {
    const min = i === 0 ? 0 : 1;
    if (!Number.isSafeInteger(size) || size < min) {
      throw new RangeError(`${field}.sizes[${i}] must be ${i === 0 ? 'a non-negative' : 'a positive'} integer; got ${describeValue(size)}`);
    }
  });
  const n = sizes.length;
  if (!Array.isArray(acquisition) || acquisition.length !== n || new Set(acquisition).size !== n || acquisition.some((d) => !Number.isInteger(d) || d < 0 || d >= n) || acquisition[0] !== 0) {
    throw new RangeError(`${field}.acquisition must list each index 0..${n - 1} of sizes once, 0 (the append dimension) first; got ${listText(acquisition)}`);
  }
  if (!Number.isInteger(halved) || halved < -1 || halved >= n) {
    throw new RangeError(`${field}.halved must be an index of sizes (0..${n - 1}) or -1 (none); got ${describeValue(halved)}`);
  }
}

/**
 * Throws unless `pairing` holds one spec per level transition (`levels - 1`) and each level's spec describes what the
 * level below makes: the same acquisition order, and outer sizes with the halved one rounded up to half.
 */
export function assertPairingChain(pairing: readonly PairingSpec[], levels: number, field = 'pairing'): void {
  if (!Array.isArray(pairing) || pairing.length !== levels - 1) {
    throw new RangeError(`${field} must hold one spec per level transition (${levels - 1} for ${levels} levels); got ${Array.isArray(pairing) ? `${pairing.length} specs` : describeValue(pairing)}`);
  }
  pairing.forEach((spec, l) => assertPairingSpec(spec, `${field}[${l}]`));
  for (let l = 1; l < pairing.length; l++) {
    const below: PairingSpec = pairing[l - 1]!;
    const spec: PairingSpec = pairing[l]!;
    const want = nextLevelSizes(below);
    if (spec.sizes.length !== want.length || spec.sizes.some((size, i) => i > 0 && size !== want[i])) {
      throw new RangeError(`${field}[${l}].sizes must be [*, ${want.slice(1).join(', ')}] (${field}[${l - 1}] with its halved size rounded up to half); got ${listText(spec.sizes)}`);
    }
    if (spec.acquisition.some((d, i) => d !== below.acquisition[i])) {
      throw new RangeError(`${field}[${l}].acquisition must equal ${field}[${l - 1}].acquisition (${below.acquisition.join(', ')}); got ${listText(spec.acquisition)}`);
    }
  }
}

/** The sizes of [append, ...outer] at the next level: the halved size rounded up to half (the append size kept). */
export function nextLevelSizes(spec: PairingSpec): number[] {
  return spec.sizes.map((size, i) => (i === spec.halved && i > 0 ? Math.ceil(size / 2) : size));
}

/** The storage-order position [append, ...outer] of a level's frame `ordinal` (0, 1, ... in arrival order). */
export function positionOf(spec: PairingSpec, ordinal: number): number[] {
  const { sizes, acquisition } = spec;
  const position = new Array<number>(sizes.length).fill(0);
  let rest = ordinal;
  for (let i = acquisition.length - 1; i > 0; i--) {
    const d = acquisition[i]!;
    position[d] = rest % sizes[d]!;
    rest = Math.floor(rest / sizes[d]!);
  }
  position[0] = rest;
  return position;
}

/** The key and role of a level's frame `ordinal`: see the module comment. */
export function pairStep(spec: PairingSpec, ordinal: number): PairStep {
  const position = positionOf(spec, ordinal);
  const strides = keyStrides(spec);
  let key = 0;
  position.forEach((coordinate, d) => (key += coordinate * strides[d]!));
  return { key, role: roleAt(spec.halved, spec.sizes, position) };
}

/**
 * The most frames of a level held pending at once (each as a quarter-size reduced state; the PyramidBuilder keeps
 * max(1, maxPending) states in all, spares for reuse included): a first frame waits for its partner while every position of the dimensions acquired inside the
 * halved one passes, so the product of their sizes (all outer sizes when the append dimension is halved; 0 when
 * nothing is paired or the halved size is 1).
 */
export function maxPending(spec: PairingSpec): number {
  const { sizes, acquisition, halved } = spec;
  if (halved < 0 || (halved > 0 && sizes[halved]! < 2)) return 0;
  let count = 1;
  for (let i = acquisition.indexOf(halved) + 1; i < acquisition.length; i++) count *= sizes[acquisition[i]!]!;
  return count;
}

/**
 * pairStep for ordinals 0, 1, 2, ... in turn, without division or allocation per frame: `key` and `role` describe
 * the current frame, next() moves to the following one.
 */
export class PairingCursor {
  key = 0;
  role: PairRole;
  private readonly sizes: number[];
  private readonly acquisition: number[];
  private readonly halved: number;
  private readonly strides: number[];
  private readonly position: number[];

  constructor(spec: PairingSpec) {
    assertPairingSpec(spec);
    this.sizes = [...spec.sizes];
    this.acquisition = [...spec.acquisition];
    this.halved = spec.halved;
    this.strides = keyStrides(spec);
    this.position = new Array<number>(spec.sizes.length).fill(0);
    this.role = roleAt(this.halved, this.sizes, this.position);
  }

  next(): void {
    const { sizes, acquisition, strides, position } = this;
    let i = acquisition.length - 1;
    for (; i > 0; i--) {
      const d = acquisition[i]!;
      if (++position[d]! < sizes[d]!) {
        this.key += strides[d]!;
        break;
      }
      this.key -= (sizes[d]! - 1) * strides[d]!;
      position[d] = 0;
    }
    if (i === 0) {
      position[0]!++;
      this.key += strides[0]!;
    }
    this.role = roleAt(this.halved, sizes, position);
  }
}

/** Storage-order strides over the dimensions other than the halved one (whose stride is 0). */
function keyStrides(spec: PairingSpec): number[] {
  const strides = new Array<number>(spec.sizes.length).fill(0);
  let stride = 1;
  for (let d = spec.sizes.length - 1; d >= 0; d--) {
    if (d === spec.halved) continue;
    strides[d] = stride;
    if (d > 0) stride *= spec.sizes[d]!;
  }
  return strides;
}

function roleAt(halved: number, sizes: readonly number[], position: readonly number[]): PairRole {
  if (halved < 0) return 'single';
  const coordinate = position[halved]!;
  if (halved > 0 && sizes[halved]! & 1 && coordinate === sizes[halved]! - 1) return 'single';
  return coordinate & 1 ? 'second' : 'first';
}

/** A short list as itself ([0,2,1]) in an error, anything else as describeValue says it. */
function listText(value: unknown): string {
  return Array.isArray(value) && value.length <= 16 ? JSON.stringify(value) : describeValue(value);
}
