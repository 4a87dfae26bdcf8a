import type { PinHost, PinKind, PinRequest } from '../core/host';
import { badParam } from '../common/errors';
import { promptHidden, readSecretFile } from './io';

export interface PinSources {
  pinFile?: string;
  soPinFile?: string;
  newPinFile?: string;
  /** Literal PINs: only the software UKey's test provisioning passes these on argv. */
  literal?: Partial<Record<PinKind, string>>;
}

const ENV: Record<PinKind, string> = {
  user: 'UKEY_PIN',
  so: 'UKEY_SO_PIN',
  'new-user': 'UKEY_NEW_PIN',
  'new-so': 'UKEY_NEW_SO_PIN',
};

const LABEL: Record<PinKind, string> = {
  user: 'PIN',
  so: 'SO PIN',
  'new-user': 'new PIN',
  'new-so': 'new SO PIN',
};

/**
 * The operator console's PIN source: a 0600 file, the environment variable, or a hidden prompt on
 * the terminal. Each PIN is given once per command; a wrong one is reported, never re-asked.
 */
export class CliPinHost implements PinHost {
  constructor(private readonly src: PinSources) {}

  async askPin(req: PinRequest): Promise<string | null> {
    const lit = this.src.literal?.[req.kind];
    if (lit !== undefined) return lit;
    const file =
      req.kind === 'user'
        ? this.src.pinFile
        : req.kind === 'so'
          ? this.src.soPinFile
          : this.src.newPinFile;
    if (file) return readSecretFile(file, LABEL[req.kind]);
    const env = process.env[ENV[req.kind]];
    if (env) return env;
    if (!process.stdin.isTTY) {
      throw badParam(
        `the ${LABEL[req.kind]} is needed (${req.reason}): give --${req.kind === 'user' ? 'pin' : req.kind === 'so' ? 'so-pin' : 'new-pin'}-file or set ${ENV[req.kind]}`,
      );
    }
    const tries = req.triesLeft !== undefined ? ` (${req.triesLeft} tries left)` : '';
    const first = await promptHidden(
      `${LABEL[req.kind]} for UKey ${req.ukeyId} "${req.tokenLabel}" — ${req.reason}${tries}: `,
    );
    if (first === null || !req.kind.startsWith('new')) return first;
    const again = await promptHidden(`repeat the ${LABEL[req.kind]}: `);
    if (again !== first) throw badParam('the two new PINs differ');
    return first;
  }
}
