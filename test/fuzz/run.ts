// `npm run fuzz`: the long property-based run of the hardening fuzzers (100k cases in all by
// default; FUZZ_CASES sets the total, FUZZ_SEED the seed). Prints cases run and failures.
import { startHardenedAgent } from '../hardening/agent-world';
import { fuzzTarget } from '../hardening/fuzz';
import type { FuzzTarget } from '../hardening/fuzz';

async function main(): Promise<void> {
  const total = Number(process.env.FUZZ_CASES ?? 100_000);
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000_007);
  const targets: FuzzTarget[] = ['status', 'ukey/info', 'ukey/sign', 'ws'];
  const per = Math.ceil(total / targets.length);
  const h = await startHardenedAgent();
  let failures = 0;
  let cases = 0;
  const t0 = Date.now();
  try {
    for (const [i, target] of targets.entries()) {
      const r = await fuzzTarget(h, target, per, seed + i);
      cases += r.cases;
      failures += r.failures.length;
      process.stdout.write(
        `${target.padEnd(10)} ${r.cases} cases in ${(r.ms / 1000).toFixed(1)} s, ${r.failures.length} failures; codes ${JSON.stringify(r.codes)}\n`,
      );
      for (const f of r.failures) process.stdout.write(`  FAIL ${f}\n`);
    }
    const internal = h.internal.length;
    failures += internal;
    for (const m of h.internal) process.stdout.write(`  INTERNAL ${m}\n`);
    const audit = h.agent.store.audit.verify();
    if (!audit.ok) failures++;
    process.stdout.write(
      `fuzz: ${cases} cases, ${failures} failures, seed ${seed}, ${((Date.now() - t0) / 1000).toFixed(1)} s, audit ${audit.ok ? 'verifies' : 'DOES NOT VERIFY'} (${audit.entries} entries)\n`,
    );
  } finally {
    await h.close();
  }
  process.exitCode = failures ? 1 : 0;
}

void main();
