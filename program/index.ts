/** What commands and plugins import: the Program and the error classes. */
export {
  CommandError,
  FaultError,
  InterruptedError,
  LookupError,
  MissingDebugInfoError,
  TscrashError,
} from '../core/errors.js';
export type { WalkResult, WalkStep } from '../core/x86_64.js';
export { type ModuleDebug, type OpenOptions, objectFileInfo, Program } from './program.js';
