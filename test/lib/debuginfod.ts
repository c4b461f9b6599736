/**
 * Servers for the debuginfod tests: a tiny local HTTP server (a handler per test: files, stalls, wrong answers),
 * and elfutils' own debuginfod (Debian's package) on 127.0.0.1 indexing a directory of .debs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

export interface LocalServer {
  url: string;
  port: number;
  /** Each request's method, path and headers, in order. */
  requests: { path: string; headers: IncomingMessage['headers'] }[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 (a free port) with this handler; close() ends every open connection too. */
export async function localServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<LocalServer> {
  const requests: LocalServer['requests'] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    requests.push({ path: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Serve bytes as debuginfod does (200, Content-Length, X-DEBUGINFOD-SIZE), honouring a Range request when asked. */
export function sendFile(req: IncomingMessage, res: ServerResponse, bytes: Uint8Array, ranges = true): void {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (ranges && m && Number(m[1]) < bytes.length) {
    const start = Number(m[1]);
    res.writeHead(206, {
      'content-length': bytes.length - start,
      'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}`,
      'last-modified': new Date(1_700_000_000_000).toUTCString(),
    });
    res.end(bytes.subarray(start));
    return;
  }
  res.writeHead(200, {
    'content-length': bytes.length,
    'x-debuginfod-size': bytes.length,
    'last-modified': new Date(1_700_000_000_000).toUTCString(),
  });
  res.end(bytes);
}

export interface Debuginfod {
  url: string;
  close(): Promise<void>;
}

async function metrics(url: string): Promise<string | undefined> {
  try {
    const r = await fetch(`${url}/metrics`);
    return r.ok ? await r.text() : undefined;
  } catch {
    return undefined;
  }
}

function metric(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * elfutils' debuginfod on 127.0.0.1 (a free port) scanning these .deb files (-U, through symlinks in a temporary
 * directory), with a temporary database; resolves once every .deb is scanned (its /metrics).
 */
export async function startDebuginfod(debs: string[], timeoutMs = 600_000): Promise<Debuginfod> {
  const dir = mkdtempSync(join(tmpdir(), 'tscrash-debuginfod-'));
  const pkgs = join(dir, 'debs');
  mkdirSync(pkgs);
  for (const d of debs) symlinkSync(d, join(pkgs, basename(d)));
  const port = await closedPort();
  const url = `http://127.0.0.1:${port}`;
  let log = '';
  const child: ChildProcess = spawn(
    'debuginfod',
    ['-U', '-L', '-d', join(dir, 'db.sqlite'), '-p', String(port), '-t', '0', '-g', '0', pkgs],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
  child.stderr?.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const close = async (): Promise<void> => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null) {
      await close();
      throw new Error(`debuginfod exited (${child.exitCode}):\n${log}`);
    }
    const m = await metrics(url);
    if (m) {
      const done = metric(m, 'thread_work_total{role="scan"}') ?? 0;
      const busy = metric(m, 'thread_busy{role="scan"}') ?? 1;
      const pending = metric(m, 'thread_work_pending{role="scan"}') ?? 1;
      if (done >= debs.length && busy === 0 && pending === 0) return { url, close };
    }
    if (Date.now() - t0 > timeoutMs) {
      await close();
      throw new Error(`debuginfod did not finish scanning ${debs.join(', ')} in ${timeoutMs / 1000} s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
