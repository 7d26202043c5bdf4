#!/usr/bin/env node
// Builds the optional native addons: the Blosc engine (native/blosc_addon.c -> build/Release/blosc_addon.node,
// when libblosc's headers are installed) and the pyramid's pixel kernels (native/pixels_addon.c, which needs
// only a compiler). It must never fail an install: without them zarr-stream falls back to the WebAssembly engine
// and to JavaScript kernels, so every failure here ends in one line of explanation and exit code 0.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const header = process.env.BLOSC_INCLUDE_HEADER ?? '/usr/include/blosc.h';

function done(message) {
  console.log(`zarr-stream: ${message}`);
  process.exit(0);
}

if (process.env.ZARR_STREAM_SKIP_NATIVE) done('native addons not built (ZARR_STREAM_SKIP_NATIVE set); using wasm and JavaScript kernels');
const withBlosc = existsSync(header);
const noBlosc = `native Blosc engine not built (${header} not found; install libblosc-dev); using wasm`;

// Prefer the node-gyp bundled with npm (no download): npm names it during lifecycle scripts, else look beside npm.
const npmDir = process.env.npm_execpath ? join(dirname(process.env.npm_execpath), '..') : join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm');
const bundled = [process.env.npm_config_node_gyp, join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')].find((p) => p && existsSync(p));
// Headers that ship with this node (distro packages install them under <prefix>/include/node) avoid a download.
const prefix = join(dirname(process.execPath), '..');
const nodedir = process.env.npm_config_nodedir || (existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : '');
const gypArgs = ['rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : []), ...(withBlosc ? [] : ['--', '-Dwith_blosc=0'])];
const [cmd, args] = bundled ? [process.execPath, [bundled, ...gypArgs]] : ['npm', ['exec', '--yes', '--', 'node-gyp', ...gypArgs]];
const result = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const built = existsSync(join(root, 'build', 'Release', 'pixels_addon.node')) && (!withBlosc || existsSync(join(root, 'build', 'Release', 'blosc_addon.node')));
if (result.status === 0 && built) done(withBlosc ? 'native Blosc engine and pixel kernels built (build/Release)' : `native pixel kernels built; ${noBlosc}`);
// The useful line is the compiler's or linker's error, not node-gyp's closing "not ok".
const lines = `${result.stderr ?? ''}${result.stdout ?? ''}`.split('\n').map((l) => l.trim());
const reason =
  (result.error && String(result.error)) ||
  lines.find((l) => /error:|cannot find -l|not found/i.test(l)) ||
  lines.find((l) => l.startsWith('gyp ERR!') && !l.endsWith('not ok')) ||
  `exit ${result.status}`;
done(`native addons not built (node-gyp failed: ${reason}); using wasm and JavaScript kernels`);
