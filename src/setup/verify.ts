/**
 * The check that setup worked, run in a fresh Node process in the project
 * (this process may already have a backend loaded): tfjs-node must resolve
 * the SAME @tensorflow/tfjs-core as the project — a second copy would make
 * it register 'tensorflow' on an engine nobody uses — and the backend must
 * compute.
 */
import { UserError } from '../errors.js';
import { errorLine, type CommandRunner } from './commands.js';
import type { TfjsNodePackage } from './tfjs-node.js';

export interface VerifyReport {
  /** tfjs-core as the project resolves it. */
  corePath: string;
  /** tfjs-core as tfjs-node (through @tensorflow/tfjs) resolves it. */
  coreFromPackage: string;
  registered: boolean;
  backend: string;
  /** [[1,2],[3,4]] x [[5],[6]] on the backend: [17, 39]. */
  matMul: number[] | null;
}

/** Runs with `node -e` (CommonJS) in the project directory; BERT_VERIFY_PACKAGE names the package. */
export const VERIFY_SCRIPT = `
const { createRequire } = require('node:module');
const { join, dirname } = require('node:path');
process.env.TF_CPP_MIN_LOG_LEVEL = process.env.TF_CPP_MIN_LOG_LEVEL || '2';
const pkg = process.env.BERT_VERIFY_PACKAGE;
const req = createRequire(join(process.cwd(), 'package.json'));
const corePath = req.resolve('@tensorflow/tfjs-core');
const pkgDir = dirname(req.resolve(pkg + '/package.json'));
const unionPath = createRequire(join(pkgDir, 'package.json')).resolve('@tensorflow/tfjs');
const coreFromPackage = createRequire(unionPath).resolve('@tensorflow/tfjs-core');
const tf = req('@tensorflow/tfjs-core');
req(pkg);
(async () => {
  const registered = tf.findBackend('tensorflow') != null;
  let matMul = null;
  if (registered && (await tf.setBackend('tensorflow'))) {
    const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]]));
    matMul = Array.from(await y.data());
  }
  process.stdout.write(JSON.stringify({ corePath, coreFromPackage, registered, backend: tf.getBackend(), matMul }) + '\\n');
})();
`;

/** What is wrong with a verification report, or null when the backend is usable. */
export function judgeVerification(report: VerifyReport, pkg: TfjsNodePackage): string | null {
  if (report.corePath !== report.coreFromPackage) {
    return `${pkg} uses a second @tensorflow/tfjs-core (${report.coreFromPackage}, the project uses ${report.corePath}); run npm dedupe`;
  }
  if (!report.registered) return `${pkg} loaded but registered no 'tensorflow' backend`;
  if (report.backend !== 'tensorflow')
    return `the tensorflow backend failed to initialise (active: ${report.backend})`;
  const m = report.matMul;
  if (!m || m.length !== 2 || m[0] !== 17 || m[1] !== 39) {
    return `the tensorflow backend computed [[1,2],[3,4]]x[[5],[6]] = ${JSON.stringify(m)}, expected [17,39]`;
  }
  return null;
}

/** Load the package in a child Node and throw a one-line UserError unless it works. */
export async function verifyBackend(
  run: CommandRunner,
  projectDir: string,
  pkg: TfjsNodePackage,
): Promise<VerifyReport> {
  const r = await run(process.execPath, ['-e', VERIFY_SCRIPT], {
    cwd: projectDir,
    env: { ...process.env, BERT_VERIFY_PACKAGE: pkg },
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (r.code !== 0 || !line) {
    throw new UserError(`${pkg} does not load: ${errorLine(r.stderr) || `exit ${r.code}`}`);
  }
  const report = JSON.parse(line) as VerifyReport;
  const problem = judgeVerification(report, pkg);
  if (problem) throw new UserError(problem);
  return report;
}
