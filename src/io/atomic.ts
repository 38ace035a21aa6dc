import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** Creates the directory that will hold `filePath`, with any missing ancestors. */
export function ensureParentDir(filePath: string): void {
  fs.mkdirSync(path.dirname(path.resolve(filePath)), { recursive: true });
}

/**
 * Writes `data` to `filePath` so that readers see either the old file or the complete new
 * one, never a half-written file (e.g. when training is interrupted while saving a model).
 * The temporary file lives in the same directory because rename is only atomic within one
 * file system. The parent directory must exist (see ensureParentDir).
 */
export function writeFileAtomic(filePath: string, data: string | Uint8Array): void {
  const tmp = `${filePath}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, filePath);
  } catch (err) {
    removeQuietly(tmp);
    throw err;
  }
}

function removeQuietly(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch {
    // the original write error is the one worth reporting
  }
}
