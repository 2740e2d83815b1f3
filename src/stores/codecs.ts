/** How a store turns values into bytes and back. */
export interface Codec<V> {
  encode(value: V): Buffer | string
  decode(bytes: Buffer): V
}

export const bufferCodec: Codec<Buffer> = {
  encode: (value) => value,
  decode: (bytes) => bytes,
}

export const stringCodec: Codec<string> = {
  encode: (value) => value,
  decode: (bytes) => bytes.toString('utf8'),
}

/** JSON values (UTF-8). A value that does not parse fails the read with a StoreError. */
export function jsonCodec<V>(): Codec<V> {
  return {
    encode: (value) => JSON.stringify(value),
    decode: (bytes) => JSON.parse(bytes.toString('utf8')) as V,
  }
}
