/**
 * `bert models fetch|list` against a local HTTP server (no network): an
 * interrupted download resumes with an HTTP Range request, a server without
 * Range support makes it start over, a broken zip is refused, the cached
 * checkpoint loads as `google/<name>`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { UserError } from '../../src/errors.js';
import { useTestBackend } from '../helpers/tf.js';
import { fetchModel, type ModelFetchEvent } from '../../src/google/fetch-model.js';
import { knownModel, MODEL_MANIFEST, KNOWN_MODELS } from '../../src/google/models.js';
import { loadBertDirectory } from '../../src/export/load.js';
import { disposeParams } from '../../src/model/params.js';
import { buildZip } from '../helpers/zip.js';
import { FIXTURE } from './helpers.js';

const NAME = 'google/bert_uncased_L-2_H-128_A-2';
const PATH = `/${knownModel(NAME)!.path}`;

let scratch = '';
let server: Server;
let base = '';
let zip: Buffer = Buffer.alloc(0);
/** What the server does with the next requests. */
const mode = { cutAfter: -1, ranges: true, body: null as Buffer | null };
const seen: Array<{ range: string | undefined }> = [];
const savedCache = process.env.BERT_CACHE_DIR;

before(async () => {
  await useTestBackend();
  scratch = await mkdtemp(join(tmpdir(), 'bert-models-'));
  process.env.BERT_CACHE_DIR = join(scratch, 'cache');
  // The small-BERT zips hold the files at the top level.
  zip = buildZip(
    readdirSync(FIXTURE).map((f) => ({ name: f, data: readFileSync(join(FIXTURE, f)) })),
  );
  server = createServer((req, res) => {
    seen.push({ range: req.headers.range });
    if (req.url !== PATH) {
      res.writeHead(404).end();
      return;
    }
    const body = mode.body ?? zip;
    const m = mode.ranges ? /^bytes=(\d+)-$/.exec(req.headers.range ?? '') : null;
    const start = m ? Number(m[1]) : 0;
    const headers: Record<string, string | number> = { 'content-length': body.length - start };
    if (m) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(m ? 206 : 200, headers);
    if (mode.cutAfter >= 0) {
      // The connection drops mid-download.
      res.write(body.subarray(start, start + mode.cutAfter), () => res.destroy());
      mode.cutAfter = -1;
      return;
    }
    res.end(body.subarray(start));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise<void>((ok) => server.close(() => ok()));
  if (savedCache === undefined) delete process.env.BERT_CACHE_DIR;
  else process.env.BERT_CACHE_DIR = savedCache;
  await rm(scratch, { recursive: true, force: true });
});

test('the known list has the 24 small BERTs, Base/Large cased/uncased and multilingual-cased', () => {
  assert.equal(KNOWN_MODELS.length, 29);
  assert.equal(KNOWN_MODELS.filter((m) => m.path.includes('2020_02_20')).length, 24);
  assert.ok(KNOWN_MODELS.every((m) => m.hidden / m.heads === 64));
  assert.equal(
    knownModel('google/bert_uncased_L-4_H-512_A-8')?.path,
    'bert_models/2020_02_20/uncased_L-4_H-512_A-8.zip',
  );
  assert.equal(
    knownModel('google/bert-base-multilingual-cased')?.path,
    'bert_models/2018_11_23/multi_cased_L-12_H-768_A-12.zip',
  );
});

test('an interrupted download resumes with a Range request; the checkpoint is checked and cached', async () => {
  await assert.rejects(
    loadBertDirectory(NAME, { flag: '--from', require: 'exact' }),
    /not downloaded yet \(run: bert models fetch google\/bert_uncased_L-2_H-128_A-2\)/,
  );
  mode.cutAfter = 100_000;
  seen.length = 0;
  await assert.rejects(
    fetchModel({ name: NAME, baseUrl: base }),
    (e: Error) => e instanceof UserError && /run the command again to resume/.test(e.message),
  );
  const part = join(scratch, 'cache', 'models', 'downloads', 'bert_uncased_L-2_H-128_A-2.zip.part');
  // What arrived before the connection dropped (some of the 100,000 bytes sent) is kept.
  const kept = readFileSync(part).length;
  assert.ok(kept > 0 && kept <= 100_000, `${kept} bytes kept`);
  const events: ModelFetchEvent[] = [];
  const r = await fetchModel({ name: NAME, baseUrl: base, onEvent: (e) => events.push(e) });
  assert.equal(r.status, 'downloaded');
  assert.equal(r.bytes, zip.length);
  assert.deepEqual(
    seen.map((s) => s.range),
    [undefined, `bytes=${kept}-`],
  );
  assert.deepEqual(
    events.find((e) => e.type === 'start'),
    { type: 'start', url: `${base}${PATH}`, resumeFrom: kept },
  );
  assert.ok(
    events.some(
      (e) => e.type === 'progress' && e.received === zip.length && e.total === zip.length,
    ),
  );
  const manifest = JSON.parse(readFileSync(join(r.dir, MODEL_MANIFEST), 'utf8')) as {
    sha256: string;
  };
  assert.equal(manifest.sha256, createHash('sha256').update(zip).digest('hex'));
  assert.ok(!existsSync(part));
  const again = await fetchModel({ name: NAME, baseUrl: base });
  assert.equal(again.status, 'present');
  const loaded = await loadBertDirectory(NAME, { flag: '--from', require: 'exact' });
  assert.equal(loaded.dir, r.dir);
  assert.equal(loaded.config.hidden_size, 32);
  disposeParams(loaded.model.params);
});

test('a server without Range support: the download starts over; a broken zip is refused', async () => {
  mode.ranges = false;
  const downloads = join(scratch, 'cache', 'models', 'downloads');
  mkdirSync(downloads, { recursive: true });
  writeFileSync(join(downloads, 'bert_uncased_L-2_H-128_A-2.zip.part'), zip.subarray(0, 5000));
  const events: ModelFetchEvent[] = [];
  const r = await fetchModel({
    name: NAME,
    baseUrl: base,
    force: true,
    onEvent: (e) => events.push(e),
  });
  assert.equal(r.status, 'downloaded');
  assert.equal(r.bytes, zip.length);
  assert.ok(events.some((e) => e.type === 'restart'));
  mode.body = Buffer.from('<html>not found</html>');
  await assert.rejects(fetchModel({ name: NAME, baseUrl: base, force: true }), /not a valid zip/);
  mode.body = buildZip([{ name: 'README.txt', data: Buffer.from('hello') }]);
  await assert.rejects(
    fetchModel({ name: NAME, baseUrl: base, force: true }),
    /holds no bert_config\.json with a \*\.ckpt\.index/,
  );
  mode.body = null;
  mode.ranges = true;
  await assert.rejects(
    fetchModel({ name: 'google/bert-tiny', baseUrl: base }),
    /not a known model \(bert models list shows the names\)/,
  );
});

/** Run the CLI without blocking this process (the server answers from here). */
function bertAsync(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((ok) => {
    const child = spawn(process.execPath, [join(packageRoot, 'bin', 'bert.js'), ...args], {
      cwd: packageRoot,
      env: process.env,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => ok({ code, out, err }));
  });
}

test('bert models fetch shows progress and list shows what is cached', async () => {
  const r = await bertAsync('models', 'fetch', NAME, '--base-url', base, '--force');
  assert.equal(r.code, 0, r.err);
  assert.match(
    r.err,
    /downloading http:\/\/127\.0\.0\.1:\d+\/bert_models\/2020_02_20\/uncased_L-2_H-128_A-2\.zip/,
  );
  assert.match(r.err, /100%/);
  assert.match(r.out, /checkpoint checked, in /);
  const list = await bertAsync('models', 'list', '--json');
  assert.equal(list.code, 0, list.err);
  const rows = list.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { name: string; cached: string | null });
  assert.equal(rows.length, 29);
  assert.deepEqual(
    rows.filter((x) => x.cached).map((x) => x.name),
    [NAME],
  );
});
