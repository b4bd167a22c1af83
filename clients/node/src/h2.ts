// The Pipeline stream spoken over Node's own HTTP/2 (node:http2), without
// grpc-js's per-message path (its interceptor and filter chain, a promise
// or two per message, one write per message): requests made in one turn of
// the event loop go out in one write, and replies are cut from the data as
// it comes. The wire is gRPC's (a POST of length-prefixed messages, the
// status in trailers), the coders those grpc-js uses, generated from
// proto/; everything but get / set / touch / flush stays on grpc-js.
import { EventEmitter } from "node:events";
import * as http2 from "node:http2";
import { status as Status } from "@grpc/grpc-js";

import type { PipelineRequest } from "./generated/sessiond/v1/PipelineRequest.js";
import type { PipelineResponse__Output } from "./generated/sessiond/v1/PipelineResponse.js";
import { decodeResponse, encodeRequest } from "./wire.js";

/** What the Multiplexer needs of a stream, grpc-js's or this one. */
export interface PipelineStream<Req, Res> {
  write(request: Req): unknown;
  /** Half-closes: the server ends the stream once it answered. */
  end(): unknown;
  cancel(): void;
  on(event: "data", listener: (reply: Res) => void): unknown;
  on(event: "error", listener: (err: StreamError) => void): unknown;
  on(event: "end", listener: () => void): unknown;
}

/** How a stream failed, as grpc-js's ServiceError says it. */
export interface StreamError extends Error {
  code: number;
  details: string;
}

export interface H2Options {
  /** `host:port`. */
  target: string;
  tls: boolean;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  servername?: string;
  /** `Bearer <token>`, or undefined. */
  authorization?: string;
}

type Stream = PipelineStream<PipelineRequest, PipelineResponse__Output>;

const PATH = "/sessiond.v1.SessionService/Pipeline";
/** A reply longer than this ends the stream (sessiond's replies are bounded
 * by its session limits, far below). */
const MAX_MESSAGE = 64 << 20;
/** The stream's and the connection's receive window. */
const WINDOW = 16 << 20;

/** One HTTP/2 connection, opened when first needed and again after it ends;
 * each `open()` is a Pipeline stream on it. */
export class H2Transport {
  #session: http2.ClientHttp2Session | undefined;

  constructor(private readonly options: H2Options) {}

  open(): Stream {
    return new H2Stream(this.#connection(), this.options);
  }

  close(): void {
    this.#session?.close();
    this.#session = undefined;
  }

  #connection(): http2.ClientHttp2Session {
    const current = this.#session;
    if (current && !current.closed && !current.destroyed) return current;
    const { target, tls, ca, cert, key, servername } = this.options;
    const session = http2.connect(`${tls ? "https" : "http"}://${target}`, {
      ...(tls ? { ca, cert, key, ...(servername ? { servername } : {}) } : {}),
      // Room for many replies before a WINDOW_UPDATE is owed (65 535
      // bytes by default: one every few dozen replies).
      settings: { initialWindowSize: WINDOW },
    });
    session.once("connect", () => session.setLocalWindowSize(WINDOW));
    // Its streams report the failure; the next stream opens a new session.
    session.on("error", () => {});
    session.on("close", () => {
      if (this.#session === session) this.#session = undefined;
    });
    session.on("goaway", () => {
      if (this.#session === session) this.#session = undefined;
    });
    // A process with only an idle connection left may exit.
    session.unref();
    this.#session = session;
    return session;
  }
}

class H2Stream extends EventEmitter implements Stream {
  readonly #stream: http2.ClientHttp2Stream;
  /** Frames written since the last flush. */
  #pending: Buffer[] = [];
  #flushScheduled = false;
  /** Bytes received and not yet cut into messages. */
  #buffered: Buffer = Buffer.alloc(0);
  /** The gRPC status, from the response headers (trailers-only) or trailers. */
  #status: number | undefined;
  #details = "";
  #ended = false;

  constructor(session: http2.ClientHttp2Session, options: H2Options) {
    super();
    const headers: http2.OutgoingHttpHeaders = {
      ":method": "POST",
      ":path": PATH,
      "content-type": "application/grpc",
      te: "trailers",
      "user-agent": "sessiond-node",
    };
    if (options.authorization) headers.authorization = options.authorization;
    this.#stream = session.request(headers);
    this.#stream.on("response", (h) => this.#headers(h));
    this.#stream.on("trailers", (h) => this.#headers(h));
    this.#stream.on("data", (chunk: Buffer) => this.#data(chunk));
    this.#stream.on("close", () => this.#close());
    this.#stream.on("error", (err: Error) => {
      if (this.#status === undefined) {
        this.#status = Status.UNAVAILABLE;
        this.#details = err.message;
      }
    });
  }

  write(request: PipelineRequest): boolean {
    this.#pending.push(encodeRequest(request));
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // After the callbacks of this turn (every request a burst of HTTP
      // requests makes), in one write.
      setImmediate(() => this.#flush());
    }
    return true;
  }

  end(): void {
    this.#flush();
    if (!this.#stream.destroyed) this.#stream.end();
  }

  cancel(): void {
    this.#pending = [];
    if (this.#status === undefined) {
      this.#status = Status.CANCELLED;
      this.#details = "cancelled by the client";
    }
    this.#stream.close(http2.constants.NGHTTP2_CANCEL);
  }

  #flush(): void {
    this.#flushScheduled = false;
    const frames = this.#pending;
    if (frames.length === 0 || this.#stream.destroyed || this.#stream.writableEnded) return;
    this.#pending = [];
    this.#stream.write(frames.length === 1 ? frames[0] : Buffer.concat(frames));
  }

  #headers(headers: http2.IncomingHttpHeaders): void {
    const status = headers[":status"];
    if (status !== undefined && Number(status) !== 200 && this.#status === undefined) {
      this.#status = Status.UNAVAILABLE;
      this.#details = `HTTP status ${status}`;
    }
    const grpcStatus = headers["grpc-status"];
    if (grpcStatus !== undefined) {
      this.#status = Number(grpcStatus);
      const message = headers["grpc-message"];
      this.#details = typeof message === "string" ? decodeURIComponent(message) : "";
    }
  }

  #data(chunk: Buffer): void {
    let bytes = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    while (bytes.length >= 5) {
      const length = bytes.readUInt32BE(1);
      if (bytes[0] !== 0 || length > MAX_MESSAGE) {
        this.#status = Status.INTERNAL;
        this.#details = bytes[0] !== 0 ? "a compressed reply, which was not asked for" : "a reply too long";
        this.#stream.close(http2.constants.NGHTTP2_PROTOCOL_ERROR);
        return;
      }
      if (bytes.length < 5 + length) break;
      const message = bytes.subarray(5, 5 + length);
      bytes = bytes.subarray(5 + length);
      let reply: PipelineResponse__Output;
      try {
        reply = decodeResponse(message);
      } catch (err) {
        this.#status = Status.INTERNAL;
        this.#details = `a reply that does not decode: ${(err as Error).message}`;
        this.#stream.close(http2.constants.NGHTTP2_PROTOCOL_ERROR);
        return;
      }
      this.emit("data", reply);
    }
    this.#buffered = bytes;
  }

  #close(): void {
    if (this.#ended) return;
    this.#ended = true;
    const code = this.#status ?? Status.UNAVAILABLE;
    if (code === Status.OK) {
      this.emit("end");
      return;
    }
    const details = this.#status === undefined ? "the connection closed" : this.#details;
    const err = new Error(`${Status[code] ?? code}: ${details}`) as StreamError;
    err.code = code;
    err.details = details;
    this.emit("error", err);
  }
}
