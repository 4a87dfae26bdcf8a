/**
 * The agent's PIN prompt: when the core needs a PIN (sign, CSR, change or unblock PIN) the agent
 * pushes 'pin.requested' and waits for 'pins.answer'. The PIN goes to the agent only; a cancel
 * answers null. Tries left (when the key tells) are shown, in red on the final try.
 */
import { Alert, Button, Input, Modal, Typography } from 'antd';
import { useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { useCall, useConnection, useEvent } from '../api/context';
import type { PinPromptView, PinPurpose } from '../../../main/common/operator-api';
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

/**
 * `only`: the desktop's PIN window for one prompt (the agent closes it once answered); `onIdle`
 * renders what such a window shows when that prompt is not (or no longer) waiting.
 */
export function PinPrompt(props: { only?: string; idle?: ReactNode } = {}): JSX.Element | null {
  const call = useCall();
  const [queue, setQueue] = useState<PinPromptView[]>([]);
  const [loaded, setLoaded] = useState(false);
  // Prompts answered or resolved here: a pending list fetched before they were settled must not
  // bring them back (it would show a prompt the agent no longer waits for).
  const settled = useRef(new Set<string>());
  const settle = (requestId: string): void => {
    settled.current.add(requestId);
    setQueue((q) => q.filter((x) => x.requestId !== requestId));
  };
  const connection = useConnection();
  useEffect(() => {
    // Prompts asked before this page loaded (a reload while the agent waits), and again when the
    // event channel comes back (a prompt pushed while it was down).
    if (connection !== 'open') return;
    call('pins.pending', {}).then(
      (list) => {
        setQueue((q) => [
          ...q,
          ...list.filter(
            (p) => !settled.current.has(p.requestId) && !q.some((x) => x.requestId === p.requestId),
          ),
        ]);
        setLoaded(true);
      },
      () => setLoaded(true),
    );
  }, [call, connection]);
  useEvent('pin.requested', (p) =>
    setQueue((q) => [...q.filter((x) => x.requestId !== p.requestId), p]),
  );
  useEvent('pin.resolved', (p) => settle(p.requestId));
  const current =
    props.only !== undefined ? queue.find((x) => x.requestId === props.only) : queue[0];
  if (!current) return loaded ? <>{props.idle ?? null}</> : null;
  return (
    <PinDialog key={current.requestId} req={current} onDone={() => settle(current.requestId)} />
  );
}

/** What the PIN is for, in the UI's language; the agent's English words when it sent no purpose. */
function purposeText(
  t: ReturnType<typeof useT>,
  p: PinPurpose | undefined,
  reason: string,
): string {
  if (!p) return reason;
  switch (p.action) {
    case 'sign':
      return t('pin.purpose.sign', { origin: p.origin, seal: p.seal });
    case 'approve':
      return t('pin.purpose.approve', { origin: p.origin });
    case 'keys':
      return t('pin.purpose.keys');
    case 'generate':
      return t('pin.purpose.generate', { label: p.label });
    case 'import-cert':
      return t('pin.purpose.importCert');
    case 'delete':
      return t('pin.purpose.delete', { label: p.label });
    case 'change-pin':
      return t(p.step === 'old' ? 'pin.purpose.changePin.old' : 'pin.purpose.changePin.new');
    case 'unblock-pin':
      return t(p.step === 'so' ? 'pin.purpose.unblockPin.so' : 'pin.purpose.unblockPin.new');
    case 'init-token':
      return t(p.step === 'so' ? 'pin.purpose.initToken.so' : 'pin.purpose.initToken.new');
  }
}

function PinDialog(props: { req: PinPromptView; onDone(): void }): JSX.Element {
  const t = useT();
  const call = useCall();
  const r = props.req;
  const [pin, setPin] = useState('');
  // A new PIN is typed twice: a typo there would lock the signer out of the key.
  const isNew = r.kind === 'new-user' || r.kind === 'new-so';
  const [again, setAgain] = useState('');
  const ready = pin.length > 0 && (!isNew || again === pin);
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
          disabled={!ready}
          onClick={() => void answer(pin)}
        >
          {t('common.ok')}
        </Button>,
      ]}
    >
      <div data-testid="pin-modal" data-kind={r.kind} data-request-id={r.requestId}>
        <Typography.Paragraph>
          {r.tokenLabel && <Typography.Text strong>{r.tokenLabel} — </Typography.Text>}
          <span data-testid="pin-purpose">{purposeText(t, r.purpose, r.reason)}</span>
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
          onPressEnter={() => ready && void answer(pin)}
        />
        {isNew && (
          <Input.Password
            style={{ marginTop: 8 }}
            data-testid="pin-confirm"
            placeholder={t('pin.confirm')}
            value={again}
            maxLength={64}
            autoComplete="off"
            status={again && again !== pin ? 'error' : undefined}
            onChange={(e) => setAgain(e.target.value)}
            onPressEnter={() => ready && void answer(pin)}
          />
        )}
        {isNew && again.length > 0 && again !== pin && (
          <Typography.Text type="danger" data-testid="pin-mismatch">
            {t('pin.mismatch')}
          </Typography.Text>
        )}
        <ErrorAlert error={error} testId="pin-error" />
      </div>
    </Modal>
  );
}
