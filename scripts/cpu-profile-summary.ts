import fs from 'node:fs';
import path from 'node:path';

// `npx tsx scripts/cpu-profile-summary.ts <file.cpuprofile>... [--top N]`: where the CPU of a V8 profile
// (node --cpu-prof, or the bench's inspector profile) goes. Prints the top frames by self time and the self
// time per AREA of the code, as shares of the non-idle time. Several files are added together.
// Line numbers are those V8 saw: for TypeScript run through tsx, lines of the compiled output.

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber?: number;
}

export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame; children?: number[] }>;
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** The areas, in the order they are printed. The last three are set apart from the code areas. */
export const AREAS = [
  'workflow sandbox: bindflow code',
  'workflow sandbox: zod',
  'workflow sandbox: SDK runtime',
  'workflow sandbox (bundle)',
  'temporal SDK / core bridge / grpc',
  'bindflow API (client/)',
  'bindflow activities',
  'provider client',
  'codec (payload encryption)',
  'zod',
  'logging + masking',
  'bindflow worker/ + lib/ (other)',
  'metrics / tracing',
  'fastify / undici / http',
  'simulator',
  'bench (load generator)',
  'node core (other)',
  'startup (tsx, webpack bundling)',
  'other',
  'GC',
  '(program)',
  '(idle)',
] as const;
export type Area = (typeof AREAS)[number];

const ROOT = path.resolve(__dirname, '..');

/** A file path from a profile url: repo-relative, `<pkg>/path` inside node_modules, node:… as is. */
export function shortUrl(url: string, root = ROOT): string {
  if (!url) return '';
  let p = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  const nm = p.lastIndexOf('/node_modules/');
  if (nm >= 0) return p.slice(nm + '/node_modules/'.length);
  if (p.startsWith(root + '/')) p = p.slice(root.length + 1);
  return p;
}

/** The package of a node_modules path (`@scope/name` or `name`), else undefined. */
function packageOf(url: string): string | undefined {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm < 0) return undefined;
  const parts = url.slice(nm + '/node_modules/'.length).split('/');
  return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

const HTTP_PACKAGES =
  /^(fastify|@fastify\/.*|find-my-way|light-my-request|avvio|fast-json-stringify|fast-querystring|secure-json-parse|undici|pino|abstract-logging|ret|safe-regex2|fast-uri|ajv|toad-cache|process-warning|rfdc|fast-decode-uri-component|json-schema-ref-resolver)$/;
const TEMPORAL_PACKAGES =
  /^(@temporalio\/.*|@grpc\/.*|protobufjs|@protobufjs\/.*|long|nexus-rpc|ms|heap-js|source-map.*|rxjs|abort-controller)$/;

/** The area of one frame (by its url, and by its name for V8's pseudo-frames). */
export function areaOf(frame: CallFrame, root = ROOT): Area {
  const { functionName: fn, url } = frame;
  if (!url) {
    if (fn === '(garbage collector)') return 'GC';
    if (fn === '(idle)') return '(idle)';
    if (fn === '(program)' || fn === '(root)') return '(program)';
  }
  // The workflow bundle runs in vm contexts under a synthetic file name (it holds bindflow's workflow code,
  // @temporalio/workflow's runtime and whatever the workflows import, zod included).
  if (/workflow-bundle-[0-9a-f]*\.js$/.test(url)) return 'workflow sandbox (bundle)';
  // The SDK's own scripts in the sandbox's context (evalmachine) and its source-map WebAssembly.
  if (url.startsWith('evalmachine.') || url.startsWith('wasm://')) return 'temporal SDK / core bridge / grpc';
  const pkg = packageOf(url);
  if (pkg) {
    if (pkg === 'zod' || pkg === '@asteasolutions/zod-to-openapi') return 'zod';
    if (TEMPORAL_PACKAGES.test(pkg)) return 'temporal SDK / core bridge / grpc';
    if (HTTP_PACKAGES.test(pkg)) return 'fastify / undici / http';
    if (pkg === 'prom-client' || pkg.startsWith('@opentelemetry/') || pkg === 'tdigest' || pkg === 'bintrees')
      return 'metrics / tracing';
    if (
      /^(tsx|esbuild|get-tsconfig|webpack|@webassemblyjs\/.*|@swc\/.*|enhanced-resolve|terser.*|acorn.*|loader-runner|tapable|watchpack|memfs|schema-utils|swc-loader|unionfs|graceful-fs|@jridgewell\/.*|browserslist|es-module-lexer|source-map-support)$/.test(
        pkg,
      )
    )
      return 'startup (tsx, webpack bundling)';
    return 'other';
  }
  if (url.startsWith('node:') || url.startsWith('internal/') || /^[a-z_]+\.js$/.test(url)) {
    if (/^node:(internal\/)?(_?http|https|net|internal\/http|internal\/(deps\/)?undici|internal\/webstreams)/.test(url))
      return 'fastify / undici / http';
    return 'node core (other)';
  }
  const rel = shortUrl(url, root);
  if (rel.startsWith('lib/codec')) return 'codec (payload encryption)';
  if (rel.startsWith('lib/log') || rel === 'provider/mask.ts' || rel === 'worker/sdkLogger.ts')
    return 'logging + masking';
  if (rel.startsWith('lib/tracing') || rel === 'worker/metrics.ts') return 'metrics / tracing';
  if (rel.startsWith('provider/')) return 'provider client';
  if (rel.startsWith('activities/')) return 'bindflow activities';
  if (rel.startsWith('client/')) return 'bindflow API (client/)';
  if (rel.startsWith('simulator/')) return 'simulator';
  if (rel.startsWith('bench/') || rel.startsWith('test/')) return 'bench (load generator)';
  if (rel.startsWith('worker/') || rel.startsWith('lib/') || rel.startsWith('workflows/') || rel.startsWith('bin/'))
    return 'bindflow worker/ + lib/ (other)';
  return 'other';
}

export interface FrameTotal {
  functionName: string;
  location: string;
  area: Area;
  selfMs: number;
}

export interface Summary {
  files: number;
  wallMs: number;
  sampledMs: number;
  idleMs: number;
  /** Sampled time minus (idle): the base of every share. */
  busyMs: number;
  areas: Array<{ area: Area; selfMs: number; share: number }>;
  frames: Array<FrameTotal & { share: number }>;
}

/** Self time (ms) of every node: each sample lasts until the next one (the last until endTime). */
function selfTimes(p: CpuProfile, fromUs = -Infinity): Map<number, number> {
  const out = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  let t = p.startTime;
  const stamps = samples.map((_, i) => (t += deltas[i] ?? 0));
  for (let i = 0; i < samples.length; i++) {
    if (stamps[i] < fromUs) continue;
    const next = i + 1 < samples.length ? stamps[i + 1] : Math.max(p.endTime, stamps[i]);
    const us = Math.max(0, next - stamps[i]);
    out.set(samples[i], (out.get(samples[i]) ?? 0) + us / 1000);
  }
  return out;
}

const PSEUDO = new Set(['(garbage collector)', '(idle)', '(program)', '(root)']);

/** Where a frame's code comes from (a source file:line, and for the workflow bundle its area), when known. */
export type Locator = (frame: CallFrame) => { location: string; area?: Area } | undefined;

export interface SummaryOptions {
  root?: string;
  top?: number;
  locate?: Locator;
  /** Leave out the first seconds (start-up: compiling TypeScript, bundling workflows), counted from the earliest profile's start (one clock for every thread and process of the machine). */
  fromSeconds?: number;
}

export function summarize(profiles: CpuProfile[], opts: SummaryOptions = {}): Summary {
  const { root = ROOT, top = 25, locate } = opts;
  const frameArea = (cf: CallFrame): Area => locate?.(cf)?.area ?? areaOf(cf, root);
  const frames = new Map<string, FrameTotal>();
  const areas = new Map<Area, number>();
  const fromUs = Math.min(...profiles.map((p) => p.startTime)) + (opts.fromSeconds ?? 0) * 1e6;
  let wallMs = 0;
  for (const p of profiles) {
    wallMs += Math.max(0, p.endTime - Math.max(p.startTime, fromUs)) / 1000;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    // A native frame (no url: writev, postMessage, JSON.parse…) or Node's own JavaScript (node:…) counts in the
    // area of its nearest caller outside Node: the code that asked for that work.
    const isNode = (cf: CallFrame) => !cf.url || cf.url.startsWith('node:') || cf.url.startsWith('internal/');
    const areaOfNode = (id: number): Area => {
      const cf = byId.get(id)!.callFrame;
      if (!isNode(cf) || (!cf.url && PSEUDO.has(cf.functionName))) return frameArea(cf);
      for (let up = parent.get(id); up !== undefined; up = parent.get(up)) {
        const u = byId.get(up)!.callFrame;
        if (!isNode(u)) return frameArea(u);
      }
      return cf.url ? areaOf(cf, root) : 'node core (other)';
    };
    for (const [id, ms] of selfTimes(p, fromUs)) {
      const cf = byId.get(id)?.callFrame;
      if (!cf) continue;
      const area = areaOfNode(id);
      areas.set(area, (areas.get(area) ?? 0) + ms);
      const location = cf.url
        ? (locate?.(cf)?.location ?? `${shortUrl(cf.url, root)}:${cf.lineNumber + 1}`)
        : PSEUDO.has(cf.functionName)
          ? ''
          : '(native)';
      const key = `${cf.functionName}\u0000${location}\u0000${area}`;
      const f = frames.get(key) ?? { functionName: cf.functionName || '(anonymous)', location, area, selfMs: 0 };
      f.selfMs += ms;
      frames.set(key, f);
    }
  }
  const sampledMs = [...areas.values()].reduce((a, b) => a + b, 0);
  const idleMs = areas.get('(idle)') ?? 0;
  const busyMs = sampledMs - idleMs;
  const share = (ms: number) => (busyMs > 0 ? ms / busyMs : 0);
  return {
    files: profiles.length,
    wallMs,
    sampledMs,
    idleMs,
    busyMs,
    areas: AREAS.filter((a) => areas.has(a)).map((area) => ({
      area,
      selfMs: areas.get(area)!,
      share: area === '(idle)' ? 0 : share(areas.get(area)!),
    })),
    frames: [...frames.values()]
      .filter((f) => f.area !== '(idle)')
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top)
      .map((f) => ({ ...f, share: share(f.selfMs) })),
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
const ms = (x: number) => `${Math.round(x).toString().padStart(7)} ms`;

export function format(s: Summary): string {
  const lines = [
    `${s.files} profile(s): ${Math.round(s.wallMs)} ms wall, ${Math.round(s.busyMs)} ms busy (non-idle), ` +
      `${Math.round(s.idleMs)} ms idle; shares are of the busy time`,
    '',
    `top ${s.frames.length} frames by self time:`,
    ...s.frames.map(
      (f) => `${pct(f.share)} ${ms(f.selfMs)}  ${f.functionName.slice(0, 40).padEnd(40)} ${f.location}  [${f.area}]`,
    ),
    '',
    'self time by area:',
    ...s.areas.map((a) => `${a.area === '(idle)' ? '     -' : pct(a.share)} ${ms(a.selfMs)}  ${a.area}`),
  ];
  return lines.join('\n');
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** A source-map segment: [generated column, source index, source line] (0-based). */
export type Segment = [number, number, number];

/** Source-map `mappings` as, per generated line, its segments that point into a source. */
export function decodeMappings(mappings: string): Segment[][] {
  const lines: Segment[][] = [];
  let srcLine = 0;
  let srcIndex = 0;
  for (const text of mappings.split(';')) {
    const segs: Segment[] = [];
    let col = 0;
    for (const seg of text.split(',')) {
      if (!seg) continue;
      const vals: number[] = [];
      let v = 0;
      let shift = 0;
      for (const ch of seg) {
        const d = B64.indexOf(ch);
        v += (d & 31) << shift;
        if (d & 32) shift += 5;
        else {
          vals.push(v & 1 ? -(v >>> 1) : v >>> 1);
          v = 0;
          shift = 0;
        }
      }
      col += vals[0];
      if (vals.length >= 4) {
        srcIndex += vals[1];
        srcLine += vals[2];
        segs.push([col, srcIndex, srcLine]);
      }
    }
    lines.push(segs);
  }
  return lines;
}

/** The best segment of a generated line for a column (the last one starting at or before it). */
function segmentAt(segs: Segment[] | undefined, col0: number): Segment | undefined {
  if (!segs?.length) return undefined;
  let best = segs[0];
  for (const seg of segs) if (seg[0] <= col0) best = seg;
  return best;
}

/** The area of a workflow-bundle source: bindflow's own code, zod, or the SDK's runtime (and webpack's). */
export function sandboxAreaOf(source: string, root = ROOT): Area {
  if (source.includes('/node_modules/zod/')) return 'workflow sandbox: zod';
  if (source.includes('/node_modules/') || !source.startsWith(root + '/')) return 'workflow sandbox: SDK runtime';
  return 'workflow sandbox: bindflow code';
}

/**
 * Source locations of frames: the repo's TypeScript files as tsx runs them (each file compiled again with tsx's
 * esbuild options, banner line included, and looked up in that source map), and the workflow bundle's frames
 * through its webpack source map (`bundleMaps`: the maps' JSON, matched on their `file` name).
 */
export function sourceLocator(
  bundleMaps: Array<{ file: string; sources: string[]; mappings: string }> = [],
  root = ROOT,
): Locator {
  const cache = new Map<string, Segment[][] | null>();
  const load = (file: string) => {
    if (!cache.has(file)) {
      try {
        const esbuild = require('esbuild') as typeof import('esbuild');
        const out = esbuild.transformSync(fs.readFileSync(file, 'utf8'), {
          target: `node${process.versions.node}`,
          loader: 'ts',
          sourcemap: true,
          minifyWhitespace: true,
          keepNames: true,
          format: 'cjs',
          platform: 'node',
          sourcefile: file,
          banner: `__filename=${JSON.stringify(file)};(()=>{`,
          footer: '})()',
        });
        cache.set(file, decodeMappings((JSON.parse(out.map) as { mappings: string }).mappings));
      } catch {
        cache.set(file, null);
      }
    }
    return cache.get(file);
  };
  const bundles = new Map(
    bundleMaps.map((m) => [path.basename(m.file), { sources: m.sources, lines: decodeMappings(m.mappings) }]),
  );
  const memo = new Map<string, ReturnType<Locator>>();
  return (cf) => {
    if (!cf.url) return undefined;
    const key = `${cf.url}:${cf.lineNumber}:${cf.columnNumber ?? 0}`;
    if (memo.has(key)) return memo.get(key);
    let found: ReturnType<Locator>;
    const bundle = bundles.get(path.basename(cf.url));
    const file = cf.url.startsWith('file://') ? decodeURIComponent(cf.url.slice('file://'.length)) : cf.url;
    if (bundle && cf.functionName.startsWith('./')) {
      // A module's own factory function is named by its path in the bundle (./workflows/types.ts, ./node_modules/…).
      found = { location: cf.functionName.slice(2), area: sandboxAreaOf(path.join(root, cf.functionName), root) };
    } else if (bundle) {
      const seg = segmentAt(bundle.lines[cf.lineNumber], cf.columnNumber ?? 0);
      const source = seg ? bundle.sources[seg[1]] : undefined;
      if (seg && source)
        found = { location: `${shortUrl(source, root)}:${seg[2] + 1}`, area: sandboxAreaOf(source, root) };
    } else if (file.startsWith(root + '/') && !file.includes('/node_modules/') && file.endsWith('.ts')) {
      const seg = segmentAt(load(file)?.[cf.lineNumber], cf.columnNumber ?? 0);
      if (seg) found = { location: `${shortUrl(file, root)}:${seg[2] + 1}` };
    }
    memo.set(key, found);
    return found;
  };
}

/** The heaviest call paths (up to `depth` callers) into frames named `name`, by self time. */
export function callersOf(profiles: CpuProfile[], name: string, depth = 4, root = ROOT): Array<[string, number]> {
  const paths = new Map<string, number>();
  for (const p of profiles) {
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    for (const [id, ms] of selfTimes(p)) {
      if (byId.get(id)?.callFrame.functionName !== name) continue;
      const chain: string[] = [];
      for (let up = parent.get(id); up !== undefined && chain.length < depth; up = parent.get(up)) {
        const cf = byId.get(up)!.callFrame;
        chain.push(`${cf.functionName || '(anonymous)'} ${shortUrl(cf.url, root)}:${cf.lineNumber + 1}`);
      }
      const key = chain.join(' <- ');
      paths.set(key, (paths.get(key) ?? 0) + ms);
    }
  }
  return [...paths.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
}

/** The files of the arguments with that ending (files, or directories searched recursively). */
function profileFiles(args: string[], ending = '.cpuprofile', recursive = true): string[] {
  const out: string[] = [];
  for (const a of args) {
    if (fs.statSync(a).isDirectory())
      for (const e of fs.readdirSync(a, { recursive }) as string[]) if (e.endsWith(ending)) out.push(path.join(a, e));
    if (fs.statSync(a).isFile() && a.endsWith(ending)) out.push(a);
  }
  return out.sort();
}

function main(argv: string[]): number {
  let top = 25;
  let fromSeconds = 0;
  let callers: string | undefined;
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--top') top = Number(argv[++i]);
    else if (argv[i] === '--from') fromSeconds = Number(argv[++i]);
    else if (argv[i] === '--callers') callers = argv[++i];
    else args.push(argv[i]);
  }
  const files = args.length ? profileFiles(args) : [];
  if (!files.length || !Number.isInteger(top) || top < 1 || !(fromSeconds >= 0)) {
    process.stderr.write(
      'usage: npx tsx scripts/cpu-profile-summary.ts <file.cpuprofile | dir>... [--top N] [--from <seconds>] [--callers <functionName>]\n',
    );
    return 2;
  }
  const profiles = files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as CpuProfile);
  process.stdout.write(`${files.map((f) => `# ${f}`).join('\n')}\n`);
  if (callers) {
    for (const [chain, ms] of callersOf(profiles, callers))
      process.stdout.write(`${Math.round(ms).toString().padStart(7)} ms  ${callers} <- ${chain}\n`);
    return 0;
  }
  // Source maps of the workflow bundle that bench/profile.ts saved next to the profiles (or one level up).
  const dirs = new Set(args.map((a) => (fs.statSync(a).isDirectory() ? a : path.dirname(a))));
  const mapFiles = new Set(
    [...dirs].flatMap((d) => [d, path.dirname(d)]).flatMap((d) => profileFiles([d], '.js.map', false)),
  );
  const maps = [...mapFiles].map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
  process.stdout.write(`${format(summarize(profiles, { top, fromSeconds, locate: sourceLocator(maps) }))}\n`);
  return 0;
}

if (require.main === module) {
  // `… | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  process.exitCode = main(process.argv.slice(2));
}
