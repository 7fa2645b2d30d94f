import type { CommandModule } from 'yargs';
import { selectBackend, BACKEND_NAMES, type BackendRequest } from '../../backend/select.js';
import { versions, availableCores } from '../../train/run-dir.js';
import { withBackendFlags } from '../common.js';
import { loadNativeKernels } from '../../backend/native-addon.js';

interface EnvFlags {
  backend: BackendRequest;
  threads?: number;
  json: boolean;
}

/** `bert env`: versions, which backends load here, and which one `--backend` picks. */
export const envCommand: CommandModule<object, EnvFlags> = {
  command: 'env',
  describe: 'Show Node/tfjs versions, available backends, the chosen one and CPU cores',
  builder: (y) =>
    withBackendFlags(y)
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON object' })
      .example('$0 env', 'what this machine can train with')
      .example('$0 env --backend wasm --json', 'machine-readable') as never,
  handler: async (flags) => {
    const choice = await selectBackend(flags.backend, { threads: flags.threads ?? null });
    // Probe the backends after the chosen one too, so the user sees everything that would work.
    const probed = new Map(choice.attempts.map((a) => [a.backend, a]));
    const native = loadNativeKernels();
    const report = {
      versions: versions(),
      cpus: availableCores(),
      requested: flags.backend,
      chosen: choice.backend,
      backends: BACKEND_NAMES.map((name) => {
        const a = probed.get(name);
        return a
          ? { backend: name, available: a.ok, detail: a.detail }
          : {
              backend: name,
              available: null,
              detail:
                flags.backend === 'auto'
                  ? 'not probed (a backend earlier in the order was chosen)'
                  : `not probed (--backend ${flags.backend})`,
            };
      }),
      native_kernels:
        'addon' in native
          ? { available: true, detail: `${native.library} (${native.path})` }
          : { available: false, detail: native.reason },
    };
    if (flags.json) {
      process.stdout.write(JSON.stringify(report) + '\n');
      return;
    }
    const lines = [
      `bert ${report.versions.bert}  node ${report.versions.node}  tfjs-core ${report.versions['@tensorflow/tfjs-core'] ?? '?'}`,
      `cpu cores: ${report.cpus}`,
      `backends (--backend ${flags.backend}):`,
      ...report.backends.map((b) => {
        const mark = b.backend === choice.backend ? '*' : b.available === false ? '-' : ' ';
        const state = b.available === null ? 'untried' : b.available ? 'available' : 'skipped';
        return `  ${mark} ${b.backend.padEnd(10)} ${state.padEnd(9)} ${b.detail}`;
      }),
      `chosen: ${choice.backend}`,
      `native kernels (wasm matMul, dropout masks): ${report.native_kernels.detail}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  },
};
