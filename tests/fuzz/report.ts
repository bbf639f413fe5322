// Runs the three fuzz families and prints what they found (shared by `npm run fuzz` and the
// seeded sample in `npm test`).
import { backend } from "../../src/index.js";
import { runtime } from "../../src/runtime.js";
import { centralizeCase, runCentralizeCase } from "./centralize.js";
import { hostileCases, type HostileResult, runHostileCase } from "./hostile.js";
import { optimizerCase, runOptimizerCase } from "./optimizers.js";
import { layoutLabel } from "./rng.js";

/** Linear memory and the process's resident set, in MiB. */
export function memoryFigures(): { linear: number; allocated: number; rss: number } {
  const { memory } = runtime("fuzz");
  const mib = (n: number) => Math.round((n / 2 ** 20) * 100) / 100;
  return { linear: mib(memory.byteLength), allocated: mib(memory.allocatedBytes), rss: mib(process.memoryUsage().rss) };
}

const describeMemory = (m: ReturnType<typeof memoryFigures>) => `linear memory ${m.linear} MiB (${m.allocated} MiB allocated), RSS ${m.rss} MiB`;

export interface FamilyResult {
  cases: number;
  failures: { seed?: number; name?: string; detail: string }[];
}

/** `count` random centralize cases from seeds first, first + 1, …; failures are ratio > 1 or a throw. */
export function fuzzCentralize(count: number, first = 1): FamilyResult {
  const failures: FamilyResult["failures"] = [];
  let worst = 0;
  for (let seed = first; seed < first + count; seed++) {
    const c = centralizeCase(seed);
    const { ratio, error } = runCentralizeCase(c);
    if (ratio > 1 || error) {
      const shapes = c.entries.map((e) => `[${e.shape}] ${e.route}`).join("; ");
      failures.push({ seed, detail: `${c.api} ${layoutLabel(c.layout)}${c.convOnly ? " convOnly" : ""} ${shapes}: ${error ? `threw ${String(error)}` : `error ${ratio.toFixed(2)}× the tolerance`}` });
    } else worst = Math.max(worst, ratio);
  }
  return { cases: count, failures, worst } as FamilyResult & { worst: number };
}

/** `count` random optimizer configurations; failures: a bound exceeded (stable configs) or a resume not bit-identical. */
export function fuzzOptimizers(count: number, first = 1, kinds?: string[]): FamilyResult & { worst: number; unstableOver: string[]; signOver: string[]; previousOver: number; previousWorst: number } {
  const failures: FamilyResult["failures"] = [];
  const unstableOver: string[] = [];
  const signOver: string[] = [];
  let worst = 0;
  let previousOver = 0;
  let previousWorst = 0;
  for (let seed = first; seed < first + count; seed++) {
    const c = optimizerCase(seed, kinds);
    let r;
    try {
      r = runOptimizerCase(c);
    } catch (error) {
      failures.push({ seed, detail: `${c.kind} threw ${String(error)}` });
      continue;
    }
    const label = `${c.kind} gc=${c.hyper.gc} ${layoutLabel(c.hyper.layout)} lr=${c.hyper.lr} wd=${c.hyper.weightDecay}`;
    if (r.previousBound > 1) previousOver++;
    previousWorst = Math.max(previousWorst, r.previousBound);
    const over = Math.max(r.trajectory, r.drift);
    if (r.resumeMismatch) failures.push({ seed, detail: `${label}: resumed run differs in bits from an uninterrupted one` });
    if (over > 1) {
      const detail = `${label}: trajectory ${r.trajectory.toFixed(2)}×, drift ${r.drift.toFixed(2)}× the bound`;
      if (!r.stable) unstableOver.push(`seed ${seed} ${detail}`);
      else if (r.signStep) signOver.push(`seed ${seed} ${detail}`);
      else failures.push({ seed, detail });
    } else worst = Math.max(worst, over);
  }
  return { cases: count, failures, worst, unstableOver, signOver, previousOver, previousWorst };
}

/** Every hostile case (or those `select` keeps). */
export function fuzzHostile(select: (c: { needs?: string; open?: string }) => boolean = () => true): FamilyResult & { results: HostileResult[] } {
  const results = hostileCases().filter(select).map(runHostileCase);
  const failures = results.filter((r) => !r.ok).map((r) => ({ name: r.name, detail: `${r.open ? "[open] " : r.needs ? `[needs ${r.needs}] ` : ""}${r.name}: ${r.problem}` }));
  return { cases: results.length, failures, results };
}

/** Prints a family's figures (and up to `show` failures). */
export function printFamily(title: string, r: FamilyResult & { worst?: number }, show = 30): void {
  const worst = r.worst === undefined ? "" : `, worst passing case ${r.worst.toFixed(3)} of its bound`;
  console.log(`[${backend()}] ${title}: ${r.cases} cases, ${r.failures.length} failures${worst}`);
  for (const f of r.failures.slice(0, show)) console.log(`  ${f.seed !== undefined ? `seed ${f.seed}: ` : ""}${f.detail}`);
  if (r.failures.length > show) console.log(`  … and ${r.failures.length - show} more`);
}

export { describeMemory };
