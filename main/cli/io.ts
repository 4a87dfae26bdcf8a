import { statSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { AgentError, badParam, toAgentError } from '../common/errors';
import { ResultCode } from '../common/codes';
import type { Envelope } from '../common/codes';

export interface GlobalOptions {
  dataDir?: string;
  json?: boolean;
}

/** The agent's state directory: --data-dir, $UKEY_AGENT_DATA_DIR, else the OS's per-user data dir. */
export function dataDirOf(opts: GlobalOptions): string {
  if (opts.dataDir) return resolve(opts.dataDir);
  if (process.env.UKEY_AGENT_DATA_DIR) return resolve(process.env.UKEY_AGENT_DATA_DIR);
  if (process.platform === 'win32')
    return join(process.env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'ukey-agent');
  if (process.platform === 'darwin')
    return join(homedir(), 'Library', 'Application Support', 'ukey-agent');
  return join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'ukey-agent');
}

/** Writes a command's result: the contract envelope with --json, readable text otherwise. */
export function emit<T>(opts: GlobalOptions, data: T, human: (d: T) => string): void {
  if (opts.json) {
    const env: Envelope<T> = { code: ResultCode.OK, message: 'ok', data };
    process.stdout.write(JSON.stringify(env) + '\n');
  } else {
    const text = human(data);
    if (text) process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  }
}

/** Reports a failure in the envelope (stdout, --json) or as one line on stderr; answers the exit code. */
export function fail(opts: GlobalOptions, e: unknown): number {
  const err = toAgentError(e);
  if (opts.json) process.stdout.write(JSON.stringify(err.toEnvelope()) + '\n');
  else process.stderr.write(`error ${err.code}: ${err.message}\n`);
  if (process.env.UKEY_AGENT_DEBUG && err.detail)
    process.stderr.write(`detail: ${JSON.stringify(err.detail)}\n`);
  return err.code === ResultCode.BAD_PARAM ? 2 : 1;
}

/** Reads a secret from a file that only its owner may read (mode 0600 or stricter). */
export function readSecretFile(path: string, what: string): string {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw badParam(`${what} file not found: ${path}`);
  }
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw badParam(`${what} file ${path} must not be readable by group or others (chmod 600)`);
  }
  return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
}

/** Reads a line from the terminal without echoing it. */
export async function promptHidden(question: string): Promise<string | null> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return null;
  // Echo off before the question shows, so type-ahead is never echoed.
  stdin.setRawMode(true);
  process.stderr.write(question);
  stdin.resume();
  return new Promise((resolveLine) => {
    let buf = '';
    const done = (v: string | null): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      resolveLine(v);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(buf);
        if (ch === '\u0003' || ch === '\u001b') return done(null);
        if (ch === '\u007f' || ch === '\b') buf = buf.slice(0, -1);
        else buf += ch;
      }
    };
    stdin.on('data', onData);
  });
}

export const requireOption = (v: string | undefined, name: string): string => {
  if (v === undefined || v === '') throw badParam(`${name} is required`);
  return v;
};

export { AgentError };
