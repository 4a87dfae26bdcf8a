#!/usr/bin/env node
// Writes the tray and application icons (drawn by main/desktop/tray-icons.ts) into assets/.
// Run after `npm run build:ts`; the unit test desktop-tray-icons checks the committed files match.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { iconFiles } = require(join(root, 'dist/main/desktop/tray-icons.js'));
for (const { file, png } of iconFiles()) {
  writeFileSync(join(root, 'assets', file), png);
  console.log(`assets/${file}  ${png.length} bytes`);
}
