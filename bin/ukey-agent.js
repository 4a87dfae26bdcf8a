#!/usr/bin/env node
'use strict';
// The ukey-agent CLI runs the compiled core under plain Node (npm run build:ts first).
require('../dist/main/cli/main.js')
  .main(process.argv)
  .then(
    (code) => {
      process.exitCode = code;
    },
    () => {
      process.exitCode = 1;
    },
  );
