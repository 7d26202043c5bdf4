/**
 * One timed write in a fresh process, so that each writer's peak RSS is its own. Frames are loaded into memory
 * before the clock starts (as in the reference runs); the clock stops once the data and metadata are written.
 * Usage: node dist/bench/worker.js <system> <workload> <zarrVersion> <engine> <framesFile> <outDir> [durable|not-durable]
 * For 'zarr-stream-s3' and 's3-plain', <outDir> is a key prefix in the bench bucket of the server at
 * $BENCH_S3_ENDPOINT; 's3-plain' uploads objects of the sizes in $BENCH_S3_SIZES (a JSON array).
 */
import { open, writeFile, mkdir, readdir, stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zarr from 'zarrita';
import FileSystemStore from '@zarrita/storage/fs';
import { zarrTransforms } from '../src/zarr-transforms.js';
import { estimateMemory, type ZarrStreamOptions } from '../src/options.js';
import { resolveLayout } from '../src/chunking/layout.js';
import { v2ArrayMetadata, v2GroupMetadata, encodeJson, RAW_CODECS, type CodecMetadata } from '../src/metadata/zarr.js';
import { v2Compressor, v3Codecs } from '../src/metadata/codecs.js';
import type { EngineName } from '../src/codecs/engine.js';
import type { FrameOwnership } from '../src/frames/frame-copies.js';
import { bytesPerPixel } from '../src/dtype.js';
import { WORKLOADS, type Workload } from './workloads.js';
import { assembleChunks, ceiling } from './ceiling.js';
import { BENCH_BUCKET, benchClient, objectSizes, plainMultipart } from './s3.js';

/** 'zarr-stream' hands its frames over (each is its own view, never reused); 'zarr-stream-copy' has them copied. */
export type System = 'baseline' | 'zarr-stream' | 'zarr-stream-copy' | 'zarrita' | 'blosc-ceiling' | 'zarr-stream-s3' | 's3-plain';

const BLOCK = 16 * 2 ** 20;

async function baseline(all: Uint8Array, out: string): Promise<void> {
  await mkdir(out, { recursive: true });
  const fh = await open(path.join(out, 'baseline.bin'), 'w');
  for (let offset = 0; offset < all.byteLength; offset += BLOCK) {
    const end = Math.min(offset + BLOCK, all.byteLength);
    await fh.write(all, offset, end - offset, offset);
  }
  await fh.close();
}

function zarrStreamOptions(w: Workload, version: 2 | 3, engine: EngineName, out: string, frameOwnership: FrameOwnership, durable = true): ZarrStreamOptions {
  return {
    store: out,
    zarrVersion: version,
    dtype: w.dtype,
    ...(w.dimensions
      ? { dimensions: w.dimensions, acquisitionOrder: w.acquisitionOrder }
      : { width: w.width, height: w.height, chunking: { tileWidth: w.chunk[2], tileHeight: w.chunk[1], framesPerChunk: w.chunk[0] }, shardChunks: w.shardChunks }),
    compression: w.codec ? { codec: w.codec.cname, clevel: w.codec.clevel, shuffle: w.codec.shuffle } : 'none',
    engine: w.codec ? engine : undefined,
    multiscale: w.multiscale ?? false,
    frameOwnership,
    durable,
  };
}

async function zarrStream(w: Workload, version: 2 | 3, engine: EngineName, frames: Uint16Array[], out: string, frameOwnership: FrameOwnership, durable: boolean): Promise<void> {
  await pipeline(Readable.from(frames, { objectMode: true }), ...zarrTransforms(zarrStreamOptions(w, version, engine, out, frameOwnership, durable)));
}

/** Bytes stored under `dir` (the compressed size, for ratios) and the files (objects) holding them. */
async function stored(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    bytes += (await stat(path.join(entry.parentPath ?? entry.path, entry.name))).size;
    files++;
  }
  return { bytes, files };
}

/** zarrita.js as a user would drive it: 64-frame slabs through zarr.set. It creates v3 arrays; v2 arrays are opened from metadata we write. */
async function zarrita(w: Workload, version: 2 | 3, all: Uint8Array, out: string): Promise<void> {
  const store = new FileSystemStore(out);
  const shape = [w.frames, 1, w.height, w.width];
  const chunkShape = [w.chunk[0], 1, w.chunk[1], w.chunk[2]];
  let array;
  const codecs = metadataCodecs(w);
  if (version === 3) {
    // zarrita 0.7.5 hands the v3 blosc configuration to numcodecs as is, and numcodecs takes the spec's string
    // shuffle ("shuffle") as 0: no shuffle at all (ratio ~1.0 on these frames). So that zarrita does the same work
    // as we do, it gets the numeric code here; the metadata it writes is then not spec-conformant, which is fine
    // for a timing run.
    const v3 = codecs.v3Codecs.map((codec) =>
      codec.name === 'blosc' ? { ...codec, configuration: { ...(codec.configuration as object), shuffle: 1 } } : codec,
    );
    array = await zarr.create(zarr.root(store).resolve('0'), { shape, chunkShape, dtype: 'uint16', chunkSeparator: '/', codecs: v3 as never });
  } else {
    const { layout } = resolveLayout({ width: w.width, height: w.height, planes: 1 }, w.dtype, { tileWidth: w.chunk[2], tileHeight: w.chunk[1], framesPerChunk: w.chunk[0] });
    await mkdir(path.join(out, '0'), { recursive: true });
    await writeFile(path.join(out, '.zgroup'), encodeJson(v2GroupMetadata()));
    await writeFile(path.join(out, '0', '.zarray'), encodeJson(v2ArrayMetadata(layout, w.frames, codecs)));
    array = await zarr.open.v2(zarr.root(store).resolve('0'), { kind: 'array' });
  }
  const frameBytes = w.width * w.height * bytesPerPixel(w.dtype);
  const slab = w.chunk[0];
  for (let t = 0; t < w.frames; t += slab) {
    const n = Math.min(slab, w.frames - t);
    const data = new Uint16Array(all.buffer, all.byteOffset + t * frameBytes, (n * frameBytes) / 2);
    await zarr.set(array as zarr.Array<'uint16', FileSystemStore>, [zarr.slice(t, t + n), null, null, null], {
      data,
      shape: [n, 1, w.height, w.width],
      stride: [w.height * w.width, w.height * w.width, w.width, 1],
    });
  }
}

/** The workload's codec as both formats spell it; zarrita encodes with numcodecs' WebAssembly c-blosc either way. */
function metadataCodecs(w: Workload): CodecMetadata {
  if (!w.codec) return RAW_CODECS;
  const settings = { cname: w.codec.cname, clevel: w.codec.clevel, shuffle: w.codec.shuffle, blocksize: 0, typesize: bytesPerPixel(w.dtype) };
  return { v2Compressor: { ...v2Compressor(settings) }, v3Codecs: v3Codecs(settings).map((codec) => ({ ...codec })) };
}

async function main(): Promise<void> {
  const [system, workloadName, versionText, engineText, framesFile, out, durability] = process.argv.slice(2) as [System, string, string, string, string, string, string];
  const w = WORKLOADS[workloadName];
  if (!w) throw new Error(`unknown workload ${workloadName}`);
  const version = Number(versionText) as 2 | 3;
  const file = readFileSync(framesFile);
  const all = new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
  const frameBytes = w.width * w.height * bytesPerPixel(w.dtype);
  const frames = Array.from({ length: w.frames }, (_, t) => new Uint16Array(all.buffer, all.byteOffset + t * frameBytes, frameBytes / 2));
  const s3Endpoint = process.env.BENCH_S3_ENDPOINT;
  const s3 = system === 'zarr-stream-s3' || system === 's3-plain' ? benchClient(s3Endpoint!) : undefined;
  const sizes = system === 's3-plain' ? (JSON.parse(process.env.BENCH_S3_SIZES!) as number[]) : [];
  // The ceiling's chunks are assembled and its pool warmed up before the clock starts.
  const blosc = system === 'blosc-ceiling' ? await ceiling(w, assembleChunks(w, all)) : undefined;
  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  let compressed = 0;
  if (system === 'baseline') await baseline(all, out);
  else if (system === 'zarr-stream' || system === 'zarr-stream-copy') await zarrStream(w, version, engineText as EngineName, frames, out, system === 'zarr-stream' ? 'transfer' : 'copy', durability !== 'not-durable');
  else if (system === 'zarr-stream-s3') await pipeline(Readable.from(frames, { objectMode: true }), ...zarrTransforms(s3Options(w, version, engineText as EngineName, out, s3Endpoint!)));
  else if (system === 's3-plain') await plainMultipart(s3!, out, sizes, all);
  else if (blosc) compressed = await blosc.run();
  else await zarrita(w, version, all, out);
  const seconds = (performance.now() - started) / 1000;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  await blosc?.close();
  // What zarr-stream said it would need at most (estimateMemory), to set against what it took.
  const estimate =
    system === 'zarr-stream' || system === 'zarr-stream-copy'
      ? estimateMemory(zarrStreamOptions(w, version, engineText as EngineName, out, system === 'zarr-stream' ? 'transfer' : 'copy')).bytes
      : system === 'zarr-stream-s3'
        ? estimateMemory(s3Options(w, version, engineText as EngineName, out, s3Endpoint!)).bytes
        : undefined;
  let storedBytes: number;
  let storedFiles: number;
  let objectSizeList: number[] | undefined;
  if (s3) {
    objectSizeList = await objectSizes(s3, out);
    storedBytes = objectSizeList.reduce((a, b) => a + b, 0);
    storedFiles = objectSizeList.length;
    s3.destroy();
  } else if (blosc) {
    storedBytes = compressed;
    storedFiles = 0;
  } else ({ bytes: storedBytes, files: storedFiles } = await stored(out));
  process.stdout.write(JSON.stringify({ seconds, bytes: system === 's3-plain' ? storedBytes : all.byteLength, peakRss, rssBefore, storedBytes, storedFiles, estimate, objectSizes: objectSizeList }) + '\n');
}

/** zarr-stream's options for the same write to s3://bench/<prefix> on the loopback server. */
function s3Options(w: Workload, version: 2 | 3, engine: EngineName, prefix: string, endpoint: string): ZarrStreamOptions {
  return { ...zarrStreamOptions(w, version, engine, `s3://${BENCH_BUCKET}/${prefix}`, 'transfer'), durable: undefined, s3: { endpoint } };
}

await main();
