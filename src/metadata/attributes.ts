/**
 * Custom attributes of the image group (the `attributes` option, ZarrSink.setAttributes) and per-frame metadata:
 * what counts as JSON, and which keys are the OME-NGFF metadata's. Pure; every error names the offending path
 * (`attributes.stage.x`), so a bad value is refused before it is stored.
 */
import type { ZarrVersion } from './zarr.js';
import { describeValue } from '../util/describe-value.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** A value that is not JSON, or a reserved key: `path` is where (e.g. `attributes.stage.x`). */
export class AttributeError extends Error {
  constructor(
    readonly path: string,
    readonly value: unknown,
    readonly expectation: string,
  ) {
    super(`${path} must be ${expectation}, got ${describeValue(value)}`);
    this.name = 'AttributeError';
  }
}

/**
 * Keys of the image group's attributes that hold its OME-NGFF metadata: v3 (NGFF 0.5) puts it under `ome`, v2
 * (NGFF 0.4) under `multiscales`. `ome` is refused in v2 too, so one set of attributes suits either version.
 */
export function reservedKeys(version: ZarrVersion): readonly string[] {
  return version === 2 ? ['ome', 'multiscales'] : ['ome'];
}

/**
 * Throws an AttributeError unless `value` survives JSON.stringify/parse unchanged: null, booleans, finite numbers,
 * strings, arrays and plain objects of those, without cycles. `undefined`, functions, symbols, BigInt, NaN and
 * Infinity, class instances (Date, Map, typed arrays) and sparse arrays are refused.
 */
export function checkJson(value: unknown, path: string, ancestors: unknown[] = []): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new AttributeError(path, value, 'JSON (a finite number)');
      return;
    case 'object':
      break;
    default:
      throw new AttributeError(path, value, 'JSON (null, a boolean, a finite number, a string, an array or a plain object)');
  }
  if (value === null) return;
  if (ancestors.includes(value)) throw new AttributeError(path, '[a cycle]', 'JSON (without cycles)');
  ancestors.push(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) throw new AttributeError(`${path}[${i}]`, undefined, 'JSON (a sparse array has holes)');
      checkJson(value[i], `${path}[${i}]`, ancestors);
    }
  } else {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) throw new AttributeError(path, value, 'JSON (a plain object, not a class instance)');
    for (const key of Object.keys(value)) checkJson((value as Record<string, unknown>)[key], `${path}.${key}`, ancestors);
  }
  ancestors.pop();
}

/** Throws unless `value` is a plain JSON object (the attributes option, a frame's metadata). */
export function checkJsonObject(value: unknown, path: string): asserts value is JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new AttributeError(path, value, 'a JSON object');
  checkJson(value, path);
}

/** Throws unless `key` may be set on the image group: a non-empty string that is not reserved. */
export function checkAttributeKey(key: unknown, version: ZarrVersion, path = 'attributes'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) throw new AttributeError(`${path} key`, key, 'a non-empty string');
  if (reservedKeys(version).includes(key)) {
    throw new AttributeError(`${path}.${key}`, key, `another key: "${key}" is reserved for the OME-NGFF metadata zarr-stream writes (reserved: ${reservedKeys(version).join(', ')})`);
  }
}

/** The `attributes` option, validated, as a copy the caller cannot change afterwards. */
export function resolveAttributes(value: unknown, version: ZarrVersion, path = 'attributes'): JsonObject {
  if (value === undefined) return {};
  checkJsonObject(value, path);
  for (const key of Object.keys(value)) checkAttributeKey(key, version, path);
  return copyJson(value);
}

/** A deep copy of a checked JSON value. */
export function copyJson<T extends JsonValue>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
