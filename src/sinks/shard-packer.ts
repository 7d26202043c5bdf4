/**
 * ShardPacker: the sink's first step for sharded levels, packing their encoded chunks into shards (Zarr v3
 * `sharding_indexed`). It lives in the sink rather than as a stage of its own because Node's typings of
 * `pipeline()` take at most four transforms between a source and its destination, and the chain already has four. A frame crosses every tile, so a shard's chunks fill concurrently and none can be
 * appended to its shard before the others: the assembler copies each chunk's bytes as they arrive (handing the
 * compressor's pooled buffers straight back) and holds them until the shard is complete, that is until every chunk
 * of its shard row (shardChunks[0] chunk rows) has arrived; then it gives the shard back as one sink part: the chunks in
 * index order, the index and its CRC-32C, which the sink writes as one value under the shard's key (a temporary
 * renamed into place, so no reader sees a torn shard). At the end of the stream, shards whose last chunk rows never
 * came (a partial last shard along t) are given back with those slots marked absent (`rest()`).
 *
 * Memory: per sharded level, the compressed chunks of the shard row filling, plus the shards the sink is writing
 * (its writes in flight push back on the chain, so about one more shard row).
 */
import type { ArrayLayout } from '../chunking/layout.js';
import { chunksPerShard, shardChunksPerChunkRow, shardOf, slotInShard, type ShardChunks } from '../chunking/shards.js';
import { encodeShardIndex } from '../codecs/shard-index.js';
import { byteLengthOf, type Bytes, type ChunkMessage, type ChunkPartMessage, type SinkMessage } from '../messages.js';


type Coords = readonly [number, number, number, number];

/** A shard being filled: each slot's chunk bytes (copies, in pieces), once the chunk is complete. */
interface PendingShard {
  level: number;
  coords: [number, number, number, number];
  slots: Array<Uint8Array[] | undefined>;
  nbytes: number[];
  stored: number;
  /** Chunks the shard holds when complete (fewer than its slots at a ragged edge). */
  expected: number;
  /** Frames covered from the shard's first frame, as far as its chunks go. */
  frames: number;
}

export class ShardPacker {
  private readonly shards = new Map<string, PendingShard>();
  /** Chunks arriving in parts: the copies of their parts so far. */
  private readonly partial = new Map<string, Uint8Array[]>();

  /** One layout per level; levels with `shardChunks` are sharded. */
  constructor(private readonly layouts: readonly ArrayLayout[]) {}

  /** Whether the message's level is sharded, so its messages go through add(). */
  isSharded(level: number): boolean {
    return Boolean(this.layouts[level]?.shardChunks);
  }

  /**
   * Takes a sharded level's chunk or part (copying its bytes and releasing the message's buffers) and returns the
   * shards it completed: none, or one.
   */
  add(message: SinkMessage): ChunkPartMessage[] {
    const layout = this.layouts[message.level];
    const shard = layout?.shardChunks;
    if (!layout || !shard) throw new RangeError(`chunk of level ${message.level}: the level is not sharded`);
    return message.kind === 'chunk' ? this.chunkMessage(layout, shard, message) : this.partMessage(layout, shard, message);
  }

  /**
   * At the end of the stream: the shards whose last chunk rows never came (the stream ended inside their shard row),
   * their missing slots absent. Throws when a chunk is still incomplete.
   */
  rest(): ChunkPartMessage[] {
    if (this.partial.size > 0) throw new Error(`stream ended with ${this.partial.size} chunk(s) incomplete before sharding, e.g. ${this.partial.keys().next().value}`);
    const rest = [...this.shards.values()].sort((a, b) => a.level - b.level || compareCoords(a.coords, b.coords));
    this.shards.clear();
    return rest.map((pending) => this.emitShard(pending));
  }

  /** Drops what is held (after a failure: only copies are held, so there is nothing else to release). */
  clear(): void {
    this.shards.clear();
    this.partial.clear();
  }

  private chunkMessage(layout: ArrayLayout, shard: ShardChunks, message: ChunkMessage): ChunkPartMessage[] {
    // A copy, so the compressor's pooled buffer goes back now rather than when the shard row completes.
    const copy = message.data.slice();
    message.release?.();
    return this.chunkDone(layout, shard, message.coords, [copy], copy.byteLength, message.frames);
  }

  private partMessage(layout: ArrayLayout, shard: ShardChunks, part: ChunkPartMessage): ChunkPartMessage[] {
    const key = `${part.level}/${part.coords.join('/')}`;
    if (part.region) throw new Error(`chunk ${key}: a part that names a tile region reached the sink`);
    let pieces = this.partial.get(key);
    if (!pieces) this.partial.set(key, (pieces = []));
    const length = byteLengthOf(part.data);
    if (length > 0) pieces.push(copyBytes(part.data, length));
    part.release?.();
    if (!part.complete) return [];
    this.partial.delete(key);
    const { totalBytes, frames, head } = part.complete;
    if (head) patchHead(pieces, head, key);
    let bytes = pieces.reduce((sum, piece) => sum + piece.byteLength, 0);
    // A short raw chunk: the rest is zeros (the fill value), as a store pads it.
    if (totalBytes !== undefined && totalBytes > bytes) {
      pieces.push(new Uint8Array(totalBytes - bytes));
      bytes = totalBytes;
    }
    return this.chunkDone(layout, shard, part.coords, pieces, bytes, frames);
  }

  private chunkDone(layout: ArrayLayout, shard: ShardChunks, coords: Coords, pieces: Uint8Array[], bytes: number, frames: number): ChunkPartMessage[] {
    const shardCoords = shardOf(shard, coords);
    const key = `${layout.level}/${shardCoords.join('/')}`;
    let pending = this.shards.get(key);
    if (!pending) {
      const slots = chunksPerShard(shard);
      pending = {
        level: layout.level,
        coords: shardCoords,
        slots: new Array<Uint8Array[] | undefined>(slots).fill(undefined),
        nbytes: new Array<number>(slots).fill(-1),
        stored: 0,
        expected: shard[0] * shardChunksPerChunkRow(layout, shard, shardCoords),
        frames: 0,
      };
      this.shards.set(key, pending);
    }
    const slot = slotInShard(shard, coords);
    if (pending.slots[slot]) throw new Error(`chunk ${layout.path}/c/${coords.join('/')} arrived twice for shard ${key}`);
    pending.slots[slot] = pieces;
    pending.nbytes[slot] = bytes;
    pending.stored++;
    pending.frames = Math.max(pending.frames, (coords[0] % shard[0]) * layout.chunk.frames + frames);
    if (pending.stored < pending.expected) return [];
    this.shards.delete(key);
    return [this.emitShard(pending)];
  }

  /** The shard as one part: its chunks in slot order, then the index (offsets from the shard's start). */
  private emitShard(pending: PendingShard): ChunkPartMessage {
    const data: Uint8Array[] = [];
    const offsets = new Array<number>(pending.slots.length).fill(0);
    let offset = 0;
    pending.slots.forEach((pieces, slot) => {
      if (!pieces) return;
      offsets[slot] = offset;
      data.push(...pieces);
      offset += pending.nbytes[slot]!;
    });
    const index = encodeShardIndex(offsets, pending.nbytes);
    data.push(index);
    return {
      kind: 'chunk-part',
      level: pending.level,
      coords: pending.coords,
      offset: 0,
      data,
      complete: { totalBytes: offset + index.byteLength, frames: pending.frames, chunks: pending.stored },
    };
  }
}

function copyBytes(data: Bytes, length: number): Uint8Array {
  if (data instanceof Uint8Array) return data.slice();
  const out = new Uint8Array(length);
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
  for (let i = 0; i < 4; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}
