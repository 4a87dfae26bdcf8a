/** An error in words an operator can act on: what to do (by code), the agent's message, the code. */
import { Alert } from 'antd';
import { useT } from '../i18n';
import type { MessageKey } from '../i18n';

const ADVICE: Record<string, MessageKey> = {
  '1001': 'err.1001',
  '1002': 'err.1002',
  '1003': 'err.1003',
  '1004': 'err.1004',
  '1005': 'err.1005',
  '1006': 'err.1006',
  '2001': 'err.2001',
  '2002': 'err.2002',
  '2003': 'err.2003',
  '2004': 'err.2004',
  '2005': 'err.2005',
  '2006': 'err.2006',
  '2007': 'err.2007',
  '3001': 'err.3001',
  '5000': 'err.5000',
};

export function errorCode(e: unknown): string {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string')
    return e.code;
  return '5000';
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function ErrorAlert(props: {
  error: unknown;
  testId?: string;
  onRetry?: () => void;
}): JSX.Element | null {
  const t = useT();
  if (props.error === undefined || props.error === null) return null;
  const code = errorCode(props.error);
  const msg = errorMessage(props.error);
  const notAvailable = /not available in this build/.test(msg);
  // The agent says how many PIN tries are left; the operator reads it in their language.
  const tries = code === '2002' ? /(\d+) tr(?:y|ies) left/.exec(msg)?.[1] : undefined;
  const finalTry = code === '2002' && /final try|last try/i.test(msg);
  return (
    <Alert
      type="error"
      showIcon
      data-testid={props.testId ?? 'error'}
      data-code={code}
      style={{ marginBottom: 12 }}
      message={t(notAvailable ? 'err.notAvailable' : (ADVICE[code] ?? 'err.5000'))}
      description={
        <span>
          {tries !== undefined && (
            <strong data-testid="tries-left" data-tries={tries} style={{ display: 'block' }}>
              {Number(tries) <= 1 ? t('pin.finalTry') : t('pin.triesLeft', { n: tries })}
            </strong>
          )}
          {tries === undefined && finalTry && (
            <strong data-testid="tries-left" data-tries="1" style={{ display: 'block' }}>
              {t('pin.finalTry')}
            </strong>
          )}
          {msg}{' '}
          <span className="err-code">
            ({t('err.code')} {code})
          </span>
        </span>
      }
      action={
        props.onRetry ? (
          <a onClick={props.onRetry} data-testid="error-retry">
            {t('common.retry')}
          </a>
        ) : undefined
      }
    />
  );
}
