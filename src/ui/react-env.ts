/**
 * Imported before Ink/React wherever they load: React picks its development
 * or production build from NODE_ENV when first loaded, and the development
 * build (prop checks, performance marks) makes each dashboard render several
 * times slower. A user who set NODE_ENV keeps theirs.
 */
export const INJECTED_NODE_ENV = 'BERT_INJECTED_NODE_ENV';

if (process.env.NODE_ENV === undefined) {
  process.env.NODE_ENV = 'production';
  // Marks the value as ours, so tools we spawn (npm in `bert setup`) do not inherit it:
  // npm with NODE_ENV=production would prune the project's devDependencies.
  process.env[INJECTED_NODE_ENV] = '1';
}
