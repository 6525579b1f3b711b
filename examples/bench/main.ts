/**
 * `pnpm bench`: ferry86's speed and migration figures, each measured in the same run as the peer
 * (the v86 npm package) where the peer has the same capability, with ratios.
 *
 *   pnpm bench                 everything
 *   pnpm bench --only speed    interpreter speed only (or: migration, linux, snapshot)
 *   pnpm bench --quick         shorter runs
 */
import { parseArgs } from 'node:util';
import { benchLinux } from './linux.ts';
import { benchMigration } from './migration.ts';
import { benchSnapshot } from './snapshot.ts';
import { benchSpeed } from './speed.ts';

const { values } = parseArgs({
  options: { only: { type: 'string' }, quick: { type: 'boolean', default: false } },
});
const sections: Record<string, (quick: boolean) => Promise<void>> = {
  speed: benchSpeed,
  migration: benchMigration,
  linux: async () => benchLinux(),
  snapshot: benchSnapshot,
};
const chosen = values.only ? [values.only] : Object.keys(sections);
for (const name of chosen) {
  const run = sections[name];
  if (!run) {
    console.error(`bench: unknown section "${name}" (known: ${Object.keys(sections).join(', ')})`);
    process.exit(2);
  }
  await run(values.quick);
}
