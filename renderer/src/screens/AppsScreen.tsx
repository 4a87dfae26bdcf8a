/**
 * Trusted apps: which web applications (by appId and public key) may call the agent, and from
 * which browser origins. Origins are shown exactly as typed: the agent compares them byte for byte.
 */
import { App, Button, Card, Form, Input, Space, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useCall, useLoad } from '../api/context';
import type { TrustedAppView } from '../../../main/common/operator-api';
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
