export { initTorchDefault, torchDefaultBound, torchDefaultValues } from './init';
export { countParams, type ParamCount } from './params';
