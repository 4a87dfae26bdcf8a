/**
 * The only place the main process listens to the renderer. Every operator channel is registered on
 * ipcMain.handle; each call is checked, in this order, before the agent sees it: the sender is one
 * of our windows, its frame is the top frame on our own renderer origin, the payload has the
 * method's shape. Every answer is the contract's envelope, and a fault's text never leaves the main
 * process (no stack, no path): unknown faults are 5000 'internal error'.
 */
import { ResultCode } from '../common/codes';
import { AgentError, toAgentError } from '../common/errors';
import { OPERATOR_METHODS, operatorChannel, validateRequest } from '../common/ipc-channels';
import type { OperatorApi, OperatorMethod, OperatorReply } from '../common/operator-api';
import type { IpcMainInvokeEventLike, IpcMainLike, WebContentsLike } from './electron-types';
import { isAppUrl } from './renderer-origin';
import type { RendererLocation } from './renderer-origin';

export interface IpcRouterOptions {
  ipcMain: IpcMainLike;
  service: OperatorApi;
  /** Whether the contents belong to a window our factory made (window-factory.ts `owns`). */
  ownsSender: (contents: WebContentsLike) => boolean;
  renderer?: RendererLocation;
  log?: (msg: string, detail?: unknown) => void;
}

/** Why a sender is refused, or undefined when it is ours. */
export function senderProblem(
  event: IpcMainInvokeEventLike,
  o: Pick<IpcRouterOptions, 'ownsSender' | 'renderer'>,
): string | undefined {
  if (!event || !event.sender || !o.ownsSender(event.sender)) return 'not one of our windows';
  const frame = event.senderFrame;
  if (!frame) return 'the frame is gone';
  // Subframes (none exist by design) never speak for the window.
  if (frame.parent !== null && frame.parent !== undefined) return 'not the top frame';
  if (!isAppUrl(frame.url, o.renderer)) return 'not the app origin';
  return undefined;
}

const refused = (): AgentError =>
  new AgentError(ResultCode.APP_NOT_ALLOWED, 'this window may not use the operator API');

/** Registers every operator channel; answers the function that removes them again. */
export function registerOperatorIpc(o: IpcRouterOptions): () => void {
  const channels: string[] = [];
  for (const method of OPERATOR_METHODS) {
    const channel = operatorChannel(method);
    o.ipcMain.handle(channel, (event, ...args) => handle(o, method, event, args));
    channels.push(channel);
  }
  return () => {
    for (const c of channels) o.ipcMain.removeHandler(c);
  };
}

async function handle(
  o: IpcRouterOptions,
  method: OperatorMethod,
  event: IpcMainInvokeEventLike,
  args: unknown[],
): Promise<OperatorReply<unknown>> {
  try {
    const problem = senderProblem(event, o);
    if (problem) {
      o.log?.('operator IPC refused', { method, problem, url: event?.senderFrame?.url });
      throw refused();
    }
    if (args.length !== 1)
      throw new AgentError(ResultCode.BAD_PARAM, 'one request object expected');
    const request = validateRequest(method, args[0]);
    const call = o.service[method] as (r: unknown) => Promise<unknown>;
    const data = await call(request);
    return { code: ResultCode.OK, message: 'ok', data: data === undefined ? null : data };
  } catch (e) {
    const err = toAgentError(e);
    if (err.code === ResultCode.INTERNAL) o.log?.(`operator ${method} failed`, err.detail ?? e);
    return { code: err.code as Exclude<ResultCode, '0'>, message: err.message, data: null };
  }
}
