import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../lib/ports';
import { ensureClusterBinaries } from '../lib/clusterBinaries';
import { ensurePostgres, initPostgres, startPostgres } from '../lib/postgres';
import {
  clusterPorts,
  freeClusterFrontendPort,
  registerNamespace,
  setupSchemas,
  startTemporalServer,
} from '../lib/temporalCluster';

// The engine a benchmark runs on: the dev server (SQLite), or the production shape's temporal-server
// on PostgreSQL (`BENCH_ENGINE=cluster`), each started fresh in a temp dir on free ports.

export type EngineName = 'dev' | 'cluster';

export interface ClusterEngine {
  address: string;
  /** Process trees whose CPU counts as the engine's: the server and PostgreSQL. */
  pids: Record<string, number>;
  metricsPort: number;
  stop(): Promise<void>;
}

export function enginesFromEnv(value = process.env.BENCH_ENGINE ?? 'dev'): EngineName[] {
  if (value === 'dev' || value === 'cluster') return [value];
  if (value === 'both') return ['dev', 'cluster'];
  throw new Error(`BENCH_ENGINE: "${value}" is not one of dev, cluster, both`);
}

/** temporal-server (8 shards, SQL visibility) on a new PostgreSQL cluster in a temp dir. */
export async function startClusterEngine(say: (line: string) => void): Promise<ClusterEngine> {
  const bins = await ensureClusterBinaries(process.env, say);
  const pgBins = ensurePostgres(say);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bindflow-bench-cluster-'));
  fs.chmodSync(dir, 0o755);
  const pg = initPostgres(pgBins, path.join(dir, 'postgres'), await freePort());
  const postgres = await startPostgres(pgBins, pg);
  try {
    setupSchemas(bins, pg, () => undefined);
    const ports = clusterPorts(await freeClusterFrontendPort());
    const server = await startTemporalServer(bins, pg, path.join(dir, 'temporal'), ports);
    const address = `127.0.0.1:${ports.frontend}`;
    await registerNamespace(address, 'default', () => undefined);
    return {
      address,
      pids: { temporal: server.pid, postgres: postgres.pid },
      metricsPort: ports.metrics,
      async stop() {
        await server.stop();
        await postgres.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await postgres.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
