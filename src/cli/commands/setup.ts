import type { CommandModule } from 'yargs';
import { removeTensorflow, setupTensorflow } from '../../setup/tensorflow.js';
import { buildNativeKernels, removeNativeKernels } from '../../backend/native-addon.js';

interface SetupFlags {
  what: 'tensorflow' | 'native';
  wheel?: string;
  gpu: boolean;
  'cache-dir'?: string;
  force: boolean;
  remove: boolean;
  json: boolean;
}

/**
 * `bert setup tensorflow`: build the native backend from a TensorFlow wheel (src/setup/tensorflow.ts).
 * `bert setup native`: compile the WASM backend's native matMul kernels (src/backend/native-addon.ts).
 */
export const setupCommand: CommandModule<object, SetupFlags> = {
  command: 'setup <what>',
  describe:
    'Build the native TensorFlow backend from a TensorFlow pip wheel, or native matMul kernels for WASM',
  builder: (y) =>
    y
      .positional('what', { choices: ['tensorflow', 'native'] as const, demandOption: true })
      .option('wheel', {
        type: 'string',
        describe: 'Build from this TensorFlow .whl instead of `python3 -m pip download`',
      })
      .option('gpu', {
        type: 'boolean',
        default: false,
        describe: 'Build @tensorflow/tfjs-node-gpu against the `tensorflow` (CUDA) wheel',
      })
      .option('cache-dir', {
        type: 'string',
        describe: 'Cache root (default $BERT_CACHE_DIR, else ~/.cache/bert)',
      })
      .option('force', { type: 'boolean', default: false, describe: 'Rebuild even what is cached' })
      .option('remove', {
        type: 'boolean',
        default: false,
        describe:
          'tensorflow: take tfjs-node out of node_modules again (keeps the cache); native: delete the built kernels',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Print the result as one JSON line',
      })
      .example('$0 setup tensorflow', 'tensorflow-cpu from pip, ~850 MB cached in ~/.cache/bert')
      .example(
        '$0 setup tensorflow --wheel tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl',
        '',
      )
      .example('$0 setup tensorflow --gpu', 'tfjs-node-gpu against the CUDA wheel')
      .example(
        '$0 setup native',
        'WASM matMuls on oneDNN/OpenBLAS (needs a C compiler and libdnnl2 or libopenblas0)',
      ) as never,
  handler: async (flags) => {
    // Progress goes to stderr under --json so stdout stays one parseable line.
    const log = (line: string): void => {
      (flags.json ? process.stderr : process.stdout).write(line + '\n');
    };
    if (flags.what === 'native') {
      if (flags.remove) {
        const removed = await removeNativeKernels(flags['cache-dir']);
        log(`removed ${removed}`);
        if (flags.json) process.stdout.write(JSON.stringify({ removed }) + '\n');
        return;
      }
      const built = await buildNativeKernels({
        cacheDir: flags['cache-dir'],
        force: flags.force,
        log,
      });
      log(
        'the wasm backend now runs its matMuls and AdamW natively, and every backend its dropout masks (BERT_NATIVE_KERNELS=0 turns that off)',
      );
      if (flags.json)
        process.stdout.write(JSON.stringify({ path: built.path, library: built.library }) + '\n');
      return;
    }
    if (flags.remove) {
      const removed = await removeTensorflow({ log });
      if (flags.json) process.stdout.write(JSON.stringify({ removed }) + '\n');
      return;
    }
    const result = await setupTensorflow({
      wheel: flags.wheel,
      gpu: flags.gpu,
      cacheDir: flags['cache-dir'],
      force: flags.force,
      log,
    });
    if (flags.json) process.stdout.write(JSON.stringify(result) + '\n');
  },
};
