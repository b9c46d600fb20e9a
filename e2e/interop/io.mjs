// The protocol between these scripts and the Go test that runs them: the
// script prints one JSON object per line on stdout ({"step": ...} when it
// needs the test to act, {"result": ...} at the end) and reads the test's
// answers as lines on stdin. Failures print {"error": ...} and exit 1.

import { createInterface } from 'node:readline';

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

// emit prints one JSON line for the test.
export function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// ask prints a step for the test and waits for its one-line answer.
export async function ask(step, data) {
  emit({ step, ...data });
  const { value, done } = await lines.next();
  if (done) throw new Error(`stdin closed while waiting for the answer to ${step}`);
  return value.trim();
}

// env returns the environment variable name, failing when it is unset.
export function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

// describe turns an error of either library into plain JSON.
export function describe(err) {
  return {
    name: err?.name,
    code: err?.code,
    message: err?.message,
    error: err?.error,
    error_description: err?.error_description,
    status: err?.status,
    cause: err?.cause?.message ?? (typeof err?.cause === 'string' ? err.cause : undefined),
  };
}

// main runs fn and prints its result, or the error it threw.
export async function main(fn) {
  try {
    emit({ result: await fn() });
    process.exit(0);
  } catch (err) {
    emit({ error: describe(err) });
    process.exit(1);
  }
}

// rejects runs fn, which must fail, and returns how it failed.
export async function rejects(fn) {
  try {
    await fn();
  } catch (err) {
    return describe(err);
  }
  return null;
}
