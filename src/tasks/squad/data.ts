/**
 * The SQuAD JSON reader (v1.1 and v2.0 layout:
 * {data: [{title, paragraphs: [{context, qas: [{id, question, answers: [{text, answer_start}], is_impossible?}]}]}]}),
 * and the documented article split used to fine-tune on part of the dev set.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../../errors.js';

export interface SquadAnswer {
  text: string;
  /** UTF-16 index into the context (the file counts code points; converted here). */
  start: number;
}

export interface SquadExample {
  id: string;
  title: string;
  /** Index of the article in the file (for article splits). */
  article: number;
  context: string;
  question: string;
  answers: SquadAnswer[];
  isImpossible: boolean;
}

/** UTF-16 index of code point `cp` in `s` (they differ only past astral characters). */
function codePointToIndex(s: string, cp: number): number {
  let i = 0;
  for (let k = 0; k < cp && i < s.length; k++) i += (s.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
  return i;
}

type Json = Record<string, unknown>;

function field<T>(obj: Json, key: string, type: string, where: string): T {
  const v = obj[key];
  if (typeof v !== type && !(type === 'array' && Array.isArray(v)))
    throw new UserError(`${where}: expected "${key}" to be a ${type}`);
  return v as T;
}

/** Every question of a SQuAD file, in file order; checks each answer against its context. */
export function readSquad(path: string): SquadExample[] {
  let root: Json;
  try {
    root = JSON.parse(readFileSync(path, 'utf8')) as Json;
  } catch (e) {
    throw new UserError(`${path}: not readable SQuAD JSON (${(e as Error).message})`);
  }
  const data = field<Json[]>(root, 'data', 'array', path);
  const out: SquadExample[] = [];
  data.forEach((article, a) => {
    const title = String(article.title ?? `article ${a}`);
    const paragraphs = field<Json[]>(article, 'paragraphs', 'array', `${path}: data[${a}]`);
    paragraphs.forEach((p, pi) => {
      const where = `${path}: data[${a}].paragraphs[${pi}]`;
      const context = field<string>(p, 'context', 'string', where);
      const ascii = !/[\ud800-\udfff]/.test(context);
      for (const qa of field<Json[]>(p, 'qas', 'array', where)) {
        const id = field<string>(qa, 'id', 'string', where);
        const answers = (Array.isArray(qa.answers) ? (qa.answers as Json[]) : []).map((ans) => {
          const text = field<string>(ans, 'text', 'string', `${where} question ${id}`);
          const cp = field<number>(ans, 'answer_start', 'number', `${where} question ${id}`);
          const start = ascii ? cp : codePointToIndex(context, cp);
          if (context.slice(start, start + text.length) !== text) {
            throw new UserError(
              `${where} question ${id}: answer ${JSON.stringify(text)} is not at answer_start ${cp} of the context`,
            );
          }
          return { text, start };
        });
        out.push({
          id,
          title,
          article: a,
          context,
          question: field<string>(qa, 'question', 'string', `${where} question ${id}`),
          answers,
          isImpossible: qa.is_impossible === true,
        });
      }
    });
  });
  return out;
}

/**
 * SQuAD v1.1 ships no training set here, so fine-tuning uses a split of the
 * dev set by *article*: every `heldOutEvery`-th article (article index
 * % heldOutEvery == heldOutEvery − 1) is held out for evaluation, the rest is
 * trained on. No article (and no paragraph) is on both sides.
 */
export function splitByArticle(
  examples: readonly SquadExample[],
  heldOutEvery: number,
): { train: SquadExample[]; eval: SquadExample[] } {
  const train: SquadExample[] = [];
  const held: SquadExample[] = [];
  for (const e of examples) (e.article % heldOutEvery === heldOutEvery - 1 ? held : train).push(e);
  return { train, eval: held };
}
