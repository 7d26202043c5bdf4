/** Edit distance, for "did you mean ...?" hints on misspelt names. */

/** Levenshtein distance: single-character insertions, deletions and substitutions turning `a` into `b`. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The candidate closest to `name` (case ignored first, then counted to break ties), or undefined when even the
 * closest differs in more than a third of its letters (at least 2): then a hint would mislead more than help.
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of candidates) {
    const score = editDistance(name.toLowerCase(), candidate.toLowerCase()) * 100 + editDistance(name, candidate);
    if (score < bestScore) [best, bestScore] = [candidate, score];
  }
  if (best === undefined || Math.floor(bestScore / 100) > Math.max(2, Math.floor(best.length / 3))) return undefined;
  return best;
}
