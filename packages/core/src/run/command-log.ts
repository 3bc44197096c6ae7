/**
 * commands.jsonl in a run folder: one line when a command starts working in the folder (the
 * command line, the working folder, the engine line, the step it starts from) and one when it
 * stops (wall seconds), so a report can say which exact commands made the run and how long
 * each took, resumed parts included.
 */
import { appendFileSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { activeEngine, describeEngine } from '../engine/engine';
import { z } from '../zod-issues';

export const COMMAND_LOG_FILE = 'commands.jsonl';

export const commandRecordSchema = z.object({
  event: z.enum(['start', 'end']),
  time: z.string(),
  command: z.string().optional(),
  cwd: z.string().optional(),
  engine: z.string().nullable().optional(),
  fromStep: z.number().optional(),
  seconds: z.number().optional(),
});
export type CommandRecord = z.infer<typeof commandRecordSchema>;

/** An argument as a POSIX shell would need it written. */
function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** This process's command line as typed: the bin's name (dlcv-ddpm, not .../bin/dlcv-ddpm.js) and its arguments. */
export function currentCommandLine(argv: readonly string[] = process.argv): string {
  const bin = path.basename(argv[1] ?? 'node').replace(/\.[cm]?js$/, '');
  return [bin, ...argv.slice(2)].map(shellWord).join(' ');
}

async function append(runDir: string, record: CommandRecord): Promise<void> {
  await fs.appendFile(path.join(runDir, COMMAND_LOG_FILE), `${JSON.stringify(record)}\n`, 'utf8');
}

/**
 * Logs the start of this process's work in `runDir`; the returned function logs its end
 * (synchronously, so it can run in a `finally` and be on disk when the command returns).
 */
export async function logCommandStart(runDir: string, fromStep: number): Promise<() => void> {
  const started = Date.now();
  const engine = activeEngine();
  await append(runDir, {
    event: 'start',
    time: new Date(started).toISOString(),
    command: currentCommandLine(),
    cwd: process.cwd(),
    engine: engine ? describeEngine(engine) : null,
    fromStep,
  });
  return () => {
    const end: CommandRecord = { event: 'end', time: new Date().toISOString(), seconds: (Date.now() - started) / 1000 };
    appendFileSync(path.join(runDir, COMMAND_LOG_FILE), `${JSON.stringify(end)}\n`, 'utf8');
  };
}
