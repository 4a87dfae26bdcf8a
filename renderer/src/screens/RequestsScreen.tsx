/**
 * Requests & history: signatures waiting for the signer (live), standing policies ("approve the
 * next N from this origin for this seal within T"), and the decisions taken.
 */
import {
  App,
  Button,
  Card,
  Checkbox,
  Form,
  Input,
  InputNumber,
  Select,
  Space,
  Tag,
  Typography,
} from 'antd';
import { useState } from 'react';
import { useCall, useEvent, useLoad } from '../api/context';
import type {
  ApprovalRecordView,
  PendingApprovalView,
  PolicyView,
} from '../../../main/common/operator-api';
import { ttlLabel, useApprovals } from '../components/Approvals';
import { ConfirmButton } from '../components/Confirm';
import { DataTable } from '../components/DataTable';
import { ErrorAlert } from '../components/ErrorAlert';
import { FormDialog } from '../components/FormDialog';
import { useT } from '../i18n';
import { dateTime } from '../util/format';
import { isOrigin } from '../util/origin';
import { useSubmit } from '../util/submit';
import { rowTid } from '../util/tid';

const TTLS = [60_000, 15 * 60_000, 3_600_000, 8 * 3_600_000, 24 * 3_600_000, 7 * 24 * 3_600_000];

export function RequestsScreen(): JSX.Element {
  const t = useT();
  const call = useCall();
  const { pending, show } = useApprovals();
  const [inactive, setInactive] = useState(false);
  const policies = useLoad(
    () => call('policies.list', { includeInactive: inactive }),
    [call, inactive],
  );
  const history = useLoad(() => call('approvals.list', { limit: 200 }), [call]);
  const [adding, setAdding] = useState(false);
  const revoke = useSubmit();
  // A signer's decision, and one a standing policy made on its own (no approval was asked then).
  useEvent('approval.resolved', () => {
    history.reload();
    policies.reload();
  });
  useEvent('approval.recorded', () => {
    history.reload();
    policies.reload();
  });

  return (
    <Space
      direction="vertical"
      style={{ width: '100%' }}
      size="large"
      data-testid="requests-screen"
    >
      <Card size="small" title={t('requests.pending')}>
        <DataTable<PendingApprovalView>
          testId="pending-table"
          rowKey="requestId"
          rows={pending}
          empty={t('requests.noPending')}
          onRow={(p) => rowTid('pending-row', { request: p.requestId })}
          columns={[
            {
              title: t('approval.received'),
              dataIndex: 'receivedAt',
              width: 170,
              render: (v: number) => dateTime(v),
            },
            {
              title: t('approval.origin'),
              dataIndex: 'origin',
              render: (o: string) => <Typography.Text strong>{o}</Typography.Text>,
            },
            { title: t('approval.app'), key: 'app', render: (_, p) => p.appName ?? p.appId },
            { title: t('approval.seal'), dataIndex: 'sealName' },
            { title: t('approval.format'), dataIndex: 'format', width: 70 },
            {
              title: t('common.actions'),
              key: 'a',
              width: 110,
              render: (_, p) => (
                <Button
                  size="small"
                  type="primary"
                  data-testid="pending-review"
                  onClick={() => show(p.requestId)}
                >
                  {t('requests.review')}
                </Button>
              ),
            },
          ]}
        />
      </Card>

      <Card
        size="small"
        title={t('requests.policies')}
        extra={
          <Space>
            <Checkbox
              data-testid="policies-inactive"
              checked={inactive}
              onChange={(e) => setInactive(e.target.checked)}
            >
              {t('requests.showInactive')}
            </Checkbox>
            <Button size="small" data-testid="policy-add-open" onClick={() => setAdding(true)}>
              {t('requests.addPolicy')}
            </Button>
          </Space>
        }
      >
        <ErrorAlert error={policies.error ?? revoke.error} onRetry={policies.reload} />
        <DataTable<PolicyView>
          testId="policies-table"
          rowKey="id"
          loading={policies.loading}
          rows={policies.data}
          pageSize={5}
          empty={t('requests.noPolicies')}
          onRow={(p) => rowTid('policy-row', { id: p.id })}
          columns={[
            { title: '#', dataIndex: 'id', width: 50 },
            { title: t('approval.app'), dataIndex: 'appId' },
            {
              title: t('approval.origin'),
              dataIndex: 'origin',
              render: (o?: string) => o ?? t('requests.anyOrigin'),
            },
            { title: t('approval.seal'), dataIndex: 'sealCode' },
            {
              title: t('requests.used'),
              key: 'u',
              width: 80,
              render: (_, p) => `${p.used} / ${p.maxCount}`,
            },
            {
              title: t('requests.expires'),
              dataIndex: 'expiresAt',
              width: 170,
              render: (v: number) => dateTime(v),
            },
            {
              title: t('seals.state'),
              key: 's',
              width: 90,
              render: (_, p) =>
                p.active ? (
                  <Tag color="green">{t('requests.active')}</Tag>
                ) : (
                  <Tag>{p.revokedAt ? t('requests.revoked') : t('requests.ended')}</Tag>
                ),
            },
            {
              title: t('common.actions'),
              key: 'a',
              width: 100,
              render: (_, p) => (
                <ConfirmButton
                  testId="policy-revoke"
                  danger
                  disabled={!p.active}
                  title={t('requests.revokeTitle', { id: p.id })}
                  content={t('requests.revokeConfirm')}
                  onConfirm={async () => {
                    await revoke.attempt(() => call('policies.revoke', { id: p.id }));
                    policies.reload();
                  }}
                >
                  {t('common.revoke')}
                </ConfirmButton>
              ),
            },
          ]}
        />
      </Card>

      <Card
        size="small"
        title={t('requests.history')}
        extra={
          <Button size="small" data-testid="history-refresh" onClick={history.reload}>
            {t('common.refresh')}
          </Button>
        }
      >
        <ErrorAlert error={history.error} onRetry={history.reload} />
        <DataTable<ApprovalRecordView>
          testId="history-table"
          rowKey="id"
          loading={history.loading}
          rows={history.data}
          pageSize={10}
          empty={t('requests.noHistory')}
          onRow={(r) => rowTid('history-row', { request: r.requestId, decision: r.decision })}
          columns={[
            {
              title: t('requests.decidedAt'),
              dataIndex: 'decidedAt',
              width: 170,
              render: (v: number) => dateTime(v),
            },
            { title: t('approval.origin'), dataIndex: 'origin', render: (o?: string) => o ?? '—' },
            { title: t('approval.app'), dataIndex: 'appId' },
            { title: t('approval.seal'), dataIndex: 'sealCode', ellipsis: true },
            {
              title: t('approval.format'),
              dataIndex: 'format',
              width: 60,
              render: (f: string) => f.toUpperCase(),
            },
            {
              title: t('requests.decision'),
              dataIndex: 'decision',
              width: 100,
              render: (d: ApprovalRecordView['decision']) => (
                <Tag
                  color={d === 'approved' ? 'green' : d === 'declined' ? 'red' : 'default'}
                  data-testid="history-decision"
                >
                  {t(
                    d === 'approved'
                      ? 'requests.approved'
                      : d === 'declined'
                        ? 'requests.declined'
                        : 'requests.timeout',
                  )}
                </Tag>
              ),
            },
            {
              // From the audit log: whether the signature was made, or what the page was told.
              title: t('requests.result'),
              key: 'result',
              width: 120,
              render: (_, r) =>
                r.result ? (
                  <Tag
                    color={r.result.code === '0' ? 'green' : 'red'}
                    data-testid="history-result"
                    data-code={r.result.code}
                    title={r.result.message}
                  >
                    {r.result.code === '0'
                      ? t('requests.signed')
                      : `${t('requests.notSigned')} ${r.result.code}`}
                  </Tag>
                ) : (
                  '—'
                ),
            },
            {
              title: t('requests.decidedBy'),
              key: 'by',
              width: 110,
              render: (_, r) =>
                r.decidedBy === 'policy'
                  ? `${t('requests.byPolicy')} #${r.policyId ?? ''}`
                  : t('requests.bySigner'),
            },
            {
              title: t('approval.digest'),
              dataIndex: 'digestHex',
              ellipsis: true,
              render: (h: string) => <Typography.Text code>{h}</Typography.Text>,
            },
          ]}
        />
      </Card>
      {adding && <PolicyDialog onClose={() => setAdding(false)} onDone={policies.reload} />}
    </Space>
  );
}

interface PolicyForm {
  appId: string;
  sealCode: string;
  origin?: string;
  maxCount: number;
  ttlMs: number;
}

function PolicyDialog(props: { onClose(): void; onDone(): void }): JSX.Element {
  const t = useT();
  const call = useCall();
  const { message } = App.useApp();
  const apps = useLoad(() => call('apps.list', {}), [call]);
  const [form] = Form.useForm<PolicyForm>();
  return (
    <FormDialog<PolicyForm>
      title={t('requests.addPolicy')}
      testIds={{ form: 'policy-modal', ok: 'policy-add-ok', error: 'policy-error' }}
      form={form}
      initialValues={{ maxCount: 10, ttlMs: 3_600_000 }}
      onClose={props.onClose}
      onSubmit={async (v) => {
        const origin = v.origin?.trim();
        await call('policies.add', {
          appId: v.appId,
          sealCode: v.sealCode.trim(),
          maxCount: v.maxCount,
          ttlMs: v.ttlMs,
          ...(origin ? { origin } : {}),
        });
        message.success(t('requests.policyAdded'));
        props.onDone();
      }}
    >
      <Form.Item
        name="appId"
        label={t('approval.app')}
        rules={[{ required: true, message: t('common.required') }]}
      >
        <Select
          data-testid="policy-app"
          options={(apps.data ?? [])
            .filter((a) => !a.revokedAt)
            .map((a) => ({ value: a.appId, label: a.name ? `${a.name} (${a.appId})` : a.appId }))}
        />
      </Form.Item>
      <Form.Item
        name="sealCode"
        label={t('requests.sealCode')}
        rules={[{ required: true, message: t('common.required') }]}
      >
        <Input data-testid="policy-seal" maxLength={64} />
      </Form.Item>
      <Form.Item
        name="origin"
        label={t('approval.origin')}
        extra={t('requests.originHelp')}
        rules={[
          {
            validator: (_, v?: string) =>
              !v || isOrigin(v.trim())
                ? Promise.resolve()
                : Promise.reject(new Error(t('apps.originInvalid'))),
          },
        ]}
      >
        <Input data-testid="policy-origin" placeholder="https://example.com" />
      </Form.Item>
      <Space>
        <Form.Item name="maxCount" label={t('requests.maxCount')} rules={[{ required: true }]}>
          <InputNumber data-testid="policy-count" min={1} max={10000} />
        </Form.Item>
        <Form.Item name="ttlMs" label={t('requests.ttl')}>
          <Select
            style={{ width: 160 }}
            options={TTLS.map((ms) => ({
              value: ms,
              label: ms >= 86_400_000 ? t('common.days', { n: ms / 86_400_000 }) : ttlLabel(t, ms),
            }))}
          />
        </Form.Item>
      </Space>
    </FormDialog>
  );
}
