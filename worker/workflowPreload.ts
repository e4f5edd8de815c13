import { z } from 'zod';

// Loaded once per workflow thread and shared by every workflow run (WORKFLOW_PRELOAD_MODULES in bundle.ts): zod's
// library, so a new run does not evaluate it again. A plain `require('zod')` would not do: zod declares itself
// free of side effects, and webpack drops an import whose value is unused.
export const sharedZod = z;
