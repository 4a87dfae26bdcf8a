import type { Readable, Writable } from 'node:stream';
import type { AgentHost, ApprovalDecision, ApprovalRequest, PinRequest } from '../core/host';
import { readSecretFile } from './io';

export interface ConsoleHostOptions {
  input: Readable & { isTTY?: boolean; setRawMode?: (on: boolean) => unknown };
  output: Writable;
  /** An operator is at the terminal: requests are shown and answered y/N. */
  interactive: boolean;
  /** Unattended signing: the user PIN from a 0600 file given by the operator at start. */
  pinFile?: string;
}

/**
 * The headless agent's approval host: the operator console. Each signature request is shown with
 * the origin exactly as the browser sent it and answered y/N; the PIN is typed with hidden input.
 * Prompts are taken one at a time, in arrival order. Without a terminal nothing is approved except
 * by a standing policy (checked before this host is asked).
 */
export class ConsoleHost implements AgentHost {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: ConsoleHostOptions) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  async askPin(req: PinRequest): Promise<string | null> {
    if (req.kind === 'user' && this.o.pinFile) return readSecretFile(this.o.pinFile, 'PIN');
    if (!this.o.interactive) return null;
    return this.serial(async () => {
      const tries = req.triesLeft !== undefined ? ` (${req.triesLeft} tries left)` : '';
      return this.readLine(
        `\nPIN for UKey ${req.ukeyId} "${req.tokenLabel}" — ${req.reason}${tries}: `,
        true,
        undefined,
      );
    });
  }

  approve(req: ApprovalRequest, signal: AbortSignal): Promise<ApprovalDecision> {
    if (!this.o.interactive) return Promise.resolve('declined');
    return this.serial(async () => {
      if (signal.aborted) return 'declined';
      const w = (s: string): boolean => this.o.output.write(s + '\n');
      w('');
      w('──── 签名请求 / signature request ────');
      w(`来源 origin:   ${req.origin}   (as sent by the browser)`);
      w(`应用 app:      ${req.appId}${req.appName ? ` (${req.appName})` : ''}`);
      w(`印章 seal:     ${req.sealName} [${req.sealCode}]`);
      w(
        `UKey:          ${req.ukeyId} "${req.tokenLabel}"${req.development ? '  [DEVELOPMENT TOKEN]' : ''}`,
      );
      w(`证书 cert:     ${req.certSubject}`);
      w(`格式 format:   ${req.format}, ${req.hashName.toUpperCase()}`);
      const hex = req.digestHex;
      w(
        `摘要 digest:   ${hex.length > 96 ? `${hex.slice(0, 96)}…` : hex} (${hex.length / 2} bytes)`,
      );
      const line = await this.readLine(
        'Approve this signature? 是否同意签名? [y/N] ',
        false,
        signal,
      );
      if (line === null) {
        this.o.output.write('\n(timed out / 超时)\n');
        return 'declined';
      }
      return /^(y|yes|是)$/i.test(line.trim()) ? 'approved' : 'declined';
    });
  }

  /**
   * Shows `prompt` and reads one line. Hidden input switches the terminal to raw mode (no echo)
   * before the prompt is written, so keys typed the moment it appears are never echoed.
   */
  private readLine(
    prompt: string,
    hidden: boolean,
    signal: AbortSignal | undefined,
  ): Promise<string | null> {
    const input = this.o.input;
    const raw = hidden && input.isTTY && typeof input.setRawMode === 'function';
    return new Promise((resolve) => {
      let buf = '';
      const done = (v: string | null): void => {
        input.off('data', onData);
        signal?.removeEventListener('abort', onAbort);
        if (raw) input.setRawMode!(false);
        input.pause();
        if (hidden) this.o.output.write('\n');
        resolve(v);
      };
      const onAbort = (): void => done(null);
      const onData = (chunk: Buffer | string): void => {
        for (const ch of chunk.toString()) {
          if (ch === '\r' || ch === '\n') return done(buf);
          if (ch === '\u0003') return done(null);
          if (ch === '\u007f' || ch === '\b') buf = buf.slice(0, -1);
          else buf += ch;
        }
      };
      if (raw) input.setRawMode!(true);
      this.o.output.write(prompt);
      signal?.addEventListener('abort', onAbort, { once: true });
      input.on('data', onData);
      input.resume();
    });
  }
}
