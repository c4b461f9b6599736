/** What commands and plugins import: the Program and the error classes. */
export { CommandError, FaultError, LookupError, MissingDebugInfoError, TscrashError } from '../core/errors.js';
export type { WalkResult, WalkStep } from '../core/x86_64.js';
export { type ModuleDebug, objectFileInfo, type OpenOptions, Program } from './program.js';
