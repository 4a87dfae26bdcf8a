import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { PairingService } from '../../main/core/bridge/pairing';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { sm2Spki } from '../../main/core/pki/keys';
import { signRequest } from '../../main/core/platform/canonical';
import { SqliteNonceStore } from '../../main/core/platform/nonce-store';
import { sm2RequestSigner } from '../../main/core/platform/request-signer';
import { openAgentStore } from '../../main/core/store/agent-store';
import { notifyPairings } from '../../main/desktop/pairing-notifications';
import { tempDir } from '../helpers/dev-tokens';

describe('pairing notifications', () => {
  it('a pairing request raises a notice naming the origin as sent and the app; a click opens the app', async () => {
    const dir = tempDir('pairing-notes');
    const store = openAgentStore(dir);
    const shown: { title: string; body: string }[] = [];
    let clicks = 0;
    class Note {
      private click: (() => void) | undefined;
      constructor(readonly o: { title: string; body: string }) {}
      show(): void {
        shown.push(this.o);
        this.click?.();
      }
      close(): void {}
      on(_e: 'click', l: () => void): void {
        this.click = l;
      }
    }
    const pairing = new PairingService({
      apps: store.apps,
      nonces: new SqliteNonceStore(store.db),
    });
    const stop = notifyPairings(pairing, Note, { onClick: () => clicks++ });
    try {
      const key = generateSm2KeyPair();
      const bodyWith = (nonce: number) =>
        signRequest(
          {
            version: '1.0',
            appId: 'notes.app',
            appName: '票据系统',
            publicKey: sm2Spki(key.publicKey).toString('base64'),
            time: String(Date.now()),
            nonce,
          },
          sm2RequestSigner('notes.app', key),
        );
      const body = await bodyWith(1);
      const answer = pairing.request(body, 'https://bills.example.cn');
      assert.equal(shown.length, 1);
      assert.match(shown[0]!.title, /配对请求/);
      assert.match(shown[0]!.body, /^https:\/\/bills\.example\.cn\n/);
      assert.match(shown[0]!.body, /notes\.app（票据系统）/);
      assert.equal(clicks, 1);
      pairing.decide(pairing.list()[0]!.pairingId, 'declined');
      await assert.rejects(answer);
      stop();
      const again = pairing.request(await bodyWith(2), 'https://bills.example.cn');
      assert.equal(pairing.list().length, 1, 'the second request waits');
      assert.equal(shown.length, 1, 'stopped: no more notices');
      pairing.close();
      await assert.rejects(again);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
