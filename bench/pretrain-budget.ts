/**
 * `npm run bench -- pretrain-budget --config configs/pretrain/tiny-30min.yaml [--minutes 30]
 *   [--save-at 10,20,30] [--hf-arch bert,roberta-prelayernorm] [--hf-lr 5e-4,1e-3]
 *   [--hf-batch-size 32] [--hf-warmup-steps 100] [--hf-threads 2] [--hf-max-blocks N] [--python PY]
 *   [--out runs/bench-pretrain-budget] [--set key=value]… [--skip-ours] [--skip-hf]
 *   [--heldout FILE] [--eval-blocks 400]`
 *
 * Ours against HuggingFace's Trainer at equal wall-clock, strictly one after
 * another (never in parallel: the runs would share the cores):
 *  1. `bert pretrain --config C --max-minutes M`. To have a model at each
 *     --save-at minute of ONE run, the driver watches the run's step events
 *     (`--ui json`) and, once the training clock (`elapsed_train_s` of the
 *     step events where the trainer reports it, else the wall-clock time since
 *     the first step of each segment, summed) passes a save minute, sends
 *     SIGINT: the run stops after the step with a checkpoint, which is
 *     exported (`bert export --format hf`) to <out>/ours/min-<m>, and the run
 *     continues with `bert pretrain --resume` (exact: same data stream, RNG,
 *     schedule). The last minute is the run's own budget end. (A trainer
 *     without a training clock across resumes, whose --max-minutes counts
 *     per process, is stopped by SIGINT at every minute, the last included.)
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
import { performance } from 'node:perf_hooks';
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
const LAST_GRACE_S = 30;

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
 * One segment of our run: spawn `bert pretrain … --ui json`, follow its step
 * events, SIGINT it once the training clock passes `stopAtS` (null: let the
 * run end by itself). Resolves with the last step and clock seen.
 */
function pretrainSegment(
  args: string[],
  baseS: number,
  stopAtS: number | null,
): Promise<{ step: number; elapsedS: number; code: number | null; trainClock: boolean }> {
  console.error(`\n$ node ${BERT_BIN} ${args.join(' ')}`);
  const child = spawn(process.execPath, [BERT_BIN, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let step = 0;
  let elapsedS = baseS;
  // The clock at the last step event and when it came: between events it is extrapolated.
  let anchor: { s: number; ms: number } | null = null;
  let signalled = false;
  let trainClock = false;
  const clockNow = (): number =>
    anchor === null ? baseS : anchor.s + (performance.now() - anchor.ms) / 1000;
  const maybeStop = (): void => {
    if (stopAtS === null || signalled || anchor === null || clockNow() < stopAtS) return;
    signalled = true;
    console.error(
      `  ${(clockNow() / 60).toFixed(2)} min of training: SIGINT (checkpoint, then resume)`,
    );
    child.kill('SIGINT');
  };
  const timer = setInterval(maybeStop, 250);
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
    if (e.type !== 'step' || typeof e.step !== 'number') return;
    step = e.step;
    // The trainer's own training clock where it reports one; else wall-clock time from the first step.
    if (typeof e.elapsed_train_s === 'number') trainClock = true;
    anchor =
      typeof e.elapsed_train_s === 'number'
        ? { s: e.elapsed_train_s, ms: performance.now() }
        : (anchor ?? { s: baseS, ms: performance.now() });
    elapsedS = clockNow();
    if (step % 100 === 0) {
      console.error(
        `  step ${step} · ${(elapsedS / 60).toFixed(2)} min · loss ${e.loss?.toFixed(3)}`,
      );
    }
    maybeStop();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ step, elapsedS: Math.max(elapsedS, clockNow()), code, trainClock });
    });
  });
}

/** The step of a checkpoint directory's trainer_state.json, or null. */
function checkpointStep(dir: string): number | null {
  try {
    const s = JSON.parse(readFileSync(join(dir, 'trainer_state.json'), 'utf8')) as {
      step?: number;
      global_step?: number;
    };
    return s.step ?? s.global_step ?? null;
  } catch {
    return null;
  }
}

async function runOurs(
  a: { config: string; minutes: number; set: string[]; backend: string },
  saveAt: number[],
  out: string,
): Promise<OursSave[]> {
  const runDir = join(out, 'ours', 'run');
  const sets = a.set.flatMap((s) => ['--set', s]);
  const common = ['--ui', 'json', '--backend', a.backend];
  const saves: OursSave[] = [];
  let baseS = 0;
  // Whether the trainer reports a training clock that survives resumes (step events'
  // elapsed_train_s, with --max-minutes = train.budget_minutes, the whole run's budget). Without
  // one, --max-minutes counts per process from its start: resumed segments get a generous one and
  // the driver's SIGINT ends them at the save minute.
  let trainClock = true;
  for (let i = 0; i < saveAt.length; i++) {
    const last = i === saveAt.length - 1;
    const args =
      i === 0
        ? ['pretrain', '--config', a.config, ...sets, '--run', runDir, '--force']
        : ['pretrain', '--resume', runDir];
    const budget = i === 0 || trainClock ? a.minutes : 2 * a.minutes;
    args.push('--max-minutes', String(budget), ...common);
    // The last segment ends at the run's own budget (with a training clock; stopped LAST_GRACE_S
    // later if it has not), else at the driver's SIGINT.
    const grace = last && trainClock ? LAST_GRACE_S : 0;
    const seg = await pretrainSegment(args, baseS, saveAt[i] * 60 + grace);
    trainClock = seg.trainClock;
    if (seg.code !== 0 && seg.code !== 130) {
      throw new Error(`bench ${SUITE}: bert pretrain exited with ${seg.code}`);
    }
    baseS = seg.elapsedS;
    const latest = join(runDir, 'checkpoints', 'latest');
    const dir = join(out, 'ours', `min-${saveAt[i]}`);
    runBert('bert export', [
      'export',
      '--checkpoint',
      latest,
      '--format',
      'hf',
      '--out',
      dir,
      '--force',
    ]);
    saves.push({
      minutes: saveAt[i],
      step: checkpointStep(latest) ?? seg.step,
      elapsed_train_s: seg.elapsedS,
      dir,
    });
    if (last) break;
    if (seg.code === 0 && seg.elapsedS < saveAt[i] * 60) {
      console.error(
        `  bert pretrain ended by itself at ${(seg.elapsedS / 60).toFixed(2)} min, before ${saveAt[i]}: no later saves (is its budget or max_steps shorter than --minutes?)`,
      );
      break;
    }
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
