/** Pixel types a frame may hold, and what each one means to Zarr v2 and v3. */

export const DTYPES = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'float64', 'uint64', 'int64'] as const;
export type DType = (typeof DTYPES)[number];

export type TypedArrayOf<D extends DType> = D extends 'uint8'
  ? Uint8Array
  : D extends 'int8'
    ? Int8Array
    : D extends 'uint16'
      ? Uint16Array
      : D extends 'int16'
        ? Int16Array
        : D extends 'uint32'
          ? Uint32Array
          : D extends 'int32'
            ? Int32Array
            : D extends 'float32'
              ? Float32Array
              : D extends 'float64'
                ? Float64Array
                : D extends 'uint64'
                  ? BigUint64Array
                  : BigInt64Array;

export type PixelArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigUint64Array
  | BigInt64Array;

interface DTypeInfo {
  bytes: number;
  /** Zarr v2 `dtype` string, little endian. */
  v2: string;
  ctor: { new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): PixelArray; new (length: number): PixelArray };
}

const INFO: Record<DType, DTypeInfo> = {
  uint8: { bytes: 1, v2: '|u1', ctor: Uint8Array },
  int8: { bytes: 1, v2: '|i1', ctor: Int8Array },
  uint16: { bytes: 2, v2: '<u2', ctor: Uint16Array },
  int16: { bytes: 2, v2: '<i2', ctor: Int16Array },
  uint32: { bytes: 4, v2: '<u4', ctor: Uint32Array },
  int32: { bytes: 4, v2: '<i4', ctor: Int32Array },
  float32: { bytes: 4, v2: '<f4', ctor: Float32Array },
  float64: { bytes: 8, v2: '<f8', ctor: Float64Array },
  uint64: { bytes: 8, v2: '<u8', ctor: BigUint64Array },
  int64: { bytes: 8, v2: '<i8', ctor: BigInt64Array },
};

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && (DTYPES as readonly string[]).includes(value);
}

export function bytesPerPixel(dtype: DType): number {
  return INFO[dtype].bytes;
}

/** The v2 `dtype` field (`<u2`, `|u1`, ...). Every type here is stored little endian. */
export function v2DataType(dtype: DType): string {
  return INFO[dtype].v2;
}

/** The v3 `data_type` field: Zarr v3 names these types exactly as we do. */
export function v3DataType(dtype: DType): string {
  return dtype;
}

/** A typed view of `length` pixels of `dtype`, allocated fresh. */
export function allocPixels(dtype: DType, length: number): PixelArray {
  return new INFO[dtype].ctor(length);
}

/** A typed view over existing bytes (no copy); `bytes.byteOffset` must be aligned to the pixel size. */
export function viewPixels(dtype: DType, bytes: Uint8Array): PixelArray {
  return new INFO[dtype].ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / INFO[dtype].bytes);
}

/** The dtype a TypedArray holds, or undefined for a plain Uint8Array/Buffer (whose meaning the options declare). */
export function dtypeOfArray(array: ArrayBufferView): DType | undefined {
  if (array instanceof Int8Array) return 'int8';
  if (array instanceof Uint16Array) return 'uint16';
  if (array instanceof Int16Array) return 'int16';
  if (array instanceof Uint32Array) return 'uint32';
  if (array instanceof Int32Array) return 'int32';
  if (array instanceof Float32Array) return 'float32';
  if (array instanceof Float64Array) return 'float64';
  if (array instanceof BigUint64Array) return 'uint64';
  if (array instanceof BigInt64Array) return 'int64';
  return undefined;
}

/** Returns `value` as a DType or throws an error naming `field` and the bad value. */
export function checkDType(value: unknown, field: string): DType {
  if (!isDType(value)) throw new TypeError(`${field} must be one of ${DTYPES.join(', ')}; got ${JSON.stringify(value)}`);
  return value;
}
