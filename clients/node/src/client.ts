// The client: one promise-returning method per RPC of sessiond.v1, over one
// reused channel, with a default deadline, bearer token and TLS / mTLS.
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

import { descriptor } from "./generated/descriptor.js";
import type { ProtoGrpcType } from "./generated/sessiond.js";
import type { SessionServiceClient } from "./generated/sessiond/v1/SessionService.js";
import type { SessionInfo__Output } from "./generated/sessiond/v1/SessionInfo.js";
import type { Duration } from "./generated/google/protobuf/Duration.js";
import type { PipelineRequest } from "./generated/sessiond/v1/PipelineRequest.js";
import type { PipelineResponse__Output } from "./generated/sessiond/v1/PipelineResponse.js";
import type { WatchEvent__Output } from "./generated/sessiond/v1/WatchEvent.js";
import { fromServiceError, InvalidArgument, SessiondError } from "./errors.js";
import { DEFAULT_MAX_IN_FLIGHT, Multiplexer, type StreamMethod } from "./pipeline.js";
import { H2Transport } from "./h2.js";

/** Every call's deadline unless the call gives its own. */
export const DEFAULT_TIMEOUT_MS = 5000;

/** What a caller knows about a session besides its data. */
export interface SessionInfo {
  /** Secret: treat it like a password. */
  id: string;
  /** Grows with every change; pass it back as `expectedVersion`. */
  version: number;
  createdAt: Date;
  /** When the session expires if untouched. */
  expiresAt: Date;
  idleTimeoutMs: number;
}

/** A session's values, decoded from the JSON texts sessiond holds. */
export type SessionData = Record<string, unknown>;

export interface Session {
  info: SessionInfo;
  data: SessionData;
}

/** A PEM option: the PEM itself, or the path of a file holding it. */
export type Pem = string | Buffer;

export interface ClientOptions {
  /** `host:port` of sessiond's gRPC listener. Default `127.0.0.1:50051`. */
  target?: string;
  /** Sent as `authorization: Bearer <token>` (sessiond's --tokens-file). */
  token?: string;
  /** Deadline of every call unless the call gives its own. Default 5000. */
  timeoutMs?: number;
  /** Use TLS (implied by any `tls*` option below). */
  tls?: boolean;
  /** CA that signed the server's certificate (default: the system's roots). */
  tlsCa?: Pem;
  /** Client certificate and key, for mTLS (sessiond's --tls-client-ca). */
  tlsCert?: Pem;
  tlsKey?: Pem;
  /** The name to check the server's certificate against, when not the target's host. */
  tlsServerName?: string;
  /** Extra channel options, passed to grpc-js as they are. */
  channelOptions?: grpc.ChannelOptions;
  /** Carry get / set / touch / flush on one long-lived Pipeline stream
   * (default), or, with `false`, each as a unary call of its own. The other
   * calls are always unary. See the README's "How calls travel". */
  multiplex?: boolean;
  /** At most this many calls sent on the stream and unanswered at once; the
   * rest wait their turn. Keep it at or under sessiond's
   * --max-pipeline-in-flight. Default 1024 (sessiond's default). */
  maxInFlight?: number;
}

/** The user a session belongs to, with what a listing shows of the device. */
export interface UserBinding {
  userId: string;
  userAgent?: string;
  ip?: string;
}

/** One of a user's sessions as a listing shows it: a handle, never an id. */
export interface UserSession {
  handle: string;
  createdAt: Date;
  lastSeen: Date;
  expiresAt: Date;
  userAgent: string;
  ip: string;
  current: boolean;
}

export interface CallOptions {
  /** This call's deadline. */
  timeoutMs?: number;
}

export interface CreateOptions extends CallOptions {
  /** Unset: the server's default. */
  idleTimeoutMs?: number;
  /** Bind the new session to a user. */
  user?: UserBinding;
}

export interface SetOptions extends CallOptions {
  /** Keys to delete in the same atomic change. */
  remove?: string[];
  /** Compare-and-set: VersionConflict unless the session is at this version. */
  expectedVersion?: number;
  /** Create the session under `id` if none lives (namespaces in sessiond's
   * --client-id-namespaces only; elsewhere an unknown id is SessionNotFound). */
  createIfMissing?: boolean;
  /** The data becomes exactly `upsert`: other keys are removed. */
  replaceAll?: boolean;
  /** Also set the idle timeout (for a session created: its idle timeout). */
  idleTimeoutMs?: number;
}

/** RPCs whose repetition can do nothing one call would not: the only ones
 * retried on UNAVAILABLE. Create would make a second session, Rotate fail
 * once its first attempt killed the old id, Set overwrite a change made
 * between attempts, ClearSessions delete sessions made between them. */
const IDEMPOTENT = ["Get", "Touch", "Flush", "CountSessions"];
const SERVICE = "sessiond.v1.SessionService";
/** The calls the Pipeline stream carries. */
const STREAMED: ReadonlySet<string> = new Set<StreamMethod>(["Get", "Set", "Touch", "Flush"]);

function serviceConfig(): string {
  return JSON.stringify({
    methodConfig: [
      {
        name: IDEMPOTENT.map((method) => ({ service: SERVICE, method })),
        retryPolicy: {
          maxAttempts: 4,
          initialBackoff: "0.05s",
          maxBackoff: "0.5s",
          backoffMultiplier: 2,
          retryableStatusCodes: ["UNAVAILABLE"],
        },
      },
    ],
  });
}

const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

let loaded: ProtoGrpcType | undefined;

function proto(): ProtoGrpcType {
  if (!loaded) {
    // The generated literal is wider than protobufjs's INamespace union.
    const definition = protoLoader.fromJSON(descriptor as Parameters<typeof protoLoader.fromJSON>[0], LOADER_OPTIONS);
    loaded = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return loaded;
}

function pem(value: Pem | undefined, option: string): Buffer | undefined {
  if (value === undefined) return undefined;
  if (Buffer.isBuffer(value)) return value;
  if (value.includes("-----BEGIN")) return Buffer.from(value);
  try {
    return readFileSync(value);
  } catch (err) {
    throw new SessiondError(`${option}: cannot read ${value}: ${(err as Error).message}`, "INVALID_OPTION");
  }
}

function duration(ms: number, what: string): Duration {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new InvalidArgument(`${what} must be a non-negative number of milliseconds, not ${ms}`, "INVALID_ARGUMENT");
  }
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

function millis(t: { seconds: number | string; nanos: number } | null | undefined): number {
  if (!t) return 0;
  return Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6);
}

function info(raw: SessionInfo__Output | null): SessionInfo {
  if (!raw) throw new SessiondError("sessiond answered without the session", "INTERNAL");
  return {
    id: raw.id,
    version: Number(raw.version),
    createdAt: new Date(millis(raw.created_at)),
    expiresAt: new Date(millis(raw.expires_at)),
    idleTimeoutMs: millis(raw.idle_timeout),
  };
}

function binding(user: UserBinding) {
  return { user_id: user.userId, user_agent: user.userAgent ?? "", ip: user.ip ?? "" };
}

/** `data`'s values as JSON texts; an error names the key that is not JSON.
 * A value JSON drops (undefined, a function, a symbol) is dropped here too. */
export function encode(data: SessionData): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (err) {
      throw new InvalidArgument(
        `the value of key ${JSON.stringify(key)} is not JSON-serializable: ${(err as Error).message}`,
        "INVALID_ARGUMENT",
      );
    }
    if (text !== undefined) put(out, key, text);
  }
  return out;
}

/** JSON texts as values. */
export function decode(data: Record<string, string>): SessionData {
  const out: SessionData = {};
  for (const [key, text] of Object.entries(data)) put(out, key, JSON.parse(text));
  return out;
}

/** `target[key] = value`, where a key named __proto__ is a key like any
 * other, not the object's prototype (a session's keys are anyone's). */
export function put<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * A client of sessiond's gRPC API. Make one per process and keep it: every
 * call goes over its one channel. `close()` it at shutdown.
 */
export class Client {
  readonly target: string;
  readonly timeoutMs: number;
  readonly #stub: SessionServiceClient;
  readonly #metadata: grpc.Metadata;
  /** Carries get / set / touch / flush, unless `multiplex: false`. */
  readonly #mux: Multiplexer | undefined;
  /** The connection the Pipeline stream rides on. */
  readonly #h2: H2Transport | undefined;

  constructor(options: ClientOptions = {}) {
    this.target = options.target ?? "127.0.0.1:50051";
    if (!/^[^\s/]+:\d{1,5}$/.test(this.target)) {
      throw new SessiondError(`target must be host:port, not ${JSON.stringify(this.target)}`, "INVALID_OPTION");
    }
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(this.timeoutMs > 0)) {
      throw new SessiondError(`timeoutMs must be positive, not ${this.timeoutMs}`, "INVALID_OPTION");
    }
    const tls =
      options.tls || options.tlsCa !== undefined || options.tlsCert !== undefined || options.tlsServerName !== undefined;
    if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
      throw new SessiondError("tlsCert and tlsKey go together (mTLS needs both)", "INVALID_OPTION");
    }
    const credentials = tls
      ? grpc.credentials.createSsl(
          pem(options.tlsCa, "tlsCa") ?? null,
          pem(options.tlsKey, "tlsKey") ?? null,
          pem(options.tlsCert, "tlsCert") ?? null,
        )
      : grpc.credentials.createInsecure();
    const channelOptions: grpc.ChannelOptions = {
      "grpc.service_config": serviceConfig(),
      ...(options.tlsServerName ? { "grpc.ssl_target_name_override": options.tlsServerName } : {}),
      ...options.channelOptions,
    };
    this.#metadata = new grpc.Metadata();
    if (options.token !== undefined) {
      if (!/^[\x21-\x7e]+$/.test(options.token)) {
        throw new SessiondError("token must be printable ASCII with no spaces", "INVALID_OPTION");
      }
      this.#metadata.set("authorization", `Bearer ${options.token}`);
    }
    const Service = proto().sessiond.v1.SessionService;
    this.#stub = new Service(this.target, credentials, channelOptions);
    const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    if (!(Number.isInteger(maxInFlight) && maxInFlight > 0)) {
      throw new SessiondError(`maxInFlight must be a positive integer, not ${maxInFlight}`, "INVALID_OPTION");
    }
    if (options.multiplex ?? true) {
      this.#h2 = new H2Transport({
        target: this.target,
        tls,
        ca: pem(options.tlsCa, "tlsCa"),
        cert: pem(options.tlsCert, "tlsCert"),
        key: pem(options.tlsKey, "tlsKey"),
        servername: options.tlsServerName,
        authorization: options.token === undefined ? undefined : `Bearer ${options.token}`,
      });
      const h2 = this.#h2;
      this.#mux = new Multiplexer(() => h2.open(), this.target, maxInFlight);
    }
  }

  /** A new session holding `data`, under a fresh server-chosen id. */
  async create(data: SessionData = {}, options: CreateOptions = {}): Promise<SessionInfo> {
    return this.createJson(encode(data), options);
  }

  /** `create` with values already JSON texts (sessiond validates them). */
  async createJson(
    data: Record<string, string>,
    options: CreateOptions = {},
  ): Promise<SessionInfo> {
    const request = {
      data,
      idle_timeout: options.idleTimeoutMs === undefined ? null : duration(options.idleTimeoutMs, "idleTimeoutMs"),
      user: options.user ? binding(options.user) : null,
    };
    const response = await this.#call("Create", request, options);
    return info(response.session);
  }

  /** The session's data (all keys, or `keys`); slides its deadline unless
   * `noTouch`. SessionNotFound if unknown or expired. */
  async get(id: string, options: CallOptions & { keys?: string[]; noTouch?: boolean } = {}): Promise<Session> {
    const { info: got, data } = await this.getJson(id, options);
    return { info: got, data: decode(data) };
  }

  /** `get` with values as the JSON texts sessiond holds. */
  async getJson(
    id: string,
    options: CallOptions & { keys?: string[]; noTouch?: boolean } = {},
  ): Promise<{ info: SessionInfo; data: Record<string, string> }> {
    const request = { id, keys: options.keys ?? [], no_touch: options.noTouch ?? false };
    const response = await this.#call("Get", request, options);
    return { info: info(response.session), data: response.data };
  }

  /** Upserts (and `remove`s) applied atomically. */
  async set(id: string, upsert: SessionData, options: SetOptions = {}): Promise<SessionInfo> {
    return this.setJson(id, encode(upsert), options);
  }

  /** `set` with values already JSON texts. */
  async setJson(id: string, upsert: Record<string, string>, options: SetOptions = {}): Promise<SessionInfo> {
    const request = {
      id,
      upsert,
      remove: options.remove ?? [],
      ...(options.expectedVersion === undefined ? {} : { expected_version: options.expectedVersion }),
      create_if_missing: options.createIfMissing ?? false,
      replace_all: options.replaceAll ?? false,
      idle_timeout: options.idleTimeoutMs === undefined ? null : duration(options.idleTimeoutMs, "idleTimeoutMs"),
    };
    const response = await this.#call("Set", request, options);
    return info(response.session);
  }

  /** Deletes the session (logout); whether a live one existed. Idempotent. */
  async flush(id: string, options: CallOptions = {}): Promise<boolean> {
    const response = await this.#call("Flush", { id }, options);
    return response.existed;
  }

  /** The same data under a new id; the old id is gone at once. */
  async rotate(id: string, options: CallOptions = {}): Promise<SessionInfo> {
    const response = await this.#call("Rotate", { id }, options);
    return info(response.session);
  }

  /** Slides the deadline; with `idleTimeoutMs`, first changes the idle timeout. */
  async touch(id: string, options: CallOptions & { idleTimeoutMs?: number } = {}): Promise<SessionInfo> {
    const request = {
      id,
      idle_timeout: options.idleTimeoutMs === undefined ? null : duration(options.idleTimeoutMs, "idleTimeoutMs"),
    };
    const response = await this.#call("Touch", request, options);
    return info(response.session);
  }

  /** Live sessions in this client's namespace (walks sessiond's store). */
  async countSessions(options: CallOptions = {}): Promise<number> {
    const response = await this.#call("CountSessions", {}, options);
    return Number(response.count);
  }

  /** Deletes every session of this client's namespace; how many were live. */
  async clearSessions(options: CallOptions = {}): Promise<number> {
    const response = await this.#call("ClearSessions", {}, options);
    return Number(response.cleared);
  }

  /** Binds the session to a user (moving it from any other); `null` unbinds it. */
  async bindUser(id: string, user: UserBinding | null, options: CallOptions = {}): Promise<SessionInfo> {
    const response = await this.#call("BindUser", { id, user: user && binding(user) }, options);
    return info(response.session);
  }

  /** The user's live sessions, most recently active first; `currentId` marks the caller's own. */
  async listUserSessions(userId: string, options: CallOptions & { currentId?: string } = {}): Promise<UserSession[]> {
    const response = await this.#call("ListUserSessions", { user_id: userId, current_id: options.currentId ?? "" }, options);
    return response.sessions.map((s) => ({
      handle: s.handle,
      createdAt: new Date(millis(s.created_at)),
      lastSeen: new Date(millis(s.last_seen)),
      expiresAt: new Date(millis(s.expires_at)),
      userAgent: s.user_agent,
      ip: s.ip,
      current: s.current,
    }));
  }

  /** Ends the session a handle names (only if bound to `userId`, when given); whether one was live. */
  async revokeSession(handle: string, options: CallOptions & { userId?: string } = {}): Promise<boolean> {
    const response = await this.#call("RevokeSession", { handle, user_id: options.userId ?? "" }, options);
    return response.existed;
  }

  /** Ends every session of the user but `exceptId`'s; how many were live. */
  async revokeUserSessions(userId: string, options: CallOptions & { exceptId?: string } = {}): Promise<number> {
    const response = await this.#call("RevokeUserSessions", { user_id: userId, except_id: options.exceptId ?? "" }, options);
    return Number(response.revoked);
  }

  /**
   * Opens a Pipeline stream: write `{tag, get | set | touch | flush}` requests
   * (the unary calls' request messages), read `{tag, get | set | touch | flush | error}`
   * replies, matched by tag, in any order. A request that fails is an `error`
   * reply (`{code, message}`) and the stream goes on. `timeoutMs`, if given,
   * bounds the whole stream.
   */
  pipeline(options: { timeoutMs?: number } = {}): grpc.ClientDuplexStream<PipelineRequest, PipelineResponse__Output> {
    const callOptions = options.timeoutMs === undefined ? {} : { deadline: new Date(Date.now() + options.timeoutMs) };
    return this.#stub.Pipeline(this.#metadata, callOptions);
  }

  /**
   * Opens a Watch: events about the sessions `ids` names (each event names one
   * by its `index` in `ids`), or, with no ids, about every session of this
   * client's namespace (named by `handle`). The first event is `resync`; see
   * the README's Watch section. The stream emits an error with code
   * RESOURCE_EXHAUSTED when the subscriber read too slowly.
   */
  watch(ids?: string[], options: { timeoutMs?: number } = {}): grpc.ClientReadableStream<WatchEvent__Output> {
    const callOptions = options.timeoutMs === undefined ? {} : { deadline: new Date(Date.now() + options.timeoutMs) };
    const request = { ids: ids ?? [], namespace: ids === undefined };
    return this.#stub.Watch(request, this.#metadata, callOptions);
  }

  /** Closes the channel; calls after this fail. */
  close(): void {
    this.#mux?.close();
    this.#h2?.close();
    this.#stub.close();
  }

  #call<M extends Method>(method: M, request: RequestOf<M>, options: CallOptions): Promise<ResponseOf<M>> {
    const deadlineMs = Date.now() + (options.timeoutMs ?? this.timeoutMs);
    if (this.#mux && STREAMED.has(method)) {
      return this.#mux.call(method as StreamMethod, request, deadlineMs) as Promise<ResponseOf<M>>;
    }
    const deadline = new Date(deadlineMs);
    const stub = this.#stub as unknown as Record<
      string,
      (
        req: unknown,
        md: grpc.Metadata,
        opts: grpc.CallOptions,
        cb: (err: grpc.ServiceError | null, res?: unknown) => void,
      ) => void
    >;
    return new Promise((resolve, reject) => {
      stub[method].call(this.#stub, request, this.#metadata, { deadline }, (err, response) => {
        if (err) reject(fromServiceError(err, method, this.target));
        else resolve(response as ResponseOf<M>);
      });
    });
  }
}

type Method =
  | "Create"
  | "Get"
  | "Set"
  | "Flush"
  | "Rotate"
  | "Touch"
  | "CountSessions"
  | "ClearSessions"
  | "BindUser"
  | "ListUserSessions"
  | "RevokeSession"
  | "RevokeUserSessions";
type Stub = SessionServiceClient;
type RequestOf<M extends Method> = Parameters<Stub[M]>[0];
type ResponseOf<M extends Method> =
  Parameters<Stub[M]> extends [unknown, ...infer Rest]
    ? Rest extends [...unknown[], infer Cb]
      ? Cb extends grpc.requestCallback<infer R>
        ? R
        : never
      : never
    : never;
