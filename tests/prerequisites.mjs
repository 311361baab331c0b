// The one rule for a node test whose prerequisite is missing (node_modules, chromium, a
// command of duplex), shared by tests/ws and tests/browser (tests/prerequisites.py is the
// same rule for the Python tests): on a developer's machine the test exits 77, which ctest
// reports as skipped; under CI=true it exits 1, with one line naming what is missing, since
// CI runs as root with everything installed and a quiet skip there tests nothing.
export const SKIP = 77;  // ctest SKIP_RETURN_CODE

export function inCi() {
  return ['true', '1', 'yes'].includes((process.env.CI || '').trim().toLowerCase());
}

// Prints one line on stderr and exits 77, or 1 under CI.
export function exitSkipped(name, why) {
  if (inCi()) {
    console.error(`${name}: missing prerequisite under CI=true (a skip here is a failure): ${why}`);
    process.exit(1);
  }
  console.error(`${name}: skipped: ${why}`);
  process.exit(SKIP);
}
