import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';

const root = join(__dirname, '..', '..', '..');

async function ruleIds(filePath: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [res] = await eslint.lintText(code, { filePath: join(root, filePath) });
  return res!.messages.map((m) => m.ruleId ?? m.message);
}

describe('layer rules (eslint.config.mjs)', () => {
  it('main/core may not import electron, nor use DOM globals, nor import the shell or CLI', async () => {
    assert.ok(
      (
        await ruleIds('main/core/x.ts', "import { app } from 'electron';\nexport const a = app;\n")
      ).includes('no-restricted-imports'),
    );
    assert.ok(
      (
        await ruleIds(
          'main/core/x.ts',
          "import { ipcMain } from 'electron/main';\nexport const a = ipcMain;\n",
        )
      ).includes('no-restricted-imports'),
    );
    assert.ok(
      (await ruleIds('main/core/x.ts', 'export const w = window.location;\n')).includes(
        'no-restricted-globals',
      ),
    );
    assert.ok(
      (
        await ruleIds(
          'main/core/x.ts',
          "import { main } from '../cli/main';\nexport const m = main;\n",
        )
      ).includes('no-restricted-imports'),
    );
  });

  it('main/common imports nothing else of ours', async () => {
    assert.ok(
      (
        await ruleIds(
          'main/common/x.ts',
          "import { TokenService } from '../core/token/token-service';\nexport type T = TokenService;\n",
        )
      ).includes('no-restricted-imports'),
    );
  });

  it('no default exports anywhere; the CLI may import the core', async () => {
    assert.ok(
      (await ruleIds('main/cli/x.ts', 'const a = 1;\nexport default a;\n')).includes(
        'no-restricted-exports',
      ),
    );
    assert.deepEqual(
      await ruleIds(
        'main/cli/x.ts',
        "import { version } from '../common/version';\nexport const v = version;\n",
      ),
      [],
    );
  });

  it('raw ipcMain/ipcRenderer only in the IPC router and the preload', async () => {
    const raw = [
      ['main/desktop/x.ts', "import { ipcMain } from 'electron';\nexport const a = ipcMain;\n"],
      [
        'main/desktop/x.ts',
        "import { ipcRenderer as r } from 'electron/renderer';\nexport const a = r;\n",
      ],
      [
        'main/desktop/x.ts',
        "declare const ipcMain: { handle(c: string): void };\nipcMain.handle('x');\n",
      ],
      [
        'main/desktop/x.ts',
        "declare const e: { ipcMain: { on(c: string): void } };\ne.ipcMain.on('x');\n",
      ],
      [
        'renderer/src/x.tsx',
        "declare const w: { electron: { ipcRenderer: { send(c: string): void } } };\nw.electron.ipcRenderer.send('x');\n",
      ],
      [
        'main/cli/x.ts',
        "// eslint-disable-next-line @typescript-eslint/no-require-imports\nconst { ipcRenderer } = require('electron');\nexport const r = ipcRenderer;\n",
      ],
      // Aliases: the object under another name, then used.
      [
        'main/desktop/x.ts',
        "declare const e: { ipcMain: { on(c: string): void } };\nconst m = e.ipcMain;\nm.on('x');\n",
      ],
      [
        'main/desktop/x.ts',
        'declare const e: { ipcMain: { on(c: string): void } };\nlet m: unknown;\nm = e.ipcMain;\nexport { m };\n',
      ],
      [
        'main/desktop/x.ts',
        "declare const e: { ipcMain: { on(c: string): void } };\nconst { ipcMain: m } = e;\nm.on('x');\n",
      ],
    ] as const;
    for (const [file, code] of raw) {
      const ids = await ruleIds(file, code);
      assert.ok(
        ids.includes('no-restricted-syntax') || ids.includes('no-restricted-imports'),
        `${file}: ${code} -> ${ids.join(',')}`,
      );
    }
    const call =
      "declare const o: { ipcMain: { handle(c: string): void } };\no.ipcMain.handle('x');\n";
    assert.deepEqual(await ruleIds('main/desktop/ipc-router.ts', call), []);
    assert.deepEqual(
      await ruleIds(
        'main/preload/preload.ts',
        "declare const ipcRenderer: { invoke(c: string): void };\nipcRenderer.invoke('x');\n",
      ),
      [],
    );
    // Handing the object to the router (main.ts) is wiring, not use.
    assert.deepEqual(
      await ruleIds(
        'main/desktop/x.ts',
        'declare const e: { ipcMain: object };\ndeclare function register(o: { ipcMain: object }): void;\nregister({ ipcMain: e.ipcMain });\n',
      ),
      [],
    );
  });
});
