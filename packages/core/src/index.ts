export * from './rng';
export * from './image/io';
