/**
 * Audit: every JSAPI call and operator action, on an SM3 hash chain sealed by the agent's key.
 * Search with filters (paged from the agent), verify the chain, export as JSONL or CSV.
 */
import {
  Alert,
  Button,
  Card,
  Checkbox,
  DatePicker,
  Descriptions,
  Input,
  Select,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import type { Dayjs } from 'dayjs';
import { useState } from 'react';
import { useCall } from '../api/context';
import type {
  AuditEntryView,
  AuditSearchInput,
  AuditVerifyView,
} from '../../../main/common/operator-api';
import { ErrorAlert } from '../components/ErrorAlert';
import { ResultCode } from '../../../main/common/codes';
import { useT } from '../i18n';
import type { MessageKey } from '../i18n';
import { saveText } from '../util/download';
import { dateTime } from '../util/format';
import { useSubmit } from '../util/submit';
import { rowTid } from '../util/tid';

const PAGE = 200;

export function AuditScreen(): JSX.Element {
  const t = useT();
  const call = useCall();
  const [source, setSource] = useState<string>();
  const [appId, setAppId] = useState('');
  const [iface, setIface] = useState('');
  const [failures, setFailures] = useState(false);
  const [range, setRange] = useState<[Dayjs | null, Dayjs | null] | null>(null);
  const [entries, setEntries] = useState<AuditEntryView[]>();
  const [next, setNext] = useState<number | null>(null);
  // Three actions with their own busy buttons, one error alert.
  const searching = useSubmit();
  const verifying = useSubmit(searching);
  const exporting = useSubmit<'jsonl' | 'csv'>(searching);
  const loading = searching.busy;
  const [verify, setVerify] = useState<AuditVerifyView>();

  const timeFilter = (): { from?: number; to?: number } => ({
    ...(range?.[0] ? { from: range[0].valueOf() } : {}),
    ...(range?.[1] ? { to: range[1].valueOf() } : {}),
  });

  const search = async (afterSeq?: number): Promise<void> => {
    const q: AuditSearchInput = {
      limit: PAGE,
      ...(afterSeq !== undefined ? { afterSeq } : {}),
      ...(source ? { source } : {}),
      ...(appId.trim() ? { appId: appId.trim() } : {}),
      ...(iface.trim() ? { interface: iface.trim() } : {}),
      ...(failures ? { failuresOnly: true } : {}),
      ...timeFilter(),
    };
    await searching.run(async () => {
      const r = await call('audit.search', q);
      setEntries((old) => (afterSeq !== undefined ? [...(old ?? []), ...r.entries] : r.entries));
      setNext(r.nextAfterSeq);
    });
  };

  const runVerify = (): Promise<boolean> =>
    verifying.run(async () => setVerify(await call('audit.verify', {})));

  const runExport = (format: 'jsonl' | 'csv'): Promise<boolean> =>
    exporting.run(async () => {
      const r = await call('audit.export', { format, ...timeFilter() });
      saveText(
        `audit-${Date.now()}.${format}`,
        r.content,
        format === 'csv' ? 'text/csv' : 'application/x-ndjson',
      );
    }, format);

  return (
    <div data-testid="audit-screen">
      <Card size="small" style={{ marginBottom: 16 }}>
        <Space wrap>
          <Select
            allowClear
            data-testid="audit-source"
            style={{ width: 150 }}
            placeholder={t('audit.source')}
            value={source}
            onChange={setSource}
            options={[
              { value: 'jsapi', label: t('audit.source.jsapi') },
              { value: 'operator', label: t('audit.source.operator') },
            ]}
          />
          <Input
            data-testid="audit-app"
            style={{ width: 150 }}
            placeholder={t('approval.app')}
            value={appId}
            onChange={(e) => setAppId(e.target.value)}
          />
          <Input
            data-testid="audit-interface"
            style={{ width: 180 }}
            placeholder={t('audit.interface')}
            value={iface}
            onChange={(e) => setIface(e.target.value)}
          />
          <DatePicker.RangePicker
            showTime
            data-testid="audit-range"
            value={range}
            onChange={(v) => setRange(v as [Dayjs | null, Dayjs | null] | null)}
          />
          <Checkbox
            data-testid="audit-failures"
            checked={failures}
            onChange={(e) => setFailures(e.target.checked)}
          >
            {t('audit.failuresOnly')}
          </Checkbox>
          <Button
            type="primary"
            data-testid="audit-search"
            loading={loading}
            onClick={() => void search()}
          >
            {t('audit.search')}
          </Button>
        </Space>
        <Space wrap style={{ marginTop: 12 }}>
          <Button
            data-testid="audit-verify"
            loading={verifying.busy}
            onClick={() => void runVerify()}
          >
            {t('audit.verify')}
          </Button>
          <Button
            data-testid="audit-export-jsonl"
            loading={exporting.busy === 'jsonl'}
            onClick={() => void runExport('jsonl')}
          >
            {t('audit.export', { format: 'JSONL' })}
          </Button>
          <Button
            data-testid="audit-export-csv"
            loading={exporting.busy === 'csv'}
            onClick={() => void runExport('csv')}
          >
            {t('audit.export', { format: 'CSV' })}
          </Button>
        </Space>
      </Card>
      {verify && (
        <Alert
          showIcon
          closable
          style={{ marginBottom: 16 }}
          type={verify.ok ? 'success' : 'error'}
          data-testid="audit-verify-result"
          data-ok={String(verify.ok)}
          message={verify.ok ? t('audit.chainOk') : t('audit.chainBad')}
          description={
            <Descriptions size="small" column={3}>
              <Descriptions.Item label={t('audit.entries')}>{verify.entries}</Descriptions.Item>
              <Descriptions.Item label={t('audit.seals')}>{verify.seals}</Descriptions.Item>
              <Descriptions.Item label={t('audit.unsealed')}>{verify.unsealed}</Descriptions.Item>
              {verify.firstBadSeq !== undefined && (
                <Descriptions.Item label={t('audit.firstBad')}>
                  {verify.firstBadSeq}
                </Descriptions.Item>
              )}
              {verify.reason && (
                <Descriptions.Item label={t('audit.reason')}>{verify.reason}</Descriptions.Item>
              )}
            </Descriptions>
          }
        />
      )}
      <ErrorAlert error={searching.error} testId="audit-error" />
      <Table<AuditEntryView>
        data-testid="audit-table"
        size="small"
        rowKey="seq"
        loading={loading}
        dataSource={entries ?? []}
        pagination={{ pageSize: 15, hideOnSinglePage: true, showSizeChanger: false }}
        locale={{ emptyText: entries ? t('audit.none') : t('audit.askSearch') }}
        onRow={(e) => rowTid('audit-row', { seq: e.seq, code: e.resultCode })}
        columns={[
          { title: '#', dataIndex: 'seq', width: 70 },
          {
            title: t('audit.time'),
            dataIndex: 'time',
            width: 170,
            render: (v: number) => dateTime(v),
          },
          {
            title: t('audit.source'),
            dataIndex: 'source',
            width: 90,
            render: (s: string) => sourceLabel(t, s),
          },
          { title: t('audit.interface'), dataIndex: 'interface', ellipsis: true },
          {
            title: t('approval.app'),
            dataIndex: 'appId',
            width: 120,
            render: (v: string | null) => v ?? '—',
          },
          {
            title: t('approval.origin'),
            dataIndex: 'origin',
            ellipsis: true,
            render: (v: string | null) => v ?? '—',
          },
          {
            title: t('audit.result'),
            dataIndex: 'resultCode',
            width: 80,
            // The code with its meaning (hover) so a row reads without the contract at hand.
            render: (c: string) => (
              <Tag color={c === '0' ? 'green' : 'red'} title={codeWords(t, c)}>
                {c === '0' ? t('audit.ok') : c}
              </Tag>
            ),
          },
          { title: t('audit.message'), dataIndex: 'message', ellipsis: true },
          {
            title: 'ms',
            dataIndex: 'durationMs',
            width: 60,
            render: (v: number | null) => v ?? '',
          },
        ]}
      />
      {next !== null && (
        <Button
          style={{ marginTop: 8 }}
          data-testid="audit-more"
          loading={loading}
          onClick={() => void search(next)}
        >
          {t('audit.more')}
        </Button>
      )}
      <Typography.Paragraph type="secondary" style={{ marginTop: 8 }}>
        {t('audit.hint')}
      </Typography.Paragraph>
    </div>
  );
}

const SOURCES = ['jsapi', 'operator', 'platform', 'relay', 'system'] as const;

/** The audit source in the UI's language (an unknown one as stored). */
function sourceLabel(t: ReturnType<typeof useT>, s: string): string {
  return (SOURCES as readonly string[]).includes(s)
    ? t(`audit.source.${s as (typeof SOURCES)[number]}`)
    : s;
}

/** What a contract code means, in the UI's language. */
function codeWords(t: ReturnType<typeof useT>, c: string): string {
  if (c === '0') return t('audit.ok');
  return (Object.values(ResultCode) as string[]).includes(c) ? t(`err.${c}` as MessageKey) : c;
}
