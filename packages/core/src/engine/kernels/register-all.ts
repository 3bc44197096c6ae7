// Every device kernel, in one list: a device backend registers these over its DeviceOps (see
// kernel.ts's deviceKernelConfigs). Adding a kernel is a file and a line here.
import * as tf from '@tensorflow/tfjs';
import type { GradConfig } from '@tensorflow/tfjs';

import { absConfig } from './Abs';
import { addConfig } from './Add';
import { addNConfig } from './AddN';
import { argMaxConfig } from './ArgMax';
import { argMinConfig } from './ArgMin';
import { avgPoolConfig } from './AvgPool';
import { avgPoolGradConfig } from './AvgPoolGrad';
import { batchMatMulConfig } from './BatchMatMul';
import { clipByValueConfig } from './ClipByValue';
import { concatConfig } from './Concat';
import { conv2DConfig } from './Conv2D';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter';
import { conv2DBackpropInputConfig } from './Conv2DBackpropInput';
import { eluConfig } from './Elu';
import { eluGradConfig } from './EluGrad';
import { equalConfig } from './Equal';
import { erfConfig } from './Erf';
import { expConfig } from './Exp';
import { expm1Config } from './Expm1';
import { wrapActivationGradients } from './fused/activation-gradients';
import { useDirectFusedOps } from './fused/direct-fused-ops';
import { wrapReductionGradients } from './fused/reduction-gradients';
import { dlcvActivationGradConfig } from './fused/DlcvActivationGrad';
import { dlcvBceWithLogitsConfig, dlcvBceWithLogitsGradConfig, dlcvBceWithLogitsGradient } from './fused/DlcvBceWithLogits';
import { dlcvSigmoidCrossEntropyConfig, dlcvSigmoidCrossEntropyGradConfig, dlcvSigmoidCrossEntropyGradient } from './fused/DlcvSigmoidCrossEntropy';
import { dlcvSoftmaxCrossEntropyConfig, dlcvSoftmaxCrossEntropyGradConfig, dlcvSoftmaxCrossEntropyGradient } from './fused/DlcvSoftmaxCrossEntropy';
import { dlcvBatchNormTrainConfig, dlcvBatchNormTrainGradient } from './fused/DlcvBatchNormTrain';
import { dlcvBatchNormTrainGradConfig } from './fused/DlcvBatchNormTrainGrad';
import { dlcvGeluConfig, dlcvGeluGradient } from './fused/DlcvGelu';
import { dlcvGroupNormConfig, dlcvGroupNormGradient } from './fused/DlcvGroupNorm';
import { dlcvGroupNormGradConfig } from './fused/DlcvGroupNormGrad';
import { dlcvDropoutMaskConfig } from './fused/DlcvDropoutMask';
import { dlcvRunningAverageConfig } from './fused/DlcvRunningAverage';
import { dlcvRunningAveragesConfig } from './fused/DlcvRunningAverages';
import { fusedBatchNormConfig } from './FusedBatchNorm';
import { fusedConv2DConfig } from './FusedConv2D';
import { _fusedMatMulConfig } from './_FusedMatMul';
import { greaterConfig } from './Greater';
import { greaterEqualConfig } from './GreaterEqual';
import type { DeviceKernel } from './kernel';
import { leakyReluConfig } from './LeakyRelu';
import { lessConfig } from './Less';
import { lessEqualConfig } from './LessEqual';
import { logConfig } from './Log';
import { log1pConfig } from './Log1p';
import { maxConfig } from './Max';
import { maximumConfig } from './Maximum';
import { maxPoolConfig } from './MaxPool';
import { maxPoolGradConfig } from './MaxPoolGrad';
import { meanConfig } from './Mean';
import { minConfig } from './Min';
import { minimumConfig } from './Minimum';
import { multiplyConfig } from './Multiply';
import { negConfig } from './Neg';
import { notEqualConfig } from './NotEqual';
import { padV2Config } from './PadV2';
import { powConfig } from './Pow';
import { preluConfig } from './Prelu';
import { prodConfig } from './Prod';
import { realDivConfig } from './RealDiv';
import { reciprocalConfig } from './Reciprocal';
import { reluConfig } from './Relu';
import { relu6Config } from './Relu6';
import { rsqrtConfig } from './Rsqrt';
import { selectConfig } from './Select';
import { seluConfig } from './Selu';
import { sigmoidConfig } from './Sigmoid';
import { signConfig } from './Sign';
import { sliceConfig } from './Slice';
import { softplusConfig } from './Softplus';
import { splitVConfig } from './SplitV';
import { sqrtConfig } from './Sqrt';
import { squareConfig } from './Square';
import { squaredDifferenceConfig } from './SquaredDifference';
import { stepConfig } from './Step';
import { subConfig } from './Sub';
import { sumConfig } from './Sum';
import { tanhConfig } from './Tanh';
import { tileConfig } from './Tile';
import { transposeConfig } from './Transpose';
import { zerosLikeConfig } from './ZerosLike';

export const KERNELS: readonly DeviceKernel[] = [
  // convolution and matrix products
  conv2DConfig,
  fusedConv2DConfig,
  conv2DBackpropInputConfig,
  conv2DBackpropFilterConfig,
  batchMatMulConfig,
  _fusedMatMulConfig,
  // elementwise
  addConfig,
  subConfig,
  multiplyConfig,
  realDivConfig,
  maximumConfig,
  minimumConfig,
  squaredDifferenceConfig,
  powConfig,
  preluConfig,
  greaterConfig,
  greaterEqualConfig,
  lessConfig,
  lessEqualConfig,
  equalConfig,
  notEqualConfig,
  reluConfig,
  relu6Config,
  leakyReluConfig,
  eluConfig,
  sigmoidConfig,
  tanhConfig,
  expConfig,
  logConfig,
  negConfig,
  sqrtConfig,
  rsqrtConfig,
  squareConfig,
  absConfig,
  erfConfig,
  reciprocalConfig,
  softplusConfig,
  stepConfig,
  log1pConfig,
  expm1Config,
  signConfig,
  seluConfig,
  clipByValueConfig,
  eluGradConfig,
  selectConfig,
  addNConfig,
  zerosLikeConfig,
  // reductions
  sumConfig,
  meanConfig,
  maxConfig,
  minConfig,
  prodConfig,
  argMaxConfig,
  argMinConfig,
  // layout
  transposeConfig,
  tileConfig,
  sliceConfig,
  padV2Config,
  splitVConfig,
  concatConfig,
  // pooling and normalisation
  maxPoolConfig,
  avgPoolConfig,
  maxPoolGradConfig,
  avgPoolGradConfig,
  fusedBatchNormConfig,
  // our fused kernels (ops.ts)
  dlcvActivationGradConfig,
  dlcvGeluConfig,
  dlcvBatchNormTrainConfig,
  dlcvBatchNormTrainGradConfig,
  dlcvGroupNormConfig,
  dlcvGroupNormGradConfig,
  dlcvRunningAverageConfig,
  dlcvRunningAveragesConfig,
  dlcvDropoutMaskConfig,
  dlcvBceWithLogitsConfig,
  dlcvBceWithLogitsGradConfig,
  dlcvSigmoidCrossEntropyConfig,
  dlcvSigmoidCrossEntropyGradConfig,
  dlcvSoftmaxCrossEntropyConfig,
  dlcvSoftmaxCrossEntropyGradConfig,
];

/** Gradients of the fused kernels (their names are ours, so these override nothing). */
const GRADIENTS: readonly GradConfig[] = [
  dlcvGeluGradient,
  dlcvBatchNormTrainGradient,
  dlcvGroupNormGradient,
  dlcvBceWithLogitsGradient,
  dlcvSigmoidCrossEntropyGradient,
  dlcvSoftmaxCrossEntropyGradient,
];

/**
 * Registers the fused kernels' gradients, wraps the stock activation gradients, replaces the
 * stock Sum and Mean gradients and runs tf.fused's ops as single kernels (idempotent).
 */
export function registerGradients(): void {
  for (const g of GRADIENTS) tf.registerGradient(g);
  wrapActivationGradients();
  wrapReductionGradients();
  useDirectFusedOps();
}
