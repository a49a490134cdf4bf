import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import path from 'node:path';

/**
 * Just enough of a Dockerfile reader to check the apps' images without a Docker engine: the stages, and
 * of the last (runtime) stage what it copies, its environment, working directory, command and health
 * check. `stageImage` then lays the runtime filesystem out in a directory the way `docker build` would,
 * from the repository (the build context) and its `dist/` (the build stage's output), so that the harness
 * runs each app from exactly what its image would contain.
 */
export interface Instruction {
  readonly keyword: string;
  /** The arguments as written, continuation lines joined. */
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly name: string | undefined;
  readonly base: string;
  readonly instructions: readonly Instruction[];
}

export interface CopyInstruction {
  /** The stage copied from (`--from=build`), or undefined for the build context. */
  readonly from: string | undefined;
  readonly sources: readonly string[];
  readonly destination: string;
  readonly line: number;
}

export interface RuntimeImage {
  readonly base: string;
  readonly workdir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly copies: readonly CopyInstruction[];
  readonly runs: readonly Instruction[];
  readonly user: string | undefined;
  readonly expose: readonly number[];
  /** Exec form only: the shell form would need a shell the harness does not emulate. */
  readonly cmd: readonly string[];
  readonly healthcheck: readonly string[] | undefined;
}

export interface ParsedDockerfile {
  readonly file: string;
  readonly stages: readonly Stage[];
  stage(name: string): Stage;
  /** The last stage: what `docker build` without `--target` produces. */
  readonly runtime: RuntimeImage;
}

export class DockerfileError extends Error {
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
  }
}

export function readDockerfile(file: string): ParsedDockerfile {
  return parseDockerfile(readFileSync(file, 'utf8'), file);
}

export function parseDockerfile(text: string, file = 'Dockerfile'): ParsedDockerfile {
  const stages: { name: string | undefined; base: string; instructions: Instruction[] }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let current = lines[i];
    if (/^\s*(#|$)/.test(current)) continue;
    // A trailing backslash continues the instruction; comment lines inside it are dropped, as Docker does.
    while (/\\\s*$/.test(current) && i + 1 < lines.length) {
      i++;
      if (/^\s*#/.test(lines[i])) continue;
      current = current.replace(/\s*\\\s*$/, ' ') + lines[i].trim();
    }
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(current);
    if (!match) throw new DockerfileError(file, start + 1, `cannot read "${current}"`);
    const instruction = { keyword: match[1].toUpperCase(), args: match[2].trim(), line: start + 1 };
    if (instruction.keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!from) throw new DockerfileError(file, instruction.line, `cannot read FROM ${instruction.args}`);
      stages.push({ name: from[2], base: from[1], instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword !== 'ARG')
        throw new DockerfileError(file, instruction.line, `${instruction.keyword} before FROM`);
    } else {
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  if (stages.length === 0) throw new DockerfileError(file, 1, 'no FROM: not a Dockerfile');
  return {
    file,
    stages,
    stage(name) {
      const found = stages.find((s) => s.name === name);
      if (!found) throw new DockerfileError(file, 1, `no stage named ${name}`);
      return found;
    },
    runtime: runtimeOf(stages[stages.length - 1], file),
  };
}

function runtimeOf(stage: Stage, file: string): RuntimeImage {
  let workdir = '/';
  const env: Record<string, string> = {};
  const copies: CopyInstruction[] = [];
  const runs: Instruction[] = [];
  const expose: number[] = [];
  let user: string | undefined;
  let cmd: string[] | undefined;
  let healthcheck: string[] | undefined;
  for (const ins of stage.instructions) {
    switch (ins.keyword) {
      case 'WORKDIR':
        workdir = path.posix.resolve(workdir, ins.args);
        break;
      case 'ENV':
        Object.assign(env, parseEnv(ins, file));
        break;
      case 'COPY':
        copies.push(parseCopy(ins, file));
        break;
      case 'RUN':
        runs.push(ins);
        break;
      case 'USER':
        user = ins.args;
        break;
      case 'EXPOSE':
        expose.push(...ins.args.split(/\s+/).map((p) => Number(p.replace(/\/tcp$/, ''))));
        break;
      case 'CMD':
        cmd = execForm(ins.args, ins, file);
        break;
      case 'HEALTHCHECK': {
        const m = /^(?:--\S+\s+)*CMD\s+(.*)$/.exec(ins.args);
        if (!m) throw new DockerfileError(file, ins.line, 'HEALTHCHECK without CMD');
        healthcheck = execForm(m[1], ins, file);
        break;
      }
      default:
        break;
    }
  }
  if (!cmd)
    throw new DockerfileError(file, stage.instructions.at(-1)?.line ?? 1, 'the runtime stage has no CMD');
  return { base: stage.base, workdir, env, copies, runs, user, expose, cmd, healthcheck };
}

function execForm(args: string, ins: Instruction, file: string): string[] {
  try {
    const value: unknown = JSON.parse(args);
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  } catch {
    // reported below
  }
  throw new DockerfileError(file, ins.line, `${ins.keyword} must use the exec form ["…", "…"]`);
}

function parseEnv(ins: Instruction, file: string): Record<string, string> {
  const env: Record<string, string> = {};
  const pattern = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g;
  let rest = ins.args;
  for (const m of ins.args.matchAll(pattern)) {
    env[m[1]] = m[2].startsWith('"') ? (JSON.parse(m[2]) as string) : m[2];
    rest = rest.replace(m[0], '');
  }
  if (rest.trim() !== '')
    throw new DockerfileError(file, ins.line, `ENV must be KEY=value pairs: ${ins.args}`);
  return env;
}

function parseCopy(ins: Instruction, file: string): CopyInstruction {
  const words = ins.args.split(/\s+/);
  let from: string | undefined;
  const paths: string[] = [];
  for (const w of words) {
    if (w.startsWith('--from=')) from = w.slice('--from='.length);
    else if (w.startsWith('--chown=') || w.startsWith('--chmod=') || w === '--link') continue;
    else if (w.startsWith('--'))
      throw new DockerfileError(file, ins.line, `COPY option ${w} is not understood by the harness`);
    else paths.push(w);
  }
  if (paths.length < 2) throw new DockerfileError(file, ins.line, 'COPY needs a source and a destination');
  if (paths.some((p) => /[*?[]/.test(p)))
    throw new DockerfileError(file, ins.line, 'COPY with wildcards is not understood by the harness');
  return { from, sources: paths.slice(0, -1), destination: paths[paths.length - 1], line: ins.line };
}

/** Where a COPY puts `source` inside the image (Docker's rules for a destination ending in `/`). */
export function copyTarget(copy: CopyInstruction, source: string, workdir: string): string {
  const destination = path.posix.resolve(workdir, copy.destination);
  return copy.destination.endsWith('/') || copy.sources.length > 1
    ? path.posix.join(destination, path.posix.basename(source))
    : destination;
}

// ---------------------------------------------------------------------------------------------------------
// .dockerignore

/** A predicate over context-relative POSIX paths: true when `docker build` leaves the path out. */
export function readDockerignore(contextDir: string): (relative: string) => boolean {
  const file = path.join(contextDir, '.dockerignore');
  const rules = existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'))
        .map((l) => ({
          negate: l.startsWith('!'),
          pattern: globToRegExp(l.replace(/^!/, '').replace(/^\/+/, '')),
        }))
    : [];
  return (relative) => {
    // A rule that excludes a directory excludes everything under it; the last matching rule wins.
    const parts = relative.split('/');
    let excluded = false;
    for (const rule of rules) {
      for (let n = 1; n <= parts.length; n++) {
        if (rule.pattern.test(parts.slice(0, n).join('/'))) {
          excluded = !rule.negate;
          break;
        }
      }
    }
    return excluded;
  };
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` matches any number of directories, including none
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re.replace(/\/$/, '')}$`);
}

// ---------------------------------------------------------------------------------------------------------
// Running the stages on this machine

/** A stage's filesystem laid out under a directory of this machine. */
export interface StageFilesystem {
  /** `<root>` + an absolute image path. */
  hostPath(imagePath: string): string;
  /** The stage's WORKDIR (absolute, in the image). */
  readonly imageWorkdir: string;
}

export interface MissingSource {
  readonly line: number;
  readonly copy: string;
  readonly reason: string;
}

interface CopyContext {
  readonly dockerfile: ParsedDockerfile;
  readonly contextDir: string;
  readonly stages: ReadonlyMap<string, StageFilesystem>;
  readonly onMissing: 'throw' | 'collect';
  readonly missing: MissingSource[];
  readonly files: string[];
}

/** Carries out one COPY into `target` (a stage laid out on this machine). */
function applyCopy(copy: CopyInstruction, target: StageFilesystem, ctx: CopyContext): void {
  const ignored = readDockerignore(ctx.contextDir);
  const fail = (what: string, reason: string) => {
    if (ctx.onMissing === 'collect') ctx.missing.push({ line: copy.line, copy: what, reason });
    else throw new DockerfileError(ctx.dockerfile.file, copy.line, `COPY ${what}: ${reason}`);
  };
  const copyTree = (from: string, to: string, skip: (hostFile: string) => boolean) => {
    if (skip(from)) return;
    if (statSync(from).isDirectory()) {
      for (const entry of readdirSync(from))
        copyTree(path.join(from, entry), path.posix.join(to, entry), skip);
      return;
    }
    mkdirSync(path.dirname(target.hostPath(to)), { recursive: true });
    cpSync(from, target.hostPath(to));
    ctx.files.push(to);
  };
  for (const source of copy.sources) {
    const to = copyTarget(copy, source, target.imageWorkdir);
    if (copy.from === undefined) {
      const relative = path.posix.normalize(source).replace(/\/$/, '');
      const from = path.join(ctx.contextDir, relative);
      if (ignored(relative) || !existsSync(from)) {
        fail(source, `not in the build context${ignored(relative) ? ' (.dockerignore leaves it out)' : ''}`);
        continue;
      }
      copyTree(from, to, (hostFile) =>
        ignored(path.relative(ctx.contextDir, hostFile).split(path.sep).join('/')),
      );
    } else {
      const stage = ctx.stages.get(copy.from);
      if (!stage)
        throw new DockerfileError(ctx.dockerfile.file, copy.line, `COPY --from=${copy.from}: no such stage`);
      const from = stage.hostPath(path.posix.resolve(stage.imageWorkdir, source));
      if (!existsSync(from)) {
        fail(`--from=${copy.from} ${source}`, 'the build did not produce it');
        continue;
      }
      copyTree(from, to, () => false);
    }
  }
}

function filesystem(root: string, imageWorkdir: string): StageFilesystem {
  return { imageWorkdir, hostPath: (imagePath) => path.join(root, ...imagePath.split('/')) };
}

export interface BuildStageOptions {
  readonly dockerfile: ParsedDockerfile;
  readonly stage: string;
  /** The build context (the repository root). */
  readonly contextDir: string;
  /** Where to lay the stage's filesystem out. */
  readonly into: string;
  /** Stands in for `npm ci`: a node_modules directory to link (the repository's). */
  readonly nodeModules: string;
}

/**
 * Carries out a build stage in a directory of its own: its COPY instructions from the context (honouring
 * .dockerignore), `npm ci` as a link to `nodeModules`, `node …` run for real, `rm -rf`. Any other RUN
 * fails loudly, so a new step in a Dockerfile is noticed rather than skipped. Building in a directory of
 * its own also keeps the repository's shared dist/ out of it.
 */
export async function runBuildStage(options: BuildStageOptions): Promise<StageFilesystem> {
  const stage = options.dockerfile.stage(options.stage);
  let workdir = '/';
  const env: Record<string, string> = {};
  const ctx: CopyContext = {
    dockerfile: options.dockerfile,
    contextDir: options.contextDir,
    stages: new Map(),
    onMissing: 'throw',
    missing: [],
    files: [],
  };
  for (const ins of stage.instructions) {
    const fs = filesystem(options.into, workdir);
    if (ins.keyword === 'WORKDIR') {
      workdir = path.posix.resolve(workdir, ins.args);
      mkdirSync(fs.hostPath(workdir), { recursive: true });
    } else if (ins.keyword === 'ENV') {
      Object.assign(env, parseEnv(ins, options.dockerfile.file));
    } else if (ins.keyword === 'COPY') {
      const copy = parseCopy(ins, options.dockerfile.file);
      if (copy.from !== undefined)
        throw new DockerfileError(
          options.dockerfile.file,
          ins.line,
          'COPY --from in a build stage is not understood by the harness',
        );
      applyCopy(copy, fs, ctx);
    } else if (ins.keyword === 'RUN') {
      for (const command of ins.args.split('&&').map((c) => c.trim())) {
        const words = command.split(/\s+/);
        const cwd = fs.hostPath(workdir);
        if (words[0] === 'npm' && words[1] === 'ci') {
          symlinkSync(options.nodeModules, path.join(cwd, 'node_modules'), 'dir');
        } else if (words[0] === 'node') {
          await runNode(words.slice(1), cwd, env, `${options.dockerfile.file}:${ins.line}`);
        } else if (words[0] === 'rm' && words[1] === '-rf') {
          for (const p of words.slice(2))
            rmSync(fs.hostPath(path.posix.resolve(workdir, p)), { recursive: true, force: true });
        } else {
          throw new DockerfileError(
            options.dockerfile.file,
            ins.line,
            `RUN ${command}: not understood by the harness`,
          );
        }
      }
    } else if (!['ARG', 'LABEL'].includes(ins.keyword)) {
      throw new DockerfileError(
        options.dockerfile.file,
        ins.line,
        `${ins.keyword} in a build stage is not understood by the harness`,
      );
    }
  }
  return filesystem(options.into, workdir);
}

function runNode(args: string[], cwd: string, env: Record<string, string>, where: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${where}: RUN node ${args.join(' ')} failed (exit ${code}):\n${output}`)),
    );
  });
}

export interface StageImageOptions {
  readonly dockerfile: ParsedDockerfile;
  /** The build context (the repository root). */
  readonly contextDir: string;
  /** The earlier stages, carried out (`runBuildStage`), by name: what `COPY --from=<name>` reads. */
  readonly stages: ReadonlyMap<string, StageFilesystem>;
  /** Where to lay the image out; the runtime WORKDIR becomes `<into>/<workdir>`. */
  readonly into: string;
  /** Stands in for `npm ci --omit=dev`: a node_modules directory to link (the repository's). */
  readonly nodeModules: string;
  /**
   * `throw` (default): a COPY source that is missing fails, as `docker build` would. `collect`: it is
   * listed in `missing` and the rest is laid out, so that a test can name every gap at once.
   */
  readonly onMissing?: 'throw' | 'collect';
}

export interface StagedImage extends StageFilesystem {
  /** The runtime WORKDIR on this machine: the working directory to start the app in. */
  readonly workdir: string;
  readonly image: RuntimeImage;
  /** Image paths (absolute, POSIX) the COPY instructions produced, files only. */
  readonly files: readonly string[];
  /** COPY sources that do not exist (only with `onMissing: 'collect'`). */
  readonly missing: readonly MissingSource[];
}

/**
 * Lays out the runtime (last) stage of `dockerfile` under `into`. Its RUN instructions are the ones the
 * apps' Dockerfiles use (`npm ci`, `mkdir -p`, `chown`, `npm cache clean`); any other fails loudly.
 */
export function stageImage(options: StageImageOptions): StagedImage {
  const image = options.dockerfile.runtime;
  const fs = filesystem(options.into, image.workdir);
  const ctx: CopyContext = {
    dockerfile: options.dockerfile,
    contextDir: options.contextDir,
    stages: options.stages,
    onMissing: options.onMissing ?? 'throw',
    missing: [],
    files: [],
  };
  mkdirSync(fs.hostPath(image.workdir), { recursive: true });
  for (const copy of image.copies) applyCopy(copy, fs, ctx);
  for (const run of image.runs) {
    for (const command of run.args.split('&&').map((c) => c.trim())) {
      const words = command.split(/\s+/);
      if (words[0] === 'npm' && words[1] === 'ci') {
        symlinkSync(options.nodeModules, fs.hostPath(path.posix.join(image.workdir, 'node_modules')), 'dir');
      } else if (words[0] === 'mkdir' && words[1] === '-p') {
        for (const dir of words.slice(2))
          mkdirSync(fs.hostPath(path.posix.resolve(image.workdir, dir)), { recursive: true });
      } else if (!(words[0] === 'chown' || (words[0] === 'npm' && words[1] === 'cache'))) {
        throw new DockerfileError(
          options.dockerfile.file,
          run.line,
          `RUN ${command}: not understood by the harness`,
        );
      }
    }
  }
  return { ...fs, workdir: fs.hostPath(image.workdir), image, files: ctx.files, missing: ctx.missing };
}

/** Removes a laid-out stage or image (node_modules links are removed, not followed). */
export function removeStaged(into: string): void {
  rmSync(into, { recursive: true, force: true });
}
