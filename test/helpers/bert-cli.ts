/**
 * Run the real `bert` CLI in a child process, as a user would: tiny
 * pretraining runs for tests that kill, race or break them on purpose.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { tinyPretrainSettings } from './tiny-pretrain.js';

export const bertBin = join(packageRoot, 'bin/bert.js');

/** `--set` pairs for a pretraining run small enough to start in a second and save every step. */
export function tinyPretrainSets(shards: string, extra: string[] = []): string[] {
  return [
    ...tinyPretrainSettings(shards),
    `data.vocab=${join(packageRoot, 'data/vocab/bert-base-uncased/vocab.txt')}`,
    `data.corpus=[${join(packageRoot, 'data/corpus/sample.txt')}]`,
    'train.log_every=1',
    'train.warmup_steps=2',
    'train.save_every=1',
    ...extra,
  ].flatMap((s) => ['--set', s]);
}

/** `pretrain --ui json` on the test backend (BERT_TEST_BACKEND, default wasm) with the tiny sets. */
export function tinyPretrainArgs(
  shards: string,
  flags: string[],
  extraSets: string[] = [],
): string[] {
  const backend = process.env.BERT_TEST_BACKEND ?? 'wasm';
  return [
    'pretrain',
    '--ui',
    'json',
    '--backend',
    backend,
    ...flags,
    ...tinyPretrainSets(shards, extraSets),
  ];
}

export interface BertResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Start `bert args...` in `cwd`; stdout/stderr are collected on the returned process. */
export function spawnBert(
  args: string[],
  cwd: string,
): ChildProcess & { out: { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [bertBin, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as ChildProcess & { out: { stdout: string; stderr: string } };
  child.out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d: Buffer) => (child.out.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (child.out.stderr += d.toString()));
  return child;
}

/** Wait for a spawned `bert` to exit. */
export function exited(child: ReturnType<typeof spawnBert>): Promise<BertResult> {
  return new Promise((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null): void =>
      resolve({ code, signal, ...child.out });
    if (child.exitCode !== null || child.signalCode !== null)
      done(child.exitCode, child.signalCode as NodeJS.Signals | null);
    else child.once('close', done);
  });
}

/** Run `bert args...` in `cwd` to the end. */
export function runBert(args: string[], cwd: string): Promise<BertResult> {
  return exited(spawnBert(args, cwd));
}

/** Resolve once the child's JSON event stream (--ui json) holds an event of `type`, or it exits. */
export async function waitForEvent(
  child: ReturnType<typeof spawnBert>,
  type: string,
  timeoutMs = 60_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const needle = `"type":"${type}"`;
  while (Date.now() < deadline) {
    if (child.out.stdout.includes(needle)) return true;
    if (child.exitCode !== null || child.signalCode !== null) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return false;
}
