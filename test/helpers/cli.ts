/** Runs the built zarr-stream command line as a user does (a child process), for the CLI tests. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface CliRun {
  /** The exit code; -1 when the timeout killed it (a hang is a failure, not a stuck suite). */
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  /** Added to the environment. */
  env?: Record<string, string>;
  /** Milliseconds before the run is killed; default 60 s. */
  timeout?: number;
}

export function cli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const env = options.env ? { ...process.env, ...options.env } : undefined;
    execFile(process.execPath, [CLI, ...args], { cwd: options.cwd, env, timeout: options.timeout ?? 60_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.killed ? -1 : Number(error.code ?? 1)) : 0, stdout, stderr });
    });
  });
}
