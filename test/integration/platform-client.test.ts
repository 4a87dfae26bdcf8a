// The agent's platform client against a misbehaving network: tampered or unsigned answers, no
// answer, no server, and which calls it repeats.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentError } from '../../main/common/errors';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { derToPem } from '../../main/core/pki/keys';
import {
  createPlatformClient,
  nextNonce,
  querySeals,
} from '../../main/core/platform/platform-client';
import { NONCE_LIMIT, signRequest } from '../../main/core/platform/canonical';
import { PLATFORM_PATHS } from '../../main/core/platform/types';
import { startFixture, ukeySealFiling } from '../platform/fixture';
import type { Fixture } from '../platform/fixture';

let fx: Fixture;
before(async () => {
  fx = await startFixture();
});
after(async () => {
  assert.deepEqual(fx.internalErrors, []);
  await fx.close();
});

interface Forwarded {
  status: number;
  sign: string | null;
  body: Buffer;
}
type Behaviour = (
  n: number,
  answer: () => Promise<Forwarded>,
) => Promise<Forwarded | 'reset' | 'hang'>;

/** A proxy in front of the platform that can alter, drop or withhold its answers. */
async function proxy(
  behaviour: Behaviour,
): Promise<{ url: string; seen: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      n++;
      const forward = async (): Promise<Forwarded> => {
        const r = await fetch(`${fx.platform.url}${req.url}`, {
          method: 'POST',
          headers: { 'content-type': req.headers['content-type'] ?? '' },
          body: Buffer.concat(chunks),
        });
        return {
          status: r.status,
          sign: r.headers.get('x-platform-sign'),
          body: Buffer.from(await r.arrayBuffer()),
        };
      };
      void behaviour(n, forward).then((out) => {
        if (out === 'reset') req.socket.destroy();
        else if (out !== 'hang') {
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (out.sign !== null) headers['x-platform-sign'] = out.sign;
          res.writeHead(out.status, headers).end(out.body);
        }
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen: () => n,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const expect3001 = async (p: Promise<unknown>, message: RegExp): Promise<void> => {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof AgentError, String(e));
    assert.equal(e.code, '3001', e.message);
    assert.match(e.message, message);
    assert.doesNotMatch(e.message, /127\.0\.0\.1|localhost|:\d{2,5}/, 'the host is not leaked');
    return true;
  });
};

describe('answer verification', () => {
  it('refuses a tampered body, a missing signature, and another key (3001)', async () => {
    const tamper = await proxy(async (_n, answer) => {
      const a = await answer();
      const text = a.body.toString().replace('"code":"0"', '"code":"0" ');
      return { ...a, body: Buffer.from(text) };
    });
    const strip = await proxy(async (_n, answer) => ({ ...(await answer()), sign: null }));
    try {
      await expect3001(
        fx
          .clientFor(fx.sm2.signer, { baseUrl: tamper.url })
          .querySeals({ orgCode: 'O', sealType: '0' }),
        /failed signature verification/,
      );
      assert.equal(tamper.seen(), 1, 'a bad signature is not retried');
      await expect3001(
        fx.clientFor(fx.sm2.signer, { baseUrl: strip.url }).fileSeal(ukeySealFiling()),
        /failed signature verification/,
      );
      await expect3001(
        fx
          .clientFor(fx.sm2.signer, { platformKey: generateSm2KeyPair().publicKey })
          .querySeals({ orgCode: 'O', sealType: '0' }),
        /failed signature verification/,
      );
      // Error envelopes are verified too: a forged refusal is not believed either.
      const forged = await proxy(async () => ({
        status: 403,
        sign: null,
        body: Buffer.from('{"code":"2005","message":"signId unknown","data":null}'),
      }));
      await expect3001(
        fx
          .clientFor(fx.sm2.signer, { baseUrl: forged.url })
          .verifySignId({ signId: 'x', sealCode: 'y', certNumber: '01' }),
        /failed signature verification/,
      );
      await forged.close();
    } finally {
      await tamper.close();
      await strip.close();
    }
  });

  it('accepts the platform key as a point, a certificate (DER or PEM)', async () => {
    for (const platformKey of [
      fx.platform.platformPublicKey,
      fx.platform.platformCertificate,
      derToPem(fx.platform.platformCertificate, 'CERTIFICATE'),
    ]) {
      const seals = await fx
        .clientFor(fx.sm2.signer, { platformKey })
        .querySeals({ orgCode: 'none', sealType: '0' });
      assert.deepEqual(seals, []);
    }
  });

  it('passes platform refusals through with their code and message', async () => {
    await assert.rejects(
      fx.sm2.client.setSealState({ sealCode: 'ES20990101NOPE000000', state: 4 }),
      (e: unknown) => e instanceof AgentError && e.code === '2006' && e.message === 'seal unknown',
    );
  });
});

describe('network failures', () => {
  it('maps a closed port to 3001 without naming the host', async () => {
    const gone = await proxy(async () => 'reset');
    const url = gone.url;
    await gone.close();
    await expect3001(
      fx
        .clientFor(fx.sm2.signer, { baseUrl: url, retry: { attempts: 1 } })
        .querySeals({ orgCode: 'O', sealType: '0' }),
      /could not be reached/,
    );
  });

  it('gives up after the configured timeout (3001)', async () => {
    const silent = await proxy(async () => 'hang');
    try {
      const started = Date.now();
      await expect3001(
        fx
          .clientFor(fx.sm2.signer, { baseUrl: silent.url, timeoutMs: 150 })
          .fileSeal(ukeySealFiling()),
        /did not answer within 1 s/,
      );
      assert.ok(Date.now() - started < 2_000);
      assert.equal(silent.seen(), 1);
    } finally {
      await silent.close();
    }
  });

  it('retries the query (fresh nonce each time) but never a filing, state change or sign-id check', async () => {
    const flaky = await proxy(async (n, answer) => (n <= 2 ? 'reset' : answer()));
    try {
      const config = {
        baseUrl: flaky.url,
        signer: fx.sm2.signer,
        platformKey: fx.platform.platformPublicKey,
        retry: { attempts: 3, baseDelayMs: 5 },
      };
      assert.deepEqual(await querySeals(config, { orgCode: 'O', sealType: '0' }), []);
      assert.equal(flaky.seen(), 3);
    } finally {
      await flaky.close();
    }
    const once = await proxy(async () => 'reset');
    try {
      const client = fx.clientFor(fx.sm2.signer, { baseUrl: once.url });
      await expect3001(client.fileSeal(ukeySealFiling()), /could not be reached/);
      await expect3001(client.setSealState({ sealCode: 'S', state: 4 }), /could not be reached/);
      await expect3001(
        client.verifySignId({ signId: 'x', sealCode: 'S', certNumber: '01' }),
        /could not be reached/,
      );
      assert.equal(once.seen(), 3, 'one try each');
      await expect3001(client.querySeals({ orgCode: 'O', sealType: '0' }), /could not be reached/);
      assert.equal(once.seen(), 6, 'three tries for the query');
    } finally {
      await once.close();
    }
  });

  it('nonces never repeat within a process; a nonce another process took (1004) is sent again once, with the next one — even for a filing', async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) seen.add(nextNonce());
    assert.equal(seen.size, 10_000);
    // Another process of the same app takes the nonce this one will use next.
    const taken = (nextNonce() + 1) % NONCE_LIMIT;
    const raw = await signRequest(
      {
        orgCode: 'O',
        sealType: '0',
        version: '1.0',
        appId: fx.sm2.signer.appId,
        time: String(Date.now()),
        nonce: taken,
      },
      fx.sm2.signer,
    );
    const first = await fetch(`${fx.platform.url}${PLATFORM_PATHS.query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(raw),
    });
    assert.equal(((await first.json()) as { code: string }).code, '0');
    const counting = await proxy(async (_n, answer) => answer());
    try {
      const client = fx.clientFor(fx.sm2.signer, { baseUrl: counting.url });
      const sealCode = await client.fileSeal(ukeySealFiling());
      assert.match(sealCode, /^ES/);
      assert.equal(counting.seen(), 2, 'refused once with 1004, then filed with the next nonce');
    } finally {
      await counting.close();
    }
  });

  it('retries an unsigned 503 from a proxy but not a signed refusal', async () => {
    const busy = await proxy(async (n, answer) =>
      n === 1 ? { status: 503, sign: null, body: Buffer.from('busy') } : answer(),
    );
    try {
      const client = fx.clientFor(fx.sm2.signer, { baseUrl: busy.url });
      assert.deepEqual(await client.querySeals({ orgCode: 'O', sealType: '0' }), []);
      assert.equal(busy.seen(), 2);
      await assert.rejects(
        client.querySeals({ orgCode: '', sealType: '0' }),
        (e: unknown) => e instanceof AgentError && e.code === '1001',
      );
      assert.equal(busy.seen(), 3);
    } finally {
      await busy.close();
    }
  });

  it('refuses a bad base URL or platform key up front (1001)', () => {
    const key = fx.platform.platformPublicKey;
    for (const [baseUrl, platformKey] of [
      ['http://x', 'nope'],
      ['not a url', key],
      ['file:///etc', key],
    ] as const)
      assert.throws(
        () => createPlatformClient({ baseUrl, signer: fx.sm2.signer, platformKey }),
        (e: unknown) => e instanceof AgentError && e.code === '1001',
      );
  });
});
