/** Reading Kafka's wire format: a position in a buffer, with Kafka's varints and length-prefixed bytes. */

const TWO_32 = 2 ** 32

/** A cursor over a buffer; varints decoded with numbers (exact up to 2^53). */
export class Cursor {
  constructor(
    readonly buf: Buffer,
    public o: number,
  ) {}

  int8(): number {
    return this.buf.readInt8(this.o++)
  }
  int16(): number {
    const v = this.buf.readInt16BE(this.o)
    this.o += 2
    return v
  }
  int32(): number {
    const v = this.buf.readInt32BE(this.o)
    this.o += 4
    return v
  }
  /** An int64 as a number (offsets and timestamps stay far below 2^53). */
  int64(): number {
    const v = this.buf.readInt32BE(this.o) * TWO_32 + this.buf.readUInt32BE(this.o + 4)
    this.o += 8
    return v
  }
  string(): string {
    const length = this.int16()
    const s = this.buf.toString('utf8', this.o, this.o + length)
    this.o += length
    return s
  }
  /** An unsigned LEB128 varint. */
  uvarint(): number {
    const buf = this.buf
    let b = buf[this.o++] as number
    if (b < 0x80) return b
    let value = b & 0x7f
    let scale = 0x80
    do {
      b = buf[this.o++] as number
      value += (b & 0x7f) * scale
      scale *= 0x80
    } while (b >= 0x80)
    return value
  }
  /** A zig-zag varint (Kafka's varint and varlong). */
  varint(): number {
    const u = this.uvarint()
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2
  }
  /** Length-prefixed bytes as a view of the buffer; null for length -1. */
  bytes(): Buffer | null {
    const length = this.varint()
    if (length < 0) return null
    const v = this.buf.subarray(this.o, this.o + length)
    this.o += length
    return v
  }
}
