import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { sm2Spki } from '../../main/core/pki/keys';
import { sm2RequestSigner } from '../../main/core/platform/request-signer';
import { JsapiService } from '../../main/core/bridge/jsapi-service';
import { startBridge } from '../../main/core/bridge/bridge-server';
import type { Bridge } from '../../main/core/bridge/bridge-server';
import {
  ScriptedApprovals,
  freshSignId,
  postJson,
  signed,
  startWorld,
} from '../helpers/agent-harness';
import type { World } from '../helpers/agent-harness';
import { tempDir } from '../helpers/dev-tokens';

const ORIGIN = 'https://seal.example.cn';

describe('a UKey pulled out while signature requests wait for it (through the bridge)', () => {
  let w: World;
  let bridge: Bridge;
  const caller = generateSm2KeyPair();
  const signer = sm2RequestSigner('demo-web', caller);
  const id = 'SUKDEMO0002';

  before(async () => {
    process.env.SOFTUKEY_SIGN_DELAY_MS = '150'; // as slow as a hardware key, so requests queue
    w = await startWorld({ pollIntervalMs: 100 });
    const app = { appId: 'demo-web', publicKey: sm2Spki(caller.publicKey), origins: [ORIGIN] };
    const apps = {
      get: (a: string) => (a === app.appId ? app : undefined),
      isOriginAllowed: () => true,
      isKnownOrigin: (o: string) => o === ORIGIN,
    };
    const service = new JsapiService({
      tokens: w.tokens,
      apps,
      platform: w.agentPlatform,
      host: new ScriptedApprovals(),
      policies: { consume: () => ({ id: 'p' }) },
    });
    bridge = await startBridge({
      service,
      apps,
      tokens: w.tokens,
      port: 0,
      ratePerSecond: 100,
      rateBurst: 100,
    });
  });
  after(async () => {
    await bridge.close();
    await w.close();
  });

  it('every waiting request answers 2001, none hangs, and the key serves again once re-plugged', async () => {
    const bodies = [];
    for (let i = 0; i < 6; i++) {
      bodies.push(
        await signed(signer, {
          ...(await freshSignId(w, id)),
          docHash: Buffer.alloc(32, i).toString('base64'),
          UKeyId: id,
        }),
      );
    }
    const pending = bodies.map((b) =>
      postJson(bridge.port, '/api/v1/ukey/sign', b, ORIGIN).then((r) => r.json.code),
    );
    await new Promise((r) => setTimeout(r, 400)); // the first signatures are under way, the rest queued
    const file = join(w.pki.dir, `${id}.suk`);
    const parked = join(tempDir('parked'), `${id}.suk`);
    renameSync(file, parked);
    const codes = await Promise.race([
      Promise.all(pending),
      new Promise<string[]>((_, rej) => setTimeout(() => rej(new Error('requests hung')), 5000)),
    ]);
    assert.ok(
      codes.every((c) => c === '0' || c === '2001'),
      codes.join(','),
    );
    assert.ok(codes.filter((c) => c === '2001').length >= 3, codes.join(','));
    assert.equal(w.tokens.pending(id), 0);
    renameSync(parked, file);
    await new Promise((r) => setTimeout(r, 400));
    const again = await postJson(
      bridge.port,
      '/api/v1/ukey/sign',
      await signed(signer, {
        ...(await freshSignId(w, id)),
        docHash: Buffer.alloc(32, 9).toString('base64'),
        UKeyId: id,
      }),
      ORIGIN,
    );
    assert.equal(again.json.code, '0', again.text);
  });
});
