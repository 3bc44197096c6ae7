export * from './model';
export * from './step';
export * from './detectors';
export * from './config';
export * from './sampling';
export * from './trainer';
export * from './data';
export * from './model-io';
