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
});
