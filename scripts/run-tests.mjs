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
// Suites that load both cores on purpose (load, crash, long transfers) and the browser-driven UI
// flows run alone afterwards: their CPU use would skew the timing checks (hot-plug within 1 s …)
// of the others, and a browser under a loaded CPU misses its waits.
const heavy = /hardening-(load|crash)|relay-crash|operator-ui|demo-web-flow|console-browser/;
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const totals = { pass: 0, fail: 0 };
/** Runs one phase, echoing its report and adding its closing counts to the totals. */
const run = (list, conc) => {
  if (list.length === 0) return 0;
  const r = spawnSync(
    process.execPath,
    ['--enable-source-maps', '--test', `--test-concurrency=${conc}`, ...list],
    { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 },
  );
  process.stdout.write(r.stdout ?? '');
  process.stderr.write(r.stderr ?? '');
  totals.pass += Number(/^# pass (\d+)$/m.exec(r.stdout ?? '')?.[1] ?? 0);
  totals.fail += Number(/^# fail (\d+)$/m.exec(r.stdout ?? '')?.[1] ?? 0);
  return r.status ?? 1;
};
const first = run(
  files.filter((f) => !heavy.test(f)),
  concurrency,
);
const second = run(
  files.filter((f) => heavy.test(f)),
  '1',
);
// One closing line for the whole suite (both phases).
console.log(`${totals.pass} passed, ${totals.fail} failed`);
process.exit(first || second || (totals.fail > 0 ? 1 : 0));
