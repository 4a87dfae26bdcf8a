/**
 * Pending signature requests, live: loaded once, then kept by 'approval.requested' and
 * 'approval.resolved'. The first pending request opens the approval dialog wherever the operator
 * is; the origin shown is the browser's (the agent took it from the Origin header).
 */
import {
  Alert,
  Button,
  Checkbox,
  Descriptions,
  Image,
  Input,
  InputNumber,
  Modal,
  Select,
  Space,
  Tag,
  Typography,
} from 'antd';
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import type { ReactNode } from 'react';
import { useCall, useConnection, useEvent, useLoad } from '../api/context';
import type { PendingApprovalView } from '../../../main/common/operator-api';
import { useT } from '../i18n';
import { dateTime } from '../util/format';
import { ErrorAlert } from './ErrorAlert';

interface ApprovalsState {
  pending: PendingApprovalView[];
  /** The first pending list arrived (until then an empty list means nothing). */
  loaded: boolean;
  show(requestId: string): void;
}

const Ctx = createContext<ApprovalsState>({ pending: [], loaded: false, show: () => undefined });
export const useApprovals = (): ApprovalsState => useContext(Ctx);

const TTL_CHOICES = [60_000, 5 * 60_000, 15 * 60_000, 3_600_000, 4 * 3_600_000, 8 * 3_600_000];

/**
 * `only`: the desktop's approval window for one request — just that dialog, no "later" (closing
 * the window declines, and the agent closes it once the request is settled).
 */
export function ApprovalsProvider(props: { children: ReactNode; only?: string }): JSX.Element {
  const call = useCall();
  const [pending, setPending] = useState<PendingApprovalView[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [shown, setShown] = useState<string | null>(null);
  const [dismissed, setDismissed] = useState<ReadonlySet<string>>(new Set());

  // Requests decided or resolved here: a pending list fetched before that must not revive them.
  const settled = useRef(new Set<string>());
  const settle = useCallback((requestId: string): void => {
    settled.current.add(requestId);
    setPending((p) => p.filter((x) => x.requestId !== requestId));
  }, []);
  // Loaded at start and again whenever the event channel comes back: a request pushed while it
  // was down would otherwise stay unseen until it timed out.
  const connection = useConnection();
  useEffect(() => {
    if (connection !== 'open') return;
    call('approvals.pending', {}).then(
      (list) => {
        setPending((p) => [
          ...p,
          ...list.filter(
            (v) => !settled.current.has(v.requestId) && !p.some((x) => x.requestId === v.requestId),
          ),
        ]);
        setLoaded(true);
      },
      () => setLoaded(true), // the Requests screen shows the error
    );
  }, [call, connection]);
  useEvent('approval.requested', (v) =>
    setPending((p) => (p.some((x) => x.requestId === v.requestId) ? p : [...p, v])),
  );
  useEvent('approval.resolved', (r) => settle(r.requestId));

  // The shown request, else the oldest one the operator has not set aside.
  const current =
    props.only !== undefined
      ? pending.find((p) => p.requestId === props.only)
      : (pending.find((p) => p.requestId === shown) ??
        pending.find((p) => !dismissed.has(p.requestId)));
  const show = useCallback((id: string) => {
    setShown(id);
    setDismissed((d) => {
      const n = new Set(d);
      n.delete(id);
      return n;
    });
  }, []);
  const value = useMemo(() => ({ pending, loaded, show }), [pending, loaded, show]);

  return (
    <Ctx.Provider value={value}>
      {props.children}
      {current && (
        <ApprovalModal
          key={current.requestId}
          req={current}
          queued={props.only !== undefined ? 1 : pending.length}
          onLater={
            props.only !== undefined
              ? undefined
              : () => {
                  setShown(null);
                  setDismissed((d) => new Set(d).add(current.requestId));
                }
          }
          onDone={() => {
            setShown(null);
            settle(current.requestId);
          }}
        />
      )}
    </Ctx.Provider>
  );
}

function ApprovalModal(props: {
  req: PendingApprovalView;
  queued: number;
  /** Absent in the desktop's one-request window. */
  onLater?: () => void;
  onDone(): void;
}): JSX.Element {
  const t = useT();
  const call = useCall();
  const r = props.req;
  const [pin, setPin] = useState('');
  const [batch, setBatch] = useState(false);
  const [count, setCount] = useState(5);
  const [ttl, setTtl] = useState(15 * 60_000);
  const [busy, setBusy] = useState<'approved' | 'declined' | null>(null);
  const [error, setError] = useState<unknown>();
  // The key's PIN state before anything is typed: a key on its final try says so up front.
  const keys = useLoad(() => call('keys.list', {}), [call]);
  const pinState = keys.data?.find((k) => k.ukeyId === r.ukeyId)?.pin;
  // Seconds left before the agent declines it as timed out.
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (r.expiresAt === undefined) return;
    const id = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(id);
  }, [r.expiresAt]);
  const secondsLeft =
    r.expiresAt === undefined ? undefined : Math.max(0, Math.ceil((r.expiresAt - now) / 1000));

  const decide = async (decision: 'approved' | 'declined'): Promise<void> => {
    setBusy(decision);
    setError(undefined);
    try {
      await call('approvals.decide', {
        requestId: r.requestId,
        decision,
        ...(decision === 'approved' && pin ? { pin } : {}),
        ...(decision === 'approved' && batch ? { batch: { count, ttlMs: ttl } } : {}),
      });
      props.onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  return (
    <Modal
      open
      width="min(680px, calc(100vw - 16px))"
      style={{ top: 8 }}
      maskClosable={false}
      closable={props.onLater !== undefined}
      keyboard={props.onLater !== undefined}
      title={t('approval.title')}
      onCancel={props.onLater}
      footer={[
        ...(props.onLater
          ? [
              <Button key="later" data-testid="approval-later" onClick={props.onLater}>
                {t('approval.later')}
              </Button>,
            ]
          : []),
        <Button
          key="decline"
          danger
          data-testid="approval-decline"
          loading={busy === 'declined'}
          disabled={busy !== null}
          onClick={() => void decide('declined')}
        >
          {t('approval.decline')}
        </Button>,
        <Button
          key="approve"
          type="primary"
          data-testid="approval-approve"
          loading={busy === 'approved'}
          disabled={busy !== null}
          onClick={() => void decide('approved')}
        >
          {t('approval.approve')}
        </Button>,
      ]}
    >
      <div data-testid="approval-modal" data-request-id={r.requestId}>
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 12 }}
          message={t('approval.originLabel')}
          description={
            <Typography.Text strong style={{ fontSize: 18 }} data-testid="approval-origin">
              {r.origin}
            </Typography.Text>
          }
        />
        {r.development && (
          <Tag color="red" data-testid="approval-dev-token">
            {t('keys.devToken')}
          </Tag>
        )}
        <div style={{ display: 'flex', gap: 16 }}>
          {r.moulageData && (
            <Image
              width={80}
              preview={false}
              src={`data:image/png;base64,${r.moulageData}`}
              alt={r.sealName}
              data-testid="approval-seal-image"
            />
          )}
          <Descriptions size="small" column={1} bordered style={{ flex: 1 }}>
            <Descriptions.Item label={t('approval.app')}>
              {r.appName ? `${r.appName} (${r.appId})` : r.appId}
            </Descriptions.Item>
            <Descriptions.Item label={t('approval.seal')}>
              <span data-testid="approval-seal">{r.sealName}</span>{' '}
              <Typography.Text type="secondary">{r.sealCode}</Typography.Text>
            </Descriptions.Item>
            <Descriptions.Item label={t('approval.ukey')}>{r.tokenLabel}</Descriptions.Item>
            <Descriptions.Item label={t('approval.cert')}>{r.certSubject}</Descriptions.Item>
            <Descriptions.Item label={t('approval.format')}>
              {r.format} · {r.hashName}
            </Descriptions.Item>
            <Descriptions.Item label={t('approval.digest')}>
              <Typography.Text
                code
                copyable
                style={{ wordBreak: 'break-all' }}
                data-testid="approval-digest"
              >
                {r.digestHex}
              </Typography.Text>
            </Descriptions.Item>
            <Descriptions.Item label={t('approval.received')}>
              {dateTime(r.receivedAt)}
            </Descriptions.Item>
          </Descriptions>
        </div>
        <Space direction="vertical" style={{ width: '100%', marginTop: 12 }}>
          {pinState && (pinState.finalTry || pinState.countLow || pinState.locked) && (
            <Alert
              type="error"
              showIcon
              data-testid="approval-pin-state"
              message={t(
                pinState.locked
                  ? 'approval.pinLocked'
                  : pinState.finalTry
                    ? 'pin.finalTry'
                    : 'approval.pinLow',
              )}
            />
          )}
          <Input.Password
            data-testid="approval-pin"
            placeholder={t('approval.pinPlaceholder')}
            value={pin}
            onChange={(e) => setPin(e.target.value)}
            autoComplete="off"
            maxLength={64}
          />
          <Checkbox
            data-testid="approval-batch"
            checked={batch}
            onChange={(e) => setBatch(e.target.checked)}
          >
            {t('approval.batch')}
          </Checkbox>
          {batch && (
            <Space wrap>
              {t('approval.batchNext')}
              <InputNumber
                data-testid="approval-batch-count"
                min={1}
                max={50}
                value={count}
                onChange={(v) => setCount(v ?? 1)}
              />
              {t('approval.batchWithin')}
              <Select
                data-testid="approval-batch-ttl"
                value={ttl}
                style={{ width: 140 }}
                onChange={setTtl}
                options={TTL_CHOICES.map((ms) => ({ value: ms, label: ttlLabel(t, ms) }))}
              />
              <Typography.Text type="secondary">
                {t('approval.batchScope', { origin: r.origin, seal: r.sealName })}
              </Typography.Text>
            </Space>
          )}
          {secondsLeft !== undefined && (
            <Typography.Text
              type={secondsLeft <= 10 ? 'danger' : 'secondary'}
              data-testid="approval-countdown"
              data-seconds={secondsLeft}
            >
              {t('approval.countdown', { s: secondsLeft })}
            </Typography.Text>
          )}
          {props.queued > 1 && (
            <Typography.Text type="secondary">
              {t('approval.queued', { n: props.queued - 1 })}
            </Typography.Text>
          )}
          <ErrorAlert error={error} testId="approval-error" />
        </Space>
      </div>
    </Modal>
  );
}

export function ttlLabel(t: ReturnType<typeof useT>, ms: number): string {
  return ms >= 3_600_000
    ? t('common.hours', { n: ms / 3_600_000 })
    : t('common.minutes', { n: ms / 60_000 });
}
