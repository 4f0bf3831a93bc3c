/**
 * gRPC's length-prefixed messages on an HTTP/2 stream (grpc/grpc doc/PROTOCOL-HTTP2.md,
 * "Length-Prefixed-Message": a compressed flag byte, a 4-byte big-endian length, the message), for
 * both ends: the server transport (grpc-h2.ts), the emulated gateway's ext_proc client and the xDS
 * fan-out bench's simulated gateways.
 */

import type { Writable } from 'node:stream';

export const FRAME_HEADER_BYTES = 5;

/** The 5-byte prefix of an uncompressed message of `length` bytes. */
export function frameHeader(length: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header[0] = 0;
  header.writeUInt32BE(length, 1);
  return header;
}

/** One uncompressed message in one buffer of its own (prefix + copy). */
export function frameMessage(msg: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + msg.length);
  frame[0] = 0;
  frame.writeUInt32BE(msg.length, 1);
  msg.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

const EMPTY = Buffer.alloc(0);

/**
 * One message given as its parts, written to `stream` as the prefix and then the parts themselves
 * (no joined copy): corked, so they leave as one writev (node:http2 cuts DATA frames from it).
 * `done` runs once the stream has taken the last part.
 */
export function writeMessage(stream: Writable, parts: readonly Buffer[], byteLength: number, done?: () => void): void {
  stream.cork();
  stream.write(frameHeader(byteLength));
  const last = parts.length - 1;
  for (let i = 0; i < last; i++) stream.write(parts[i]!);
  stream.write(parts[last] ?? EMPTY, done);
  stream.uncork();
}

export type FrameError = { readonly kind: 'compressed' } | { readonly kind: 'too-large'; readonly length: number };

/**
 * Splits a stream's DATA chunks into messages. A message spread over several chunks is kept as the
 * list of them and joined once, when its last byte is in (not once per chunk). Messages are views
 * into the chunks (no copy when a chunk holds whole messages).
 */
export class MessageReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes the first message in `pending` needs, prefix included (5 until its prefix is in). */
  private needed = FRAME_HEADER_BYTES;

  constructor(private readonly maxMessageBytes: number) {}

  /**
   * Hands each complete message to `each`, which returns false to stop (the rest is dropped). A
   * compressed message (this project speaks identity only) or one over the size limit is an error:
   * nothing more is read after it.
   */
  feed(chunk: Buffer, each: (msg: Buffer) => boolean): FrameError | undefined {
    let buf = chunk;
    if (this.pending.length > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes < this.needed) return undefined;
      buf = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
    }
    while (buf.length >= FRAME_HEADER_BYTES) {
      const length = buf.readUInt32BE(1);
      if (buf[0] !== 0) return { kind: 'compressed' };
      if (length > this.maxMessageBytes) return { kind: 'too-large', length };
      if (buf.length < FRAME_HEADER_BYTES + length) {
        this.needed = FRAME_HEADER_BYTES + length;
        break;
      }
      if (!each(buf.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length))) return undefined;
      buf = buf.subarray(FRAME_HEADER_BYTES + length);
    }
    if (buf.length > 0) {
      if (buf.length < FRAME_HEADER_BYTES) this.needed = FRAME_HEADER_BYTES;
      this.pending = [buf];
      this.pendingBytes = buf.length;
    }
    return undefined;
  }
}
