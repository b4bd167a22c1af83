// SessiondStore: express-session's Store on sessiond. A drop-in for
// connect-redis (`store: new SessiondStore({ client })`) that writes only
// the keys a request changed, so two concurrent requests changing
// different keys both survive, where a whole-blob store keeps only the
// last writer's copy.
import session from "express-session";
import type { SessionData as ExpressSessionData, Store as StoreType } from "express-session";

import { Client, type ClientOptions, encode, decode } from "./client.js";
import { InvalidArgument, SessionNotFound, SessiondError } from "./errors.js";

type Callback<T = unknown> = (err?: unknown, value?: T) => void;
type Sess = ExpressSessionData & Record<string, unknown>;

/** What `get` read, kept for the request's session object (out of sight of
 * express-session's hash and of JSON) until `set`. */
interface Snapshot {
  sid: string;
  /** Each key's JSON text as read (or as last written by this request). */
  values: Map<string, string>;
  idleTimeoutMs: number;
}

/** Each loaded session object's snapshot, for as long as the object lives. */
const snapshots = new WeakMap<object, Snapshot>();

export interface SessiondStoreOptions {
  /** The client to use; else one is made from `clientOptions`. */
  client?: Client;
  clientOptions?: ClientOptions;
  /** The idle timeout, in seconds, of sessions whose cookie has no maxAge
   * (browser-session cookies). Unset: sessiond's default. */
  ttl?: number;
  /** Never call Touch (express-session's `touch`); sessions then slide only
   * when written. */
  disableTouch?: boolean;
}

// express-session's Store is an EventEmitter-based constructor function;
// its .d.ts declares it abstract.
const Store = session.Store as unknown as new () => StoreType;

/**
 * express-session's store on sessiond. Needs a namespace listed in
 * sessiond's `--client-id-namespaces` (express-session makes ids itself).
 * `all` and `ids` are not offered: sessiond holds only digests of ids, so it
 * can never list them in usable form.
 */
export class SessiondStore extends Store {
  readonly client: Client;
  readonly ttlMs: number | undefined;
  readonly disableTouch: boolean;

  constructor(options: SessiondStoreOptions = {}) {
    super();
    this.client = options.client ?? new Client(options.clientOptions);
    if (options.ttl !== undefined && !(options.ttl > 0)) {
      throw new SessiondError(`ttl must be a positive number of seconds, not ${options.ttl}`, "INVALID_OPTION");
    }
    this.ttlMs = options.ttl === undefined ? undefined : options.ttl * 1000;
    this.disableTouch = options.disableTouch ?? false;
    if (this.disableTouch) {
      (this as { touch?: unknown }).touch = undefined;
    }
  }

  override get(sid: string, callback: Callback<Sess | null>): void {
    this.client.getJson(sid).then(
      ({ info, data }) => {
        const sess = decode(data) as Sess;
        if (!sess.cookie) {
          // Written by another client: give express-session a cookie to inflate.
          (sess as Record<string, unknown>).cookie = {
            originalMaxAge: info.idleTimeoutMs,
            expires: info.expiresAt.toISOString(),
            httpOnly: true,
            path: "/",
          };
        }
        snapshots.set(sess, { sid, values: new Map(Object.entries(data)), idleTimeoutMs: info.idleTimeoutMs });
        callback(null, sess);
      },
      (err) => {
        // Unknown, expired or malformed (a cookie sessiond never issued): no session.
        if (err instanceof SessionNotFound || err instanceof InvalidArgument) callback(null, null);
        else callback(err);
      },
    );
  }

  /** Carries `get`'s snapshot from the loaded object to the request's session. */
  override createSession(req: Parameters<StoreType["createSession"]>[0], sess: ExpressSessionData) {
    const snapshot = snapshots.get(sess);
    const created = super.createSession(req, sess);
    if (snapshot) snapshots.set(created, snapshot);
    return created;
  }

  override set(sid: string, sess: ExpressSessionData, callback?: Callback): void {
    this.#write(sid, sess as Sess).then(
      () => callback?.(null),
      (err) => callback?.(err),
    );
  }

  async #write(sid: string, sess: Sess): Promise<void> {
    const values = encode(sess);
    const idleTimeoutMs = this.#idleTimeoutMs(sess);
    const snapshot = snapshots.get(sess);
    if (snapshot && snapshot.sid === sid) {
      // Only what this request changed, so a concurrent request's other keys survive.
      const upsert: Record<string, string> = {};
      for (const [key, text] of Object.entries(values)) {
        if (snapshot.values.get(key) !== text) upsert[key] = text;
      }
      const remove = [...snapshot.values.keys()].filter((key) => !Object.hasOwn(values, key));
      const changedTimeout = idleTimeoutMs !== undefined && idleTimeoutMs !== snapshot.idleTimeoutMs;
      try {
        const written = await this.client.setJson(sid, upsert, {
          remove,
          ...(changedTimeout ? { idleTimeoutMs } : {}),
        });
        snapshots.set(sess, { sid, values: new Map(Object.entries(values)), idleTimeoutMs: written.idleTimeoutMs });
        return;
      } catch (err) {
        // Gone since it was read (destroyed, cleared, expired): write it whole.
        if (!(err instanceof SessionNotFound)) throw err;
      }
    }
    const written = await this.client.setJson(sid, values, {
      createIfMissing: true,
      replaceAll: true,
      ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }),
    });
    snapshots.set(sess, { sid, values: new Map(Object.entries(values)), idleTimeoutMs: written.idleTimeoutMs });
  }

  override touch(sid: string, sess: ExpressSessionData, callback?: () => void): void {
    const idleTimeoutMs = this.#idleTimeoutMs(sess as Sess);
    const snapshot = snapshots.get(sess);
    const changed = idleTimeoutMs !== undefined && idleTimeoutMs !== snapshot?.idleTimeoutMs;
    this.client.touch(sid, changed ? { idleTimeoutMs } : {}).then(
      () => callback?.(),
      (err) => {
        // A session gone meanwhile has nothing to touch.
        if (err instanceof SessionNotFound) (callback as Callback | undefined)?.(null);
        else (callback as Callback | undefined)?.(err);
      },
    );
  }

  override destroy(sid: string, callback?: Callback): void {
    this.client.flush(sid).then(
      () => callback?.(null),
      (err) => (err instanceof InvalidArgument ? callback?.(null) : callback?.(err)),
    );
  }

  override length(callback: Callback<number>): void {
    this.client.countSessions().then(
      (n) => callback(null, n),
      (err) => callback(err),
    );
  }

  override clear(callback?: Callback): void {
    this.client.clearSessions().then(
      () => callback?.(null),
      (err) => callback?.(err),
    );
  }

  /** The session's idle timeout: the cookie's configured max age, which
   * express-session slides on every request as sessiond does; else `ttl`. */
  #idleTimeoutMs(sess: Sess): number | undefined {
    const maxAge = sess.cookie?.originalMaxAge;
    if (typeof maxAge === "number" && maxAge > 0) return maxAge;
    return this.ttlMs;
  }
}
