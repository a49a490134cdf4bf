// `node -r ./tools/register-ts.cjs file.ts`: runs TypeScript directly, compiled by swc with the same
// options as the build (decorator metadata, `@lianfang/*` rewritten to the libs' sources).
// For scripts, benchmarks and test child processes; the apps themselves run from dist/.
const fs = require('node:fs');
const { transformSync } = require('@swc/core');
const { swcOptions } = require('./swc-options.cjs');

const options = swcOptions({ rewritePaths: true });
process.setSourceMapsEnabled(true);
require('reflect-metadata');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    ...options,
    filename,
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};
