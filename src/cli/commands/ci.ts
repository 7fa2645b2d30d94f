import type { CommandModule } from 'yargs';
import { withBackendFlags, withConfigFlags } from '../common.js';
import { selectBackend, describeChoice, type BackendRequest } from '../../backend/select.js';
import { createReporter } from '../../ui/reporter.js';
import { StopSignal } from '../../ui/stop-signal.js';
import { loadRegressionConfig, baselinePathFor } from '../../ci/config.js';
import { parseTolerances } from '../../ci/compare.js';
import { prepareCiRunDir, runRegression } from '../../ci/regression.js';
import { readBaseline, writeBaseline } from '../../ci/report.js';
import { ciOutcome } from '../../ci/outcome.js';
import { UserError } from '../../errors.js';

interface CiFlags {
  config: string;
  set?: string[];
  baseline?: string;
  tolerance?: string[];
  'update-baseline': boolean;
  json: boolean;
  backend: BackendRequest;
  threads?: number;
  run?: string;
  force: boolean;
  ui: 'plain' | 'json';
}

export const ciCommand: CommandModule<object, CiFlags> = {
  command: 'ci',
  describe: 'Regression run: train, evaluate, compare with a baseline, exit non-zero on regression',
  builder: (y) =>
    withBackendFlags(withConfigFlags(y))
      .option('config', {
        alias: 'c',
        type: 'string',
        default: 'configs/ci/regression.yaml',
        describe: 'Regression config (schemas/ci.schema.json)',
      })
      .option('baseline', {
        type: 'string',
        describe: 'Baseline file (default: the config’s, else baseline.<backend>.json beside it)',
      })
      .option('tolerance', {
        type: 'string',
        array: true,
        describe: 'Gate a metric with an absolute tolerance: metric=0.02[,metric=...]',
      })
      .option('update-baseline', {
        type: 'boolean',
        default: false,
        describe: 'Write this run’s metrics as the baseline (deliberately; atomic)',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Print one JSON object (metrics, timings, backend, versions, verdict) on stdout',
      })
      .option('run', { type: 'string', describe: 'Run directory (default runs/<name>; replaced)' })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'Replace --run even if it is not a bert ci run directory',
      })
      .option('ui', {
        choices: ['plain', 'json'] as const,
        default: 'plain' as const,
        describe: 'Progress on stderr: plain lines or JSON event lines',
      })
      .example(
        '$0 ci --backend wasm',
        'the regression CI runs, against configs/ci/baseline.wasm.json',
      )
      .example(
        '$0 ci --json > ci.json; echo $?',
        'one JSON object for CI artifacts; exit 1 on regression',
      )
      .example('$0 ci --backend wasm --update-baseline', 'record a new baseline deliberately')
      .example(
        '$0 ci --set pretrain.train.lr=0.1 --tolerance eval.dev_accuracy=0.05',
        'try a change against the baseline',
      ) as never,
  handler: async (flags) => {
    if (flags.threads !== undefined && !(flags.threads > 0))
      throw new UserError(`--threads: expected a positive number, got ${flags.threads}`);
    const tolerancesFlag = parseTolerances(flags.tolerance ?? []);
    const config = loadRegressionConfig(flags.config, flags.set ?? []);
    const backend = await selectBackend(flags.backend, { threads: flags.threads ?? null });
    const baselinePath = baselinePathFor(flags.baseline, config, backend.backend);
    // Read the baseline before the run: a malformed one should fail in a second, not after minutes.
    const baseline = readBaseline(baselinePath);
    if (!baseline && !flags['update-baseline'] && flags.baseline !== undefined) {
      throw new UserError(`--baseline ${flags.baseline}: no such file`);
    }
    const runDir = await prepareCiRunDir(flags.run ?? `runs/${config.ci.name}`, flags.force);
    // stdout carries only the table or the one JSON object; progress goes to stderr.
    const ui = () =>
      createReporter(flags.ui, {
        runDir: null,
        stdout: process.stderr,
        stderr: process.stderr,
        isTTY: false,
        env: process.env,
      });
    process.stderr.write(describeChoice(backend) + '\n');
    // Ctrl-C / SIGTERM: the running stage finishes its step and saves; the run then fails.
    const stop = StopSignal.forProcess();
    let report;
    try {
      report = await runRegression({
        config,
        runDir,
        backend,
        ui,
        stopRequested: () => stop.signal.stopRequested(),
        argv: process.argv.slice(2),
      });
    } finally {
      stop.dispose();
    }
    const outcome = ciOutcome({
      report,
      baseline,
      baselinePath,
      tolerances: { ...config.ci.tolerances, ...tolerancesFlag },
      update: flags['update-baseline'],
    });
    if (outcome.output.verdict === 'updated') await writeBaseline(baselinePath, report);
    for (const w of outcome.warnings) process.stderr.write(w + '\n');
    process.stdout.write(
      flags.json
        ? JSON.stringify(outcome.output) + '\n'
        : outcome.text + `\nreport: ${runDir}/report.json\n`,
    );
    if (outcome.exitCode !== 0) process.exitCode = outcome.exitCode;
  },
};
