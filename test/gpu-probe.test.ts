/**
 * Issue 18, item 10: an automatic device choice (--device auto, --backend auto) does not load Dawn
 * where no Vulkan driver is installed, so Dawn's "Couldn't load Vulkan" warning is not printed; it
 * still says in one line why it runs on the CPU. An explicit --device gpu still asks Dawn.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { vulkanDriverPresent } from '../solvers/gpu/webgpu.js';

describe('the GPU probe', () => {
  it('finds a Vulkan driver by its ICD manifest or the loader variables', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-icd-'));
    const withIcd = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-icd-'));
    fs.writeFileSync(path.join(withIcd, 'nvidia_icd.json'), '{}');
    if (process.platform !== 'linux') return;
    expect(vulkanDriverPresent({}, [empty, '/nonexistent'])).toBe(false);
    expect(vulkanDriverPresent({}, [empty, withIcd])).toBe(true);
    expect(vulkanDriverPresent({ VK_ICD_FILENAMES: '/x/icd.json' }, [empty])).toBe(true);
  });

  const noVulkan = process.platform === 'linux' && !vulkanDriverPresent();
  (noVulkan ? it : it.skip)('without Vulkan, solve --device auto prints no Dawn warning, and one line on why the CPU', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-probe-'));
    const data = path.join(dir, 'x.json');
    fs.writeFileSync(data, JSON.stringify(Array.from({ length: 60 }, (_, k) => [Math.sin(k), Math.cos(3 * k)])));
    const r = spawnSync(process.execPath, ['dist/src/cli/main.js', 'solve', '--data', data, '--objective', 'dsm', '--sigma', '0.5', '--noise-seed', '1', '--beta', '0.1', '--patterns', '4', '--relaxation', 'gated', '--device', 'auto', '--out', path.join(dir, 'm.json')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/Vulkan: lib|Couldn't load Vulkan|BackendVk/);
    expect(r.stderr).toMatch(/^device auto: solving on the CPU, because no Vulkan driver is installed/m);
  });
});
