/**
 * What the CLI gets back from `createReporter`: a Reporter that can also ask
 * the trainer to stop (the dashboard's `q` / Ctrl-C), plus the stream shapes
 * reporters write to (process.stdout in real use, fakes in tests and bench).
 */
import type { Reporter } from './events.js';

export type UiKind = 'ink' | 'plain' | 'json';

export interface UiReporter extends Reporter {
  readonly kind: UiKind;
  /** `cb` runs when the user asks to stop from the UI (only the Ink dashboard does). */
  onStop(cb: (reason: string) => void): void;
}

/** The part of a writable terminal stream reporters use. */
export interface OutStream {
  write(chunk: string, cb?: (err?: Error | null) => void): boolean;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
  on?(event: 'resize', listener: () => void): unknown;
  off?(event: 'resize', listener: () => void): unknown;
}

/** CI=true (or any CI value but 0/false), as CI services and `is-in-ci` read it. */
export function isCI(env: Record<string, string | undefined>): boolean {
  const set = (key: string): boolean => {
    const v = env[key];
    return v !== undefined && v !== '0' && v !== 'false';
  };
  return set('CI') || set('CONTINUOUS_INTEGRATION');
}
