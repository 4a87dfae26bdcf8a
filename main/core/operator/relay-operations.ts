/**
 * The operator API's relay methods over the relay agent's public API. The console has no local
 * paths: an upload may name a staged file, and a download without a path goes to the agent's
 * downloads folder, from where GET /operator/download/<jobId> hands it to the browser.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { RelayJobView } from '../../common/operator-api';
import type { RelayAgent } from '../relay/agent';
import type { RelayJob } from '../relay/job-store';
import type { RelayOperations } from './operator-service';
import type { StagingArea } from './staging';

export const relayJobView = (j: RelayJob): RelayJobView => ({
  id: j.id,
  kind: j.kind,
  state: j.state,
  localPath: j.localPath,
  fileId: j.fileId,
  filename: j.filename,
  size: j.size,
  offset: j.offset,
  error: j.error,
  createdAt: j.createdAt,
  updatedAt: j.updatedAt,
});

export interface RelayOperationsDeps {
  relay: Pick<RelayAgent, 'jobs' | 'upload' | 'download' | 'pause' | 'resume' | 'cancel'>;
  staging?: StagingArea;
  /** Where downloads without a path go (created on first use). */
  downloadsDir: string;
}

export function relayOperations(d: RelayOperationsDeps): RelayOperations {
  const { relay } = d;
  return {
    list: async () => relay.jobs.list().map(relayJobView),
    upload: async (r) => {
      if ('stagedId' in r) {
        if (!d.staging) throw new Error('no staging area');
        const staged = d.staging.resolve(r.stagedId);
        return relayJobView(relay.upload(staged.path, staged.name));
      }
      return relayJobView(relay.upload(r.localPath));
    },
    download: async (r) => {
      let path = r.localPath;
      if (path === undefined) {
        mkdirSync(d.downloadsDir, { recursive: true, mode: 0o700 });
        path = join(d.downloadsDir, `${r.fileId}-${Date.now()}`);
      }
      return relayJobView(relay.download(r.fileId, path));
    },
    pause: async ({ jobId }) => relayJobView(relay.pause(jobId)),
    resume: async ({ jobId }) => relayJobView(relay.resume(jobId)),
    cancel: async ({ jobId }) => relayJobView(await relay.cancel(jobId)),
  };
}

/** A finished download in the downloads folder, for GET /operator/download/<jobId>. */
export function finishedDownload(
  d: Pick<RelayOperationsDeps, 'relay' | 'downloadsDir'>,
  jobId: number,
): { path: string; name: string } | undefined {
  const job = d.relay.jobs.get(jobId);
  if (!job || job.kind !== 'download' || job.state !== 'done') return undefined;
  const base = resolve(d.downloadsDir) + sep;
  if (!resolve(job.localPath).startsWith(base)) return undefined; // only what the console fetched
  return { path: job.localPath, name: job.filename ?? job.fileId ?? `download-${jobId}` };
}
