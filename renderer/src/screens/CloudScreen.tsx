/**
 * Cloud-certificate signing: the seal holder confirms on the platform's page (QR code / link), the
 * UI polls cloud.result until confirmed, then asks the platform for the signature. A dropped file
 * is hashed here in the browser with SM3 (the document itself never leaves this page).
 */
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Descriptions,
  Form,
  Input,
  QRCode,
  Radio,
  Row,
  Space,
  Steps,
  Typography,
  Upload,
} from 'antd';
import { useEffect, useState } from 'react';
import { sm3 } from 'sm-crypto-v2';
import { useCall } from '../api/context';
import type {
  CloudApplyView,
  CloudResultView,
  CloudSignView,
} from '../../../main/common/operator-api';
import { ErrorAlert } from '../components/ErrorAlert';
import { useT } from '../i18n';
import { base64ToHex, hexToBase64, saveText } from '../util/download';
import { dateTime } from '../util/format';
import { useSubmit, validated } from '../util/submit';
import { tid } from '../util/tid';

const POLL_MS = 2000;
const CLOUD_KEY = 'ukey-agent.cloud';

interface CloudForm {
  orgCode: string;
  sealCode: string;
  mobile: string;
  credentNo: string;
  name?: string;
  format: 'P1' | 'P7';
  digestHex: string;
}

export function CloudScreen(): JSX.Element {
  const t = useT();
  const call = useCall();
  const { message } = App.useApp();
  const [form] = Form.useForm<CloudForm>();
  const [app, setApp] = useState<CloudApplyView>();
  const [result, setResult] = useState<CloudResultView>();
  const [signature, setSignature] = useState<CloudSignView>();
  const { busy, error, setError, run } = useSubmit<'apply' | 'sign'>();
  const [fileName, setFileName] = useState<string>();

  // Poll while the holder has not answered.
  useEffect(() => {
    if (!app || (result && result.state !== 'pending')) return;
    let live = true;
    const timer = window.setInterval(() => {
      call('cloud.result', { requestId: app.requestId }).then(
        (r) => live && setResult(r),
        (e: unknown) => live && setError(e),
      );
    }, POLL_MS);
    return () => {
      live = false;
      window.clearInterval(timer);
    };
  }, [app, result, call]);

  const apply = async (): Promise<void> => {
    const v = await validated(form);
    if (!v) return;
    setApp(undefined);
    setResult(undefined);
    setSignature(undefined);
    localStorage.setItem(
      CLOUD_KEY,
      JSON.stringify({
        orgCode: v.orgCode,
        sealCode: v.sealCode,
        mobile: v.mobile,
        credentNo: v.credentNo,
      }),
    );
    await run(async () => {
      const name = v.name?.trim();
      const a = await call('cloud.apply', {
        sealCode: v.sealCode.trim(),
        orgCode: v.orgCode.trim(),
        mobile: v.mobile.trim(),
        credentNo: v.credentNo.trim(),
        docHash: hexToBase64(v.digestHex.trim()),
        hashType: 4,
        format: v.format,
        ...(name ? { name } : {}),
      });
      setApp(a);
      setResult({ requestId: a.requestId, state: 'pending' });
    }, 'apply');
  };

  const sign = async (): Promise<void> => {
    if (!app) return;
    await run(async () => {
      setSignature(await call('cloud.sign', { requestId: app.requestId }));
      message.success(t('cloud.signed'));
    }, 'sign');
  };

  // Hashing shows no progress of its own and keeps any earlier error until it fails itself.
  const hashFile = async (file: File): Promise<void> => {
    try {
      const hex = sm3(new Uint8Array(await file.arrayBuffer()));
      form.setFieldsValue({ digestHex: hex });
      setFileName(file.name);
    } catch (e) {
      setError(e);
    }
  };

  const step = signature ? 3 : result?.state === 'confirmed' ? 2 : app ? 1 : 0;
  const saved = (() => {
    try {
      return JSON.parse(localStorage.getItem(CLOUD_KEY) ?? '{}') as Partial<CloudForm>;
    } catch {
      return {};
    }
  })();

  return (
    <div data-testid="cloud-screen">
      <Steps
        size="small"
        current={step}
        style={{ marginBottom: 16 }}
        status={
          result && (result.state === 'rejected' || result.state === 'expired')
            ? 'error'
            : undefined
        }
        items={[
          { title: t('cloud.step.apply') },
          { title: t('cloud.step.confirm') },
          { title: t('cloud.step.sign') },
          { title: t('cloud.step.done') },
        ]}
      />
      <Row gutter={16}>
        <Col span={12}>
          <Card size="small" title={t('cloud.request')}>
            <Form<CloudForm>
              form={form}
              layout="vertical"
              data-testid="cloud-form"
              initialValues={{ format: 'P7', ...saved }}
            >
              <Space wrap>
                <Form.Item
                  name="orgCode"
                  label={t('seals.orgCode')}
                  rules={[{ required: true, message: t('common.required') }]}
                >
                  <Input data-testid="cloud-org" style={{ width: 220 }} />
                </Form.Item>
                <Form.Item
                  name="sealCode"
                  label={t('requests.sealCode')}
                  rules={[{ required: true, message: t('common.required') }]}
                >
                  <Input data-testid="cloud-seal" style={{ width: 220 }} />
                </Form.Item>
                <Form.Item
                  name="mobile"
                  label={t('seals.mobile')}
                  rules={[{ required: true, message: t('common.required') }]}
                >
                  <Input data-testid="cloud-mobile" style={{ width: 220 }} />
                </Form.Item>
                <Form.Item
                  name="credentNo"
                  label={t('cloud.credentNo')}
                  rules={[{ required: true, message: t('common.required') }]}
                >
                  <Input data-testid="cloud-credent" style={{ width: 220 }} />
                </Form.Item>
                <Form.Item name="name" label={t('cloud.holderName')}>
                  <Input data-testid="cloud-name" style={{ width: 220 }} />
                </Form.Item>
                <Form.Item name="format" label={t('approval.format')}>
                  <Radio.Group
                    data-testid="cloud-format"
                    options={[
                      { value: 'P7', label: 'P7 (CMS)' },
                      { value: 'P1', label: 'P1' },
                    ]}
                  />
                </Form.Item>
              </Space>
              <div data-testid="cloud-dropzone">
                <Upload.Dragger
                  multiple={false}
                  showUploadList={false}
                  customRequest={({ file }) => {
                    if (file instanceof File) void hashFile(file);
                  }}
                >
                  <p style={{ margin: 4 }}>
                    {fileName ? t('cloud.hashed', { name: fileName }) : t('cloud.drop')}
                  </p>
                </Upload.Dragger>
              </div>
              <Form.Item
                name="digestHex"
                label={t('cloud.digest')}
                style={{ marginTop: 12 }}
                extra={t('cloud.digestHelp')}
                rules={[
                  { required: true, message: t('common.required') },
                  { pattern: /^([0-9a-fA-F]{2})+$/, message: t('cloud.digestInvalid') },
                ]}
              >
                <Input data-testid="cloud-digest" style={{ fontFamily: 'monospace' }} />
              </Form.Item>
              <Button
                type="primary"
                data-testid="cloud-apply"
                loading={busy === 'apply'}
                onClick={() => void apply()}
              >
                {t('cloud.apply')}
              </Button>
            </Form>
          </Card>
        </Col>
        <Col span={12}>
          <ErrorAlert error={error} testId="cloud-error" />
          {!app && <Alert type="info" showIcon message={t('cloud.intro')} />}
          {app && (
            <Card
              size="small"
              title={t('cloud.confirmTitle')}
              data-testid="cloud-auth"
              data-request-id={app.requestId}
            >
              <Space align="start">
                <QRCode value={app.authUrl} size={180} data-testid="cloud-qr" />
                <Space direction="vertical">
                  <Typography.Paragraph>{t('cloud.scan')}</Typography.Paragraph>
                  <Typography.Link
                    href={app.authUrl}
                    target="_blank"
                    rel="noreferrer"
                    data-testid="cloud-auth-url"
                    copyable
                  >
                    {app.authUrl}
                  </Typography.Link>
                  <Typography.Text type="secondary">
                    {t('cloud.expires', { time: dateTime(app.expiresAt) })}
                  </Typography.Text>
                </Space>
              </Space>
              <Alert
                style={{ marginTop: 12 }}
                showIcon
                data-testid="cloud-state"
                data-state={result?.state ?? 'pending'}
                type={
                  result?.state === 'confirmed'
                    ? 'success'
                    : result?.state === 'pending' || !result
                      ? 'info'
                      : 'error'
                }
                message={t(`cloud.state.${result?.state ?? 'pending'}`)}
                description={result?.message}
              />
              {result?.state === 'confirmed' && !signature && (
                <Button
                  type="primary"
                  style={{ marginTop: 12 }}
                  data-testid="cloud-sign"
                  loading={busy === 'sign'}
                  onClick={() => void sign()}
                >
                  {t('cloud.getSignature')}
                </Button>
              )}
            </Card>
          )}
          {signature && (
            <Card
              size="small"
              title={t('cloud.signature')}
              style={{ marginTop: 12 }}
              data-testid="cloud-signature"
            >
              <Descriptions size="small" column={1}>
                <Descriptions.Item label={t('approval.format')}>
                  {signature.format}
                </Descriptions.Item>
                <Descriptions.Item label={t('cloud.size')}>
                  {t('cloud.bytes', { n: base64ToHex(signature.signature).length / 2 })}
                </Descriptions.Item>
              </Descriptions>
              <Input.TextArea
                readOnly
                value={signature.signature}
                autoSize={{ minRows: 3, maxRows: 8 }}
                style={{ fontFamily: 'monospace' }}
                data-testid="cloud-signature-b64"
              />
              <Button
                style={{ marginTop: 8 }}
                {...tid('cloud-save')}
                onClick={() =>
                  saveText(
                    `cloud-${signature.requestId}.${signature.format === 'P7' ? 'p7s' : 'sig'}.b64`,
                    signature.signature,
                  )
                }
              >
                {t('cloud.save')}
              </Button>
            </Card>
          )}
        </Col>
      </Row>
    </div>
  );
}
