/**
 * `npm run bench -- pretrain-budget --config configs/pretrain/tiny-30min.yaml [--minutes 30]
 *   [--save-at 10,20,30] [--hf-arch bert,roberta-prelayernorm] [--hf-lr 5e-4,1e-3]
 *   [--hf-batch-size 32] [--hf-warmup-steps 100] [--hf-threads 2] [--hf-max-blocks N] [--python PY]
 *   [--out runs/bench-pretrain-budget] [--set key=value]… [--skip-ours] [--skip-hf]
 *   [--heldout FILE] [--eval-blocks 400] [--vocab VOCAB.txt]`
 *
 * --vocab: one vocabulary for all three steps (ours as data.vocab, HF's
 * tokenizer, the evaluator's); without it the config's, and HF's and the
 * evaluator's default (data/vocab/bert-base-uncased), which the evaluator
 * checks against every model directory's vocab.txt.
 *
 * Ours against HuggingFace's Trainer at equal wall-clock, strictly one after
 * another (never in parallel: the runs would share the cores):
 *  1. `bert pretrain --config C --max-minutes M` with
 *     train.save_at_minutes = the --save-at minutes before the last: ONE run,
 *     whose engine keeps checkpoints/minute-<m> at those minutes of training
 *     time; the last minute is the budget's end. Each is exported
 *     (`bert export --format hf`) to <out>/ours/min-<m>.
 *  2. bench/hf/trainer_baseline.py for every --hf-arch × --hf-lr, saving HF
 *     directories at the same minutes (<out>/hf-<arch>-lr<lr>/min-<m>).
 *  3. bench/hf/mlm_heldout_eval.py on every directory (same blocks, same
 *     seeded masking).
 * Prints the table (side, minutes, step, held-out MLM loss, accuracy,
 * distinct top-1 predictions) and writes <out>/budget.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  BERT_BIN,
  hfScript,
  jsonLines,
  parseFlags,
  resolvePython,
  runBert,
  runStep,
} from './hf-run.js';

const SUITE = 'pretrain-budget';

interface Scored {
  side: string;
  minutes: number;
  step: number | null;
  /** Training minutes actually behind the directory (the clock when it was saved). */
  trained_min: number;
  dir: string;
  mlm_loss: number;
  mlm_accuracy: number;
  distinct_predictions: number;
}

interface OursSave {
  minutes: number;
  step: number;
  elapsed_train_s: number;
  dir: string;
}

/**
 * Our run: `bert pretrain … --ui json` with train.save_at_minutes set to the
 * save minutes before the last (the engine evaluates and keeps
 * checkpoints/minute-<m> at those minutes of training time; the budget's end
 * saves the last). Step events are echoed every 100 steps. Resolves with the
 * exit code.
 */
function pretrainOnce(args: string[]): Promise<number | null> {
  console.error(`\n$ node ${BERT_BIN} ${args.join(' ')}`);
  const child = spawn(process.execPath, [BERT_BIN, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    let e: { type?: string; step?: number; elapsed_train_s?: number; loss?: number };
    try {
      e = JSON.parse(line) as typeof e;
    } catch {
      return;
    }
    if (e.type === 'log' || e.type === 'warning') {
      console.error(`  ${(e as { message?: string }).message ?? ''}`);
    }
    if (e.type === 'step' && typeof e.step === 'number' && e.step % 100 === 0) {
      const min = ((e.elapsed_train_s ?? 0) / 60).toFixed(2);
      console.error(`  step ${e.step} · ${min} min · loss ${e.loss?.toFixed(3)}`);
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
}

/** A checkpoint's step and training clock (trainer_state.json), or nulls. */
function checkpointState(dir: string): { step: number | null; elapsedS: number | null } {
  try {
    const s = JSON.parse(readFileSync(join(dir, 'trainer_state.json'), 'utf8')) as {
      step?: number;
      elapsed_train_ms?: number;
    };
    return {
      step: s.step ?? null,
      elapsedS: s.elapsed_train_ms === undefined ? null : s.elapsed_train_ms / 1000,
    };
  } catch {
    return { step: null, elapsedS: null };
  }
}

async function runOurs(
  a: { config: string; minutes: number; set: string[]; backend: string; vocab: string },
  saveAt: number[],
  out: string,
): Promise<OursSave[]> {
  const runDir = join(out, 'ours', 'run');
  const sets = [...(a.vocab ? [`data.vocab=${a.vocab}`] : []), ...a.set].flatMap((s) => [
    '--set',
    s,
  ]);
  const snapshots = saveAt.slice(0, -1);
  const code = await pretrainOnce([
    'pretrain',
    '--config',
    a.config,
    ...sets,
    '--set',
    `train.save_at_minutes=[${snapshots.join(',')}]`,
    '--run',
    runDir,
    '--force',
    '--max-minutes',
    String(a.minutes),
    '--ui',
    'json',
    '--backend',
    a.backend,
  ]);
  if (code !== 0) throw new Error(`bench ${SUITE}: bert pretrain exited with ${code}`);
  const saves: OursSave[] = [];
  for (const m of saveAt) {
    const ckpt = join(runDir, 'checkpoints', m === a.minutes ? 'latest' : `minute-${m}`);
    if (!existsSync(ckpt)) {
      console.error(`  no checkpoint at ${m} min (${ckpt}): the run ended before it`);
      continue;
    }
    const dir = join(out, 'ours', `min-${m}`);
    runBert('bert export', [
      'export',
      '--checkpoint',
      ckpt,
      '--format',
      'hf',
      '--out',
      dir,
      '--force',
    ]);
    const state = checkpointState(ckpt);
    saves.push({
      minutes: m,
      step: state.step ?? 0,
      elapsed_train_s: state.elapsedS ?? m * 60,
      dir,
    });
  }
  return saves;
}

export async function run(argv: string[]): Promise<void> {
  const a = parseFlags(SUITE, argv, {
    config: '',
    minutes: 30,
    'save-at': '',
    'hf-arch': 'bert,roberta-prelayernorm',
    'hf-lr': '5e-4,1e-3',
    'hf-batch-size': 32,
    'hf-warmup-steps': 100,
    'hf-threads': 2,
    'hf-max-blocks': 0,
    python: '',
    out: 'runs/bench-pretrain-budget',
    set: [] as string[],
    backend: 'auto',
    heldout: '',
    'eval-blocks': 400,
    'skip-ours': false,
    'skip-hf': false,
    vocab: '',
  });
  if (!a['skip-ours'] && !a.config) {
    throw new Error(`bench ${SUITE}: --config is required (e.g. configs/pretrain/tiny-30min.yaml)`);
  }
  const python = resolvePython(a.python || null, SUITE);
  const saveAt = (a['save-at'] || String(a.minutes)).split(',').map(Number);
  if (saveAt.some((m) => !(m > 0)) || saveAt.at(-1) !== a.minutes) {
    throw new Error(
      `bench ${SUITE}: --save-at ${a['save-at']}: positive minutes, increasing, the last equal to --minutes ${a.minutes}`,
    );
  }
  mkdirSync(a.out, { recursive: true });
  const dirs: Omit<Scored, 'mlm_loss' | 'mlm_accuracy' | 'distinct_predictions'>[] = [];

  if (!a['skip-ours']) {
    for (const s of await runOurs(a, saveAt, a.out)) {
      dirs.push({
        side: 'bert (ours)',
        minutes: s.minutes,
        step: s.step,
        trained_min: s.elapsed_train_s / 60,
        dir: s.dir,
      });
    }
  }

  if (!a['skip-hf']) {
    for (const arch of a['hf-arch'].split(',')) {
      for (const lr of a['hf-lr'].split(',')) {
        const out = join(a.out, `hf-${arch}-lr${lr}`);
        if (existsSync(out) && readdirSync(out).length > 0) {
          throw new Error(`bench ${SUITE}: ${out} exists: remove it or choose another --out`);
        }
        runStep(
          `trainer_baseline.py ${arch} lr ${lr}`,
          python,
          [
            hfScript('trainer_baseline.py'),
            '--arch',
            arch,
            '--lr',
            lr,
            '--batch-size',
            String(a['hf-batch-size']),
            '--warmup-steps',
            String(a['hf-warmup-steps']),
            '--minutes',
            String(a.minutes),
            '--save-at',
            saveAt.join(','),
            '--threads',
            String(a['hf-threads']),
            '--out',
            out,
            ...(a['hf-max-blocks'] ? ['--max-blocks', String(a['hf-max-blocks'])] : []),
            ...(a.vocab ? ['--vocab', a.vocab] : []),
          ],
          { showStdout: true },
        );
        const record = JSON.parse(readFileSync(join(out, 'baseline.json'), 'utf8')) as {
          saves: { minutes: number; dir: string; step: number; training_s: number }[];
        };
        for (const s of record.saves) {
          dirs.push({
            side: `HF ${arch} lr ${lr}`,
            minutes: s.minutes,
            step: s.step,
            trained_min: s.training_s / 60,
            dir: s.dir,
          });
        }
      }
    }
  }

  const scored: Scored[] = [];
  for (const d of dirs) {
    const text = runStep(`mlm_heldout_eval.py ${d.dir}`, python, [
      hfScript('mlm_heldout_eval.py'),
      d.dir,
      '--blocks',
      String(a['eval-blocks']),
      ...(a.heldout ? ['--text', a.heldout] : []),
      ...(a.vocab ? ['--vocab', a.vocab] : []),
    ]);
    const [r] = jsonLines<{ mlm_loss: number; mlm_accuracy: number; distinct_predictions: number }>(
      text,
    );
    scored.push({ ...d, ...r });
  }

  const rows = [
    '| side | minutes | trained (min) | step | held-out MLM loss | MLM accuracy | distinct predictions |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...scored.map(
      (s) =>
        `| ${s.side} | ${s.minutes} | ${s.trained_min.toFixed(2)} | ${s.step ?? ''} | ${s.mlm_loss.toFixed(3)} | ` +
        `${(100 * s.mlm_accuracy).toFixed(1)}% | ${s.distinct_predictions} |`,
    ),
  ];
  console.log(`\nheld-out MLM (${a['eval-blocks']} blocks, fixed seeded masking)`);
  console.log(rows.join('\n'));
  writeFileSync(
    join(a.out, 'budget.json'),
    JSON.stringify({ settings: { ...a, python }, results: scored }, null, 1) + '\n',
  );
  console.log(`\nwrote ${join(a.out, 'budget.json')}`);
}
