import path from 'node:path';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

// History <-> JSON as `historyToJSON`/`historyFromJSON` of @temporalio/common do it, but with the
// protobufjs copy that @temporalio/proto's types belong to: this install holds several protobufjs
// copies, and the SDK helpers then fail with "type must be a Type".

type ProtoJson = {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, opts?: { ignoreUnknownFields?: boolean }): unknown;
};
const protojson = require(
  require.resolve('protobufjs/ext/protojson', {
    paths: [path.dirname(require.resolve('@temporalio/proto/package.json'))],
  }),
) as ProtoJson;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const historyType = (patchProtobufRoot(proto) as any).lookupType('temporal.api.history.v1.History');

export type History = proto.temporal.api.history.v1.IHistory;

export function historyToJson(history: History): string {
  return JSON.stringify(
    protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)),
    null,
    2,
  );
}

export function historyFromJson(json: unknown): History {
  const loaded = protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
  if (!loaded) throw new TypeError('invalid history JSON');
  return loaded as History;
}
