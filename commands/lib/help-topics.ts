/**
 * The help pages that are not a command's (`help input`, `help output`, `tscrash -h input|output`): how lines are
 * entered and where output goes, in tscrash's terms.
 */

const INPUT = `INPUT

  A session reads command lines: typed at the TUI's input line or the line
  mode's tscrash> prompt, from -c CMD (repeatable), from -i FILE, or from a
  pipe. Each line is a command and its arguments, words split at blanks, with
  '...' and "..." quoting.

  History. The lines of this session are numbered from 1; h (or history) lists
  them. To run one again:

      r  or  !!     the last line
      r N  or  !N   line N (!N runs a program named N instead when one is on
                    PATH)
      r PREFIX      the newest line that starts with PREFIX

  The line is shown after the prompt, then its output, and kept in the history
  as what it ran. Up and Down (Ctrl-P, Ctrl-N) recall lines, also those of
  earlier sessions (~/.tscrash_history, mode 0600); Tab completes commands,
  symbols, struct and union names, members after . or ->, and file names after
  > or <.

  Input files. "< FILE" runs FILE's lines as commands; "CMD ARGS < FILE" runs
  CMD ARGS with each of FILE's lines appended, one run a line:

      tscrash> < cmds
      tscrash> ps -p < pids

  Names. A line whose first word is no command but a kernel variable prints it
  (p); a structure, union or typedef name shows the type (struct, union,
  whatis).

  Aliases. alias lists them (crash's: man, ?, quit, sf, sn, hex, dec, px, pd,
  for, size, dmesg, lsmod, last); "alias NAME COMMAND..." makes one for the
  session.

  Comments. A line starting with # or // does nothing (it is kept in the
  history).

  Shell. "!CMD" runs CMD in the shell, its output shown as a command's; "!"
  alone starts an interactive shell (line mode on a terminal).

  Ctrl-C stops the running command; what it printed stays, then
  "(interrupted)", and the session goes on.
`;

const OUTPUT = `OUTPUT

  A command's output streams to the terminal as it is made. In the line mode,
  output longer than the terminal goes through a pager ($PAGER, else
  "less -E -X -R"), unless tscrash was started with -s or --no_scroll, or
  "set scroll off" (alias sf) was entered; "set scroll on" (sn) restores it.
  The TUI keeps a scrollback of 200,000 lines instead (PageUp/PageDown,
  Shift+Up/Down, Home/End, the mouse wheel; Ctrl-F searches it).

  Pipes and files, as in crash:

      tscrash> log | grep eth0       the output into a shell command
      tscrash> foreach bt > bt.all   into a file (created mode 0600)
      tscrash> ps >> crash.data      appended to a file

  Radix. p, struct, union and * show integers in decimal; "set radix 16"
  (alias hex) shows them in hexadecimal, "set radix 10" (dec) in decimal
  again; -x and -d on a command override it.

  JSON. "set output json" (or tscrash --json) prints each command line's
  result as one JSON document on a line: {"command", "ok", "result" or
  "error"}, addresses and 64-bit values as "0x..." strings, each command's
  schema in schemas/; "set output text" returns to crash's text.

  Colours follow NO_COLOR and --no-color.
`;

/** The text of a help topic (input, output), or undefined for none. */
export function helpTopic(name: string): string | undefined {
  return name === 'input' ? INPUT : name === 'output' ? OUTPUT : undefined;
}

export const HELP_TOPICS: readonly string[] = ['input', 'output'];
