/**
 * Notices that the parent process has gone: its child is then re-parented, and `process.ppid`
 * changes. npm runs a script through `sh -c` and passes a SIGTERM on to that shell only; the sh of
 * Debian and Ubuntu (dash) does not exec a script's single command, so it dies and leaves the
 * script's process running under another parent. Polling `process.ppid` is how that process can
 * tell (POSIX has no notification for it, and Node none for the parent's death).
 *
 * Does nothing on Windows: a process there is not re-parented (its ppid stays that of the dead
 * parent), and npm does not run scripts through a POSIX shell.
 */
export function onParentExit(parent: number, callback: () => void, intervalMs = 250): void {
  if (process.platform === "win32") return;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    callback();
  }, intervalMs);
  timer.unref();
}
