// electron-builder.yml cannot be exercised here (packaging downloads Electron), so its properties
// are checked statically: targets, asar unpacking and rebuild of the native modules, and that the
// file list ships what the desktop needs at run time and nothing development-only.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { TRAY_ICON_SIZES, TRAY_STATUSES } from '../../main/desktop/tray-icons';

const ROOT = join(__dirname, '..', '..', '..');

type Yaml = string | boolean | number | Yaml[] | { [k: string]: Yaml };

const scalar = (raw: string): Yaml => {
  const s = raw.trim();
  if (/^'.*'$/.test(s)) return s.slice(1, -1).replace(/''/g, "'");
  if (/^".*"$/.test(s)) return JSON.parse(s) as string;
  if (s === 'true' || s === 'false') return s === 'true';
  if (/^-?\d+(\.\d+)?$/.test(s) && !/^\d+\.\d+\.\d+$/.test(s)) return Number(s);
  if (/^\[.*\]$/.test(s))
    return s
      .slice(1, -1)
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '')
      .map(scalar);
  return s;
};

/**
 * The YAML subset electron-builder.yml uses: block mappings and sequences by indentation, flow
 * sequences, plain and quoted scalars, comments. Anything else fails the test rather than parse
 * wrongly (tabs, anchors, multi-line strings).
 */
function parseYaml(text: string): Yaml {
  const lines = text
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, '').trimEnd())
    .filter((l) => l.trim() !== '');
  for (const l of lines) assert.ok(!/\t|^\s*[&*!|>]|: [&*!|>]/.test(l), `unsupported YAML: ${l}`);
  let i = 0;
  const indent = (l: string): number => l.length - l.trimStart().length;
  const block = (ind: number): Yaml => {
    if (lines[i]!.trimStart().startsWith('- ')) {
      const out: Yaml[] = [];
      while (
        i < lines.length &&
        indent(lines[i]!) === ind &&
        lines[i]!.trimStart().startsWith('- ')
      ) {
        const rest = lines[i]!.trimStart().slice(2);
        if (/^[\w.-]+:( |$)/.test(rest)) {
          // "- key: value" opens a mapping whose keys line up with "key".
          lines[i] = ' '.repeat(ind + 2) + rest;
          out.push(block(ind + 2));
        } else {
          out.push(scalar(rest));
          i++;
        }
      }
      return out;
    }
    const out: { [k: string]: Yaml } = {};
    while (i < lines.length && indent(lines[i]!) === ind) {
      const m = /^([\w.-]+):(?: (.*))?$/.exec(lines[i]!.trim());
      assert.ok(m, `unsupported YAML: ${lines[i]}`);
      i++;
      if (m[2] !== undefined && m[2] !== '') out[m[1]!] = scalar(m[2]);
      else if (i < lines.length && indent(lines[i]!) > ind) out[m[1]!] = block(indent(lines[i]!));
      else if (
        i < lines.length &&
        indent(lines[i]!) === ind &&
        lines[i]!.trimStart().startsWith('- ')
      )
        out[m[1]!] = block(ind);
      else out[m[1]!] = '';
    }
    return out;
  };
  const doc = block(0);
  assert.equal(i, lines.length, `unparsed YAML from: ${lines[i]}`);
  return doc;
}

const cfg = parseYaml(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as Record<
  string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed document, walked by the assertions
  any
>;

/** electron-builder's file patterns (minimatch-like): **, *, {a,b}. */
function globRe(pattern: string): RegExp {
  let re = '';
  for (let k = 0; k < pattern.length; k++) {
    const c = pattern[k]!;
    if (c === '*' && pattern[k + 1] === '*') {
      re += pattern[k + 2] === '/' ? '(?:.*/)?' : '.*';
      k += pattern[k + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '{') {
      const end = pattern.indexOf('}', k);
      re += `(?:${pattern
        .slice(k + 1, end)
        .split(',')
        .map((x) => x.replace(/[.+?^$()|[\]\\]/g, '\\$&'))
        .join('|')})`;
      k = end;
    } else re += c.replace(/[.+?^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Whether the `files` list ships a path (relative to the app root): last matching pattern wins.
 * Production node_modules are always copied by electron-builder; the list can only drop from them.
 */
function shipped(path: string): boolean {
  let inc = path.startsWith('node_modules/');
  for (const p of cfg.files as string[]) {
    const neg = p.startsWith('!');
    if (globRe(neg ? p.slice(1) : p).test(path)) inc = !neg;
  }
  return inc;
}

const walk = (dir: string, out: string[] = []): string[] => {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
};

describe('electron-builder.yml', () => {
  it('targets Windows NSIS, Linux deb + AppImage, macOS dmg', () => {
    assert.deepEqual(
      cfg.win.target.map((t: { target: string }) => t.target),
      ['nsis'],
    );
    assert.deepEqual(cfg.linux.target, ['deb', 'AppImage']);
    assert.deepEqual(cfg.mac.target, ['dmg']);
    assert.equal(cfg.nsis.oneClick, false);
    assert.equal(cfg.nsis.perMachine, false); // per-user: no admin rights needed
  });

  it('pins the Electron version (no electron dependency to read it from)', () => {
    assert.match(String(cfg.electronVersion), /^\d+\.\d+\.\d+$/);
  });

  it('unpacks the .node files of pkcs11js, better-sqlite3 and node-hid, rebuilt from source', () => {
    assert.equal(cfg.asar, true);
    for (const m of ['pkcs11js', 'better-sqlite3', 'node-hid']) {
      const nodes = walk(join(ROOT, 'node_modules', m))
        .map((p) => relative(ROOT, p))
        .filter((p) => p.endsWith('.node'));
      assert.ok(nodes.length > 0, m);
      for (const n of nodes)
        assert.ok(
          (cfg.asarUnpack as string[]).some((p) => globRe(p).test(n)),
          `${n} is not unpacked`,
        );
    }
    assert.equal(cfg.npmRebuild, true);
    assert.equal(cfg.buildDependenciesFromSource, true);
    assert.equal(cfg.nodeGypRebuild, false);
  });

  it('ships the desktop and everything it requires; no demo, tests, native sources or software UKey', () => {
    const dist = join(ROOT, 'dist');
    assert.ok(existsSync(join(dist, 'main/desktop/main.js')), 'build first (tsc)');
    // Development-only paths stay out.
    for (const p of [
      'native/softukey/build/libsoftukey.so',
      'native/softukey/src/softukey.c',
      'dist/main/core/demo/seal-image.js',
      'dist/main/cli/main.js',
      'dist/test/unit/x.test.js',
      'dist/main/desktop/main.js.map',
      'node_modules/better-sqlite3/deps/sqlite3/sqlite3.c',
      'node_modules/pkcs11js/build/Release/obj.target/pkcs11.node',
    ])
      assert.equal(shipped(p), false, p);
    // What the desktop loads at run time is in.
    for (const p of [
      'package.json',
      'dist/main/desktop/main.js',
      'dist/main/preload/preload.js',
      'dist/renderer/index.html',
      'dist/main/core/token/profiles/softukey.json',
      'node_modules/pkcs11js/build/Release/pkcs11.node',
    ])
      assert.equal(shipped(p), true, p);
    for (const s of TRAY_STATUSES)
      for (const { suffix } of TRAY_ICON_SIZES)
        assert.equal(shipped(`assets/tray-${s}${suffix}.png`), true, s);

    // Follow every require() from the entry points: each must land on a shipped file, a node
    // builtin, electron, or a production dependency.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const seen = new Set<string>();
    const todo = [join(dist, 'main/desktop/main.js'), join(dist, 'main/preload/preload.js')];
    while (todo.length > 0) {
      const file = todo.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const rel = relative(ROOT, file);
      assert.ok(shipped(rel), `${rel} is required at run time but not shipped`);
      if (!file.endsWith('.js')) continue;
      for (const m of readFileSync(file, 'utf8').matchAll(/\brequire\("([^"]+)"\)/g)) {
        const spec = m[1]!;
        if (spec.startsWith('.')) {
          const base = resolve(dirname(file), spec);
          const target = [base, `${base}.js`, join(base, 'index.js')].find(
            (p) => existsSync(p) && statSync(p).isFile(),
          );
          assert.ok(target, `${rel}: ${spec} not found`);
          todo.push(target);
        } else {
          const name = spec.startsWith('@')
            ? spec.split('/').slice(0, 2).join('/')
            : spec.split('/')[0]!;
          assert.ok(
            builtinModules.includes(spec.replace(/^node:/, '')) ||
              name === 'electron' ||
              name in pkg.dependencies,
            `${rel}: ${spec} is neither built in nor a production dependency`,
          );
        }
      }
    }
    assert.ok(seen.size > 20);
    assert.ok(![...seen].some((f) => f.includes(`${join('core', 'demo')}`)));
  });

  it('macOS: hardened runtime that can still load vendor PKCS#11 modules', () => {
    assert.equal(cfg.mac.hardenedRuntime, true);
    const ent = readFileSync(join(ROOT, cfg.mac.entitlements as string), 'utf8');
    assert.match(ent, /com\.apple\.security\.cs\.disable-library-validation<\/key>\s*<true\/>/);
    assert.doesNotMatch(ent, /get-task-allow|allow-dyld-environment-variables/);
  });

  it('deb: keeps electron-builder default dependencies when adding its own', () => {
    for (const d of ['libgtk-3-0', 'libnss3', 'libnotify4', 'libudev1'])
      assert.ok((cfg.deb.depends as string[]).includes(d), d);
  });
});
