import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../../../src/errors.js';
import {
  fetchGlue,
  formatMrpc,
  GLUE_DOWNLOADS,
  type GlueDownload,
  type GlueFetchManifest,
} from '../../../src/tasks/glue/fetch.js';
import { GLUE_TASKS } from '../../../src/tasks/glue/tasks.js';
import { readGlueSplit } from '../../../src/tasks/glue/reader.js';
import { buildZip } from '../../helpers/zip.js';
import { GLUE_COPY, GLUE_DIR } from './data.js';
import { inTempDir } from '../../helpers/temp-dir.js';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Files the local server serves, by URL path. */
const served = new Map<string, Buffer>();
const hits: string[] = [];
let server: Server;
let baseUrl = '';
let manifest: GlueFetchManifest = {};
/** The GLUE files the server is built from, by path under the GLUE root. */
const glueFiles: Record<string, Buffer> = {};

function entry(path: string, kind: 'zip' | 'file', saveAs?: string): GlueDownload {
  const body = served.get(`/${path}`)!;
  return { path, bytes: body.length, sha256: sha256(body), kind, ...(saveAs ? { saveAs } : {}) };
}

/**
 * Rebuild the MRPC sources download_glue_data.py starts from: the SentEval
 * msr_paraphrase_{train,test}.txt (CRLF line ends, dev and train rows
 * interleaved; the header with its BOM) and the dev id list.
 */
function mrpcSources(
  train: Buffer,
  dev: Buffer,
  testFile: Buffer,
): { train: Buffer; test: Buffer; devIds: Buffer } {
  const lines = (b: Buffer): string[] =>
    b
      .toString('utf8')
      .split('\n')
      .filter((l) => l.length > 0);
  const [header, ...trainRows] = lines(train);
  const devRows = lines(dev).slice(1);
  const mixed: string[] = [];
  for (let i = 0; i < Math.max(trainRows.length, devRows.length); i++) {
    if (i < devRows.length) mixed.push(devRows[i]!);
    if (i < trainRows.length) mixed.push(trainRows[i]!);
  }
  const devIds = devRows.map((r) => r.split('\t').slice(1, 3).join('\t'));
  const testRows = lines(testFile)
    .slice(1)
    .map((r) => ['0', ...r.split('\t').slice(1)].join('\t'));
  return {
    train: Buffer.from([header, ...mixed].join('\r\n') + '\r\n'),
    test: Buffer.from(
      ['\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String', ...testRows].join('\r\n') + '\r\n',
    ),
    devIds: Buffer.from(['#1 ID\t#2 ID', ...devIds].join('\n') + '\n'),
  };
}

before(async () => {
  for (const f of [
    'RTE/train.tsv',
    'RTE/dev.tsv',
    'RTE/test.tsv',
    'WNLI/train.tsv',
    'WNLI/dev.tsv',
    'WNLI/test.tsv',
    'MRPC/train.tsv',
    'MRPC/dev.tsv',
    'MRPC/test.tsv',
    'diagnostic/diagnostic.tsv',
  ]) {
    glueFiles[f] = await readFile(join(GLUE_DIR, f));
  }
  served.set(
    '/glue/data/RTE.zip',
    buildZip([
      { name: 'RTE/' },
      ...['train', 'dev', 'test'].map((s) => ({
        name: `RTE/${s}.tsv`,
        data: glueFiles[`RTE/${s}.tsv`]!,
      })),
    ]),
  );
  served.set(
    '/glue/data/WNLI.zip',
    buildZip(
      ['train', 'dev', 'test'].map((s) => ({
        name: `WNLI/${s}.tsv`,
        data: glueFiles[`WNLI/${s}.tsv`]!,
        method: 0 as const,
      })),
    ),
  );
  served.set('/glue/data/AX.tsv', glueFiles['diagnostic/diagnostic.tsv']!);
  const mrpc = mrpcSources(
    glueFiles['MRPC/train.tsv']!,
    glueFiles['MRPC/dev.tsv']!,
    glueFiles['MRPC/test.tsv']!,
  );
  served.set('/senteval/senteval_data/msr_paraphrase_train.txt', mrpc.train);
  served.set('/senteval/senteval_data/msr_paraphrase_test.txt', mrpc.test);
  served.set('/glue/data/mrpc_dev_ids.tsv', mrpc.devIds);
  served.set(
    '/glue/data/CoLA.zip',
    buildZip([{ name: 'cola_public/raw.tsv', data: Buffer.from('x') }]),
  );
  manifest = {
    rte: [entry('glue/data/RTE.zip', 'zip')],
    wnli: [entry('glue/data/WNLI.zip', 'zip')],
    ax: [entry('glue/data/AX.tsv', 'file', 'diagnostic.tsv')],
    mrpc: [
      entry('senteval/senteval_data/msr_paraphrase_train.txt', 'file', 'msr_paraphrase_train.txt'),
      entry('senteval/senteval_data/msr_paraphrase_test.txt', 'file', 'msr_paraphrase_test.txt'),
      entry('glue/data/mrpc_dev_ids.tsv', 'file', 'dev_ids.tsv'),
    ],
    cola: [entry('glue/data/CoLA.zip', 'zip')],
  };
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const body = served.get(req.url ?? '');
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-length': body.length,
      'content-type': 'application/octet-stream',
    });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

after(async () => {
  if (server) await new Promise<void>((r) => server.close(() => r()));
});

test('fetch from a local server: RTE/WNLI zips, AX file and MRPC are placed byte-identical to the GLUE copy', async () => {
  await inTempDir('glue-fetch-', async (out) => {
    const events: string[] = [];
    const results = await fetchGlue({
      tasks: ['rte', 'wnli', 'mrpc', 'ax'],
      out,
      baseUrl,
      manifest,
      onProgress: (e) => events.push(`${e.type}:${e.task}`),
    });
    assert.deepEqual(
      results.map((r) => [r.task, r.status]),
      [
        ['rte', 'downloaded'],
        ['wnli', 'downloaded'],
        ['mrpc', 'downloaded'],
        ['ax', 'downloaded'],
      ],
    );
    for (const [f, bytes] of Object.entries(glueFiles)) {
      assert.deepEqual(await readFile(join(out, f)), bytes, `${f} differs from the ${GLUE_COPY}`);
    }
    assert.ok(events.includes('placed:mrpc'));
    const dev = await readGlueSplit(out, GLUE_TASKS.mrpc, 'dev');
    const source = await readGlueSplit(GLUE_DIR, GLUE_TASKS.mrpc, 'dev');
    assert.deepEqual(dev.examples, source.examples);
    assert.ok(dev.examples.length > 0);
    // Nothing but the task folders is left in the output root (no staging leftovers).
    assert.deepEqual((await readdir(out)).sort(), ['MRPC', 'RTE', 'WNLI', 'diagnostic']);
  });
});

test('a complete task directory is kept and not downloaded again', async () => {
  await inTempDir('glue-fetch-', async (out) => {
    await fetchGlue({ tasks: ['wnli'], out, baseUrl, manifest });
    const before = hits.length;
    const again = await fetchGlue({ tasks: ['wnli'], out, baseUrl, manifest });
    assert.deepEqual(
      again.map((r) => r.status),
      ['present'],
    );
    assert.equal(hits.length, before);
  });
});

test('a size mismatch is a UserError and leaves no partial task directory', async () => {
  await inTempDir('glue-fetch-', async (out) => {
    const bad = { rte: [{ ...manifest.rte![0]!, bytes: manifest.rte![0]!.bytes + 1 }] };
    await assert.rejects(
      fetchGlue({ tasks: ['rte'], out, baseUrl, manifest: bad }),
      (err: Error) => {
        assert.ok(err instanceof UserError);
        assert.match(err.message, /RTE\.zip: server announces \d+ bytes, expected \d+/);
        return true;
      },
    );
    assert.deepEqual(await readdir(out), []);
  });
});

test('a SHA-256 mismatch is a UserError', async () => {
  await inTempDir('glue-fetch-', async (out) => {
    const bad = { wnli: [{ ...manifest.wnli![0]!, sha256: '0'.repeat(64) }] };
    await assert.rejects(
      fetchGlue({ tasks: ['wnli'], out, baseUrl, manifest: bad }),
      /WNLI\.zip: SHA-256 [0-9a-f]{64} does not match/,
    );
    assert.deepEqual(await readdir(out), []);
  });
});

test('an archive without the task folder, or an HTTP error, is a clear UserError', async () => {
  await inTempDir('glue-fetch-', async (out) => {
    await assert.rejects(
      fetchGlue({ tasks: ['cola'], out, baseUrl, manifest }),
      /glue\/cola: the downloaded archive has no CoLA\/train\.tsv/,
    );
    const missing = {
      sst2: [
        { path: 'glue/data/SST-2.zip', bytes: 1, sha256: '0'.repeat(64), kind: 'zip' as const },
      ],
    };
    await assert.rejects(
      fetchGlue({ tasks: ['sst2'], out, baseUrl, manifest: missing }),
      /SST-2\.zip: HTTP 404/,
    );
    assert.deepEqual(await readdir(out), []);
  });
});

test('an incomplete existing task directory is replaced only with force', async () => {
  await inTempDir('glue-fetch-', async (out) => {
    await mkdir(join(out, 'RTE'));
    await writeFile(join(out, 'RTE', 'MISSING.txt'), 'nothing here');
    await assert.rejects(
      fetchGlue({ tasks: ['rte'], out, baseUrl, manifest }),
      /RTE exists but is incomplete.*--force replaces it/,
    );
    assert.deepEqual(await readdir(join(out, 'RTE')), ['MISSING.txt']);
    await fetchGlue({ tasks: ['rte'], out, baseUrl, manifest, force: true });
    assert.deepEqual((await readdir(join(out, 'RTE'))).sort(), [
      'dev.tsv',
      'test.tsv',
      'train.tsv',
    ]);
  });
});

test('formatMrpc splits by dev ids and keeps the header line (with its BOM) for train and dev', () => {
  const train =
    '\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\n1\t1\t2\ta "x"\tb\r\n0\t3\t4\tc\td \r\n';
  const test = 'Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\n1\t5\t6\te\tf\r\n';
  const out = formatMrpc(train, test, '#1 ID\t#2 ID\n3\t4\n');
  assert.equal(out.train, '\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\ta "x"\tb\n');
  assert.equal(out.dev, '\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n0\t3\t4\tc\td\n');
  assert.equal(out.test, 'index\t#1 ID\t#2 ID\t#1 String\t#2 String\n0\t5\t6\te\tf\n');
});

test('the default manifest points at the download_glue_data.py archives', () => {
  const paths = Object.values(GLUE_DOWNLOADS).flatMap((d) => d!.map((x) => x.path));
  for (const p of [
    'glue/data/CoLA.zip',
    'glue/data/SST-2.zip',
    'glue/data/QQP-clean.zip',
    'glue/data/STS-B.zip',
    'glue/data/MNLI.zip',
    'glue/data/QNLIv2.zip',
    'glue/data/RTE.zip',
    'glue/data/WNLI.zip',
    'glue/data/AX.tsv',
    'senteval/senteval_data/msr_paraphrase_train.txt',
  ]) {
    assert.ok(paths.includes(p), p);
  }
  for (const d of Object.values(GLUE_DOWNLOADS).flat()) assert.match(d!.sha256, /^[0-9a-f]{64}$/);
});
