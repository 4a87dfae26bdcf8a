/**
 * Runs a command on a pseudo-terminal (util-linux `script`), so code that behaves differently at a
 * terminal — the headless agent's y/N approval prompt and hidden PIN input — is driven for real:
 * the test reads what the operator would see and types the answers.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export interface PtyProcess {
  readonly child: ChildProcess;
  /** Everything printed so far (stdout and stderr share the terminal). */
  output(): string;
  /** Waits until the output after `from` matches; answers the match and where it ended. */
  waitFor(
    re: RegExp,
    opts?: { from?: number; timeoutMs?: number },
  ): Promise<{ text: string; end: number }>;
  /** Types into the terminal (use '\r' for Enter). */
  type(text: string): void;
  kill(signal?: NodeJS.Signals): void;
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function spawnOnPty(command: string, args: string[], env?: NodeJS.ProcessEnv): PtyProcess {
  const line = [command, ...args].map(shellQuote).join(' ');
  // -q: no banner, -f: flush each write, -e: exit with the command's code, -c: run this command.
  const child = spawn('script', ['-qfec', line, '/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env, TERM: 'dumb' },
  });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer): void => {
    out += d.toString('utf8');
    for (const w of [...waiters]) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  child.on('exit', () => {
    for (const w of [...waiters]) w();
  });
  return {
    child,
    output: () => out,
    waitFor(re, opts = {}) {
      const from = opts.from ?? 0;
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const rest = out.slice(from);
          const m = re.exec(rest);
          if (m) {
            done();
            resolve({ text: m[0], end: from + m.index + m[0].length });
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`process ended before ${re}; output:\n${out.slice(-2000)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${re}; output:\n${out.slice(-2000)}`));
        }, opts.timeoutMs ?? 30_000);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    type: (text) => {
      child.stdin!.write(text);
    },
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
    },
  };
}
