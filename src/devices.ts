/**
 * The seed driver's six storage devices (acquire's Zarr storage) as presets: each fixes the Zarr version and the
 * codec (Blosc1 with clevel 1 and byte shuffle, or none). Explicit options refine a preset.
 */
import type { BloscCname } from './codecs/blosc-settings.js';
import type { ZarrVersion } from './metadata/zarr.js';

export const DEVICES = {
  Zarr: { zarrVersion: 2, codec: undefined },
  ZarrBlosc1ZstdByteShuffle: { zarrVersion: 2, codec: 'zstd' },
  ZarrBlosc1Lz4ByteShuffle: { zarrVersion: 2, codec: 'lz4' },
  ZarrV3: { zarrVersion: 3, codec: undefined },
  ZarrV3Blosc1ZstdByteShuffle: { zarrVersion: 3, codec: 'zstd' },
  ZarrV3Blosc1Lz4ByteShuffle: { zarrVersion: 3, codec: 'lz4' },
} as const satisfies Record<string, { zarrVersion: ZarrVersion; codec: BloscCname | undefined }>;

export type DeviceName = keyof typeof DEVICES;

export const DEVICE_NAMES = Object.keys(DEVICES) as DeviceName[];

export function isDeviceName(value: unknown): value is DeviceName {
  return typeof value === 'string' && Object.hasOwn(DEVICES, value);
}
