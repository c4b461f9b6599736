/** bin/tscrash's entry when no start-up snapshot is used (dist/bundle/tscrash.js). */
import { start } from './tscrash.js';

start(process.argv.slice(2));
