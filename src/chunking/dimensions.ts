/**
 * The `dimensions` option: an N-D array described dimension by dimension, outermost first, validated against what
 * OME-NGFF allows (2 or 3 space axes last, at most one time axis first, at most one channel or custom axis between)
 * and resolved into the pieces the chain works with: the append dimension (the first), the "outer" dimensions that
 * 2-D frames are positioned along (between the append dimension and y, x), and y, x themselves. Pure; no I/O.
 */
import { OptionError } from '../option-error.js';

export const DIMENSION_KINDS = ['time', 'channel', 'space', 'other'] as const;
export type DimensionKind = (typeof DIMENSION_KINDS)[number];

export interface Dimension {
  /** The axis name: `dimension_names` (v3) and the OME-NGFF axis name. Unique. */
  name: string;
  kind: DimensionKind;
  /** Extent. The first (append) dimension: 0 = unbounded, it grows as frames arrive; a fixed size is a limit. */
  size: number;
  /** Chunk extent along this dimension (clipped to the size, except along the append dimension). */
  chunk: number;
  /** Zarr v3 sharding: chunks per shard along this dimension; give it on every dimension or on none. */
  shard?: number;
  /** An OME-NGFF unit: a UDUNITS-2 length for space, a time unit for time (e.g. 'micrometer', 'second'). */
  unit?: string;
  /** Size of one level-0 step along this dimension, in `unit`, for the OME-NGFF scale; default 1. */
  scale?: number;
}

/** One resolved dimension, storage order. */
export interface ResolvedDimension {
  name: string;
  kind: DimensionKind;
  size: number;
  chunk: number;
  shard: number | undefined;
  unit: string | undefined;
  scale: number;
}

export interface ResolvedDimensions {
  /** Every dimension, storage order (outermost first), the append dimension first and y, x last. */
  all: ResolvedDimension[];
  /**
   * Acquisition order of [append, ...outer] as indices into `all` (the append dimension is index 0 and comes first):
   * frame k's position is k in mixed radix over these dimensions, the last varying fastest.
   */
  acquisition: number[];
}

/** The OME-NGFF units of space and time axes (the spec's UDUNITS-2 lists). */
export const SPACE_UNITS = [
  'angstrom', 'attometer', 'centimeter', 'decimeter', 'exameter', 'femtometer', 'foot', 'gigameter', 'hectometer', 'inch', 'kilometer', 'megameter',
  'meter', 'micrometer', 'mile', 'millimeter', 'nanometer', 'parsec', 'petameter', 'picometer', 'terameter', 'yard', 'yoctometer', 'yottameter',
  'zeptometer', 'zettameter',
] as const;
export const TIME_UNITS = [
  'attosecond', 'centisecond', 'day', 'decisecond', 'exasecond', 'femtosecond', 'gigasecond', 'hectosecond', 'hour', 'kilosecond', 'megasecond',
  'microsecond', 'millisecond', 'minute', 'nanosecond', 'petasecond', 'picosecond', 'second', 'terasecond', 'yoctosecond', 'yottasecond',
  'zeptosecond', 'zettasecond',
] as const;

const DIMENSION_KEYS = ['name', 'kind', 'size', 'chunk', 'shard', 'unit', 'scale'];

/** Validates `dimensions` and `acquisitionOrder` (names, outermost first; default: storage order). */
export function resolveDimensions(dimensions: unknown, acquisitionOrder: unknown): ResolvedDimensions {
  if (!Array.isArray(dimensions) || dimensions.length < 3 || dimensions.length > 5) {
    throw new OptionError('dimensions', dimensions, 'a list of 3 to 5 dimensions, outermost first: the append dimension, then any others, then y and x');
  }
  const all = dimensions.map((dimension, i) => resolveDimension(dimension, i, i === 0));
  checkOmeOrder(all);
  const names = all.map((d) => d.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) throw new OptionError('dimensions', names, 'dimensions with unique names', `dimension name ${JSON.stringify(duplicate)} is given twice (${names.join(', ')})`);
  const sharded = all.filter((d) => d.shard !== undefined).length;
  if (sharded > 0 && sharded < all.length) {
    const missing = all.findIndex((d) => d.shard === undefined);
    throw new OptionError(`dimensions[${missing}].shard`, undefined, 'given on every dimension when any has one (chunks per shard along each)');
  }
  return { all, acquisition: resolveAcquisition(acquisitionOrder, all) };
}

function resolveDimension(value: unknown, i: number, append: boolean): ResolvedDimension {
  const field = `dimensions[${i}]`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new OptionError(field, value, 'an object { name, kind, size, chunk, shard?, unit?, scale? }');
  const d = value as Record<string, unknown>;
  for (const key of Object.keys(d)) if (!DIMENSION_KEYS.includes(key)) throw new OptionError(`${field}.${key}`, d[key], 'a known key', `${field}.${key} is not a dimension field; known: ${DIMENSION_KEYS.join(', ')}`);
  const { name, kind } = d;
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) throw new OptionError(`${field}.name`, name, 'a name of letters, digits, _ or - (starting with a letter or _)');
  if (!(DIMENSION_KINDS as readonly unknown[]).includes(kind)) throw new OptionError(`${field}.kind`, kind, `one of ${DIMENSION_KINDS.join(', ')}`);
  const size = integerField(`${field}.size`, d.size, append ? 0 : 1);
  const chunk = integerField(`${field}.chunk`, d.chunk, 1);
  const shard = d.shard === undefined ? undefined : integerField(`${field}.shard`, d.shard, 1);
  const unit = d.unit === undefined ? undefined : resolveUnit(`${field}.unit`, d.unit, kind as DimensionKind);
  const scale = d.scale ?? 1;
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0) throw new OptionError(`${field}.scale`, scale, 'a positive finite number');
  // Along the append dimension a chunk may be longer than a fixed size (it is the length of a chunk row in time).
  return { name, kind: kind as DimensionKind, size, chunk: append || chunk <= size ? chunk : size, shard, unit, scale };
}

function integerField(field: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw new OptionError(field, value, min === 0 ? 'a non-negative integer (0: unbounded)' : `an integer >= ${min}`);
  return value;
}

function resolveUnit(field: string, unit: unknown, kind: DimensionKind): string {
  if (typeof unit !== 'string' || unit.length === 0) throw new OptionError(field, unit, 'a unit name');
  const known: readonly string[] | undefined = kind === 'space' ? SPACE_UNITS : kind === 'time' ? TIME_UNITS : undefined;
  if (kind === 'channel') throw new OptionError(field, unit, 'absent on a channel dimension (channels have no unit)');
  if (known && !known.includes(unit)) throw new OptionError(field, unit, `an OME-NGFF ${kind} unit: ${known.join(', ')}`);
  return unit;
}

/**
 * OME-NGFF 0.4/0.5 axes: 2 or 3 space axes, which come last; before them at most one channel or custom axis, and
 * before that at most one time axis. y and x (the frame's) are the last two, so they must be space.
 */
function checkOmeOrder(all: readonly ResolvedDimension[]): void {
  const kinds = all.map((d) => d.kind);
  const described = all.map((d) => `${d.name}:${d.kind}`).join(', ');
  const fail = (why: string): never => {
    throw new OptionError('dimensions', described, 'an order OME-NGFF allows', `dimensions (${described}): ${why}; OME-NGFF orders axes as time (at most one), then channel or other (at most one), then 2 or 3 space axes, the frame's y and x last`);
  };
  if (kinds.at(-1) !== 'space' || kinds.at(-2) !== 'space') fail('the last two (the frame\'s y and x) must be space');
  const space = kinds.filter((k) => k === 'space').length;
  if (space > 3) fail(`${space} space dimensions, at most 3 are allowed`);
  const firstSpace = kinds.indexOf('space');
  if (kinds.slice(firstSpace).some((k) => k !== 'space')) fail('space dimensions must all come last');
  const before = kinds.slice(0, firstSpace);
  if (before.filter((k) => k === 'time').length > 1) fail('more than one time dimension');
  if (before.filter((k) => k !== 'time').length > 1) fail('more than one channel or other dimension');
  if (before.length === 2 && before[0] !== 'time') fail('time must come before channel or other');
}

function resolveAcquisition(order: unknown, all: readonly ResolvedDimension[]): number[] {
  const outer = all.length - 2;
  const storage = Array.from({ length: outer }, (_, i) => i);
  if (order === undefined) return storage;
  const names = all.slice(0, outer).map((d) => d.name);
  const expected = `the names ${names.join(', ')} in any order with ${names[0]} (the append dimension) first`;
  if (!Array.isArray(order) || order.length !== outer || order.some((name) => typeof name !== 'string')) throw new OptionError('acquisitionOrder', order, expected);
  const indices = (order as string[]).map((name) => names.indexOf(name));
  if (indices.includes(-1) || new Set(indices).size !== outer || indices[0] !== 0) throw new OptionError('acquisitionOrder', order, expected);
  return indices;
}
