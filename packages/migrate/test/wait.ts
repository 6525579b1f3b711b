/**
 * Polls `cond` until it holds. The bound only turns a stuck test into a failure with context
 * (it is not a performance assertion: 100 000 polls is minutes).
 */
export async function until(cond: () => boolean | Promise<boolean>, context: () => string = () => ''): Promise<void> {
  for (let i = 0; i < 100_000; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`condition never held; ${context()}`);
}
