import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuProfileNodeArgs, profileThisProcess } from '../../bench/profile';

// BENCH_CPU_PROF: the flags a profiled child gets, that such a child writes its profile when stopped with
// SIGTERM (as the bench stops the worker), and this process's own profile through node:inspector.

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'bindflow-prof-'));
const profilesIn = (dir: string) =>
  (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.cpuprofile'));

describe('bench CPU profiles', () => {
  test('off unless BENCH_CPU_PROF is set: no flags, and stopping is a no-op', async () => {
    expect(cpuProfileNodeArgs('worker', {})).toEqual([]);
    expect(cpuProfileNodeArgs('worker', { BENCH_CPU_PROF: ' ' })).toEqual([]);
    const stop = await profileThisProcess({}, { bundleMap: false });
    await expect(stop()).resolves.toBeUndefined();
  });

  test('each child gets a directory of its own, and writes its profile there on a SIGTERM stop', async () => {
    const dir = tmp();
    const a = cpuProfileNodeArgs('worker', { BENCH_CPU_PROF: dir });
    const b = cpuProfileNodeArgs('worker', { BENCH_CPU_PROF: dir });
    expect(a[0]).toBe('--cpu-prof');
    const dirOf = (args: string[]) => args.find((x) => x.startsWith('--cpu-prof-dir='))!.split('=')[1];
    expect(dirOf(a)).not.toBe(dirOf(b));
    expect(fs.statSync(dirOf(a)).isDirectory()).toBe(true);

    // Like `bindflow worker`: exits on its own after SIGTERM (a process killed by the signal writes nothing).
    const child = spawn(process.execPath, [
      ...a,
      '-e',
      "process.once('SIGTERM', () => clearInterval(t)); const t = setInterval(() => {}, 50); process.stdout.write('up\\n');",
    ]);
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    const files = profilesIn(dirOf(a));
    expect(files.length).toBeGreaterThanOrEqual(1);
    const profile = JSON.parse(fs.readFileSync(path.join(dirOf(a), files[0]), 'utf8'));
    expect(Array.isArray(profile.nodes)).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("this process: bench-process.cpuprofile, then bench-process-2 (an earlier run's file is kept)", async () => {
    const dir = tmp();
    const env = { BENCH_CPU_PROF: dir };
    for (let i = 0; i < 2; i++) {
      const stop = await profileThisProcess(env, { bundleMap: false });
      // A second stack of the same process while the first is profiled: not profiled twice.
      const inner = await profileThisProcess(env, { bundleMap: false });
      await inner();
      let x = 0;
      for (let j = 0; j < 1e5; j++) x += Math.sqrt(j);
      expect(x).toBeGreaterThan(0);
      await stop();
    }
    expect(profilesIn(dir).sort()).toEqual(['bench-process-2.cpuprofile', 'bench-process.cpuprofile']);
    const profile = JSON.parse(fs.readFileSync(path.join(dir, 'bench-process.cpuprofile'), 'utf8'));
    expect(profile.samples.length).toBeGreaterThan(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
