// Usage: [AUDIT_TOKEN=…] node audit.mjs URL [MIN_OK]
// Fails (exit 1) on any MUST failure or when fewer than MIN_OK of the audits pass.
// Some audits introspect (`__type`), which the server allows signed-in callers only by
// default: AUDIT_TOKEN is sent as a bearer token with every request, as a client's would be.
import { auditServer } from 'graphql-http';

const [url, minOkArg] = process.argv.slice(2);
const minOk = Number(minOkArg ?? 58);
const token = process.env.AUDIT_TOKEN;
const fetchFn = token
  ? (input, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    }
  : fetch;
const results = await auditServer({ url, fetchFn });
const counts = { ok: 0, warn: 0, error: 0 };
for (const result of results) {
  counts[result.status] += 1;
  if (result.status !== 'ok') {
    console.log(`${result.status.toUpperCase()} ${result.id} ${result.name}: ${result.reason}`);
  }
}
console.log(`graphql-http audit: ${counts.ok} ok, ${counts.warn} warn, ${counts.error} error of ${results.length}`);
const mustFailures = results.filter((r) => r.status === 'error' && r.name.startsWith('MUST'));
if (mustFailures.length > 0 || counts.error > 0 || counts.ok < minOk) {
  console.log(`audit failed: need no MUST failure and at least ${minOk} passing`);
  process.exit(1);
}
