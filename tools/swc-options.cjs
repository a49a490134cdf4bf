// One swc configuration for the build and for jest, so tests run the code as it ships.
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const libs = [
  'auth',
  'contracts',
  'domain-kernel',
  'eventsourcing',
  'graph',
  'messaging',
  'runtime',
  'testing',
];

/** @param {{ rewritePaths?: boolean }} [opts] */
function swcOptions(opts = {}) {
  const jsc = {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  };
  if (opts.rewritePaths) {
    // swc turns `@lianfang/x` into a relative require, so `node dist/...` needs no resolver.
    jsc.baseUrl = root;
    jsc.paths = Object.fromEntries(libs.map((l) => [`@lianfang/${l}`, [`libs/${l}/src/index.ts`]]));
  }
  return {
    jsc,
    // ignoreDynamic keeps `import()` as is: the way to load an ESM-only package from CommonJS.
    module: { type: 'commonjs', ignoreDynamic: true },
    sourceMaps: true,
  };
}

module.exports = { swcOptions, root, libs };
