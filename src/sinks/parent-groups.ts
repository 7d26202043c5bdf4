/**
 * The groups above an image written at a `path`: the store's root and each intermediate node ('A', 'A/1' for
 * 'A/1/0') must be Zarr groups (v3 has no implicit groups). Each is created only where absent, with the store's
 * atomic create (setIfAbsent) where it has one, so a group document another writer made (a sibling image's, or
 * one with attributes of its own) is never replaced. Images are not listed in the root's attributes: nothing
 * shared is ever rewritten, so concurrent writers at other paths cannot lose each other's entries.
 */
import { attempt, type Store } from '../stores/store.js';
import { encodeJson, v2GroupMetadata, v3GroupMetadata, type ZarrVersion } from '../metadata/zarr.js';
import { parentPaths } from '../stores/prefixed-store.js';

const join = (dir: string, name: string): string => (dir === '' ? name : `${dir}/${name}`);

/** Creates the missing groups above `path`, or throws naming a node in the way (an array, the other Zarr version). */
export async function ensureParentGroups(store: Store, path: string, version: ZarrVersion): Promise<void> {
  const [groupName, otherName, arrayName] = version === 3 ? ['zarr.json', '.zgroup', '.zarray'] : ['.zgroup', 'zarr.json', '.zarray'];
  const document = encodeJson(version === 3 ? v3GroupMetadata() : v2GroupMetadata());
  for (const dir of parentPaths(path)) {
    const where = dir === '' ? 'the store root' : `"${dir}"`;
    const key = join(dir, groupName);
    const other = await attempt(join(dir, otherName), () => store.get(join(dir, otherName)));
    if (other) throw new Error(`cannot write an image at "${path}": ${where} is a Zarr v${version === 3 ? 2 : 3} node (${join(dir, otherName)}); write it with zarrVersion ${version === 3 ? 2 : 3}`);
    if (version === 2 && (await attempt(join(dir, arrayName), () => store.get(join(dir, arrayName))))) throw new Error(`cannot write an image at "${path}": ${where} is a Zarr array (${join(dir, arrayName)}), not a group`);
    const existing = await attempt(key, () => store.get(key));
    if (existing) {
      if (version === 3 && !isV3Group(existing)) throw new Error(`cannot write an image at "${path}": ${where} is not a Zarr group (${key} is not a group's metadata)`);
      continue;
    }
    if (store.setIfAbsent) await attempt(key, () => store.setIfAbsent!(key, document));
    else await attempt(key, () => store.set(key, document));
  }
}

function isV3Group(bytes: Uint8Array): boolean {
  try {
    return (JSON.parse(new TextDecoder().decode(bytes)) as { node_type?: unknown }).node_type === 'group';
  } catch {
    return false;
  }
}
