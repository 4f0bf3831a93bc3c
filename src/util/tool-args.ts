import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * Strict flags of a small developer tool (the simulator, the level-spread study): the parsed values,
 * or the exit code after printing `help` (0 for --help, 2 with the parse error above it).
 */
export function parseToolArgs<O extends NonNullable<ParseArgsConfig['options']>>(
  options: O,
  help: string,
  args: string[] = process.argv.slice(2),
): ReturnType<typeof parseArgs<{ options: O; strict: true; args: string[] }>>['values'] | number {
  let values;
  try {
    ({ values } = parseArgs({ options, strict: true, args }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${help}`);
    return 2;
  }
  if ((values as { help?: boolean }).help) {
    process.stdout.write(help);
    return 0;
  }
  return values;
}
