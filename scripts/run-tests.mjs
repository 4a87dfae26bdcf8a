// Runs the compiled tests of one suite (unit | integration | all) with node's test runner.
// Usage: node scripts/run-tests.mjs <suite> [name-filter]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const suite = process.argv[2] ?? 'all';
const filter = process.argv[3];
const roots = suite === 'all' ? ['unit', 'integration'] : [suite];
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js') && (!filter || p.includes(filter))) files.push(p);
  }
};
for (const r of roots) {
  try {
    walk(join('dist', 'test', r));
  } catch {
    /* suite not present */
  }
}
if (files.length === 0) {
  console.error(`no test files for suite ${suite}`);
  process.exit(1);
}
files.sort();
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const res = spawnSync(
  process.execPath,
  ['--enable-source-maps', '--test', `--test-concurrency=${concurrency}`, ...files],
  { stdio: 'inherit' },
);
process.exit(res.status ?? 1);
