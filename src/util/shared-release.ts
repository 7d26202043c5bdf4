/**
 * One `release` shared by several holders: the returned function must be called once by each of `holders`, and the
 * last call releases. A frame's memory goes back to its pool only when every stage that reads it is done.
 */
export function shareRelease(release: () => void, holders: number): () => void {
  if (!Number.isSafeInteger(holders) || holders < 1) throw new RangeError(`holders must be a positive integer, got ${holders}`);
  let left = holders;
  return () => {
    // A holder that released twice would hand memory still in use back to the pool: fail loudly instead.
    if (left === 0) throw new Error('a shared frame buffer was released more times than it had holders');
    if (--left === 0) release();
  };
}
