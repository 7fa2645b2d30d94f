import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assembleRows, formatRows, median, torchVersion } from '../../bench/train-table.js';

test('median of odd and even counts', () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), /no values/);
});

test('torchVersion orders peers by major.minor', () => {
  assert.ok(torchVersion('pytorch 2.13.0+cpu') > torchVersion('pytorch 1.13.1'));
  assert.ok(torchVersion('pytorch 2.13.0') > torchVersion('pytorch 2.2.0'));
});

test('rows: median, spread, ratio against the newest peer at the same threads, MFU', () => {
  const rows = assembleRows(
    [
      { size: 'tiny', variant: 'ours', threads: 1, peer: false, msPerStep: [300, 100, 200] },
      { size: 'tiny', variant: 'pytorch 2.13.0', threads: 1, peer: true, msPerStep: [400, 400] },
      { size: 'tiny', variant: 'pytorch 1.13.1', threads: 1, peer: true, msPerStep: [100] },
      { size: 'tiny', variant: 'ours', threads: 2, peer: false, msPerStep: [100] },
      { size: 'mini', variant: 'ours', threads: 1, peer: false, msPerStep: [1000] },
      { size: 'mini', variant: 'skipped', threads: 1, peer: false, msPerStep: [] },
    ],
    {
      tokensPerStep: 2000,
      flopsPerStep: new Map([['tiny', 10e9]]),
      peakGflops: new Map([[1, 100]]),
    },
  );
  assert.equal(rows.length, 5);
  const [ours, peer2, peer1, ours2, mini] = rows;
  assert.equal(ours.medianMs, 200);
  assert.equal(ours.minMs, 100);
  assert.equal(ours.maxMs, 300);
  assert.equal(ours.repeats, 3);
  assert.equal(ours.tokensPerS, 10_000);
  // Against PyTorch 2 (median 400 ms → 5,000 tokens/s), not the faster PyTorch 1.
  assert.equal(ours.ratio, 2);
  assert.equal(peer2.ratio, 1);
  assert.equal(peer1.ratio, 4);
  // 10 GFLOP in 0.2 s = 50 GFLOP/s of a 100 GFLOP/s peak.
  assert.equal(ours.mfu, 0.5);
  // No peer at 2 threads, no peak at 2 threads, no FLOP count for mini.
  assert.equal(ours2.ratio, null);
  assert.equal(ours2.mfu, null);
  assert.equal(mini.mfu, null);
  assert.equal(mini.ratio, null);
  const text = formatRows(rows).join('\n');
  assert.match(text, /BERT-tiny:/);
  assert.match(text, /BERT-mini:/);
  assert.match(text, /200 \(100–300\)\s+10000\s+2\.00×\s+50\.0%/);
});

test('formatRows: another time unit and a sequences/s column', () => {
  const rows = assembleRows(
    [
      { size: 'tiny', variant: 'ours', threads: 1, peer: false, msPerStep: [200] },
      { size: 'tiny', variant: 'pytorch 2.13.0', threads: 1, peer: true, msPerStep: [400] },
    ],
    { tokensPerStep: 2048, flopsPerStep: new Map(), peakGflops: new Map() },
  );
  const text = formatRows(rows, { per: 'batch', seqLength: 128 }).join('\n');
  assert.match(text, /ms\/batch \(min–max\)\s+tokens\/s\s+seqs\/s\s+ratio/);
  // 2048 tokens in 0.2 s = 10,240 tokens/s = 80 sequences of 128 per second.
  assert.match(text, /200 \(200–200\)\s+10240\s+80\.0\s+2\.00×\s+—/);
  assert.match(text, /400 \(400–400\)\s+5120\s+40\.0\s+peer/);
});
