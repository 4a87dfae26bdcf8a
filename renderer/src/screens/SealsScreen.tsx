/**
 * Seals on the central platform: query by organisation and type, file a seal, enable / suspend /
 * cancel (cancel is final), and the outbox of platform operations not delivered yet.
 */
import {
  App,
  Button,
  Card,
  Form,
  Image,
  Input,
  InputNumber,
  Select,
  Space,
  Tag,
  Typography,
  Upload,
} from 'antd';
import { useState } from 'react';
import { useCall, useLoad } from '../api/context';
import type {
  OutboxItemView,
  SealOperationView,
  SealView,
} from '../../../main/common/operator-api';
import { ConfirmButton } from '../components/Confirm';
import { DataTable } from '../components/DataTable';
import { ErrorAlert } from '../components/ErrorAlert';
import { FormDialog } from '../components/FormDialog';
import { useT } from '../i18n';
import { dateTime } from '../util/format';
import { useSubmit } from '../util/submit';
import { rowTid } from '../util/tid';

const SEAL_TYPES = ['01', '02', '03', '04', '05', '06', '07', '08'] as const;
type SealTypeFilter = '0' | (typeof SEAL_TYPES)[number];

/** Seed 004's seal type code with its name (the code stays visible: operators quote it). */
function typeName(t: ReturnType<typeof useT>, code: string): string {
  return (SEAL_TYPES as readonly string[]).includes(code)
    ? `${code} ${t(`seals.type.${code as (typeof SEAL_TYPES)[number]}`)}`
    : code;
}
const ORG_KEY = 'ukey-agent.orgCode';

export function SealsScreen(): JSX.Element {
  const t = useT();
  const call = useCall();
  const { message } = App.useApp();
  const [orgCode, setOrgCode] = useState(() => localStorage.getItem(ORG_KEY) ?? '');
  const [sealType, setSealType] = useState<SealTypeFilter>('0');
  const [seals, setSeals] = useState<SealView[]>();
  // Querying marks the table busy; state changes report into the same alert.
  const { busy: loading, error, run, attempt } = useSubmit();
  // The filing dialog: a new seal (true), or an extension / change of a listed one.
  const [filing, setFiling] = useState<false | true | { from: SealView; bizType: 2 | 3 }>(false);
  const [byCode, setByCode] = useState('');
  const outbox = useLoad(() => call('outbox.list', {}), [call]);

  const query = async (): Promise<void> => {
    localStorage.setItem(ORG_KEY, orgCode);
    await run(async () =>
      setSeals(await call('seals.query', { orgCode: orgCode.trim(), sealType })),
    );
  };

  const report = (r: SealOperationView): void => {
    if (r.status === 'delivered') message.success(t('seals.delivered'));
    else message.warning(t('seals.queued'));
    outbox.reload();
  };

  const setState = async (sealCode: string, state: 1 | 3 | 4): Promise<void> => {
    await attempt(async () => {
      report(await call('seals.setState', { sealCode, state }));
      if (orgCode) await query();
    });
  };

  return (
    <div data-testid="seals-screen">
      <Card size="small" style={{ marginBottom: 16 }}>
        <Space wrap>
          <Input
            data-testid="seals-org"
            style={{ width: 260 }}
            placeholder={t('seals.orgCode')}
            value={orgCode}
            onChange={(e) => setOrgCode(e.target.value)}
            onPressEnter={() => orgCode && void query()}
          />
          <Select<SealTypeFilter>
            data-testid="seals-type"
            style={{ width: 160 }}
            value={sealType}
            onChange={setSealType}
            options={[
              { value: '0', label: t('seals.allTypes') },
              ...SEAL_TYPES.map((v) => ({ value: v, label: typeName(t, v) })),
            ]}
          />
          <Button
            type="primary"
            data-testid="seals-query"
            loading={loading}
            disabled={!orgCode.trim()}
            onClick={() => void query()}
          >
            {t('seals.query')}
          </Button>
          <Button data-testid="seals-file-open" onClick={() => setFiling(true)}>
            {t('seals.file')}
          </Button>
        </Space>
      </Card>
      <ErrorAlert error={error} testId="seals-error" />
      <DataTable<SealView>
        testId="seals-table"
        rowKey="sealCode"
        loading={loading}
        rows={seals}
        empty={seals ? t('seals.none') : t('seals.askQuery')}
        onRow={(s) => rowTid('seal-row', { code: s.sealCode })}
        pageSize={8}
        columns={[
          {
            title: t('seals.image'),
            key: 'img',
            width: 80,
            render: (_, s) =>
              s.moulageData ? (
                <Image
                  width={56}
                  src={`data:image/png;base64,${s.moulageData}`}
                  alt={s.sealName}
                  data-testid="seal-image"
                />
              ) : (
                '—'
              ),
          },
          {
            title: t('seals.name'),
            key: 'name',
            render: (_, s) => (
              <Space direction="vertical" size={0}>
                <span>{s.sealName}</span>
                <Typography.Text type="secondary" code>
                  {s.sealCode}
                </Typography.Text>
              </Space>
            ),
          },
          {
            title: t('seals.type'),
            dataIndex: 'sealType',
            width: 150,
            render: (v: string) => typeName(t, v),
          },
          {
            // The query answers enabled seals only; its state is the download state (1 new, 2 fetched).
            title: t('seals.state'),
            key: 'state',
            width: 120,
            render: (_, st) => (
              <Space size={2} wrap>
                <Tag color="green" data-testid="seal-state" data-state={1}>
                  {t('seals.state.1')}
                </Tag>
                {st.state === 1 && <Tag>{t('seals.notDownloaded')}</Tag>}
              </Space>
            ),
          },
          {
            title: t('seals.certType'),
            dataIndex: 'certType',
            width: 100,
            render: (c: 1 | 2) => (c === 2 ? t('seals.cert.2') : t('seals.cert.1')),
          },
          { title: 'UKey', dataIndex: 'UKeyId', ellipsis: true, render: (v: string) => v || '—' },
          { title: t('seals.invalidTime'), dataIndex: 'sealInvalidTime', width: 170 },
          {
            title: t('common.actions'),
            key: 'a',
            width: 300,
            render: (_, s) => (
              <Space size="small" wrap>
                <Button
                  size="small"
                  data-testid="seal-extend"
                  onClick={() => setFiling({ from: s, bizType: 2 })}
                >
                  {t('seals.biz.2')}
                </Button>
                <Button
                  size="small"
                  data-testid="seal-change"
                  onClick={() => setFiling({ from: s, bizType: 3 })}
                >
                  {t('seals.biz.3')}
                </Button>
                <ConfirmButton
                  testId="seal-suspend"
                  title={t('seals.suspendTitle', { name: s.sealName })}
                  content={t('seals.suspendConfirm')}
                  onConfirm={() => setState(s.sealCode, 4)}
                >
                  {t('seals.suspend')}
                </ConfirmButton>
                <ConfirmButton
                  testId="seal-cancel"
                  danger
                  title={t('seals.cancelTitle', { name: s.sealName })}
                  content={
                    <Typography.Text type="danger">{t('seals.cancelConfirm')}</Typography.Text>
                  }
                  okText={t('seals.cancelOk')}
                  onConfirm={() => setState(s.sealCode, 3)}
                >
                  {t('seals.cancel')}
                </ConfirmButton>
              </Space>
            ),
          },
        ]}
      />

      <Card size="small" style={{ marginTop: 16 }} title={t('seals.byCode')}>
        <Space wrap>
          <Input
            data-testid="seal-code-input"
            style={{ width: 260 }}
            placeholder={t('requests.sealCode')}
            value={byCode}
            onChange={(e) => setByCode(e.target.value)}
          />
          <ConfirmButton
            testId="seal-code-enable"
            size="middle"
            disabled={!byCode.trim()}
            title={t('seals.enableTitle', { name: byCode.trim() })}
            content={t('seals.enableConfirm')}
            onConfirm={() => setState(byCode.trim(), 1)}
          >
            {t('seals.enable')}
          </ConfirmButton>
          <ConfirmButton
            testId="seal-code-suspend"
            size="middle"
            disabled={!byCode.trim()}
            title={t('seals.suspendTitle', { name: byCode.trim() })}
            content={t('seals.suspendConfirm')}
            onConfirm={() => setState(byCode.trim(), 4)}
          >
            {t('seals.suspend')}
          </ConfirmButton>
          <ConfirmButton
            testId="seal-code-cancel"
            size="middle"
            danger
            disabled={!byCode.trim()}
            title={t('seals.cancelTitle', { name: byCode.trim() })}
            content={<Typography.Text type="danger">{t('seals.cancelConfirm')}</Typography.Text>}
            okText={t('seals.cancelOk')}
            onConfirm={() => setState(byCode.trim(), 3)}
          >
            {t('seals.cancel')}
          </ConfirmButton>
        </Space>
        <Typography.Paragraph type="secondary" style={{ marginTop: 8, marginBottom: 0 }}>
          {t('seals.byCodeHint')}
        </Typography.Paragraph>
      </Card>

      <Typography.Title level={5} style={{ marginTop: 24 }}>
        {t('seals.outbox')}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{t('seals.outboxHint')}</Typography.Paragraph>
      <ErrorAlert error={outbox.error} onRetry={outbox.reload} />
      <DataTable<OutboxItemView>
        testId="outbox-table"
        rowKey="id"
        loading={outbox.loading}
        rows={outbox.data}
        empty={t('seals.outboxEmpty')}
        pageSize={5}
        columns={[
          { title: '#', dataIndex: 'id', width: 60 },
          {
            title: t('seals.outboxKind'),
            dataIndex: 'kind',
            render: (k: string) =>
              k === 'seal.filing' || k === 'seal.state' ? t(`seals.outboxKind.${k}`) : k,
          },
          {
            title: t('seals.state'),
            dataIndex: 'state',
            render: (s: string) => (
              <Tag
                color={s === 'delivered' ? 'green' : s === 'failed' ? 'red' : 'gold'}
                data-testid="outbox-state"
                data-state={s}
              >
                {s === 'pending' || s === 'delivered' || s === 'failed'
                  ? t(`seals.outboxState.${s}`)
                  : s}
              </Tag>
            ),
          },
          { title: t('seals.outboxAttempts'), dataIndex: 'attempts', width: 80 },
          { title: t('seals.outboxError'), dataIndex: 'lastError', ellipsis: true },
          {
            title: t('common.updated'),
            dataIndex: 'updatedAt',
            render: (v: number) => dateTime(v),
            width: 170,
          },
        ]}
      />
      <Button
        size="small"
        style={{ marginTop: 8 }}
        data-testid="outbox-refresh"
        onClick={outbox.reload}
      >
        {t('common.refresh')}
      </Button>
      {filing && (
        <FilingDialog
          orgCode={orgCode}
          {...(filing === true ? {} : filing)}
          onClose={() => setFiling(false)}
          onDone={(r) => {
            report(r);
            if (orgCode) void query();
          }}
        />
      )}
    </div>
  );
}

interface FilingForm {
  /** Extension and change only: the seal they amend. */
  sealCode?: string;
  name: string;
  sealType: string;
  possessor: string;
  possessorCertNo: string;
  possessorType: number;
  bizType: number;
  certType: number;
  orgCode?: string;
  UKeyId?: string;
  certNumber?: string;
  sealInvalidTime?: string;
  userName?: string;
  mobilePhone?: string;
  width?: number;
  height?: number;
}

/**
 * Files a new seal, or — from a listed seal — an extension (bizType 2) or a change (3), starting
 * from what the query told about it. The holder fields are not in the query's answer: the
 * operator confirms them (an extension must repeat them exactly, the platform checks).
 */
function FilingDialog(props: {
  orgCode: string;
  from?: SealView;
  bizType?: 2 | 3;
  onClose(): void;
  onDone(r: SealOperationView): void;
}): JSX.Element {
  const t = useT();
  const call = useCall();
  const keys = useLoad(() => call('keys.list', {}), [call]);
  const [form] = Form.useForm<FilingForm>();
  const from = props.from;
  const [image, setImage] = useState<string | undefined>(from?.moulageData);
  const bizType = Form.useWatch('bizType', form) ?? props.bizType ?? 1;
  return (
    <FormDialog<FilingForm>
      width={720}
      title={
        from
          ? `${t(props.bizType === 2 ? 'seals.biz.2' : 'seals.biz.3')} · ${from.sealName}`
          : t('seals.file')
      }
      testIds={{ form: 'filing-modal', ok: 'filing-ok', error: 'filing-error' }}
      okText={t('seals.fileOk')}
      form={form}
      initialValues={{
        sealType: from?.sealType ?? '04',
        possessorType: 1,
        bizType: props.bizType ?? 1,
        certType: from?.certType ?? 1,
        orgCode: props.orgCode,
        possessorCertNo: props.orgCode,
        ...(from
          ? {
              sealCode: from.sealCode,
              name: from.sealName,
              ...(from.UKeyId ? { UKeyId: from.UKeyId } : {}),
              ...(from.sealInvalidTime ? { sealInvalidTime: from.sealInvalidTime } : {}),
            }
          : {}),
      }}
      onClose={props.onClose}
      onSubmit={async (v) => {
        const filing: Record<string, string | number> = {};
        for (const [k, x] of Object.entries(v))
          if (x !== undefined && x !== '' && x !== null) filing[k] = x as string | number;
        if (image) filing.moulageData = image;
        props.onDone(await call('seals.file', { filing }));
      }}
    >
      <Space wrap align="start">
        {bizType !== 1 && (
          <Form.Item
            name="sealCode"
            label={t('requests.sealCode')}
            rules={[{ required: true, message: t('common.required') }]}
          >
            <Input data-testid="filing-seal-code" style={{ width: 300 }} readOnly={!!from} />
          </Form.Item>
        )}
        <Form.Item
          name="name"
          label={t('seals.name')}
          rules={[{ required: true, message: t('common.required') }]}
        >
          <Input data-testid="filing-name" style={{ width: 300 }} maxLength={200} />
        </Form.Item>
        <Form.Item name="sealType" label={t('seals.type')} rules={[{ required: true }]}>
          <Select
            style={{ width: 260 }}
            options={SEAL_TYPES.map((v) => ({ value: v, label: typeName(t, v) }))}
          />
        </Form.Item>
        <Form.Item
          name="possessor"
          label={t('seals.possessor')}
          rules={[{ required: true, message: t('common.required') }]}
        >
          <Input data-testid="filing-possessor" style={{ width: 300 }} maxLength={200} />
        </Form.Item>
        <Form.Item
          name="possessorCertNo"
          label={t('seals.possessorCertNo')}
          rules={[{ required: true, message: t('common.required') }]}
        >
          <Input style={{ width: 240 }} maxLength={64} />
        </Form.Item>
        <Form.Item name="possessorType" label={t('seals.possessorType')}>
          <Select
            style={{ width: 160 }}
            options={[
              { value: 1, label: t('seals.possessor.org') },
              { value: 2, label: t('seals.possessor.person') },
            ]}
          />
        </Form.Item>
        <Form.Item name="bizType" label={t('seals.bizType')}>
          <Select
            style={{ width: 160 }}
            options={[
              { value: 1, label: t('seals.biz.1') },
              { value: 2, label: t('seals.biz.2') },
              { value: 3, label: t('seals.biz.3') },
            ]}
          />
        </Form.Item>
        <Form.Item name="certType" label={t('seals.certType')}>
          <Select
            style={{ width: 160 }}
            options={[
              { value: 1, label: t('seals.cert.1') },
              { value: 2, label: t('seals.cert.2') },
            ]}
          />
        </Form.Item>
        <Form.Item name="orgCode" label={t('seals.orgCode')}>
          <Input style={{ width: 240 }} maxLength={64} />
        </Form.Item>
        <Form.Item name="UKeyId" label="UKey">
          <Select
            allowClear
            style={{ width: 240 }}
            options={(keys.data ?? []).map((k) => ({
              value: k.ukeyId,
              label: `${k.label} (${k.ukeyId})`,
            }))}
          />
        </Form.Item>
        <Form.Item name="certNumber" label={t('seals.certNumber')}>
          <Input style={{ width: 240 }} maxLength={64} />
        </Form.Item>
        <Form.Item
          name="sealInvalidTime"
          label={t('seals.invalidTime')}
          rules={[
            { pattern: /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, message: 'yyyy-MM-dd HH:mm:ss' },
          ]}
        >
          <Input style={{ width: 200 }} placeholder="2030-12-31 23:59:59" />
        </Form.Item>
        <Form.Item name="userName" label={t('seals.userName')}>
          <Input style={{ width: 160 }} maxLength={100} />
        </Form.Item>
        <Form.Item
          name="mobilePhone"
          label={t('seals.mobile')}
          rules={[{ pattern: /^\+?[0-9]{5,20}$/, message: t('seals.mobileHelp') }]}
        >
          <Input style={{ width: 180 }} />
        </Form.Item>
        <Form.Item name="width" label={t('seals.widthMm')}>
          <InputNumber min={1} max={1000} />
        </Form.Item>
        <Form.Item name="height" label={t('seals.heightMm')}>
          <InputNumber min={1} max={1000} />
        </Form.Item>
      </Space>
      <Space align="center">
        <Upload
          accept="image/png"
          maxCount={1}
          showUploadList={false}
          beforeUpload={(file) => {
            void file.arrayBuffer().then((b) => {
              let s = '';
              for (const x of new Uint8Array(b)) s += String.fromCharCode(x);
              setImage(btoa(s));
            });
            return false;
          }}
        >
          <Button data-testid="filing-image">{t('seals.chooseImage')}</Button>
        </Upload>
        {image && <Image width={64} src={`data:image/png;base64,${image}`} alt="" />}
      </Space>
    </FormDialog>
  );
}
