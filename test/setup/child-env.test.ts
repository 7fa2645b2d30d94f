import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childEnv } from '../../src/setup/commands.js';
import { INJECTED_NODE_ENV } from '../../src/ui/react-env.js';

test('tools spawned by setup do not inherit the NODE_ENV the dashboard injected (npm would prune devDependencies)', () => {
  const env = childEnv({ PATH: '/bin', NODE_ENV: 'production', [INJECTED_NODE_ENV]: '1' });
  assert.equal(env.NODE_ENV, undefined);
  assert.equal(env[INJECTED_NODE_ENV], undefined);
  assert.equal(env.PATH, '/bin');
});

test("a user's own NODE_ENV is passed on untouched", () => {
  const env = childEnv({ PATH: '/bin', NODE_ENV: 'production' });
  assert.equal(env.NODE_ENV, 'production');
});
