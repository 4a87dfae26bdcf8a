// The desktop composition (main/desktop/main.ts) run with fake Electron objects over a real agent
// (software UKeys), a real identity in the encrypted key store and the reference platform over real
// HTTP: the passphrase is asked in the PIN window (kind 'passphrase'), a wrong one is asked again,
// the right one wires the platform methods and the JSAPI's signId check; three wrong or a cancel
// leave the platform out with the reason on the tray; no identity answers the clear 3001 with no
// prompt at all.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type {
  OperatorReply,
  PendingApprovalView,
  OutboxItemView,
  PinPromptView,
  SealOperationView,
  SealView,
} from '../../main/common/operator-api';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { sm2Spki } from '../../main/core/pki/keys';
import { importAgentIdentity } from '../../main/core/platform/agent-identity';
import { sm2RequestSigner } from '../../main/core/platform/request-signer';
import { TokenService } from '../../main/core/token/token-service';
import { provisionDemoPki } from '../../main/cli/commands/demo-pki';
import type { DemoUKey } from '../../main/cli/commands/demo-pki';
import { softukeyLibrary } from '../../main/cli/commands/softukey';
import { startDesktop } from '../../main/desktop/main';
import type { DesktopApp, ElectronMain } from '../../main/desktop/main';
import type { MenuItemTemplate, TrayLike } from '../../main/desktop/electron-types';
import { IDENTITY_NOT_CONFIGURED, IDENTITY_UNLOCKING } from '../../main/desktop/platform-identity';
import { postJson, signed } from '../helpers/agent-harness';
import type { HttpAnswer } from '../helpers/agent-harness';
import { tempDir } from '../helpers/dev-tokens';
import { ScriptedHost } from '../helpers/scripted-host';
import { startFixture, ukeySealFiling } from '../platform/fixture';
import type { Fixture } from '../platform/fixture';
import { FakeIpcMain, FakeSession, FakeWindow } from '../unit/desktop-fakes.test';

const PASS = 'correct horse battery staple';
const ORG = '91110000MA00000001'; // the fixture's sm2-app

class FakeTray implements TrayLike {
  tooltip = '';
  menu: MenuItemTemplate[] = [];
  destroyed = false;
  setImage(): void {}
  setToolTip(t: string): void {
    this.tooltip = t;
  }
  setContextMenu(m: unknown): void {
    this.menu = (m as { template: MenuItemTemplate[] }).template;
  }
  on(): this {
    return this;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

interface Shell {
  e: ElectronMain;
  ipc: FakeIpcMain;
  trays: FakeTray[];
  quits: number;
}

/** URLs the shell handed to the system browser (shell.openExternal). */
const opened: string[] = [];

function fakeElectron(dataDir: string): Shell {
  const ipc = new FakeIpcMain();
  const trays: FakeTray[] = [];
  const shell: Shell = { e: undefined as unknown as ElectronMain, ipc, trays, quits: 0 };
  class Tray extends FakeTray {
    constructor() {
      super();
      trays.push(this);
    }
  }
  class Notification {
    static isSupported(): boolean {
      return false;
    }
    show(): void {}
    close(): void {}
    on(): this {
      return this;
    }
  }
  shell.e = {
    app: {
      requestSingleInstanceLock: () => true,
      on: () => undefined,
      whenReady: () => Promise.resolve(),
      getPath: () => dataDir,
      quit: () => void shell.quits++,
      setLoginItemSettings: () => undefined,
      getLoginItemSettings: () => ({ openAtLogin: false }),
    },
    BrowserWindow: FakeWindow,
    ipcMain: ipc,
    Menu: { buildFromTemplate: (template) => ({ template }) },
    Tray,
    Notification,
    shell: {
      openExternal: (url: string) => {
        opened.push(url);
        return Promise.resolve();
      },
    },
    session: { defaultSession: new FakeSession() },
    protocol: { registerSchemesAsPrivileged: () => undefined, handle: () => undefined },
    net: { fetch: () => Promise.resolve(undefined) },
  };
  return shell;
}

let fx: Fixture;
let ukey: DemoUKey;
let userPin: string;
let sealCode: string;
const running: { app: DesktopApp; shell: Shell }[] = [];
const ORIGIN = 'https://seal.example.cn';
const caller = generateSm2KeyPair();
const callerSigner = sm2RequestSigner('desktop-web', caller);

before(async () => {
  fx = await startFixture();
  const pki = await provisionDemoPki(tempDir('desktop-composition-tokens'));
  process.env.SOFTUKEY_DIR = pki.dir;
  ukey = pki.ukeys.find((k) => k.module === 'softukey')!;
  userPin = pki.pin;
  sealCode = await fx.sm2.client.fileSeal(
    ukeySealFiling({ UKeyId: ukey.ukeyId, certNumber: ukey.signCertSerial }),
  );
});
beforeEach(() => {
  FakeWindow.created = [];
});
after(async () => {
  for (const r of running) await r.app.quit();
  assert.deepEqual(fx.internalErrors, []);
  await fx.close();
});

async function importIdentity(dataDir: string): Promise<void> {
  await importAgentIdentity(dataDir, PASS, {
    appId: fx.sm2.appId,
    key: fx.sm2.key,
    platformUrl: fx.platform.url,
    platformCert: fx.platform.platformCertificate,
  });
}

async function start(dataDir: string): Promise<{ app: DesktopApp; shell: Shell }> {
  const shell = fakeElectron(dataDir);
  const app = await startDesktop(shell.e, {
    jsapiPort: 0,
    modules: [softukeyLibrary()],
    autostartDir: join(dataDir, 'autostart'),
    argv: [],
    platformClient: { retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 } },
    log: () => undefined,
  });
  assert.ok(app, 'the desktop started');
  const r = { app, shell };
  running.push(r);
  return r;
}

/** An IPC call from the main window, as its renderer would make it. */
async function call<T>(shell: Shell, method: string, request: unknown): Promise<OperatorReply<T>> {
  const main = FakeWindow.created.find((w) => w.loaded.some((u) => u.endsWith('/index.html')));
  assert.ok(main, 'the main window is open');
  return (await shell.ipc.invoke(
    `operator:${method}`,
    { sender: main.webContents, senderFrame: { url: 'app://ukey-agent/index.html', parent: null } },
    request,
  )) as OperatorReply<T>;
}

async function ok<T>(shell: Shell, method: string, request: unknown): Promise<T> {
  const r = await call<T>(shell, method, request);
  assert.equal(r.code, '0', `${method}: ${r.message}`);
  return r.data as T;
}

/** The next passphrase prompt other than `seen` (the agent asks after checking the last answer). */
async function nextPrompt(shell: Shell, seen: string[] = []): Promise<PinPromptView> {
  for (let i = 0; i < 500; i++) {
    const p = (await ok<PinPromptView[]>(shell, 'pins.pending', {})).find(
      (v) => !seen.includes(v.requestId),
    );
    if (p) return p;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('no passphrase prompt');
}

/** A JSAPI signature request from the trusted web app (added through the operator API). */
async function jsapiSign(app: DesktopApp, shell: Shell): Promise<HttpAnswer> {
  if (
    !(await ok<{ appId: string }[]>(shell, 'apps.list', {})).some((a) => a.appId === 'desktop-web')
  )
    await ok(shell, 'apps.add', {
      appId: 'desktop-web',
      publicKey: sm2Spki(caller.publicKey).toString('base64'),
      origins: [ORIGIN],
    });
  const seal = (
    await fx.sm2.client.querySeals({ orgCode: ORG, sealType: '0', UKeyId: ukey.ukeyId })
  ).find((x) => x.sealCode === sealCode);
  assert.ok(seal);
  const body = await signed(callerSigner, {
    signId: seal.signId,
    sealCode,
    docHash: Buffer.alloc(32, 7).toString('base64'),
    UKeyId: ukey.ukeyId,
  });
  return postJson(app.jsapiPort, '/api/v1/ukey/sign', body, ORIGIN);
}

const trayText = (shell: Shell): string =>
  shell.trays
    .at(-1)!
    .menu.map((i) => i.label ?? '')
    .join('\n');

describe('desktop composition: platform identity in the encrypted key store', () => {
  it('asks the passphrase in the PIN window, asks again after a wrong one, then wires the platform', async () => {
    const dataDir = tempDir('desktop-identity');
    await importIdentity(dataDir);
    const { app, shell } = await start(dataDir);

    // While the prompt waits, platform methods say why, and so does the signId check (3001).
    const early = await call(shell, 'seals.query', { orgCode: ORG, sealType: '0' });
    assert.equal(early.code, '3001');
    assert.equal(early.message, IDENTITY_UNLOCKING);
    assert.equal((await call(shell, 'keys.list', {})).code, '0', 'the rest works meanwhile');
    const refused = await jsapiSign(app, shell);
    assert.equal(refused.json.code, '3001', refused.text);
    assert.equal(refused.json.message, IDENTITY_UNLOCKING);

    const first = await nextPrompt(shell);
    assert.equal(first.kind, 'passphrase');
    assert.equal(first.ukeyId, '');
    assert.equal(first.previousAttemptFailed, undefined);
    const win = FakeWindow.created.find((w) =>
      w.loaded.some((u) => u.endsWith(`#/pin/${first.requestId}`)),
    );
    assert.ok(win, 'the PIN window opened on the prompt');
    assert.equal(win.options.title, '密钥库口令 / Key store passphrase');

    await ok(shell, 'pins.answer', { requestId: first.requestId, pin: 'not the passphrase' });
    const second = await nextPrompt(shell, [first.requestId]);
    assert.equal(second.kind, 'passphrase');
    assert.equal(second.previousAttemptFailed, true, 'the wrong passphrase is reported');
    assert.ok(win.isDestroyed(), 'the answered prompt window closed');
    await ok(shell, 'pins.answer', { requestId: second.requestId, pin: PASS });

    const out = await app.platform;
    assert.equal(out.ok, true, out.ok ? '' : out.reason);
    assert.deepEqual(await ok(shell, 'pins.pending', {}), []);
    // The platform's pages (cloud signing's authUrl) now open in the system browser; others not.
    const contents = FakeWindow.created[0]!.webContents;
    const host = new URL(out.platform.baseUrl).hostname;
    contents.openHandler!({ url: `https://${host}/h5/auth/1` });
    contents.openHandler!({ url: 'https://elsewhere.example/' });
    assert.deepEqual(
      opened.filter((u) => u.includes('/h5/auth/1') || u.includes('elsewhere')),
      [`https://${host}/h5/auth/1`],
    );
    assert.doesNotMatch(trayText(shell), /错误|Error/);

    // Seals: a seal the platform holds is found, signed with the desktop's identity.
    const held = await fx.sm2.client.fileSeal(ukeySealFiling());
    const seals = await ok<SealView[]>(shell, 'seals.query', { orgCode: ORG, sealType: '0' });
    assert.ok(seals.some((s) => s.sealCode === held));
    // Filing goes through the outbox and is delivered.
    const filed = await ok<SealOperationView>(shell, 'seals.file', {
      filing: { ...ukeySealFiling(), UKeyId: 'UK-0002' },
    });
    assert.equal(filed.status, 'delivered');
    assert.match(filed.sealCode ?? '', /^ES/);
    const outbox = await ok<OutboxItemView[]>(shell, 'outbox.list', {});
    assert.ok(outbox.some((i) => i.id === filed.outboxId && i.state === 'delivered'));
    assert.deepEqual(await ok(shell, 'relay.list', {}), []);
    // documents.verify reaches its own checks (1001), not the missing-platform answer.
    const bad = await call(shell, 'documents.verify', { contentBase64: '!!!!', filename: 'a.pdf' });
    assert.equal(bad.code, '1001');

    // The JSAPI's signId check now asks the platform: the request reaches the signer's approval.
    const answer = jsapiSign(app, shell);
    let waiting: PendingApprovalView | undefined;
    for (let i = 0; i < 250 && !waiting; i++) {
      waiting = (await ok<PendingApprovalView[]>(shell, 'approvals.pending', {}))[0];
      if (!waiting) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(waiting, 'the signId was confirmed and the request waits for approval');
    assert.equal(waiting.sealCode, sealCode);
    await ok(shell, 'approvals.decide', { requestId: waiting.requestId, decision: 'declined' });
    const declined = await answer;
    assert.notEqual(declined.json.code, '0');
    assert.notEqual(declined.json.code, '3001');

    await app.quit();
    assert.equal(shell.quits, 1);
    assert.equal(shell.ipc.handlers.size, 0, 'the IPC handlers are removed');
    // The passphrase is kept nowhere in the data folder.
    for (const f of filesUnder(dataDir))
      assert.equal(readFileSync(f).includes(Buffer.from(PASS)), false, f);
  });

  it('three wrong passphrases: runs without the platform and the tray says why', async () => {
    const dataDir = tempDir('desktop-identity-wrong');
    await importIdentity(dataDir);
    const { app, shell } = await start(dataDir);
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const p = await nextPrompt(shell, seen);
      seen.push(p.requestId);
      await ok(shell, 'pins.answer', { requestId: p.requestId, pin: `wrong ${i}` });
    }
    const out = await app.platform;
    assert.equal(out.ok, false);
    const reason = out.ok ? '' : out.reason;
    assert.match(reason, /passphrase was wrong 3 times/);
    assert.deepEqual(await ok(shell, 'pins.pending', {}), [], 'not asked a fourth time');
    for (const m of ['seals.query', 'relay.list', 'outbox.list', 'cloud.result']) {
      const r = await call(
        shell,
        m,
        m === 'seals.query'
          ? { orgCode: ORG, sealType: '0' }
          : m === 'cloud.result'
            ? { requestId: 'r1' }
            : {},
      );
      assert.equal(r.code, '3001', m);
      assert.equal(r.message, reason, m);
    }
    assert.match(trayText(shell), /错误 \/ Error: the platform identity is locked/);
  });

  it('a cancelled prompt: runs without the platform, not asked again', async () => {
    const dataDir = tempDir('desktop-identity-cancel');
    await importIdentity(dataDir);
    const { app, shell } = await start(dataDir);
    const p = await nextPrompt(shell);
    await ok(shell, 'pins.answer', { requestId: p.requestId, cancel: true });
    const out = await app.platform;
    assert.equal(out.ok, false);
    assert.match(out.ok ? '' : out.reason, /passphrase was not given/);
    const r = await call(shell, 'documents.verify', {
      contentBase64: 'JVBERi0=',
      filename: 'a.pdf',
    });
    assert.equal(r.code, '3001');
    assert.deepEqual(await ok(shell, 'pins.pending', {}), []);
  });
});

describe('desktop composition: platform identity key on a UKey', () => {
  it('asks no passphrase; the platform calls sign on the UKey after its user PIN', async () => {
    const keyLabel = 'platform-id';
    const tokens = new TokenService({
      modules: [softukeyLibrary()],
      host: new ScriptedHost({ user: userPin }),
    });
    let spki: Buffer;
    try {
      await tokens.generateKeyPair(ukey.ukeyId, 'sm2', keyLabel);
      spki = (await tokens.provider(ukey.ukeyId, { label: keyLabel }, 'test')).spki;
    } finally {
      tokens.close();
    }
    fx.platform.registerApp({ appId: 'desktop-ukey', publicKey: spki, orgCode: ORG });
    const dataDir = tempDir('desktop-identity-ukey');
    await importAgentIdentity(dataDir, '', {
      appId: 'desktop-ukey',
      ukey: { ukeyId: ukey.ukeyId, keyLabel, spki },
      platformUrl: fx.platform.url,
      platformCert: fx.platform.platformCertificate,
    });
    const { app, shell } = await start(dataDir);
    const out = await app.platform;
    assert.equal(out.ok, true, out.ok ? '' : out.reason);
    assert.equal(out.ok && out.identity.ukey?.keyLabel, keyLabel);

    const query = call<SealView[]>(shell, 'seals.query', { orgCode: ORG, sealType: '0' });
    const pin = await nextPrompt(shell);
    assert.equal(pin.kind, 'user', 'the UKey asks its PIN, not a passphrase');
    assert.equal(pin.ukeyId, ukey.ukeyId);
    await ok(shell, 'pins.answer', { requestId: pin.requestId, pin: userPin });
    const r = await query;
    assert.equal(r.code, '0', r.message);
    assert.ok(r.data!.some((x) => x.sealCode === sealCode));
    await app.quit();
  });
});

describe('desktop composition: no platform identity', () => {
  it('asks nothing; platform methods answer the clear 3001; the rest works', async () => {
    const dataDir = tempDir('desktop-no-identity');
    const { app, shell } = await start(dataDir);
    const out = await app.platform;
    assert.deepEqual(out, { ok: false, reason: IDENTITY_NOT_CONFIGURED });
    assert.deepEqual(await ok(shell, 'pins.pending', {}), []);
    for (const [m, req] of [
      ['seals.query', { orgCode: ORG, sealType: '0' }],
      ['seals.setState', { sealCode: 'ES1', state: 3 }],
      ['relay.download', { fileId: 'f1' }],
      ['documents.verify', { contentBase64: 'JVBERi0=', filename: 'a.pdf' }],
      ['cloud.sign', { requestId: 'r1' }],
    ] as const) {
      const r = await call(shell, m, req);
      assert.equal(r.code, '3001', m);
      assert.match(r.message, /^the platform identity is not configured: import it with/, m);
    }
    assert.equal((await call(shell, 'settings.get', {})).code, '0');
    assert.equal((await call(shell, 'apps.list', {})).code, '0');
    assert.match(trayText(shell), /platform identity is not configured/);
    const refused = await jsapiSign(app, shell);
    assert.equal(refused.json.code, '3001');
    assert.equal(refused.json.message, IDENTITY_NOT_CONFIGURED);
    await app.quit();
  });
});

/** Every file under dir, recursively. */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });

describe('desktop composition: the agent cannot start', () => {
  it('stays in the tray in the error state, says why, and offers no window to open', async () => {
    const dataDir = tempDir('desktop-port-taken');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    try {
      const shell = fakeElectron(dataDir);
      const app = await startDesktop(shell.e, {
        jsapiPort: (blocker.address() as AddressInfo).port,
        modules: [],
        autostartDir: join(dataDir, 'autostart'),
        argv: [],
        log: () => undefined,
      });
      assert.equal(app, undefined, 'no agent');
      const tray = shell.trays[0]!;
      assert.match(tray.tooltip, /错误 \/ Error/);
      const open = tray.menu.find((m) => /打开主窗口/.test(String(m.label)));
      assert.equal(open?.enabled, false, 'Open is greyed out without an agent');
      const quit = tray.menu.find((m) => /退出/.test(String(m.label)));
      assert.equal(quit?.enabled, true);
      assert.equal(FakeWindow.created.length, 0, 'no window was opened');
    } finally {
      blocker.close();
    }
  });
});
