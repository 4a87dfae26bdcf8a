// The browser SDK must be publishable on its own: `npm pack` in sdk/jsapi-client builds dist/ (it is
// gitignored, so a clean checkout has none) and the tarball holds exactly what package.json
// promises, self-contained, with no sources or tests.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const SDK_DIR = join(REPO_ROOT, 'sdk', 'jsapi-client');

interface PackedFile {
  path: string;
  size: number;
}
interface PackResult {
  name: string;
  files: PackedFile[];
}
type ExportTarget = string | { types?: string; import?: string };
interface SdkManifest {
  name: string;
  license?: string;
  type?: string;
  main?: string;
  module?: string;
  types?: string;
  files?: string[];
  repository?: { type?: string; url?: string; directory?: string };
  scripts?: Record<string, string>;
  exports?: Record<string, ExportTarget>;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

/** `npm pack --dry-run --json` in the SDK's folder, offline; runs its prepack (the build). */
function packDryRun(): PackResult {
  const r = spawnSync(
    'npm',
    ['pack', '--dry-run', '--json', '--offline', '--ignore-scripts=false'],
    {
      cwd: SDK_DIR,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        npm_config_update_notifier: 'false',
        npm_config_audit: 'false',
        npm_config_fund: 'false',
      },
    },
  );
  assert.equal(r.status, 0, `npm pack failed:\n${r.stdout}${r.stderr}`);
  const results = JSON.parse(r.stdout) as PackResult[];
  assert.equal(results.length, 1);
  return results[0]!;
}

/** Relative specifiers a built module or declaration file imports or re-exports. */
function relativeImports(text: string): string[] {
  const re = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g;
  return [...text.matchAll(re)].map((m) => m[2]!);
}

/** A `.js` specifier in a declaration file means its `.d.ts`. */
const declarationOf = (path: string): string => path.replace(/\.js$/, '.d.ts');

describe('sdk/jsapi-client as an npm package', () => {
  const manifest = readJson<SdkManifest>(join(SDK_DIR, 'package.json'));
  const startedAt = Date.now();
  const packed = packDryRun();
  const paths = new Set(packed.files.map((f) => f.path));

  it('builds in prepack, from its own folder', () => {
    assert.match(manifest.scripts?.prepack ?? '', /^node build\.mjs$/);
    // The build wrote dist/ during this pack (a clean checkout has no dist/ to ship otherwise);
    // file times may lag the clock by a tick.
    assert.ok(
      statSync(join(SDK_DIR, 'dist', 'index.js')).mtimeMs >= startedAt - 100,
      'dist/index.js was not rebuilt by npm pack',
    );
  });

  it('ships the ESM bundles, their declarations, README.md and package.json only', () => {
    assert.equal(packed.name, manifest.name);
    for (const f of [
      'package.json',
      'README.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/canonical.js',
      'dist/canonical.d.ts',
    ])
      assert.ok(paths.has(f), `${f} is not in the tarball`);
    for (const f of paths) {
      assert.ok(!/^(src|test)\//.test(f), `${f}: sources or tests in the tarball`);
      assert.ok(!/\.(ts|tsx|mts|cts)$/.test(f) || f.endsWith('.d.ts'), `${f}: TypeScript source`);
      assert.ok(!/^(build\.mjs|tsconfig\.json)$/.test(f), `${f}: build input in the tarball`);
      assert.ok(f === 'package.json' || f === 'README.md' || f.startsWith('dist/'), f);
    }
    const readme = packed.files.find((f) => f.path === 'README.md');
    assert.ok(readme && readme.size > 1000, 'README.md is missing or empty');
  });

  it('points main, module, types and every export at packed files that exist', () => {
    assert.equal(manifest.type, 'module');
    const targets: string[] = [manifest.main, manifest.module, manifest.types].filter(
      (t): t is string => t !== undefined,
    );
    assert.equal(targets.length, 3, 'main, module and types are all set');
    assert.ok(manifest.exports?.['.'] && manifest.exports['./canonical'], 'both entries exported');
    for (const [key, target] of Object.entries(manifest.exports ?? {})) {
      if (typeof target === 'string') targets.push(target);
      else {
        assert.ok(target.types && target.import, `exports["${key}"] has types and import`);
        targets.push(target.types, target.import);
      }
    }
    for (const t of targets) {
      const rel = posix.normalize(t);
      assert.ok(existsSync(join(SDK_DIR, rel)), `${t} does not exist after the build`);
      assert.ok(paths.has(rel), `${t} is not in the tarball`);
    }
  });

  it('is self-contained: every relative import of a packed module or declaration is packed', () => {
    const seen = new Set<string>();
    const queue = [...paths].filter((p) => p.endsWith('.js') || p.endsWith('.d.ts'));
    for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
      if (seen.has(file)) continue;
      seen.add(file);
      const text = readFileSync(join(SDK_DIR, file), 'utf8');
      for (const spec of relativeImports(text)) {
        let target = posix.join(posix.dirname(file), spec);
        if (file.endsWith('.d.ts')) target = declarationOf(target);
        assert.ok(paths.has(target), `${file} imports ${spec}, which is not in the tarball`);
        queue.push(target);
      }
    }
    assert.ok(seen.size >= 6);
  });

  it('says where it comes from, under the root package licence', () => {
    const root = readJson<SdkManifest>(join(REPO_ROOT, 'package.json'));
    assert.ok(root.license, 'the root package has a licence');
    assert.equal(manifest.license, root.license);
    assert.equal(manifest.repository?.type, 'git');
    assert.equal(manifest.repository?.directory, 'sdk/jsapi-client');
    assert.ok(
      existsSync(join(REPO_ROOT, manifest.repository.directory, 'package.json')),
      'repository.directory is this package',
    );
    assert.deepEqual(manifest.files, ['dist']);
  });

  it('documents every runtime export of the entry point in its README', () => {
    const readme = readFileSync(join(SDK_DIR, 'README.md'), 'utf8');
    const index = readFileSync(join(SDK_DIR, 'src', 'index.ts'), 'utf8');
    const names = [...index.matchAll(/^export \{([^}]+)\}/gm)].flatMap((m) =>
      m[1]!.split(',').map((n) => n.trim()),
    );
    assert.ok(names.includes('AgentClient') && names.length >= 6, names.join(','));
    for (const n of names.filter(Boolean))
      assert.ok(readme.includes(n), `README.md does not mention ${n}`);
    for (const m of ['connect', 'getUKeyInfo', 'sign', 'ukey.inserted', 'ukey.removed'])
      assert.ok(readme.includes(m), `README.md does not mention ${m}`);
  });
});
