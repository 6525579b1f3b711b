/**
 * Runs a TypeScript script in a new Node process (through tsx, from the workspace root) and
 * parses the JSON it prints on stdout: how the end-to-end tests restore a snapshot "in another
 * process". A non-zero exit rejects with the tail of the child's stderr.
 */
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const workspace = fileURLToPath(new URL('../..', import.meta.url));

export function runTsxChild<T>(script: string, args: readonly string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: workspace, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${basename(script)} exited with ${code}:\n${err.slice(-3000)}`));
      else resolve(JSON.parse(out) as T);
    });
  });
}
