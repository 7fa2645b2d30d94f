// `npm run quickstart`: the whole pipeline on the data shipped in data/, in a few minutes on a laptop CPU.
//   1. pretrain BERT-Tiny on data/corpus/sample.txt for 2 minutes (QUICKSTART_MINUTES) of training
//      with the shipped budget recipe (tokenized into shards on first use), sentence-order
//      prediction in place of NSP: with three books, NSP learns which book a sentence is from
//   2. fine-tune it on the SST-2 sample in data/glue (4 epochs) and evaluate on SST-2 dev
//   3. export the fine-tuned model as a HuggingFace directory
// Everything goes under runs/quickstart*/ and exported/quickstart-sst2/ (replaced on each run).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bert = (args) => {
  console.log(`\n$ bert ${args.join(' ')}`);
  const r = spawnSync(process.execPath, ['bin/bert.js', ...args], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`quickstart: \`bert ${args[0]}\` exited with ${r.status}`);
    process.exit(r.status ?? 1);
  }
};

// The shipped 30-minute recipe (configs/pretrain/tiny-30min.yaml) at a 2-minute budget, on the sample
// corpus. The sample has three documents (books), so a NotNext segment from another book (all of
// NSP's, half of the recipe's) comes from one of two and NSP memorises them (README, "Set up");
// sentence order needs no other document.
const minutes = process.env.QUICKSTART_MINUTES ?? '2';
bert(['env']);
bert([
  'pretrain',
  '--config',
  'configs/pretrain/tiny-30min.yaml',
  '--run',
  'runs/quickstart',
  '--max-minutes',
  minutes,
  '--set',
  'data.corpus=["data/corpus/sample.txt"]',
  '--set',
  'data.heldout_corpus=null',
  '--set',
  'train.eval_every=100',
  '--set',
  'train.save_every=null',
  '--set',
  'train.objective=mlm+sop',
  '--force',
]);
bert([
  'finetune',
  'glue/sst2',
  '--from',
  'runs/quickstart/checkpoints/latest',
  '--run',
  'runs/quickstart-sst2',
  '--config',
  'configs/finetune/glue.yaml',
  '--set',
  'train.epochs=4',
  '--set',
  'train.lr=5e-4',
  '--force',
]);
bert(['eval', '--checkpoint', 'runs/quickstart-sst2/checkpoints/best']);
rmSync(new URL('../exported/quickstart-sst2', import.meta.url), { recursive: true, force: true });
bert([
  'export',
  '--checkpoint',
  'runs/quickstart-sst2/checkpoints/best',
  '--format',
  'hf',
  '--out',
  'exported/quickstart-sst2',
]);
console.log(
  '\nquickstart: done. Runs in runs/quickstart*/, the HuggingFace model in exported/quickstart-sst2/.',
);
