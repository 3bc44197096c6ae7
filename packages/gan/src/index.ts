// BatchNorm2d moved to @dlcv/core (ddpm and dann use it too); re-exported for existing imports.
export { BatchNorm2d, type BatchNorm2dArgs } from '@dlcv/core';
export * from './model';
export * from './step';
export * from './detectors';
export * from './config';
export * from './sampling';
export * from './trainer';
export * from './data';
export * from './model-io';
