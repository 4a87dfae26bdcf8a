// Lint rules that keep the layers honest: main/core and main/common run under plain Node
// (and must also run inside Electron's main process), so they may not import electron or touch the DOM.
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

const browserOnlyGlobals = [
  'window',
  'document',
  'navigator',
  'localStorage',
  'sessionStorage',
  'location',
  'HTMLElement',
  'alert',
];

const RAW_IPC =
  'Raw ipcMain/ipcRenderer only in main/desktop/ipc-router.ts and main/preload/preload.ts: use the typed operator channels.';
const IPC_NAMES = '/^(ipcMain|ipcRenderer)$/';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'native/**/build/**',
      'renderer/dist/**',
      'sdk/*/dist/**',
      'bin/**',
    ],
  },
  ...tseslint.configs.recommended,
  prettier,
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mjs'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'no-restricted-exports': [
        'error',
        {
          restrictDefaultExports: {
            direct: true,
            named: true,
            defaultFrom: true,
            namedFrom: true,
            namespaceFrom: true,
          },
        },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // Raw Electron IPC only in the two typed doors: the router (main) and the preload (renderer).
    // Everything else goes through the operator channel map (main/common/ipc-channels.ts).
    files: ['**/*.ts', '**/*.tsx', '**/*.mjs', '**/*.js'],
    ignores: ['main/desktop/ipc-router.ts', 'main/preload/preload.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        ...['electron', 'electron/main', 'electron/renderer', 'electron/common'].map((name) => ({
          name,
          importNames: ['ipcMain', 'ipcRenderer'],
          message: RAW_IPC,
        })),
      ],
      'no-restricted-syntax': [
        'error',
        {
          // ipcMain.handle(...), ipcRenderer.send(...)
          selector: `CallExpression > MemberExpression.callee > Identifier.object[name=${IPC_NAMES}]`,
          message: RAW_IPC,
        },
        {
          // electron.ipcMain.on(...), e.ipcRenderer.invoke(...)
          selector: `CallExpression > MemberExpression.callee > MemberExpression.object > Identifier.property[name=${IPC_NAMES}]`,
          message: RAW_IPC,
        },
        {
          // const { ipcMain } = require('electron')
          selector: `VariableDeclarator > ObjectPattern > Property > Identifier.key[name=${IPC_NAMES}]`,
          message: RAW_IPC,
        },
        {
          // const m = e.ipcMain; m.on(...) — an alias would slip past the call rules above
          selector: `VariableDeclarator > MemberExpression.init > Identifier.property[name=${IPC_NAMES}]`,
          message: RAW_IPC,
        },
        {
          // m = e.ipcRenderer
          selector: `AssignmentExpression > MemberExpression.right > Identifier.property[name=${IPC_NAMES}]`,
          message: RAW_IPC,
        },
      ],
    },
  },
  {
    // Tool configuration files must default-export their config.
    files: ['*.config.mjs'],
    rules: { 'no-restricted-exports': 'off' },
  },
  {
    files: ['main/core/**/*.ts', 'main/common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message: 'main/core and main/common run under plain Node: no electron imports.',
            },
          ],
          patterns: [
            {
              group: ['electron/*'],
              message: 'main/core and main/common run under plain Node: no electron imports.',
            },
            {
              group: ['**/desktop/**', '**/preload/**', '**/cli/**', '**/renderer/**'],
              message: 'Imports point down only: core may not import shell, CLI or renderer.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...browserOnlyGlobals.map((name) => ({
          name,
          message: 'No DOM in main/core or main/common.',
        })),
      ],
    },
  },
  {
    files: ['main/common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/core/**', 'electron', 'electron/*'],
              message: 'main/common imports nothing else of ours.',
            },
          ],
        },
      ],
    },
  },
  {
    // The operator UI runs in Chromium and sees the agent only through the operator API types in
    // main/common: no core, shell, CLI or Node imports.
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message: 'The renderer talks to the agent only through the operator API.',
            },
          ],
          patterns: [
            {
              group: [
                '**/main/core/**',
                '**/main/cli/**',
                '**/main/desktop/**',
                '**/main/preload/**',
                '**/test/**',
              ],
              message: 'The renderer may import only main/common (the operator API types).',
            },
            {
              group: ['node:*', 'electron/*'],
              message: 'No Node or Electron modules in the renderer.',
            },
          ],
        },
      ],
    },
  },
);
