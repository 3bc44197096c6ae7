// Names of our own fused kernels (no tfjs counterpart). ops.ts runs them where the active
// backend has them and falls back to the equivalent tfjs compositions elsewhere.
export const ACT_GRAD = 'DlcvActivationGrad';
export const GELU = 'DlcvGelu';
export const BN_TRAIN = 'DlcvBatchNormTrain';
export const BN_TRAIN_GRAD = 'DlcvBatchNormTrainGrad';
export const GROUP_NORM = 'DlcvGroupNorm';
export const GROUP_NORM_GRAD = 'DlcvGroupNormGrad';
export const RUNNING_AVERAGE = 'DlcvRunningAverage';
export const RUNNING_AVERAGES = 'DlcvRunningAverages';
export const DROPOUT_MASK = 'DlcvDropoutMask';
export const BCE_WITH_LOGITS = 'DlcvBceWithLogits';
export const BCE_WITH_LOGITS_GRAD = 'DlcvBceWithLogitsGrad';
export const SIGMOID_CE = 'DlcvSigmoidCrossEntropy';
export const SIGMOID_CE_GRAD = 'DlcvSigmoidCrossEntropyGrad';
export const SOFTMAX_CE = 'DlcvSoftmaxCrossEntropy';
export const SOFTMAX_CE_GRAD = 'DlcvSoftmaxCrossEntropyGrad';
