/**
 * A user-supplied value as error messages quote it: strings quoted, bigints with their n, arrays by length, plain
 * objects as JSON, so "got ..." says what arrived without flooding the message.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}
