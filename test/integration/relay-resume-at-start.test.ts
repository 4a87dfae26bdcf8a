// The long-running agent (serve / desktop) resumes, at start, the transfers a crash interrupted:
// a job left 'running' under the lease of a SIGKILLed process is taken over and completes with the
// right SM3, while a job another live process holds is left alone.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createOperatorStack } from '../../main/core/operator/operator-stack';
import type { OperatorStack } from '../../main/core/operator/operator-stack';
import { WebConsoleHost } from '../../main/core/operator/web-console-host';
import { createPlatformClient } from '../../main/core/platform/platform-client';
import { RelayJobStore } from '../../main/core/relay/job-store';
import { openAgentStore } from '../../main/core/store/agent-store';
import type { AgentStore } from '../../main/core/store/agent-store';
import { TokenService } from '../../main/core/token/token-service';
import { ScriptedHost } from '../helpers/scripted-host';
import { startFixture } from '../platform/fixture';
import type { Fixture } from '../platform/fixture';
import { sm3OfFile, writeGeneratedFile } from '../platform/relay-files';

describe('relay: the agent resumes interrupted transfers when it starts', () => {
  let fx: Fixture;
  let store: AgentStore;
  let tokens: TokenService;
  let stack: OperatorStack | undefined;

  before(async () => {
    fx = await startFixture();
    store = openAgentStore(join(fx.dir, 'agent'));
    tokens = new TokenService({ modules: [], host: new ScriptedHost({}), pollIntervalMs: 0 });
  });
  after(async () => {
    await stack?.close();
    tokens.close();
    store.close();
    await fx.close();
  });

  it(
    "takes over a dead process's job, leaves a live one's alone",
    { timeout: 60_000 },
    async () => {
      const src = join(fx.dir, 'interrupted.bin');
      await writeGeneratedFile(src, 3 * 1024 * 1024 + 17);
      const jobs = new RelayJobStore(store.db);
      const base = {
        kind: 'upload' as const,
        baseUrl: fx.platform.url,
        filename: 'interrupted.bin',
      };
      const orphan = jobs.add({ ...base, localPath: src });
      const held = jobs.add({ ...base, localPath: src });

      // A process that claimed the first job and was SIGKILLed; this process holds the second.
      const victim = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], {
        stdio: 'ignore',
      });
      await once(victim, 'spawn');
      assert.ok(jobs.claim(orphan.id, `${victim.pid}:crashed`, 30_000, () => true));
      victim.kill('SIGKILL');
      await once(victim, 'exit');
      assert.ok(jobs.claim(held.id, `${process.pid}:another-agent`, 30_000, () => true));

      stack = createOperatorStack({
        agent: { tokens, store },
        host: new WebConsoleHost(),
        dataDir: join(fx.dir, 'agent'),
        platform: {
          client: createPlatformClient({
            baseUrl: fx.platform.url,
            signer: fx.sm2.signer,
            platformKey: fx.platform.platformCertificate,
          }),
          baseUrl: fx.platform.url,
          signer: fx.sm2.signer,
        },
      });
      const done = await stack.relay!.waitFor(orphan.id);
      assert.equal(done.state, 'done', done.error ?? '');
      assert.equal(done.sm3, await sm3OfFile(src));
      // The job a live agent holds was not touched.
      const other = jobs.get(held.id)!;
      assert.equal(other.state, 'running');
      assert.equal(other.offset, 0);
    },
  );
});
