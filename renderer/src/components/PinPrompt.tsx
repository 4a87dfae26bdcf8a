/**
 * The agent's PIN prompt: when the core needs a PIN (sign, CSR, change or unblock PIN) the agent
 * pushes 'pin.requested' and waits for 'pins.answer'. The PIN goes to the agent only; a cancel
 * answers null. Tries left (when the key tells) are shown, in red on the final try.
 */
import { Alert, Button, Input, Modal, Typography } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { useCall, useEvent } from '../api/context';
import type { PinPromptView } from '../../../main/common/operator-api';
import { useT } from '../i18n';
import type { MessageKey } from '../i18n';
import { ErrorAlert } from './ErrorAlert';

const KIND_TITLE: Record<PinPromptView['kind'], MessageKey> = {
  user: 'pin.kind.user',
  so: 'pin.kind.so',
  'new-user': 'pin.kind.newUser',
  'new-so': 'pin.kind.newSo',
  passphrase: 'pin.kind.passphrase',
};

export function PinPrompt(): JSX.Element | null {
  const call = useCall();
  const [queue, setQueue] = useState<PinPromptView[]>([]);
  // Prompts answered or resolved here: a pending list fetched before they were settled must not
  // bring them back (it would show a prompt the agent no longer waits for).
  const settled = useRef(new Set<string>());
  const settle = (requestId: string): void => {
    settled.current.add(requestId);
    setQueue((q) => q.filter((x) => x.requestId !== requestId));
  };
  useEffect(() => {
    // Prompts asked before this page loaded (a reload while the agent waits).
    call('pins.pending', {}).then(
      (list) =>
        setQueue((q) => [
          ...q,
          ...list.filter(
            (p) => !settled.current.has(p.requestId) && !q.some((x) => x.requestId === p.requestId),
          ),
        ]),
      () => undefined,
    );
  }, [call]);
  useEvent('pin.requested', (p) =>
    setQueue((q) => [...q.filter((x) => x.requestId !== p.requestId), p]),
  );
  useEvent('pin.resolved', (p) => settle(p.requestId));
  const current = queue[0];
  if (!current) return null;
  return (
    <PinDialog key={current.requestId} req={current} onDone={() => settle(current.requestId)} />
  );
}

function PinDialog(props: { req: PinPromptView; onDone(): void }): JSX.Element {
  const t = useT();
  const call = useCall();
  const r = props.req;
  const [pin, setPin] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const answer = async (value: string | null): Promise<void> => {
    setBusy(true);
    try {
      await call(
        'pins.answer',
        value === null
          ? { requestId: r.requestId, cancel: true }
          : { requestId: r.requestId, pin: value },
      );
      props.onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const low = r.triesLeft !== undefined && r.triesLeft <= 1;
  return (
    <Modal
      open
      maskClosable={false}
      title={t(KIND_TITLE[r.kind])}
      onCancel={() => void answer(null)}
      footer={[
        <Button key="c" data-testid="pin-cancel" disabled={busy} onClick={() => void answer(null)}>
          {t('common.cancel')}
        </Button>,
        <Button
          key="ok"
          type="primary"
          data-testid="pin-ok"
          loading={busy}
          disabled={pin.length === 0}
          onClick={() => void answer(pin)}
        >
          {t('common.ok')}
        </Button>,
      ]}
    >
      <div data-testid="pin-modal" data-kind={r.kind} data-request-id={r.requestId}>
        <Typography.Paragraph>
          {r.tokenLabel && <Typography.Text strong>{r.tokenLabel} — </Typography.Text>}
          {r.reason}
        </Typography.Paragraph>
        {r.previousAttemptFailed && (
          <Alert
            type="error"
            showIcon
            style={{ marginBottom: 8 }}
            message={t('pin.wrong')}
            data-testid="pin-wrong"
          />
        )}
        {r.triesLeft !== undefined && (
          <Alert
            type={low ? 'error' : 'warning'}
            showIcon
            style={{ marginBottom: 8 }}
            data-testid="pin-tries-left"
            message={low ? t('pin.finalTry') : t('pin.triesLeft', { n: r.triesLeft })}
          />
        )}
        <Input.Password
          autoFocus
          data-testid="pin-input"
          value={pin}
          maxLength={r.kind === 'passphrase' ? 256 : 64}
          autoComplete="off"
          onChange={(e) => setPin(e.target.value)}
          onPressEnter={() => pin && void answer(pin)}
        />
        <ErrorAlert error={error} testId="pin-error" />
      </div>
    </Modal>
  );
}
