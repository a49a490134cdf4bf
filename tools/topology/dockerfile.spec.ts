import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ServiceDefinition } from '@lianfang/runtime';
import { service as compensationService } from '../../apps/compensation-service/src/service';
import { service as enforcementService } from '../../apps/enforcement-service/src/service';
import { service as gateway } from '../../apps/gateway/src/service';
import { service as transferService } from '../../apps/transfer-service/src/service';
import { loadCompose, serviceEnvironment } from './compose';
import { parseDockerfile, readDockerfile, readDockerignore, type ParsedDockerfile } from './dockerfile';
import { generateDeploymentSecrets } from './env';
import {
  APPS,
  composeFile,
  dockerfileOf,
  prepareImages,
  repoRoot,
  type AppName,
  type PreparedImages,
} from './processes';
import { runtimeNeeds } from './runtime-files';

// The apps' images checked without Docker: what each Dockerfile does, and, on a real build laid out the
// way the runtime stage copies it, that `node dist/apps/<app>/main.js` finds everything it loads or reads.

const definitions: Record<AppName, ServiceDefinition> = {
  gateway,
  'transfer-service': transferService,
  'compensation-service': compensationService,
  'enforcement-service': enforcementService,
} as Record<AppName, ServiceDefinition>;

const dockerfiles = Object.fromEntries(APPS.map((app) => [app, readDockerfile(dockerfileOf(app))])) as Record<
  AppName,
  ParsedDockerfile
>;
const rootPackage = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};

describe('Dockerfiles', () => {
  it.each(APPS)('%s: builds with every dependency, runs with production ones only', (app) => {
    const df = dockerfiles[app];
    expect(df.stages.map((s) => s.base)).toEqual(['node:20-bookworm-slim', 'node:20-bookworm-slim']);
    const runs = (i: number) =>
      df.stages[i].instructions.filter((x) => x.keyword === 'RUN').map((x) => x.args);
    expect(runs(0).some((r) => /^npm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
    expect(runs(0).some((r) => r.includes('node tools/build.mjs'))).toBe(true);
    expect(runs(1).some((r) => /^npm ci --omit=dev\b/.test(r))).toBe(true);
    // Only the build stage's output, never its node_modules (which holds the dev dependencies).
    const fromBuild = df.runtime.copies.filter((c) => c.from !== undefined).flatMap((c) => c.sources);
    expect(fromBuild.every((s) => s.startsWith('/src/dist/'))).toBe(true);
  });

  it.each(APPS)('%s: runs `node dist/apps/<app>/main.js` as a non-root user, with a health check', (app) => {
    const image = dockerfiles[app].runtime;
    expect(image.cmd).toEqual(['node', `dist/apps/${app}/main.js`]);
    expect(image.user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(image.user);
    expect(image.healthcheck?.join(' ')).toContain('/health');
    expect(image.env).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0' });
    expect(Number(image.env.PORT)).toBe(definitions[app].defaultPort);
    expect(image.expose).toEqual([definitions[app].defaultPort]);
  });

  it('share one build stage, word for word, so that BuildKit builds it once for all four', () => {
    const build = (app: AppName) =>
      dockerfiles[app].stage('build').instructions.map((i) => `${i.keyword} ${i.args}`);
    for (const app of APPS) expect(build(app)).toEqual(build('gateway'));
  });

  it.each(APPS)('%s: copies the package.json of every workspace before each npm ci', (app) => {
    const workspaces = ['apps', 'libs'].flatMap((kind) =>
      readdirSync(path.join(repoRoot, kind))
        .filter((name) => existsSync(path.join(repoRoot, kind, name, 'package.json')))
        .map((name) => `${kind}/${name}/package.json`),
    );
    for (const stage of dockerfiles[app].stages) {
      const copied = stage.instructions
        .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
        .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
      expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', ...workspaces]));
    }
  });

  it('keeps secrets, local state and build output out of the build context', () => {
    const ignored = readDockerignore(repoRoot);
    for (const p of [
      '.env',
      '.env.production',
      'node_modules',
      'libs/auth/node_modules',
      'dist',
      'data',
      '.git',
    ])
      expect([p, ignored(p)]).toEqual([p, true]);
    for (const p of [
      'package.json',
      'libs/runtime/src/service.ts',
      'libs/domain-kernel/data/cn-holidays.json',
    ])
      expect([p, ignored(p)]).toEqual([p, false]);
  });

  it('reads Dockerfiles the way Docker does (continuations, exec form, stages)', () => {
    const df = parseDockerfile(
      [
        'FROM a AS one',
        'RUN x \\',
        '  # a comment inside',
        '  && y',
        'FROM b',
        'WORKDIR /app',
        'ENV A=1 \\',
        '    B="two words"',
        'COPY --from=one /w/out dist/',
        'HEALTHCHECK --interval=5s CMD ["node", "-e", "1"]',
        'CMD ["node", "main.js"]',
      ].join('\n'),
    );
    expect(df.stage('one').instructions[0].args).toBe('x && y');
    expect(df.runtime).toMatchObject({
      base: 'b',
      workdir: '/app',
      env: { A: '1', B: 'two words' },
      cmd: ['node', 'main.js'],
      healthcheck: ['node', '-e', '1'],
    });
    expect(df.runtime.copies[0]).toMatchObject({ from: 'one', sources: ['/w/out'], destination: 'dist/' });
    expect(() => parseDockerfile('FROM b\nCMD node main.js')).toThrow('exec form');
  });
});

describe('the runtime image of each app, laid out from a real build', () => {
  let prepared: PreparedImages;
  let composeEnv: Record<AppName, Record<string, string>>;

  beforeAll(async () => {
    prepared = await prepareImages();
    const secrets = await generateDeploymentSecrets();
    const compose = loadCompose(composeFile, {
      ...secrets,
      AUTH_ISSUER: 'https://sso.example.gov.cn/realms/lianfang',
      AUTH_JWKS_URL: 'https://sso.example.gov.cn/realms/lianfang/certs',
    }).file;
    composeEnv = Object.fromEntries(APPS.map((a) => [a, serviceEnvironment(compose.services[a])])) as Record<
      AppName,
      Record<string, string>
    >;
  }, 60_000);

  afterAll(() => prepared?.remove());

  it.each(APPS)('%s: every COPY source exists (docker build would stop at a missing one)', (app) => {
    expect(prepared.images[app].missing).toEqual([]);
  });

  it.each(APPS)('%s: every file main.js requires is in the image, the holiday calendar included', (app) => {
    const image = prepared.images[app];
    const needs = runtimeNeeds(path.join(image.workdir, 'dist/apps', app, 'main.js'));
    expect(needs.unresolved.map((u) => `${path.relative(image.workdir, u.from)} → ${u.request}`)).toEqual([]);
    // Read at runtime by WorkingDayCalendar and WasteCode: proves the walk reaches data files too.
    const files = needs.files.map((f) => path.relative(image.workdir, f));
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/libs/domain-kernel/data/cn-holidays.json',
        'dist/libs/domain-kernel/data/hw-categories.json',
      ]),
    );
    expect(files.filter((f) => f.startsWith('dist/libs/testing/'))).toEqual([]);
  });

  it.each(APPS)('%s: every npm package its code requires is a production dependency', (app) => {
    const image = prepared.images[app];
    const needs = runtimeNeeds(path.join(image.workdir, 'dist/apps', app, 'main.js'));
    const notProduction = [...needs.packages]
      .filter(([name]) => !(name in rootPackage.dependencies))
      .map(([name, from]) => `${name} (required by ${path.relative(image.workdir, from)})`);
    expect(notProduction).toEqual([]);
  });

  it.each(APPS)(
    '%s: the files it reads by path (DIRECTORY_FILE, SUPERGRAPH_FILE…) are in the image',
    (app) => {
      const image = prepared.images[app];
      const variables = definitions[app].config.variables as Record<string, { default?: unknown }>;
      const fileVariables = Object.keys(variables).filter((v) => v.endsWith('_FILE'));
      expect(fileVariables).toContain('DIRECTORY_FILE');
      const absent = fileVariables
        .map((v) => [v, composeEnv[app][v] ?? variables[v].default] as const)
        .filter((entry): entry is readonly [string, string] => typeof entry[1] === 'string')
        .filter(([, file]) => !existsSync(path.resolve(image.workdir, file)))
        .map(([v, file]) => `${v}=${file}`);
      expect(absent).toEqual([]);
    },
  );
});
