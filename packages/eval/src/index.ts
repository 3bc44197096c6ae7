/**
 * @dlcv/eval: the homework's graders (digits, dann, fid/kid, face) and ONNX export/runtime of
 * tfjs models (also the fast CPU path for generation).
 */
export * from './onnx';
export { symmetricEigen, matmul, matmulTransB, type SymmetricEigen } from './linalg/eigen';
export * from './fid/frechet';
export { readNpz, writeNpz, type NpyArray } from './fid/npz';
export { readStatsFile, writeStatsFile, STATS_FORMAT, type StatsFile } from './fid/stats-file';
export { chooseFeatureNetwork, findInception, FEATURE_NETWORKS, type FeatureNetwork, type FeatureNetworkName } from './fid/networks';
export { gradeDigits, loadDigitClassifier, classifyDigits, digitLabelOf, defaultDigitModel, type DigitsResult, type DigitClassifier, type ClassAccuracy } from './graders/digits';
export { gradeDann, type DannResult } from './graders/dann';
export { gradeFid, saveFidStats, encodeFolder, fidLabel, type FidResult } from './graders/fid';
export { gradeFaces, padForDetector, FACE_DETECTOR, type FaceResult } from './graders/face';
export { GradeInputError, listFolder, type SkippedFile } from './graders/files';
export { buildDigitClassifier, HOMEWORK_CLASSIFIER, DIGIT_SCALING, type DigitClassifierConfig } from './models/digit-classifier';
export { trainDigitClassifier, installClassifier, type TrainClassifierOptions, type TrainClassifierResult } from './train/train-classifier';
