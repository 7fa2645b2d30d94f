/**
 * Entity-level P/R/F1 against a small Python reference written from the
 * CoNLL definition (a chunk starts at B-X, at I-X after O or after another
 * type; it continues over I-X of its type), on IOB1 and IOB2 sequences,
 * including malformed ones and entities cut by sub-word pieces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEntities, seqevalScores } from '../../src/metrics/seqeval.js';
import { pythonReference } from './reference.js';

const PYTHON_REFERENCE = String.raw`
import json, sys
def chunks(tags):
    out, cur = [], None  # cur = [type, start]
    for i, tag in enumerate(tags + ['O']):
        if tag == 'O':
            if cur: out.append((cur[0], cur[1], i - 1)); cur = None
            continue
        prefix, typ = tag.split('-', 1)
        if prefix == 'I' and cur and cur[0] == typ:
            continue
        if cur: out.append((cur[0], cur[1], i - 1))
        cur = [typ, i]
    return out
data = json.load(sys.stdin)
gold = set(); pred = set(); types = set()
for s, (g, p) in enumerate(zip(data['gold'], data['pred'])):
    for c in chunks(g): gold.add((s,) + c); types.add(c[0])
    for c in chunks(p): pred.add((s,) + c); types.add(c[0])
def prf(gs, ps):
    c = len(gs & ps)
    P = c / len(ps) if ps else 0.0
    R = c / len(gs) if gs else 0.0
    F = 2 * P * R / (P + R) if P + R else 0.0
    return [P, R, F, len(gs)]
res = {'overall': prf(gold, pred), 'types': {}, 'entities': [chunks(g) for g in data['gold']]}
for t in sorted(types):
    res['types'][t] = prf({x for x in gold if x[1] == t}, {x for x in pred if x[1] == t})
print(json.dumps(res))
`;

// Made-up sentences' tags (no CoNLL text): IOB1, IOB2, malformed IOB2 (I- after O),
// adjacent same-type entities, and a word whose sub-word pieces were mislabelled.
const GOLD: string[][] = [
  ['I-PER', 'I-PER', 'O', 'I-LOC', 'B-LOC', 'O'], // IOB1 with adjacent LOCs
  ['B-ORG', 'I-ORG', 'O', 'B-MISC', 'O', 'B-PER'], // IOB2
  ['O', 'O', 'O'],
  ['B-LOC', 'I-LOC', 'I-LOC', 'O', 'B-PER', 'I-PER'],
  ['I-MISC', 'I-ORG', 'I-ORG', 'O'],
];
const PRED: string[][] = [
  ['I-PER', 'I-PER', 'O', 'I-LOC', 'I-LOC', 'O'], // merged the two LOCs: both wrong
  ['B-ORG', 'I-ORG', 'O', 'I-MISC', 'O', 'B-ORG'], // I-MISC after O starts an entity (right); B-ORG wrong type
  ['O', 'B-PER', 'O'], // spurious
  ['B-LOC', 'I-LOC', 'O', 'O', 'B-PER', 'I-PER'], // cut short
  ['I-MISC', 'B-ORG', 'I-ORG', 'O'],
];

test('seqeval P/R/F1 and per-type scores equal an independent Python reference', (t) => {
  const ref = pythonReference<{
    overall: number[];
    types: Record<string, number[]>;
    entities: [string, number, number][][];
  }>(t, PYTHON_REFERENCE, { gold: GOLD, pred: PRED });
  if (!ref) return;
  const ours = seqevalScores(GOLD, PRED);
  const close = (a: number, b: number, what: string): void =>
    assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);
  close(ours.overall.precision, ref.overall[0], 'precision');
  close(ours.overall.recall, ref.overall[1], 'recall');
  close(ours.overall.f1, ref.overall[2], 'f1');
  assert.equal(ours.overall.support, ref.overall[3]);
  assert.deepEqual(Object.keys(ours.perType), Object.keys(ref.types));
  for (const [type, v] of Object.entries(ref.types)) {
    close(ours.perType[type].precision, v[0], `${type} precision`);
    close(ours.perType[type].recall, v[1], `${type} recall`);
    close(ours.perType[type].f1, v[2], `${type} f1`);
  }
  assert.deepEqual(
    GOLD.map((g) => getEntities(g).map((e) => [e.type, e.start, e.end])),
    ref.entities,
  );
});

test('IOB1 and IOB2 spellings of the same entities give the same entities', () => {
  const iob1 = ['I-PER', 'I-PER', 'B-PER', 'O', 'I-LOC'];
  const iob2 = ['B-PER', 'I-PER', 'B-PER', 'O', 'B-LOC'];
  const want = [
    { type: 'PER', start: 0, end: 1 },
    { type: 'PER', start: 2, end: 2 },
    { type: 'LOC', start: 4, end: 4 },
  ];
  assert.deepEqual(getEntities(iob1), want);
  assert.deepEqual(getEntities(iob2), want);
  const s = seqevalScores([iob2], [iob1]);
  assert.equal(s.overall.f1, 1);
  // Hand count for the fixed predictions: 10 gold, 10 predicted, 6 correct.
  const all = seqevalScores(GOLD, PRED);
  assert.deepEqual([all.overall.support, all.overall.predicted, all.overall.correct], [10, 10, 6]);
});
