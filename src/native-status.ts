/** What this installation runs on, as `zarr-stream --version` prints it: the package version and which engines load. */
import { nativeBloscVersion, nativeLoadError } from './codecs/blosc-native.js';
import { nativeKernels, nativeKernelsLoadError } from './downsample/native-kernels.js';
import { packageVersion, rebuildCommand } from './package-files.js';

export interface NativeStatus {
  version: string;
  node: string;
  /** The Blosc engine 'auto' uses: native c-blosc (with its version) or the WebAssembly build from numcodecs. */
  blosc: { engine: 'native'; bloscVersion: string } | { engine: 'wasm'; reason: string };
  /** The pyramid's 8- and 16-bit mean kernels. */
  pixelKernels: { engine: 'native' } | { engine: 'javascript'; reason: string };
}

export function nativeStatus(): NativeStatus {
  const bloscVersion = nativeBloscVersion();
  return {
    version: packageVersion(),
    node: process.version,
    blosc: bloscVersion ? { engine: 'native', bloscVersion } : { engine: 'wasm', reason: nativeLoadError() },
    pixelKernels: nativeKernels() ? { engine: 'native' } : { engine: 'javascript', reason: nativeKernelsLoadError() },
  };
}

/** The lines `zarr-stream --version` prints. */
export function formatNativeStatus(status: NativeStatus): string[] {
  const { blosc, pixelKernels } = status;
  return [
    `zarr-stream ${status.version} (Node ${status.node})`,
    blosc.engine === 'native'
      ? `blosc engine: native (c-blosc ${blosc.bloscVersion})`
      : `blosc engine: wasm (numcodecs); native engine not loaded: ${blosc.reason}; to build it: apt-get install libblosc-dev && ${rebuildCommand()}`,
    pixelKernels.engine === 'native'
      ? 'pyramid kernels: native'
      : `pyramid kernels: javascript; native kernels not loaded: ${pixelKernels.reason}; to build them: ${rebuildCommand()}`,
  ];
}
