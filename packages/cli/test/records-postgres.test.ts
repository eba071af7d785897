// `kakunin records …` on PostgreSQL, and its usage errors (the cases are in support/records-suite.ts).
import { recordsTests, recordsUsageTests } from './support/records-suite.js';

recordsUsageTests();
recordsTests('postgres');
