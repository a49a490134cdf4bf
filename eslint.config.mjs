// @ts-check
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/** Module boundaries: a service never imports another service; domain code never imports infrastructure. */
const scopes = ['gateway', 'transfer', 'compensation', 'enforcement'];
const depConstraints = (testing) => [
  ...scopes.map((s) => ({
    sourceTag: `scope:${s}`,
    onlyDependOnLibsWithTags: [`scope:${s}`, 'scope:shared'],
  })),
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
  {
    sourceTag: 'type:app',
    onlyDependOnLibsWithTags: ['type:domain', 'type:infra', ...(testing ? ['type:testing'] : [])],
  },
  {
    sourceTag: 'type:infra',
    onlyDependOnLibsWithTags: ['type:domain', 'type:infra', ...(testing ? ['type:testing'] : [])],
  },
  {
    sourceTag: 'type:domain',
    onlyDependOnLibsWithTags: ['type:domain', ...(testing ? ['type:testing'] : [])],
  },
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:domain', 'type:infra', 'type:testing'] },
];
const boundaries = (testing) => ({
  '@nx/enforce-module-boundaries': [
    'error',
    {
      enforceBuildableLibDependency: false,
      // The test harness starts the real broker with the plain-JS tool that `npm run kafka` uses too.
      allow: ['../../../../tools/kafka/broker.cjs'],
      depConstraints: depConstraints(testing),
    },
  ],
});

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'data/**',
      'coverage/**',
      '.nx/**',
      'tools/kafka/.runtime/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { plugins: { '@nx': nx } },
  {
    files: ['**/*.ts'],
    rules: {
      ...boundaries(false),
      // Leaving a field out by destructuring (`const { secret, ...rest } = x`) is how we drop it.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
          message: 'Use crypto for ids; deciders take ids and time from the command.',
        },
      ],
    },
  },
  {
    // Test code (specs, their fixtures, the store contract suite, benchmarks) may use the test helpers.
    files: [
      '**/*.spec.ts',
      '**/*.fixture.ts',
      '**/*.contract.ts',
      '**/test-fixtures/**/*.ts',
      '**/fixtures/**/*.ts',
      'libs/testing/**/*.ts',
      'bench/**/*.ts',
    ],
    rules: boundaries(true),
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
