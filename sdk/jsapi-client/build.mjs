// Builds the SDK into dist/: one browser ES module per entry (esbuild bundles in the agent's own
// contract files from main/common, which are extension-less CommonJS-style sources a browser cannot
// load) and the declarations (tsc, which also type-checks) for them. Used by `npm run build:sdk`,
// the browser tests and the demo. Builds into a staging folder and moves the files in one by one,
// so a page being served from dist/ meanwhile never meets a missing or half-written file.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const tsconfig = join(here, 'tsconfig.json');
/** The package's entry points (package.json "exports"). */
const ENTRIES = ['index', 'canonical'];
// A sibling of dist/, so the source maps' relative paths stay right after the move.
const staging = join(here, `.dist-${process.pid}`);

/** Declarations: type-check the SDK and emit .d.ts for it and the main/common files it uses. */
function declarations() {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const types = join(staging, 'types');
  const r = spawnSync(process.execPath, [tsc, '-p', tsconfig, '--declarationDir', types], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`tsc failed:\n${r.stdout}${r.stderr}`);
  addJsExtensions(types);
  for (const entry of ENTRIES) {
    const target = `./types/sdk/jsapi-client/src/${entry}.js`;
    writeFileSync(join(staging, `${entry}.d.ts`), `export * from '${target}';\n`);
  }
}

/**
 * main/common imports without extensions; the package is ESM ("type": "module"), where consumers
 * resolving like Node (moduleResolution node16/nodenext) need them, so give every relative
 * specifier its `.js`.
 */
function addJsExtensions(dir) {
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    const file = join(dir, ent.name);
    if (ent.isDirectory()) addJsExtensions(file);
    else if (ent.name.endsWith('.d.ts')) {
      const text = readFileSync(file, 'utf8').replace(
        /(\bfrom\s+|\bimport\s*\(\s*)(['"])(\.{1,2}\/[^'"]*?)(?<!\.js)\2/g,
        '$1$2$3.js$2',
      );
      writeFileSync(file, text);
    }
  }
}

/** Browser ES modules; shared code goes to a chunk, so both entries see one AgentError class. */
async function bundle() {
  await build({
    entryPoints: ENTRIES.map((e) => join(here, 'src', `${e}.ts`)),
    outdir: staging,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    sourcemap: true,
    chunkNames: 'chunks/[name]-[hash]',
    tsconfig,
    logLevel: 'warning',
  });
}

/** Moves `from`'s tree into `to` (folders first, then files), then drops what `from` lacked. */
function moveInto(from, to) {
  mkdirSync(to, { recursive: true });
  const entries = readdirSync(from, { withFileTypes: true });
  entries.sort((a, b) => Number(b.isDirectory()) - Number(a.isDirectory()));
  for (const ent of entries) {
    if (ent.isDirectory()) moveInto(join(from, ent.name), join(to, ent.name));
    else renameSync(join(from, ent.name), join(to, ent.name)); // atomic replace
  }
  const built = new Set(entries.map((e) => e.name));
  for (const name of readdirSync(to))
    if (!built.has(name)) rmSync(join(to, name), { recursive: true, force: true });
}

try {
  rmSync(staging, { recursive: true, force: true });
  declarations();
  await bundle();
  moveInto(staging, join(here, 'dist'));
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
} finally {
  rmSync(staging, { recursive: true, force: true });
}
