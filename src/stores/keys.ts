/** Store keys: '/'-separated relative paths that cannot name anything outside the store. */

export class InvalidKeyError extends Error {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`invalid store key ${JSON.stringify(key)}: ${reason}`);
    this.name = 'InvalidKeyError';
  }
}

/** Throws InvalidKeyError unless `key` is a safe relative key; returns its segments. */
export function validateKey(key: string): string[] {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidKeyError(String(key), 'empty');
  if (key.startsWith('/') || /^[A-Za-z]:/.test(key)) throw new InvalidKeyError(key, 'absolute paths are not keys');
  if (key.includes('\\')) throw new InvalidKeyError(key, 'backslashes are not allowed');
  if (key.includes('\0')) throw new InvalidKeyError(key, 'NUL bytes are not allowed');
  const segments = key.split('/');
  for (const segment of segments) {
    if (segment === '') throw new InvalidKeyError(key, 'empty path segment');
    if (segment === '.' || segment === '..') throw new InvalidKeyError(key, `"${segment}" segments are not allowed`);
  }
  return segments;
}
