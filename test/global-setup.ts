/**
 * Builds dist/ once before the suite: the CLI end-to-end tests spawn the compiled CLI, and the GPU
 * tests run compiled check scripts in child processes (Dawn is a native addon).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  const root = path.resolve(import.meta.dirname, '..');
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
}
