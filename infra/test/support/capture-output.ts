import { vi } from 'vitest';

/**
 * Captures everything written to stdout and stderr (where the handlers' log
 * lines go) until `restore()`, so a test can prove no secret reaches a log line.
 */
export function captureOutput(): { readonly written: string[]; restore(): void } {
  const written: string[] = [];
  const capture = (chunk: unknown) => {
    written.push(String(chunk));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  return {
    written,
    restore() {
      out.mockRestore();
      err.mockRestore();
    },
  };
}
