/**
 * The training engine: the one loop every training command runs (pretraining,
 * GLUE, SQuAD, CoNLL-2003), like HF's `Trainer` or nanoGPT's `train.py` loop.
 *
 *   run_start (+ a warning if the optimizer settings are known-unstable)
 *   → training clock starts → while step < endStep:
 *     between steps: yield, stop request, the wall-clock budget spent?
 *     accumulate micro-batches → one optimizer step at the scheduled LR
 *       (progress = step / totalSteps, or training time / budget_minutes)
 *     → non-finite loss? stop (failed) → step event every log_every
 *     → evaluate every eval_every (and per epoch, and at the end, when the
 *       client asks) → checkpoint (save_every, each evaluation or a new best)
 *     → a snapshot at each train.save_at_minutes of training time: evaluate
 *       and save, kept as checkpoints/minute-<m> (never pruned)
 *   → stopped: evaluate / save the last step as the client asks; budget
 *     spent: evaluate and save the last step → result.
 *
 * The training clock (training-clock.ts) counts from the first step and is
 * paused while evaluating and writing checkpoints; trainer_state.json records
 * it (elapsed_train_ms) and a resumed run continues it.
 *
 * A client hands over what differs: the model, optimizer and stepper (its
 * loss), the data (micro-batches and where the stream stands), the evaluation
 * and the checkpoint's config.json. Weights that turn non-finite end the run
 * as `failed` with one warning; nothing poisoned is ever written.
 */
import { performance } from 'node:perf_hooks';
import type { TrainSection } from '../config/types.js';
import type { BertModel } from '../model/bert.js';
import { countParameters, disposeParams } from '../model/params.js';
import { toHfTensors } from '../model/hf.js';
import type { BackendChoice } from '../backend/select.js';
import { now, type Reporter, type RunStartEvent } from '../ui/events.js';
import type { Optimizer } from './optimizer.js';
import { budgetMs, microBatches, scheduleFor, type SchedulePosition } from './recipe.js';
import { stopReason, memoryFields, type StopControl } from './loop-control.js';
import { TrainingClock } from './training-clock.js';
import { adamOvershootWarning } from './adam-overshoot.js';
import {
  NonFiniteWeightsError,
  linkCheckpoint,
  saveCheckpoint,
  type TrainerState,
} from './checkpoint.js';

/**
 * What a command hands every training client besides its config: where the
 * run writes, when to stop (--max-steps, a stop request; --max-minutes is
 * the config's train.budget_minutes), where events go and the backend in use.
 */
export interface RunControl {
  runDir: string;
  /** --max-steps: stop after this step (the LR schedule still spans the whole run). */
  stopAtStep: number | null;
  reporter: Reporter;
  stopRequested: () => boolean;
  backend: BackendChoice;
}

/** What one optimizer step reports: the loss, the gradient norm, and the task's own numbers (all numbers). */
export interface StepMetrics {
  loss: number;
  grad_norm: number;
}

/** Forward + backward per micro-batch, then one update (the per-head classes of train/step.ts). */
export interface Stepper<TBatch, M extends StepMetrics> {
  accumulate(batch: TBatch): void;
  apply(lr: number): Promise<M>;
  dispose(): void;
}

/** One micro-batch and how much it holds (for the throughput fields). */
export interface MicroBatch<TBatch> {
  batch: TBatch;
  examples: number;
  tokens: number;
}

/** The training stream as the engine sees it. */
export interface TrainingData<TBatch> {
  next(): Promise<MicroBatch<TBatch>>;
  /** Completed passes over the data (an epoch ends in the step that uses it up). */
  readonly passes: number;
  /** The `epoch` of step events and trainer_state.json after `step` steps. */
  epochAt(step: number): number;
  /** trainer_state.json's data_cursor: where a resumed run picks up. */
  cursor(step: number): unknown;
  /** Extra step-event fields since the last logged step (loader queue depth, data wait). */
  stats?(): Record<string, number>;
  stop?(): Promise<void>;
}

/** One evaluation: an eval event per split, the score `best` is judged by, what checkpoints record. */
export interface Evaluation {
  splits: Array<[split: string, metrics: Record<string, number>]>;
  score: number;
  record: unknown;
}

export interface Evaluator {
  evaluate(): Promise<Evaluation>;
  /** Which way the score improves: accuracy/F1 'higher', held-out loss 'lower'. */
  better: 'higher' | 'lower';
  /** Also evaluate whenever an epoch ends (fine-tuning without eval_every); every run evaluates its last step. */
  perEpoch: boolean;
  /** Every evaluation writes a checkpoint (fine-tuning); otherwise only a new best does. */
  saveEach: boolean;
  /** A stopped run evaluates its last step (fine-tuning reports the model it leaves). */
  onStop: boolean;
}

export interface CheckpointPlan {
  /** config.json of every checkpoint. */
  config: Record<string, unknown>;
  vocabPath: string;
  /** The client's trainer_state.json fields (best metric, LR, evaluation). */
  stateFields(s: { step: number; lr: number; best: number | null; record: unknown }): object;
  /** Leave a checkpoint of the last step even when no evaluation wrote one (pretraining). */
  atEnd: boolean;
}

export interface TrainingRun<TBatch, M extends StepMetrics> {
  command: string;
  runDir: string;
  train: TrainSection;
  /**
   * Steps a step-based LR schedule spans; endStep (--max-steps) may stop
   * earlier. Both are Infinity for a run only its wall-clock budget ends.
   */
  totalSteps: number;
  endStep: number;
  model: BertModel;
  optimizer: Optimizer;
  stepper: Stepper<TBatch, M>;
  data: TrainingData<TBatch>;
  evaluator: Evaluator | null;
  checkpoint: CheckpointPlan;
  /** run_start's description of the model and data. */
  describe: Pick<RunStartEvent, 'backend' | 'model' | 'data' | 'config'>;
  /** A resumed run: the step it continues after, its best score so far and its training time (ms). */
  resume?: { step: number; best: number | null; trainMs: number };
  control: StopControl;
  reporter: Reporter;
}

export interface TrainingResult<M> {
  status: 'completed' | 'stopped' | 'failed';
  step: number;
  lastMetrics: M | null;
  lastEval: Evaluation | null;
  best: { step: number; record: unknown } | null;
  bestCheckpoint: string | null;
  lastCheckpoint: string | null;
}

/** Train `run` to its end step, a stop request, the wall-clock budget or a non-finite loss; frees the model. */
export async function train<TBatch, M extends StepMetrics>(
  run: TrainingRun<TBatch, M>,
): Promise<TrainingResult<M>> {
  const engine = new Engine(run);
  try {
    await engine.loop();
    await engine.finish();
  } catch (err) {
    if (!(err instanceof NonFiniteWeightsError)) throw err;
    engine.fail(`${err.message} at step ${engine.step}: stopping without saving`);
  } finally {
    await run.data.stop?.();
    run.stepper.dispose();
    run.optimizer.dispose();
    disposeParams(run.model.params);
  }
  return engine.result();
}

/** Throughput since the last logged step. */
class Window {
  tokens = 0;
  examples = 0;
  started = performance.now();

  add(b: { tokens: number; examples: number }): void {
    this.tokens += b.tokens;
    this.examples += b.examples;
  }

  /** tokens/s and examples/s, then start a new window. */
  take(): { tokens_per_s: number; examples_per_s: number } {
    const secs = (performance.now() - this.started) / 1000;
    const rates = { tokens_per_s: this.tokens / secs, examples_per_s: this.examples / secs };
    this.tokens = 0;
    this.examples = 0;
    this.started = performance.now();
    return rates;
  }
}

class Engine<TBatch, M extends StepMetrics> {
  step: number;
  private status: TrainingResult<M>['status'] = 'completed';
  private budgetSpent = false;
  private readonly lrAt: (at: SchedulePosition) => number;
  private readonly budgetMs: number | null;
  private readonly clock: TrainingClock;
  private readonly accum: number;
  private readonly window = new Window();
  private lastMetrics: M | null = null;
  private lastEval: Evaluation | null = null;
  private evaluatedAt = -1;
  private best: { step: number; score: number | null; record: unknown } | null = null;
  private savedAt = -1;
  private bestCheckpoint: string | null = null;
  private lastCheckpoint: string | null = null;
  /** train.save_at_minutes still ahead of the training clock, ascending. */
  private snapshotsDue: number[];

  constructor(private readonly run: TrainingRun<TBatch, M>) {
    this.step = run.resume?.step ?? 0;
    if (run.resume && run.resume.best !== null)
      this.best = { step: run.resume.step, score: run.resume.best, record: null };
    this.lrAt = scheduleFor(run.train, run.totalSteps);
    this.budgetMs = budgetMs(run.train);
    this.clock = new TrainingClock(
      run.control.clock ?? (() => performance.now()),
      run.resume?.trainMs ?? 0,
    );
    this.accum = microBatches(run.train).accum;
    const startedMs = this.clock.elapsedMs();
    this.snapshotsDue = [...run.train.save_at_minutes]
      .sort((a, b) => a - b)
      .filter((m) => m * 60_000 > startedMs);
  }

  async loop(): Promise<void> {
    const { run } = this;
    const { describe } = run;
    run.reporter.emit({
      type: 'run_start',
      time: now(),
      command: run.command,
      run: run.runDir,
      backend: describe.backend,
      model: describe.model,
      data: describe.data,
      totalSteps: finiteOrNull(run.endStep),
      config: describe.config,
    });
    const warning = adamOvershootWarning(run.train, run.totalSteps);
    if (warning) run.reporter.emit({ type: 'warning', time: now(), message: warning });
    this.clock.start();
    while (this.step < run.endStep) {
      const budget = { spentMs: this.clock.elapsedMs(), budgetMs: this.budgetMs };
      const reason = await stopReason(run.control, budget, run.reporter);
      if (reason === 'requested') this.status = 'stopped';
      if (reason === 'budget') this.budgetSpent = true;
      if (reason !== null) return;
      const passesBefore = run.data.passes;
      const m = await this.optimizerStep();
      if (!Number.isFinite(m.loss)) {
        this.fail(`loss is ${m.loss} at step ${this.step}: stopping`);
        return;
      }
      this.lastMetrics = m;
      const evaluator = run.evaluator;
      const evalNow =
        evaluator !== null &&
        (everyN(this.step, run.train.eval_every) ||
          (evaluator.perEpoch && run.data.passes !== passesBefore) ||
          this.step === run.endStep);
      const isBest = evalNow ? await this.evaluate() : false;
      if ((evalNow && evaluator.saveEach) || isBest || everyN(this.step, run.train.save_every)) {
        await this.save(isBest);
      }
      await this.snapshotIfDue(evalNow, isBest);
    }
  }

  /**
   * At the first step boundary at or past each train.save_at_minutes of
   * training time: evaluate (unless this step just was) and save, with a
   * `minute-<m>` link to the checkpoint that pruning never removes. Minutes
   * passed in one step share its snapshot.
   */
  private async snapshotIfDue(evaluated: boolean, wasBest: boolean): Promise<void> {
    const minutes: number[] = [];
    const spent = this.clock.elapsedMs();
    while (this.snapshotsDue.length > 0 && this.snapshotsDue[0] * 60_000 <= spent)
      minutes.push(this.snapshotsDue.shift()!);
    if (minutes.length === 0) return;
    const aliases = minutes.map((m) => `minute-${m}`);
    const evaluateNow = this.run.evaluator !== null && !evaluated;
    // A step already saved after its evaluation (or with no evaluator) is linked, not written again.
    if (this.savedAt === this.step && !evaluateNow) {
      await linkCheckpoint(this.run.runDir, this.step, aliases);
      return;
    }
    await this.save(evaluateNow ? await this.evaluate() : wasBest, aliases);
  }

  /** One optimizer step over `accum` micro-batches, and its step event. */
  private async optimizerStep(): Promise<M> {
    const { run } = this;
    const started = performance.now();
    // The schedule's position is where the step starts (its own forward/backward not yet spent).
    const trainMs = this.clock.elapsedMs();
    for (let i = 0; i < this.accum; i++) {
      const micro = await run.data.next();
      run.stepper.accumulate(micro.batch);
      this.window.add(micro);
    }
    const lr = this.lrAt({ step: this.step, trainMs });
    const m = await run.stepper.apply(lr);
    this.step += 1;
    const { step } = this;
    if (!Number.isFinite(m.loss)) return m;
    if (step % run.train.log_every === 0 || step === 1 || step === run.endStep) {
      const { grad_norm, loss, ...own } = m;
      run.reporter.emit({
        type: 'step',
        time: now(),
        step,
        totalSteps: finiteOrNull(run.endStep),
        epoch: run.data.epochAt(step),
        loss,
        ...finiteOnly(own as Record<string, number>),
        lr,
        grad_norm,
        elapsed_train_s: this.clock.elapsedMs() / 1000,
        ...(this.budgetMs === null ? {} : { budget_s: this.budgetMs / 1000 }),
        ...this.window.take(),
        step_ms: performance.now() - started,
        ...run.data.stats?.(),
        ...memoryFields(),
      });
    }
    return m;
  }

  /**
   * After the loop: a stopped run evaluates / saves its last step as the
   * client asks; a run whose budget is spent evaluates and saves it.
   */
  async finish(): Promise<void> {
    if (this.status === 'failed') return;
    const { evaluator, checkpoint } = this.run;
    const stopped = this.status === 'stopped';
    const evaluateLast = this.budgetSpent || (stopped && evaluator?.onStop);
    if (evaluator && evaluateLast && this.step > 0 && this.evaluatedAt !== this.step) {
      const isBest = await this.evaluate();
      if (evaluator.saveEach || isBest) await this.save(isBest);
    }
    if (checkpoint.atEnd && this.savedAt !== this.step) await this.save(false);
  }

  /** Evaluate (training clock paused), emit one eval event per split; true when the score is the best so far. */
  private async evaluate(): Promise<boolean> {
    const { evaluator, reporter } = this.run;
    const restart = this.clock.pause();
    let e: Evaluation;
    try {
      e = await evaluator!.evaluate();
    } finally {
      restart();
    }
    for (const [split, metrics] of e.splits)
      reporter.emit({ type: 'eval', time: now(), step: this.step, split, metrics });
    this.lastEval = e;
    this.evaluatedAt = this.step;
    const finite = Number.isFinite(e.score);
    const prev = this.best?.score ?? null;
    const improves =
      prev === null || (evaluator!.better === 'higher' ? e.score > prev : e.score < prev);
    const isBest = this.best === null || (finite && improves);
    if (isBest) this.best = { step: this.step, score: finite ? e.score : prev, record: e.record };
    return isBest;
  }

  /** Write step-<N> (and `best`), training clock paused; metrics.jsonl is flushed first, so no checkpoint outlives its events. */
  private async save(isBest: boolean, aliases: string[] = []): Promise<void> {
    const restart = this.clock.pause();
    try {
      await this.write(isBest, aliases);
    } finally {
      restart();
    }
  }

  private async write(isBest: boolean, aliases: string[]): Promise<void> {
    const { run, step } = this;
    const trainMs = this.clock.elapsedMs();
    const record = this.evaluatedAt === step ? (this.lastEval?.record ?? null) : null;
    const state: TrainerState = {
      step,
      epoch: run.data.epochAt(step),
      total_steps: finiteOrNull(run.totalSteps),
      elapsed_train_ms: trainMs,
      data_cursor: run.data.cursor(step),
      seed: run.train.seed,
      ...run.checkpoint.stateFields({
        step,
        lr: this.lrAt({ step, trainMs }),
        best: this.best?.score ?? null,
        record,
      }),
      time: now(),
    };
    run.reporter.flush?.();
    const path = await saveCheckpoint(
      run.runDir,
      {
        model: await toHfTensors(run.model.params),
        optimizer: (await run.optimizer.exportState()).tensors,
        trainerState: state,
        config: run.checkpoint.config,
        vocabPath: run.checkpoint.vocabPath,
      },
      { keepLast: run.train.keep_last, best: isBest, aliases },
    );
    run.reporter.emit({ type: 'checkpoint', time: now(), step, path, best: isBest });
    this.savedAt = step;
    this.lastCheckpoint = path;
    if (isBest) this.bestCheckpoint = path;
  }

  /** End the run as failed with one warning naming the last good checkpoint. */
  fail(message: string): void {
    this.status = 'failed';
    this.run.reporter.emit({
      type: 'warning',
      time: now(),
      message: `${message}; last good checkpoint: ${this.lastCheckpoint ?? 'none'}`,
    });
  }

  result(): TrainingResult<M> {
    const { best } = this;
    return {
      status: this.status,
      step: this.step,
      lastMetrics: this.lastMetrics,
      lastEval: this.lastEval,
      best: best && this.evaluatedAt >= 0 ? { step: best.step, record: best.record } : null,
      bestCheckpoint: this.bestCheckpoint,
      lastCheckpoint: this.lastCheckpoint,
    };
  }
}

/** run_start's model fields: layers, hidden size, heads, trainable parameters. */
export function modelShape(model: BertModel): {
  layers: number;
  hidden: number;
  heads: number;
  parameters: number;
} {
  return {
    layers: model.config.num_hidden_layers,
    hidden: model.config.hidden_size,
    heads: model.config.num_attention_heads,
    parameters: countParameters(model.params),
  };
}

function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

function everyN(step: number, n: number | null): boolean {
  return n !== null && step % n === 0;
}

/** Step-event fields of a task's metrics; NaN ones (accuracy of a regression) are left out. */
function finiteOnly(m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).filter(([, v]) => !Number.isNaN(v)));
}
