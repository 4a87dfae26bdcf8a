import { Command, CommanderError } from 'commander';
import { softukeyCommand } from './commands/softukey';
import { tokenCommand } from './commands/token';
import { demoPkiCommand } from './commands/demo-pki';
import { appsCommand } from './commands/apps';
import { policyCommand } from './commands/policy';
import { auditCommand } from './commands/audit';
import { platformCommand } from './commands/platform';
import { serveCommand } from './commands/serve';
import { demoCallCommand } from './commands/demo-call';
import { demoWebCommand } from './commands/demo-web';
import { tlsCommand } from './commands/tls';
import { relayCommand } from './commands/relay';
import { settingsCommand } from './commands/settings';
import { version } from '../common/version';

/** The ukey-agent CLI: one command group per file under commands/. */
export function buildProgram(): Command {
  const program = new Command('ukey-agent')
    .description(
      'UKey signing agent: PKCS#11 UKeys (SM2/RSA), the localhost JSAPI bridge, e-seal platform interop',
    )
    .version(version, '-V, --version')
    .showHelpAfterError()
    .exitOverride();
  program.addCommand(softukeyCommand());
  program.addCommand(tokenCommand());
  program.addCommand(demoPkiCommand());
  program.addCommand(appsCommand());
  program.addCommand(policyCommand());
  program.addCommand(auditCommand());
  program.addCommand(platformCommand());
  program.addCommand(serveCommand());
  program.addCommand(demoCallCommand());
  program.addCommand(demoWebCommand());
  program.addCommand(relayCommand());
  program.addCommand(settingsCommand());
  program.addCommand(tlsCommand());
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write('error 5000: internal error\n');
    return 1;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}
