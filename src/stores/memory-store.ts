/** An in-memory store: tests, and pipelines that hand the result on without touching disk. */
import { validateKey } from './keys.js';
import type { Store } from './store.js';

export class MemoryStore implements Store {
  readonly map = new Map<string, Uint8Array>();
  readonly description = 'memory store';

  async set(key: string, value: Uint8Array): Promise<void> {
    validateKey(key);
    // The caller may reuse its buffer after set() resolves.
    this.map.set(key, value.slice());
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    validateKey(key);
    return this.map.get(key);
  }

  async isEmpty(): Promise<boolean> {
    return this.map.size === 0;
  }

  async clear(): Promise<void> {
    this.map.clear();
  }
}
