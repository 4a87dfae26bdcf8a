// `ukey-agent relay …` (CONTRACT §4 "File relay"): resumable uploads and downloads through the
// platform under the agent's stored app identity; a progress bar on a terminal, JSON lines otherwise.
import { Command } from 'commander';
import { badParam } from '../../common/errors';
import { loadAgentIdentity } from '../../core/platform/agent-identity';
import { RelayAgent } from '../../core/relay/agent';
import { relayCapFromSettings } from '../../core/relay/bandwidth';
import { RelayJobStore } from '../../core/relay/job-store';
import type { RelayJob } from '../../core/relay/job-store';
import type { RelayProgress } from '../../core/relay/progress';
import { openAgentStore } from '../../core/store/agent-store';
import { action, globalOptions } from '../command';
import { dataDirOf, emit } from '../io';
import type { GlobalOptions } from '../io';
import { PASSPHRASE_ENV, passphraseOf } from '../passphrase';

interface Opts extends GlobalOptions {
  out?: string;
  name?: string;
  platform?: string;
  passphraseFile?: string;
  chunkMib?: string;
  wait?: boolean;
}

/** Runs `fn` with a relay agent under the stored identity; the store is closed afterwards. */
async function withAgent<T>(o: Opts, fn: (agent: RelayAgent) => Promise<T>): Promise<T> {
  const identity = await loadAgentIdentity(dataDirOf(o), await passphraseOf(o));
  const baseUrl = o.platform ?? identity.platformUrl;
  if (!baseUrl) throw badParam('no platform URL: give --platform or import it with the identity');
  const chunk = o.chunkMib === undefined ? 8 : Number(o.chunkMib);
  if (!Number.isInteger(chunk) || chunk < 1 || chunk > 256)
    throw badParam('--chunk-mib must be 1 to 256');
  const store = openAgentStore(dataDirOf(o));
  try {
    const agent = new RelayAgent({
      db: store.db,
      signer: identity.signer,
      baseUrl,
      chunkBytes: chunk * 1024 * 1024,
      maxBytesPerSecond: relayCapFromSettings(store.settings),
    });
    const stop = (): void => void agent.stop(); // Ctrl-C leaves the job resumable
    process.once('SIGINT', stop);
    try {
      return await fn(agent);
    } finally {
      process.off('SIGINT', stop);
      await agent.stop();
    }
  } finally {
    store.close();
  }
}

const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/** A progress bar on a terminal (stderr), else one JSON line per update on stdout. */
function progressPrinter(o: Opts): (p: RelayProgress) => void {
  if (o.json || !process.stderr.isTTY)
    return (p) => process.stdout.write(`${JSON.stringify({ event: 'progress', ...p })}\n`);
  return (p) => {
    const frac = p.total ? p.bytes / p.total : 0;
    const bar = '#'.repeat(Math.round(frac * 30)).padEnd(30, '.');
    const eta = p.etaMs === null ? '--' : `${Math.ceil(p.etaMs / 1000)}s`;
    process.stderr.write(
      `\r${p.kind} #${p.jobId} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${mb(p.bytes)} ${mb(p.rate)}/s ETA ${eta}  `,
    );
  };
}

const jobView = (j: RelayJob) => ({
  jobId: j.id,
  kind: j.kind,
  state: j.state,
  fileId: j.fileId,
  path: j.localPath,
  bytes: j.offset,
  size: j.size,
  sm3: j.sm3,
  error: j.error,
});

const jobLine = (j: ReturnType<typeof jobView>): string =>
  `#${j.jobId} ${j.kind} ${j.state} ${j.fileId ?? '-'} ${mb(j.bytes)}/${j.size === null ? '?' : mb(j.size)} ${j.path}${j.error ? ` (${j.error})` : ''}`;

/** Follows a job to its end on this process, printing progress; exit 1 unless it is done. */
async function follow(o: Opts, agent: RelayAgent, id: number): Promise<void> {
  agent.on('progress', progressPrinter(o));
  const job = await agent.waitFor(id);
  if (!o.json && process.stderr.isTTY) process.stderr.write('\n');
  emit(o, jobView(job), jobLine);
  if (job.state !== 'done') process.exitCode = 1;
}

const jobIdOf = (text: string): number => {
  const id = Number(text);
  if (!Number.isSafeInteger(id) || id < 1) throw badParam('JOB must be a job number');
  return id;
};

const leaf = (parent: Command, name: string, description: string): Command =>
  globalOptions(parent.command(name).description(description))
    .option('--platform <url>', "the platform's base URL (default: the one imported)")
    .option('--passphrase-file <file>', `the secret store passphrase; else $${PASSPHRASE_ENV}`)
    .option('--chunk-mib <n>', 'chunk size in MiB (default 8)');

export function relayCommand(): Command {
  const relay = new Command('relay').description(
    'resumable file transfer with the platform (tus, per-chunk MD5, whole-file SM3)',
  );
  leaf(relay, 'upload', 'upload FILE; prints its platform file id')
    .argument('<file>')
    .option('--name <filename>', 'file name sent to the platform (default: the base name)')
    .action(
      action<Opts>(async (o, cmd) =>
        withAgent(o, (agent) =>
          follow(o, agent, agent.upload(String(cmd.args[0]), o.name ?? undefined).id),
        ),
      ),
    );
  leaf(relay, 'download', 'download the platform file ID to --out (verified by SM3, then renamed)')
    .argument('<id>')
    .requiredOption('--out <path>', 'where the file goes')
    .action(
      action<Opts>(async (o, cmd) =>
        withAgent(o, (agent) => follow(o, agent, agent.download(String(cmd.args[0]), o.out!).id)),
      ),
    );
  globalOptions(relay.command('list').description('relay jobs and their state')).action(
    action<Opts>(async (o) => {
      const store = openAgentStore(dataDirOf(o));
      try {
        const jobs = new RelayJobStore(store.db).list();
        emit(o, jobs.map(jobView), (js) => js.map(jobLine).join('\n') || 'no relay jobs');
      } finally {
        store.close();
      }
    }),
  );
  leaf(relay, 'pause', 'pause job JOB (a running agent stops it after the current chunk)')
    .argument('<job>')
    .action(
      action<Opts>(async (o, cmd) => {
        const store = openAgentStore(dataDirOf(o));
        try {
          // Only the state changes: the process running the job sees it at its next chunk.
          const jobs = new RelayJobStore(store.db);
          const id = jobIdOf(String(cmd.args[0]));
          const job = jobs.get(id);
          if (!job) throw badParam(`no relay job ${id}`);
          jobs.transition(id, ['queued', 'running'], 'paused');
          emit(o, jobView(jobs.get(id)!), jobLine);
        } finally {
          store.close();
        }
      }),
    );
  leaf(relay, 'resume', 'resume a paused or failed job JOB and follow it here')
    .argument('<job>')
    .action(
      action<Opts>(async (o, cmd) =>
        withAgent(o, async (agent) => {
          const id = jobIdOf(String(cmd.args[0]));
          agent.resume(id);
          await follow(o, agent, id);
        }),
      ),
    );
  leaf(relay, 'cancel', 'cancel job JOB and drop its partial data on both sides')
    .argument('<job>')
    .action(
      action<Opts>(async (o, cmd) =>
        withAgent(o, async (agent) =>
          emit(o, jobView(await agent.cancel(jobIdOf(String(cmd.args[0])))), jobLine),
        ),
      ),
    );
  return relay;
}
