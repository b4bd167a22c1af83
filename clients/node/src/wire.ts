// The Pipeline stream's messages in protobuf's wire format, coded by hand:
// PipelineRequest out (as a gRPC length-prefixed message, ready to write)
// and PipelineResponse in, in the shapes grpc-js's coders give (proto-loader
// with keepCase, longs as Number, defaults, oneofs), so either serves the
// Multiplexer. protobufjs's reflection, plus proto-loader's object
// conversion, cost about 15 us a get and a set, more than the rest of the
// client (BENCHMARKS.md, express-session); this costs a fraction of it.
// test/wire.test.mjs holds it to protobufjs on every field of proto/.

import type { PipelineRequest } from "./generated/sessiond/v1/PipelineRequest.js";
import type { PipelineResponse__Output } from "./generated/sessiond/v1/PipelineResponse.js";
import type { SessionInfo__Output } from "./generated/sessiond/v1/SessionInfo.js";

import type { Duration } from "./generated/google/protobuf/Duration.js";

/** A 64-bit field as the generated types allow it (a Long from protobufjs too) as Number. */
function num(value: number | string | { toNumber(): number } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === "object" ? value.toNumber() : Number(value);
}

const VARINT = 0;
const FIXED64 = 1;
const BYTES = 2;
const FIXED32 = 5;
/** Text up to this long is coded byte by byte when it is ASCII. */
const SHORT = 16;

/**
 * Writes a message back to front, so that a nested message's length is
 * known when its prefix is written: the fields go in from the last to the
 * first, and the result is the tail of the buffer.
 */
class BackWriter {
  buf: Buffer;
  pos: number;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
    this.pos = size;
  }

  /** Room for `n` more bytes in front. */
  room(n: number): void {
    if (this.pos >= n) return;
    const used = this.buf.length - this.pos;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buf.length, used + n + 64));
    this.buf.copy(grown, grown.length - used, this.pos);
    this.buf = grown;
    this.pos = grown.length - used;
  }

  /** A non-negative integer below 2^53 as a varint. */
  varint(value: number): void {
    let length = 1;
    for (let v = value; v >= 0x80; v = Math.floor(v / 128)) length++;
    this.room(length);
    this.pos -= length;
    let at = this.pos;
    let v = value;
    while (v >= 0x80) {
      this.buf[at++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[at] = v;
  }

  /** A signed 64-bit integer (as Number) as a varint, two's complement when negative. */
  int64(value: number): void {
    if (value >= 0) {
      this.varint(value);
      return;
    }
    // Ten bytes: the low 63 bits of 2^64 + value, then the sign.
    const low = value % 2 ** 32 === 0 ? 0 : 2 ** 32 + (value % 2 ** 32);
    const high = (Math.floor(value / 2 ** 32) + 2 ** 32) >>> 0;
    this.room(10);
    this.pos -= 10;
    let lo = low >>> 0;
    let hi = high;
    for (let i = 0; i < 9; i++) {
      this.buf[this.pos + i] = (lo & 0x7f) | 0x80;
      lo = (lo >>> 7) | ((hi & 0x7f) << 25);
      hi >>>= 7;
    }
    this.buf[this.pos + 9] = 1;
  }

  key(field: number, wire: number): void {
    this.room(1);
    this.buf[--this.pos] = (field << 3) | wire;
  }

  string(field: number, text: string): void {
    // Short ASCII text (most keys and ids) byte by byte: cheaper than a
    // call into the encoder.
    let length = text.length;
    this.room(3 * length);
    let ascii = length <= SHORT;
    if (ascii) {
      const at = this.pos - length;
      for (let i = 0; i < length; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0x80) {
          ascii = false;
          break;
        }
        this.buf[at + i] = c;
      }
    }
    if (!ascii) length = Buffer.byteLength(text);
    this.pos -= length;
    if (!ascii) this.buf.write(text, this.pos, length, "utf8");
    this.varint(length);
    this.key(field, BYTES);
  }

  bool(field: number, value: boolean | null | undefined): void {
    if (!value) return;
    this.room(2);
    this.buf[--this.pos] = 1;
    this.key(field, VARINT);
  }

  /** `field` as a message whose fields `write` puts in front of the mark. */
  message(field: number, write: () => void): void {
    const end = this.buf.length - this.pos;
    write();
    this.varint(this.buf.length - this.pos - end);
    this.key(field, BYTES);
  }

  duration(field: number, duration: Duration | null | undefined): void {
    if (!duration) return;
    this.message(field, () => {
      const nanos = duration.nanos ?? 0;
      if (nanos !== 0) {
        this.int64(nanos);
        this.key(2, VARINT);
      }
      const seconds = num(duration.seconds);
      if (seconds !== 0) {
        this.int64(seconds);
        this.key(1, VARINT);
      }
    });
  }

  strings(field: number, texts: readonly string[] | null | undefined): void {
    if (!texts) return;
    for (let i = texts.length - 1; i >= 0; i--) this.string(field, texts[i]);
  }

  map(field: number, entries: Record<string, string> | null | undefined): void {
    if (!entries) return;
    const keys = Object.keys(entries);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i];
      this.message(field, () => {
        this.string(2, entries[key]);
        this.string(1, key);
      });
    }
  }
}

/** The request as a gRPC message: a zero flag, its length, its bytes. */
export function encodeRequest(request: PipelineRequest): Buffer {
  const w = new BackWriter(256);
  const { get, set, touch, flush } = request;
  if (flush) {
    w.message(5, () => w.string(1, flush.id ?? ""));
  } else if (touch) {
    w.message(4, () => {
      w.duration(2, touch.idle_timeout);
      w.string(1, touch.id ?? "");
    });
  } else if (set) {
    w.message(3, () => {
      w.duration(7, set.idle_timeout);
      w.bool(6, set.replace_all);
      w.bool(5, set.create_if_missing);
      if (set.expected_version !== undefined && set.expected_version !== null) {
        w.varint(num(set.expected_version));
        w.key(4, VARINT);
      }
      w.strings(3, set.remove);
      w.map(2, set.upsert);
      w.string(1, set.id ?? "");
    });
  } else if (get) {
    w.message(2, () => {
      w.bool(3, get.no_touch);
      w.strings(2, get.keys);
      w.string(1, get.id ?? "");
    });
  }
  const tag = num(request.tag);
  if (tag !== 0) {
    w.varint(tag);
    w.key(1, VARINT);
  }
  const length = w.buf.length - w.pos;
  w.room(5);
  w.pos -= 5;
  w.buf[w.pos] = 0;
  w.buf.writeUInt32BE(length, w.pos + 1);
  return w.buf.subarray(w.pos);
}

/** A reply that does not decode. */
export class WireError extends Error {}

class Reader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  more(): boolean {
    return this.pos < this.end;
  }

  /** A varint's value as Number: exact below 2^53, as proto-loader's longs. */
  varint(): number {
    let low = 0;
    let high = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError("a varint runs past the end");
      const b = this.buf[this.pos++];
      if (shift < 28) low |= (b & 0x7f) << shift;
      else if (shift === 28) {
        low |= (b & 0x0f) << 28;
        high = (b & 0x7f) >>> 4;
      } else high |= (b & 0x7f) << (shift - 32);
      shift += 7;
      if (b < 0x80) return (high >>> 0) * 2 ** 32 + (low >>> 0);
    }
    throw new WireError("a varint longer than ten bytes");
  }

  /** A varint read as a signed 64-bit integer. */
  int64(): number {
    const start = this.pos;
    const unsigned = this.varint();
    if (unsigned < 2 ** 63) return unsigned;
    // Negative: redo the high word as signed.
    this.pos = start;
    let low = 0;
    let high = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.buf[this.pos++];
      if (shift < 28) low |= (b & 0x7f) << shift;
      else if (shift === 28) {
        low |= (b & 0x0f) << 28;
        high = (b & 0x7f) >>> 4;
      } else high |= (b & 0x7f) << (shift - 32);
      if (b < 0x80) break;
    }
    return (high | 0) * 2 ** 32 + (low >>> 0);
  }

  /** A varint read as int32 (negative ones are sent sign-extended to 64 bits). */
  int32(): number {
    const start = this.pos;
    const unsigned = this.varint();
    if (unsigned < 2 ** 31) return unsigned;
    this.pos = start;
    let low = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.buf[this.pos++];
      if (shift < 32) low |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    return low | 0;
  }

  /** The end of a length-delimited field that starts here. */
  delimited(): number {
    const length = this.varint();
    const end = this.pos + length;
    if (end > this.end) throw new WireError("a field runs past the end of its message");
    return end;
  }

  string(): string {
    const end = this.delimited();
    const start = this.pos;
    this.pos = end;
    if (end - start <= SHORT) {
      let text = "";
      for (let i = start; i < end; i++) {
        const c = this.buf[i];
        if (c >= 0x80) return this.buf.toString("utf8", start, end);
        text += String.fromCharCode(c);
      }
      return text;
    }
    return this.buf.toString("utf8", start, end);
  }

  /** Steps over a field of wire type `wire` this reader does not know. */
  skip(wire: number): void {
    if (wire === VARINT) this.varint();
    else if (wire === BYTES) this.pos = this.delimited();
    else if (wire === FIXED64) this.pos += 8;
    else if (wire === FIXED32) this.pos += 4;
    else throw new WireError(`wire type ${wire}, which proto3 does not use`);
    if (this.pos > this.end) throw new WireError("a field runs past the end of its message");
  }

  /** A nested message's reader; this one moves past it. */
  nested(): Reader {
    const end = this.delimited();
    const inner = new Reader(this.buf, this.pos, end);
    this.pos = end;
    return inner;
  }
}

function timestamp(r: Reader): { seconds: number; nanos: number } {
  const out = { seconds: 0, nanos: 0 };
  while (r.more()) {
    const key = r.varint();
    if (key === ((1 << 3) | VARINT)) out.seconds = r.int64();
    else if (key === ((2 << 3) | VARINT)) out.nanos = r.int32();
    else r.skip(key & 7);
  }
  return out;
}

function sessionInfo(r: Reader): SessionInfo__Output {
  const out: SessionInfo__Output = { id: "", version: 0, created_at: null, expires_at: null, idle_timeout: null };
  while (r.more()) {
    const key = r.varint();
    switch (key) {
      case (1 << 3) | BYTES:
        out.id = r.string();
        break;
      case (2 << 3) | VARINT:
        out.version = r.varint();
        break;
      case (3 << 3) | BYTES:
        out.created_at = timestamp(r.nested());
        break;
      case (4 << 3) | BYTES:
        out.expires_at = timestamp(r.nested());
        break;
      case (5 << 3) | BYTES:
        out.idle_timeout = timestamp(r.nested());
        break;
      default:
        r.skip(key & 7);
    }
  }
  return out;
}

/** The reply's session (field 1) and, for a GetResponse, its data (field 2). */
function withSession(r: Reader, data: Record<string, string> | undefined) {
  let session: SessionInfo__Output | null = null;
  while (r.more()) {
    const key = r.varint();
    if (key === ((1 << 3) | BYTES)) session = sessionInfo(r.nested());
    else if (data && key === ((2 << 3) | BYTES)) {
      const entry = r.nested();
      let k = "";
      let v = "";
      while (entry.more()) {
        const ek = entry.varint();
        if (ek === ((1 << 3) | BYTES)) k = entry.string();
        else if (ek === ((2 << 3) | BYTES)) v = entry.string();
        else entry.skip(ek & 7);
      }
      // A key named __proto__ is data, not the object's prototype.
      if (k === "__proto__") Object.defineProperty(data, k, { value: v, enumerable: true, writable: true, configurable: true });
      else data[k] = v;
    } else r.skip(key & 7);
  }
  return data ? { session, data } : { session };
}

function flushResponse(r: Reader) {
  let existed = false;
  while (r.more()) {
    const key = r.varint();
    if (key === ((1 << 3) | VARINT)) existed = r.varint() !== 0;
    else r.skip(key & 7);
  }
  return { existed };
}

function pipelineError(r: Reader) {
  const out = { code: 0, message: "" };
  while (r.more()) {
    const key = r.varint();
    if (key === ((1 << 3) | VARINT)) out.code = r.int32();
    else if (key === ((2 << 3) | BYTES)) out.message = r.string();
    else r.skip(key & 7);
  }
  return out;
}

/** A PipelineResponse's bytes (without the gRPC prefix), as grpc-js would decode them. */
export function decodeResponse(bytes: Buffer): PipelineResponse__Output {
  const r = new Reader(bytes, 0, bytes.length);
  const out = { tag: 0 } as PipelineResponse__Output & Record<string, unknown>;
  while (r.more()) {
    const key = r.varint();
    const field = key >>> 3;
    if (key === ((1 << 3) | VARINT)) {
      out.tag = r.varint();
      continue;
    }
    if ((key & 7) !== BYTES || field < 2 || field > 6) {
      r.skip(key & 7);
      continue;
    }
    const inner = r.nested();
    // A oneof keeps the last of its members that came.
    if (out.result) delete out[out.result];
    switch (field) {
      case 2:
        out.get = withSession(inner, {}) as PipelineResponse__Output["get"];
        out.result = "get";
        break;
      case 3:
        out.set = withSession(inner, undefined);
        out.result = "set";
        break;
      case 4:
        out.touch = withSession(inner, undefined);
        out.result = "touch";
        break;
      case 5:
        out.flush = flushResponse(inner);
        out.result = "flush";
        break;
      default:
        out.error = pipelineError(inner);
        out.result = "error";
    }
  }
  return out;
}
