/**
 * One process warning per code. npm hides what an install script prints, so a missing native addon would go
 * unnoticed; the library says it once, from the main thread only (worker threads load the same fallbacks).
 */
import { isMainThread } from 'node:worker_threads';

const given = new Set<string>();

export function warnOnce(code: string, message: string): void {
  if (!isMainThread || given.has(code)) return;
  given.add(code);
  process.emitWarning(message, { type: 'ZarrStreamWarning', code });
}
