/**
 * Chooses the Blosc engine: the native addon over the system c-blosc when it was built and loads, else the
 * WebAssembly build that ships with numcodecs (the one zarrita.js reads with). Both write standard Blosc1
 * chunks that any Blosc decoder reads; they differ in speed and in the typesize they can shuffle with.
 */
import type { BloscSettings } from './blosc-settings.js';
import { createNativeEngine, loadNativeAddon, nativeLoadError } from './blosc-native.js';
import { rebuildCommand } from '../package-files.js';
import { warnOnce } from '../util/warn-once.js';

export type EngineName = 'native' | 'wasm';
export type EnginePreference = EngineName | 'auto';

export interface BloscEngine {
  name: EngineName;
  /**
   * Compresses `src` into a Blosc1 chunk. With `dest` (at least src.byteLength + 16 bytes) the result is a view of
   * `dest`, so hot paths allocate nothing; without it, a new buffer is allocated.
   * The native engine returns synchronously; the wasm one returns a Promise (numcodecs initialises its module
   * lazily and only offers an async encode). Workers `await` either.
   */
  compress(src: Uint8Array, s: BloscSettings, dest?: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** The typesize this engine really writes in the chunk header (and so must go into v3 metadata). */
  effectiveTypesize(s: BloscSettings): number;
}

let active: BloscEngine | undefined;

function checkPreference(preference: unknown): asserts preference is EnginePreference {
  if (preference !== 'auto' && preference !== 'native' && preference !== 'wasm') {
    throw new RangeError(`engine must be one of auto, native, wasm, got ${JSON.stringify(preference)}`);
  }
}

/**
 * The engine name `loadEngine(preference)` will produce, decided synchronously (the addon loads synchronously),
 * so a pool can name its engine before its workers start. Throws when 'native' is demanded but unavailable.
 */
export function resolveEngineName(preference: EnginePreference = 'auto'): EngineName {
  checkPreference(preference);
  if (preference === 'wasm') return 'wasm';
  if (loadNativeAddon()) return 'native';
  if (preference === 'native') {
    throw new Error(`engine "native" was requested but the Blosc addon did not load: ${nativeLoadError()}`);
  }
  warnOnce(
    'ZARR_STREAM_NO_NATIVE_BLOSC',
    `the native Blosc engine did not load (${nativeLoadError()}); compressing with the slower WebAssembly engine. ` +
      `To build it: apt-get install libblosc-dev && ${rebuildCommand()}`,
  );
  return 'wasm';
}

/** Whether the native addon is built and loads here (tests and the benchmark run it only then). */
export function nativeEngineAvailable(): boolean {
  return loadNativeAddon() !== null;
}

export async function loadEngine(preference: EnginePreference = 'auto'): Promise<BloscEngine> {
  const name = resolveEngineName(preference);
  // Imported lazily so a process using only the native engine never loads the 600 kB wasm module.
  const engine = name === 'native' ? createNativeEngine() : await (await import('./blosc-wasm.js')).createWasmEngine();
  active = engine;
  return engine;
}

/** The engine most recently loaded in this thread, or what 'auto' would pick if none was loaded yet. */
export function activeEngineName(): EngineName {
  return active?.name ?? resolveEngineName('auto');
}

/** The typesize an engine writes into chunk headers (what v3 metadata must say), known without loading the engine. */
export function typesizeWritten(name: EngineName, s: BloscSettings): number {
  // numcodecs' WebAssembly build hard-codes a typesize of 4 (blosc-wasm.ts); c-blosc itself honours the request.
  return name === 'wasm' ? 4 : s.typesize;
}
