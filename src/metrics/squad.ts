/**
 * The official SQuAD v1.1 metrics (evaluate-v1.1.py): exact match and
 * token F1 after answer normalisation, each the max over the gold answers,
 * averaged over every question of the dataset (a question without a
 * prediction scores 0), reported ×100. Pure functions.
 */

/** Python's string.punctuation (ASCII only, as the official script). */
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

/**
 * Python's str.split() separators (str.isspace): JS's \s differs (it has
 * U+FEFF, lacks U+001C..U+001F and U+0085).
 */
const PY_SPACE = new RegExp(
  // eslint-disable-next-line no-control-regex -- U+001C..U+001F are separators to Python
  '[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+',
  'u',
);

/** Python's Unicode `\b(a|an|the)\b`: JS's \b only knows ASCII word characters. */
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

function pySplit(s: string): string[] {
  return s.split(PY_SPACE).filter((t) => t.length > 0);
}

/** Lower-case, drop ASCII punctuation, drop the articles a/an/the, collapse whitespace. */
export function normalizeAnswer(s: string): string {
  let t = s.toLowerCase();
  let noPunct = '';
  for (const ch of t) if (!PUNCTUATION.has(ch)) noPunct += ch;
  t = noPunct.replace(ARTICLES, ' ');
  return pySplit(t).join(' ');
}

export function exactMatchScore(prediction: string, truth: string): boolean {
  return normalizeAnswer(prediction) === normalizeAnswer(truth);
}

/** Bag-of-tokens F1 between normalised answers (0 when nothing is shared, including empty answers). */
export function f1Score(prediction: string, truth: string): number {
  const p = pySplit(normalizeAnswer(prediction));
  const g = pySplit(normalizeAnswer(truth));
  const counts = new Map<string, number>();
  for (const t of g) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of p) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      same += 1;
      counts.set(t, c - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / p.length;
  const recall = same / g.length;
  return (2 * precision * recall) / (precision + recall);
}

/** max over the gold answers of `metric`. */
export function maxOverGold<T extends number | boolean>(
  metric: (prediction: string, truth: string) => T,
  prediction: string,
  golds: readonly string[],
): number {
  let best = 0;
  for (const g of golds) best = Math.max(best, Number(metric(prediction, g)));
  return best;
}

/** `x` as a percentage of `n` questions (0 when there are none). */
function percentOf(x: number, n: number): number {
  return n ? (100 * x) / n : 0;
}

export interface SquadScores {
  exact_match: number;
  f1: number;
  /** Questions scored (the denominator). */
  total: number;
  /** Questions with no prediction (scored 0, as the official script does). */
  missing: number;
}

/**
 * EM and F1 (×100) over `golds` (question id → gold answer texts) for
 * `predictions` (question id → answer text).
 */
export function squadScores(
  golds: ReadonlyMap<string, readonly string[]>,
  predictions: Readonly<Record<string, string>>,
): SquadScores {
  let em = 0;
  let f1 = 0;
  let missing = 0;
  for (const [id, answers] of golds) {
    if (!Object.prototype.hasOwnProperty.call(predictions, id)) {
      missing += 1;
      continue;
    }
    const pred = predictions[id];
    em += maxOverGold(exactMatchScore, pred, answers);
    f1 += maxOverGold(f1Score, pred, answers);
  }
  const total = golds.size;
  return {
    exact_match: percentOf(em, total),
    f1: percentOf(f1, total),
    total,
    missing,
  };
}

/** evaluate-v2.0.py's token F1: when either side is empty (no answer), 1 if both are, else 0. */
export function f1ScoreV2(prediction: string, truth: string): number {
  const p = pySplit(normalizeAnswer(prediction));
  const g = pySplit(normalizeAnswer(truth));
  if (p.length === 0 || g.length === 0) return Number(p.length === g.length);
  return f1Score(prediction, truth);
}

export interface SquadV2Scores extends SquadScores {
  HasAns_exact: number;
  HasAns_f1: number;
  HasAns_total: number;
  NoAns_exact: number;
  NoAns_f1: number;
  NoAns_total: number;
}

/**
 * SQuAD v2.0 (evaluate-v2.0.py, no threshold search): gold answers that
 * normalise to nothing are dropped, a question left without any has the
 * single gold answer '' (no answer), and predicting '' abstains.
 */
export function squadV2Scores(
  golds: ReadonlyMap<string, readonly string[]>,
  predictions: Readonly<Record<string, string>>,
): SquadV2Scores {
  const sums = { em: 0, f1: 0, hasEm: 0, hasF1: 0, has: 0, noEm: 0, noF1: 0, no: 0 };
  let missing = 0;
  for (const [id, answers] of golds) {
    let gold = answers.filter((a) => normalizeAnswer(a) !== '');
    const hasAnswer = gold.length > 0;
    if (!hasAnswer) gold = [''];
    if (hasAnswer) sums.has += 1;
    else sums.no += 1;
    if (!Object.prototype.hasOwnProperty.call(predictions, id)) {
      missing += 1;
      continue;
    }
    const em = maxOverGold(exactMatchScore, predictions[id], gold);
    const f1 = maxOverGold(f1ScoreV2, predictions[id], gold);
    sums.em += em;
    sums.f1 += f1;
    if (hasAnswer) {
      sums.hasEm += em;
      sums.hasF1 += f1;
    } else {
      sums.noEm += em;
      sums.noF1 += f1;
    }
  }
  const total = golds.size;
  return {
    exact_match: percentOf(sums.em, total),
    f1: percentOf(sums.f1, total),
    total,
    missing,
    HasAns_exact: percentOf(sums.hasEm, sums.has),
    HasAns_f1: percentOf(sums.hasF1, sums.has),
    HasAns_total: sums.has,
    NoAns_exact: percentOf(sums.noEm, sums.no),
    NoAns_f1: percentOf(sums.noF1, sums.no),
    NoAns_total: sums.no,
  };
}
