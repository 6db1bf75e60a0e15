import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomToken } from './security/tokens.ts';

/**
 * The operator token: from config, or generated once and kept in `$dataDir/operator-token` (0600).
 * `generated` is true only on the start that created it, which is the one time it is printed.
 */
export async function resolveOperatorToken(configured: string | undefined, dataDir: string): Promise<{ token: string; generated: boolean; file?: string }> {
  if (configured) return { token: configured, generated: false };
  const file = join(dataDir, 'operator-token');
  try {
    return { token: (await readFile(file, 'utf8')).trim(), generated: false, file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const token = `top_${randomToken(32)}`;
  try {
    await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another instance sharing this data dir won the race: use its token.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { token: (await readFile(file, 'utf8')).trim(), generated: false, file };
    throw err;
  }
  await chmod(file, 0o600);
  return { token, generated: true, file };
}
