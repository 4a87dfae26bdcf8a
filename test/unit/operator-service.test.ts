import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../../main/common/errors';
import type { OperatorApi, OperatorMethod } from '../../main/common/operator-api';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { selfSignedCa } from '../../main/core/pki/issue';
import { derToPem, sm2Spki } from '../../main/core/pki/keys';
import { softwareSm2Provider } from '../../main/core/pki/signer';
import { openAgentStore } from '../../main/core/store/agent-store';
import type { AgentStore } from '../../main/core/store/agent-store';
import { TokenService } from '../../main/core/token/token-service';
import type { UKeyInfo } from '../../main/core/token/token-service';
import { platformView } from '../../main/core/operator/module-inventory';
import { makeSoftUKey } from '../helpers/dev-tokens';
import { createOperatorService, unwiredMethods } from '../../main/core/operator/operator-service';
import type { OperatorServiceDeps } from '../../main/core/operator/operator-service';

const root = mkdtempSync(join(tmpdir(), 'desktop-operator-'));
let store: AgentStore;
let api: OperatorApi;
let deps: OperatorServiceDeps;
const tokenCalls: unknown[][] = [];
const NOW = 1_750_000_000_000;

const ukey: UKeyInfo = {
  ukeyId: 'k1',
  label: 'Alice',
  manufacturer: 'Soft',
  model: 'SM2',
  vendor: { id: 'soft', name: 'Software UKey' },
  development: true,
  tokenInitialized: true,
  pin: { initialized: true, countLow: false, finalTry: false, locked: false, soLocked: false },
  loggedIn: false,
  module: '/usr/lib/libsoftukey.so',
};

before(() => {
  store = openAgentStore(root);
  const tokens = {
    list: () => [ukey],
    deleteObjects: async (...a: unknown[]) => (tokenCalls.push(['delete', ...a]), 3),
    changePin: async (...a: unknown[]) => void tokenCalls.push(['changePin', ...a]),
    initUserPin: async (...a: unknown[]) => void tokenCalls.push(['initUserPin', ...a]),
    generateKeyPair: async () => {
      throw new AgentError('2007', 'this UKey cannot generate SM2 keys');
    },
  } as unknown as OperatorServiceDeps['tokens'];
  deps = {
    tokens,
    store,
    approvals: { pending: () => [], decide: async () => undefined },
    now: () => NOW,
  };
  api = createOperatorService(deps);
});
after(() => {
  store.close();
  rmSync(root, { recursive: true, force: true });
});

const auditOf = (iface: string) =>
  store.audit.entries({ limit: 10_000 }).filter((e) => e.interface === iface);

describe('operator service', () => {
  it('lists keys as plain views (no module path)', async () => {
    const [k] = await api['keys.list']({});
    assert.equal(k!.ukeyId, 'k1');
    assert.equal('module' in k!, false);
    assert.equal('soLocked' in k!.pin, false);
  });

  it('runs key changes through the token service as audited operator actions', async () => {
    assert.deepEqual(await api['keys.delete']({ ukeyId: 'k1', label: 'old' }), { deleted: 3 });
    assert.equal(await api['keys.changePin']({ ukeyId: 'k1' }), null);
    assert.equal(await api['keys.unblockPin']({ ukeyId: 'k1' }), null);
    assert.deepEqual(tokenCalls, [
      ['delete', 'k1', 'old'],
      ['changePin', 'k1'],
      ['initUserPin', 'k1'],
    ]);
    await assert.rejects(
      api['keys.generate']({ ukeyId: 'k1', algorithm: 'sm2', label: 'x' }),
      (e: unknown) => e instanceof AgentError && e.code === '2007',
    );
    assert.equal(auditOf('keys.delete')[0]!.resultCode, '0');
    assert.equal(auditOf('keys.generate')[0]!.resultCode, '2007');
  });

  it('adds, lists and revokes trusted apps and policies', async () => {
    const spki = sm2Spki(generateSm2KeyPair().publicKey);
    const app = await api['apps.add']({
      appId: 'oa',
      name: 'OA',
      publicKey: derToPem(spki, 'PUBLIC KEY'),
      origins: ['https://oa.example.cn'],
    });
    assert.equal(app.publicKey, spki.toString('base64'));
    assert.equal(app.keyAlgorithm, 'sm2');
    await assert.rejects(
      api['apps.add']({ appId: 'x', publicKey: 'not base64!', origins: ['https://x.cn'] }),
      /PEM or base64 DER/,
    );
    const p = await api['policies.add']({
      appId: 'oa',
      sealCode: 'S1',
      maxCount: 3,
      ttlMs: 3_600_000,
      origin: 'https://oa.example.cn',
    });
    assert.equal(p.active, true);
    assert.equal(p.expiresAt, NOW + 3_600_000);
    assert.deepEqual(
      (await api['policies.list']({})).map((x) => x.id),
      [p.id],
    );
    assert.equal((await api['policies.revoke']({ id: p.id })).active, false);
    assert.deepEqual(await api['policies.list']({}), []);
    assert.equal((await api['apps.revoke']({ appId: 'oa' })).revokedAt, NOW);
    assert.equal((await api['apps.list']({}))[0]!.appId, 'oa');
    assert.equal(auditOf('apps.add').length, 1); // malformed input never reaches the store
    assert.equal(auditOf('apps.add')[0]!.appId, 'oa');
  });

  it('gets and sets settings through their checks', async () => {
    assert.equal((await api['settings.get']({})).jsapiPort, 18788);
    assert.equal((await api['settings.set']({ key: 'autoStart', value: true })).autoStart, true);
    await assert.rejects(
      api['settings.set']({ key: 'jsapiPort', value: 80 }),
      (e: unknown) => e instanceof AgentError && e.code === '1001',
    );
  });

  it('searches, verifies and exports the audit log', async () => {
    const all = await api['audit.search']({});
    assert.ok(all.entries.length >= 5);
    assert.equal(all.nextAfterSeq, null);
    const failed = await api['audit.search']({ failuresOnly: true });
    assert.ok(failed.entries.every((e) => e.resultCode !== '0'));
    assert.ok(failed.entries.length >= 2);
    const page = await api['audit.search']({ limit: 2 });
    assert.equal(page.entries.length, 2);
    const next = await api['audit.search']({ afterSeq: page.nextAfterSeq!, limit: 2 });
    assert.equal(next.entries[0]!.seq, page.entries[1]!.seq + 1);
    assert.equal((await api['audit.verify']({})).ok, true);
    const exp = await api['audit.export']({ format: 'jsonl' });
    assert.equal(exp.content.trim().split('\n').length, exp.entries);
    const csv = await api['audit.export']({ format: 'csv' });
    assert.equal(csv.content.trim().split('\n').length, csv.entries + 1);
    await assert.rejects(api['audit.export']({ format: 'csv', from: 2, to: 1 }), /from must not/);
  });

  it('answers 5000 "not available in this build" for unwired platform and relay methods', async () => {
    const unwired = unwiredMethods(deps);
    assert.ok(unwired.includes('seals.query') && unwired.includes('relay.upload'));
    for (const m of unwired) {
      await assert.rejects(
        (api[m] as (r: unknown) => Promise<unknown>)({}),
        (e: unknown) =>
          e instanceof AgentError &&
          e.code === '5000' &&
          e.message === 'not available in this build',
        m,
      );
    }
    // Injected functions are used when present.
    const wired = createOperatorService({
      ...deps,
      relay: {
        list: async () => [],
        upload: async () => {
          throw new AgentError('3001', 'relay down');
        },
        download: async () => {
          throw new Error('unused');
        },
        pause: async () => {
          throw new Error('unused');
        },
        resume: async () => {
          throw new Error('unused');
        },
        cancel: async () => {
          throw new Error('unused');
        },
      },
    });
    assert.deepEqual(await wired['relay.list']({}), []);
    await assert.rejects(wired['relay.upload']({ localPath: '/tmp/a' }), /relay down/);
    assert.equal(
      unwiredMethods({ ...deps, relay: {} as never }).includes('relay.list' as OperatorMethod),
      false,
    );
  });

  it('lists the modules and vendor profiles the token service loaded (settings.modules)', async () => {
    await makeSoftUKey('SUKINV0001', 'Inventory');
    const profileDir = join(root, 'profiles');
    mkdirSync(profileDir);
    writeFileSync(
      join(profileDir, 'acme.json'),
      JSON.stringify({
        id: 'acme-ukey',
        name: 'ACME SM2 UKey',
        libraryPaths: { [process.platform]: ['/nonexistent/libacme.so'] },
        usb: [{ vendorId: '0x096e', productId: '0x0309' }],
      }),
    );
    // SoftHSM cannot initialise without its config: auto-discovery skips it, with the reason.
    const conf = process.env.SOFTHSM2_CONF;
    process.env.SOFTHSM2_CONF = join(root, 'no-such-softhsm2.conf');
    const tokens = new TokenService({
      profileDir,
      host: {} as never,
      pollIntervalMs: 0,
      loginIdleMs: 0,
    });
    if (conf === undefined) delete process.env.SOFTHSM2_CONF;
    else process.env.SOFTHSM2_CONF = conf;
    try {
      const real = createOperatorService({ ...deps, tokens });
      const view = await real['settings.modules']({});
      assert.equal(view.profileDir, profileDir);
      const suk = view.modules.find((m) => m.profileId === 'softukey');
      assert.ok(suk?.loaded, JSON.stringify(view.modules));
      assert.match(suk.path, /libsoftukey\.(so|dylib|dll)$/);
      assert.match(suk.manufacturer ?? '', /^SoftUKey/);
      const hsm = view.modules.find((m) => m.profileId === 'softhsm2');
      if (hsm) {
        assert.equal(hsm.loaded, false);
        assert.match(hsm.error ?? '', /softhsm2/i);
        assert.ok(!hsm.error!.includes('/'), 'the reason names no path');
      }
      const byId = new Map(view.profiles.map((p) => [p.id, p]));
      assert.deepEqual([...byId.keys()].sort(), ['acme-ukey', 'softhsm2', 'softukey']);
      assert.equal(byId.get('softukey')!.source, 'builtin');
      assert.equal(byId.get('softukey')!.sm2, true);
      assert.equal(byId.get('softukey')!.development, true);
      assert.equal(byId.get('softukey')!.library, suk.path);
      const acme = byId.get('acme-ukey')!;
      assert.equal(acme.source, 'operator');
      assert.equal(acme.library, undefined);
      assert.deepEqual(acme.libraryPaths, ['/nonexistent/libacme.so']);
      assert.deepEqual(acme.usb, [{ vendorId: 0x096e, productId: 0x0309 }]);
      assert.equal(acme.sm2, false);
    } finally {
      tokens.close();
    }
  });

  it('shows the platform in use with its certificate (settings.platform)', async () => {
    const notAfter = new Date(NOW + 365 * 86_400_000);
    const cert = await selfSignedCa({
      subject: 'CN=E-seal Platform,O=Example,C=CN',
      signer: softwareSm2Provider(generateSm2KeyPair()),
      notBefore: new Date(NOW),
      notAfter,
    });
    const wired = createOperatorService({
      ...deps,
      platformInfo: async () =>
        platformView({
          connected: true,
          reason: 'unused',
          url: 'https://platform.example.cn',
          appId: 'agent-1',
          certificate: cert,
        }),
    });
    const v = await wired['settings.platform']({});
    assert.equal(v.connected, true);
    assert.equal(v.reason, undefined);
    assert.equal(v.appId, 'agent-1');
    assert.match(v.certificate!.subject, /CN=E-seal Platform/);
    assert.equal(v.certificate!.notAfter, Math.floor(notAfter.getTime() / 1000) * 1000);
    assert.match(v.certificate!.sha256, /^[0-9a-f]{64}$/);
    // Not connected: the reason, and no certificate when the key given is not one.
    const missing = platformView({ connected: false, reason: 'locked', url: null });
    assert.deepEqual(missing, { connected: false, reason: 'locked', url: null });
    assert.equal(
      platformView({ connected: true, url: 'https://p', certificate: Buffer.alloc(65, 4) })
        .certificate,
      undefined,
    );
    assert.ok(unwiredMethods(deps).includes('settings.platform'));
  });
});
