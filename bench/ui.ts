/**
 * `npm run bench -- ui [--events N] [--step-ms M] [--seconds S] [--rounds R] [--json]`
 *
 * What the reporters cost the trainer:
 *  1. burst: N step events back to back through each reporter; cost per event.
 *  2. simulated training: steps that busy-wait M ms (50 steps/s at 20 ms),
 *     awaiting the event loop between steps as the real trainer does, for S
 *     seconds per reporter; steps/s with each reporter and the slowdown
 *     against no reporter. The dashboard renders into a fake 80x24 terminal.
 * Rounds interleave the reporters so machine noise hits them alike; the
 * median round is reported.
 *
 * `npm run bench -- ui --demo [--ui ink|plain|json|auto] [--steps N] [--step-ms M]`
 * instead drives the real terminal through `createReporter` with a simulated
 * run (q / Ctrl-C stop it gracefully), for eyeballing the dashboard and for
 * scripts/tmux-capture.sh.
 */
import { EventEmitter } from 'node:events';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { InkReporter } from '../src/ui/ink-reporter.js';
import { JsonReporter } from '../src/ui/json-reporter.js';
import { PlainReporter } from '../src/ui/plain-reporter.js';
import { createReporter, type UiRequest } from '../src/ui/reporter.js';
import { StopSignal } from '../src/ui/stop-signal.js';
import type { Reporter, RunStartEvent, StepEvent } from '../src/ui/events.js';

/** A terminal that throws output away but counts it. */
class NullTerminal extends EventEmitter {
  bytes = 0;
  isTTY = true;
  columns = 80;
  rows = 24;
  write(chunk: string, cb?: (err?: Error | null) => void): boolean {
    this.bytes += chunk.length;
    cb?.();
    return true;
  }
}

type Kind = 'none' | 'json' | 'plain' | 'ink';
const KINDS: Kind[] = ['none', 'json', 'plain', 'ink'];

interface Made {
  reporter: Reporter;
  out: NullTerminal;
  renders: () => number;
  /** Time the reporter spent outside emit (timer-driven renders); 0 for the others. */
  timerMs: () => number;
}

async function makeReporter(kind: Kind): Promise<Made> {
  const out = new NullTerminal();
  const err = new NullTerminal();
  switch (kind) {
    case 'none':
      return {
        reporter: { emit: () => {}, close: async () => {} },
        out,
        renders: () => 0,
        timerMs: () => 0,
      };
    case 'json':
      return { reporter: new JsonReporter(out, err), out, renders: () => 0, timerMs: () => 0 };
    case 'plain':
      out.isTTY = false;
      return {
        reporter: new PlainReporter({ stdout: out, stderr: err, bar: false, intervalS: 10 }),
        out,
        renders: () => 0,
        timerMs: () => 0,
      };
    case 'ink': {
      const ink = new InkReporter({ stdout: out, stderr: err });
      // Measure the dashboard mounted, not Ink's one-off import.
      await ink.ready;
      // The mount's first render is not part of the run measured.
      const mountMs = ink.busyMs;
      let emitMs = 0;
      // busyMs counts emit and timer renders; emit time is subtracted by the caller's own timing.
      const reporter: Reporter = {
        emit: (e) => {
          const t0 = performance.now();
          ink.emit(e);
          emitMs += performance.now() - t0;
        },
        close: () => ink.close(),
      };
      return {
        reporter,
        out,
        renders: () => ink.renders,
        timerMs: () => ink.busyMs - mountMs - emitMs,
      };
    }
  }
}

const runStart = (total: number): RunStartEvent => ({
  type: 'run_start',
  time: new Date().toISOString(),
  command: 'pretrain',
  run: 'runs/bench',
  backend: 'wasm',
  model: { size: 'tiny', layers: 2, hidden: 128, heads: 2, parameters: 4_385_920 },
  data: 'synthetic',
  totalSteps: total,
});

const stepEvent = (step: number, total: number): StepEvent => ({
  type: 'step',
  time: new Date().toISOString(),
  step,
  totalSteps: total,
  epoch: 0,
  loss: 1 + 9 * Math.exp(-step / 500) + 0.05 * Math.sin(step),
  mlm_loss: 0.5 + 8 * Math.exp(-step / 500),
  nsp_loss: 0.69,
  mlm_accuracy: 0.2,
  nsp_accuracy: 0.6,
  lr: 1e-4,
  grad_norm: 1.1,
  tokens_per_s: 12_000,
  examples_per_s: 96,
  step_ms: 20,
  queue_depth: 8,
  data_wait_ms: 0.1,
  tensors: 1234,
  tensor_bytes: 56e6,
  rss_bytes: process.memoryUsage.rss(),
});

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // Stands in for a training step's compute.
  }
}

async function burst(kind: Kind, events: number): Promise<{ usPerEvent: number; renders: number }> {
  const { reporter, renders } = await makeReporter(kind);
  reporter.emit(runStart(events));
  const t0 = performance.now();
  for (let s = 1; s <= events; s += 1) reporter.emit(stepEvent(s, events));
  const dt = performance.now() - t0;
  const r = renders();
  await reporter.close();
  return { usPerEvent: (dt * 1000) / events, renders: r };
}

async function training(
  kind: Kind,
  stepMs: number,
  seconds: number,
): Promise<{ stepsPerS: number; renders: number; sharePct: number }> {
  const { reporter, renders, timerMs } = await makeReporter(kind);
  const total = Math.ceil((seconds * 1000) / stepMs);
  reporter.emit(runStart(total));
  const t0 = performance.now();
  let step = 0;
  let emitMs = 0;
  while (performance.now() - t0 < seconds * 1000) {
    busyWait(stepMs);
    step += 1;
    const event = stepEvent(step, total);
    const e0 = performance.now();
    reporter.emit(event);
    emitMs += performance.now() - e0;
    // The trainer awaits its data loader between steps: timers get their turn here.
    await yieldToLoop();
  }
  const dt = (performance.now() - t0) / 1000;
  const r = renders();
  // The reporter's share of the run's time: robust to machine noise, unlike steps/s.
  const sharePct = ((emitMs + timerMs()) / (dt * 1000)) * 100;
  await reporter.close();
  return { stepsPerS: step / dt, renders: r, sharePct };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function flag(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? Number(argv[i + 1]) : fallback;
}

/** A simulated pretraining run on the real terminal. */
async function demo(argv: string[]): Promise<void> {
  const i = argv.indexOf('--ui');
  const ui = (i >= 0 ? argv[i + 1] : 'auto') as UiRequest;
  const total = flag(argv, 'steps', 300);
  const stepMs = flag(argv, 'step-ms', 50);
  const { signal, dispose } = StopSignal.forProcess();
  const reporter = createReporter(ui, {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    isTTY: process.stdout.isTTY === true,
    env: process.env,
    plainIntervalS: 2,
  });
  signal.attach(reporter);
  const t0 = Date.now();
  const at = (): string => new Date().toISOString();
  reporter.emit({
    ...runStart(total),
    run: 'runs/demo',
    data: 'data/corpus/sample.txt (simulated)',
  });
  for (let done = 0; done <= 2000; done += 500) {
    reporter.emit({
      type: 'progress',
      time: at(),
      stage: 'encode',
      done,
      total: 2000,
      unit: 'lines',
    });
    await new Promise((r) => setTimeout(r, 100));
  }
  let step = 0;
  while (step < total && !signal.stopRequested()) {
    busyWait(stepMs);
    step += 1;
    reporter.emit({ ...stepEvent(step, total), step_ms: stepMs });
    if (step % 100 === 0) {
      reporter.emit({
        type: 'eval',
        time: at(),
        step,
        split: 'dev',
        metrics: {
          loss: 2 + 8 * Math.exp(-step / 500),
          mlm_accuracy: 0.3 * (1 - Math.exp(-step / 300)),
        },
      });
      reporter.emit({
        type: 'checkpoint',
        time: at(),
        step,
        path: `runs/demo/checkpoints/step-${step}`,
      });
    }
    await yieldToLoop();
  }
  const stopped = signal.stopRequested();
  if (stopped) {
    reporter.emit({
      type: 'log',
      time: at(),
      message: `stop requested (${signal.reason}): checkpoint written`,
    });
    reporter.emit({
      type: 'checkpoint',
      time: at(),
      step,
      path: `runs/demo/checkpoints/step-${step}`,
    });
  }
  reporter.emit({
    type: 'run_end',
    time: at(),
    status: stopped ? 'stopped' : 'completed',
    step,
    elapsed_s: (Date.now() - t0) / 1000,
    summary: { loss: 1 + 9 * Math.exp(-step / 500), steps: step },
    outputs: { checkpoint: `runs/demo/checkpoints/step-${step}` },
  });
  await reporter.close();
  dispose();
}

export async function run(argv: string[]): Promise<void> {
  if (argv.includes('--demo')) return demo(argv);
  const events = flag(argv, 'events', 20_000);
  const stepMs = flag(argv, 'step-ms', 20);
  const seconds = flag(argv, 'seconds', 3);
  const rounds = flag(argv, 'rounds', 3);
  const json = argv.includes('--json');
  if (process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0') {
    console.error(
      'note: CI is set, so Ink skips intermediate frames; unset CI to measure the dashboard',
    );
  }

  const burstUs: Record<Kind, number[]> = { none: [], json: [], plain: [], ink: [] };
  const burstRenders: Record<Kind, number[]> = { none: [], json: [], plain: [], ink: [] };
  const trainRate: Record<Kind, number[]> = { none: [], json: [], plain: [], ink: [] };
  const trainRenders: Record<Kind, number[]> = { none: [], json: [], plain: [], ink: [] };
  const trainShare: Record<Kind, number[]> = { none: [], json: [], plain: [], ink: [] };
  for (let round = 0; round < rounds; round += 1) {
    for (const kind of KINDS) {
      const b = await burst(kind, events);
      burstUs[kind].push(b.usPerEvent);
      burstRenders[kind].push(b.renders);
      const t = await training(kind, stepMs, seconds);
      trainRate[kind].push(t.stepsPerS);
      trainRenders[kind].push(t.renders);
      trainShare[kind].push(t.sharePct);
    }
  }

  const rows = KINDS.map((kind) => {
    const rate = median(trainRate[kind]);
    return {
      reporter: kind,
      burst_us_per_event: median(burstUs[kind]),
      burst_renders: median(burstRenders[kind]),
      steps_per_s: rate,
      renders: median(trainRenders[kind]),
      reporter_time_pct: median(trainShare[kind]),
      slowdown_vs_none_pct: (1 - rate / median(trainRate.none)) * 100,
      slowdown_vs_json_pct: (1 - rate / median(trainRate.json)) * 100,
    };
  });
  if (json) {
    for (const row of rows)
      console.log(
        JSON.stringify({ suite: 'ui', events, step_ms: stepMs, seconds, rounds, ...row }),
      );
    return;
  }
  console.log(
    `ui bench: burst of ${events} step events; simulated training at ${stepMs} ms/step for ${seconds} s; median of ${rounds} rounds`,
  );
  console.log(
    'reporter  µs/event(burst)  renders(burst)  steps/s  renders  reporter time  slowdown vs none  vs json',
  );
  for (const r of rows) {
    console.log(
      [
        r.reporter.padEnd(8),
        r.burst_us_per_event.toFixed(2).padStart(16),
        String(r.burst_renders).padStart(15),
        r.steps_per_s.toFixed(2).padStart(8),
        String(r.renders).padStart(8),
        `${r.reporter_time_pct.toFixed(2)}%`.padStart(14),
        `${r.slowdown_vs_none_pct.toFixed(2)}%`.padStart(17),
        `${r.slowdown_vs_json_pct.toFixed(2)}%`.padStart(8),
      ].join(' '),
    );
  }
}
