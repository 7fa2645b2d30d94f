#!/usr/bin/env node
/**
 * `npm run build:wasm`: compile native/bert_wasm.c (with native/bert_rows.h)
 * into native/bert_kernels.wasm, the fused kernels of the plain wasm backend
 * (src/backend/wasm-module.ts), and record the sources' hash beside it in
 * native/bert_kernels.wasm.json (test/backend/wasm-module.test.ts fails when
 * a source changed and the module was not rebuilt). Developers only: the
 * package ships the module, users need no compiler.
 *
 * Needs clang with the wasm32 target and wasm-ld (Debian: clang-14 lld-14;
 * CLANG names another clang). The module must share tfjs's memory safely, so
 * the build refuses a module with a data segment or code that touches a
 * global (a shadow stack would live at a fixed address of tfjs's heap);
 * llvm-objdump (with clang) checks the code.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const native = `${root}native/`;
const SOURCES = ['bert_wasm.c', 'bert_rows.h'];
const OUT = `${native}bert_kernels.wasm`;

function firstWorking(names) {
  for (const name of names) {
    const r = spawnSync(name, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return { name, version: r.stdout.split('\n')[0].trim() };
  }
  return null;
}

const clang = firstWorking(
  process.env.CLANG ? [process.env.CLANG] : ['clang', 'clang-14', 'clang-15', 'clang-16'],
);
if (!clang) {
  console.error(
    'build:wasm: no clang found (Debian: apt-get install clang-14 lld-14, or set CLANG)',
  );
  process.exit(1);
}
const major = /version (\d+)/.exec(clang.version)?.[1];
const objdump = firstWorking([`llvm-objdump-${major}`, 'llvm-objdump']);

const tmp = `${OUT}.${process.pid}.tmp`;
const args = [
  '--target=wasm32',
  '-O3',
  '-msimd128',
  '-mbulk-memory',
  '-mnontrapping-fptoint',
  // The loops' `omp simd` pragmas, without an OpenMP runtime.
  '-fopenmp-simd',
  '-fno-trapping-math',
  '-fno-math-errno',
  '-std=c11',
  '-Wall',
  '-Wno-pass-failed',
  '-nostdlib',
  '-Wl,--no-entry',
  '-Wl,--import-memory',
  '-Wl,--strip-all',
  `${native}bert_wasm.c`,
  '-o',
  tmp,
];
const built = spawnSync(clang.name, args, {
  encoding: 'utf8',
  stdio: ['ignore', 'inherit', 'inherit'],
});
if (built.status !== 0) {
  console.error(`build:wasm: ${clang.name} failed (exit ${built.status})`);
  process.exit(1);
}

const bytes = readFileSync(tmp);
const module = new globalThis.WebAssembly.Module(bytes);
const imports = globalThis.WebAssembly.Module.imports(module).map(
  (i) => `${i.module}.${i.name}:${i.kind}`,
);
const unexpected = imports.filter((i) => i !== 'env.memory:memory' && i !== 'env.log:function');
if (unexpected.length) {
  console.error(`build:wasm: unexpected imports ${unexpected.join(', ')}`);
  process.exit(1);
}
if (!objdump) {
  console.error(
    'build:wasm: llvm-objdump not found: cannot check that the module keeps off tfjs memory',
  );
  process.exit(1);
}
const headers = spawnSync(objdump.name, ['-h', tmp], { encoding: 'utf8' }).stdout;
const code = spawnSync(objdump.name, ['-d', tmp], { encoding: 'utf8' }).stdout;
if (/\bDATA\b/.test(headers) || /global\.(get|set)/.test(code)) {
  console.error(
    'build:wasm: the module has data or uses a global (a shadow stack): it would write into tfjs memory',
  );
  process.exit(1);
}
renameSync(tmp, OUT);
const hash = createHash('sha256');
for (const s of SOURCES) hash.update(readFileSync(`${native}${s}`));
writeFileSync(
  `${OUT}.json`,
  JSON.stringify(
    { sources: SOURCES, sha256: hash.digest('hex'), compiler: clang.version, bytes: bytes.length },
    null,
    2,
  ) + '\n',
);
console.log(`build:wasm: ${OUT} (${bytes.length} bytes, ${clang.version})`);
