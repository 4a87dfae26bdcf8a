// The demo web app end to end in Chromium: a headless `serve --demo` on a terminal (a pty), the demo
// web app on its registered origin, and the page driven like a user. The signer approves in the
// agent's console: the test reads the prompt the operator sees and types y/N and the PIN.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { PDFDict, PDFDocument, PDFName, PDFStream } from '@cantoo/pdf-lib';
import { extractPdfSignatures } from '../../main/core/pdf/extract';
import { digestForSignature } from '../../main/core/pdf/prepare';
import { verifyDetachedSignedData } from '../../main/core/pki/cms';
import type { DocumentVerifyResult } from '../../main/core/pdf/types';
import { startDemoWeb } from '../../main/cli/demo-web/server';
import type { DemoWebServer } from '../../main/cli/demo-web/server';
import { demoSealPng } from '../../main/core/demo/seal-image';
import { tempDir } from '../helpers/dev-tokens';
import { spawnOnPty } from '../helpers/pty';
import type { PtyProcess } from '../helpers/pty';
import { REPO_ROOT, chromiumMissing, launchChromium } from '../helpers/chromium';

const BIN = join(REPO_ROOT, 'bin', 'ukey-agent.js');
const UKEY = 'SUKDEMO0001';
const SM3_OID = '1.2.156.10197.1.401';

describe('demo web app: seal a real PDF through the agent', { skip: chromiumMissing() }, () => {
  const data = tempDir('demo-web');
  let agent: PtyProcess;
  let agentPort = 0;
  let seals: Record<string, string> = {};
  let web: DemoWebServer;
  let browser: Browser;
  let page: Page;

  const cli = (args: string[]): string => {
    const r = spawnSync(process.execPath, [BIN, ...args, '--data-dir', data], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    return r.stdout;
  };

  /** Opens the page, picks the SUKDEMO0001 seal and clicks sign. */
  async function pickAndSign(): Promise<void> {
    await page.goto(web.url);
    await page.locator(`input[name="seal"][value="${seals[UKEY]}"]`).check();
    await page.locator('#agent-status[data-state="ok"]').waitFor();
    await page.locator('#sign:not([disabled])').click();
  }

  before(async () => {
    // No --pin-file: the PIN is asked at the terminal, with hidden input.
    agent = spawnOnPty(process.execPath, [
      BIN,
      'serve',
      '--demo',
      '--data-dir',
      data,
      '--port',
      '0',
      '--json',
    ]);
    const { text: line } = await agent.waitFor(/\{"code":"0","message":"listening".*\}\r?\n/, {
      timeoutMs: 60_000,
    });
    const out = JSON.parse(line.trim()) as {
      data: { jsapi: string; interactive: boolean; demo: { seals: Record<string, string> } };
    };
    assert.equal(out.data.interactive, true, 'the agent sees a terminal');
    agentPort = Number(new URL(out.data.jsapi).port);
    seals = out.data.demo.seals;
    // 18790: the origin `serve --demo` registers for demo-web (DEMO_ORIGINS).
    web = await startDemoWeb({ dataDir: data, port: 18790, agentPort }).catch((e: Error) => {
      throw new Error(`the demo web app needs 127.0.0.1:18790 (is \`demo-web\` running?): ${e}`);
    });
    browser = await launchChromium();
    page = await (await browser.newContext({ acceptDownloads: true })).newPage();
  });

  after(async () => {
    await browser?.close();
    await web?.close();
    agent?.kill('SIGTERM');
    rmSync(data, { recursive: true, force: true });
  });

  /** Waits for the console's approval prompt after `from`; checks what the signer is shown. */
  async function promptShown(from: number): Promise<number> {
    const { end } = await agent.waitFor(/Approve this signature\? .*\[y\/N\] /, { from });
    const prompt = agent.output().slice(from, end);
    // The origin exactly as the browser sent it, the app, the seal, the key and the digest.
    assert.match(prompt, /origin:\s+http:\/\/127\.0\.0\.1:18790\s/);
    assert.match(prompt, /app:\s+demo-web/);
    assert.match(prompt, new RegExp(`seal:.*\\[${seals[UKEY]}\\]`));
    assert.match(prompt, new RegExp(`UKey:\\s+${UKEY} .*\\[DEVELOPMENT TOKEN\\]`));
    assert.match(prompt, /format:\s+P7, SM3/);
    assert.match(prompt, /digest:\s+[0-9a-f]{64} \(32 bytes\)/);
    return end;
  }

  it('declined at the agent console: the page shows the decline, code 2003', async () => {
    const from = agent.output().length;
    await pickAndSign();
    await promptShown(from);
    agent.type('n\r');
    const error = page.locator('#error[data-code="2003"]');
    await error.waitFor({ timeout: 20_000 });
    assert.match(await error.innerText(), /declined.*code 2003/);
    assert.equal(await page.locator('#result').isVisible(), false);
  });

  it('approved at the console with the PIN: the platform verifies the sealed PDF, it downloads', async () => {
    const from = agent.output().length;
    const answer = page.waitForResponse(
      (r) => r.url().endsWith('/signature') && r.request().method() === 'POST',
      { timeout: 60_000 },
    );
    await pickAndSign();
    const shown = await promptShown(from);
    agent.type('y\r');
    const { end } = await agent.waitFor(/PIN for UKey SUKDEMO0001 .*: /, { from: shown });
    agent.type('123456\r');
    const res = await answer;
    // Hidden input: the PIN never appears on the terminal.
    assert.doesNotMatch(agent.output().slice(end), /123456/);
    assert.equal(res.status(), 200, await res.text());
    const { verdict } = (await res.json()) as { verdict: DocumentVerifyResult };
    assert.equal(verdict.verifyResult, true, JSON.stringify(verdict));
    assert.equal(verdict.signCount, 1);
    const detail = verdict.details[0]!;
    assert.equal(detail.sealCode, seals[UKEY]);
    assert.ok(detail.flowVoList.length >= 4);
    assert.ok(detail.flowVoList.every((s) => s.status === 1));

    // What the user sees: verified, and each of the platform's steps passed.
    await page.locator('#verdict[data-verified="true"]').waitFor();
    assert.match(await page.locator('#verdict').innerText(), /Verified/);
    assert.equal(
      await page.locator('#steps li[data-status="1"]').count(),
      detail.flowVoList.length,
    );
    assert.equal(await page.locator('#steps li[data-status="0"]').count(), 0);
    assert.equal(await page.locator('#error').isVisible(), false);

    mkdirSync(join(REPO_ROOT, 'test-results'), { recursive: true });
    await page.screenshot({
      path: join(REPO_ROOT, 'test-results', 'demo-web.png'),
      fullPage: true,
    });

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#download').click(),
    ]);
    assert.match(download.suggestedFilename(), /^contract-DEMO-.*\.pdf$/);
    const pdf = readFileSync((await download.path())!);
    const sigs = extractPdfSignatures(pdf);
    assert.equal(sigs.length, 1);
    const sig = sigs[0]!;
    assert.ok(sig.coversWholeFile);
    const p7 = verifyDetachedSignedData(sig.contents, {
      messageDigest: digestForSignature(pdf, sig.byteRange, 'sm3'),
    });
    assert.equal(p7.valid, true, p7.errors.join('; '));
    assert.equal(p7.digestAlgorithmOid, SM3_OID);
    assert.ok(p7.signerCertificate.publicKey.sm2Point, 'an SM2 signer certificate');

    // The signature field shows the seal: its appearance draws an image of the platform's seal
    // image (moulageData) size.
    const doc = await PDFDocument.load(pdf, { updateMetadata: false });
    const field = doc
      .getForm()
      .getFields()
      .find((f) => f.constructor.name === 'PDFSignature');
    assert.ok(field, 'a signature field');
    const widget = field.acroField.getWidgets()[0]!;
    const ap = widget.dict.lookup(PDFName.of('AP'), PDFDict);
    const normal = ap.lookup(PDFName.of('N'), PDFStream);
    const xobjects = normal.dict
      .lookup(PDFName.of('Resources'), PDFDict)
      .lookup(PDFName.of('XObject'), PDFDict);
    const images = xobjects
      .keys()
      .map((k) => xobjects.lookup(k, PDFStream))
      .filter((x) => x.dict.get(PDFName.of('Subtype'))?.toString() === '/Image');
    assert.equal(images.length, 1, 'one image in the seal appearance');
    const png = demoSealPng();
    const dims = [png.readUInt32BE(16), png.readUInt32BE(20)];
    assert.deepEqual(
      [
        images[0]!.dict.get(PDFName.of('Width'))?.toString(),
        images[0]!.dict.get(PDFName.of('Height'))?.toString(),
      ],
      dims.map(String),
      'the seal image as the platform holds it',
    );
  });

  it('under a standing policy, the next request is signed with no prompt at the console', async () => {
    cli([
      'policy',
      'add',
      '--app-id',
      'demo-web',
      '--seal-code',
      seals[UKEY]!,
      '--max-count',
      '5',
      '--ttl',
      '10m',
    ]);
    const from = agent.output().length;
    const answer = page.waitForResponse(
      (r) => r.url().endsWith('/signature') && r.request().method() === 'POST',
      { timeout: 30_000 },
    );
    await pickAndSign();
    const res = await answer;
    assert.equal(res.status(), 200, await res.text());
    const { verdict } = (await res.json()) as { verdict: DocumentVerifyResult };
    assert.equal(verdict.verifyResult, true, JSON.stringify(verdict));
    await page.locator('#verdict[data-verified="true"]').waitFor();
    assert.doesNotMatch(agent.output().slice(from), /Approve this signature/);
  });
});
