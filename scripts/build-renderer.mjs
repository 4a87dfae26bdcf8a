// Bundles the operator UI (renderer/src/main.tsx) with esbuild into dist/renderer/: index.html,
// assets/app.js and assets/app.css. No inline script anywhere: the console and the Electron window
// serve it under `script-src 'self'`. Type checking is separate (tsc -p renderer/tsconfig.json).
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'renderer');
const dev = process.argv.includes('--dev');

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const result = await build({
  entryPoints: { app: join(root, 'renderer', 'src', 'main.tsx') },
  outdir: join(out, 'assets'),
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome120'],
  jsx: 'automatic',
  minify: !dev,
  sourcemap: dev ? 'linked' : false,
  legalComments: 'none',
  define: { 'process.env.NODE_ENV': JSON.stringify(dev ? 'development' : 'production') },
  loader: { '.png': 'file', '.svg': 'file', '.woff': 'file', '.woff2': 'file' },
  assetNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});

// app.css exists only when something imports CSS; the page links it either way.
const cssPath = join(out, 'assets', 'app.css');
if (!Object.keys(result.metafile.outputs).some((p) => p.endsWith('app.css')))
  writeFileSync(cssPath, '/* antd v5 styles are CSS-in-JS */\n');

writeFileSync(
  join(out, 'index.html'),
  `<!doctype html>
<html lang="zh-CN">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>UKey Agent</title>
    <link rel="stylesheet" href="./assets/app.css" />
    <script defer src="./assets/app.js"></script>
  </head>
  <body>
    <div id="root"></div>
  </body>
</html>
`,
);

const bytes = Object.entries(result.metafile.outputs)
  .map(([p, o]) => `${p} ${(o.bytes / 1024).toFixed(0)} KiB`)
  .join(', ');
console.log(`renderer built: ${bytes}`);
