// The multiplexer: Get / Set / Touch / Flush carried as tagged requests on
// one long-lived Pipeline stream, so a call costs a message each way and
// not an HTTP/2 stream set-up, which is most of what a unary call costs
// grpc-js (BENCHMARKS.md, express-session).
import { status as Status } from "@grpc/grpc-js";

import type { PipelineRequest } from "./generated/sessiond/v1/PipelineRequest.js";
import type { PipelineResponse__Output } from "./generated/sessiond/v1/PipelineResponse.js";
import { fromServiceError, fromStatus, Unavailable, type SessiondError } from "./errors.js";
import type { PipelineStream, StreamError } from "./h2.js";

/** The calls a Pipeline stream carries, by their unary method name. */
export type StreamMethod = "Get" | "Set" | "Touch" | "Flush";
type Op = "get" | "set" | "touch" | "flush";
const OP: Record<StreamMethod, Op> = { Get: "get", Set: "set", Touch: "touch", Flush: "flush" };

/** sessiond's default --max-pipeline-in-flight. */
export const DEFAULT_MAX_IN_FLIGHT = 1024;
/** A stream with no call for this long is closed (and reopened by the next
 * call), so that a process that never calls `close()` can still exit. */
const IDLE_CLOSE_MS = 10_000;
/** A stream silent this long while a call on it timed out is given up. */
const SILENT_MS = 1000;

type Duplex = PipelineStream<PipelineRequest, PipelineResponse__Output>;

/** One call, from the moment it is made until its reply or its stream's end. */
interface Call {
  method: StreamMethod;
  request: unknown;
  resolve: (response: unknown) => void;
  reject: (err: SessiondError) => void;
  timer: NodeJS.Timeout;
  /** Its promise was settled (by its deadline) before its reply came. */
  settled: boolean;
  /** The stream it was sent on, and when; unset while it is queued. */
  sentOn?: Open;
  sentAt?: number;
}

/** A stream and the calls sent on it that await a reply. */
interface Open {
  stream: Duplex;
  waiting: Map<number, Call>;
  /** Set once the stream ended or failed: nothing more is sent on it. */
  done: boolean;
  /** When a call was last sent on it (Date.now()). */
  lastUsed: number;
  /** When it last brought a reply (Date.now()); 0 before the first. */
  lastReply: number;
}

/**
 * Carries calls on one Pipeline stream at a time. A call whose deadline
 * passes rejects with DeadlineExceeded, as a unary one does (its reply, if
 * it comes, is dropped). A stream that ends or fails rejects the calls
 * sent on it and not yet answered with Unavailable (or with what its status
 * means, for UNAUTHENTICATED and the like); the next call opens a new one.
 * At most `maxInFlight` calls are sent and unanswered at once, so that the
 * server's --max-pipeline-in-flight is not passed; the rest wait in order.
 */
export class Multiplexer {
  #open: Open | undefined;
  /** Calls made while `maxInFlight` were unanswered, in order. */
  readonly #queue: Call[] = [];
  #nextTag = 1;
  #closed = false;

  constructor(
    /** Opens a Pipeline stream, with the client's metadata. */
    private readonly openStream: () => Duplex,
    private readonly target: string,
    private readonly maxInFlight: number,
  ) {}

  /** `request` (the unary call's request message) answered by the stream. */
  call(method: StreamMethod, request: unknown, deadline: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        reject(new Unavailable(`sessiond ${method} at ${this.target}: the client is closed`, "UNAVAILABLE"));
        return;
      }
      const call: Call = { method, request, resolve, reject, settled: false, timer: undefined as unknown as NodeJS.Timeout };
      call.timer = setTimeout(() => this.#expire(call), Math.max(0, deadline - Date.now()));
      if (this.#inFlight() < this.maxInFlight) this.#send(call);
      else this.#queue.push(call);
    });
  }

  /** Ends the stream; calls awaiting a reply reject with Unavailable. */
  close(): void {
    this.#closed = true;
    for (const call of this.#queue.splice(0)) this.#fail(call, this.#unavailable(call.method, "the client is closed"));
    const open = this.#open;
    if (open) {
      this.#finish(open, null);
      open.stream.cancel();
    }
  }

  #inFlight(): number {
    return this.#open ? this.#open.waiting.size : 0;
  }

  #send(call: Call): void {
    const open = this.#open ?? this.#start();
    const tag = this.#nextTag++;
    open.waiting.set(tag, call);
    open.lastUsed = Date.now();
    call.sentOn = open;
    call.sentAt = open.lastUsed;
    open.stream.write({ tag, [OP[call.method]]: call.request });
  }

  #start(): Open {
    const stream = this.openStream();
    const open: Open = { stream, waiting: new Map(), done: false, lastUsed: Date.now(), lastReply: 0 };
    this.#open = open;
    this.#watchIdle(open);
    stream.on("data", (reply: PipelineResponse__Output) => this.#reply(open, reply));
    stream.on("error", (err: StreamError) => this.#finish(open, err));
    stream.on("end", () => this.#finish(open, null));
    return open;
  }

  #reply(open: Open, reply: PipelineResponse__Output): void {
    open.lastReply = Date.now();
    const tag = Number(reply.tag);
    const call = open.waiting.get(tag);
    if (!call) return;
    open.waiting.delete(tag);
    if (!call.settled) {
      call.settled = true;
      clearTimeout(call.timer);
      if (reply.result === "error" && reply.error) {
        call.reject(fromStatus(reply.error.code, reply.error.message, call.method, this.target));
      } else {
        const op = OP[call.method];
        if (reply.result === op) call.resolve(reply[op]);
        else call.reject(fromStatus(Status.INTERNAL, `a ${op} answered with ${reply.result ?? "nothing"}`, call.method, this.target));
      }
    }
    this.#pump();
  }

  /** The stream is over: its unanswered calls fail; queued ones go on a new one. */
  #finish(open: Open, err: StreamError | null, why?: string): void {
    if (open.done) return;
    open.done = true;
    if (this.#open === open) this.#open = undefined;
    for (const call of open.waiting.values()) {
      this.#fail(call, why ? this.#unavailable(call.method, why) : this.#ended(call.method, err));
    }
    open.waiting.clear();
    this.#pump();
  }

  /** What a call that was on a stream ending with `err` rejects with. */
  #ended(method: StreamMethod, err: StreamError | null): SessiondError {
    // A status about the caller (a bad token) means what it means on the
    // unary path; any other end means the stream, not the call, was lost.
    const aboutCaller = err && (err.code === Status.UNAUTHENTICATED || err.code === Status.PERMISSION_DENIED);
    if (aboutCaller) return fromServiceError(err, method, this.target);
    const why = err ? `the stream failed (${Status[err.code] ?? "UNKNOWN"}: ${err.details})` : "the stream ended";
    return this.#unavailable(method, `${why} before the reply`);
  }

  #unavailable(method: StreamMethod, why: string): SessiondError {
    return new Unavailable(
      `sessiond ${method} at ${this.target}: UNAVAILABLE: ${why} (is sessiond running and reachable at the target?)`,
      "UNAVAILABLE",
    );
  }

  #fail(call: Call, err: SessiondError): void {
    if (call.settled) return;
    call.settled = true;
    clearTimeout(call.timer);
    call.reject(err);
  }

  #expire(call: Call): void {
    if (call.settled) return;
    // A queued call was never sent; a sent one keeps its place in flight
    // until its reply comes, as the server still counts it.
    const queued = this.#queue.indexOf(call);
    if (queued >= 0) this.#queue.splice(queued, 1);
    call.settled = true;
    call.reject(fromStatus(Status.DEADLINE_EXCEEDED, "Deadline exceeded", call.method, this.target));
    // A stream that brought nothing back in a whole deadline of at least
    // SILENT_MS is taken for lost (a peer gone without a reset looks so):
    // it is cancelled, its other calls reject Unavailable, and the next
    // call opens a new one, rather than every later call waiting out its
    // deadline on it. A short deadline alone proves nothing of the stream.
    const open = call.sentOn;
    const sentAt = call.sentAt ?? Infinity;
    if (open && !open.done && open.lastReply < sentAt && Date.now() - sentAt >= SILENT_MS) {
      this.#finish(open, null, "the stream answered nothing within a call's deadline");
      open.stream.cancel();
    }
  }

  #pump(): void {
    while (this.#queue.length > 0 && this.#inFlight() < this.maxInFlight) {
      const call = this.#queue.shift() as Call;
      if (!call.settled) this.#send(call);
    }
  }

  /** Checks every IDLE_CLOSE_MS whether the stream went unused that long,
   * and then ends it. One timer per stream, not one per call. */
  #watchIdle(open: Open): void {
    const timer = setInterval(() => {
      if (open.done) clearInterval(timer);
      else if (open.waiting.size === 0 && Date.now() - open.lastUsed >= IDLE_CLOSE_MS) {
        clearInterval(timer);
        if (this.#open === open) this.#open = undefined;
        open.done = true;
        open.stream.end();
      }
    }, IDLE_CLOSE_MS);
    timer.unref();
  }
}
