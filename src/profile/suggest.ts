/**
 * Words longer than this get no suggestion: nothing a person types by mistake is that long, and the
 * edit distance costs |word| × |candidate| per candidate.
 */
export const SUGGEST_MAX_CHARS = 64;
/** Candidates compared at most (a profile may hold thousands of labels). */
export const SUGGEST_MAX_CANDIDATES = 1000;

/**
 * Returns the candidate closest to `word` (edit distance ≤ 2, case-insensitive), for "did you mean"
 * hints. Bounded: at most SUGGEST_MAX_CANDIDATES candidates of at most SUGGEST_MAX_CHARS, and only
 * those whose length is within 2 of the word's (any other is farther than 2 edits).
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  if (word.length > SUGGEST_MAX_CHARS) return undefined;
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates.slice(0, SUGGEST_MAX_CANDIDATES)) {
    if (Math.abs(candidate.length - w.length) >= bestDistance) continue;
    const d = editDistance(w, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Formats ` (did you mean "x"?)` or an empty string. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const c = closest(word, candidates);
  return c === undefined ? "" : ` (did you mean "${c}"?)`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_v, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/** Joins names as `a, b or c`. */
export function listOr(names: readonly string[]): string {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
}
