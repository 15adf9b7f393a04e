/** Whether process `pid` exists on this host (one we may not signal exists too): a leftover's owner is gone only if not. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
