/**
 * ShardPacker: the sink's first step for sharded levels, turning their encoded chunks into the parts of shards
 * (Zarr v3 `sharding_indexed`). It lives in the sink rather than as a stage of its own because Node's typings of
 * `pipeline()` take at most four transforms between a source and its destination, and the chain has four.
 *
 * A shard is streamed to its store writer (a temporary file, renamed into place on commit) one whole chunk at a time,
 * in the order its chunks complete: the index says where each one is, so chunks need not be in index order. Once the
 * shard's last chunk is appended, the index and its CRC-32C follow and the shard is committed: no reader sees a torn
 * shard, and the sink counts its frames only then. A shard completes when every chunk of its shard row
 * (shardChunks[0] chunk rows) inside the array has arrived; at the end of the stream, shards whose last chunk rows
 * never came (a partial last shard along t) get their index with those slots absent (`rest()`).
 *
 * A frame crosses every tile, so a shard's chunks fill at the same time and a chunk's bytes cannot go to its shard
 * before the chunk is complete: chunks that arrive in parts (raw, or compressed as frames arrive) are copied until
 * then (the part's buffers go back at once). Memory: a chunk row of chunks per sharded level, at most; chunks
 * compressed whole are handed on as they are. The copies' buffers are reused once their shard has them (CopyPool):
 * fresh ones for every part cost W5 more than the copying itself (page faults, and the collector freeing them).
 */
import type { ArrayLayout } from '../chunking/layout.js';
import { chunksPerShard, shardChunksPerChunkRow, shardOf, slotInShard, type ShardChunks } from '../chunking/shards.js';
import { encodeShardIndex } from '../codecs/shard-index.js';
import { byteLengthOf, type Bytes, type ChunkMessage, type ChunkPartMessage, type SinkMessage } from '../messages.js';

type Coords = readonly number[];

/** A shard being written: where each slot's chunk went in it (nbytes -1: absent so far). */
interface PendingShard {
  level: number;
  coords: number[];
  offsets: number[];
  nbytes: number[];
  /** Bytes appended so far: where the next chunk goes. */
  size: number;
  stored: number;
  /** Chunks the shard holds when complete (fewer than its slots at a ragged edge). */
  expected: number;
  /** Frames covered from the shard's first frame, as far as its chunks go. */
  frames: number;
}

export class ShardPacker {
  private readonly shards = new Map<string, PendingShard>();
  /** Chunks arriving in parts: copies of their parts so far. */
  private readonly partial = new Map<string, Uint8Array[]>();
  private readonly copies = new CopyPool();

  /** One layout per level; levels with `shardChunks` are sharded. */
  constructor(private readonly layouts: readonly ArrayLayout[]) {}

  /** Whether the message's level is sharded, so its messages go through add(). */
  isSharded(level: number): boolean {
    return Boolean(this.layouts[level]?.shardChunks);
  }

  /**
   * Takes a sharded level's chunk or part and returns what to write: nothing (a part of a chunk still filling), or
   * one part of the chunk's shard holding the whole chunk (and, when it is the shard's last, the index and
   * `complete`). Parts of one shard are given in the order they must be appended; the first starts at offset 0.
   */
  add(message: SinkMessage): ChunkPartMessage[] {
    const layout = this.layouts[message.level];
    const shard = layout?.shardChunks;
    if (!layout || !shard) throw new RangeError(`chunk of level ${message.level}: the level is not sharded`);
    return message.kind === 'chunk' ? this.chunkMessage(layout, shard, message) : this.partMessage(layout, shard, message);
  }

  /**
   * At the end of the stream: the closing part (index, `complete`) of each shard whose last chunk rows never came
   * (the stream ended inside their shard row), missing slots absent. Throws when a chunk is still incomplete.
   */
  rest(): ChunkPartMessage[] {
    if (this.partial.size > 0) throw new Error(`stream ended with ${this.partial.size} chunk(s) incomplete before sharding, e.g. ${this.partial.keys().next().value}`);
    const rest = [...this.shards.values()].sort((a, b) => a.level - b.level || compareCoords(a.coords, b.coords));
    this.shards.clear();
    return rest.map((pending) => closingPart(pending, []));
  }

  /** Drops what is held (after a failure: only copies are held; the sink aborts the shards' writers). */
  clear(): void {
    this.shards.clear();
    this.partial.clear();
  }

  private chunkMessage(layout: ArrayLayout, shard: ShardChunks, message: ChunkMessage): ChunkPartMessage[] {
    // A whole chunk goes to its shard as it is: its pooled buffer goes back once the sink has appended it.
    const release = message.release && ((): void => message.release!());
    return [this.chunkDone(layout, shard, message.coords, [message.data], message.data.byteLength, message.frames, release)];
  }

  private partMessage(layout: ArrayLayout, shard: ShardChunks, part: ChunkPartMessage): ChunkPartMessage[] {
    const key = `${part.level}/${part.coords.join('/')}`;
    if (part.region) throw new Error(`chunk ${key}: a part that names a tile region reached the sink`);
    let pieces = this.partial.get(key);
    if (!pieces) this.partial.set(key, (pieces = []));
    const length = byteLengthOf(part.data);
    if (length > 0) pieces.push(copyBytes(part.data, this.copies.take(length)));
    part.release?.();
    if (!part.complete) return [];
    this.partial.delete(key);
    const { totalBytes, frames, head } = part.complete;
    if (head) patchHead(pieces, head, key);
    let bytes = pieces.reduce((sum, piece) => sum + piece.byteLength, 0);
    // The copies go back to the pool once the sink has appended them to the shard.
    const copies = [...pieces];
    const release = (): void => copies.forEach((copy) => this.copies.give(copy));
    // A short raw chunk: the rest is zeros (the fill value), as a store pads it.
    if (totalBytes !== undefined && totalBytes > bytes) {
      pieces.push(new Uint8Array(totalBytes - bytes));
      bytes = totalBytes;
    }
    return [this.chunkDone(layout, shard, part.coords, pieces, bytes, frames, release)];
  }

  private chunkDone(layout: ArrayLayout, shard: ShardChunks, coords: Coords, pieces: Uint8Array[], bytes: number, frames: number, release?: () => void): ChunkPartMessage {
    const shardCoords = shardOf(shard, coords);
    const key = `${layout.level}/${shardCoords.join('/')}`;
    let pending = this.shards.get(key);
    if (!pending) {
      const slots = chunksPerShard(shard);
      pending = {
        level: layout.level,
        coords: shardCoords,
        offsets: new Array<number>(slots).fill(0),
        nbytes: new Array<number>(slots).fill(-1),
        size: 0,
        stored: 0,
        expected: shard[0]! * shardChunksPerChunkRow(layout, shard, shardCoords),
        frames: 0,
      };
      this.shards.set(key, pending);
    }
    const slot = slotInShard(shard, coords);
    if (pending.nbytes[slot]! >= 0) throw new Error(`chunk ${layout.path}/c/${coords.join('/')} arrived twice for shard ${key}`);
    const offset = pending.size;
    pending.offsets[slot] = offset;
    pending.nbytes[slot] = bytes;
    pending.size += bytes;
    pending.stored++;
    pending.frames = Math.max(pending.frames, (coords[0]! % shard[0]!) * layout.chunk.frames + frames);
    if (pending.stored < pending.expected) return { kind: 'chunk-part', level: pending.level, coords: pending.coords, offset, data: pieces, release };
    this.shards.delete(key);
    return { ...closingPart(pending, pieces, offset), release };
  }
}

/** The shard's last part: `pieces` (its last chunk, if any) from `offset`, then the index; commits the shard. */
function closingPart(pending: PendingShard, pieces: Uint8Array[], offset = pending.size): ChunkPartMessage {
  const index = encodeShardIndex(pending.offsets, pending.nbytes);
  return {
    kind: 'chunk-part',
    level: pending.level,
    coords: pending.coords,
    offset,
    data: [...pieces, index],
    complete: { totalBytes: pending.size + index.byteLength, frames: pending.frames, chunks: pending.stored },
  };
}

/**
 * Reused buffers for copies of chunk parts, by size class (64 KiB steps: compressed parts of one array vary in size,
 * and a piece is a view of its buffer's first bytes). At most MAX_IDLE_COPIES are kept idle: as many as a chunk row
 * of W5 holds at once (64 chunks of 2 parts) with room to spare.
 */
class CopyPool {
  private readonly idle = new Map<number, ArrayBuffer[]>();
  private count = 0;

  /** A buffer of at least `bytes` (stale contents), viewed as exactly `bytes`. */
  take(bytes: number): Uint8Array {
    const size = Math.ceil(bytes / COPY_CLASS_BYTES) * COPY_CLASS_BYTES;
    const reused = this.idle.get(size)?.pop();
    if (reused) this.count--;
    return new Uint8Array(reused ?? new ArrayBuffer(size), 0, bytes);
  }

  give(copy: Uint8Array): void {
    if (this.count >= MAX_IDLE_COPIES || !(copy.buffer instanceof ArrayBuffer)) return;
    let list = this.idle.get(copy.buffer.byteLength);
    if (!list) this.idle.set(copy.buffer.byteLength, (list = []));
    list.push(copy.buffer);
    this.count++;
  }
}

const COPY_CLASS_BYTES = 64 * 1024;
const MAX_IDLE_COPIES = 256;

/** Copies the part's bytes into `out` (exactly their length). */
function copyBytes(data: Bytes, out: Uint8Array): Uint8Array {
  if (data instanceof Uint8Array) {
    out.set(data);
    return out;
  }
  let at = 0;
  for (const piece of data) {
    out.set(piece, at);
    at += piece.byteLength;
  }
  return out;
}

/** Writes `head` over the chunk's first bytes (a Blosc header known last), across its pieces. */
function patchHead(pieces: Uint8Array[], head: Uint8Array, key: string): void {
  let at = 0;
  for (const piece of pieces) {
    if (at >= head.byteLength) return;
    const n = Math.min(piece.byteLength, head.byteLength - at);
    piece.set(head.subarray(at, at + n), 0);
    at += n;
  }
  if (at < head.byteLength) throw new Error(`chunk ${key}: its header (${head.byteLength} bytes) is longer than the chunk`);
}

function compareCoords(a: Coords, b: Coords): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}
