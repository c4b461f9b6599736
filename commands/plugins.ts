import { type Command, commandsOf, type LoadedPlugin, loadedPlugins } from './registry.js';

/** plugins: every plugin the session found, where from, and the commands each added (or why it was not loaded). */
export interface PluginsResult {
  plugins: LoadedPlugin[];
}

const SOURCES: Record<LoadedPlugin['source'], string> = {
  flag: '--plugin',
  env: 'TSCRASH_PLUGINS',
  config: 'config directory',
  npm: 'npm package',
};

export const plugins: Command<PluginsResult> = {
  name: 'plugins',
  resultType: 'PluginsResult',
  usesTypes: false,
  summary: 'list the plugins loaded, from where, and their commands',
  help: `NAME
  plugins - list the plugins loaded, from where, and their commands

SYNOPSIS
  plugins

DESCRIPTION
  Each plugin the session found: its name, how it was found (--plugin FILE,
  TSCRASH_PLUGINS, the config directory $XDG_CONFIG_HOME/tscrash/plugins, or an
  npm package tscrash-plugin-* in a node_modules directory), its file, and the
  commands it registered; a plugin that failed to load gives its error, and one
  turned off by TSCRASH_DISABLE_PLUGINS (names, or *) says so.
`,
  run(): PluginsResult {
    return {
      plugins: loadedPlugins().map((p) => ({ ...p, commands: p.status === 'loaded' ? commandsOf(p.file) : [] })),
    };
  },
  text(r, ctx) {
    if (r.plugins.length === 0) {
      ctx.out('no plugins loaded\n');
      return;
    }
    for (const p of r.plugins) {
      const what =
        p.status === 'loaded'
          ? p.commands.length
            ? `commands: ${p.commands.join(' ')}`
            : 'no commands'
          : p.status === 'disabled'
            ? 'disabled (TSCRASH_DISABLE_PLUGINS)'
            : `failed: ${p.error}`;
      ctx.out(`${p.name.padEnd(16)} ${SOURCES[p.source].padEnd(16)} ${p.file}\n${''.padEnd(17)}${what}\n`);
    }
  },
};
