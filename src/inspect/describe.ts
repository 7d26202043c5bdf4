/**
 * Pure descriptions of Zarr metadata documents, for `zarr-stream info`: the codecs (and shards) of an array in a
 * line, and the OME-NGFF image a group's attributes declare. zarrita.js opens and checks the nodes; this only
 * words what their documents say, for v2 and v3 alike.
 */

export interface CodecDescription {
  /** e.g. `blosc(lz4, clevel 1, byte shuffle)`, `bytes(little)`, `none`. */
  text: string;
  /** Chunks per shard along each axis, when the array is sharded (v3 sharding_indexed). */
  chunksPerShard?: number[];
  /** The inner chunk shape of a sharded array. */
  innerChunks?: number[];
}

type Json = Record<string, unknown>;

const SHUFFLE_NAMES: Record<string, string> = { '0': 'no shuffle', '1': 'byte shuffle', '2': 'bit shuffle', noshuffle: 'no shuffle', shuffle: 'byte shuffle', bitshuffle: 'bit shuffle' };

function codecText(name: string, config: Json): string {
  if (name === 'blosc') {
    const shuffle = SHUFFLE_NAMES[String(config.shuffle)] ?? `shuffle ${String(config.shuffle)}`;
    return `blosc(${String(config.cname)}, clevel ${String(config.clevel)}, ${shuffle})`;
  }
  if (name === 'bytes') return `bytes(${String(config.endian ?? 'little')})`;
  const settings = Object.entries(config)
    .map(([key, value]) => `${key} ${JSON.stringify(value)}`)
    .join(', ');
  return settings ? `${name}(${settings})` : name;
}

/** A v2 `.zarray`'s compressor and filters, or a v3 `zarr.json`'s codecs (with shards), in words. */
export function describeCodecs(metadata: Json): CodecDescription {
  if (metadata.zarr_format === 2) {
    const filters = Array.isArray(metadata.filters) ? (metadata.filters as Json[]) : [];
    const compressor = metadata.compressor as Json | null | undefined;
    const parts = [...filters, ...(compressor ? [compressor] : [])].map(({ id, ...config }) => codecText(String(id), config));
    return { text: parts.length > 0 ? parts.join(' + ') : 'none' };
  }
  const codecs = Array.isArray(metadata.codecs) ? (metadata.codecs as Json[]) : [];
  const sharding = codecs.find((codec) => codec.name === 'sharding_indexed');
  if (sharding) {
    const config = (sharding.configuration ?? {}) as Json;
    const inner = (config.chunk_shape as number[]) ?? [];
    const shard = ((metadata.chunk_grid as Json)?.configuration as Json)?.chunk_shape as number[];
    const innerText = describeCodecs({ ...metadata, codecs: config.codecs ?? [] }).text;
    return { text: `sharded: ${innerText} (index ${String(config.index_location ?? 'end')})`, innerChunks: inner, chunksPerShard: shard.map((size, axis) => Math.ceil(size / inner[axis]!)) };
  }
  const parts = codecs.map((codec) => codecText(String(codec.name), (codec.configuration ?? {}) as Json));
  return { text: parts.length > 0 ? parts.join(' + ') : 'none' };
}

export interface OmeAxis {
  name: string;
  type?: string;
  unit?: string;
}

export interface OmeImage {
  /** '0.4' or '0.5' ('0.4' where v2 attributes carry `multiscales` with that version). */
  version: string;
  name?: string;
  axes: OmeAxis[];
  /** One per level, level 0 first: the dataset's path and its scale along each axis. */
  datasets: Array<{ path: string; scale?: number[] }>;
}

/** The first OME-NGFF multiscale image a group's attributes declare (0.4: top level; 0.5: under `ome`), if any. */
export function omeImage(attributes: Json): OmeImage | undefined {
  const ome = (attributes.ome ?? undefined) as Json | undefined;
  const multiscales = (ome?.multiscales ?? attributes.multiscales) as Json[] | undefined;
  const first = Array.isArray(multiscales) ? multiscales[0] : undefined;
  if (!first) return undefined;
  const version = String(ome?.version ?? first.version ?? 'unknown');
  const axes = Array.isArray(first.axes) ? (first.axes as unknown[]).map((axis) => (typeof axis === 'string' ? { name: axis } : (axis as OmeAxis))) : [];
  const datasets = Array.isArray(first.datasets)
    ? (first.datasets as Json[]).map((dataset) => {
        const transforms = Array.isArray(dataset.coordinateTransformations) ? (dataset.coordinateTransformations as Json[]) : [];
        const scale = transforms.find((transform) => transform.type === 'scale')?.scale as number[] | undefined;
        return { path: String(dataset.path), scale };
      })
    : [];
  return { version, name: typeof first.name === 'string' ? first.name : undefined, axes, datasets };
}

/** Axis names of an n-D array: OME axes where given, else v3 dimension_names, else t, c, z, ... then y, x. */
export function axisNames(rank: number, ome?: OmeImage, dimensionNames?: readonly (string | null)[]): string[] {
  if (ome && ome.axes.length === rank) return ome.axes.map((axis) => axis.name);
  if (dimensionNames && dimensionNames.length === rank && dimensionNames.every((name) => typeof name === 'string' && name)) return dimensionNames as string[];
  // Without names, the acquisition order OME-NGFF prescribes: time, channel, space.
  const leading = ['t', 'c', 'z', 'd3', 'd4', 'd5'].slice(0, Math.max(0, rank - 2));
  return [...leading, 'y', 'x'].slice(-rank);
}
