import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { getWorkflowBundle } from '../../worker/bundle';
import { historyFromJson, type History } from '../workflow/histories';

// The determinism guard: recorded histories (test/fixtures/histories, made by
// test/workflow/recordHistories.ts) must replay against the current workflow code.

const DIR = path.join(__dirname, '..', 'fixtures', 'histories');

function load(file: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'));
}

async function replay(histories: { workflowId: string; history: History }[]) {
  const results = [];
  for await (const r of Worker.runReplayHistories({ workflowBundle: await getWorkflowBundle() }, histories)) {
    results.push(r);
  }
  return results;
}

test('every recorded history replays without a nondeterminism error', async () => {
  const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json'));
  expect(files.length).toBeGreaterThanOrEqual(4);
  const results = await replay(files.map((f) => ({ workflowId: f, history: historyFromJson(load(f)) })));
  expect(results.map((r) => [r.workflowId, r.error?.message])).toEqual(files.map((f) => [f, undefined]));
});

test('the fixtures cover a run that continued as new and the run it continued into', () => {
  const last = (f: string) => (load(f) as { events: { eventType: string }[] }).events.at(-1)?.eventType;
  expect(last('orderBinding-continued-as-new.json')).toMatch(/CONTINUED_AS_NEW$/);
  const first = (load('orderBinding-continued-run.json') as { events: Record<string, Record<string, unknown>>[] })
    .events[0];
  expect(first.workflowExecutionStartedEventAttributes.continuedExecutionRunId).toBeTruthy();
});

test('a history that no longer matches the code is reported (the guard can fail)', async () => {
  const json = load('orderBinding-saga.json') as { events: Record<string, Record<string, unknown>>[] };
  // Pretend the code used to schedule bindYb first: the current code schedules bindAx there.
  const scheduled = json.events.find((e) => e.activityTaskScheduledEventAttributes)!;
  (scheduled.activityTaskScheduledEventAttributes.activityType as { name: string }).name = 'bindYb';
  const [result] = await replay([{ workflowId: 'tampered', history: historyFromJson(json) }]);
  expect(result.error).toBeDefined();
  expect(result.error?.name).toMatch(/DeterminismViolation|ReplayError/);
});
