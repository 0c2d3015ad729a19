/** Where a message goes: one device of one user. */
export class ProtocolAddress {
  readonly name: string;
  readonly deviceId: number;

  private constructor(name: string, deviceId: number) {
    this.name = name;
    this.deviceId = deviceId;
  }

  static of(name: string, deviceId: number): ProtocolAddress {
    if (name.length === 0 || name.includes('.')) throw new RangeError(`invalid address name ${JSON.stringify(name)}`);
    if (!Number.isInteger(deviceId) || deviceId < 1 || deviceId > 0x7fffffff) {
      throw new RangeError(`device id must be a positive integer, got ${deviceId}`);
    }
    return new ProtocolAddress(name, deviceId);
  }

  /** `name.deviceId`: a stable key for stores. */
  toString(): string {
    return `${this.name}.${this.deviceId}`;
  }

  equals(other: ProtocolAddress): boolean {
    return this.name === other.name && this.deviceId === other.deviceId;
  }
}
