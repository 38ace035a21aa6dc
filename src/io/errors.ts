/** The io layer's errors are the toolkit-wide ones (src/util/errors.ts). */
export { InputError, hasErrorCode } from '../util/errors.js';
