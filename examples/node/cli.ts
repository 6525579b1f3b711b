/**
 * ferry86 command line: `pnpm ferry86 <command> [options]` (= tsx examples/node/cli.ts).
 * One file per command under commands/.
 */
import { conformanceCommand } from './commands/conformance.ts';
import { receiveCommand } from './commands/receive.ts';
import { restoreCommand } from './commands/restore.ts';
import { runCommand } from './commands/run.ts';
import { sendCommand } from './commands/send.ts';
import { snapshotCommand } from './commands/snapshot.ts';
import { UsageError } from './commands/usage.ts';

interface Command {
  summary: string;
  usage: string;
  main(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  run: runCommand,
  conformance: conformanceCommand,
  snapshot: snapshotCommand,
  restore: restoreCommand,
  send: sendCommand,
  receive: receiveCommand,
};

function overview(): string {
  const lines = ['usage: ferry86 <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(12)} ${c.summary}`);
  lines.push('', "Run 'ferry86 <command> --help' for a command's options.");
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(overview() + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`ferry86: unknown command "${name}"\n\n${overview()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage + '\n');
    return 0;
  }
  try {
    return await command.main(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`ferry86 ${name}: ${e.message}\n\n${command.usage}\n`);
      return 2;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`ferry86: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`);
    process.exit(1);
  },
);
