/**
 * Checks a numeric controller option against its range and returns it. Throws `error` (RangeError unless a controller
 * passes its own options error class) naming the option, the range and the value, e.g.
 * `workers must be an integer in 1..50, got 0`. NaN and infinities are always out of range.
 */
export function checkRange(
  name: string,
  value: number,
  min: number,
  max: number,
  integer = true,
  error: new (message: string) => Error = RangeError,
): number {
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw new error(`${name} must be ${integer ? 'an integer ' : ''}in ${min}..${max}, got ${value}`);
  }
  return value;
}
