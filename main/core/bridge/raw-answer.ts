import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ResultCode } from '../../common/codes';
import type { Envelope } from '../../common/codes';

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
};

/**
 * A whole HTTP/1.1 answer carrying a contract envelope, for sockets no ServerResponse owns (requests
 * Node's parser refused, refused WebSocket upgrades): the connection is closed after it.
 */
export function rawEnvelope(status: number, env: Envelope): string {
  const body = JSON.stringify(env);
  return [
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'X-Content-Type-Options: nosniff',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * The status and words for an error Node's HTTP layer raised on a client socket (parse errors,
 * header overflow, headersTimeout / requestTimeout): always 1001, never the error's own text.
 */
export function clientErrorAnswer(err: Error & { code?: string }): {
  status: number;
  env: Envelope;
} {
  const env = (message: string): Envelope => ({ code: ResultCode.BAD_PARAM, message, data: null });
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ETIMEDOUT':
      return { status: 408, env: env('request timed out') };
    case 'HPE_HEADER_OVERFLOW':
    case 'ERR_HTTP_HEADER_OVERFLOW':
      return { status: 431, env: env('request headers too large') };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, env: env('chunk extensions too large') };
    default:
      return { status: 400, env: env('malformed request') };
  }
}

/**
 * Answers a client error with the envelope when the socket can still take a whole answer (no
 * answer of the request in progress has started), then closes the socket. `current` is the last
 * ServerResponse made on this socket, if any.
 */
export function answerClientError(
  err: Error & { code?: string },
  socket: Duplex,
  current: ServerResponse | undefined,
): void {
  const midAnswer = current !== undefined && current.headersSent && !current.writableFinished;
  if (!socket.writable || midAnswer) {
    socket.destroy();
    return;
  }
  const { status, env } = clientErrorAnswer(err);
  // end() flushes the answer before the close; the timer covers a peer that never reads.
  const guard = setTimeout(() => socket.destroy(), 2_000);
  guard.unref();
  socket.end(rawEnvelope(status, env), () => {
    clearTimeout(guard);
    socket.destroy();
  });
}
