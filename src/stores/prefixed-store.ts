/**
 * Several images in one store: an image written at `path` (the `path` option) sees a view of the store below that
 * path. A store that can scope its emptiness check, clear and lock to a path offers `at(path)` (FileSystemStore,
 * S3Store, MemoryStore); any other store gets a PrefixedStore, which prefixes keys and nothing more (no emptiness
 * check, clear or lock: those would concern the whole store, siblings included).
 */
import { METADATA } from './zarr-tree.js';
import { validateKey } from './keys.js';
import { writerFor, type Store, type StoreWriter } from './store.js';

/**
 * Why `value` is not an image path ('pos0', 'A/1/0'), or undefined when it is one: '/'-separated names, none empty,
 * '.' or '..', no leading or trailing '/', no name that is a Zarr metadata document or starts with '__' (reserved by
 * Zarr v3), and none that would be taken for a temporary of ours or our lock file (a leading '.').
 */
export function imagePathProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return 'a non-empty string';
  if (value.startsWith('/') || value.endsWith('/')) return 'relative: no leading or trailing "/"';
  try {
    validateKey(value);
  } catch (error) {
    return `names separated by "/" (${(error as Error).message.replace(/^invalid store key "[^"]*": /, '')})`;
  }
  for (const name of value.split('/')) {
    if (METADATA.has(name)) return `names that are not Zarr metadata documents ("${name}")`;
    if (name.startsWith('__')) return `names that do not start with "__" (reserved by Zarr v3: "${name}")`;
    if (name.startsWith('.')) return `names that do not start with "." ("${name}")`;
  }
  return undefined;
}

/** The groups above an image at `path`, outermost first: '' (the root), then each ancestor ('A', 'A/1'). */
export function parentPaths(path: string): string[] {
  const names = path.split('/');
  return names.map((_, depth) => names.slice(0, depth).join('/'));
}

/** A view of `store` below `path`: the store's own (scoped emptiness check, clear and lock), else a PrefixedStore. */
export function storeAt(store: Store, path: string): Store {
  if (!store.at) return new PrefixedStore(store, path);
  const scoped = store.at(path);
  if (scoped === store || typeof scoped?.set !== 'function' || typeof scoped.get !== 'function') throw new TypeError(`store.at(${JSON.stringify(path)}) did not return a Store for that path`);
  return scoped;
}

/** Keys below `prefix` of another store; nothing else (see the file's comment). */
export class PrefixedStore implements Store {
  constructor(
    readonly base: Store,
    readonly prefix: string,
  ) {}

  get description(): string {
    return `${this.base.description ?? 'store'}/${this.prefix}`;
  }

  set(key: string, value: Uint8Array): Promise<void> {
    return this.base.set(this.keyOf(key), value);
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.base.get(this.keyOf(key));
  }

  createWriter(key: string): StoreWriter {
    return writerFor(this.base, this.keyOf(key));
  }

  private keyOf(key: string): string {
    validateKey(key);
    return `${this.prefix}/${key}`;
  }
}
