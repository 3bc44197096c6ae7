export { initTorchDefault, torchDefaultBound, torchDefaultValues } from './init';
export { countParams, type ParamCount } from './params';
export { outsideTape } from './tape';
export { gradientReleaseInfo, installGradientRelease, setGradientRelease } from './gradient-release';
