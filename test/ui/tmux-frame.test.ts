/**
 * Frames captured from a real terminal (scripts/tmux-capture.sh, an 80x24
 * tmux pane) and kept as fixtures: tmux-*-live.txt mid-run, tmux-*-stopped.txt
 * after pressing q. The demo ones come from `npm run bench -- ui --demo`;
 * tmux-pretrain-tiny-live.txt from
 *   scripts/tmux-capture.sh -a 70 -o … -- node bin/bert.js pretrain -c configs/pretrain/tiny.yaml
 * (WASM backend, 2 busy cores: ~4 s a step), and tmux-pretrain-tiny-completed.txt
 * from the same with `--max-steps 20 --set train.log_every=1` and BERT_UI_STATS=1
 * (its last line is that report, printed after the dashboard closed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';

const DIR = join(packageRoot, 'test', 'ui', 'fixtures');
const frames = readdirSync(DIR).filter((f) => /^tmux-.*\.txt$/.test(f));

test('there are captured terminal frames', () => {
  assert.ok(frames.some((f) => f.endsWith('-live.txt')));
  assert.ok(frames.some((f) => f.endsWith('-stopped.txt')));
});

for (const name of frames) {
  const lines = readFileSync(join(DIR, name), 'utf8').replace(/\n+$/, '').split('\n');

  test(`${name}: the dashboard fits an 80x24 terminal in one frame`, () => {
    assert.ok(lines.length <= 24, `${lines.length} rows`);
    for (const line of lines) assert.ok([...line].length <= 80, `too wide: ${line}`);
    const tops = lines.filter((l) => l.startsWith('╭'));
    const bottoms = lines.filter((l) => l.startsWith('╰'));
    // Exactly one frame: a repaint that scrolled or duplicated would show two.
    assert.equal(tops.length, 1);
    assert.equal(bottoms.length, 1);
    assert.equal(lines.indexOf(tops[0]), 0);
  });

  test(`${name}: shows progress, ETA, loss, curve, lr, throughput, data and memory`, () => {
    const text = lines.join('\n');
    assert.match(text, /bert pretrain · run \S+ · backend \w+/);
    assert.match(text, /progress\s+[█░]+\s+\d+\.\d% [\d,]+\/[\d,]+ ep \d/);
    assert.match(text, /elapsed \d+[smhd]( \d+[smh])? · ETA (\d+[smhd]( \d+[smh])?|--)/);
    assert.match(text, /loss\s+\d+\.\d+\s+ema \d+\.\d+/);
    assert.match(text, /curve\s+[▁▂▃▄▅▆▇█]{2,}/);
    assert.match(text, /lr \d\.\d\de-\d/);
    assert.match(text, /tok\/s · [\d.]+k? ex\/s/);
    assert.match(text, /queue (\d+|--)\s+wait [\d.]+ ms/);
    assert.match(text, /rss [\d.]+ [KMG]iB/);
    if (name.endsWith('-stopped.txt')) {
      assert.match(text, /stopped after/);
      assert.match(text, /checkpoint/);
    } else if (name.endsWith('-completed.txt')) {
      assert.match(text, /100\.0% (\d+)\/\1 /);
      assert.match(text, /completed after/);
      assert.match(text, /checkpoint\s+\S+step-\d+/);
    } else {
      assert.match(text, /q \/ Ctrl-C: stop gracefully/);
    }
  });
}
