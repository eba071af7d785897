// The demos' whole state: one JSON document in memory, written to `<dataDir>/<name>.json` after
// every change (write to a temporary file, then rename, so a crash never leaves half a file).

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class JsonStore<T extends object> {
  readonly file: string;
  readonly data: T;

  constructor(dataDir: string, name: string, initial: () => T) {
    mkdirSync(dataDir, { recursive: true });
    this.file = join(dataDir, `${name}.json`);
    this.data = existsSync(this.file)
      ? { ...initial(), ...(JSON.parse(readFileSync(this.file, 'utf8')) as Partial<T>) }
      : initial();
  }

  /** Applies a change and persists it; returns what `change` returns. */
  update<R>(change: (data: T) => R): R {
    const result = change(this.data);
    this.save();
    return result;
  }

  save(): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.data, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
