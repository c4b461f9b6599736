// Preloaded into a child process (node --import): its peak RSS in KiB on stderr at exit, for memory bounds.
process.on('exit', () => process.stderr.write(`\npeak-rss-kib ${process.resourceUsage().maxRSS}\n`));
