import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.ts';
import { commands, type Command } from './commands.ts';

const USAGE = `Usage: tether <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(18)} ${c.summary}`).join('\n')}

Run "tether <command> --help" for a command's options.
Configuration comes from environment variables and TETHER_CONFIG (see the README).`;

function helpOf(command: Command): string {
  const lines = Object.entries(command.options).map(([name, o]) => {
    const flag = `--${name}${o.type === 'string' ? ' <value>' : ''}`;
    return `  ${flag.padEnd(26)} ${o.description}${o.required ? ' (required)' : ''}`;
  });
  return `Usage: tether ${command.name} ${command.usage ?? '[options]'}\n\n${command.summary}\n\nOptions:\n${[...lines, `  ${'--help'.padEnd(26)} Show this help`].join('\n')}`;
}

async function main(argv: string[]): Promise<number> {
  const words: string[] = [];
  while (argv[0] !== undefined && !argv[0].startsWith('-') && words.length < 2) words.push(argv.shift()!);
  if (words.length === 0) {
    console.log(USAGE);
    return argv.includes('--help') || argv.includes('-h') ? 0 : 1;
  }
  const command = commands.find((c) => c.name === words.join(' ')) ?? commands.find((c) => c.name === words[0]);
  if (!command) {
    console.error(`Unknown command "${words.join(' ')}".\n\n${USAGE}`);
    return 1;
  }
  const rest = command.name.includes(' ') ? argv : [...words.slice(1), ...argv];
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(helpOf(command));
    return 0;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    const spec: ParseArgsConfig['options'] = Object.fromEntries(Object.entries(command.options).map(([name, o]) => [name, { type: o.type }]));
    values = parseArgs({ args: rest, options: spec, strict: true, allowPositionals: false }).values as typeof values;
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${helpOf(command)}`);
    return 1;
  }
  const missing = Object.entries(command.options).filter(([name, o]) => o.required && values[name] === undefined);
  if (missing.length > 0) {
    console.error(`Missing ${missing.map(([n]) => `--${n}`).join(', ')}\n\n${helpOf(command)}`);
    return 1;
  }
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  return command.run(values, config);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as { code?: string; message?: string };
    // TetherErrors (conflict, not found, validation) are the user's to fix: print them plainly.
    console.error(e?.code && e.message ? `${e.code}: ${e.message}` : err);
    process.exitCode = 1;
  },
);
