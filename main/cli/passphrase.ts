import { badParam } from '../common/errors';
import { promptHidden, readSecretFile } from './io';

/** Where the key store passphrase may come from, besides a 0600 file and a terminal prompt. */
export const PASSPHRASE_ENV = 'UKEY_AGENT_PASSPHRASE';

/** The agent's key store passphrase: `--passphrase-file` (0600), the environment, or a hidden prompt. */
export async function passphraseOf(o: { passphraseFile?: string }): Promise<string> {
  if (o.passphraseFile) return readSecretFile(o.passphraseFile, 'passphrase');
  const env = process.env[PASSPHRASE_ENV];
  if (env) return env;
  const typed = await promptHidden('secret store passphrase: ');
  if (!typed) {
    throw badParam(
      `a passphrase is required: --passphrase-file (mode 0600), $${PASSPHRASE_ENV} or a terminal`,
    );
  }
  return typed;
}
