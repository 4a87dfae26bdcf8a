/**
 * Document verification: a PDF goes to the platform, which answers its verdict and, for each
 * signature, the steps it checked. Small files go inline; larger ones through staging (console) or
 * as a local path.
 */
import {
  Alert,
  Button,
  Card,
  Descriptions,
  Image,
  Input,
  Space,
  Spin,
  Steps,
  Tag,
  Typography,
  Upload,
} from 'antd';
import { useState } from 'react';
import { useCall, useClient } from '../api/context';
import type {
  DocumentSignatureView,
  DocumentSource,
  DocumentVerifyView,
} from '../../../main/common/operator-api';
import { ErrorAlert } from '../components/ErrorAlert';
import { useT } from '../i18n';
import type { MessageKey } from '../i18n';
import { bytes } from '../util/format';
import { useSubmit } from '../util/submit';

/** Inline limit: the API carries documents up to about 700 KB in the request itself. */
const INLINE_MAX = 700 * 1024;

function toBase64(buf: ArrayBuffer): string {
  const u = new Uint8Array(buf);
  let s = '';
  for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000));
  return btoa(s);
}

export function DocumentsScreen(): JSX.Element {
  const t = useT();
  const call = useCall();
  const client = useClient();
  const [result, setResult] = useState<DocumentVerifyView>();
  const { busy, error, run } = useSubmit();
  const [path, setPath] = useState('');

  const verify = async (source: () => Promise<DocumentSource>): Promise<void> => {
    setResult(undefined);
    await run(async () => setResult(await call('documents.verify', await source())));
  };

  const fromFile = async (file: File): Promise<DocumentSource> => {
    const path = client.pathOf?.(file);
    if (path) return { path };
    if (file.size <= INLINE_MAX)
      return { contentBase64: toBase64(await file.arrayBuffer()), filename: file.name };
    if (!client.stage) throw Object.assign(new Error(t('docs.tooLarge')), { code: '1001' });
    const staged = await client.stage(file);
    return { stagedId: staged.stagedId };
  };

  return (
    <div data-testid="documents-screen">
      <Space align="start" wrap style={{ marginBottom: 16 }}>
        <Card size="small" style={{ width: 460 }}>
          <div data-testid="docs-dropzone">
            <Upload.Dragger
              accept="application/pdf,.pdf"
              multiple={false}
              showUploadList={false}
              customRequest={({ file }) => {
                if (file instanceof File) void verify(() => fromFile(file));
              }}
            >
              <p style={{ margin: 8 }}>{t('docs.drop')}</p>
            </Upload.Dragger>
          </div>
          <Space.Compact style={{ width: '100%', marginTop: 12 }}>
            <Input
              data-testid="docs-path"
              placeholder={t('relay.localPath')}
              value={path}
              onChange={(e) => setPath(e.target.value)}
            />
            <Button
              data-testid="docs-path-go"
              disabled={!path.trim()}
              onClick={() => void verify(async () => ({ path: path.trim() }))}
            >
              {t('docs.verify')}
            </Button>
          </Space.Compact>
        </Card>
      </Space>
      <ErrorAlert error={error} testId="docs-error" />
      {busy && (
        <div style={{ padding: 24, textAlign: 'center' }} data-testid="docs-busy">
          <Spin tip={t('docs.verifying')}>
            <div style={{ height: 40 }} />
          </Spin>
        </div>
      )}
      {result && <Verdict r={result} />}
    </div>
  );
}

function Verdict(props: { r: DocumentVerifyView }): JSX.Element {
  const t = useT();
  const r = props.r;
  return (
    <div data-testid="docs-result" data-verdict={r.verifyResult ? 'valid' : 'invalid'}>
      <Alert
        showIcon
        type={r.verifyResult ? 'success' : r.signCount === 0 ? 'warning' : 'error'}
        data-testid="docs-verdict"
        message={
          r.verifyResult
            ? t('docs.valid')
            : r.signCount === 0
              ? t('docs.unsigned')
              : t('docs.invalid')
        }
        description={`${r.fileName} · ${bytes(r.fileSize)} · ${t('docs.signCount', { n: r.signCount })}`}
        style={{ marginBottom: 16 }}
      />
      <Space direction="vertical" style={{ width: '100%' }}>
        {r.signatures.map((s, i) => (
          <SignatureCard key={i} index={i + 1} s={s} />
        ))}
      </Space>
    </div>
  );
}

function SignatureCard(props: { index: number; s: DocumentSignatureView }): JSX.Element {
  const t = useT();
  const s = props.s;
  const firstFail = s.steps.findIndex((x) => !x.passed);
  return (
    <Card
      size="small"
      data-testid="docs-signature"
      title={
        <Space>
          {t('docs.signature', { n: props.index })}
          <Tag color={s.passed ? 'green' : 'red'}>
            {s.passed ? t('docs.passed') : t('docs.failed')}
          </Tag>
        </Space>
      }
    >
      <Space align="start" size="large" style={{ width: '100%' }}>
        {s.sealPicBase64 && (
          <Image width={96} src={`data:image/png;base64,${s.sealPicBase64}`} alt={s.sealCode} />
        )}
        <Descriptions size="small" column={2} style={{ flex: 1 }}>
          <Descriptions.Item label={t('approval.seal')}>{s.sealCode || '—'}</Descriptions.Item>
          <Descriptions.Item label={t('seals.type')}>{s.sealType || '—'}</Descriptions.Item>
          <Descriptions.Item label={t('docs.signTime')}>{s.signTime || '—'}</Descriptions.Item>
          <Descriptions.Item label={t('docs.provider')}>{s.provider || '—'}</Descriptions.Item>
          <Descriptions.Item label={t('docs.certOwner')}>{s.certOwner || '—'}</Descriptions.Item>
          <Descriptions.Item label={t('cert.issuer')}>{s.certIssuer || '—'}</Descriptions.Item>
          <Descriptions.Item label={t('cert.serial')}>{s.certSn || '—'}</Descriptions.Item>
          <Descriptions.Item label={t('cert.validity')}>
            {s.certValidStart || '—'} — {s.certValidEnd || '—'}
          </Descriptions.Item>
        </Descriptions>
      </Space>
      <Steps
        data-testid="docs-steps"
        direction="vertical"
        size="small"
        style={{ marginTop: 12 }}
        current={firstFail === -1 ? s.steps.length : firstFail}
        status={firstFail === -1 ? 'finish' : 'error'}
        items={s.steps.map((x) => ({
          title: STEP_KEYS[x.step] ? t(STEP_KEYS[x.step]!) : x.step,
          description: (
            <Typography.Text type={x.passed ? 'secondary' : 'danger'}>{x.hint}</Typography.Text>
          ),
          status: x.passed ? 'finish' : 'error',
        }))}
      />
    </Card>
  );
}

/**
 * The platform names its steps in Chinese (main/core/pdf/hints.ts STEP); the UI says them in its
 * own language. A step it does not know is shown as the platform named it.
 */
const STEP_KEYS: Readonly<Record<string, MessageKey>> = {
  文档完整性验证: 'docs.step.integrity',
  签名值验证: 'docs.step.signature',
  证书验证: 'docs.step.certificate',
  印章状态验证: 'docs.step.seal',
};
