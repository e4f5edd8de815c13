// `bindflow/client`: the typed client library for TypeScript (and JavaScript) backends, as a package export
// (package.json "exports"; built into dist/ by `npm run build`, which `npm ci` runs). Everything the HTTP API
// does, over a Temporal client, with the API's errors and types.

export {
  BindflowClient,
  toBindflowError,
  type BindflowClientOptions,
  type BindOutcome,
  type BindStatus,
  type BindingListItem,
  type ChangeOptions,
  type ChangeOutcome,
  type OrderChange,
} from './library';
export { BindflowError, type BindflowErrorCode, type FieldProblem } from './errors';
export type {
  BindingStateName,
  BindingView,
  CallDirection,
  CallOutcome,
  CallView,
  OrderBindingInput,
  PartyView,
} from '../workflows/types';
export type { ExtendRequest } from '../workflows/messages';
export type { PoolArea, PoolCapacity } from './apiSchemas';
export { areaOfNumber, poolCapacity } from './pool';
/** The payload codec bindflow's worker uses (BINDFLOW_PAYLOAD_KEY): give it to your Temporal client too. */
export { codecFromEnv, dataConverterFromEnv } from '../lib/codec';
