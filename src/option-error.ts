import { describeValue } from './util/describe-value.js';

/** A bad option: `field` is the option's name (dotted for nested ones), `value` what was given. */
export class OptionError extends Error {
  constructor(
    readonly field: string,
    readonly value: unknown,
    expectation: string,
    /** The whole message, where "must be ..., got ..." does not fit (an unknown key, a limit exceeded). */
    message = `${field} must be ${expectation}, got ${describeValue(value)}`,
  ) {
    super(message);
    this.name = 'OptionError';
  }
}
