/**
 * Issue 18, item 13: the documentation and the CLI agree. Every `convex-score <command> --flag` in
 * the README and docs/cli.md names a command and options that exist (read from the commands
 * themselves), and the README's quick start is exactly the two commands.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.js';

const io = { stdout: { write: () => true }, stderr: { write: () => true } } as never;

function commandLines(text: string): string[] {
  const joined = text.replace(/\\\n\s*/g, ' ');
  return joined.split('\n').map((l) => l.trim()).filter((l) => /^convex-score [a-z]/.test(l));
}

describe('the documentation and the CLI', () => {
  it('every documented command line uses real commands and options', async () => {
    const program = await buildProgram(() => {}, io, [], true);
    const options = new Map(program.commands.map((c) => [c.name(), new Set(c.options.flatMap((o) => [o.long, o.short].filter(Boolean) as string[]))]));
    const problems: string[] = [];
    for (const file of ['README.md', 'docs/cli.md']) {
      const lines = commandLines(fs.readFileSync(file, 'utf8'));
      expect(lines.length, file).toBeGreaterThan(5);
      for (const line of lines) {
        const cmd = line.split(/\s+/)[1];
        const known = options.get(cmd);
        if (!known) {
          problems.push(`${file}: "${cmd}" is not a command: ${line}`);
          continue;
        }
        for (const flag of line.match(/(?<![\w-])--[a-z][a-z0-9-]*/g) ?? []) {
          if (flag === '--help' || flag === '--version') continue;
          if (!known.has(flag)) problems.push(`${file}: ${cmd} has no ${flag}: ${line.slice(0, 120)}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("the README's quick start is the two commands, and under 200 lines in all", () => {
    const readme = fs.readFileSync('README.md', 'utf8');
    expect(readme).toMatch(/^ {4}npm install && npm run demo\b/m);
    expect(readme).toMatch(/^ {4}npm install && npm test\b/m);
    expect(readme.split('\n').length).toBeLessThanOrEqual(200);
    for (const page of ['docs/cli.md', 'docs/api.md', 'docs/formats.md', 'docs/benchmarks.md', 'docs/gpu.md']) {
      expect(readme).toContain(`(${page})`);
      expect(fs.existsSync(page), page).toBe(true);
    }
  });
});
