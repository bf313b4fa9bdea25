import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

/*
 * The emitted JavaScript of the platform, for suites that run it as a real child process (and kill
 * it). Compiling takes one to two minutes on the two-core machine, so one test run compiles once:
 * the first suite to ask takes a lock (an atomic mkdir) and builds, the others wait for its marker.
 * Test workers are forked by one vitest process, whose pid names the build.
 */
const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const BUILDS = join(ROOT, '.test-build');
const WAIT_MS = 10 * 60_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Builds of test runs that have ended (their vitest process is gone). */
function removeStaleBuilds(): void {
  if (!existsSync(BUILDS)) return;
  for (const name of readdirSync(BUILDS)) {
    const pid = Number(/^platform-(\d+)$/.exec(name)?.[1]);
    if (pid && pid !== process.ppid && !alive(pid))
      rmSync(join(BUILDS, name), { recursive: true, force: true });
  }
}

async function build(dir: string): Promise<void> {
  // Type errors are the typecheck's business; a suite only needs the emitted JavaScript.
  await run('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', dir], { cwd: ROOT }).catch(
    () => undefined,
  );
  // Data files that modules read beside themselves (the administrative units catalogue) go along.
  cpSync(join(ROOT, 'services'), join(dir, 'services'), {
    recursive: true,
    filter: (path) => statSync(path).isDirectory() || !/\.tsx?$/.test(path),
  });
  if (!existsSync(join(dir, 'bin', 'main.js')))
    throw new Error(`the build did not produce ${dir}/bin/main.js`);
}

/** The directory of this test run's build (its `bin/main.js` is the platform's entry point). */
export async function platformBuild(): Promise<string> {
  const dir = join(BUILDS, `platform-${process.ppid}`);
  const done = join(dir, '.built');
  const failed = join(dir, '.failed');
  mkdirSync(BUILDS, { recursive: true });
  let builder = false;
  try {
    mkdirSync(dir);
    builder = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (builder) {
    removeStaleBuilds();
    try {
      await build(dir);
      writeFileSync(done, new Date().toISOString());
    } catch (error) {
      writeFileSync(failed, String(error));
      throw error;
    }
    return dir;
  }
  const deadline = Date.now() + WAIT_MS;
  while (!existsSync(done)) {
    if (existsSync(failed)) throw new Error(`the shared build failed: ${readFileSync(failed, 'utf8')}`);
    if (Date.now() > deadline) throw new Error(`no build appeared in ${dir} within ${WAIT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return dir;
}
