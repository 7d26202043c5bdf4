/** An in-memory store: tests, and pipelines that hand the result on without touching disk. */
import { validateKey } from './keys.js';
import type { Store } from './store.js';

export class MemoryStore implements Store {
  /** Every value, by its full key (a view made by at() shares its store's map). */
  readonly map: Map<string, Uint8Array>;
  readonly description: string;
  /** '' for the whole store; 'path/' for a view below path. */
  private readonly prefix: string;

  constructor(map = new Map<string, Uint8Array>(), prefix = '') {
    this.map = map;
    this.prefix = prefix;
    this.description = prefix === '' ? 'memory store' : `memory store/${prefix.slice(0, -1)}`;
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    validateKey(key);
    // The caller may reuse its buffer after set() resolves.
    this.map.set(this.prefix + key, value.slice());
  }

  async setIfAbsent(key: string, value: Uint8Array): Promise<boolean> {
    validateKey(key);
    if (this.map.has(this.prefix + key)) return false;
    this.map.set(this.prefix + key, value.slice());
    return true;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    validateKey(key);
    return this.map.get(this.prefix + key);
  }

  async isEmpty(): Promise<boolean> {
    if (this.prefix === '') return this.map.size === 0;
    for (const key of this.map.keys()) if (key.startsWith(this.prefix)) return false;
    return true;
  }

  async clear(): Promise<void> {
    if (this.prefix === '') return this.map.clear();
    for (const key of [...this.map.keys()]) if (key.startsWith(this.prefix)) this.map.delete(key);
  }

  /** The keys below `path`, in the same map. */
  at(path: string): MemoryStore {
    validateKey(path);
    return new MemoryStore(this.map, `${this.prefix}${path}/`);
  }
}
