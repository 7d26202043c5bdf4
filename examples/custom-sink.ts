/**
 * A sink of your own on zarr-stream's messages: the chain's four transforms feed a Writable that, instead of a
 * Zarr store, records each chunk's size and SHA-256 in a manifest (say, to send chunks where no Store exists yet,
 * or to keep an integrity record of an acquisition). It shows the two messages a sink receives:
 * - ChunkMessage: a whole chunk (raw, or compressed whole);
 * - ChunkPartMessage: a slab of a chunk at `offset` (raw tiles, or runs of Blosc blocks compressed as frames
 *   arrive); the last part has `complete`, with `totalBytes` (raw chunks: pad with zeros to it) and `head` (a
 *   streamed Blosc chunk's header and block table, which replace its first bytes).
 * Each message's bytes may live in a reused buffer: copy what you keep, then call `release()`.
 *
 *   node dist/examples/custom-sink.js <manifest.json>
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { chunkKey, sinkOf, syntheticFrames, zarrTransforms, type ArrayLayout, type Bytes, type SinkMessage, type ZarrVersion } from '../src/index.js';

/** The chunks' sizes and digests, by the Zarr key each would have. */
type Manifest = Record<string, { bytes: number; sha256: string }>;

class ChecksumSink extends Writable {
  readonly manifest: Manifest = {};
  /** Parts of chunks not complete yet: copies of their slabs, by key. */
  private readonly pending = new Map<string, Array<{ offset: number; bytes: Uint8Array }>>();

  constructor(
    private readonly zarrVersion: ZarrVersion,
    private readonly layouts: readonly ArrayLayout[],
  ) {
    super({ objectMode: true, highWaterMark: 8 });
  }

  override _write(message: SinkMessage, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const key = chunkKey(this.zarrVersion, this.layouts[message.level]!.path, message.coords);
    if (message.kind === 'chunk') {
      this.record(key, message.data);
      message.release?.();
      return callback();
    }
    const parts = this.pending.get(key) ?? [];
    this.pending.set(key, parts);
    parts.push({ offset: message.offset, bytes: copy(message.data) });
    message.release?.();
    if (message.complete) {
      this.pending.delete(key);
      const length = Math.max(message.complete.totalBytes ?? 0, ...parts.map((part) => part.offset + part.bytes.byteLength));
      const value = new Uint8Array(length);
      for (const part of parts) value.set(part.bytes, part.offset);
      if (message.complete.head) value.set(message.complete.head, 0);
      this.record(key, value);
    }
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback(this.pending.size > 0 ? new Error(`${this.pending.size} chunk(s) never completed`) : null);
  }

  private record(key: string, value: Uint8Array): void {
    this.manifest[key] = { bytes: value.byteLength, sha256: createHash('sha256').update(value).digest('hex') };
  }
}

/** One array of the bytes of `data` (one array, or pieces in order). */
function copy(data: Bytes): Uint8Array {
  const pieces = data instanceof Uint8Array ? [data] : data;
  const out = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.byteLength, 0));
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.byteLength;
  }
  return out;
}

const [manifestPath] = process.argv.slice(2);
if (!manifestPath) {
  console.error('usage: node dist/examples/custom-sink.js <manifest.json>');
  process.exit(2);
}
// The store is never written: zarrTransforms' own sink (the chain's last element) opens it only when it runs.
const chain = zarrTransforms({
  store: 'never-written.zarr',
  zarrVersion: 3,
  dtype: 'uint16',
  width: 96,
  height: 80,
  chunking: { tileWidth: 64, tileHeight: 64, framesPerChunk: 4 },
  compression: { codec: 'lz4' },
  multiscale: true,
});
const { zarrVersion, layouts } = sinkOf(chain);
const sink = new ChecksumSink(zarrVersion, layouts);
await pipeline(syntheticFrames({ frames: 10, width: 96, height: 80, dtype: 'uint16' }), chain[0], chain[1], chain[2], chain[3], sink);
await writeFile(manifestPath, JSON.stringify(sink.manifest, null, 2));
console.log(`${Object.keys(sink.manifest).length} chunks recorded in ${manifestPath}`);
