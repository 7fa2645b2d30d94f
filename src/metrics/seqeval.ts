/**
 * Entity-level precision / recall / F1 as conlleval (and seqeval's default
 * mode) compute them: entities are maximal chunks read from IOB1 or IOB2
 * tags with conlleval's start/end-of-chunk rules; a predicted entity counts
 * only if its span and type both match a gold one. Pure functions.
 */

export interface Entity {
  type: string;
  /** Token index of the first token (inclusive). */
  start: number;
  /** Token index of the last token (inclusive). */
  end: number;
}

function split(tag: string): { prefix: string; type: string } {
  if (tag === 'O' || tag === '') return { prefix: 'O', type: '' };
  const dash = tag.indexOf('-');
  if (dash < 0) return { prefix: tag, type: '' };
  return { prefix: tag.slice(0, dash), type: tag.slice(dash + 1) };
}

function endOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (prevTag === 'E' || prevTag === 'S') return true;
  if ((prevTag === 'B' || prevTag === 'I') && (tag === 'B' || tag === 'S' || tag === 'O'))
    return true;
  return prevTag !== 'O' && prevTag !== '.' && prevType !== type;
}

function startOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (tag === 'B' || tag === 'S') return true;
  if ((prevTag === 'E' || prevTag === 'S' || prevTag === 'O') && (tag === 'E' || tag === 'I'))
    return true;
  return tag !== 'O' && tag !== '.' && prevType !== type;
}

/** The entities of one tag sequence (IOB1, IOB2, IOE, IOBES all work, as in conlleval). */
export function getEntities(tags: readonly string[]): Entity[] {
  const out: Entity[] = [];
  let prevTag = 'O';
  let prevType = '';
  let start = -1;
  // A trailing 'O' closes the last chunk.
  for (let i = 0; i <= tags.length; i++) {
    const { prefix, type } = i < tags.length ? split(tags[i]) : { prefix: 'O', type: '' };
    if (start >= 0 && endOfChunk(prevTag, prefix, prevType, type)) {
      out.push({ type: prevType, start, end: i - 1 });
      start = -1;
    }
    if (startOfChunk(prevTag, prefix, prevType, type)) start = i;
    prevTag = prefix;
    prevType = type;
  }
  return out;
}

export interface PrfScores {
  precision: number;
  recall: number;
  f1: number;
  /** Gold entities. */
  support: number;
}

export interface SeqevalReport {
  overall: PrfScores & { predicted: number; correct: number; accuracy: number };
  perType: Record<string, PrfScores>;
}

function prf(correct: number, predicted: number, gold: number): PrfScores {
  // 0/0 → 0, as seqeval (zero_division) and conlleval print it.
  const precision = predicted ? correct / predicted : 0;
  const recall = gold ? correct / gold : 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1, support: gold };
}

/** Entity-level scores over sentences (gold and predicted tag sequences of equal lengths). */
export function seqevalScores(
  gold: readonly (readonly string[])[],
  predicted: readonly (readonly string[])[],
): SeqevalReport {
  if (gold.length !== predicted.length)
    throw new RangeError(
      `gold (${gold.length}) and predicted (${predicted.length}) sentences differ`,
    );
  const key = (s: number, e: Entity): string => `${s}:${e.start}:${e.end}:${e.type}`;
  const goldSet = new Set<string>();
  const counts = new Map<string, { gold: number; pred: number; correct: number }>();
  const bump = (type: string, field: 'gold' | 'pred' | 'correct'): void => {
    const c = counts.get(type) ?? { gold: 0, pred: 0, correct: 0 };
    c[field] += 1;
    counts.set(type, c);
  };
  let tokens = 0;
  let tokensRight = 0;
  gold.forEach((g, s) => {
    const p = predicted[s];
    if (g.length !== p.length)
      throw new RangeError(`sentence ${s}: ${g.length} gold tags but ${p.length} predicted`);
    tokens += g.length;
    for (let i = 0; i < g.length; i++) if (g[i] === p[i]) tokensRight += 1;
    for (const e of getEntities(g)) {
      goldSet.add(key(s, e));
      bump(e.type, 'gold');
    }
  });
  predicted.forEach((p, s) => {
    for (const e of getEntities(p)) {
      bump(e.type, 'pred');
      if (goldSet.has(key(s, e))) bump(e.type, 'correct');
    }
  });
  let g = 0;
  let pr = 0;
  let c = 0;
  const perType: Record<string, PrfScores> = {};
  for (const type of [...counts.keys()].sort()) {
    const v = counts.get(type)!;
    g += v.gold;
    pr += v.pred;
    c += v.correct;
    perType[type] = prf(v.correct, v.pred, v.gold);
  }
  return {
    overall: {
      ...prf(c, pr, g),
      predicted: pr,
      correct: c,
      accuracy: tokens ? tokensRight / tokens : 0,
    },
    perType,
  };
}
