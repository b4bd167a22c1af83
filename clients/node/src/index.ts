// sessiond: a client of the sessiond session server, and SessiondStore,
// its express-session store.
export {
  Client,
  DEFAULT_TIMEOUT_MS,
  type CallOptions,
  type CreateOptions,
  type ClientOptions,
  type Pem,
  type Session,
  type SessionData,
  type SessionInfo,
  type SetOptions,
  type UserBinding,
  type UserSession,
} from "./client.js";
export {
  DeadlineExceeded,
  InvalidArgument,
  PermissionDenied,
  ResourceExhausted,
  SessiondError,
  SessionNotFound,
  Unauthenticated,
  Unavailable,
  VersionConflict,
} from "./errors.js";
export { SessiondStore, type SessiondStoreOptions } from "./store.js";
