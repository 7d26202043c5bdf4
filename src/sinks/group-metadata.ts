/**
 * The image group's metadata kept true while the sink writes: its attributes (the OME-NGFF metadata, then the
 * user's `attributes` option and what ZarrSink.setAttributes adds while writing) and the per-frame metadata's
 * companion array (metadata/frame-metadata.ts), published for the level-0 frames the arrays' metadata shows.
 * Rewrites are coalesced (a MetadataPublisher): the sink asks for one whenever an array's metadata lands, so custom
 * attributes reach the store with the next chunk row, and the final state is flushed at the end or on failure.
 */
import { attempt, type Store } from '../stores/store.js';
import { encodeJson, metadataKeys, v2GroupMetadata, v3GroupMetadata, type ZarrVersion } from '../metadata/zarr.js';
import { checkAttributeKey, checkJson, copyJson, resolveAttributes, type JsonObject, type JsonValue } from '../metadata/attributes.js';
import { FrameMetadataLog, frameMetadataChunkKey, frameMetadataDocuments } from '../metadata/frame-metadata.js';
import { MetadataPublisher, type PublisherEvents } from './metadata-publisher.js';

export class GroupMetadata {
  readonly frameLog = new FrameMetadataLog();
  private readonly user: JsonObject;
  /** Bumped by each request: the publisher writes the newest state for the newest one. */
  private generation = 0;
  /** Bumped by each change of the attributes; the version on the store (-1: none yet). */
  private attributesVersion = 0;
  private attributesWritten = -1;
  private readonly publisher: MetadataPublisher;

  constructor(
    private readonly store: Store,
    private readonly version: ZarrVersion,
    /** The OME-NGFF attributes (`ome`, or v2 `multiscales`). */
    private readonly ome: Record<string, unknown>,
    attributes: JsonObject,
    /** Level-0 frames the arrays' metadata on the store shows: the frame metadata never claims more. */
    private readonly visibleFrames: () => number,
    events: PublisherEvents,
  ) {
    // Checked again for a sink built by hand (zarrTransforms checked them as options): a bad value throws here.
    this.user = resolveAttributes(attributes, version);
    this.publisher = new MetadataPublisher(() => this.write(), events);
  }

  /** The group's attributes: the OME metadata first, then the user's. */
  get attributes(): Record<string, unknown> {
    return { ...this.ome, ...this.user };
  }

  /** Sets one custom attribute (validated: throws naming the key); written with the next update. */
  set(key: string, value: unknown): void {
    checkAttributeKey(key, this.version, 'setAttributes');
    checkJson(value, `setAttributes ${JSON.stringify(key)}`);
    this.user[key] = copyJson(value as JsonValue);
    this.attributesVersion++;
  }

  /** Asks for a rewrite of what changed; coalesced with one in flight. */
  update(): Promise<void> {
    return this.publisher.request(++this.generation);
  }

  /** Writes the newest state, trying `attempts` times; rejects with the last failure. */
  flush(attempts = 2): Promise<void> {
    void this.publisher.request(++this.generation);
    return this.publisher.flush(attempts);
  }

  /** Frame metadata first (chunks, then the array's metadata that claims them), then the group's attributes. */
  private async write(): Promise<void> {
    const plan = this.frameLog.plan(this.visibleFrames());
    if (plan) {
      await Promise.all(plan.chunks.map(({ index, bytes }) => this.put(frameMetadataChunkKey(this.version, index), bytes)));
      for (const [key, document] of frameMetadataDocuments(this.version, plan, this.frameLog.chunkBytes)) await this.put(key, document);
      this.frameLog.commit(plan);
    }
    if (this.attributesWritten === this.attributesVersion) return;
    const version = this.attributesVersion;
    const keys = metadataKeys(this.version, '');
    if (this.version === 2) {
      if (this.attributesWritten < 0) await this.put(keys.group, encodeJson(v2GroupMetadata()));
      await this.put(keys.groupAttributes!, encodeJson(this.attributes));
    } else {
      await this.put(keys.group, encodeJson(v3GroupMetadata(this.attributes)));
    }
    this.attributesWritten = version;
  }

  private put(key: string, value: Uint8Array): Promise<void> {
    return attempt(key, () => this.store.set(key, value));
  }
}
