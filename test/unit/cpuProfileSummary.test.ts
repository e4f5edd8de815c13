import {
  areaOf,
  decodeMappings,
  format,
  shortUrl,
  sourceLocator,
  summarize,
  type CpuProfile,
} from '../../scripts/cpu-profile-summary';

const ROOT = '/repo';
const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0 });

describe('cpu-profile-summary', () => {
  test('areas by url and by V8 pseudo-frame', () => {
    const cases: Array<[ReturnType<typeof frame>, string]> = [
      [frame('(garbage collector)'), 'GC'],
      [frame('(idle)'), '(idle)'],
      [frame('(program)'), '(program)'],
      [frame('orderBinding', 'workflow-bundle-8f3a2c.js', 10), 'workflow sandbox (bundle)'],
      [frame('parse', 'file:///repo/node_modules/zod/lib/types.js'), 'zod'],
      [
        frame('poll', 'file:///repo/node_modules/@temporalio/worker/lib/worker.js'),
        'temporal SDK / core bridge / grpc',
      ],
      [frame('decode', '/repo/node_modules/protobufjs/src/reader.js'), 'temporal SDK / core bridge / grpc'],
      [frame('bindAx', 'file:///repo/activities/bindings.ts'), 'bindflow activities'],
      [frame('send', 'file:///repo/provider/client.ts'), 'provider client'],
      [frame('maskDeep', 'file:///repo/provider/mask.ts'), 'logging + masking'],
      [frame('emit', 'file:///repo/lib/log.ts'), 'logging + masking'],
      [frame('encode', 'file:///repo/lib/codec.ts'), 'codec (payload encryption)'],
      [frame('route', 'file:///repo/node_modules/find-my-way/index.js'), 'fastify / undici / http'],
      [frame('request', 'file:///repo/node_modules/undici/lib/api/api-request.js'), 'fastify / undici / http'],
      [frame('parserOnHeadersComplete', 'node:_http_common'), 'fastify / undici / http'],
      [frame('writeGeneric', 'node:internal/stream_base_commons'), 'node core (other)'],
      [frame('handler', 'file:///repo/client/webhook.ts'), 'bindflow API (client/)'],
      [frame('push', 'file:///repo/simulator/calls.ts'), 'simulator'],
      [frame('runOneOrder', 'file:///repo/bench/orders.ts'), 'bench (load generator)'],
      [frame('transform', 'file:///repo/node_modules/esbuild/lib/main.js'), 'startup (tsx, webpack bundling)'],
      [frame('x', 'file:///repo/node_modules/left-pad/index.js'), 'other'],
      [frame('__TEMPORAL_CALL_INTO_SCOPE', 'evalmachine.<anonymous>'), 'temporal SDK / core bridge / grpc'],
      [
        frame('next', 'file:///repo/node_modules/rxjs/dist/cjs/internal/Subscriber.js'),
        'temporal SDK / core bridge / grpc',
      ],
    ];
    for (const [f, area] of cases) expect([f.url, areaOf(f, ROOT)]).toEqual([f.url, area]);
  });

  test('short locations: repo-relative, or inside the package', () => {
    expect(shortUrl('file:///repo/activities/bindings.ts', ROOT)).toBe('activities/bindings.ts');
    expect(shortUrl('file:///repo/node_modules/@temporalio/worker/lib/worker.js', ROOT)).toBe(
      '@temporalio/worker/lib/worker.js',
    );
    expect(shortUrl('node:internal/timers', ROOT)).toBe('node:internal/timers');
  });

  test('self time per sample until the next one; shares of the non-idle time; frames merged across stacks', () => {
    // Two call stacks end in the same zod frame (nodes 3 and 5): their self times add up in one row.
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 3, 4, 6, 7] },
        { id: 2, callFrame: frame('(idle)') },
        { id: 3, callFrame: frame('safeParse', 'file:///repo/node_modules/zod/lib/types.js', 99) },
        { id: 4, callFrame: frame('handler', 'file:///repo/client/api.ts', 9), children: [5] },
        { id: 5, callFrame: frame('safeParse', 'file:///repo/node_modules/zod/lib/types.js', 99) },
        { id: 6, callFrame: frame('(garbage collector)') },
        { id: 7, callFrame: frame('orderBinding', 'workflow-bundle-abc.js', 0) },
      ],
      startTime: 0,
      // samples at 0, 1000, 3000, 4000, 5000, 6000 µs; the last lasts until endTime (8000)
      samples: [2, 3, 4, 5, 6, 7],
      timeDeltas: [0, 1000, 2000, 1000, 1000, 1000],
      endTime: 8000,
    };
    const s = summarize([profile], { root: ROOT, top: 3 });
    expect(s.sampledMs).toBeCloseTo(8);
    expect(s.idleMs).toBeCloseTo(1);
    expect(s.busyMs).toBeCloseTo(7);
    const area = (name: string) => s.areas.find((a) => a.area === name);
    expect(area('zod')?.selfMs).toBeCloseTo(3); // node 3 (2 ms) + node 5 (1 ms)
    expect(area('zod')?.share).toBeCloseTo(3 / 7);
    expect(area('bindflow API (client/)')?.selfMs).toBeCloseTo(1);
    expect(area('GC')?.selfMs).toBeCloseTo(1);
    expect(area('workflow sandbox (bundle)')?.selfMs).toBeCloseTo(2);
    expect(area('(idle)')?.share).toBe(0);
    expect(s.frames.map((f) => [f.functionName, f.location, Math.round(f.selfMs)])).toEqual([
      ['safeParse', 'zod/lib/types.js:100', 3],
      ['orderBinding', 'workflow-bundle-abc.js:1', 2],
      // ties keep first-seen order: handler (node 4) before the GC
      ['handler', 'client/api.ts:10', 1],
    ]);
    expect(s.frames.some((f) => f.functionName === '(idle)')).toBe(false);
    expect(format(s)).toMatch(/42\.9%\s+3 ms {2}zod/);
  });

  test('native and node: frames count in the area of their nearest caller outside Node; --from drops early samples', () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 4] },
        { id: 2, callFrame: frame('acceptPush', 'file:///repo/client/webhook.ts', 5), children: [5] },
        { id: 5, callFrame: frame('emit', 'node:events', 1), children: [3] }, // Node's JavaScript in between
        { id: 3, callFrame: frame('parse') }, // JSON.parse: a built-in
        { id: 4, callFrame: frame('compile', 'file:///repo/node_modules/webpack/lib/Compiler.js', 1) },
      ],
      startTime: 1_000_000,
      samples: [4, 3, 3],
      timeDeltas: [0, 5_000_000, 1_000],
      endTime: 5_002_000 + 1_000_000,
    };
    const all = summarize([profile], { root: ROOT });
    expect(all.areas.map((a) => [a.area, Math.round(a.selfMs)])).toEqual([
      ['bindflow API (client/)', 2],
      ['startup (tsx, webpack bundling)', 5000],
    ]);
    expect(all.frames[1]).toMatchObject({
      functionName: 'parse',
      location: '(native)',
      area: 'bindflow API (client/)',
    });
    const late = summarize([profile], { root: ROOT, fromSeconds: 1 });
    expect(late.areas.map((a) => a.area)).toEqual(['bindflow API (client/)']);
    expect(late.busyMs).toBeCloseTo(2);
  });

  test('source-map mappings: generated column → source line, per generated line', () => {
    // line 0: col 0 → source 0 line 0; line 1: col 0 → source 0 line 1, col 2 → source 1 line 3
    expect(decodeMappings('AAAA;AACA,ECEA')).toEqual([
      [[0, 0, 0]],
      [
        [0, 0, 1],
        [2, 1, 3],
      ],
    ]);
  });

  test("workflow-bundle frames: mapped through the bundle's source map to bindflow code, zod or the SDK", () => {
    const map = {
      file: '/somewhere/workflow-bundle-abc.js',
      sources: ['/repo/workflows/order.ts', '/repo/node_modules/zod/v3/types.js', 'webpack/bootstrap'],
      // generated line 0: col 0 → order.ts line 0, col 2 → zod line 3, col 4 → webpack bootstrap line 3
      mappings: 'AAAA,ECGA,ECAA',
    };
    const locate = sourceLocator([map], ROOT);
    const at = (col: number) =>
      locate({ functionName: 'f', url: 'workflow-bundle-abc.js', lineNumber: 0, columnNumber: col });
    expect(at(1)).toEqual({ location: 'workflows/order.ts:1', area: 'workflow sandbox: bindflow code' });
    expect(at(2)).toEqual({ location: 'zod/v3/types.js:4', area: 'workflow sandbox: zod' });
    expect(at(9)).toEqual({ location: 'webpack/bootstrap:4', area: 'workflow sandbox: SDK runtime' });
    // a module's factory is named by its path
    expect(
      locate({ functionName: './node_modules/zod/v3/types.js', url: 'workflow-bundle-abc.js', lineNumber: 0 }),
    ).toEqual({ location: 'node_modules/zod/v3/types.js', area: 'workflow sandbox: zod' });
    // another bundle (not this map): left to areaOf
    expect(locate({ functionName: 'f', url: 'workflow-bundle-def.js', lineNumber: 0 })).toBeUndefined();
  });
});
