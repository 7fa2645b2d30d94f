/** SQuAD v2.0 EM/F1 (and HasAns/NoAns) against a Python re-implementation of evaluate-v2.0.py's logic. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { squadV2Scores } from '../../src/metrics/squad.js';
import { pythonReference } from './reference.js';

const PYTHON_REFERENCE = String.raw`
import collections, json, re, string, sys
def normalize_answer(s):
    s = s.lower()
    s = ''.join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(re.compile(r'\b(a|an|the)\b', re.UNICODE), ' ', s)
    return ' '.join(s.split())
def get_tokens(s): return normalize_answer(s).split() if s else []
def compute_exact(a_gold, a_pred): return int(normalize_answer(a_gold) == normalize_answer(a_pred))
def compute_f1(a_gold, a_pred):
    gold_toks = get_tokens(a_gold); pred_toks = get_tokens(a_pred)
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0: return int(gold_toks == pred_toks)
    if num_same == 0: return 0
    precision = 1.0 * num_same / len(pred_toks); recall = 1.0 * num_same / len(gold_toks)
    return (2 * precision * recall) / (precision + recall)
data = json.load(sys.stdin)
exact, f1, has = {}, {}, {}
for q in data['questions']:
    gold = [a for a in q['answers'] if normalize_answer(a)]
    has[q['id']] = bool(gold)
    if not gold: gold = ['']
    if q['id'] not in data['predictions']: continue
    p = data['predictions'][q['id']]
    exact[q['id']] = max(compute_exact(a, p) for a in gold)
    f1[q['id']] = max(compute_f1(a, p) for a in gold)
def agg(ids):
    ids = list(ids); n = len(ids)
    return [100.0 * sum(exact.get(i, 0) for i in ids) / n, 100.0 * sum(f1.get(i, 0) for i in ids) / n, n]
print(json.dumps({'all': agg(has), 'has': agg(k for k in has if has[k]), 'no': agg(k for k in has if not has[k])}))
`;

const QUESTIONS = [
  { id: 'a', answers: ['Denver Broncos', 'the Denver Broncos'] },
  { id: 'b', answers: [] }, // unanswerable, model abstains
  { id: 'c', answers: [] }, // unanswerable, model answers
  { id: 'd', answers: ['the'] }, // normalises to nothing: counted as no-answer
  { id: 'e', answers: ['Santa Clara'] }, // model abstains on an answerable question
  { id: 'f', answers: ['one two'] },
  { id: 'g', answers: ['x'] }, // no prediction
];
const PREDICTIONS: Record<string, string> = {
  a: 'Broncos',
  b: '',
  c: 'Levi',
  d: 'a',
  e: '',
  f: 'two one three',
};

test('SQuAD v2.0 scores equal the evaluate-v2.0.py logic, HasAns/NoAns included', (t) => {
  const ref = pythonReference<Record<'all' | 'has' | 'no', [number, number, number]>>(
    t,
    PYTHON_REFERENCE,
    { questions: QUESTIONS, predictions: PREDICTIONS },
  );
  if (!ref) return;
  const ours = squadV2Scores(new Map(QUESTIONS.map((q) => [q.id, q.answers])), PREDICTIONS);
  const close = (a: number, b: number, what: string): void =>
    assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);
  close(ours.exact_match, ref.all[0], 'exact');
  close(ours.f1, ref.all[1], 'f1');
  close(ours.HasAns_exact, ref.has[0], 'HasAns_exact');
  close(ours.HasAns_f1, ref.has[1], 'HasAns_f1');
  close(ours.NoAns_exact, ref.no[0], 'NoAns_exact');
  close(ours.NoAns_f1, ref.no[1], 'NoAns_f1');
  assert.deepEqual([ours.HasAns_total, ours.NoAns_total], [ref.has[2], ref.no[2]]);
});
