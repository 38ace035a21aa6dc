/**
 * InputError lives in solvers/errors.ts (the top layer, so the solvers can raise it too); it is
 * re-exported here for the rest of src.
 */
export { InputError, hasErrorCode } from '../../solvers/errors.js';
