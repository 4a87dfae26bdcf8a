/**
 * The operator API's platform methods over the agent's platform client: seal queries, filings and
 * state changes (through the persistent outbox, so a lost answer is retried safely), the outbox
 * itself, document verification and the cloud-seal flow (apply → the holder confirms on the
 * platform's page → result → sign). A cloud application is remembered here, in memory, for 15
 * minutes: the console only ever names it by its requestId (the platform's authId).
 */
import { ResultCode } from '../../common/codes';
import { AgentError, badParam } from '../../common/errors';
import type {
  CloudApplyInput,
  CloudResultView,
  DocumentSource,
  DocumentVerifyView,
  OperatorApi,
  OutboxItemView,
  SealOperationView,
  SealView,
} from '../../common/operator-api';
import type { DocumentVerifyResult } from '../pdf/types';
import type { Outbox, OutboxItem, OutboxWorker } from '../platform/outbox';
import type { PlatformClient } from '../platform/platform-client';
import type { SealFilingParams, SealInfo, SealStateParams } from '../platform/types';
import type { StagingArea } from './staging';
import type { PlatformOperations } from './operator-service';

const CLOUD_TTL_MS = 15 * 60_000;
/** The platform takes documents up to this size inline. */
export const VERIFY_MAX_BYTES = 64 * 1024 * 1024;
/** How long seals.file / seals.setState wait for the platform before answering 'pending'. */
const DELIVER_WAIT_MS = 15_000;

export interface PlatformOperationsDeps {
  client: PlatformClient;
  outbox: Outbox;
  worker: Pick<OutboxWorker, 'deliver'>;
  now?: () => number;
}

const sealView = (s: SealInfo): SealView => ({
  sealCode: s.sealCode,
  sealName: s.sealName,
  sealType: s.sealType,
  signId: s.signId,
  state: s.state,
  UKeyId: s.UKeyId,
  sealInvalidTime: s.sealInvalidTime,
  certType: s.certType,
  ...(s.moulageData ? { moulageData: s.moulageData } : {}),
});

const outboxView = (i: OutboxItem): OutboxItemView => ({
  id: i.id,
  kind: i.kind,
  state: i.status,
  attempts: i.attempts,
  ...(i.errorMessage ? { lastError: `${i.errorCode ?? ''} ${i.errorMessage}`.trim() } : {}),
  createdAt: i.createdAt,
  updatedAt: i.updatedAt,
});

function operationView(i: OutboxItem): SealOperationView {
  if (i.status === 'failed')
    throw new AgentError(
      (i.errorCode ?? ResultCode.INTERNAL) as ResultCode,
      i.errorMessage ?? 'the platform refused the operation',
    );
  return {
    outboxId: i.id,
    status: i.status,
    ...(i.status === 'delivered' && typeof i.result === 'string' ? { sealCode: i.result } : {}),
    ...(i.status === 'pending' && i.errorMessage ? { lastError: i.errorMessage } : {}),
  };
}

/** The platform's verdict, field for field, with each flow step (seed 004 tables 26–28). */
export const documentVerifyView = (r: DocumentVerifyResult): DocumentVerifyView => ({
  fileName: r.fileName,
  fileSize: r.fileSize,
  signCount: r.signCount,
  verifyResult: r.verifyResult,
  signatures: r.details.map((d) => ({
    sealCode: d.sealCode,
    sealType: d.sealType,
    signTime: d.signTime,
    provider: d.provider,
    certIssuer: d.certIssuer,
    certOwner: d.cert0wner,
    certSn: d.certSn,
    certValidStart: d.certValidStart,
    certValidEnd: d.certValidEnd,
    sealPicBase64: d.sealPicBase64,
    passed: d.flowVoList.length > 0 && d.flowVoList.every((s) => s.status === 1),
    steps: d.flowVoList.map((s) => ({ step: s.step, hint: s.hint, passed: s.status === 1 })),
  })),
});

interface CloudApplication {
  input: CloudApplyInput;
  expiresAt: number;
  authCode?: string;
}

export function platformOperations(d: PlatformOperationsDeps): PlatformOperations {
  const now = d.now ?? Date.now;
  const cloud = new Map<string, CloudApplication>();
  const applicationOf = (requestId: string): CloudApplication => {
    const t = now();
    for (const [k, v] of cloud) if (v.expiresAt <= t) cloud.delete(k);
    const a = cloud.get(requestId);
    if (!a) throw badParam('no such cloud application (unknown, signed already, or expired)');
    return a;
  };

  const deliver = async (item: OutboxItem): Promise<SealOperationView> =>
    operationView(await d.worker.deliver(item.id, DELIVER_WAIT_MS));

  const cloudResult = async (requestId: string): Promise<CloudResultView> => {
    const a = applicationOf(requestId);
    if (a.authCode) return { requestId, state: 'confirmed' };
    try {
      const r = await d.client.cloudAuthResult({ authId: requestId, sealCode: a.input.sealCode });
      if (r.status !== 'confirmed') return { requestId, state: 'pending' };
      a.authCode = r.authCode;
      return { requestId, state: 'confirmed' };
    } catch (e) {
      // The platform refuses an expired, locked or used authorisation with 2005.
      if (e instanceof AgentError && e.code === ResultCode.SIGN_ID_INVALID) {
        cloud.delete(requestId);
        return {
          requestId,
          state: /expired/i.test(e.message) ? 'expired' : 'rejected',
          message: e.message,
        };
      }
      throw e;
    }
  };

  return {
    sealsQuery: async (q) =>
      (
        await d.client.querySeals({
          orgCode: q.orgCode,
          sealType: q.sealType as SealInfo['sealType'] | '0',
          ...(q.certType !== undefined ? { certType: q.certType } : {}),
          ...(q.certNumber ? { certNumber: q.certNumber } : {}),
          ...(q.UKeyId ? { UKeyId: q.UKeyId } : {}),
        })
      ).map(sealView),
    // The platform checks the filing's fields; the outbox gives it its idempotency key.
    sealsFile: async ({ filing }) =>
      deliver(
        d.outbox.enqueue(
          { kind: 'seal.filing', params: filing as unknown as SealFilingParams },
          now(),
        ),
      ),
    sealsSetState: async (r) =>
      deliver(
        d.outbox.enqueue(
          {
            kind: 'seal.state',
            params: { sealCode: r.sealCode, state: r.state } as SealStateParams,
          },
          now(),
        ),
      ),
    outboxList: async () => d.outbox.list().reverse().map(outboxView),

    cloudApply: async (input) => {
      const app = await d.client.applyCloudAuth({
        sealCode: input.sealCode,
        mobile: input.mobile,
        orgCode: input.orgCode,
        ...(input.name ? { name: input.name } : {}),
        ...(input.idCard ? { idCard: input.idCard } : {}),
      });
      const expiresAt = now() + CLOUD_TTL_MS;
      cloud.set(app.authId, { input, expiresAt });
      return {
        requestId: app.authId,
        authUrl: app.authUrl,
        confirmUrl: app.authUrl,
        clientType: app.clientType,
        expiresAt,
      };
    },
    cloudResult: ({ requestId }) => cloudResult(requestId),
    cloudSign: async ({ requestId }) => {
      const a = applicationOf(requestId);
      if (!a.authCode && (await cloudResult(requestId)).state !== 'confirmed')
        throw new AgentError(
          ResultCode.DECLINED,
          'the seal holder has not confirmed this cloud signature (yet)',
        );
      const { input } = a;
      // A fresh single-use signId for this seal, as for every signature.
      const seal = (
        await d.client.querySeals({ orgCode: input.orgCode, sealType: '0', certType: 2 })
      ).find((s) => s.sealCode === input.sealCode);
      if (!seal)
        throw new AgentError(
          ResultCode.SEAL_INVALID,
          `no enabled cloud seal ${input.sealCode} for ${input.orgCode}`,
        );
      const format = input.format ?? 'P7';
      const signed = await d.client.cloudSign({
        sealCode: input.sealCode,
        authId: requestId,
        authCode: a.authCode!,
        type: format,
        docHash: input.docHash,
        credentNo: input.credentNo,
        orgCode: input.orgCode,
        signId: seal.signId,
        hashType: input.hashType,
      });
      cloud.delete(requestId);
      return { requestId, format: signed.type, signature: signed.signData };
    },
  };
}

/** documents.verify: the document from its source, verified by the platform. */
export function documentOperations(d: {
  client: Pick<PlatformClient, 'verifyDocument'>;
  staging: StagingArea;
  readLocal: (path: string, max: number) => Promise<{ bytes: Buffer; name: string }>;
}): { verify: OperatorApi['documents.verify'] } {
  const load = async (src: DocumentSource): Promise<{ bytes: Buffer; name: string }> => {
    if ('stagedId' in src) return d.staging.read(src.stagedId, VERIFY_MAX_BYTES);
    if ('path' in src) return d.readLocal(src.path, VERIFY_MAX_BYTES);
    const text = src.contentBase64.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0)
      throw badParam('request.contentBase64 is not base64');
    return { bytes: Buffer.from(text, 'base64'), name: src.filename };
  };
  return {
    verify: async (src) => {
      const { bytes, name } = await load(src);
      if (bytes.length === 0) throw badParam('the document is empty');
      return documentVerifyView(await d.client.verifyDocument(bytes, name));
    },
  };
}
