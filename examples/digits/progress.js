// A one-line progress bar on stderr (redrawn in place on a terminal, a line per 10% otherwise).

/** A progress bar over `total` steps; `tick(label)` advances it, `done()` ends the line. */
export function progressBar(total, stream = process.stderr, width = 30) {
  let count = 0;
  let lastTenth = -1;
  const started = performance.now();
  const draw = (label) => {
    const fraction = total ? count / total : 1;
    const filled = Math.round(width * fraction);
    const elapsed = (performance.now() - started) / 1000;
    const eta = fraction > 0 ? elapsed / fraction - elapsed : 0;
    return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(100 * fraction).toFixed(0).padStart(3)}%  ${elapsed.toFixed(0)}s elapsed, ~${eta.toFixed(0)}s left  ${label}`;
  };
  return {
    tick(label = "", steps = 1) {
      count += steps;
      if (stream.isTTY) {
        stream.write(`\r${draw(label).slice(0, (stream.columns ?? 120) - 1)}\x1b[K`);
      } else if (Math.floor((10 * count) / total) > lastTenth) {
        lastTenth = Math.floor((10 * count) / total);
        stream.write(`${draw(label)}\n`);
      }
    },
    /** Prints `line` on stdout above the bar (results as they come out). */
    log(line) {
      if (stream.isTTY) stream.write(`\r\x1b[K`);
      process.stdout.write(`${line}\n`);
    },
    done() {
      if (stream.isTTY) stream.write(`\r\x1b[K`);
    },
  };
}
