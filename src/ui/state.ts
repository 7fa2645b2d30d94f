/**
 * What the dashboard shows, folded from the event stream. `reduce` is pure
 * and cheap (a few small copies per event) so reporters can apply every
 * event at full training speed and render a snapshot only when the screen
 * refreshes.
 */
import type { BertEvent, CheckpointEvent, EvalEvent, RunStartEvent, StepEvent } from './events.js';
import {
  emaInit,
  emaUpdate,
  historyInit,
  historyPush,
  pushSample,
  type Ema,
  type History,
  type ProgressSample,
} from './format.js';

export interface StageState {
  stage: string;
  done: number;
  total: number | null;
  unit: string;
  rate?: number;
  startMs: number;
  /** `done` at the first report: a rate counts only what was done while we watched. */
  startDone: number;
  lastMs: number;
}

export interface MessageLine {
  level: 'log' | 'warning';
  message: string;
  timeMs: number;
}

export interface DashboardState {
  start: RunStartEvent | null;
  startMs: number | null;
  lastStep: StepEvent | null;
  /** First step seen by this process (a resumed run starts past 0). */
  firstStepNumber: number | null;
  totalSteps: number | null;
  lossEma: Ema;
  lossHistory: History;
  samples: ProgressSample[];
  lastEval: EvalEvent | null;
  lastCheckpoint: CheckpointEvent | null;
  stages: StageState[];
  messages: MessageLine[];
  warnings: number;
  end: {
    status: 'completed' | 'stopped' | 'failed';
    elapsed_s: number;
    outputs: Record<string, string>;
    summary: Record<string, number | string>;
  } | null;
  /** Set by the reporter when the user pressed q / Ctrl-C. */
  stopping: boolean;
}

export const MAX_MESSAGES = 3;
export const MAX_STAGES = 4;

export function initialState(): DashboardState {
  return {
    start: null,
    startMs: null,
    lastStep: null,
    firstStepNumber: null,
    totalSteps: null,
    lossEma: emaInit(0.98),
    lossHistory: historyInit(128),
    samples: [],
    lastEval: null,
    lastCheckpoint: null,
    stages: [],
    messages: [],
    warnings: 0,
    end: null,
    stopping: false,
  };
}

/** Event timestamps are ISO strings; a malformed one falls back to "unknown" (0). */
export function eventTimeMs(time: string): number {
  const t = Date.parse(time);
  return Number.isNaN(t) ? 0 : t;
}

export function reduce(state: DashboardState, event: BertEvent): DashboardState {
  const t = eventTimeMs(event.time);
  switch (event.type) {
    case 'run_start':
      return { ...state, start: event, startMs: t, totalSteps: event.totalSteps };
    case 'step':
      return {
        ...state,
        startMs: state.startMs ?? t,
        lastStep: event,
        firstStepNumber: state.firstStepNumber ?? event.step,
        totalSteps: event.totalSteps ?? state.totalSteps,
        lossEma: emaUpdate(state.lossEma, event.loss),
        lossHistory: historyPush(state.lossHistory, event.loss),
        samples: pushSample(state.samples, { step: event.step, timeMs: t }),
      };
    case 'eval':
      return { ...state, lastEval: event };
    case 'checkpoint':
      return { ...state, lastCheckpoint: event };
    case 'progress': {
      const i = state.stages.findIndex((s) => s.stage === event.stage);
      const prev = i >= 0 ? state.stages[i] : null;
      const next: StageState = {
        stage: event.stage,
        done: event.done,
        total: event.total,
        unit: event.unit,
        rate: event.rate,
        startMs: prev?.startMs ?? t,
        startDone: prev?.startDone ?? event.done,
        lastMs: t,
      };
      const stages =
        i >= 0
          ? state.stages.map((s, j) => (j === i ? next : s))
          : [...state.stages, next].slice(-MAX_STAGES);
      return { ...state, startMs: state.startMs ?? t, stages };
    }
    case 'log':
    case 'warning': {
      const messages = [
        ...state.messages,
        { level: event.type, message: event.message, timeMs: t },
      ];
      return {
        ...state,
        messages: messages.slice(-MAX_MESSAGES),
        warnings: state.warnings + (event.type === 'warning' ? 1 : 0),
      };
    }
    case 'run_end':
      return {
        ...state,
        end: {
          status: event.status,
          elapsed_s: event.elapsed_s,
          outputs: event.outputs,
          summary: event.summary,
        },
      };
  }
}
