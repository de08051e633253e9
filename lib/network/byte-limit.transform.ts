import { Transform } from 'node:stream';

/**
 * A pass-through stream that fails with `tooLarge()` as soon as more than `maxBytes` have gone
 * through it. Placed in front of a decoder, it caps the bytes read from the socket, which the cap
 * on decoded bytes alone does not: a gzip or deflate stream can carry any number of empty blocks
 * that decode to nothing.
 */
export function createByteLimit(maxBytes: number, tooLarge: () => Error): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      if (total > maxBytes) callback(tooLarge());
      else callback(null, chunk);
    },
  });
}
