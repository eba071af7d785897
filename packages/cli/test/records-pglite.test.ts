// `kakunin records …` on the embedded database (the cases are in support/records-suite.ts).
import { recordsTests } from './support/records-suite.js';

recordsTests('pglite');
