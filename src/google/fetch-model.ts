/**
 * `bert models fetch <name>`: download a google-research/bert zip into
 * `<cache>/models/downloads/<id>.zip.part`, resuming an interrupted download
 * with an HTTP Range request (or starting over when the server ignores it),
 * then check the zip, unpack its checkpoint into `<cache>/models/<id>/`, load
 * every tensor (checksums, names, shapes, vocabulary size) and write the
 * manifest last. The zip is removed once the checkpoint is in place.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdir, rm, rename, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { UserError } from '../errors.js';
import { writeDirAtomic } from '../io/atomic.js';
import { extractZipEntry, readZipEntries } from '../setup/zip.js';
import { checkpointZipEntries, GOOGLE_CONFIG, readGoogleDirectory } from './checkpoint.js';
import {
  cachedModelDir,
  GOOGLE_STORAGE,
  knownModel,
  MODEL_MANIFEST,
  modelDir,
  modelsCacheDir,
  type ModelManifest,
} from './models.js';

export type ModelFetchEvent =
  | { type: 'start'; url: string; resumeFrom: number }
  | { type: 'progress'; received: number; total: number | null }
  | { type: 'restart'; reason: string }
  | { type: 'verify'; dir: string };

export interface FetchModelOptions {
  name: string;
  /** Replaces https://storage.googleapis.com (a mirror, or a test server). */
  baseUrl?: string;
  env?: NodeJS.ProcessEnv;
  /** Download again even when the model is cached. */
  force?: boolean;
  onEvent?: (e: ModelFetchEvent) => void;
}

export interface FetchModelResult {
  name: string;
  dir: string;
  status: 'downloaded' | 'present';
  bytes: number;
}

/** The total size a response announces (Content-Range's "/N", else Content-Length + start). */
function announcedTotal(res: Response, start: number): number | null {
  const range = res.headers.get('content-range');
  const m = range ? /\/(\d+)$/.exec(range) : null;
  if (m) return Number(m[1]);
  const len = Number(res.headers.get('content-length') ?? NaN);
  return Number.isFinite(len) ? start + len : null;
}

/** Download `url` to `part`, continuing from its current length when the server honours Range. */
async function download(
  url: string,
  part: string,
  onEvent: (e: ModelFetchEvent) => void,
): Promise<number> {
  let start = existsSync(part) ? statSync(part).size : 0;
  let res: Response;
  try {
    res = await fetch(url, start > 0 ? { headers: { Range: `bytes=${start}-` } } : {});
  } catch (err) {
    throw new UserError(
      `${url}: download failed (${(err as Error).message}); check the network or --base-url`,
    );
  }
  if (start > 0 && res.status === 416) {
    // The part file already holds everything (or more): start over to be sure.
    await res.body?.cancel();
    onEvent({ type: 'restart', reason: 'the server refused the resume range' });
    await rm(part, { force: true });
    return download(url, part, onEvent);
  }
  if (start > 0 && res.status === 200) {
    onEvent({ type: 'restart', reason: 'the server does not resume (no HTTP Range support)' });
    start = 0;
  } else if (start > 0 && res.status === 206) {
    const from = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
    if (!from || Number(from[1]) !== start) {
      await res.body?.cancel();
      throw new UserError(
        `${url}: asked to resume at byte ${start}, got ${res.headers.get('content-range')}`,
      );
    }
  }
  if (!res.ok || !res.body)
    throw new UserError(`${url}: HTTP ${res.status} ${res.statusText}`.trimEnd());
  const total = announcedTotal(res, start);
  onEvent({ type: 'start', url, resumeFrom: start });
  const file = createWriteStream(part, { flags: start > 0 ? 'a' : 'w' });
  let received = start;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      received += chunk.length;
      if (!file.write(chunk)) await new Promise<void>((r) => file.once('drain', () => r()));
      onEvent({ type: 'progress', received, total });
    }
  } catch (err) {
    throw new UserError(
      `${url}: download interrupted at byte ${received} (${(err as Error).message}); run the command again to resume`,
    );
  } finally {
    await new Promise<void>((ok, fail) =>
      file.end((err?: Error | null) => (err ? fail(err) : ok())),
    );
  }
  if (total !== null && received !== total) {
    throw new UserError(
      `${url}: download stopped at ${received} of ${total} bytes; run the command again to resume`,
    );
  }
  return received;
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function fetchModel(options: FetchModelOptions): Promise<FetchModelResult> {
  const env = options.env ?? process.env;
  const onEvent = options.onEvent ?? (() => undefined);
  const model = knownModel(options.name);
  if (!model) {
    throw new UserError(`${options.name}: not a known model (bert models list shows the names)`);
  }
  const dir = modelDir(model.name, env);
  const cached = cachedModelDir(model.name, env);
  if (cached && !options.force)
    return { name: model.name, dir: cached, status: 'present', bytes: 0 };
  const base = (options.baseUrl ?? env.BERT_MODELS_BASE_URL ?? GOOGLE_STORAGE).replace(/\/+$/, '');
  const url = `${base}/${model.path}`;
  const downloads = join(modelsCacheDir(env), 'downloads');
  await mkdir(downloads, { recursive: true });
  const id = model.name.replace(/^google\//, '');
  const part = join(downloads, `${id}.zip.part`);
  const bytes = await download(url, part, onEvent);
  const zip = join(downloads, `${id}.zip`);
  await rename(part, zip);
  let entries;
  try {
    entries = await readZipEntries(zip);
  } catch (err) {
    await rm(zip, { force: true });
    throw new UserError(
      `${url}: the download is not a valid zip (${(err as Error).message}); run the command again`,
    );
  }
  const files = checkpointZipEntries(entries);
  if (!files) {
    await rm(zip, { force: true });
    throw new UserError(`${url}: the zip holds no ${GOOGLE_CONFIG} with a *.ckpt.index beside it`);
  }
  const digest = await sha256(zip);
  await rm(dir, { recursive: true, force: true });
  await writeDirAtomic(dir, async (tmp) => {
    for (const e of files) await extractZipEntry(zip, e, join(tmp, basename(e.name)));
    onEvent({ type: 'verify', dir });
    // Every tensor read back (CRC-32C), every name known, vocabulary and config consistent.
    await readGoogleDirectory(tmp, 'models fetch');
    const manifest: ModelManifest = {
      name: model.name,
      url,
      bytes,
      sha256: digest,
      fetched: new Date().toISOString(),
    };
    await writeFile(join(tmp, MODEL_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  });
  await rm(zip, { force: true });
  return { name: model.name, dir, status: 'downloaded', bytes };
}
