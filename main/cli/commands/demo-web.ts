import { Command } from 'commander';
import { badParam } from '../../common/errors';
import { DEFAULT_JSAPI_PORT } from '../../common/jsapi';
import { DEMO_ORIGINS, readDemoFiles } from '../demo-world';
import { startDemoWeb } from '../demo-web/server';
import { action, globalOptions } from '../command';
import { dataDirOf, emit } from '../io';
import type { GlobalOptions } from '../io';

interface Opts extends GlobalOptions {
  port: string;
  agentPort: string;
}

const DEMO_WEB_PORT = Number(new URL(DEMO_ORIGINS[0]!).port);

const portOf = (v: string, name: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw badParam(`${name} must be a port number`);
  return n;
};

/**
 * `ukey-agent demo-web`: the demo web application (its page and its server side) next to a running
 * `serve --demo` with the same data dir. Development only: the app key sits in the data dir.
 */
export function demoWebCommand(): Command {
  return globalOptions(
    new Command('demo-web').description(
      'run the demo web app that seals a PDF through the running demo agent (development only)',
    ),
  )
    .option(
      '--port <port>',
      'port on 127.0.0.1 (the agent allows the demo app from this origin only)',
      String(DEMO_WEB_PORT),
    )
    .option('--agent-port <port>', "the agent's JSAPI port", String(DEFAULT_JSAPI_PORT))
    .action(
      action<Opts>(async (o) => {
        const dataDir = dataDirOf(o);
        readDemoFiles(dataDir); // fails early, with the hint, when no demo was started here
        const web = await startDemoWeb({
          dataDir,
          port: portOf(o.port, '--port'),
          agentPort: portOf(o.agentPort, '--agent-port'),
        }).catch((e: NodeJS.ErrnoException) => {
          if (e.code === 'EADDRINUSE') throw badParam(`port ${o.port} is in use`);
          throw e;
        });
        emit(o, { url: web.url, agentPort: Number(o.agentPort) }, (d) =>
          [
            `demo web app: ${d.url}`,
            `  open it in a browser; it calls the agent on 127.0.0.1:${d.agentPort}`,
            '  approve each signature in the terminal running `serve --demo` (y, then the PIN)',
            '  Ctrl-C stops it',
          ].join('\n'),
        );
        await new Promise<void>((resolve) => {
          const stop = (): void => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            resolve();
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        await web.close();
      }),
    );
}
