/**
 * What the line mode and the TUI talk to: a session that runs command lines (in this thread, or in a worker
 * thread so that the terminal stays live and Ctrl-C can interrupt a running command), completes lines, and gives
 * commands' results as data for the TUI's panes. The faces only run commands; they never see the Program.
 */
import type { Completion } from '../commands/complete.js';
import type { JsonLine } from '../commands/result.js';
import type { RunResult, Writer } from '../commands/runner.js';

export interface SessionInfo {
  /** The dump's path (none for a vmlinux alone). */
  vmcore?: string;
  vmlinux?: string;
  /** The kernel release (from VMCOREINFO). */
  release?: string;
  /** The session's opening lines (what the dump is; what works without a vmlinux). */
  banner: string;
  /** Warnings from opening, shown once. */
  warnings: string[];
}

/**
 * What work the session does in the background says (debuginfod's vmlinux while the session runs on BTF):
 * `progress` replaces the previous progress (the TUI's status bar); `message` is a line to show once.
 */
export type Notice = { kind: 'progress'; text: string } | { kind: 'message'; text: string };

export interface Session {
  readonly info: SessionInfo;
  /** Run one command line; its output streams to `write`. */
  run(line: string, write: Writer): Promise<RunResult>;
  /** Interrupt the running command (Ctrl-C): it stops at its next output or memory read. */
  interrupt(): void;
  /** Completion of a line being typed. */
  complete(line: string): Promise<Completion>;
  /** A command's result as JSON (for panes and the status bar), printed nowhere. */
  query(line: string): Promise<JsonLine>;
  close(): Promise<void>;
  /** Where the face shows background notices (the last handler set gets them; those before it are kept). */
  onNotice?(handler: (n: Notice) => void): void;
}
