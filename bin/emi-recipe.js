#!/usr/bin/env node
// Entry point installed as `emi-recipe`: runs the compiled CLI (npm run build makes dist/).
import { main } from '../dist/cli/main.js';
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
