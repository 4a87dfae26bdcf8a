// The operator UI (renderer/) driven in real Chromium against a real `ukey-agent serve --demo
// --console`: every screen in zh-CN and en-US (screenshots to docs/images/ui/), and the operator's
// flows end to end — key generation, CSR, certificate import, approving and declining a signature
// requested from another origin (with a wrong PIN first), a batch approval deciding the next request
// without a dialog, relay upload/download with progress, document verification, a cloud signature
// confirmed on the platform's H5 page, and the modules, profiles and platform shown in Settings.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { certificateFromCsr, issuerFromCertificate, selfSignedCa } from '../../main/core/pki/issue';
import { derToPem, sm2Spki } from '../../main/core/pki/keys';
import { softwareSm2Provider } from '../../main/core/pki/signer';
import { signRequest } from '../../main/core/platform/canonical';
import { sm2RequestSigner } from '../../main/core/platform/request-signer';
import { REPO_ROOT, chromiumMissing, launchChromium } from '../helpers/chromium';
import { tempDir } from '../helpers/dev-tokens';
import { samplePdf, signPdf, testPki } from '../helpers/pdf-fixtures';
import { startDemoWeb } from '../../main/cli/demo-web/server';

const BIN = join(REPO_ROOT, 'bin', 'ukey-agent.js');
const SHOTS = join(REPO_ROOT, 'docs', 'images', 'ui');
const LANGS = ['zh-CN', 'en-US'] as const;
const SCREENS = [
  'keys',
  'seals',
  'requests',
  'apps',
  'relay',
  'documents',
  'cloud',
  'audit',
  'settings',
] as const;
const DEMO_ORIGIN = 'http://127.0.0.1:18790';
const DEMO_PIN = '123456';
const DEMO_SO_PIN = '12345678';
const SIGN_UKEY = 'SUKDEMO0001';
const WORK_UKEY = 'SUKDEMO0002';

interface Served {
  jsapi: string;
  consoleUrl: string;
  demo: { seals: Record<string, string>; pin: string };
}

const skip = chromiumMissing();

describe('operator UI in Chromium over serve --demo --console', { skip }, () => {
  const data = tempDir('ui');
  const files = tempDir('ui-files');
  let agent: ChildProcess;
  let served: Served;
  let stderr = '';
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  let orgCode = '';
  const pageErrors: string[] = [];

  before(async () => {
    const built = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build-renderer.mjs')], {
      encoding: 'utf8',
    });
    assert.equal(built.status, 0, built.stderr);
    agent = spawn(
      process.execPath,
      [
        BIN,
        'serve',
        '--demo',
        '--console',
        '--port',
        '0',
        '--console-port',
        '0',
        '--data-dir',
        data,
        '--json',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
    );
    agent.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    served = await new Promise<Served>((resolve, reject) => {
      const lines = createInterface({ input: agent.stdout! });
      lines.on('line', (l) => {
        try {
          const j = JSON.parse(l) as { data?: Served };
          if (j.data?.consoleUrl) resolve(j.data);
        } catch {
          /* not JSON */
        }
      });
      agent.once('exit', (c) => reject(new Error(`serve exited ${c}: ${stderr}`)));
    });
    orgCode = readDemoOrg();
    browser = await launchChromium();
    ctx = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      acceptDownloads: true,
      locale: 'zh-CN',
    });
    page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(served.consoleUrl);
    await page.getByTestId('key-card').first().waitFor();
    mkdirSync(SHOTS, { recursive: true });
  });

  // A failed step must not leave its dialog over the next one.
  beforeEach(async () => {
    for (let i = 0; i < 3 && (await page.locator('.ant-modal-wrap:visible').count()) > 0; i++) {
      await page.keyboard.press('Escape');
      await page.waitForTimeout(300);
    }
  });

  after(async () => {
    await browser?.close();
    if (agent && agent.exitCode === null) {
      const exited = new Promise((r) => agent.once('exit', r));
      agent.kill('SIGTERM');
      await exited;
    }
    rmSync(data, { recursive: true, force: true });
    rmSync(files, { recursive: true, force: true });
  });

  /** The demo's organisation code, from the demo caller's files the agent wrote. */
  function readDemoOrg(): string {
    const m = /"orgCode":\s*"([^"]+)"/.exec(readFileSync(join(data, 'demo', 'demo.json'), 'utf8'));
    return m?.[1] ?? '91110000DEMO00001X';
  }

  const nav = async (screen: (typeof SCREENS)[number]): Promise<void> => {
    await page.getByTestId(`nav-${screen}`).click();
    await page.getByTestId(`screen-${screen}`).waitFor();
  };

  const setLang = async (lang: (typeof LANGS)[number]): Promise<void> => {
    await page.getByTestId(`lang-${lang}`).click();
    await waitFor(async () =>
      (await page.evaluate('document.documentElement.lang')) === lang ? true : undefined,
    );
  };

  /**
   * Waits for `done` to show, answering the agent's PIN prompts on the way (as the signer would:
   * the user PIN, or the SO PIN when that is what the prompt asks).
   */
  /** What each PIN prompt answered by untilShown said it was for. */
  const purposesSeen: string[] = [];
  async function untilShown(done: Locator, ms = 30_000): Promise<number> {
    const end = Date.now() + ms;
    let prompts = 0;
    for (;;) {
      if (await done.first().isVisible()) return prompts;
      const prompt = page.getByTestId('pin-modal');
      if (await prompt.isVisible()) {
        const kind = await prompt.getAttribute('data-kind');
        const id = await prompt.getAttribute('data-request-id');
        purposesSeen.push(await page.getByTestId('pin-purpose').innerText());
        await page.getByTestId('pin-input').fill(kind === 'so' ? DEMO_SO_PIN : DEMO_PIN);
        // A new PIN is typed twice.
        if (kind === 'new-user' || kind === 'new-so')
          await page.getByTestId('pin-confirm').fill(DEMO_PIN);
        await page.getByTestId('pin-ok').click();
        // The next prompt (e.g. the new PIN after the old one) may take its place at once.
        const answered = page.locator(`[data-testid=pin-modal][data-request-id="${id}"]`);
        try {
          await answered.waitFor({ state: 'detached', timeout: 10_000 });
        } catch (e) {
          await page.screenshot({ path: join(files, 'pin-stuck.png') });
          const why = await page.getByTestId('pin-error').allInnerTexts();
          throw new Error(`the PIN prompt stayed (${why.join(' ')}): ${String(e)}`);
        }
        prompts++;
        continue;
      }
      if (Date.now() > end) throw new Error(`timed out waiting for ${done.toString()}`);
      await page.waitForTimeout(100);
    }
  }

  const keyCard = (ukeyId: string) =>
    page.locator(`[data-testid=key-card][data-ukey-id="${ukeyId}"]`);

  /** Runs `demo-call sign` as the demo web app (Origin http://127.0.0.1:18790); answers its JSON. */
  function demoSign(text: string): Promise<{ code: string; message: string }> {
    const child = spawn(
      process.execPath,
      [
        BIN,
        'demo-call',
        'sign',
        '--ukey-id',
        SIGN_UKEY,
        '--text',
        text,
        '--port',
        new URL(served.jsapi).port,
        '--data-dir',
        data,
        '--json',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    return new Promise((resolve, reject) => {
      child.on('exit', () => {
        try {
          // The CLI's envelope carries the JSAPI answer as its data.
          const env = JSON.parse(out.trim().split('\n').pop() ?? '') as {
            data: { code: string; message: string };
          };
          resolve(env.data);
        } catch {
          reject(new Error(`demo-call answered: ${out}`));
        }
      });
    });
  }

  it('shows the plugged demo keys live, with the development badge and PIN state', async () => {
    assert.equal(await page.getByTestId('conn-status').getAttribute('data-state'), 'open');
    assert.ok((await page.getByTestId('key-card').count()) >= 2);
    // Pull a key out and plug it back in: its card goes and comes back without a reload.
    const suk = join(data, 'dev-tokens', `${WORK_UKEY}.suk`);
    renameSync(suk, `${suk}.out`);
    await keyCard(WORK_UKEY).waitFor({ state: 'detached', timeout: 5000 });
    renameSync(`${suk}.out`, suk);
    await keyCard(WORK_UKEY).waitFor({ timeout: 5000 });
    await keyCard(SIGN_UKEY).getByTestId('dev-token-badge').waitFor();
    assert.equal(
      await keyCard(SIGN_UKEY).getByTestId('pin-state').getAttribute('data-state'),
      'ok',
    );
    assert.ok((await keyCard(SIGN_UKEY).getByTestId('cert-row').count()) >= 1);
    // The certificate viewer: subject and fingerprints.
    await keyCard(SIGN_UKEY).getByTestId('cert-view').first().click();
    await page.getByTestId('cert-viewer').waitFor();
    assert.match(await page.getByTestId('cert-viewer-subject').innerText(), /CN=/);
    assert.equal(await page.getByTestId('cert-viewer-sig-alg').innerText(), 'SM2-with-SM3');
    assert.match(await page.getByTestId('cert-viewer-key-usage').innerText(), /digitalSignature/);
    assert.match(
      await page.getByTestId('cert-viewer-sha256').innerText(),
      /^([0-9A-F]{2}:){31}[0-9A-F]{2}/,
    );
    const download = page.waitForEvent('download');
    await page.getByTestId('cert-viewer-export').click();
    const pemFile = join(files, 'exported.pem');
    await (await download).saveAs(pemFile);
    assert.match(readFileSync(pemFile, 'utf8'), /^-----BEGIN CERTIFICATE-----\n/);
    await page.getByTestId('cert-viewer-close').click();
  });

  it('generates a key on the token, makes a CSR, and imports the certificate a CA issued for it', async () => {
    const card = keyCard(WORK_UKEY);
    const label = `ui-${Date.now().toString(36)}`;
    await card.getByTestId('keygen-open').click();
    await page.getByTestId('keygen-label').fill(label);
    await page.getByTestId('keygen-ok').click();
    await untilShown(card.locator(`[data-testid=pair-row][data-label="${label}"]`));

    await card.getByTestId('csr-open').click();
    await page.getByTestId('csr-key').locator('input').fill(label);
    await page.getByTestId('csr-subject').fill('CN=界面测试,O=示例单位,C=CN');
    await page.getByTestId('csr-ok').click();
    await untilShown(page.getByTestId('csr-pem'));
    const csrPem = await page.getByTestId('csr-pem').inputValue({ timeout: 15_000 });
    assert.match(csrPem, /^-----BEGIN CERTIFICATE REQUEST-----/);
    const saved = page.waitForEvent('download');
    await page.getByTestId('csr-save').click();
    assert.match((await saved).suggestedFilename(), /\.csr$/);
    await page.getByTestId('csr-close').click();

    // A CA (the operator's, outside the agent) issues the certificate for the request.
    const caSigner = softwareSm2Provider(generateSm2KeyPair());
    const caCert = await selfSignedCa({ subject: 'CN=UI Test CA,C=CN', signer: caSigner });
    const cert = await certificateFromCsr(csrPem, issuerFromCertificate(caCert, caSigner), {
      keyUsage: ['digitalSignature', 'nonRepudiation'],
    });
    const certFile = join(files, 'issued.pem');
    writeFileSync(certFile, derToPem(cert, 'CERTIFICATE'));

    await card.getByTestId('import-open').click();
    // Choose the file (the dialog reads it and fills the PEM box).
    await page.getByTestId('import-modal').locator('input[type=file]').setInputFiles(certFile);
    await waitFor(async () =>
      (await page.getByTestId('import-pem').inputValue()).includes('BEGIN CERTIFICATE')
        ? true
        : undefined,
    );
    await page.getByTestId('import-ok').click();
    await untilShown(card.locator('[data-testid=cert-row]', { hasText: '界面测试' }));

    // A broken PEM is refused in words, with the code.
    await card.getByTestId('import-open').click();
    await page
      .getByTestId('import-pem')
      .fill('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----');
    await page.getByTestId('import-ok').click();
    const err = page.getByTestId('import-error');
    await err.waitFor();
    assert.equal(await err.getAttribute('data-code'), '1001');
    await page.getByTestId('import-cancel').click();

    // Change PIN: the agent asks the current and the new PIN through its PIN prompt, which says
    // what for in Chinese; the new PIN is typed twice and must match.
    await card.getByTestId('change-pin').click();
    const prompt = page.getByTestId('pin-modal');
    await prompt.waitFor();
    assert.equal(await prompt.getAttribute('data-kind'), 'user');
    assert.equal(await page.getByTestId('pin-purpose').innerText(), '修改 PIN：当前 PIN');
    await page.getByTestId('pin-input').fill(DEMO_PIN);
    await page.getByTestId('pin-ok').click();
    await page.locator('[data-testid=pin-modal][data-kind=new-user]').waitFor();
    assert.equal(await page.getByTestId('pin-purpose').innerText(), '修改 PIN：新的 PIN');
    await page.getByTestId('pin-input').fill(DEMO_PIN);
    await page.getByTestId('pin-confirm').fill('1234567');
    await page.getByTestId('pin-mismatch').waitFor();
    assert.equal(await page.getByTestId('pin-ok').isDisabled(), true, 'a mismatch cannot be sent');
    await page.getByTestId('pin-confirm').fill(DEMO_PIN);
    assert.equal(await page.getByTestId('pin-ok').isDisabled(), false);
    await page.getByTestId('pin-ok').click();
    await page.getByText(/PIN 已修改|PIN changed/).waitFor({ timeout: 15_000 });

    // Unblock: the SO PIN, then the new user PIN (twice), each prompt saying so in Chinese.
    const before = purposesSeen.length;
    await card.getByTestId('unblock-pin').click();
    await page.getByTestId('confirm-ok').click();
    const prompts = await untilShown(page.getByText(/用户 PIN 已重新设置|User PIN set again/));
    assert.equal(prompts, 2);
    assert.deepEqual(purposesSeen.slice(before), [
      '解锁用户 PIN：管理员 PIN',
      '解锁用户 PIN：新的用户 PIN',
    ]);
    // Key generation and the CSR asked in Chinese too (no English reason in a zh-CN screen).
    assert.ok(
      purposesSeen.every((p) => !/[a-z]{4,}/.test(p.replace(/[\x20-\x7e]*ui-[a-z0-9]+/g, ''))),
    );
  });

  it('approves a request from another origin after a wrong PIN (tries left shown), and declines one', async () => {
    const approved = demoSign('合同 A：界面批准');
    const modal = page.getByTestId('approval-modal');
    await modal.waitFor({ timeout: 15_000 });
    assert.equal(await page.getByTestId('approval-origin').innerText(), DEMO_ORIGIN);
    assert.match(await page.getByTestId('approval-digest').innerText(), /^[0-9a-f]+$/);
    // The time left before the agent declines it (the approval timeout, 60 s by default).
    const secs = Number(await page.getByTestId('approval-countdown').getAttribute('data-seconds'));
    assert.ok(secs > 30 && secs <= 60, `countdown ${secs} s`);
    await page.getByTestId('approval-seal-image').waitFor();
    await page.getByTestId('approval-pin').fill('000000');
    await page.getByTestId('approval-approve').click();
    const err = page.getByTestId('approval-error');
    await err.waitFor();
    assert.equal(await err.getAttribute('data-code'), '2002');
    const tries = Number(await err.getByTestId('tries-left').getAttribute('data-tries'));
    assert.ok(tries >= 1, 'the tries left are shown');
    assert.match(await err.getByTestId('tries-left').innerText(), new RegExp(`${tries}`));
    await shot('approval-wrong-pin', 'zh-CN');
    // Each wrong PIN costs exactly one try: the agent never retries a PIN by itself.
    await page.getByTestId('approval-pin').fill('000001');
    await page.getByTestId('approval-approve').click();
    await page.locator(`[data-testid=tries-left][data-tries="${tries - 1}"]`).waitFor();
    await page.getByTestId('approval-pin').fill(served.demo.pin || DEMO_PIN);
    await page.getByTestId('approval-approve').click();
    await modal.waitFor({ state: 'detached' });
    const a = await approved;
    assert.equal(a.code, '0', a.message);

    // The second request comes from a real page on the demo web app's origin (its own browser
    // context, as another site would be): declined in the console, the page shows 2003.
    const web = await startDemoWeb({
      dataDir: data,
      port: 18790,
      agentPort: Number(new URL(served.jsapi).port),
    });
    const site = await browser.newContext();
    try {
      const other = await site.newPage();
      await other.goto(web.url);
      await other.locator(`input[name="seal"][value="${served.demo.seals[SIGN_UKEY]}"]`).check();
      await other.locator('#agent-status[data-state="ok"]').waitFor();
      await other.locator('#sign:not([disabled])').click();
      await modal.waitFor({ timeout: 15_000 });
      assert.equal(await page.getByTestId('approval-origin').innerText(), DEMO_ORIGIN);
      await page.getByTestId('approval-decline').click();
      await modal.waitFor({ state: 'detached' });
      const error = other.locator('#error[data-code="2003"]');
      await error.waitFor({ timeout: 20_000 });
      assert.match(await error.innerText(), /code 2003/);
    } finally {
      await site.close();
      await web.close();
    }

    await nav('requests');
    const history = page.getByTestId('history-table');
    await history.locator('[data-testid=history-row][data-decision=approved]').first().waitFor();
    await history.locator('[data-testid=history-row][data-decision=declined]').first().waitFor();
    // Each decision with its outcome from the audit log: the approved one was signed, the
    // declined one answered 2003.
    await history
      .locator(
        '[data-testid=history-row][data-decision=approved] [data-testid=history-result][data-code="0"]',
      )
      .first()
      .waitFor();
    await history
      .locator(
        '[data-testid=history-row][data-decision=declined] [data-testid=history-result][data-code="2003"]',
      )
      .first()
      .waitFor();
  });

  it('approves with a batch: the next request from that origin for that seal signs without a dialog, counted in the standing approval, then revoked', async () => {
    const modal = page.getByTestId('approval-modal');
    const first = demoSign('合同 B：批量批准 1');
    await modal.waitFor({ timeout: 15_000 });
    await page.getByTestId('approval-pin').fill(served.demo.pin || DEMO_PIN);
    await page.getByTestId('approval-batch').click();
    await page.getByTestId('approval-batch-count').fill('2');
    await selectOption(modal.locator('.ant-select-selection-search-input'), /^5 (分钟|min)$/);
    await page.getByTestId('approval-approve').click();
    await modal.waitFor({ state: 'detached' });
    const a = await first;
    assert.equal(a.code, '0', a.message);
    // The Requests screen stays open: the policy's use must show up live (approval.recorded).
    await nav('requests');
    const row = page.locator('[data-testid=policy-row]', {
      hasText: served.demo.seals[SIGN_UKEY]!,
    });
    await row.waitFor();
    assert.match(await row.innerText(), /0 \/ 2/);

    // The second request is decided by the standing approval: no approval dialog shows (a PIN
    // prompt would be the key's, not an approval, and is answered).
    let dialogs = 0;
    let done = false;
    const second = demoSign('合同 B：批量批准 2').finally(() => (done = true));
    while (!done) {
      if (await modal.isVisible()) dialogs++;
      if (await page.getByTestId('pin-modal').isVisible()) {
        await page.getByTestId('pin-input').fill(DEMO_PIN);
        await page.getByTestId('pin-ok').click();
      }
      await page.waitForTimeout(100);
    }
    const b = await second;
    assert.equal(b.code, '0', b.message);
    assert.equal(dialogs, 0, 'no approval dialog for the batch-approved request');

    // No reload, no navigation: the open table follows the policy's use.
    await waitFor(async () => (/1 \/ 2/.test(await row.innerText()) ? true : undefined));
    assert.ok((await row.innerText()).includes(DEMO_ORIGIN));
    const policyId = await row.getAttribute('data-id');
    // The history names the standing approval that decided the second request.
    await page
      .getByTestId('history-table')
      .locator('[data-testid=history-row][data-decision=approved] td')
      .getByText(new RegExp(`^(授权|Approval) #${policyId}$`))
      .first()
      .waitFor();
    await row.getByTestId('policy-revoke').click();
    await page.getByTestId('confirm-ok').click();
    await row.waitFor({ state: 'detached' });
    await page.getByTestId('policies-inactive').click();
    const revoked = page.locator(`[data-testid=policy-row][data-id="${policyId}"]`);
    await revoked.getByText(/已撤销|Revoked/).waitFor();
    await page.getByTestId('policies-inactive').click();
  });

  it("the desktop's approval and PIN windows (#/approval/<id>, #/pin/<id>) show that one dialog, fitting the window", async () => {
    const home = new URL(served.consoleUrl).origin;
    /** The renderer as the desktop loads it into a dialog window of that size. */
    const openWindow = async (hash: string, width: number, height: number): Promise<void> => {
      await page.setViewportSize({ width, height });
      await page.goto(`${home}/index.html${hash}`);
      await page.reload(); // a hash-only goto keeps the document; the window loads it fresh
    };
    try {
      const signed = demoSign('合同 W：审批窗口');
      const modal = page.getByTestId('approval-modal');
      await modal.waitFor({ timeout: 15_000 });
      const id = (await modal.getAttribute('data-request-id'))!;

      // Desktop: 720 × 780 (main/desktop/main.ts).
      await openWindow(`#/approval/${encodeURIComponent(id)}`, 720, 780);
      await page.getByTestId('dialog-window-approval').waitFor();
      await page.locator(`[data-testid=approval-modal][data-request-id="${id}"]`).waitFor();
      assert.equal(await page.getByTestId('nav').count(), 0, 'no navigation in a dialog window');
      assert.equal(await page.getByTestId('approval-later').count(), 0, 'closing it declines');
      assert.equal(await page.getByTestId('approval-origin').innerText(), DEMO_ORIGIN);
      for (const b of ['approval-approve', 'approval-decline', 'approval-pin']) {
        const box = (await page.getByTestId(b).boundingBox())!;
        assert.ok(box.x >= 0 && box.x + box.width <= 720, `${b} fits the window's width`);
        assert.ok(box.y + box.height <= 780, `${b} fits the window's height`);
      }
      await shot('approval-window', 'zh-CN');
      // Approved with the PIN typed in the window (checked by a fresh login).
      await page.getByTestId('approval-pin').fill(served.demo.pin || DEMO_PIN);
      await page.getByTestId('approval-approve').click();
      await page.getByTestId('dialog-settled').waitFor({ timeout: 15_000 });
      const r = await signed;
      assert.equal(r.code, '0', r.message);

      // The PIN window: changing a key's PIN asks the current PIN, then the new one (twice), each
      // prompt answered in its own window as the desktop opens them.
      await openWindow('#keys', 1280, 800);
      await keyCard(WORK_UKEY).getByTestId('change-pin').click();
      for (const step of ['user', 'new-user']) {
        const prompt = page.locator(`[data-testid=pin-modal][data-kind=${step}]`);
        await prompt.waitFor({ timeout: 15_000 });
        const pinId = (await prompt.getAttribute('data-request-id'))!;
        await openWindow(`#/pin/${encodeURIComponent(pinId)}`, 560, 440);
        await page.getByTestId('dialog-window-pin').waitFor();
        await page.locator(`[data-testid=pin-modal][data-request-id="${pinId}"]`).waitFor();
        assert.equal(await page.getByTestId('nav').count(), 0);
        await page.getByTestId('pin-input').fill(DEMO_PIN);
        if (step === 'new-user') {
          await page.getByTestId('pin-confirm').fill(DEMO_PIN);
          await shot('pin-window', 'zh-CN');
        }
        const ok = (await page.getByTestId('pin-ok').boundingBox())!;
        assert.ok(ok.x + ok.width <= 560 && ok.y + ok.height <= 440, 'the PIN dialog fits');
        await page.getByTestId('pin-ok').click();
        await page.getByTestId('dialog-settled').waitFor({ timeout: 15_000 });
        if (step === 'user') await openWindow('#keys', 1280, 800);
      }

      // A window for a request that is no longer waiting says so instead of an empty page.
      await openWindow(`#/approval/${encodeURIComponent(id)}`, 720, 780);
      await page.getByTestId('dialog-settled').waitFor();
      assert.equal(await page.getByTestId('approval-modal').count(), 0);
    } finally {
      await openWindow('#keys', 1280, 800);
      await page.getByTestId('key-card').first().waitFor();
    }
  });

  it('uploads a dropped file and downloads it by file id, with progress', async () => {
    await nav('relay');
    const file = join(files, 'relay-payload.bin');
    const size = 24 * 1024 * 1024;
    const buf = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4096) buf.writeUInt32LE(i, i);
    writeFileSync(file, buf);
    // Record every progress the table shows (bytes below the total = a transfer in flight).
    await page.evaluate(`(() => {
      const seen = (window.progressSeen = []);
      new MutationObserver(() => {
        for (const el of document.querySelectorAll('[data-testid=relay-progress],[data-testid=relay-staging]'))
          seen.push(el.getAttribute('data-testid') + ':' + (el.getAttribute('data-bytes') ?? '') + '/' + (el.getAttribute('data-total') ?? ''));
      }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    })()`);
    await page.getByTestId('relay-dropzone').locator('input[type=file]').setInputFiles(file);
    const upRow = page
      .locator('[data-testid=relay-row][data-kind=upload][data-state=done]')
      .first();
    await upRow.waitFor({ timeout: 60_000 });
    const fileId = await upRow.getByTestId('relay-file-id').innerText();
    assert.match(fileId, /^[0-9a-f]{16,}/);

    await page.getByTestId('relay-download-id').fill(fileId.trim());
    await page.getByTestId('relay-download-go').click();
    const downRow = page
      .locator('[data-testid=relay-row][data-kind=download][data-state=done]')
      .first();
    await downRow.waitFor({ timeout: 60_000 });
    assert.equal(
      await downRow.getByTestId('relay-progress').getAttribute('data-bytes'),
      String(size),
    );
    const seen = (await page.evaluate('window.progressSeen')) as string[];
    const partial = seen.filter((s) => {
      const m = /^relay-progress:(\d+)\/(\d+)$/.exec(s);
      return m !== null && Number(m[1]) > 0 && Number(m[1]) < Number(m[2]);
    });
    assert.ok(
      partial.length > 0,
      `a transfer in flight was shown: ${[...new Set(seen)].join(' ')}`,
    );
    // The browser can save the downloaded file from the agent.
    const saved = page.waitForEvent('download');
    await downRow.getByTestId('relay-save').click();
    const out = join(files, 'relay-back.bin');
    // Through a one-time link the browser follows: streamed to disk under the platform's name.
    const download = await saved;
    assert.match(download.url(), /\/operator\/download\/\d+\?ticket=[0-9a-f]{32}$/);
    assert.equal(download.suggestedFilename(), 'relay-payload.bin');
    await download.saveAs(out);
    assert.ok(readFileSync(out).equals(buf), 'the file came back byte for byte');
  });

  it('pauses, resumes and cancels a transfer held back by the bandwidth cap set in Settings', async () => {
    const setCap = async (kib: number): Promise<void> => {
      await nav('settings');
      await page.getByTestId('set-relayMax').fill(String(kib));
      await page.getByTestId('set-relayMax-save').click();
      await waitFor(async () =>
        (await page.getByTestId('set-relayMax').inputValue()) === String(kib) &&
        (await page.getByTestId('set-relayMax-save').isDisabled())
          ? true
          : undefined,
      );
    };
    // 512 KiB/s: the 8 MiB file takes 16 s, long enough to steer by hand.
    await setCap(512);
    try {
      await nav('relay');
      const file = join(files, 'relay-capped.bin');
      writeFileSync(file, Buffer.alloc(8 * 1024 * 1024, 7));
      const before = await page.locator('[data-testid=relay-row]').count();
      await page.getByTestId('relay-dropzone').locator('input[type=file]').setInputFiles(file);
      // The newest job is the highest id; rows carry data-job.
      const jobId = await waitFor(async () => {
        if ((await page.locator('[data-testid=relay-row]').count()) <= before) return undefined;
        const ids = await page
          .locator('[data-testid=relay-row]')
          .evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-job'))));
        return String(Math.max(...ids));
      });
      const row = (state?: string) =>
        page.locator(
          `[data-testid=relay-row][data-job="${jobId}"]${state ? `[data-state=${state}]` : ''}`,
        );
      const bytes = async (): Promise<number> =>
        Number(await row().getByTestId('relay-progress').getAttribute('data-bytes'));
      // Moving in small steps under the cap.
      await waitFor(async () => ((await bytes()) > 0 ? true : undefined), 30_000);
      assert.ok((await bytes()) < 8 * 1024 * 1024, 'still in flight under the cap');

      await row().getByTestId('relay-pause').click();
      await row('paused').waitFor({ timeout: 10_000 });
      const held = await bytes();
      await page.waitForTimeout(1_500);
      assert.equal(await bytes(), held, 'a paused transfer does not move');

      await row().getByTestId('relay-resume').click();
      await waitFor(async () => ((await bytes()) > held ? true : undefined), 30_000);
      assert.equal(await row('running').count(), 1, 'running again, from where it was');

      await row().getByTestId('relay-cancel').click();
      await page.getByTestId('confirm-ok').click();
      await row('canceled').waitFor({ timeout: 10_000 });
      assert.equal(await row().getByTestId('relay-pause').count(), 0);
      assert.equal(await row().getByTestId('relay-resume').count(), 0);
    } finally {
      await setCap(0);
    }
  });

  it('verifies a dropped PDF and shows each step the platform checked', async () => {
    await nav('documents');
    const pki = await testPki('sm2');
    const { signed } = await signPdf(await samplePdf(), pki);
    const pdf = join(files, 'contract.pdf');
    writeFileSync(pdf, signed);
    await page.getByTestId('docs-dropzone').locator('input[type=file]').setInputFiles(pdf);
    const result = page.getByTestId('docs-result');
    await result.waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId('docs-signature').count(), 1);
    assert.ok((await page.getByTestId('docs-steps').locator('.ant-steps-item').count()) >= 2);
    // An unknown CA: the platform does not trust the chain, so the verdict is negative.
    assert.equal(await result.getAttribute('data-verdict'), 'invalid');
    assert.ok((await page.getByTestId('docs-steps').locator('.ant-steps-item-error').count()) >= 1);

    // A PDF sealed through the agent by the demo web app (approved here): the platform trusts
    // it, and the screen says so with every step passed.
    const web = await startDemoWeb({
      dataDir: data,
      port: 18790,
      agentPort: Number(new URL(served.jsapi).port),
    });
    const site = await browser.newContext({ acceptDownloads: true });
    try {
      const other = await site.newPage();
      await other.goto(web.url);
      await other.locator(`input[name="seal"][value="${served.demo.seals[SIGN_UKEY]}"]`).check();
      await other.locator('#agent-status[data-state="ok"]').waitFor();
      await other.locator('#sign:not([disabled])').click();
      const modal = page.getByTestId('approval-modal');
      await modal.waitFor({ timeout: 15_000 });
      await page.getByTestId('approval-pin').fill(served.demo.pin || DEMO_PIN);
      await page.getByTestId('approval-approve').click();
      await other.locator('#verdict[data-verified="true"]').waitFor({ timeout: 30_000 });
      const [download] = await Promise.all([
        other.waitForEvent('download'),
        other.locator('#download').click(),
      ]);
      const sealed = join(files, 'sealed.pdf');
      await download.saveAs(sealed);
      await page.getByTestId('docs-dropzone').locator('input[type=file]').setInputFiles(sealed);
      await page
        .locator('[data-testid=docs-result][data-verdict=valid]')
        .waitFor({ timeout: 30_000 });
      const steps = page.getByTestId('docs-steps').locator('.ant-steps-item');
      assert.ok((await steps.count()) >= 4);
      assert.equal(
        await page.getByTestId('docs-steps').locator('.ant-steps-item-error').count(),
        0,
      );
      // The platform's step names, in the UI's language.
      await page.getByTestId('docs-steps').getByText('文档完整性验证').waitFor();
      await setLang('en-US');
      await page.getByTestId('docs-steps').getByText('Document integrity').waitFor();
      await setLang('zh-CN');
    } finally {
      await site.close();
      await web.close();
    }
  });

  it('files a cloud seal, then signs with it after the holder confirms on the H5 page', async () => {
    await nav('seals');
    await page.getByTestId('seals-org').fill(orgCode);
    await page.getByTestId('seals-query').click();
    await page.getByTestId('seal-row').first().waitFor();
    await page.getByTestId('seal-image').first().waitFor();

    const holderId = '110101199001011234';
    const mobile = '13900000001';
    await page.getByTestId('seals-file-open').click();
    const filing = page.getByTestId('filing-modal');
    await page.getByTestId('filing-name').fill('王五个人云签章');
    await page.getByTestId('filing-possessor').fill('王五');
    await filing.locator('#possessorCertNo').fill(holderId);
    await selectOption(filing.locator('#possessorType'), /个人|Person/);
    await selectOption(filing.locator('#certType'), /云证书|Cloud certificate/);
    await filing.locator('#userName').fill('王五');
    await filing.locator('#mobilePhone').fill(mobile);
    await page.getByTestId('filing-ok').click();
    await filing.waitFor({ state: 'detached' });
    const cloudRow = page.locator('[data-testid=seal-row]', { hasText: '王五个人云签章' });
    await cloudRow.waitFor();
    const sealCode = (await cloudRow.getAttribute('data-code')) ?? '';
    assert.ok(sealCode);

    // Extension from the listed seal: code, name, type and certificate type come filled in; the
    // holder is confirmed by the operator; the new expiry shows once the platform took it.
    await cloudRow.getByTestId('seal-extend').click();
    const ext = page.getByTestId('filing-modal');
    await ext.waitFor();
    assert.equal(await page.getByTestId('filing-seal-code').inputValue(), sealCode);
    assert.equal(await page.getByTestId('filing-name').inputValue(), '王五个人云签章');
    await page.getByTestId('filing-possessor').fill('王五');
    await ext.locator('#possessorCertNo').fill(holderId);
    await selectOption(ext.locator('#possessorType'), /个人|Person/);
    await ext.locator('#sealInvalidTime').fill('2099-06-30 23:59:59');
    await page.getByTestId('filing-ok').click();
    await ext.waitFor({ state: 'detached' });
    await page
      .locator(`[data-testid=seal-row][data-code="${sealCode}"]`, { hasText: '2099-06-30' })
      .waitFor();

    await nav('cloud');
    await page.getByTestId('cloud-org').fill(orgCode);
    await page.getByTestId('cloud-seal').fill(sealCode);
    await page.getByTestId('cloud-mobile').fill(mobile);
    await page.getByTestId('cloud-credent').fill(holderId);
    const doc = join(files, 'cloud-doc.txt');
    writeFileSync(doc, '云签名的文档内容');
    await page.getByTestId('cloud-dropzone').locator('input[type=file]').setInputFiles(doc);
    await waitFor(async () =>
      /^[0-9a-f]{64}$/.test(await page.getByTestId('cloud-digest').inputValue()) ? true : undefined,
    );
    await page.getByTestId('cloud-apply').click();
    await page.getByTestId('cloud-qr').waitFor();
    const authUrl = await page.getByTestId('cloud-auth-url').innerText();
    const authId = new URL(authUrl).pathname.split('/').pop()!;
    assert.equal(await page.getByTestId('cloud-state').getAttribute('data-state'), 'pending');
    await shot('cloud-qr', 'zh-CN');

    // The holder: the code arrives out of band (the reference platform logs it), the H5 page takes it.
    const code = await waitFor(
      () => new RegExp(`auth code (\\d{6}) for authId ${authId}`).exec(stderr)?.[1],
    );
    const h5 = await ctx.newPage();
    await h5.goto(authUrl);
    await h5.locator('input[name=code]').fill(code);
    await h5.locator('button[type=submit]').click();
    await h5.waitForLoadState();
    await h5.close();

    await page
      .locator('[data-testid=cloud-state][data-state=confirmed]')
      .waitFor({ timeout: 15_000 });
    await page.getByTestId('cloud-sign').click();
    await page.getByTestId('cloud-signature').waitFor({ timeout: 15_000 });
    const sig = await page.getByTestId('cloud-signature-b64').inputValue();
    assert.ok(Buffer.from(sig, 'base64').length > 64, 'a CMS signature came back');

    // Suspend it (the query lists enabled seals only), enable it by its code, then cancel it for
    // good: enabling a cancelled seal is refused, in words, with the code.
    await nav('seals');
    await page.getByTestId('seals-query').click();
    const row = page.locator(`[data-testid=seal-row][data-code="${sealCode}"]`);
    await row.getByTestId('seal-suspend').click();
    await page.getByTestId('confirm-ok').click();
    await row.waitFor({ state: 'detached' });
    await page.getByTestId('seal-code-input').fill(sealCode);
    await page.getByTestId('seal-code-enable').click();
    await page.getByTestId('confirm-ok').click();
    await row.waitFor();
    await row.getByTestId('seal-cancel').click();
    assert.match(await page.getByTestId('confirm-modal').innerText(), /最终|final/);
    await page.getByTestId('confirm-ok').click();
    await row.waitFor({ state: 'detached' });
    await page.getByTestId('seal-code-enable').click();
    await page.getByTestId('confirm-ok').click();
    const refused = page.getByTestId('seals-error');
    await refused.waitFor();
    assert.equal(await refused.getAttribute('data-code'), '1001');
    assert.match(await refused.innerText(), /cancel/);
    assert.ok((await page.getByTestId('outbox-table').locator('tr.ant-table-row').count()) >= 4);
  });

  it('pairing: a page on a new origin asks to be trusted; the operator sees that origin as the browser sent it and trusts it', async () => {
    // A site the agent has never seen, served by the browser context itself (no DNS, no server).
    const site = await browser.newContext();
    const siteOrigin = 'https://contracts.pairing-test.cn';
    // A public site reaching 127.0.0.1 needs the user's "local network access" permission in
    // current Chromium (the browser asks once per site); granted here as the user would.
    await site.grantPermissions(['local-network-access'], { origin: siteOrigin });
    await site.route(`${siteOrigin}/**`, (r) =>
      r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>合同系统</title>' }),
    );
    try {
      const other = await site.newPage();
      await other.goto(`${siteOrigin}/`);
      // The app's server signs the pairing request with the app key (here: the test).
      const key = generateSm2KeyPair();
      const body = await signRequest(
        {
          version: '1.0',
          appId: 'contracts.pairing',
          appName: '合同管理系统',
          publicKey: sm2Spki(key.publicKey).toString('base64'),
          time: String(Date.now()),
          nonce: 4242,
        },
        sm2RequestSigner('contracts.pairing', key),
      );
      const answer = other.evaluate(
        async ([url, b]) => {
          const r = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(b),
          });
          return (await r.json()) as { code: string; data: unknown };
        },
        [`${served.jsapi}/api/v1/pair`, body] as const,
      );

      await nav('apps');
      const card = page.getByTestId('pairing');
      await card.waitFor({ timeout: 15_000 });
      assert.equal(await page.getByTestId('pairing-origin').innerText(), siteOrigin);
      assert.equal(await page.getByTestId('pairing-app').innerText(), 'contracts.pairing');
      assert.match(
        await page.getByTestId('pairing-fingerprint').innerText(),
        /^([0-9a-f]{4} ){15}[0-9a-f]{4}$/,
      );
      await shot('apps-pairing', 'zh-CN');
      await page.getByTestId('pairing-approve').click();
      await card.waitFor({ state: 'detached' });
      const r = await answer;
      assert.equal(r.code, '0', JSON.stringify(r));
      // Now a trusted app, for exactly that origin.
      const row = page.locator('[data-testid=app-row][data-app="contracts.pairing"]');
      await row.waitFor();
      assert.match(await row.innerText(), /https:\/\/contracts\.pairing-test\.cn/);
    } finally {
      await site.close();
    }
  });

  it('adds and revokes a trusted app and a standing approval, changes a setting, verifies and exports the audit chain', async () => {
    await nav('apps');
    await page.getByTestId('app-add-open').click();
    await page.getByTestId('app-id').fill('ui-test-app');
    await page.getByTestId('app-name').fill('界面测试应用');
    const key = generateSm2KeyPair();
    const { sm2Spki, spkiToPem } = await import('../../main/core/pki/keys');
    await page.getByTestId('app-key').fill(spkiToPem(sm2Spki(key.publicKey)));
    await page
      .getByTestId('app-origins')
      .fill('https://sign.example.com\nhttp://LOCALHOST:8080/path');
    await page.getByTestId('app-add-ok').click();
    // The malformed origin is named, exactly as typed, and nothing is saved.
    await page.getByText('http://LOCALHOST:8080/path').first().waitFor();
    await page.getByTestId('app-origins').fill('https://sign.example.com\nhttp://127.0.0.1:8080');
    await page.getByTestId('app-add-ok').click();
    const row = page.locator('[data-testid=app-row][data-app=ui-test-app]');
    await row.waitFor();
    assert.deepEqual((await row.getByTestId('app-origin').allInnerTexts()).sort(), [
      'http://127.0.0.1:8080',
      'https://sign.example.com',
    ]);
    await row.getByTestId('app-revoke').click();
    await page.getByTestId('confirm-ok').click();
    await row.getByText(/已撤销|Revoked/).waitFor();

    // A standing approval for the demo app's seal, from its origin; then revoked.
    await nav('requests');
    await page.getByTestId('policy-add-open').click();
    await selectOption(page.getByTestId('policy-modal').locator('#appId'), /demo-web/);
    await page.getByTestId('policy-seal').fill(served.demo.seals[SIGN_UKEY]!);
    await page.getByTestId('policy-origin').fill(DEMO_ORIGIN);
    await page.getByTestId('policy-add-ok').click();
    const policy = page.getByTestId('policy-row').first();
    await policy.waitFor();
    assert.match(await policy.innerText(), /0 \/ 10/);
    await policy.getByTestId('policy-revoke').click();
    await page.getByTestId('confirm-ok').click();
    await page
      .getByTestId('policies-table')
      .getByText(/没有长期授权|No standing approval/)
      .waitFor();

    // A setting, saved by the agent and shown back.
    await nav('settings');
    await page.getByTestId('set-rateLimit').fill('120');
    await page.getByTestId('set-rateLimit-save').click();
    await page.getByText(/设置已保存|Setting saved/).waitFor();
    assert.equal(await page.getByTestId('set-rateLimit').inputValue(), '120');

    await nav('audit');
    await page.getByTestId('audit-search').click();
    await page.getByTestId('audit-row').first().waitFor();
    await page.getByTestId('audit-verify').click();
    const verdict = page.getByTestId('audit-verify-result');
    await verdict.waitFor();
    assert.equal(await verdict.getAttribute('data-ok'), 'true');
    const dl = page.waitForEvent('download');
    await page.getByTestId('audit-export-csv').click();
    const csv = join(files, 'audit.csv');
    await (await dl).saveAs(csv);
    const exported = readFileSync(csv, 'utf8');
    for (const action of [
      'apps.add',
      'apps.revoke',
      'policies.add',
      'settings.set',
      'keys.generate',
    ])
      assert.match(exported, new RegExp(action.replace('.', '\\.')), action);
  });

  it('shows the PKCS#11 modules, vendor profiles and the platform the agent loaded (Settings)', async () => {
    await nav('settings');
    const modules = page.getByTestId('modules-table');
    const suk = modules.locator('[data-testid=module-row][data-profile=softukey]');
    await suk.waitFor();
    assert.equal(await suk.getAttribute('data-loaded'), 'yes');
    assert.match(await suk.innerText(), /libsoftukey\.so/);
    assert.match(await suk.innerText(), /SoftUKey/);
    const hsm = modules.locator('[data-testid=module-row][data-profile=softhsm2]');
    await hsm.waitFor();
    assert.match(await hsm.innerText(), /libsofthsm2\.so/);
    const profiles = page.getByTestId('vendors-table');
    for (const id of ['softukey', 'softhsm2']) {
      const p = profiles.locator(`[data-testid=profile-row][data-id=${id}]`);
      await p.waitFor();
      assert.equal(await p.getAttribute('data-source'), 'builtin');
    }
    // The plugged demo keys are listed under the profile they run with.
    await profiles
      .locator('[data-testid=profile-row][data-id=softukey] .ant-tag')
      .filter({ hasText: '·' })
      .first()
      .waitFor();
    assert.equal(await page.getByTestId('profile-dir').innerText(), join(data, 'profiles'));
    assert.equal(await page.getByTestId('platform-state').getAttribute('data-state'), 'connected');
    assert.match(
      await page.getByTestId('platform-url').innerText(),
      /^https?:\/\/127\.0\.0\.1:\d+/,
    );
    assert.match(await page.getByTestId('platform-cert-subject').innerText(), /CN=/);
    const notAfter = Number(
      await page.getByTestId('platform-cert-validity').getAttribute('data-not-after'),
    );
    assert.ok(notAfter > Date.now(), 'the platform certificate has not expired');
  });

  it('goes through every screen in zh-CN and en-US (screenshots), and remembers the language', async () => {
    for (const lang of LANGS) {
      await setLang(lang);
      for (const s of SCREENS) {
        await nav(s);
        if (s === 'seals') {
          await page.getByTestId('seals-org').fill(orgCode);
          await page.getByTestId('seals-query').click();
          await page.getByTestId('seal-row').first().waitFor();
        }
        if (s === 'documents') {
          await page
            .getByTestId('docs-dropzone')
            .locator('input[type=file]')
            .setInputFiles(join(files, 'contract.pdf'));
          await page.getByTestId('docs-result').waitFor();
        }
        if (s === 'audit') {
          await page.getByTestId('audit-search').click();
          await page.getByTestId('audit-row').first().waitFor();
        }
        await page.waitForLoadState('networkidle');
        const title = await page.getByTestId('screen-title').innerText();
        assert.equal(/[\u4e00-\u9fff]/.test(title), lang === 'zh-CN', `${lang} ${s}: ${title}`);
        await shot(s, lang);
      }
    }
    await page.reload();
    await page.getByTestId('screen-title').waitFor();
    assert.equal(await page.evaluate('document.documentElement.lang'), 'en-US');
    assert.doesNotMatch(await page.getByTestId('screen-title').innerText(), /[\u4e00-\u9fff]/);
    await setLang('zh-CN');
    assert.deepEqual(pageErrors, []);
  });

  async function shot(name: string, lang: string): Promise<void> {
    await page.mouse.move(0, 0);
    await page.screenshot({
      path: join(SHOTS, `${lang}-${name}.png`),
      animations: 'disabled',
      // Passing toasts from earlier steps are not part of the screen.
      style: '.ant-message { display: none !important; }',
    });
  }

  /** Picks an antd Select's option by its text (opening it again if a dialog's animation ate the key). */
  async function selectOption(select: Locator, label: RegExp): Promise<void> {
    const option = page
      .locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option')
      .filter({ hasText: label });
    for (let attempt = 1; ; attempt++) {
      await select.focus();
      await page.keyboard.press('ArrowDown');
      try {
        await option.click({ timeout: 2000 });
        return;
      } catch (e) {
        if (attempt >= 4) throw e;
      }
    }
  }
});

/** Polls `fn` (in Node: the console's CSP forbids the page-side eval of waitForFunction). */
async function waitFor<T>(
  fn: () => T | undefined | Promise<T | undefined>,
  ms = 10_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
