export { initTorchDefault, torchDefaultBound, torchDefaultValues } from './init';
export { countParams, type ParamCount } from './params';
export { outsideTape } from './tape';
export { backwardPassInfo, installBackwardPass, setBackwardPass, setGradientRelease, type BackwardPassKind } from './backward-pass';
