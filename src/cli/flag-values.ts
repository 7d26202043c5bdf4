/**
 * Flag values as yargs hands them over, checked before use: a flag given twice or without a value is an error,
 * and <out> may come after `--` (yargs never takes a positional from there, so `write -- -x.zarr` needs this).
 */

/** A bad flag value: printed as one line naming the flag, exit code 2, nothing written. */
export class FlagError extends Error {}

/**
 * Flags that take a value, with their defaults. yargs is given no defaults for them, so that a flag given without
 * a value arrives as '' and is refused, instead of silently taking its default; the defaults are applied here.
 */
export function valueDefaults(defaults: { frames: number; width: number; height: number; tile: number; maxBytesPerChunk: string }): Record<string, string> {
  return {
    frames: String(defaults.frames),
    width: String(defaults.width),
    height: String(defaults.height),
    planes: '1',
    dtype: 'uint16',
    'tile-width': String(defaults.tile),
    'tile-height': String(defaults.tile),
    'tile-planes': '1',
    'max-bytes-per-chunk': defaults.maxBytesPerChunk,
    'downsample-method': 'mean',
    'pixel-scale-x': '1',
    'pixel-scale-y': '1',
    'pixel-scale-z': '1',
    engine: 'auto',
    input: 'synthetic',
  };
}

/**
 * Refuses flags given twice (yargs makes an array of them) or without a value (''), then fills in the defaults.
 * yargs sets both spellings of a flag (tile-width and tileWidth); the kebab one names it.
 */
export function checkFlagValues(args: Record<string, unknown>, defaults: Record<string, string>): void {
  for (const [key, value] of Object.entries(args)) {
    if (key === '_' || key === '$0' || key === '--' || /[A-Z]/.test(key)) continue;
    const flag = key === 'out' ? '<out>' : `--${key}`;
    if (Array.isArray(value)) {
      throw new FlagError(`${flag} was given ${value.length} times (${value.map((v) => JSON.stringify(String(v))).join(', ')}); give it once`);
    }
    if (value === '' && key !== 'out') throw new FlagError(`${flag} needs a value (e.g. ${flag} ${defaults[key] ?? '...'})`);
  }
  for (const [key, value] of Object.entries(defaults)) {
    if (args[key] !== undefined) continue;
    args[key] = value;
    args[key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = value;
  }
}

/** The output directory: the positional, or the one argument after `--`; `demo` defaults to demo.zarr. */
export function outputOf(args: Record<string, unknown>, command: string): string {
  const afterDashes = (args['--'] as unknown[] | undefined) ?? [];
  const outs = [...(args.out === undefined ? [] : [String(args.out)]), ...afterDashes.map(String)];
  if (outs.length > 1) throw new FlagError(`${command} takes one output directory, got ${outs.length}: ${outs.map((o) => JSON.stringify(o)).join(', ')}`);
  if (outs.length === 0 && command === 'write') throw new FlagError('Missing required argument: out');
  return outs[0] ?? 'demo.zarr';
}
