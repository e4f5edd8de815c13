/** Every error the client library and the HTTP API report: a stable code, a status, a message. */
export type BindflowErrorCode =
  | 'VALIDATION_FAILED'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'REQUEST_REJECTED'
  | 'BINDING_CLOSED'
  | 'BINDING_RELEASING'
  | 'PARTY_BIND_FAILED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'TEMPORAL_UNAVAILABLE'
  | 'WORKFLOW_UNHEALTHY'
  | 'INTERNAL';

const STATUS: Record<BindflowErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  CONFLICT: 409,
  REQUEST_REJECTED: 422,
  BINDING_CLOSED: 409,
  /** A release or the expiry is under way: the binding is about to end. */
  BINDING_RELEASING: 409,
  /** The provider refused or failed binding the new B's Y (the old party was already removed). */
  PARTY_BIND_FAILED: 422,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TEMPORAL_UNAVAILABLE: 503,
  /** The order's workflow does not answer: its workflow task keeps failing, or no worker takes it. */
  WORKFLOW_UNHEALTHY: 503,
  INTERNAL: 500,
};

export interface FieldProblem {
  field: string;
  message: string;
}

export class BindflowError extends Error {
  override name = 'BindflowError';
  readonly status: number;
  constructor(
    readonly code: BindflowErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.status = STATUS[code];
  }

  toJSON() {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details !== undefined ? { details: this.details } : {}),
      },
    };
  }
}

/** zod issues → one VALIDATION_FAILED error listing every bad field. */
export function validationError(
  issues: { path: (string | number)[]; message: string }[],
  prefix: string[] = [],
): BindflowError {
  const problems: FieldProblem[] = issues.map((i) => ({
    field: [...prefix, ...i.path].join('.') || '(body)',
    message: i.message,
  }));
  return new BindflowError(
    'VALIDATION_FAILED',
    `invalid request: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
    {
      fields: problems,
    },
  );
}
