/** What commands and plugins import: the Program, its objects and types, and the error classes. */
export {
  BadDataError,
  CommandError,
  FaultError,
  type FaultReason,
  InterruptedError,
  LookupError,
  MissingDebugInfoError,
  TscrashError,
} from '../core/errors.js';
export type { WalkResult, WalkStep } from '../core/x86_64.js';
export type { CType, Member } from '../symbols/dwarf/types.js';
export { debugFileFromDebuginfod } from './debuginfod.js';
export { type BitField, Obj, offsetOf, pointerTo, strip, typeName } from './object.js';
export { type ModuleDebug, type OpenOptions, objectFileInfo, Program } from './program.js';
