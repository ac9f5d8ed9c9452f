// `npm run bench [-- --json]`: every benchmark, each printing a table (or one JSON object).
import { benchPipeline } from './pipeline.ts';
import { printFigures } from './report.ts';

printFigures('pipeline: manifest edit → gRPC client ACK', await benchPipeline());
process.exit(0);
