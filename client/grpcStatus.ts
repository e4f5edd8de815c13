/** gRPC status codes bindflow's client code acts on (grpc-js numbering). */
export const grpcStatus = { DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14 } as const;
