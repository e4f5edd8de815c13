// Lets @temporalio/testing download its own binaries (machines with internet but no Python).
'use strict';
(async () => {
  const { TestWorkflowEnvironment } = require('@temporalio/testing');
  const local = await TestWorkflowEnvironment.createLocal();
  await local.teardown();
  const skipping = await TestWorkflowEnvironment.createTimeSkipping();
  await skipping.teardown();
})().catch((err) => {
  console.error(String(err && err.message ? err.message : err));
  process.exit(1);
});
