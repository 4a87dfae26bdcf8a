import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { TokenService } from '../../main/core/token/token-service';
import { AgentError } from '../../main/common/errors';
import { provisionSoftUKey } from '../../main/cli/commands/softukey';
import { ScriptedHost } from '../helpers/scripted-host';
import { makeSoftUKey, tempDir } from '../helpers/dev-tokens';
import type { SoftUKeyFixture } from '../helpers/dev-tokens';

const code = (e: unknown): string =>
  e instanceof AgentError ? e.code : `not an AgentError: ${String(e)}`;
const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`${what} not within ${ms} ms`)), ms)),
  ]);

describe('hot-plug and a key pulled out with requests queued', () => {
  let fx: SoftUKeyFixture;
  let svc: TokenService;
  const parked = tempDir('parked');

  before(async () => {
    // A slow key (as hardware is) so that requests pile up behind each other.
    process.env.SOFTUKEY_SIGN_DELAY_MS = '150';
    fx = await makeSoftUKey('SUKPLUG01', 'Plug Key');
    svc = new TokenService({
      modules: [fx.lib],
      host: new ScriptedHost({ user: fx.pin }),
      pollIntervalMs: 100,
      loginIdleMs: 60_000,
    });
    await svc.generateKeyPair(fx.serial, 'sm2', 'k');
  });
  after(() => svc.close());

  it('sees a key plugged in and pulled out within 1 s', async () => {
    const inserted = once(svc, 'inserted');
    const t0 = Date.now();
    await provisionSoftUKey({
      dir: fx.dir,
      serial: 'SUKPLUG02',
      label: 'Second',
      pin: '123456',
      soPin: '12345678',
    });
    const [ev] = await within(inserted, 1000, 'inserted event');
    assert.deepEqual(ev, { ukeyId: 'SUKPLUG02' });
    const removed = once(svc, 'removed');
    renameSync(join(fx.dir, 'SUKPLUG02.suk'), join(parked, 'SUKPLUG02.suk'));
    const [ev2] = await within(removed, 1000, 'removed event');
    assert.deepEqual(ev2, { ukeyId: 'SUKPLUG02' });
    assert.ok(Date.now() - t0 < 2000);
    assert.deepEqual(
      svc.list().map((k) => k.ukeyId),
      ['SUKPLUG01'],
    );
  });

  it('fails every queued request with 2001 when the key is pulled, and serves the key again when re-plugged', async () => {
    const jobs = Array.from({ length: 6 }, (_, i) =>
      svc
        .sign({
          ukeyId: fx.serial,
          key: { label: 'k' },
          message: Buffer.from(`m${i}`),
          hash: 'sm3',
          reason: 'q',
        })
        .then(
          () => 'ok',
          (e: unknown) => code(e),
        ),
    );
    await new Promise((r) => setTimeout(r, 200)); // the first signature is under way
    assert.ok(svc.pending(fx.serial) >= 4, `queued: ${svc.pending(fx.serial)}`);
    const file = join(fx.dir, `${fx.serial}.suk`);
    const saved = join(parked, 'saved.suk');
    copyFileSync(file, saved);
    renameSync(file, join(parked, 'pulled.suk'));
    const outcomes = await within(Promise.all(jobs), 3000, 'queued requests to settle');
    const failed = outcomes.filter((o) => o === '2001').length;
    assert.ok(failed >= 4, `outcomes ${outcomes.join(',')}`);
    assert.ok(
      outcomes.every((o) => o === 'ok' || o === '2001'),
      `outcomes ${outcomes.join(',')}`,
    );
    assert.equal(svc.pending(fx.serial), 0, 'nothing is left stuck');

    const back = once(svc, 'inserted');
    copyFileSync(saved, file);
    await within(back, 3000, 're-plug event');
    const r = await svc.sign({
      ukeyId: fx.serial,
      key: { label: 'k' },
      message: Buffer.from('again'),
      hash: 'sm3',
      reason: 'q',
    });
    assert.equal(r.algorithm, 'sm2');
  });
});
