/** Files of this installation, found from the compiled code's place (dist/src/), in a clone as in an install. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

export function packageVersion(): string {
  return (JSON.parse(readFileSync(`${packageRoot}package.json`, 'utf8')) as { version: string }).version;
}

/** The command that rebuilds the native addons of this very installation (after installing what they need). */
export function rebuildCommand(): string {
  return `node ${JSON.stringify(`${packageRoot}scripts/build-native.mjs`)}`;
}
