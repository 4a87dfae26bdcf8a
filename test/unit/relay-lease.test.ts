// Relay job leases: two agents on one database (serve and a CLI) never run the same job; a job
// whose agent was SIGKILLed is taken over at once; an expired lease is taken over; the loser of a
// takeover learns it when it renews.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { leaseOwnerAlive } from '../../main/core/relay/agent';
import { RelayJobStore } from '../../main/core/relay/job-store';
import { openAgentStore } from '../../main/core/store/agent-store';
import { tempDir } from '../helpers/dev-tokens';

function jobsAt(clock: { now: number }) {
  const store = openAgentStore(tempDir('relay-lease'));
  const jobs = new RelayJobStore(store.db, () => clock.now);
  const job = jobs.add({ kind: 'upload', baseUrl: 'http://127.0.0.1:1', localPath: '/tmp/x' });
  return { store, jobs, id: job.id };
}

const alive = (): boolean => true;
const dead = (): boolean => false;

describe('relay job leases', () => {
  it('one agent runs a job; another live agent cannot claim it', () => {
    const clock = { now: 1_000 };
    const { store, jobs, id } = jobsAt(clock);
    assert.equal(jobs.claim(id, 'A', 30_000, alive), true);
    assert.equal(jobs.get(id)!.state, 'running');
    assert.equal(jobs.claim(id, 'B', 30_000, alive), false);
    // Renewing keeps it; the owner may claim again (resume in the same agent).
    clock.now += 20_000;
    assert.equal(jobs.renew(id, 'A', 30_000), true);
    clock.now += 20_000;
    assert.equal(jobs.claim(id, 'B', 30_000, alive), false);
    assert.equal(jobs.claim(id, 'A', 30_000, alive), true);
    store.close();
  });

  it('an expired lease or a dead owner is taken over; the old owner then fails to renew', () => {
    const clock = { now: 1_000 };
    const { store, jobs, id } = jobsAt(clock);
    assert.equal(jobs.claim(id, 'A', 30_000, alive), true);
    assert.equal(jobs.claim(id, 'B', 30_000, dead), true, 'owner gone: taken over at once');
    assert.equal(jobs.renew(id, 'A', 30_000), false);
    clock.now += 31_000;
    assert.equal(jobs.claim(id, 'C', 30_000, alive), true, 'lease expired');
    jobs.release(id, 'B'); // not B's any more: no effect
    assert.equal(jobs.renew(id, 'C', 30_000), true);
    store.close();
  });

  it('settled jobs are never claimed', () => {
    const clock = { now: 1_000 };
    const { store, jobs, id } = jobsAt(clock);
    for (const state of ['paused', 'done', 'failed', 'canceled'] as const) {
      jobs.update(id, { state });
      assert.equal(jobs.claim(id, 'A', 30_000, alive), false, state);
    }
    store.close();
  });

  it('knows a SIGKILLed agent process is gone', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], {
      stdio: 'ignore',
    });
    await once(child, 'spawn');
    const owner = `${child.pid}:abc`;
    assert.equal(leaseOwnerAlive(owner), true);
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.equal(leaseOwnerAlive(owner), false);
    assert.equal(leaseOwnerAlive('garbage'), false);
    assert.equal(leaseOwnerAlive(`${process.pid}:me`), true);
  });
});
