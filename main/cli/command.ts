import type { Command } from 'commander';
import { fail } from './io';
import type { GlobalOptions } from './io';

/** --data-dir and --json, which the contract gives every command. */
export function globalOptions(cmd: Command): Command {
  return cmd
    .option(
      '--data-dir <dir>',
      "the agent's state directory (default: $UKEY_AGENT_DATA_DIR or the OS's per-user data dir)",
    )
    .option('--json', 'print the result as the contract envelope {code,message,data}');
}

/** Wraps a command body: options in, contract-coded failures out, exit code set. */
export function action<O extends GlobalOptions>(fn: (opts: O, cmd: Command) => Promise<void>) {
  return async (...args: unknown[]): Promise<void> => {
    const cmd = args[args.length - 1] as Command;
    const opts = cmd.opts<O>();
    try {
      await fn(opts, cmd);
    } catch (e) {
      process.exitCode = fail(opts, e);
    }
  };
}
