// A provider-level refusal inside the simulator: the result code and description the platform
// would answer; the HTTP layer turns it into the JSON envelope with the code's HTTP status.

export class SimRefusal extends Error {
  override name = 'SimRefusal';
  constructor(
    readonly resultcode: string,
    readonly resultdesc: string,
  ) {
    super(`${resultcode} ${resultdesc}`);
  }
}

export function refuse(resultcode: string, resultdesc: string): never {
  throw new SimRefusal(resultcode, resultdesc);
}
