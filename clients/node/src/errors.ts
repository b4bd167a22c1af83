// One error class per gRPC status sessiond answers with, so callers catch
// by meaning: `err instanceof SessionNotFound`, not string matching.
import { status as Status, type ServiceError } from "@grpc/grpc-js";

/** Every error a call can reject with. `code` is the gRPC status name. */
export class SessiondError extends Error {
  readonly code: string;

  constructor(message: string, code = "UNKNOWN") {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** NOT_FOUND: the session is unknown or expired (sessiond cannot tell which). */
export class SessionNotFound extends SessiondError {}
/** ABORTED: `expectedVersion` differs from the session's version. */
export class VersionConflict extends SessiondError {}
/** INVALID_ARGUMENT: a malformed id, key, JSON value or idle timeout. */
export class InvalidArgument extends SessiondError {}
/** UNAUTHENTICATED: no token, or one sessiond's --tokens-file does not hold. */
export class Unauthenticated extends SessiondError {}
/** PERMISSION_DENIED: a read-only token tried to change sessions. */
export class PermissionDenied extends SessiondError {}
/** RESOURCE_EXHAUSTED: a limit (value, session size, keys, sessions); the
 * message names the limit and the server setting that raises it. */
export class ResourceExhausted extends SessiondError {}
/** UNAVAILABLE: sessiond is unreachable, shutting down, or its storage is. */
export class Unavailable extends SessiondError {}
/** DEADLINE_EXCEEDED: no answer within the call's deadline. */
export class DeadlineExceeded extends Unavailable {}

const BY_CODE: Record<number, typeof SessiondError> = {
  [Status.NOT_FOUND]: SessionNotFound,
  [Status.ABORTED]: VersionConflict,
  [Status.INVALID_ARGUMENT]: InvalidArgument,
  [Status.UNAUTHENTICATED]: Unauthenticated,
  [Status.PERMISSION_DENIED]: PermissionDenied,
  [Status.RESOURCE_EXHAUSTED]: ResourceExhausted,
  [Status.UNAVAILABLE]: Unavailable,
  [Status.DEADLINE_EXCEEDED]: DeadlineExceeded,
};

// What to tell a developer beyond the server's message, where the status
// alone does not say what to do.
const HINTS: Record<number, string> = {
  [Status.UNAUTHENTICATED]: "check the token against sessiond's --tokens-file",
  [Status.PERMISSION_DENIED]: "a read-only token cannot change sessions",
  [Status.UNAVAILABLE]: "is sessiond running and reachable at the target?",
  [Status.DEADLINE_EXCEEDED]: "raise timeoutMs, or check sessiond's health",
};

/** The error that means what `err` (from a call of `method` to `target`) means. */
export function fromServiceError(err: Pick<ServiceError, "code" | "details">, method: string, target: string): SessiondError {
  return fromStatus(err.code, err.details, method, target);
}

/** The error for status `code` with `details`: what a unary call failing so
 * rejects with, and what a Pipeline request answered so (its
 * PipelineError) rejects with too. */
export function fromStatus(code: number, details: string, method: string, target: string): SessiondError {
  const name = Status[code] ?? "UNKNOWN";
  let message = `sessiond ${method} at ${target}: ${name}: ${details || name}`;
  const hint = HINTS[code];
  if (hint) message += ` (${hint})`;
  const Kind = BY_CODE[code] ?? SessiondError;
  return new Kind(message, name);
}
