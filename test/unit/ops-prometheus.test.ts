import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The operator's files: ops/prometheus/alerts.yml checked and unit-tested with promtool (built from the
// Go module proxy into the user's cache on first use: scripts/promtool.js), and ops/grafana/bindflow.json
// reading only metrics bindflow or the Temporal SDK exports.

const { ensurePromtool, PROMTOOL_VERSION } = require('../../scripts/promtool.js') as {
  ensurePromtool(opts?: { log?: (m: string) => void }): Promise<{ path?: string; skipped?: string }>;
  PROMTOOL_VERSION: string;
};

const ROOT = path.resolve(__dirname, '..', '..');
const ALERTS = path.join(ROOT, 'ops', 'prometheus', 'alerts.yml');
const ALERT_TESTS = path.join(ROOT, 'ops', 'prometheus', 'alerts.test.yml');
const DASHBOARD = path.join(ROOT, 'ops', 'grafana', 'bindflow.json');

/** The contract's metric names (docs/contract.md, "Additions of 0.2"), and the other series bindflow exports. */
const CONTRACT_METRICS = [
  'bindflow_provider_request_duration_seconds',
  'bindflow_bindings',
  'bindflow_number_pool_numbers',
  'bindflow_webhook_pushes_total',
  'bindflow_unrouted_pushes_total',
  'bindflow_reconcile_orphans_unbound_total',
  'bindflow_notifications_total',
];
const OTHER_BINDFLOW_METRICS = [
  'bindflow_http_request_duration_seconds',
  'bindflow_provider_calls_total',
  'bindflow_adopted_bindings_total',
];
/** The Temporal SDK's worker metrics used here (names checked against a running worker's /metrics). */
const SDK_METRICS = [
  'temporal_workflow_task_execution_failed',
  'temporal_activity_execution_failed',
  'temporal_workflow_task_schedule_to_start_latency',
  'temporal_activity_schedule_to_start_latency',
  'temporal_worker_task_slots_used',
  'temporal_sticky_cache_size',
];
const KNOWN = new Set([...CONTRACT_METRICS, ...OTHER_BINDFLOW_METRICS, ...SDK_METRICS]);

/** Metric names an expression reads (histogram series suffixes folded into their metric). */
function metricsIn(expr: string): string[] {
  const names = expr.match(/\b(?:bindflow|temporal)_[a-z_]+\b/g) ?? [];
  return [...new Set(names.map((n) => n.replace(/_(bucket|count|sum)$/, '')))];
}

let promtool: string | undefined;
let skipped: string | undefined;

beforeAll(async () => {
  const r = await ensurePromtool({ log: (m) => process.stderr.write(`[bindflow] ${m}\n`) });
  promtool = r.path;
  skipped = r.skipped;
  if (skipped) process.stderr.write(`[bindflow] promtool tests skipped: ${skipped}\n`);
}, 45 * 60_000); // the first build of promtool, on a busy 2-core machine

function run(...args: string[]) {
  return spawnSync(promtool!, args, { encoding: 'utf8', cwd: path.dirname(ALERTS), timeout: 120_000 });
}

describe(`promtool ${PROMTOOL_VERSION}`, () => {
  test('check rules: alerts.yml is valid', () => {
    if (!promtool) return void process.stderr.write(`skipped: ${skipped}\n`);
    const r = run('check', 'rules', ALERTS);
    expect(r.stdout + r.stderr).toMatch(/SUCCESS: 7 rules found/);
    expect(r.status).toBe(0);
  });

  test('test rules: the pool alert and every other alert fire and stay quiet as alerts.test.yml says', () => {
    if (!promtool) return void process.stderr.write(`skipped: ${skipped}\n`);
    const r = run('test', 'rules', ALERT_TESTS);
    expect(r.stdout + r.stderr).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  test('test rules can fail: a pool at 89% must not fire, and a test saying it does is reported', () => {
    if (!promtool) return void process.stderr.write(`skipped: ${skipped}\n`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bindflow-promtool-'));
    try {
      fs.copyFileSync(ALERTS, path.join(dir, 'alerts.yml'));
      const wrong = `rule_files: [alerts.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'bindflow_number_pool_numbers{area="0755",status="in_use"}'
        values: '89x20'
      - series: 'bindflow_number_pool_numbers{area="0755",status="free"}'
        values: '11x20'
    alert_rule_test:
      - eval_time: 10m
        alertname: BindflowNumberPoolNearlyExhausted
        exp_alerts:
          - exp_labels: { severity: warning, area: '0755' }
`;
      fs.writeFileSync(path.join(dir, 'wrong.test.yml'), wrong);
      const r = spawnSync(promtool!, ['test', 'rules', 'wrong.test.yml'], { encoding: 'utf8', cwd: dir });
      expect(r.status).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(/BindflowNumberPoolNearlyExhausted/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the operator files read only metrics that exist', () => {
  test('every alert expression reads contract, bindflow or SDK metrics, and covers the issue list', () => {
    const text = fs.readFileSync(ALERTS, 'utf8');
    const used = metricsIn(text);
    expect(used.filter((m) => !KNOWN.has(m))).toEqual([]);
    const alerts = [...text.matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    expect(alerts).toEqual([
      'BindflowNumberPoolNearlyExhausted',
      'BindflowProviderSlow',
      'BindflowProviderPermanentErrors',
      'BindflowOrphanUnbound',
      'BindflowWorkflowTaskFailures',
      'BindflowWebhook5xx',
      'BindflowNotificationsGivenUp',
    ]);
  });

  test('the Grafana dashboard is valid JSON whose panels read known metrics, every contract metric among them', () => {
    const dash = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as {
      uid: string;
      panels: { type: string; title: string; targets?: { expr: string }[] }[];
    };
    expect(dash.uid).toBe('bindflow-overview');
    const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(10);
    const used = new Set(exprs.flatMap(metricsIn));
    expect([...used].filter((m) => !KNOWN.has(m))).toEqual([]);
    for (const m of CONTRACT_METRICS) expect(used).toContain(m);
    expect([...used].some((m) => m.startsWith('temporal_'))).toBe(true);
  });

  test('the README documents every contract metric with its labels', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    for (const m of CONTRACT_METRICS) expect(readme).toContain(`\`${m}\``);
  });
});
