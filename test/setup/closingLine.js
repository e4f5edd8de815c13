// Prints one plain closing line after Jest's own summary, e.g. "tests: 628 passed, 0 failed, 2 skipped",
// so that a reader of the log (CI included) that does not know Jest's "Tests: … total" line still sees how
// many tests ran and how many failed. Counts are Jest's own; a suite that failed to load counts as failed.
// Written when the process exits: Jest prints its summary after every reporter's onRunComplete.
const fs = require('node:fs');

class ClosingLineReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `tests: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`;
    process.once('exit', () => fs.writeSync(1, line));
  }
}
module.exports = ClosingLineReporter;
