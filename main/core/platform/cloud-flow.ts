// Waiting for a cloud seal holder's consent (seed 004 §6.2.1.4): poll `cloud/auth/result` until
// the authCode arrives, the authorisation is refused, or the caller's patience ends.
import { setTimeout as sleep } from 'node:timers/promises';
import { ResultCode } from '../../common/codes';
import { AgentError } from '../../common/errors';
import type { CloudAuthResult, CloudAuthResultParams } from './types';

export interface CloudAuthPoller {
  cloudAuthResult(params: CloudAuthResultParams): Promise<CloudAuthResult>;
}

export interface WaitOptions {
  timeoutMs: number;
  /** Default 2 s. */
  pollMs?: number;
  clock?: () => number;
}

/** The confirmed result; 2004 if the holder did not confirm in time, the platform's code if refused. */
export async function waitForCloudAuth(
  client: CloudAuthPoller,
  authId: string,
  sealCode: string,
  opts: WaitOptions,
): Promise<CloudAuthResult> {
  const clock = opts.clock ?? Date.now;
  const deadline = clock() + opts.timeoutMs;
  for (;;) {
    const result = await client.cloudAuthResult({ authId, sealCode });
    if (result.status === 'confirmed') return result;
    const left = deadline - clock();
    if (left <= 0)
      throw new AgentError(
        ResultCode.APPROVAL_TIMEOUT,
        'the seal holder did not confirm the cloud signature in time',
      );
    await sleep(Math.min(opts.pollMs ?? 2_000, left));
  }
}
