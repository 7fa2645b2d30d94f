/**
 * `bert data fetch glue`: download the official GLUE task archives (the URLs
 * `download_glue_data.py` uses), verify each download's size and SHA-256,
 * unpack, and place every task directory atomically under `--out`, in the
 * layout the GLUE readers expect (`<out>/SST-2/train.tsv`, ...).
 *
 * MRPC is not distributed as a GLUE archive: like `download_glue_data.py`,
 * we fetch the SentEval copies of `msr_paraphrase_{train,test}.txt` and the
 * GLUE dev ids and split them (`formatMrpc`).
 *
 * Sizes and SHA-256 digests are those recorded by the HuggingFace `glue`
 * dataset script (datasets/glue/dataset_infos.json, download_checksums);
 * the AX digest is that of the official diagnostic/diagnostic.tsv.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempSibling } from '../../io/atomic.js';
import { pathExists } from '../../io/path-exists.js';
import { UserError } from '../../errors.js';
import { GLUE_TASKS, type GlueTaskName } from './tasks.js';
import { extractZip } from './zip.js';

export const DEFAULT_GLUE_BASE_URL = 'https://dl.fbaipublicfiles.com';

/** One file to download, relative to the base URL. */
export interface GlueDownload {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  /** `zip`: unpacked into the output root; `file`: saved as `saveAs` inside the task directory. */
  readonly kind: 'zip' | 'file';
  readonly saveAs?: string;
}

export type GlueFetchManifest = Readonly<Partial<Record<GlueTaskName, readonly GlueDownload[]>>>;

/** What to download for each task. */
export const GLUE_DOWNLOADS: GlueFetchManifest = {
  cola: [
    {
      path: 'glue/data/CoLA.zip',
      bytes: 376971,
      sha256: 'f212fcd832b8f7b435fb991f101abf89f96b933ab400603bf198960dfc32cbff',
      kind: 'zip',
    },
  ],
  sst2: [
    {
      path: 'glue/data/SST-2.zip',
      bytes: 7439277,
      sha256: 'd67e16fb55739c1b32cdce9877596db1c127dc322d93c082281f64057c16deaa',
      kind: 'zip',
    },
  ],
  mrpc: [
    {
      path: 'senteval/senteval_data/msr_paraphrase_train.txt',
      bytes: 1047044,
      sha256: '60a9b09084528f0673eedee2b69cb941920f0b8cd0eeccefc464a98768457f89',
      kind: 'file',
      saveAs: 'msr_paraphrase_train.txt',
    },
    {
      path: 'senteval/senteval_data/msr_paraphrase_test.txt',
      bytes: 441275,
      sha256: 'a04e271090879aaba6423d65b94950c089298587d9c084bf9cd7439bd785f784',
      kind: 'file',
      saveAs: 'msr_paraphrase_test.txt',
    },
    {
      path: 'glue/data/mrpc_dev_ids.tsv',
      bytes: 6222,
      sha256: '971d7767d81b997fd9060ade0ec23c4fc31cbb226a55d1bd4a1bac474eb81dc7',
      kind: 'file',
      saveAs: 'dev_ids.tsv',
    },
  ],
  stsb: [
    {
      path: 'glue/data/STS-B.zip',
      bytes: 802872,
      sha256: 'e60a6393de5a8b5b9bac5020a1554b54e3691f9d600b775bd131e613ac179c85',
      kind: 'zip',
    },
  ],
  qqp: [
    {
      path: 'glue/data/QQP-clean.zip',
      bytes: 41696084,
      sha256: '40e7c862c04eb26ee04b67fd900e76c45c6ba8e6d8fab4f8f1f8072a1a3fbae0',
      kind: 'zip',
    },
  ],
  mnli: [
    {
      path: 'glue/data/MNLI.zip',
      bytes: 312783507,
      sha256: 'e7c1d896d26ed6caf700110645df426cc2d8ebf02a5ab743d5a5c68ac1c83633',
      kind: 'zip',
    },
  ],
  qnli: [
    {
      path: 'glue/data/QNLIv2.zip',
      bytes: 10627589,
      sha256: 'e634e78627a29adaecd4f955359b22bf5e70f2cbd93b493f2d624138a0c0e5f5',
      kind: 'zip',
    },
  ],
  rte: [
    {
      path: 'glue/data/RTE.zip',
      bytes: 697150,
      sha256: '6bf86de103ecd335f3441bd43574d23fef87ecc695977a63b82d5efb206556ee',
      kind: 'zip',
    },
  ],
  wnli: [
    {
      path: 'glue/data/WNLI.zip',
      bytes: 28999,
      sha256: 'ae0e8e4d16f4d46d4a0a566ec7ecceccfd3fbfaa4a7a4b4e02848c0f2561ac46',
      kind: 'zip',
    },
  ],
  ax: [
    {
      path: 'glue/data/AX.tsv',
      bytes: 222257,
      sha256: '0e13510b1bb14436ff7e2ee82338f0efb0133ecf2e73507a697dc210db3f05fd',
      kind: 'file',
      saveAs: 'diagnostic.tsv',
    },
  ],
};

export type FetchProgress =
  | { readonly type: 'present'; readonly task: GlueTaskName; readonly dir: string }
  | {
      readonly type: 'download';
      readonly task: GlueTaskName;
      readonly url: string;
      readonly bytes: number;
    }
  | {
      readonly type: 'progress';
      readonly task: GlueTaskName;
      readonly url: string;
      readonly received: number;
      readonly bytes: number;
    }
  | { readonly type: 'placed'; readonly task: GlueTaskName; readonly dir: string };

export interface FetchGlueOptions {
  readonly tasks: readonly GlueTaskName[];
  /** GLUE root to fill (`data/glue`). */
  readonly out: string;
  /** Mirror to download from; files are `<baseUrl>/<download.path>`. */
  readonly baseUrl?: string;
  /** Replace task directories that exist but are incomplete. Complete ones are always kept. */
  readonly force?: boolean;
  /** Override what is downloaded (tests, or a mirror with other files). */
  readonly manifest?: GlueFetchManifest;
  readonly onProgress?: (event: FetchProgress) => void;
}

export interface FetchGlueResult {
  readonly task: GlueTaskName;
  readonly status: 'downloaded' | 'present';
  readonly dir: string;
}

/** A task directory is complete when every split file of the task is there. */
async function taskComplete(out: string, task: GlueTaskName): Promise<boolean> {
  const t = GLUE_TASKS[task];
  const present = await Promise.all(t.splits.map((s) => pathExists(join(out, t.dir, s.file))));
  return present.every(Boolean);
}

/**
 * Download `url` to `dest`, hashing as it streams. Throws UserError when the
 * server fails or the size or SHA-256 differs from `expected`.
 */
async function download(
  url: string,
  dest: string,
  expected: GlueDownload,
  onChunk: (received: number) => void,
): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (err) {
    throw new UserError(
      `${url}: download failed (${(err as Error).message}); check the network or --base-url`,
    );
  }
  if (!res.ok || !res.body)
    throw new UserError(`${url}: HTTP ${res.status} ${res.statusText}`.trimEnd());
  const announced = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(announced) && announced !== expected.bytes) {
    await res.body.cancel();
    throw new UserError(`${url}: server announces ${announced} bytes, expected ${expected.bytes}`);
  }
  const hash = createHash('sha256');
  const file = createWriteStream(dest);
  let received = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      received += chunk.length;
      if (received > expected.bytes) {
        throw new UserError(`${url}: more than the expected ${expected.bytes} bytes`);
      }
      hash.update(chunk);
      if (!file.write(chunk)) await new Promise<void>((r) => file.once('drain', () => r()));
      onChunk(received);
    }
  } finally {
    await new Promise<void>((resolve, reject) =>
      file.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
  }
  if (received !== expected.bytes) {
    throw new UserError(
      `${url}: received ${received} bytes, expected ${expected.bytes} (truncated download?)`,
    );
  }
  const digest = hash.digest('hex');
  if (digest !== expected.sha256) {
    throw new UserError(`${url}: SHA-256 ${digest} does not match the expected ${expected.sha256}`);
  }
}

/** Python's str.strip() for the ASCII whitespace that occurs in these files. */
const strip = (s: string): string => s.replace(/^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g, '');

/** Lines as Python's text-mode readline gives them (universal newlines), without line ends. */
function textLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/**
 * The MRPC split of `download_glue_data.py` (`format_mrpc`): rows of
 * msr_paraphrase_train.txt whose `#1 ID, #2 ID` pair is in dev_ids.tsv go to
 * dev.tsv, the rest to train.tsv, both after the train file's own header
 * line (BOM included); test.tsv gets an `index` column instead of the label.
 */
export function formatMrpc(
  trainText: string,
  testText: string,
  devIdsText: string,
): { train: string; dev: string; test: string } {
  const devIds = new Set(textLines(devIdsText).map((l) => strip(l).split('\t').join('\t')));
  const [trainHeader, ...trainRows] = textLines(trainText);
  const train: string[] = [trainHeader + '\n'];
  const dev: string[] = [trainHeader + '\n'];
  for (const row of trainRows) {
    const [label, id1, id2, s1, s2] = strip(row).split('\t');
    const out = `${label}\t${id1}\t${id2}\t${s1}\t${s2}\n`;
    (devIds.has(`${id1}\t${id2}`) ? dev : train).push(out);
  }
  const test: string[] = ['index\t#1 ID\t#2 ID\t#1 String\t#2 String\n'];
  textLines(testText)
    .slice(1)
    .forEach((row, i) => {
      const [, id1, id2, s1, s2] = strip(row).split('\t');
      test.push(`${i}\t${id1}\t${id2}\t${s1}\t${s2}\n`);
    });
  return { train: train.join(''), dev: dev.join(''), test: test.join('') };
}

/** Fetch one task into a staging directory and move its folder into `out`. */
async function fetchTask(
  task: GlueTaskName,
  downloads: readonly GlueDownload[],
  options: FetchGlueOptions,
): Promise<void> {
  const t = GLUE_TASKS[task];
  const base = (options.baseUrl ?? DEFAULT_GLUE_BASE_URL).replace(/\/+$/, '');
  const finalDir = join(options.out, t.dir);
  const staging = tempSibling(join(options.out, `fetch-${t.dir}`));
  await mkdir(join(staging, 'downloads'), { recursive: true });
  try {
    const taskDir = join(staging, 'root', t.dir);
    await mkdir(taskDir, { recursive: true });
    for (const d of downloads) {
      const url = `${base}/${d.path}`;
      const file = join(staging, 'downloads', d.path.split('/').pop()!);
      options.onProgress?.({ type: 'download', task, url, bytes: d.bytes });
      await download(url, file, d, (received) =>
        options.onProgress?.({ type: 'progress', task, url, received, bytes: d.bytes }),
      );
      if (d.kind === 'zip') {
        try {
          await extractZip(file, join(staging, 'root'));
        } catch (err) {
          if (err instanceof UserError) throw err;
          throw new UserError(`${url}: cannot unpack (${(err as Error).message})`);
        }
      } else {
        await rename(file, join(taskDir, d.saveAs ?? d.path.split('/').pop()!));
      }
    }
    if (task === 'mrpc') {
      const read = (f: string): Promise<string> => readFile(join(taskDir, f), 'utf8');
      const mrpc = formatMrpc(
        await read('msr_paraphrase_train.txt'),
        await read('msr_paraphrase_test.txt'),
        await read('dev_ids.tsv'),
      );
      await writeFile(join(taskDir, 'train.tsv'), mrpc.train);
      await writeFile(join(taskDir, 'dev.tsv'), mrpc.dev);
      await writeFile(join(taskDir, 'test.tsv'), mrpc.test);
    }
    const absent: string[] = [];
    for (const f of t.splits.map((s) => s.file))
      if (!(await pathExists(join(taskDir, f)))) absent.push(f);
    if (absent.length > 0) {
      throw new UserError(
        `glue/${task}: the downloaded archive has no ${t.dir}/${absent.join(`, ${t.dir}/`)} (unexpected archive layout)`,
      );
    }
    // Swap into place: the old incomplete folder (only with --force) is moved aside first, removed last.
    let aside: string | undefined;
    if (await pathExists(finalDir)) {
      aside = tempSibling(finalDir);
      await rename(finalDir, aside);
    }
    await rename(taskDir, finalDir);
    if (aside) await rm(aside, { recursive: true, force: true });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Download and unpack the requested GLUE tasks into `options.out`. Tasks
 * whose directory is already complete are left alone (`present`). A task
 * directory that exists but is incomplete is replaced only with `force`.
 * Each task is placed atomically: a failed or interrupted download leaves
 * no partial task directory behind.
 */
export async function fetchGlue(options: FetchGlueOptions): Promise<FetchGlueResult[]> {
  const manifest = options.manifest ?? GLUE_DOWNLOADS;
  await mkdir(options.out, { recursive: true });
  const results: FetchGlueResult[] = [];
  for (const task of options.tasks) {
    const dir = join(options.out, GLUE_TASKS[task].dir);
    if (await taskComplete(options.out, task)) {
      options.onProgress?.({ type: 'present', task, dir });
      results.push({ task, status: 'present', dir });
      continue;
    }
    if ((await pathExists(dir)) && !options.force) {
      throw new UserError(
        `${dir} exists but is incomplete (not every ${GLUE_TASKS[task].displayName} split file is there); --force replaces it`,
      );
    }
    const downloads = manifest[task];
    if (!downloads || downloads.length === 0)
      throw new UserError(`glue/${task}: nothing to download for this task`);
    await fetchTask(task, downloads, options);
    options.onProgress?.({ type: 'placed', task, dir });
    results.push({ task, status: 'downloaded', dir });
  }
  return results;
}
