/**
 * Trusted apps: which web applications (by appId and public key) may call the agent, and from
 * which browser origins. Origins are shown exactly as typed: the agent compares them byte for byte.
 */
import { Alert, App, Button, Card, Descriptions, Form, Input, Space, Tag, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { useCall, useConnection, useEvent, useLoad } from '../api/context';
import type { PairingView, TrustedAppView } from '../../../main/common/operator-api';
import { ConfirmButton } from '../components/Confirm';
import { DataTable } from '../components/DataTable';
import { ErrorAlert } from '../components/ErrorAlert';
import { FormDialog } from '../components/FormDialog';
import { useT } from '../i18n';
import { dateTime } from '../util/format';
import { isOrigin, splitOrigins } from '../util/origin';
import { useSubmit } from '../util/submit';
import { rowTid } from '../util/tid';

export function AppsScreen(): JSX.Element {
  const t = useT();
  const call = useCall();
  const apps = useLoad(() => call('apps.list', {}), [call]);
  const [adding, setAdding] = useState(false);
  const revoke = useSubmit();
  return (
    <div data-testid="apps-screen">
      <Pairings onTrusted={apps.reload} />
      <Space style={{ marginBottom: 12 }}>
        <Button type="primary" data-testid="app-add-open" onClick={() => setAdding(true)}>
          {t('apps.add')}
        </Button>
        <Button data-testid="apps-refresh" onClick={apps.reload}>
          {t('common.refresh')}
        </Button>
      </Space>
      <ErrorAlert error={apps.error ?? revoke.error} onRetry={apps.reload} />
      <DataTable<TrustedAppView>
        testId="apps-table"
        rowKey="appId"
        loading={apps.loading}
        rows={apps.data}
        pageSize={10}
        empty={t('apps.none')}
        onRow={(a) => rowTid('app-row', { app: a.appId })}
        columns={[
          {
            title: t('apps.appId'),
            key: 'id',
            render: (_, a) => (
              <Space direction="vertical" size={0}>
                <Typography.Text strong>{a.appId}</Typography.Text>
                {a.name && <Typography.Text type="secondary">{a.name}</Typography.Text>}
              </Space>
            ),
          },
          {
            title: t('apps.origins'),
            dataIndex: 'origins',
            render: (os: string[]) => (
              <Space direction="vertical" size={0}>
                {os.map((o) => (
                  <Typography.Text code key={o} data-testid="app-origin">
                    {o}
                  </Typography.Text>
                ))}
              </Space>
            ),
          },
          {
            title: t('apps.keyAlgorithm'),
            dataIndex: 'keyAlgorithm',
            width: 90,
            render: (a: string) => a.toUpperCase(),
          },
          {
            title: t('common.updated'),
            dataIndex: 'updatedAt',
            width: 170,
            render: (v: number) => dateTime(v),
          },
          {
            title: t('seals.state'),
            key: 's',
            width: 90,
            render: (_, a) =>
              a.revokedAt ? (
                <Tag>{t('requests.revoked')}</Tag>
              ) : (
                <Tag color="green">{t('requests.active')}</Tag>
              ),
          },
          {
            title: t('common.actions'),
            key: 'a',
            width: 100,
            render: (_, a) => (
              <ConfirmButton
                testId="app-revoke"
                danger
                disabled={a.revokedAt !== undefined}
                title={t('apps.revokeTitle', { app: a.appId })}
                content={t('apps.revokeConfirm')}
                onConfirm={async () => {
                  await revoke.attempt(() => call('apps.revoke', { appId: a.appId }));
                  apps.reload();
                }}
              >
                {t('common.revoke')}
              </ConfirmButton>
            ),
          },
        ]}
      />
      {adding && <AddAppDialog onClose={() => setAdding(false)} onDone={apps.reload} />}
    </div>
  );
}

interface AppForm {
  appId: string;
  name?: string;
  publicKey: string;
  origins: string;
}

function AddAppDialog(props: { onClose(): void; onDone(): void }): JSX.Element {
  const t = useT();
  const call = useCall();
  const { message } = App.useApp();
  const [form] = Form.useForm<AppForm>();
  const originsText = Form.useWatch('origins', form) ?? '';
  const origins = splitOrigins(originsText);
  return (
    <FormDialog<AppForm>
      width={640}
      title={t('apps.add')}
      testIds={{ form: 'app-modal', ok: 'app-add-ok', error: 'app-error' }}
      form={form}
      onClose={props.onClose}
      onSubmit={async (v) => {
        const name = v.name?.trim();
        await call('apps.add', {
          appId: v.appId.trim(),
          publicKey: v.publicKey.trim(),
          origins: splitOrigins(v.origins),
          ...(name ? { name } : {}),
        });
        message.success(t('apps.added', { app: v.appId }));
        props.onDone();
      }}
    >
      <Form.Item
        name="appId"
        label={t('apps.appId')}
        rules={[{ required: true, message: t('common.required') }, { max: 64 }]}
      >
        <Input data-testid="app-id" />
      </Form.Item>
      <Form.Item name="name" label={t('apps.name')}>
        <Input data-testid="app-name" maxLength={128} />
      </Form.Item>
      <Form.Item
        name="publicKey"
        label={t('apps.publicKey')}
        extra={t('apps.publicKeyHelp')}
        rules={[{ required: true, message: t('common.required') }]}
      >
        <Input.TextArea
          data-testid="app-key"
          autoSize={{ minRows: 4, maxRows: 8 }}
          placeholder="-----BEGIN PUBLIC KEY-----"
          style={{ fontFamily: 'monospace' }}
        />
      </Form.Item>
      <Form.Item
        name="origins"
        label={t('apps.origins')}
        extra={t('apps.originsHelp')}
        rules={[
          { required: true, message: t('common.required') },
          {
            validator: (_, v?: string) => {
              const bad = splitOrigins(v ?? '').filter((o) => !isOrigin(o));
              return bad.length === 0
                ? Promise.resolve()
                : Promise.reject(new Error(`${t('apps.originInvalid')}: ${bad.join(', ')}`));
            },
          },
        ]}
      >
        <Input.TextArea
          data-testid="app-origins"
          autoSize={{ minRows: 2, maxRows: 6 }}
          placeholder="https://sign.example.com"
        />
      </Form.Item>
      {origins.length > 0 && (
        <Card size="small" title={t('apps.originsPreview')} data-testid="app-origins-preview">
          {origins.map((o) => (
            <div key={o}>
              <Typography.Text code>{o}</Typography.Text>{' '}
              {isOrigin(o) ? (
                <Tag color="green">OK</Tag>
              ) : (
                <Tag color="red">{t('apps.originInvalid')}</Tag>
              )}
            </div>
          ))}
        </Card>
      )}
    </FormDialog>
  );
}

/**
 * Web apps asking, from the browser, to be trusted (POST /api/v1/pair): the origin is the Origin
 * header as the browser sent it — the operator compares it and the key fingerprint with what the
 * app's owner says, then trusts or refuses. Live: pushed by pairing.requested / pairing.resolved.
 */
function Pairings(props: { onTrusted(): void }): JSX.Element | null {
  const t = useT();
  const call = useCall();
  const { message } = App.useApp();
  const connection = useConnection();
  const [list, setList] = useState<PairingView[]>([]);
  const deciding = useSubmit();
  useEffect(() => {
    if (connection !== 'open') return;
    call('apps.pairings', {}).then(setList, () => undefined);
  }, [call, connection]);
  useEvent('pairing.requested', (v) =>
    setList((l) => (l.some((x) => x.pairingId === v.pairingId) ? l : [...l, v])),
  );
  useEvent('pairing.resolved', (r) => setList((l) => l.filter((x) => x.pairingId !== r.pairingId)));
  if (list.length === 0) return null;
  const decide = (p: PairingView, decision: 'approved' | 'declined'): Promise<boolean> =>
    deciding.run(async () => {
      await call('apps.pairingDecide', { pairingId: p.pairingId, decision });
      setList((l) => l.filter((x) => x.pairingId !== p.pairingId));
      if (decision === 'approved') {
        message.success(t('apps.pairingTrusted', { app: p.appId, origin: p.origin }));
        props.onTrusted();
      }
    });
  return (
    <Card
      size="small"
      style={{ marginBottom: 12, borderColor: '#faad14' }}
      title={t('apps.pairings', { n: list.length })}
      data-testid="pairings"
    >
      <ErrorAlert error={deciding.error} testId="pairing-error" />
      <Space direction="vertical" style={{ width: '100%' }}>
        {list.map((p) => (
          <div key={p.pairingId} data-testid="pairing" data-pairing-id={p.pairingId}>
            <Alert
              type="warning"
              showIcon
              message={t('apps.pairingOrigin')}
              description={
                <Typography.Text strong style={{ fontSize: 18 }} data-testid="pairing-origin">
                  {p.origin}
                </Typography.Text>
              }
            />
            <Descriptions size="small" column={1} bordered style={{ marginTop: 8 }}>
              <Descriptions.Item label={t('apps.appId')}>
                <span data-testid="pairing-app">{p.appId}</span>
                {p.appName && (
                  <Typography.Text type="secondary"> · {p.appName}</Typography.Text>
                )}{' '}
                <Tag color={p.effect === 'new' ? 'blue' : 'gold'}>
                  {t(p.effect === 'new' ? 'apps.pairingNew' : 'apps.pairingAddOrigin')}
                </Tag>
              </Descriptions.Item>
              <Descriptions.Item label={t('apps.pairingFingerprint')}>
                <Typography.Text code data-testid="pairing-fingerprint">
                  {p.fingerprint}
                </Typography.Text>{' '}
                <Tag>{p.keyAlgorithm.toUpperCase()}</Tag>
              </Descriptions.Item>
              <Descriptions.Item label={t('approval.received')}>
                {dateTime(p.receivedAt)}
              </Descriptions.Item>
            </Descriptions>
            <Typography.Paragraph type="secondary" style={{ marginTop: 8 }}>
              {t('apps.pairingHint')}
            </Typography.Paragraph>
            <Space>
              <Button
                danger
                data-testid="pairing-decline"
                disabled={deciding.busy !== false}
                onClick={() => void decide(p, 'declined')}
              >
                {t('approval.decline')}
              </Button>
              <Button
                type="primary"
                data-testid="pairing-approve"
                loading={deciding.busy !== false}
                onClick={() => void decide(p, 'approved')}
              >
                {t('apps.pairingApprove')}
              </Button>
            </Space>
          </div>
        ))}
      </Space>
    </Card>
  );
}
