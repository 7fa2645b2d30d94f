/**
 * Every code point of planes 0–2, inside a word and alone, is classified
 * (removed, whitespace, punctuation, CJK, accent mark, lower-cased) exactly as
 * HF's Rust BertNormalizer + BertPreTokenizer do, cased and uncased. Pins the
 * HF_CLASS_OVERRIDES table (HF's older Unicode tables).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BertTokenizer } from '../../src/tokenizer/bert-tokenizer.js';
import { CASED_VOCAB, UNCASED_VOCAB, compareLines, hfTwin } from './helpers.js';

function probes(first: number, last: number): string[] {
  const out: string[] = [];
  for (let cp = first; cp <= last; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const ch = String.fromCodePoint(cp);
    out.push(`a${ch}b ${ch}`);
  }
  return out;
}

const LAST = 0x2ffff;
// Beyond plane 2 (all checked once, 0 differences): CJK Ext. G, tags and
// variation selectors (Cf/Mn), private use (Co), the last code points.
const HIGH: Array<[number, number]> = [
  [0x30000, 0x300ff],
  [0xe0000, 0xe01ef],
  [0xf0000, 0xf00ff],
  [0x10ff00, 0x10ffff],
];
const probeAll = (): string[] => [...probes(0, LAST), ...HIGH.flatMap(([a, b]) => probes(a, b))];

test('uncased: every code point up to U+2FFFF (and samples of the higher planes) tokenizes as in HF', async () => {
  const ours = BertTokenizer.fromVocabFile(UNCASED_VOCAB, { lowercase: true });
  const r = await compareLines(ours, hfTwin(ours), probeAll());
  assert.ok(r.lines > 190000);
  const bad = r.mismatches.slice(0, 10).map((m) => m.text.codePointAt(1)!.toString(16));
  assert.equal(r.mismatches.length, 0, `code points: ${bad.join(' ')}`);
});

test('cased: every code point up to U+2FFFF (and samples of the higher planes) tokenizes as in HF', async () => {
  const ours = BertTokenizer.fromVocabFile(CASED_VOCAB, { lowercase: false });
  const r = await compareLines(ours, hfTwin(ours), probeAll());
  const bad = r.mismatches.slice(0, 10).map((m) => m.text.codePointAt(1)!.toString(16));
  assert.equal(r.mismatches.length, 0, `code points: ${bad.join(' ')}`);
});
