/**
 * `npm run bench -- <suite> [flags]`: throughput benchmarks. Each suite is a
 * module in bench/ exporting `run(argv: string[]): Promise<void>`; it prints
 * its own table (and JSON lines with --json). Speed figures live here, never
 * in timed tests.
 */
const SUITES = [
  'tokenize',
  'data',
  'train',
  'train-checks',
  'finetune',
  'ui',
  'embed',
  'tf-sanity',
  'pretrain-curve',
  'pretrain-budget',
] as const;

const [suite, ...rest] = process.argv.slice(2);
if (!suite || !(SUITES as readonly string[]).includes(suite)) {
  console.error(`usage: npm run bench -- <${SUITES.join('|')}> [flags]`);
  process.exit(2);
}
try {
  const mod = (await import(`./${suite}.js`)) as { run(argv: string[]): Promise<void> };
  await mod.run(rest);
} catch (err) {
  const e = err as { code?: string };
  if (e.code === 'ERR_MODULE_NOT_FOUND') {
    console.error(`bench ${suite}: not built yet`);
    process.exit(2);
  }
  throw err;
}
