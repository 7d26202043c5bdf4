/**
 * Blosc settings as zarr-stream uses them, and their validation. Pure: no engine, no I/O.
 * The names follow Zarr's metadata (cname/clevel/shuffle/blocksize/typesize); shuffle uses words
 * because v2 and v3 spell it differently (0|1|2 vs "noshuffle"|"shuffle"|"bitshuffle").
 */
import { describeValue } from '../util/describe-value.js';

export const BLOSC_CNAMES = ['lz4', 'zstd', 'blosclz', 'zlib'] as const;
export type BloscCname = (typeof BLOSC_CNAMES)[number];

export const BLOSC_SHUFFLES = ['none', 'byte', 'bit'] as const;
export type BloscShuffle = (typeof BLOSC_SHUFFLES)[number];

export interface BloscSettings {
  cname: BloscCname;
  /** 0..9; 0 stores blocks uncompressed (still in a Blosc container). */
  clevel: number;
  shuffle: BloscShuffle;
  /** Bytes per Blosc block; 0 = let c-blosc choose. */
  blocksize: number;
  /** Element size in bytes: the stride the shuffle works over. */
  typesize: number;
}

/** What a user may pass: every field optional, of unknown type until validated. */
export type BloscOptions = { [K in keyof BloscSettings]?: unknown };

/** numcodecs' Blosc defaults, so files look like what zarr-python would write by default. */
export const BLOSC_DEFAULTS: Readonly<Omit<BloscSettings, 'typesize'>> = {
  cname: 'lz4',
  clevel: 5,
  shuffle: 'byte',
  blocksize: 0,
};

/** c-blosc 1.x refuses inputs above INT_MAX - 16 bytes; typesize is stored in one header byte. */
export const BLOSC_MAX_OVERHEAD = 16;
export const BLOSC_MAX_BUFFERSIZE = 2 ** 31 - 1 - BLOSC_MAX_OVERHEAD;
export const BLOSC_MAX_TYPESIZE = 255;

/** The numeric shuffle code both c-blosc and Zarr v2 use. */
export function shuffleCode(shuffle: BloscShuffle): 0 | 1 | 2 {
  return shuffle === 'none' ? 0 : shuffle === 'byte' ? 1 : 2;
}


function isIntegerIn(value: unknown, lo: number, hi: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= lo && value <= hi;
}

/**
 * Checks user-supplied Blosc options and fills defaults. Throws a RangeError/TypeError naming the field and the
 * offending value, so a CLI or API user can fix the exact option. `typesize` defaults to 1 when absent, but callers
 * should pass the dtype's byte size: it is what makes the shuffle useful.
 */
export function validateBloscOptions(opts: BloscOptions = {}): BloscSettings {
  if (opts === null || typeof opts !== 'object') {
    throw new TypeError(`blosc options must be an object, got ${describeValue(opts)}`);
  }
  const cname = opts.cname ?? BLOSC_DEFAULTS.cname;
  if (typeof cname !== 'string' || !(BLOSC_CNAMES as readonly string[]).includes(cname)) {
    throw new RangeError(`cname must be one of ${BLOSC_CNAMES.join(', ')}, got ${describeValue(cname)}`);
  }
  const clevel = opts.clevel ?? BLOSC_DEFAULTS.clevel;
  if (!isIntegerIn(clevel, 0, 9)) {
    throw new RangeError(`clevel must be an integer 0..9, got ${describeValue(clevel)}`);
  }
  const shuffle = opts.shuffle ?? BLOSC_DEFAULTS.shuffle;
  if (typeof shuffle !== 'string' || !(BLOSC_SHUFFLES as readonly string[]).includes(shuffle)) {
    throw new RangeError(`shuffle must be one of ${BLOSC_SHUFFLES.join(', ')}, got ${describeValue(shuffle)}`);
  }
  const blocksize = opts.blocksize ?? BLOSC_DEFAULTS.blocksize;
  if (!isIntegerIn(blocksize, 0, BLOSC_MAX_BUFFERSIZE)) {
    throw new RangeError(`blocksize must be an integer 0..${BLOSC_MAX_BUFFERSIZE} (0 = automatic), got ${describeValue(blocksize)}`);
  }
  const typesize = opts.typesize ?? 1;
  if (!isIntegerIn(typesize, 1, BLOSC_MAX_TYPESIZE)) {
    throw new RangeError(`typesize must be an integer 1..${BLOSC_MAX_TYPESIZE}, got ${describeValue(typesize)}`);
  }
  return { cname: cname as BloscCname, clevel, shuffle: shuffle as BloscShuffle, blocksize, typesize };
}
