export * from './envelopes.ts';
export * from './subjects.ts';
export * from './codec.ts';
