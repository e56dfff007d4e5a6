// One deliberate type error, which tsc must report (tests/e2e/types.test.mjs): proof that the
// consumer test can fail, and that the API's return types are not `any`.
import { init } from 'consentry';

const consentry = await init({ policyVersion: '2026-11', purposes: [{ id: 'analytics' }] });
const record: string = consentry.evidence();
console.log(record);
